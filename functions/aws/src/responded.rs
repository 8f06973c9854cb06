//! "Vendor responded" marks in the one table (SPEC §13): the domain's
//! [`ResponseMarks`] and [`PostedNotes`] ports, beside the incident's claim item.
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | one plan marked as responding | `CLAIM#<incident key>` | `RESPONDED#<plan>` | `by`, `at` (RFC 3339), `via` (`link`, `api`), `expires_at` |
//!
//! `mark` is one conditional `PutItem` (no item yet): of concurrent marks
//! exactly one is first, and the others get the stored mark back (from the
//! failed condition's old item, else a consistent `GetItem`). `marks` is one
//! `Query` on the incident's pk, `begins_with(sk, "RESPONDED#")`.
//! `expires_at` (epoch seconds, the table's TTL attribute) is 14 days after
//! the mark, as long as a claim item is kept. `note_posted` reads the claim
//! item's `done` (`NOTE#<plan>`), nothing else of it. Not in any index.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata as _};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use jiff::SignedDuration;
use support_plans_domain::ports::PortError;
use support_plans_domain::responded::{Marked, PostedNotes, Responded, ResponseMarks, Via, posted_part};

use crate::store::{DynamoStore, PK, SK};

pub const RESPONDED_PREFIX: &str = "RESPONDED#";
/// How long a mark is kept: as long as the incident's claim item.
pub const KEEP_DAYS: i64 = 14;
/// The claim item's sort key.
const STATE: &str = "STATE";

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn pk(incident: &str) -> AttributeValue {
    s(format!("CLAIM#{incident}"))
}

fn failed(e: impl std::error::Error + 'static) -> PortError {
    PortError::Retry(format!("response marks: {}", DisplayErrorContext(e)))
}

/// A mark as the item holds it; `None` for an item that is not one.
fn mark_of(item: &HashMap<String, AttributeValue>) -> Option<Responded> {
    let text = |k: &str| match item.get(k) {
        Some(AttributeValue::S(v)) => Some(v.as_str()),
        _ => None,
    };
    Some(Responded {
        plan: text(SK)?.strip_prefix(RESPONDED_PREFIX)?.to_owned(),
        by: text("by")?.to_owned(),
        at: text("at")?.parse().ok()?,
        via: Via::parse(text("via")?)?,
    })
}

impl DynamoStore {
    async fn read_mark(&self, incident: &str, plan: &str) -> Result<Option<Responded>, PortError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(PK, pk(incident))
            .key(SK, s(format!("{RESPONDED_PREFIX}{plan}")))
            .consistent_read(true)
            .send()
            .await
            .map_err(failed)?;
        Ok(out.item.as_ref().and_then(mark_of))
    }
}

impl ResponseMarks for DynamoStore {
    #[tracing::instrument(skip(self, mark), fields(table = %self.table(), plan = %mark.plan))]
    async fn mark(&self, incident: &str, mark: &Responded) -> Result<Marked, PortError> {
        let expires = (mark.at + SignedDuration::from_hours(24 * KEEP_DAYS)).as_second();
        let out = self
            .client()
            .put_item()
            .table_name(self.table())
            .item(PK, pk(incident))
            .item(SK, s(format!("{RESPONDED_PREFIX}{}", mark.plan)))
            .item("by", s(&mark.by))
            .item("at", s(mark.at.to_string()))
            .item("via", s(mark.via.as_str()))
            .item("expires_at", AttributeValue::N(expires.to_string()))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match out {
            Ok(_) => Ok(Marked::First),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                let old = match e.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(c)) => c.item().and_then(mark_of),
                    _ => None,
                };
                let first = match old {
                    Some(first) => first,
                    None => self.read_mark(incident, &mark.plan).await?.ok_or_else(|| {
                        PortError::Retry("response marks: the first mark could not be read back".into())
                    })?,
                };
                Ok(Marked::Already(first))
            }
            Err(e) => Err(failed(e)),
        }
    }

    #[tracing::instrument(skip(self), fields(table = %self.table()))]
    async fn marks(&self, incident: &str) -> Result<BTreeMap<String, Responded>, PortError> {
        let mut marks = BTreeMap::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", pk(incident))
                .expression_attribute_values(":prefix", s(RESPONDED_PREFIX))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(failed)?;
            for mark in out.items().iter().filter_map(mark_of) {
                marks.insert(mark.plan.clone(), mark);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(marks),
            }
        }
    }
}

impl PostedNotes for DynamoStore {
    #[tracing::instrument(skip(self), fields(table = %self.table()))]
    async fn note_posted(&self, incident: &str, plan: &str) -> Result<bool, PortError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(PK, pk(incident))
            .key(SK, s(STATE))
            .projection_expression("#done")
            .expression_attribute_names("#done", "done")
            .consistent_read(true)
            .send()
            .await
            .map_err(failed)?;
        let part = posted_part(plan);
        Ok(matches!(
            out.item.as_ref().and_then(|i| i.get("done")),
            Some(AttributeValue::Ss(done)) if done.contains(&part)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_reads_back_as_the_mark_it_stores_and_anything_else_as_none() {
        let item: HashMap<String, AttributeValue> = [
            (PK.to_owned(), s("CLAIM#pagerduty:Q1")),
            (SK.to_owned(), s("RESPONDED#aws-business")),
            ("by".to_owned(), s("Dana")),
            ("at".to_owned(), s("2026-11-21T10:00:00Z")),
            ("via".to_owned(), s("link")),
        ]
        .into();
        assert_eq!(
            mark_of(&item),
            Some(Responded {
                plan: "aws-business".into(),
                by: "Dana".into(),
                at: "2026-11-21T10:00:00Z".parse().unwrap(),
                via: Via::Link,
            })
        );
        let mut claim = item.clone();
        claim.insert(SK.to_owned(), s("STATE"));
        assert_eq!(mark_of(&claim), None);
        let mut bad = item;
        bad.insert("via".to_owned(), s("fax"));
        assert_eq!(mark_of(&bad), None);
    }
}
