//! The freshness check as the AWS Config rule's function (SPEC §15). AWS
//! Config invokes it on the rule's schedule with
//! `{"invokingEvent": "<JSON: messageType ScheduledNotification,
//! awsAccountId, notificationCreationTime, ...>", "resultToken", "configRuleName",
//! "accountId", "ruleParameters", ...}`; the invocation reads the readiness
//! snapshot once, evaluates the account and puts that one evaluation with
//! the token ([`compliance::report`]). It reads no verification key and
//! sends nothing: the rule needs neither.
//!
//! The handler is a translation: event → [`RuleInvocation`], one report,
//! what was put out.

use lambda_runtime::Diagnostic;
use serde_json::{Value, json};
use support_plans_domain::ports::{PortError, StoreError};
use support_plans_domain::readiness::ReadinessSnapshots;
use support_plans_domain::readiness::compliance::{self, Evaluations, ReportError, Reported, RuleInvocation};

/// The only trigger the rule has: periodic.
pub const MESSAGE_TYPE: &str = "ScheduledNotification";

/// The fields only an AWS Config rule's event has: an event with any of
/// them is the rule's, and is refused if it is not whole.
const RULE_FIELDS: [&str; 3] = ["invokingEvent", "resultToken", "configRuleName"];

/// Whether `payload` is meant for the rule (rather than a run of the check).
pub fn is_rule_event(payload: &Value) -> bool {
    payload
        .as_object()
        .is_some_and(|o| RULE_FIELDS.iter().any(|f| o.contains_key(*f)))
}

/// An invocation of the rule, as Config sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `configRuleName`, for the log.
    pub rule: String,
    pub invocation: RuleInvocation,
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// Not an event of a periodic AWS Config rule: answered, not retried.
    #[error("bad event: {0}")]
    BadEvent(String),
    /// The snapshot could not be read: nothing was put.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Config refused the evaluation and would again (an unknown token, a
    /// deleted rule, access denied).
    #[error("{0}")]
    Refused(String),
    /// Config could not be reached, or did not take the evaluation.
    #[error("{0}")]
    Unavailable(String),
}

impl From<ReportError> for RuleError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::Store(e) => Self::Store(e),
            ReportError::Put(PortError::Refused(m)) => Self::Refused(m),
            ReportError::Put(PortError::Retry(m)) => Self::Unavailable(m),
        }
    }
}

impl From<RuleError> for Diagnostic {
    fn from(e: RuleError) -> Self {
        let error_type = match &e {
            RuleError::BadEvent(_) => "BadEvent",
            RuleError::Store(_) => "StoreUnavailable",
            RuleError::Refused(_) => "EvaluationRefused",
            RuleError::Unavailable(_) => "ConfigUnavailable",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

fn bad(message: impl Into<String>) -> RuleError {
    RuleError::BadEvent(message.into())
}

fn text<'a>(o: &'a serde_json::Map<String, Value>, name: &str, of: &str) -> Result<&'a str, RuleError> {
    match o.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        None | Some(Value::Null) => Err(bad(format!("{of}{name} is missing"))),
        Some(other) => Err(bad(format!("{of}{name} must be a non-empty string, not {other}"))),
    }
}

fn account(id: &str, what: &str) -> Result<String, RuleError> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id.to_owned())
    } else {
        Err(bad(format!("{what} must be a 12-digit account id, not {id:?}")))
    }
}

