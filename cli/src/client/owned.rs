//! The caller-owned part of a plan or workload (SPEC §2, §12): what a diff
//! compares and what `export` writes. The server-owned fields are the
//! domain's: its parsing ignores them (`PLAN_SERVER_FIELDS`,
//! `CONTACT_SERVER_FIELDS`, `WORKLOAD_SERVER_FIELDS` in
//! `functions/domain/src/model`), exactly as the API does on a `PUT`.

use serde_json::Value;
use support_plans_domain::ValidationErrors;
use support_plans_domain::model::{MatchPolicy, PlanSpec, WorkloadSpec};

use super::Kind;

/// `body` (a file, or the API's answer) reduced to the fields a caller
/// writes, through the domain's own parsing: server-owned fields dropped
/// (the plan's `version`, `created_at`, `updated_at`, `updated_by`,
/// `reviewed_at`, `reviewed_by`, `reactivated_at`, `freshness`, `reachability`; each
/// contact's `verified_at`, `verified_by`, `verified_via`, `verified_note`,
/// `freshness`; the workload's `status` and the same four `Meta` fields) and
/// defaults written out (`status: active`, `product: ""`, `criticality:
/// tier-2`, ...), so a file that leaves a default out equals the API's
/// answer that spells it. A workload's match rules are read as an admin may
/// write them: which rules a caller may write is the API's to say.
///
/// An invalid body is refused with the domain's field errors (the same as
/// `lint`'s and the API's).
pub fn caller_owned(kind: Kind, body: &Value) -> Result<Value, ValidationErrors> {
    let owned = match kind {
        Kind::Plan => serde_json::to_value(PlanSpec::parse(body)?),
        Kind::Workload => serde_json::to_value(WorkloadSpec::parse_with(body, MatchPolicy::Admin)?),
    };
    Ok(owned.expect("a parsed spec serializes"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn plan() -> Value {
        json!({
            "id": "acme-gold",
            "vendor": "Acme",
            "tier": "Gold",
            "owner": {"team": "platform", "email": "platform@example.com"},
            "channels": [{"kind": "email", "value": "support@acme.example", "hours": "24x7"}],
            "escalation_steps": [{"title": "Open a case", "instructions": "Write to support", "contact": "tam"}],
            "contacts": [{"id": "tam", "name": "Tam Acme", "role": "vendor-tam", "email": "tam@acme.example"}]
        })
    }

    /// The API's answer for [`plan`]: defaults spelled out, every
    /// server-owned field set.
    fn answered() -> Value {
        let mut v = plan();
        let o = v.as_object_mut().expect("an object");
        for (k, x) in [
            ("product", json!("")),
            ("status", json!("active")),
            ("verify_every_days", json!(90)),
            ("review_every_days", json!(180)),
            ("severities", json!([])),
            ("version", json!(7)),
            ("created_at", json!("2026-01-01T00:00:00Z")),
            ("updated_at", json!("2026-02-01T00:00:00Z")),
            ("updated_by", json!("dana@example.com")),
            ("reviewed_at", json!("2026-02-01T00:00:00Z")),
            ("reviewed_by", json!("dana@example.com")),
            ("reactivated_at", json!("2026-01-15T00:00:00Z")),
            ("freshness", json!({"contacts": []})),
            (
                "reachability",
                json!({"owner": {"topic": "reminder", "reachable": true}}),
            ),
        ] {
            o.insert(k.into(), x);
        }
        let contact = o["contacts"][0].as_object_mut().expect("a contact");
        for (k, x) in [
            ("verified_at", json!("2026-02-01T00:00:00Z")),
            ("verified_by", json!("dana@example.com")),
            ("verified_via", json!("link")),
            ("verified_note", json!("called")),
            ("freshness", json!("ok")),
        ] {
            contact.insert(k.into(), x);
        }
        v
    }

    #[test]
    fn a_plan_as_answered_equals_the_file_that_wrote_it() {
        let file = caller_owned(Kind::Plan, &plan()).expect("valid");
        assert_eq!(caller_owned(Kind::Plan, &answered()).expect("valid"), file);
        let text = file.to_string();
        for server in [
            "version",
            "verified_",
            "reviewed_",
            "updated_",
            "created_at",
            "freshness",
            "reachability",
        ] {
            assert!(!text.contains(server), "{server} in {text}");
        }
    }

    #[test]
    fn a_caller_field_changed_is_a_difference() {
        let mut changed = answered();
        changed["contacts"][0]["email"] = json!("tam2@acme.example");
        assert_ne!(
            caller_owned(Kind::Plan, &changed).expect("valid"),
            caller_owned(Kind::Plan, &plan()).expect("valid")
        );
        let mut retired = answered();
        retired["status"] = json!("retired");
        assert_ne!(
            caller_owned(Kind::Plan, &retired).expect("valid"),
            caller_owned(Kind::Plan, &plan()).expect("valid")
        );
    }

    #[test]
    fn a_workload_status_is_the_service_s() {
        let file = json!({
            "name": "checkout",
            "owner": {"team": "payments", "email": "payments@example.com"},
            "dependencies": ["acme-gold"],
            "match": {"title_keywords": ["checkout"]}
        });
        let mut answer = file.clone();
        let o = answer.as_object_mut().expect("an object");
        for (k, x) in [
            ("description", json!("")),
            ("criticality", json!("tier-2")),
            ("status", json!("retired")),
            ("version", json!(2)),
            ("created_at", json!("2026-01-01T00:00:00Z")),
            ("updated_at", json!("2026-02-01T00:00:00Z")),
            ("updated_by", json!("dana@example.com")),
        ] {
            o.insert(k.into(), x);
        }
        assert_eq!(
            caller_owned(Kind::Workload, &answer).expect("valid"),
            caller_owned(Kind::Workload, &file).expect("valid")
        );
    }

    #[test]
    fn an_invalid_body_is_refused_with_its_fields() {
        let mut bad = plan();
        bad["contacts"][0]["email"] = json!("not an address");
        let e = caller_owned(Kind::Plan, &bad).expect_err("invalid");
        assert_eq!(e.0[0].field, "contacts[0].email", "{e}");
    }
}
