//! Wire shapes of the model, camelCase as in service-2.json.
//!
//! Every member is an `Option`, required ones included: a missing required
//! member must become the service's `ValidationException`, not a decode
//! error. Unions are structs of options, checked for "exactly one" by the
//! validator. Timestamps arrive as epoch seconds (`f64`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub type TagMap = BTreeMap<String, String>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatChannel {
    pub chatbot_sns: Option<Vec<String>>,
    pub empty: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationTargetItem {
    pub sns_topic_arn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IncidentTemplate {
    pub title: Option<String>,
    pub impact: Option<i64>,
    pub summary: Option<String>,
    pub dedupe_string: Option<String>,
    pub incident_tags: Option<TagMap>,
    pub notification_targets: Option<Vec<NotificationTargetItem>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    pub ssm_automation: Option<SsmAutomation>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SsmAutomation {
    pub document_name: Option<String>,
    pub document_version: Option<String>,
    pub dynamic_parameters: Option<BTreeMap<String, DynamicSsmParameterValue>>,
    pub parameters: Option<BTreeMap<String, Vec<String>>>,
    pub role_arn: Option<String>,
    pub target_account: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamicSsmParameterValue {
    pub variable: Option<String>,
}

/// PagerDuty integration: stored and echoed, never acted on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    pub pager_duty_configuration: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedItem {
    pub generated_id: Option<String>,
    pub identifier: Option<ItemIdentifier>,
    pub title: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemIdentifier {
    #[serde(rename = "type")]
    pub item_type: Option<String>,
    pub value: Option<ItemValue>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemValue {
    pub arn: Option<String>,
    pub metric_definition: Option<String>,
    pub pager_duty_incident_detail: Option<Value>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerDetails {
    pub raw_data: Option<String>,
    pub source: Option<String>,
    pub timestamp: Option<f64>,
    pub trigger_arn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventReference {
    pub related_item_id: Option<String>,
    pub resource: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    pub key: Option<String>,
    pub condition: Option<Condition>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    pub after: Option<f64>,
    pub before: Option<f64>,
    pub equals: Option<AttributeValueList>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeValueList {
    pub integer_values: Option<Vec<i64>>,
    pub string_values: Option<Vec<String>>,
}

// ---- operation inputs ----

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartIncidentInput {
    pub client_token: Option<String>,
    pub impact: Option<i64>,
    pub related_items: Option<Vec<RelatedItem>>,
    pub response_plan_arn: Option<String>,
    pub title: Option<String>,
    pub trigger_details: Option<TriggerDetails>,
}

/// Inputs that only carry an `arn` (Get/Delete of plans and records).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArnInput {
    pub arn: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListIncidentRecordsInput {
    pub filters: Option<Vec<Filter>>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateIncidentRecordInput {
    pub arn: Option<String>,
    pub chat_channel: Option<ChatChannel>,
    pub client_token: Option<String>,
    pub impact: Option<i64>,
    pub notification_targets: Option<Vec<NotificationTargetItem>>,
    pub status: Option<String>,
    pub summary: Option<String>,
    pub title: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTimelineEventInput {
    pub client_token: Option<String>,
    pub event_data: Option<String>,
    pub event_references: Option<Vec<EventReference>>,
    pub event_time: Option<f64>,
    pub event_type: Option<String>,
    pub incident_record_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventIdInput {
    pub event_id: Option<String>,
    pub incident_record_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTimelineEventsInput {
    pub filters: Option<Vec<Filter>>,
    pub incident_record_arn: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTimelineEventInput {
    pub client_token: Option<String>,
    pub event_data: Option<String>,
    pub event_id: Option<String>,
    pub event_references: Option<Vec<EventReference>>,
    pub event_time: Option<f64>,
    pub event_type: Option<String>,
    pub incident_record_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListRelatedItemsInput {
    pub incident_record_arn: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRelatedItemsInput {
    pub client_token: Option<String>,
    pub incident_record_arn: Option<String>,
    pub related_items_update: Option<RelatedItemsUpdate>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedItemsUpdate {
    pub item_to_add: Option<RelatedItem>,
    pub item_to_remove: Option<ItemIdentifier>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateResponsePlanInput {
    pub actions: Option<Vec<Action>>,
    pub chat_channel: Option<ChatChannel>,
    pub client_token: Option<String>,
    pub display_name: Option<String>,
    pub engagements: Option<Vec<String>>,
    pub incident_template: Option<IncidentTemplate>,
    pub integrations: Option<Vec<Integration>>,
    pub name: Option<String>,
    pub tags: Option<TagMap>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateResponsePlanInput {
    pub actions: Option<Vec<Action>>,
    pub arn: Option<String>,
    pub chat_channel: Option<ChatChannel>,
    pub client_token: Option<String>,
    pub display_name: Option<String>,
    pub engagements: Option<Vec<String>>,
    pub incident_template_dedupe_string: Option<String>,
    pub incident_template_impact: Option<i64>,
    pub incident_template_notification_targets: Option<Vec<NotificationTargetItem>>,
    pub incident_template_summary: Option<String>,
    pub incident_template_tags: Option<TagMap>,
    pub incident_template_title: Option<String>,
    pub integrations: Option<Vec<Integration>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInput {
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResourceInput {
    pub resource_arn: Option<String>,
    pub tags: Option<TagMap>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagResourceInput {
    pub resource_arn: Option<String>,
    pub tag_keys: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceArnInput {
    pub resource_arn: Option<String>,
}