impl Invocation {
    /// The rule's event; a clear [`RuleError::BadEvent`] naming what is
    /// wrong otherwise.
    pub fn parse(payload: &Value) -> Result<Self, RuleError> {
        let Value::Object(event) = payload else {
            return Err(bad("an AWS Config rule event must be a JSON object"));
        };
        let invoking = text(event, "invokingEvent", "")?;
        let invoking: Value = serde_json::from_str(invoking)
            .map_err(|e| bad(format!("invokingEvent must be a JSON document in a string: {e}")))?;
        let Value::Object(invoking) = invoking else {
            return Err(bad("invokingEvent must hold a JSON object"));
        };
        let of = "invokingEvent.";
        let message_type = text(&invoking, "messageType", of)?;
        if message_type != MESSAGE_TYPE {
            return Err(bad(format!(
                "the rule is periodic: invokingEvent.messageType must be {MESSAGE_TYPE}, not {message_type:?} \
                 (set the rule's source detail to MessageType {MESSAGE_TYPE})"
            )));
        }
        let account_id = account(text(&invoking, "awsAccountId", of)?, "invokingEvent.awsAccountId")?;
        if let Some(Value::String(outer)) = event.get("accountId")
            && *outer != account_id
        {
            return Err(bad(format!(
                "accountId {outer:?} is not invokingEvent.awsAccountId {account_id:?}"
            )));
        }
        let created = text(&invoking, "notificationCreationTime", of)?;
        let notified_at = created.parse().map_err(|e| {
            bad(format!(
                "invokingEvent.notificationCreationTime must be an RFC 3339 time, not {created:?}: {e}"
            ))
        })?;
        let result_token = text(event, "resultToken", "")?.to_owned();
        let rule = match event.get("configRuleName") {
            Some(Value::String(name)) => name.clone(),
            _ => String::new(),
        };
        Ok(Self {
            rule,
            invocation: RuleInvocation {
                account_id,
                notified_at,
                result_token,
            },
        })
    }
}

/// The rule's ports: where the snapshot is read, where evaluations go.
#[derive(Debug, Clone)]
pub struct Rule<S, E> {
    pub snapshots: S,
    pub evaluations: E,
}

