//! The event shapes of SPEC §4 and §11, told apart and checked: the four of
//! SPEC §4 and the PagerDuty hand-off of `POST /hooks/pagerduty`. Anything
//! else is `Ignored` with a reason: logged and counted, never retried.

use serde_json::Value;
use support_plans_domain::pipeline::IncidentId;
pub use support_plans_domain::pipeline::generic::Generic;
use support_plans_domain::pipeline::generic::{generic, is_arn, resources, workload};
use support_plans_domain::{IncidentArn, Slug};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// An Incident Manager incident: from the runbook or the CloudTrail event.
    Incident {
        arn: IncidentArn,
        source: &'static str,
        resources: Vec<String>,
        workload: Option<String>,
        response_plan: Option<String>,
    },
    /// The reconciliation sweep.
    Sweep,
    /// A generic `Incident Started` event (incidents kept elsewhere).
    Generic(Generic),
    /// A PagerDuty incident handed off by `POST /hooks/pagerduty` (SPEC §11):
    /// `{"pagerduty": {"incident_id", "event_id"}}`.
    PagerDuty {
        incident_id: String,
        /// The webhook event's id, for the log.
        event_id: Option<String>,
    },
    /// A "vendor responded" mark recorded by `incident-hooks` (SPEC §13):
    /// `{"responded": {"incident": "<ARN or pagerduty:<id>>", "plan": "<plan>"}}`.
    Responded {
        incident: IncidentId,
        plan: String,
    },
    Ignored(String),
}

pub fn parse(event: &Value) -> Trigger {
    match classify(event) {
        Ok(t) => t,
        Err(reason) => Trigger::Ignored(reason),
    }
}

fn classify(event: &Value) -> Result<Trigger, String> {
    let Some(obj) = event.as_object() else {
        return Err("the event is not a JSON object".into());
    };
    // 1. The runbook: aws:invokeLambdaFunction with the dynamic parameters.
    if let Some(arn) = obj.get("incident_record_arn") {
        let arn = arn
            .as_str()
            .and_then(|a| IncidentArn::parse(a).ok())
            .ok_or("incident_record_arn is not an incident ARN")?;
        return Ok(Trigger::Incident {
            arn,
            source: "runbook",
            resources: resources(obj.get("involved_resources"), "involved_resources")?,
            workload: workload(obj.get("workload"))?,
            response_plan: None,
        });
    }
    // 5. The PagerDuty hand-off of the incident-hooks function.
    if let Some(handoff) = obj.get("pagerduty") {
        return pagerduty(handoff);
    }
    // 6. A "vendor responded" mark, handed off by the incident-hooks function.
    if let Some(mark) = obj.get("responded") {
        return responded(mark);
    }
    if obj.get("sweep").and_then(Value::as_bool) == Some(true) {
        return Ok(Trigger::Sweep);
    }
    let detail_type = obj.get("detail-type").and_then(Value::as_str).unwrap_or_default();
    let source = obj.get("source").and_then(Value::as_str).unwrap_or_default();
    let detail = obj.get("detail").cloned().unwrap_or(Value::Null);
    match (source, detail_type) {
        // 2. CloudTrail's StartIncident, through an EventBridge rule.
        ("aws.ssm-incidents", "AWS API Call via CloudTrail" | "Amazon API Call via CloudTrail") => {
            if detail.get("eventName").and_then(Value::as_str) != Some("StartIncident") {
                return Err("a CloudTrail event other than StartIncident".into());
            }
            if detail.get("errorCode").is_some() {
                return Err("a StartIncident call that failed".into());
            }
            let arn = detail
                .pointer("/responseElements/incidentRecordArn")
                .and_then(Value::as_str)
                .and_then(|a| IncidentArn::parse(a).ok())
                .ok_or("StartIncident event without an incident ARN")?;
            let plan = detail
                .pointer("/requestParameters/responsePlanArn")
                .and_then(Value::as_str)
                .filter(|a| is_arn(a))
                .map(str::to_owned);
            Ok(Trigger::Incident {
                arn,
                source: "cloudtrail",
                resources: Vec::new(),
                workload: None,
                response_plan: plan,
            })
        }
        // 3. The sweep's schedule (EventBridge Scheduler or a scheduled rule).
        ("aws.events" | "aws.scheduler", "Scheduled Event") => Ok(Trigger::Sweep),
        // 4. A generic incident from elsewhere.
        (_, "Incident Started") => generic(source, &detail, obj.get("time"))
            .map(Trigger::Generic)
            .map_err(|e| e.in_event()),
        _ => Err(format!(
            "an event this function does not handle (source {:?}, detail-type {:?})",
            support_plans_domain::validate::printable(source, 64),
            support_plans_domain::validate::printable(detail_type, 64)
        )),
    }
}

