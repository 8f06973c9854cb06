//! The freshness check's per-owner reminder state, in the one table.
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | reminder state of an owner | `REMINDER#<team>#<email>` | `STATE` | `version`, `reminded_at`, `reminded`, `escalated_at`, `escalated`, `owner_team`, `owner_email` |
//!
//! The item keys sent are 8-byte fingerprints packed into one binary
//! attribute each (a few thousand items stay a few KB). No index attribute is
//! set, so these items never show in the plan or workload indexes. Reads are
//! `BatchGetItem`s of the owners that have something due; every write is
//! conditional on the version read.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata as _};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;
use support_plans_domain::ports::StoreError;
use support_plans_domain::reminders::{OwnerKey, OwnerState, ReminderStates};

use crate::store::{DynamoStore, PK, SK};

type Item = HashMap<String, AttributeValue>;

pub const REMINDER_PREFIX: &str = "REMINDER#";
const STATE: &str = "STATE";

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn pk(owner: &OwnerKey) -> String {
    format!("{REMINDER_PREFIX}{}#{}", owner.team, owner.email)
}

fn key_of(owner: &OwnerKey) -> Item {
    [(PK.to_owned(), s(pk(owner))), (SK.to_owned(), s(STATE))].into()
}

fn unexpected(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unexpected(e.to_string().into())
}

fn pack(keys: &[u64]) -> Vec<u8> {
    keys.iter().flat_map(|k| k.to_be_bytes()).collect()
}

fn unpack(bytes: &[u8]) -> Vec<u64> {
    let mut keys: Vec<u64> = bytes
        .chunks_exact(8)
        .map(|c| u64::from_be_bytes(c.try_into().expect("chunks of 8")))
        .collect();
    keys.sort_unstable();
    keys
}

fn state_of(item: &Item) -> Result<OwnerState, StoreError> {
    let time = |name: &str| -> Result<Option<Timestamp>, StoreError> {
        match item.get(name) {
            Some(AttributeValue::S(t)) => t.parse().map(Some).map_err(unexpected),
            _ => Ok(None),
        }
    };
    let keys = |name: &str| match item.get(name) {
        Some(AttributeValue::B(b)) => unpack(b.as_ref()),
        _ => Vec::new(),
    };
    let version = match item.get("version") {
        Some(AttributeValue::N(n)) => n.parse().map_err(unexpected)?,
        _ => return Err(unexpected("reminder state without a version")),
    };
    Ok(OwnerState {
        version,
        reminded_at: time("reminded_at")?,
        reminded: keys("reminded"),
        escalated_at: time("escalated_at")?,
        escalated: keys("escalated"),
    })
}

fn item_of(owner: &OwnerKey, state: &OwnerState) -> Item {
    let mut item = key_of(owner);
    item.insert("version".into(), AttributeValue::N(state.version.to_string()));
    item.insert("owner_team".into(), s(owner.team.as_str()));
    item.insert("owner_email".into(), s(owner.email.as_str()));
    if let Some(at) = state.reminded_at {
        item.insert("reminded_at".into(), s(at.to_string()));
    }
    if !state.reminded.is_empty() {
        item.insert(
            "reminded".into(),
            AttributeValue::B(Blob::new(pack(&state.reminded))),
        );
    }
    if let Some(at) = state.escalated_at {
        item.insert("escalated_at".into(), s(at.to_string()));
    }
    if !state.escalated.is_empty() {
        item.insert(
            "escalated".into(),
            AttributeValue::B(Blob::new(pack(&state.escalated))),
        );
    }
    item
}

impl ReminderStates for DynamoStore {
    async fn load(&self, owners: &[OwnerKey]) -> Result<(HashMap<OwnerKey, OwnerState>, usize), StoreError> {
        let by_pk: HashMap<String, &OwnerKey> = owners.iter().map(|o| (pk(o), o)).collect();
        let mut found = HashMap::new();
        let keys: Vec<Item> = by_pk.values().map(|o| key_of(o)).collect();
        let (items, reads) = self.batch_get(keys).await?;
        for item in items {
            let Some(AttributeValue::S(p)) = item.get(PK) else {
                continue;
            };
            if let Some(owner) = by_pk.get(p) {
                found.insert((*owner).clone(), state_of(&item)?);
            }
        }
        Ok((found, reads))
    }

    async fn save(&self, owner: &OwnerKey, state: &OwnerState, expected: u64) -> Result<(), StoreError> {
        let mut put = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item_of(owner, state)));
        put = if expected == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("#v = :v")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":v", AttributeValue::N(expected.to_string()))
        };
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Err(StoreError::Conflict {
                id: pk(owner),
                expected,
            }),
            Err(e) => Err(unexpected(DisplayErrorContext(e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_pack_and_unpack() {
        let keys = vec![1, u64::MAX, 0x0102_0304_0506_0708];
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(unpack(&pack(&keys)), sorted);
        assert_eq!(pack(&keys).len(), 24);
    }
}
