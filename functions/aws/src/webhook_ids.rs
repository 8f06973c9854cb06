//! The Standard Webhooks ids already accepted (SPEC §11, `POST
//! /hooks/incident`), in the one table: the domain's [`WebhookIds`] port.
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | one accepted delivery | `WEBHOOK#<webhook-id>` | `STATE` | `expires_at` |
//!
//! `first_seen` is one conditional `PutItem` (no item, or one whose
//! `expires_at` has passed: the table's TTL deletes expired items only
//! eventually), so of concurrent deliveries of one id exactly one wins.
//! `expires_at` (epoch seconds, the table's TTL attribute) is the end of the
//! id's window. Not in any index.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata as _};
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
    async fn first_seen(&self, id: &str, now: Timestamp, until: Timestamp) -> Result<bool, StoreError> {
        let out = self
            .client()
            .put_item()
            .table_name(self.table())
            .item(PK, key(id))
            .item(SK, AttributeValue::S(STATE.into()))
            .item("expires_at", AttributeValue::N(until.as_second().to_string()))
            .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
            .expression_attribute_values(":now", AttributeValue::N(now.as_second().to_string()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(unexpected(DisplayErrorContext(e))),
        }
    }

    async fn forget(&self, id: &str) -> Result<(), StoreError> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .key(PK, key(id))
            .key(SK, AttributeValue::S(STATE.into()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unexpected(DisplayErrorContext(e)))
    }
}
