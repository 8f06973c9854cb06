//! The readiness snapshot (SPEC §15) in the one table.
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | the snapshot | `READINESS` | `SNAPSHOT` | `as_of`, one number per figure, the activity counts, `seq`, `activity_seq` |
//!
//! A freshness run replaces it with one conditional `PutItem`; a write adds
//! its delta with one `UpdateItem … ADD` conditional on `as_of`; activity is
//! added with one `UpdateItem … ADD` when the snapshot exists. Not in any index.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;
use support_plans_domain::ports::StoreError;
use support_plans_domain::readiness::snapshot::fresh_percent;
use support_plans_domain::readiness::{
    ACTIVITY_WINDOW_DAYS, Activity, Delta, Readiness, ReadinessSnapshots, Stored,
};

use crate::store::{DynamoStore, PK, SK};

pub const READINESS_PK: &str = "READINESS";
const SNAPSHOT_SK: &str = "SNAPSHOT";
const CONFLICT: &str = "readiness snapshot";

type Item = HashMap<String, AttributeValue>;

fn unexpected(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unexpected(e.to_string().into())
}

fn num(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn number(item: &Item, name: &str) -> u64 {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse::<i64>().map_or(0, |v| v.max(0) as u64),
        _ => 0,
    }
}

/// The activity counts' attributes (the same names as the day items').
pub(crate) fn activity_fields(a: &Activity) -> [(&'static str, u64); 5] {
    [
        ("reminders_sent", a.reminders_sent),
        ("escalations_sent", a.escalations_sent),
        ("incidents_matched", a.incidents_matched),
        ("incidents_unmatched", a.incidents_unmatched),
        ("incidents_without_plan", a.incidents_without_plan),
    ]
}

fn figure_fields(r: &Readiness) -> [(&'static str, u64); 10] {
    [
        ("workloads", r.workloads),
        ("workloads_without_active_plan", r.workloads_without_active_plan),
        ("tier1_workloads_without_24x7", r.tier1_workloads_without_24x7),
        ("plans", r.plans),
        ("contacts", r.contacts),
        ("contacts_overdue", r.contacts_overdue),
        ("owners_unreachable", r.owners_unreachable),
        ("plans_due_for_review", r.plans_due_for_review),
        ("contracts_renewing", r.contracts_renewing),
        ("contracts_lapsed", r.contracts_lapsed),
    ]
}

fn key() -> Item {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(READINESS_PK.into())),
        (SK.to_owned(), AttributeValue::S(SNAPSHOT_SK.into())),
    ])
}

fn stored_of(item: &Item) -> Result<Stored, StoreError> {
    let as_of: Timestamp = match item.get("as_of") {
        Some(AttributeValue::S(s)) => s.parse().map_err(unexpected)?,
        _ => return Err(unexpected("the readiness snapshot has no as_of")),
    };
    let n = |name| number(item, name);
    let (contacts, overdue) = (n("contacts"), n("contacts_overdue"));
    Ok(Stored {
        readiness: Readiness {
            as_of,
            workloads: n("workloads"),
            workloads_without_active_plan: n("workloads_without_active_plan"),
            tier1_workloads_without_24x7: n("tier1_workloads_without_24x7"),
            plans: n("plans"),
            contacts,
            contacts_fresh_percent: fresh_percent(contacts, overdue),
            contacts_overdue: overdue,
            owners_unreachable: n("owners_unreachable"),
            plans_due_for_review: n("plans_due_for_review"),
            contracts_renewing: n("contracts_renewing"),
            contracts_lapsed: n("contracts_lapsed"),
            window_days: ACTIVITY_WINDOW_DAYS,
            activity: Activity {
                reminders_sent: n("reminders_sent"),
                escalations_sent: n("escalations_sent"),
                incidents_matched: n("incidents_matched"),
                incidents_unmatched: n("incidents_unmatched"),
                incidents_without_plan: n("incidents_without_plan"),
            },
        },
        seq: n("seq"),
        activity_seq: n("activity_seq"),
    })
}

fn conditional_failed<E, R>(e: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .is_some_and(|s| s.code() == Some("ConditionalCheckFailedException"))
}