impl<S: ReadinessSnapshots, E: Evaluations> Rule<S, E> {
    /// One invocation of the rule: parse, report, what was put out.
    pub async fn handle(&self, payload: &Value) -> Result<Value, Diagnostic> {
        let Invocation { rule, invocation } = Invocation::parse(payload)
            .inspect_err(|e| tracing::warn!(error = %e, "config rule event refused"))?;
        let reported = compliance::report(&self.snapshots, &self.evaluations, &invocation)
            .await
            .map_err(RuleError::from)
            .inspect_err(
                |e| tracing::error!(config_rule = %rule, error = %e, "config rule evaluation failed"),
            )?;
        match &reported {
            Reported::Evaluation(e) => tracing::info!(
                config_rule = %rule,
                account = %e.resource_id,
                compliance = %e.compliance,
                annotation = %e.annotation,
                "config rule evaluation put"
            ),
            Reported::Nothing { why } => {
                tracing::info!(config_rule = %rule, why = %why, "config rule: nothing to report")
            }
        }
        let mut out = serde_json::to_value(&reported).expect("the report serializes");
        out["config_rule"] = json!(rule);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use support_plans_domain::readiness::compliance::{Compliance, ResourceEvaluation};
    use support_plans_domain::readiness::{Activity, Readiness, ReadinessSnapshots as _, figures};
    use support_plans_domain::testing::evaluations::FakeEvaluations;
    use support_plans_domain::testing::store::InMemoryStore;

    use super::*;

    /// Config's periodic event, as its developer guide shows it.
    fn event() -> Value {
        json!({
            "configRuleId": "config-rule-6543210",
            "version": "1.0",
            "configRuleName": "support-plans-OPS07-BP06",
            "configRuleArn": "arn:aws:config:us-east-1:111122223333:config-rule/config-rule-6543210",
            "invokingEvent": "{\"awsAccountId\":\"111122223333\",\"notificationCreationTime\":\"2026-11-21T08:00:00.373Z\",\"messageType\":\"ScheduledNotification\",\"recordVersion\":\"1.0\"}",
            "resultToken": "myResultToken",
            "eventLeftScope": false,
            "ruleParameters": "{}",
            "executionRoleArn": "arn:aws:iam::111122223333:role/config-role",
            "accountId": "111122223333"
        })
    }

    fn with(field: &str, value: Value) -> Value {
        let mut e = event();
        e[field] = value;
        e
    }

    fn invoking(patch: impl FnOnce(&mut Value)) -> Value {
        let mut inner: Value = serde_json::from_str(event()["invokingEvent"].as_str().unwrap()).unwrap();
        patch(&mut inner);
        with("invokingEvent", json!(inner.to_string()))
    }

    fn refusal(payload: &Value) -> String {
        match Invocation::parse(payload) {
            Err(RuleError::BadEvent(m)) => m,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn config_s_periodic_event_is_recognised_and_read() {
        assert!(is_rule_event(&event()));
        for run in [json!({}), json!({"dry_run": true}), json!({"source": "schedule"})] {
            assert!(!is_rule_event(&run), "{run}");
        }
        // Never taken for a run of the check.
        assert!(matches!(
            crate::Request::parse(&event()),
            Err(crate::CheckError::BadEvent(_))
        ));
        let parsed = Invocation::parse(&event()).unwrap();
        assert_eq!(parsed.rule, "support-plans-OPS07-BP06");
        assert_eq!(
            parsed.invocation,
            RuleInvocation {
                account_id: "111122223333".into(),
                notified_at: "2026-11-21T08:00:00.373Z".parse().unwrap(),
                result_token: "myResultToken".into(),
            }
        );
    }

    #[test]
    fn a_bad_event_is_refused_naming_what_is_wrong() {
        let cases = [
            (
                with("resultToken", json!("")),
                "resultToken must be a non-empty string",
            ),
            (with("resultToken", Value::Null), "resultToken is missing"),
            (
                with("invokingEvent", json!({"messageType": MESSAGE_TYPE})),
                "invokingEvent must be a non-empty string",
            ),
            (
                with("invokingEvent", json!("{not json")),
                "invokingEvent must be a JSON document",
            ),
            (
                invoking(|i| i["messageType"] = json!("ConfigurationItemChangeNotification")),
                "messageType must be ScheduledNotification, not \"ConfigurationItemChangeNotification\"",
            ),
            (
                invoking(|i| i["awsAccountId"] = json!("1234")),
                "12-digit account id",
            ),
            (
                invoking(|i| i["notificationCreationTime"] = json!("yesterday")),
                "notificationCreationTime must be an RFC 3339 time",
            ),
            (
                with("accountId", json!("999999999999")),
                "is not invokingEvent.awsAccountId",
            ),
        ];
        for (payload, says) in cases {
            let m = refusal(&payload);
            assert!(m.contains(says), "{m:?} should say {says:?}");
        }
        let d = Diagnostic::from(Invocation::parse(&with("resultToken", json!(""))).unwrap_err());
        assert_eq!(d.error_type, "BadEvent");
    }

    #[tokio::test]
    async fn the_rule_puts_the_snapshot_s_evaluation_and_says_what() {
        let store = InMemoryStore::default();
        let config = FakeEvaluations::default();
        let rule = Rule {
            snapshots: store.clone(),
            evaluations: config.clone(),
        };
        let nothing = rule.handle(&event()).await.unwrap();
        assert_eq!(nothing["reported"], "nothing", "{nothing}");
        assert!(config.put().is_empty());

        let at: jiff::Timestamp = "2026-11-21T07:00:00Z".parse().unwrap();
        let r = Readiness {
            workloads: 3,
            workloads_without_active_plan: 1,
            contacts: 18,
            ..figures(&[], &[], &[], Activity::default(), 0, at)
        };
        store.replace_snapshot(&r, None).await.unwrap();
        let out = rule.handle(&event()).await.unwrap();
        assert_eq!(out["reported"], "evaluation", "{out}");
        assert_eq!(out["compliance"], "NON_COMPLIANT", "{out}");
        assert_eq!(out["config_rule"], "support-plans-OPS07-BP06", "{out}");
        let annotation = "1 of 3 workloads without an active support plan.";
        assert_eq!(out["annotation"], annotation, "{out}");
        assert_eq!(
            config.put(),
            [(
                "myResultToken".to_owned(),
                ResourceEvaluation {
                    resource_type: "AWS::::Account",
                    resource_id: "111122223333".into(),
                    compliance: Compliance::NonCompliant,
                    annotation: annotation.into(),
                    ordering: "2026-11-21T08:00:00.373Z".parse().unwrap(),
                }
            )]
        );

        config.refuse("AWS Config refused PutEvaluations (InvalidResultTokenException)");
        let d = rule.handle(&event()).await.unwrap_err();
        assert_eq!(d.error_type, "EvaluationRefused");
    }
}
