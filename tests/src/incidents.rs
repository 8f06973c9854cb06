//! Shared pieces of Incident Manager set-up for the end-to-end tests (SPEC §4):
//! a response plan's action that runs template.yaml's runbook, and an
//! incident's involved resource.

use aws_sdk_ssmincidents::types::{
    Action, DynamicSsmParameterValue, ItemIdentifier, ItemType, ItemValue, RelatedItem, SsmAutomation,
    VariableType,
};

/// The response plan action as deployed: template.yaml's runbook with
/// Incident Manager's two dynamic parameters.
pub fn runbook_action() -> Action {
    let dynamic = |v: VariableType| DynamicSsmParameterValue::Variable(v);
    Action::SsmAutomation(
        SsmAutomation::builder()
            .document_name("support-plans-ResponderRunbook")
            .role_arn("arn:aws:iam::111122223333:role/support-plans-RunbookRole")
            .dynamic_parameters("INCIDENT_RECORD_ARN", dynamic(VariableType::IncidentRecordArn))
            .dynamic_parameters("INVOLVED_RESOURCES", dynamic(VariableType::InvolvedResources))
            .build()
            .unwrap(),
    )
}

/// An incident's related item naming the resource `arn` as involved.
pub fn involved_resource(arn: &str) -> RelatedItem {
    RelatedItem::builder()
        .identifier(
            ItemIdentifier::builder()
                .r#type(ItemType::InvolvedResource)
                .value(ItemValue::Arn(arn.to_owned()))
                .build()
                .unwrap(),
        )
        .build()
}
