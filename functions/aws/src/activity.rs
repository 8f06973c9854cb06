//! Activity counters for the readiness figures (SPEC §6), in the one table.
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | one day's counts | `ACTIVITY` | `DAY#<YYYY-MM-DD>` | `reminders_sent`, `escalations_sent`, `incidents_matched`, `incidents_unmatched`, `incidents_without_plan` |
//!
//! Counts are added with one atomic `UpdateItem ... ADD`; the window is read
//! with one `Query` on the partition (30 items at most). Not in any index.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use jiff::civil::Date;
use support_plans_domain::ports::StoreError;
use support_plans_domain::readiness::{Activity, ActivityLog};

use crate::snapshot::activity_fields as fields;
use crate::store::{DynamoStore, PK, SK};

pub const ACTIVITY_PK: &str = "ACTIVITY";
const DAY_PREFIX: &str = "DAY#";

fn unexpected(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unexpected(e.to_string().into())
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> u64 {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
        _ => 0,
    }
}

impl ActivityLog for DynamoStore {
    async fn record(&self, day: Date, counts: &Activity) -> Result<(), StoreError> {
        let adds: Vec<(&str, u64)> = fields(counts).into_iter().filter(|(_, n)| *n > 0).collect();
        if adds.is_empty() {
            return Ok(());
        }
        let expr = adds
            .iter()
            .enumerate()
            .map(|(i, _)| format!("#f{i} :v{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut update = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(PK, AttributeValue::S(ACTIVITY_PK.into()))
            .key(SK, AttributeValue::S(format!("{DAY_PREFIX}{day}")))
            .update_expression(format!("ADD {expr}"));
        for (i, (name, n)) in adds.iter().enumerate() {
            update = update
                .expression_attribute_names(format!("#f{i}"), *name)
                .expression_attribute_values(format!(":v{i}"), AttributeValue::N(n.to_string()));
        }
        // The readiness snapshot counts it too (SPEC §15), when there is one:
        // both at once, so the count adds no round trip to the responder's
        // path. The day's count is what the caller retries on failure; a
        // snapshot that missed it is corrected by the next freshness run
        // (failing here would count the day twice on the retry).
        let (day, snapshot) = tokio::join!(update.send(), self.add_activity_to_snapshot(counts));
        if let Err(e) = snapshot {
            tracing::warn!(error = %e, "the readiness snapshot misses this count until the next freshness run");
        }
        day.map_err(|e| unexpected(DisplayErrorContext(e)))?;
        Ok(())
    }

    async fn since(&self, first_day: Date) -> Result<Activity, StoreError> {
        let mut sum = Activity::default();
        let mut start = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", AttributeValue::S(ACTIVITY_PK.into()))
                .expression_attribute_values(":from", AttributeValue::S(format!("{DAY_PREFIX}{first_day}")))
                .expression_attribute_values(":to", AttributeValue::S(format!("{DAY_PREFIX}9999")))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| unexpected(DisplayErrorContext(e)))?;
            for item in out.items.unwrap_or_default() {
                sum.reminders_sent += number(&item, "reminders_sent");
                sum.escalations_sent += number(&item, "escalations_sent");
                sum.incidents_matched += number(&item, "incidents_matched");
                sum.incidents_unmatched += number(&item, "incidents_unmatched");
                sum.incidents_without_plan += number(&item, "incidents_without_plan");
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(sum),
            }
        }
    }
}
