//! Exactly-once posting (SPEC §4): before the responder posts a part of its
//! answer to an incident (a plan's note, a related item, the chat message to
//! one topic), it claims that part with a conditional write; after, it marks
//! it done. A claim whose lease ran out (its invocation died) can be taken
//! over; a failed part is released at once so a retry can take it. Claims
//! expire through the table's TTL.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use jiff::{SignedDuration, Timestamp};

const IN_PROGRESS: &str = "IN_PROGRESS";
const DONE: &str = "DONE";
/// Written once every part of an incident is done; the sweep skips those.
pub const COMPLETE: &str = "COMPLETE";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Ours: post, then `done` (or `release` on failure).
    Acquired,
    /// Already posted.
    Done,
    /// Another invocation holds it now.
    Busy,
}

#[derive(Debug, thiserror::Error)]
#[error("claim store failed: {0}")]
pub struct ClaimError(String);

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

#[derive(Debug, Clone)]
pub struct Claims {
    client: Client,
    table: String,
    /// How long a claim is held before another invocation may take it over.
    pub lease: Duration,
    /// How long claims are kept (the table's TTL removes them after).
    pub keep: Duration,
}

impl Claims {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            lease: Duration::from_secs(120),
            keep: Duration::from_secs(14 * 24 * 3600),
        }
    }

    fn pk(incident: &str) -> String {
        format!("CLAIM#{incident}")
    }

    /// Claims `part` of `incident` at `now`.
    pub async fn claim(&self, incident: &str, part: &str, now: Timestamp) -> Result<Claim, ClaimError> {
        let lease_until =
            now + SignedDuration::try_from(self.lease).unwrap_or(SignedDuration::from_secs(120));
        let expires =
            now + SignedDuration::try_from(self.keep).unwrap_or(SignedDuration::from_hours(24 * 14));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(Self::pk(incident)))
            .item("sk", s(part))
            .item("status", s(IN_PROGRESS))
            .item("lease_until", n(lease_until.as_second()))
            .item("expires_at", n(expires.as_second()))
            .condition_expression("attribute_not_exists(pk) OR (#st = :ip AND lease_until < :now)")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":ip", s(IN_PROGRESS))
            .expression_attribute_values(":now", n(now.as_second()))
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Acquired),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                let done = match e.as_service_error() {
                    Some(
                        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(
                            c,
                        ),
                    ) => match c.item().and_then(|i| i.get("status")) {
                        Some(AttributeValue::S(st)) => Some(st == DONE),
                        _ => None,
                    },
                    _ => None,
                };
                match done {
                    Some(true) => Ok(Claim::Done),
                    Some(false) => Ok(Claim::Busy),
                    // The old item was not returned: read it.
                    None => Ok(if self.is_done(incident, part).await? {
                        Claim::Done
                    } else {
                        Claim::Busy
                    }),
                }
            }
            Err(e) => Err(ClaimError(DisplayErrorContext(e).to_string())),
        }
    }

    /// Marks `part` posted.
    pub async fn done(&self, incident: &str, part: &str) -> Result<(), ClaimError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(Self::pk(incident)))
            .key("sk", s(part))
            .update_expression("SET #st = :done REMOVE lease_until")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":done", s(DONE))
            .send()
            .await
            .map_err(|e| ClaimError(DisplayErrorContext(e).to_string()))?;
        Ok(())
    }

    /// Gives `part` up after a failure, so that a retry may take it at once.
    pub async fn release(&self, incident: &str, part: &str) -> Result<(), ClaimError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(Self::pk(incident)))
            .key("sk", s(part))
            .condition_expression("#st = :ip")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":ip", s(IN_PROGRESS))
            .send()
            .await
            .map(|_| ())
            .or_else(|e| {
                if e.code() == Some("ConditionalCheckFailedException") {
                    Ok(())
                } else {
                    Err(ClaimError(DisplayErrorContext(e).to_string()))
                }
            })
    }

    pub async fn is_done(&self, incident: &str, part: &str) -> Result<bool, ClaimError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(Self::pk(incident)))
            .key("sk", s(part))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ClaimError(DisplayErrorContext(e).to_string()))?;
        Ok(
            matches!(out.item.as_ref().and_then(|i| i.get("status")), Some(AttributeValue::S(st)) if st == DONE),
        )
    }

    /// Records that every part of `incident` is done.
    pub async fn complete(&self, incident: &str, now: Timestamp) -> Result<(), ClaimError> {
        let expires =
            now + SignedDuration::try_from(self.keep).unwrap_or(SignedDuration::from_hours(24 * 14));
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(Self::pk(incident)))
            .item("sk", s(COMPLETE))
            .item("status", s(DONE))
            .item("expires_at", n(expires.as_second()))
            .send()
            .await
            .map_err(|e| ClaimError(DisplayErrorContext(e).to_string()))?;
        Ok(())
    }

    /// Of `incidents`, those already complete (one batch read per 100).
    pub async fn completed(&self, incidents: &[String]) -> Result<Vec<String>, ClaimError> {
        let mut done = Vec::new();
        for chunk in incidents.chunks(100) {
            let keys = chunk
                .iter()
                .map(|i| [("pk".to_owned(), s(Self::pk(i))), ("sk".to_owned(), s(COMPLETE))].into())
                .collect();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .build()
                    .map_err(|e| ClaimError(e.to_string()))?,
            );
            while let Some(req) = request.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, req)
                    .send()
                    .await
                    .map_err(|e| ClaimError(DisplayErrorContext(e).to_string()))?;
                for item in out
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default()
                {
                    if let Some(AttributeValue::S(pk)) = item.get("pk") {
                        done.push(pk.trim_start_matches("CLAIM#").to_owned());
                    }
                }
                request = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table));
                if request.is_some() {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        Ok(done)
    }
}
