//! The Standard Webhooks ids already handed off (SPEC §11, `POST
//! /hooks/incident`), in the one table: the domain's [`WebhookIds`] port.
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | one delivery handed off | `WEBHOOK#<webhook-id>` | `STATE` | `expires_at` |
//!
//! `handed_off_before` is one consistent `GetItem` (an item whose
//! `expires_at` has passed does not count: the table's TTL deletes expired
//! items only eventually); `handed_off` one `PutItem`, which a retry repeats
//! harmlessly. `expires_at` (epoch seconds, the table's TTL attribute) is
//! the end of the id's window. Not in any index.

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;
use support_plans_domain::ports::{StoreError, WebhookIds};

use crate::store::{DynamoStore, PK, SK};

pub const WEBHOOK_PREFIX: &str = "WEBHOOK#";
const STATE: &str = "STATE";

fn unexpected(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unexpected(e.to_string().into())
}

fn key(id: &str) -> AttributeValue {
    AttributeValue::S(format!("{WEBHOOK_PREFIX}{id}"))
}

impl WebhookIds for DynamoStore {
    async fn handed_off_before(&self, id: &str, now: Timestamp) -> Result<bool, StoreError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(PK, key(id))
            .key(SK, AttributeValue::S(STATE.into()))
            .projection_expression("expires_at")
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unexpected(DisplayErrorContext(e)))?;
        let until = match out.item.as_ref().and_then(|item| item.get("expires_at")) {
            None => return Ok(false),
            Some(AttributeValue::N(n)) => n.parse::<i64>().ok(),
            Some(_) => None,
        };
        // An item without a readable window is held as a replay: it was written as one.
        Ok(until.is_none_or(|until| until >= now.as_second()))
    }

    async fn handed_off(&self, id: &str, until: Timestamp) -> Result<(), StoreError> {
        self.client()
            .put_item()
            .table_name(self.table())
            .item(PK, key(id))
            .item(SK, AttributeValue::S(STATE.into()))
            .item("expires_at", AttributeValue::N(until.as_second().to_string()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unexpected(DisplayErrorContext(e)))
    }
}