impl DynamoStore {
    /// `UpdateItem … ADD` of `adds` (attribute, number) and 1 to `counter`
    /// on the snapshot, conditional on `condition` (which names the key as
    /// `#pk`).
    fn add_to_snapshot(
        &self,
        adds: &[(&str, String)],
        counter: &str,
        condition: &str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        let mut expr: Vec<String> = (0..adds.len()).map(|i| format!("#f{i} :v{i}")).collect();
        expr.push("#counter :one".into());
        let mut update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key()))
            .update_expression(format!("ADD {}", expr.join(", ")))
            .condition_expression(condition)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#counter", counter)
            .expression_attribute_values(":one", num(1));
        for (i, (name, n)) in adds.iter().enumerate() {
            update = update
                .expression_attribute_names(format!("#f{i}"), *name)
                .expression_attribute_values(format!(":v{i}"), AttributeValue::N(n.clone()));
        }
        update
    }

    /// Adds `counts` to the snapshot, if there is one (the first freshness
    /// run, or the first `GET /readiness`, writes it with the window's sums).
    pub(crate) async fn add_activity_to_snapshot(&self, counts: &Activity) -> Result<(), StoreError> {
        let adds: Vec<(&str, String)> = activity_fields(counts)
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| (name, n.to_string()))
            .collect();
        if adds.is_empty() {
            return Ok(());
        }
        let update = self.add_to_snapshot(&adds, "activity_seq", "attribute_exists(#pk)");
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e) if conditional_failed(&e) => Ok(()),
            Err(e) => Err(unexpected(DisplayErrorContext(e))),
        }
    }
}

impl ReadinessSnapshots for DynamoStore {
    async fn load_snapshot(&self) -> Result<Option<Stored>, StoreError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unexpected(DisplayErrorContext(e)))?;
        out.item.as_ref().map(stored_of).transpose()
    }

    async fn replace_snapshot(
        &self,
        readiness: &Readiness,
        expected: Option<(u64, u64)>,
    ) -> Result<(), StoreError> {
        let mut item = key();
        item.insert("as_of".into(), AttributeValue::S(readiness.as_of.to_string()));
        for (name, v) in figure_fields(readiness)
            .into_iter()
            .chain(activity_fields(&readiness.activity))
        {
            item.insert(name.into(), num(v));
        }
        item.insert("seq".into(), num(0));
        item.insert("activity_seq".into(), num(0));
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item));
        let put = match expected {
            None => put
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK),
            Some((seq, activity_seq)) => put
                .condition_expression("#seq = :seq AND #aseq = :aseq")
                .expression_attribute_names("#seq", "seq")
                .expression_attribute_names("#aseq", "activity_seq")
                .expression_attribute_values(":seq", num(seq))
                .expression_attribute_values(":aseq", num(activity_seq)),
        };
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if conditional_failed(&e) => Err(StoreError::Conflict {
                id: CONFLICT.into(),
                expected: expected.map_or(0, |e| e.0),
            }),
            Err(e) => Err(unexpected(DisplayErrorContext(e))),
        }
    }

    async fn adjust_snapshot(&self, delta: &Delta, as_of: Timestamp) -> Result<(), StoreError> {
        let adds: Vec<(&str, String)> = delta
            .fields()
            .into_iter()
            .filter(|(_, d)| *d != 0)
            .map(|(name, d)| (name, d.to_string()))
            .collect();
        let update = self
            .add_to_snapshot(&adds, "seq", "attribute_exists(#pk) AND #as_of = :as_of")
            .expression_attribute_names("#as_of", "as_of")
            .expression_attribute_values(":as_of", AttributeValue::S(as_of.to_string()))
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            );
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e) if conditional_failed(&e) => {
                let had = match e.as_service_error() {
                    Some(
                        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c),
                    ) => c.item().is_some_and(|i| !i.is_empty()),
                    _ => true,
                };
                if had {
                    Err(StoreError::Conflict {
                        id: CONFLICT.into(),
                        expected: 0,
                    })
                } else {
                    Err(StoreError::NotFound(CONFLICT.into()))
                }
            }
            Err(e) => Err(unexpected(DisplayErrorContext(e))),
        }
    }
}