fn pagerduty(handoff: &Value) -> Result<Trigger, String> {
    let incident_id = handoff
        .get("incident_id")
        .and_then(Value::as_str)
        .ok_or("pagerduty.incident_id is required")?;
    let incident_id = support_plans_domain::pagerduty::incident_id(incident_id)
        .map_err(|e| format!("pagerduty.incident_id: {e}"))?;
    let event_id = match handoff.get("event_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(e)) if e.len() <= 128 && !e.chars().any(char::is_control) => Some(e.clone()),
        Some(_) => return Err("pagerduty.event_id is not text of at most 128 characters".into()),
    };
    Ok(Trigger::PagerDuty {
        incident_id: incident_id.to_owned(),
        event_id,
    })
}

fn responded(mark: &Value) -> Result<Trigger, String> {
    let key = mark
        .get("incident")
        .and_then(Value::as_str)
        .ok_or("responded.incident is required")?;
    let incident = match key.strip_prefix("pagerduty:") {
        Some(id) => support_plans_domain::pagerduty::incident_id(id)
            .map(support_plans_domain::pagerduty::id)
            .map_err(|e| format!("responded.incident: {e}"))?,
        None => IncidentId::Record(
            IncidentArn::parse(key)
                .map_err(|_| "responded.incident is neither an incident ARN nor pagerduty:<id>")?,
        ),
    };
    let plan = mark
        .get("plan")
        .and_then(Value::as_str)
        .and_then(|p| Slug::parse(p).ok())
        .ok_or("responded.plan is not a plan id")?;
    Ok(Trigger::Responded {
        incident,
        plan: plan.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_responded_mark_names_its_incident_and_plan_and_a_bad_one_is_ignored() {
        let im = parse(&json!({"responded": {"incident": ARN, "plan": "aws-business"}}));
        assert!(
            matches!(im, Trigger::Responded { incident: IncidentId::Record(ref a), ref plan } if a.as_str() == ARN && plan == "aws-business"),
            "{im:?}"
        );
        let pd =
            parse(&json!({"responded": {"incident": "pagerduty:Q1ABCD2EFGH3IJ", "plan": "stripe-premium"}}));
        assert!(
            matches!(pd, Trigger::Responded { ref incident, .. } if incident.key() == "pagerduty:Q1ABCD2EFGH3IJ"),
            "{pd:?}"
        );
        for bad in [
            json!({"responded": {"incident": "arn:aws:s3:::b", "plan": "aws-business"}}),
            json!({"responded": {"incident": "pagerduty:../x", "plan": "aws-business"}}),
            json!({"responded": {"incident": ARN, "plan": "Not A Slug"}}),
            json!({"responded": {"incident": ARN}}),
            json!({"responded": "x"}),
        ] {
            assert!(matches!(parse(&bad), Trigger::Ignored(_)), "{bad}");
        }
    }

    const ARN: &str = "arn:aws:ssm-incidents::111122223333:incident-record/payments-critical/6ac3b7d0";

    #[test]
    fn the_four_shapes() {
        let runbook = parse(
            &json!({"incident_record_arn": ARN, "involved_resources": ["arn:aws:rds:us-east-1:111122223333:db:payments-main"]}),
        );
        assert!(
            matches!(runbook, Trigger::Incident { source: "runbook", ref resources, .. } if resources.len() == 1)
        );
        let as_string =
            parse(&json!({"incident_record_arn": ARN, "involved_resources": "[\"arn:aws:s3:::b\"]"}));
        assert!(
            matches!(as_string, Trigger::Incident { ref resources, .. } if resources == &["arn:aws:s3:::b"])
        );
        let cloudtrail = parse(
            &json!({"source": "aws.ssm-incidents", "detail-type": "AWS API Call via CloudTrail",
            "detail": {"eventName": "StartIncident", "responseElements": {"incidentRecordArn": ARN},
                       "requestParameters": {"responsePlanArn": "arn:aws:ssm-incidents::111122223333:response-plan/payments-critical"}}}),
        );
        assert!(matches!(
            cloudtrail,
            Trigger::Incident {
                source: "cloudtrail",
                response_plan: Some(_),
                ..
            }
        ));
        assert_eq!(parse(&json!({"sweep": true})), Trigger::Sweep);
        assert_eq!(
            parse(&json!({"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": {}})),
            Trigger::Sweep
        );
        let generic = parse(&json!({"source": "acme.pager", "detail-type": "Incident Started",
            "detail": {"id": "INC-42", "title": "Payments down", "impact": 1}}));
        assert!(matches!(generic, Trigger::Generic(ref g)
            if g.id == "INC-42" && g.impact == Some(1) && g.source == "acme.pager"));
        // No source at all: carried as empty (and refused by the responder).
        let sourceless = parse(&json!({"detail-type": "Incident Started", "detail": {"id": "INC-43"}}));
        assert!(matches!(sourceless, Trigger::Generic(ref g) if g.source.is_empty()));
    }

    #[test]
    fn anything_else_is_ignored_with_a_reason() {
        for e in [
            json!([1, 2]),
            json!({"hello": "world"}),
            json!({"incident_record_arn": "arn:aws:s3:::bucket"}),
            json!({"incident_record_arn": ARN, "involved_resources": ["not an arn"]}),
            json!({"source": "aws.ssm-incidents", "detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": "UpdateIncidentRecord"}}),
            json!({"source": "x", "detail-type": "Incident Started", "detail": {"title": "no id"}}),
            json!({"source": "x", "detail-type": "Incident Started", "detail": {"id": "1", "impact": 9}}),
            json!({"source": "x".repeat(257), "detail-type": "Incident Started", "detail": {"id": "1"}}),
        ] {
            assert!(matches!(parse(&e), Trigger::Ignored(_)), "{e}");
        }
    }
}

#[cfg(test)]
mod sample_events {
    use super::*;

    fn load(name: &str) -> Value {
        let path = format!("{}/../../infra/local/events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_sample_events_are_the_shapes_they_claim() {
        assert!(matches!(
            parse(&load("runbook.json")),
            Trigger::Incident {
                source: "runbook",
                ..
            }
        ));
        assert!(matches!(
            parse(&load("cloudtrail-start-incident.json")),
            Trigger::Incident {
                source: "cloudtrail",
                ..
            }
        ));
        assert!(matches!(
            parse(&load("generic-incident-started.json")),
            Trigger::Generic(ref g) if g.source == "support-plans.incidents"
        ));
        assert_eq!(parse(&load("sweep.json")), Trigger::Sweep);
        assert!(matches!(parse(&load("unknown.json")), Trigger::Ignored(_)));
    }
}

#[cfg(test)]
mod pagerduty_hand_off {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_pagerduty_hand_off_is_a_pagerduty_incident_and_a_bad_id_is_ignored() {
        let t = parse(
            &json!({"pagerduty": {"incident_id": "Q1ABCD2EFGH3IJ", "event_id": "01DFDP2C5CDD8TV4BHDCBB1ZZX"}}),
        );
        assert!(
            matches!(t, Trigger::PagerDuty { ref incident_id, .. } if incident_id == "Q1ABCD2EFGH3IJ"),
            "{t:?}"
        );
        for bad in [
            json!({"pagerduty": {"incident_id": ""}}),
            json!({"pagerduty": {"incident_id": "P1/../x"}}),
            json!({"pagerduty": {"incident_id": "P".repeat(65)}}),
            json!({"pagerduty": {"incident_id": 12}}),
            json!({"pagerduty": "P123"}),
        ] {
            assert!(matches!(parse(&bad), Trigger::Ignored(_)), "{bad}");
        }
    }
}
