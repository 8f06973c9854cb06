//! What the freshness check knows of each address's SNS subscription (SPEC
//! §14), in the one table: the domain's [`SubscriptionRecords`] port.
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | one address on one topic | `SUBSCRIPTIONS` | `<topic>#<address>` (`reminder#…`, `escalation#…`) | `managed_arn` (only when the service made the subscription), `reach` (`confirmed`, `pending_confirmation`, `no_subscription`, `filtered_out`), `checked_at` (RFC 3339) |
//!
//! One partition holds them all (a few hundred addresses, small items), so
//! the freshness check reads them with one `Query`, every page; the plan
//! read gets its one or two with one `BatchGetItem`. Writes are plain
//! `PutItem` / `DeleteItem`: one freshness check runs at a time, and a
//! record is only what the last check found. Not in any index. The
//! functions' IAM limits these calls to the `SUBSCRIPTIONS` key
//! (`dynamodb:LeadingKeys`).

use std::collections::HashMap;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use support_plans_domain::ports::StoreError;
use support_plans_domain::reminders::subscriptions::{Reach, Record, SubscriptionRecords, Topic};

use crate::store::{DynamoStore, PK, SK};

type Item = HashMap<String, AttributeValue>;

/// The partition of every subscription record.
pub const SUBSCRIPTIONS: &str = "SUBSCRIPTIONS";

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn unexpected(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unexpected(e.to_string().into())
}

fn sk(topic: Topic, address: &str) -> String {
    format!("{topic}#{address}")
}

fn key_of(topic: Topic, address: &str) -> Item {
    [
        (PK.to_owned(), s(SUBSCRIPTIONS)),
        (SK.to_owned(), s(sk(topic, address))),
    ]
    .into()
}

fn reach_name(reach: Reach) -> String {
    match serde_json::to_value(reach) {
        Ok(serde_json::Value::String(name)) => name,
        _ => unreachable!("Reach serializes as a string"),
    }
}

fn item_of(r: &Record) -> Item {
    let mut item = key_of(r.topic, &r.address);
    if let Some(arn) = &r.managed_arn {
        item.insert("managed_arn".into(), s(arn));
    }
    item.insert("reach".into(), s(reach_name(r.reach)));
    item.insert("checked_at".into(), s(r.checked_at.to_string()));
    item
}

fn record_of(item: &Item) -> Result<Record, StoreError> {
    let text = |name: &str| match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.as_str()),
        _ => None,
    };
    let sk = text(SK).unwrap_or_default();
    // A topic name never holds '#'; an address may.
    let (topic, address) = sk
        .split_once('#')
        .and_then(|(t, a)| Topic::parse(t).map(|t| (t, a)))
        .ok_or_else(|| unexpected(format!("subscription record with sort key {sk:?}")))?;
    let reach = text("reach")
        .and_then(|r| serde_json::from_value::<Reach>(serde_json::Value::String(r.to_owned())).ok())
        .ok_or_else(|| unexpected(format!("subscription record {sk:?} without a known reach")))?;
    let checked_at = text("checked_at")
        .ok_or_else(|| unexpected(format!("subscription record {sk:?} without checked_at")))?
        .parse()
        .map_err(unexpected)?;
    Ok(Record {
        topic,
        address: address.to_owned(),
        managed_arn: text("managed_arn").map(str::to_owned),
        reach,
        checked_at,
    })
}

impl SubscriptionRecords for DynamoStore {
    async fn all_records(&self) -> Result<(Vec<Record>, usize), StoreError> {
        let mut records = Vec::new();
        let mut start: Option<Item> = None;
        let mut reads = 0;
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":pk", s(SUBSCRIPTIONS))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| unexpected(DisplayErrorContext(e)))?;
            reads += 1;
            for item in out.items.unwrap_or_default() {
                records.push(record_of(&item)?);
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok((records, reads)),
            }
        }
    }

    async fn records(&self, keys: &[(Topic, &str)]) -> Result<Vec<Record>, StoreError> {
        let wanted: Vec<Item> = keys.iter().map(|(t, a)| key_of(*t, a)).collect();
        let mut found: HashMap<String, Record> = HashMap::new();
        for item in self.batch_get(wanted).await?.0 {
            let r = record_of(&item)?;
            found.insert(sk(r.topic, &r.address), r);
        }
        let mut out: Vec<Record> = Vec::new();
        for (t, a) in keys {
            if let Some(r) = found.remove(&sk(*t, a)) {
                out.push(r);
            }
        }
        Ok(out)
    }

    async fn save_record(&self, record: &Record) -> Result<(), StoreError> {
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item_of(record)))
            .send()
            .await
            .map_err(|e| unexpected(DisplayErrorContext(e)))?;
        Ok(())
    }

    async fn forget_record(&self, topic: Topic, address: &str) -> Result<(), StoreError> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key_of(topic, address)))
            .send()
            .await
            .map_err(|e| unexpected(DisplayErrorContext(e)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(topic: Topic, address: &str, managed_arn: Option<&str>, reach: Reach) -> Record {
        Record {
            topic,
            address: address.into(),
            managed_arn: managed_arn.map(str::to_owned),
            reach,
            checked_at: "2026-12-02T08:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn an_item_reads_back_as_the_record_it_was_written_from() {
        for r in [
            record(
                Topic::Reminder,
                "team@example.com",
                Some("arn:aws:sns:us-east-1:1:t:1"),
                Reach::PendingConfirmation,
            ),
            // An address may hold '#'; the topic never does.
            record(Topic::Escalation, "lead#1@example.com", None, Reach::FilteredOut),
        ] {
            let item = item_of(&r);
            assert_eq!(record_of(&item).unwrap(), r);
        }
    }

    #[test]
    fn the_item_is_keyed_by_topic_and_address_and_says_reach_in_snake_case() {
        let item = item_of(&record(
            Topic::Reminder,
            "a@example.com",
            None,
            Reach::NoSubscription,
        ));
        assert_eq!(item[PK], s("SUBSCRIPTIONS"));
        assert_eq!(item[SK], s("reminder#a@example.com"));
        assert_eq!(item["reach"], s("no_subscription"));
        assert_eq!(item["checked_at"], s("2026-12-02T08:00:00Z"));
        assert!(
            !item.contains_key("managed_arn"),
            "no ARN attribute when served by hand"
        );
    }

    #[test]
    fn an_item_of_an_unknown_topic_or_reach_is_an_error_not_a_guess() {
        let mut item = item_of(&record(Topic::Reminder, "a@example.com", None, Reach::Confirmed));
        item.insert(SK.into(), s("chat#a@example.com"));
        assert!(record_of(&item).is_err());
        let mut item = item_of(&record(Topic::Reminder, "a@example.com", None, Reach::Confirmed));
        item.insert("reach".into(), s("maybe"));
        assert!(record_of(&item).is_err());
    }
}
