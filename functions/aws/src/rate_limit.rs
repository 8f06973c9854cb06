//! Per-source, per-minute counters in the one table (SPEC §4 trigger 4, §7),
//! shared by every instance of the incident responder: a burst of generic
//! incidents from one source cannot flood a chat channel.
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | one source's minute | `RATE#<source>` | `MINUTE#<YYYY-MM-DDTHH:MM>` (UTC) | `n`, `expires_at` |
//!
//! A slot is taken with one conditional `UpdateItem` (`ADD n :one` if
//! `n < limit`), so concurrent instances never hand out more than the limit.
//! The items expire through the table's TTL (`expires_at`) an hour after
//! their minute. Not in any index.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata as _};
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;
use support_plans_domain::ports::{RateLimit, Slot, StoreError};

use crate::store::{DynamoStore, PK, SK};

pub const RATE_PREFIX: &str = "RATE#";
const MINUTE_PREFIX: &str = "MINUTE#";
/// How long a minute's counter is kept after the minute began.
const KEEP_SECONDS: i64 = 3600;

fn unexpected(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unexpected(e.to_string().into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The minute `at` falls in, as the sort key (`MINUTE#2026-11-21T10:00`),
/// and the epoch second it began.
fn minute(at: Timestamp) -> (String, i64) {
    let start = at.as_second() - at.as_second().rem_euclid(60);
    let key = at
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    (format!("{MINUTE_PREFIX}{key}"), start)
}

/// An update of `source`'s counter for the minute named `sk`.
fn counter(store: &DynamoStore, source: &str, sk: String) -> UpdateItemFluentBuilder {
    store
        .client()
        .update_item()
        .table_name(store.table())
        .key(PK, AttributeValue::S(format!("{RATE_PREFIX}{source}")))
        .key(SK, AttributeValue::S(sk))
}

impl RateLimit for DynamoStore {
    async fn take_slot(&self, source: &str, at: Timestamp, limit: u32) -> Result<Slot, StoreError> {
        let (sk, start) = minute(at);
        let out = counter(self, source, sk)
            .update_expression("SET expires_at = if_not_exists(expires_at, :exp) ADD n :one")
            .condition_expression("attribute_not_exists(n) OR n < :limit")
            .expression_attribute_values(":exp", n(start + KEEP_SECONDS))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(i64::from(limit)))
            .send()
            .await;
        match out {
            Ok(_) => Ok(Slot::Taken),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(Slot::Full),
            Err(e) => Err(unexpected(DisplayErrorContext(e))),
        }
    }

    async fn give_back(&self, source: &str, taken_at: Timestamp) -> Result<(), StoreError> {
        let (sk, _) = minute(taken_at);
        let out = counter(self, source, sk)
            .update_expression("ADD n :minus_one")
            .condition_expression("n > :zero")
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match out {
            // Nothing to give back (the item expired): nothing to do.
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(()),
            Err(e) => Err(unexpected(DisplayErrorContext(e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_is_named_in_utc_and_starts_on_its_first_second() {
        let at: Timestamp = "2026-11-21T10:07:59.900+01:00".parse().unwrap();
        let (sk, start) = minute(at);
        assert_eq!(sk, "MINUTE#2026-11-21T09:07");
        assert_eq!(
            start,
            "2026-11-21T09:07:00Z".parse::<Timestamp>().unwrap().as_second()
        );
    }
}
