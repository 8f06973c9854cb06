//! AWS Config as the readiness rule reports to it (SPEC §15): one
//! `PutEvaluations` per invocation, the account's evaluation with the
//! invocation's result token.
//!
//! An answer Config will give again (an unknown or expired result token, a
//! rule deleted meanwhile, access denied, an invalid value) is `Refused`;
//! throttling, 5xx, a timeout, and an evaluation Config lists among its
//! `FailedEvaluations` are worth another try.

use aws_sdk_config::Client;
use aws_sdk_config::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_config::primitives::DateTime;
use aws_sdk_config::types::{ComplianceType, Evaluation};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use support_plans_domain::WireName as _;
use support_plans_domain::ports::PortError;
use support_plans_domain::readiness::compliance::{Evaluations, ResourceEvaluation};

use crate::failure::is_permanent;

/// The adapter: one client, built once per process.
#[derive(Debug, Clone)]
pub struct ConfigEvaluations {
    client: Client,
}

impl ConfigEvaluations {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

/// `e` as `PutEvaluations` takes it.
fn evaluation(e: &ResourceEvaluation) -> Result<Evaluation, PortError> {
    Evaluation::builder()
        .compliance_resource_type(e.resource_type)
        .compliance_resource_id(&e.resource_id)
        .compliance_type(ComplianceType::from(e.compliance.wire_name()))
        // Config refuses an empty annotation (at least one character).
        .set_annotation((!e.annotation.is_empty()).then(|| e.annotation.clone()))
        .ordering_timestamp(DateTime::from_millis(e.ordering.as_millisecond()))
        .build()
        .map_err(|err| PortError::Refused(format!("an evaluation Config cannot take: {err}")))
}

impl Evaluations for ConfigEvaluations {
    #[tracing::instrument(skip(self, result_token, e), fields(resource = %e.resource_id, compliance = %e.compliance))]
    async fn put(&self, result_token: &str, e: &ResourceEvaluation) -> Result<(), PortError> {
        let out = self
            .client
            .put_evaluations()
            .evaluations(evaluation(e)?)
            .result_token(result_token)
            .send()
            .await
            .map_err(classify)?;
        if !out.failed_evaluations().is_empty() {
            return Err(PortError::Retry(format!(
                "AWS Config PutEvaluations answered the evaluation of {} as failed",
                e.resource_id
            )));
        }
        Ok(())
    }
}

/// Refused: the same answer on every try (see the module doc); otherwise retry.
fn classify<E>(e: SdkError<E, HttpResponse>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if is_permanent(&e) {
        let code = e.code().unwrap_or("an error").to_owned();
        let message = e.message().unwrap_or_default().to_owned();
        let hint = match code.as_str() {
            "NoSuchConfigRuleException" => " (the rule was deleted since it invoked the function)",
            "InvalidResultTokenException" => " (a token from an invocation by AWS Config is needed)",
            "AccessDeniedException" => " (the function's role needs config:PutEvaluations)",
            _ => "",
        };
        return PortError::Refused(format!(
            "AWS Config refused PutEvaluations ({code}): {message}{hint}"
        ));
    }
    PortError::Retry(format!(
        "AWS Config PutEvaluations failed: {}",
        DisplayErrorContext(e)
    ))
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use support_plans_domain::readiness::compliance::{ACCOUNT_RESOURCE_TYPE, Compliance};

    use super::*;

    fn resource(annotation: &str) -> ResourceEvaluation {
        ResourceEvaluation {
            resource_type: ACCOUNT_RESOURCE_TYPE,
            resource_id: "111122223333".into(),
            compliance: Compliance::NonCompliant,
            annotation: annotation.into(),
            ordering: "2026-11-21T08:00:00.373Z".parse::<Timestamp>().unwrap(),
        }
    }

    #[test]
    fn the_evaluation_is_the_accounts_with_config_s_names() {
        let e = evaluation(&resource("5 of 18 contacts overdue for verification.")).unwrap();
        assert_eq!(e.compliance_resource_type(), "AWS::::Account");
        assert_eq!(e.compliance_resource_id(), "111122223333");
        assert_eq!(e.compliance_type(), &ComplianceType::NonCompliant);
        assert_eq!(e.annotation(), Some("5 of 18 contacts overdue for verification."));
        assert_eq!(e.ordering_timestamp().to_millis().unwrap(), 1_795_248_000_373);
    }

    #[test]
    fn an_empty_annotation_is_left_out() {
        assert_eq!(evaluation(&resource("")).unwrap().annotation(), None);
    }
}
