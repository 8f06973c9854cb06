//! Exactly-once posting (SPEC §4), one item per incident: `pk` `CLAIM#<incident>`,
//! `sk` `STATE`, holding which parts of the answer (a plan's note, its related
//! items, the chat message to one topic, the count) are done, which are
//! leased to an invocation posting them and until when, whether the answer is
//! complete, and a version. The responder reads it with the incident
//! ([`Claims::read`]), leases every part it may post with one conditional
//! write ([`Claims::take`]: optimistic, on the version read), posts, then
//! records what it posted, what was refused for good (SPEC §4 "Permanent
//! failures are not retried") and gives back what failed with one write
//! ([`Claims::settle_refusing`]). A lease that ran out (its invocation died)
//! can be taken over; it is counted from the invocation's start and outlives
//! the function's timeout ([`crate::deadlines`]), so a live invocation never
//! loses one. The item expires through the table's TTL (`expires_at`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValuesOnConditionCheckFailure};
use jiff::{SignedDuration, Timestamp};

use support_plans_domain::pipeline::Settlement;
pub use support_plans_domain::pipeline::{Claim, ClaimState};
use support_plans_domain::ports::{ClaimStore, PortError};

use crate::deadlines::LEASE;

/// The claim item's sort key.
const SK: &str = "STATE";

#[derive(Debug, thiserror::Error)]
#[error("claim store failed: {0}")]
pub struct ClaimError(String);

impl From<ClaimError> for PortError {
    fn from(e: ClaimError) -> Self {
        PortError::Retry(e.to_string())
    }
}

/// One incident's claim item as read.
fn state_of(item: &HashMap<String, AttributeValue>) -> ClaimState {
    let version = match item.get("version") {
        Some(AttributeValue::N(v)) => v.parse().ok(),
        _ => None,
    };
    let set = |name: &str| match item.get(name) {
        Some(AttributeValue::Ss(parts)) => parts.iter().cloned().collect(),
        _ => BTreeSet::new(),
    };
    let leases = match item.get("leases") {
        Some(AttributeValue::M(m)) => m
            .iter()
            .filter_map(|(part, until)| match until {
                AttributeValue::N(t) => t.parse().ok().map(|t| (part.clone(), t)),
                _ => None,
            })
            .collect(),
        _ => BTreeMap::new(),
    };
    ClaimState {
        // An item without a version (written by `settle` alone) is version 0.
        version: Some(version.unwrap_or(0)),
        done: set("done"),
        refused: set("refused"),
        leases,
        complete: matches!(item.get("complete"), Some(AttributeValue::Bool(true))),
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn failed(e: impl std::error::Error + 'static) -> ClaimError {
    ClaimError(DisplayErrorContext(e).to_string())
}

#[derive(Debug, Clone)]
pub struct Claims {
    client: Client,
    table: String,
    /// How long a part is leased, from the claiming invocation's start,
    /// before another invocation may take it over: [`LEASE`], longer than
    /// the function's timeout.
    pub lease: Duration,
    /// How long the item is kept (the table's TTL removes it after).
    pub keep: Duration,
}

impl Claims {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            lease: LEASE,
            keep: Duration::from_secs(14 * 24 * 3600),
        }
    }

    fn pk(incident: &str) -> String {
        format!("CLAIM#{incident}")
    }

    fn expires(&self, now: Timestamp) -> i64 {
        (now + SignedDuration::try_from(self.keep).unwrap_or(SignedDuration::from_hours(24 * 14))).as_second()
    }

    /// The incident's claim item (a consistent read); empty when there is none.
    #[tracing::instrument(skip(self), fields(table = %self.table))]
    pub async fn read(&self, incident: &str) -> Result<ClaimState, ClaimError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(Self::pk(incident)))
            .key("sk", s(SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(failed)?;
        Ok(out.item.as_ref().map(state_of).unwrap_or_default())
    }

    /// Leases, with one conditional write on `state`'s version, every one of
    /// `parts` neither done nor leased to another invocation at `now`; says
    /// for each part whether it is ours, done or busy. If the item changed
    /// since `state` was read, tries once more on what it holds now; if it
    /// changed again, the parts not done are busy (the sweep finishes them).
    ///
    /// `now` is the invocation's start, not the time of this call: the lease
    /// then ends [`LEASE`] after the invocation started, whatever it did
    /// before, and so after Lambda stopped it at the latest.
    #[tracing::instrument(skip(self, state, parts), fields(parts = parts.len()))]
    pub async fn take(
        &self,
        incident: &str,
        mut state: ClaimState,
        parts: &[String],
        now: Timestamp,
    ) -> Result<Vec<Claim>, ClaimError> {
        let now_s = now.as_second();
        let until = (now + SignedDuration::try_from(self.lease).unwrap_or(SignedDuration::from_secs(180)))
            .as_second();
        for _attempt in 0..2 {
            let claims: Vec<Claim> = parts.iter().map(|p| state.claim(p, now_s)).collect();
            if !claims.contains(&Claim::Acquired) {
                return Ok(claims);
            }
            // The leases still running, and ours.
            let mut leases: HashMap<String, AttributeValue> = state
                .leases
                .iter()
                .filter(|&(_, &t)| t > now_s)
                .map(|(p, &t)| (p.clone(), n(t)))
                .collect();
            for (part, claim) in parts.iter().zip(&claims) {
                if *claim == Claim::Acquired {
                    leases.insert(part.clone(), n(until));
                }
            }
            let next = state.version.map_or(1, |v| v + 1);
            let mut request = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(Self::pk(incident)))
                .key("sk", s(SK))
                .update_expression("SET leases = :leases, version = :next, expires_at = :exp")
                .expression_attribute_values(":leases", AttributeValue::M(leases))
                .expression_attribute_values(":next", n(i64::try_from(next).unwrap_or(i64::MAX)))
                .expression_attribute_values(":exp", n(self.expires(now)))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
            request = match state.version {
                None => request.condition_expression("attribute_not_exists(pk)"),
                // Version 0: an item `settle` wrote alone, without a version.
                Some(0) => {
                    request.condition_expression("attribute_exists(pk) AND attribute_not_exists(version)")
                }
                Some(v) => request
                    .condition_expression("version = :seen")
                    .expression_attribute_values(":seen", n(i64::try_from(v).unwrap_or(i64::MAX))),
            };
            match request.send().await {
                Ok(_) => return Ok(claims),
                Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                    // Someone wrote in between: what the item holds now.
                    let old = match e.as_service_error() {
                        Some(UpdateItemError::ConditionalCheckFailedException(c)) => c.item().map(state_of),
                        _ => None,
                    };
                    state = match old {
                        Some(old) => old,
                        None => self.read(incident).await?,
                    };
                }
                Err(e) => return Err(failed(e)),
            }
        }
        Ok(parts
            .iter()
            .map(|p| match state.claim(p, now_s) {
                Claim::Done => Claim::Done,
                Claim::Acquired | Claim::Busy => Claim::Busy,
            })
            .collect())
    }

    /// [`Claims::settle_refusing`] with nothing refused.
    pub async fn settle(
        &self,
        incident: &str,
        posted: &[&str],
        released: &[&str],
        complete: bool,
        now: Timestamp,
    ) -> Result<(), ClaimError> {
        self.settle_refusing(incident, posted, &[], released, complete, now)
            .await
    }

    /// After posting, in one write: `posted` parts done, `refused` parts
    /// recorded as refused for good (never taken again), `released` parts
    /// given back (a retry may take them at once), and the answer marked
    /// complete when nothing is left of it. Writes nothing when there is
    /// nothing to record.
    #[tracing::instrument(skip(self, posted, refused, released, now))]
    pub async fn settle_refusing(
        &self,
        incident: &str,
        posted: &[&str],
        refused: &[&str],
        released: &[&str],
        complete: bool,
        now: Timestamp,
    ) -> Result<(), ClaimError> {
        if posted.is_empty() && refused.is_empty() && released.is_empty() && !complete {
            return Ok(());
        }
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(Self::pk(incident)))
            .key("sk", s(SK))
            .expression_attribute_values(":exp", n(self.expires(now)));
        let mut set = vec!["expires_at = if_not_exists(expires_at, :exp)".to_owned()];
        if complete {
            set.push("complete = :true".into());
            request = request.expression_attribute_values(":true", AttributeValue::Bool(true));
        }
        let mut expression = format!("SET {}", set.join(", "));
        let gone: Vec<&str> = posted.iter().chain(refused).chain(released).copied().collect();
        if !gone.is_empty() {
            let names: Vec<String> = (0..gone.len()).map(|i| format!("#p{i}")).collect();
            for (name, part) in names.iter().zip(&gone) {
                request = request.expression_attribute_names(name, *part);
            }
            let paths: Vec<String> = names.iter().map(|name| format!("leases.{name}")).collect();
            expression.push_str(&format!(" REMOVE {}", paths.join(", ")));
            // Bumping the version makes a take that read the item before fail and read again.
            expression.push_str(" ADD version :one");
            request = request.expression_attribute_values(":one", n(1));
            if !posted.is_empty() {
                expression.push_str(", done :posted");
                request = request.expression_attribute_values(
                    ":posted",
                    AttributeValue::Ss(posted.iter().map(|p| (*p).to_owned()).collect()),
                );
            }
            if !refused.is_empty() {
                expression.push_str(", refused :refused");
                request = request.expression_attribute_values(
                    ":refused",
                    AttributeValue::Ss(refused.iter().map(|p| (*p).to_owned()).collect()),
                );
            }
        }
        request
            .update_expression(expression)
            .send()
            .await
            .map_err(failed)?;
        Ok(())
    }

    /// Of `incidents`, those whose answer is complete (one batch read per 100).
    #[tracing::instrument(skip_all, fields(incidents = incidents.len()))]
    pub async fn completed(&self, incidents: &[String]) -> Result<Vec<String>, ClaimError> {
        let mut done = Vec::new();
        for chunk in incidents.chunks(100) {
            let keys = chunk
                .iter()
                .map(|i| [("pk".to_owned(), s(Self::pk(i))), ("sk".to_owned(), s(SK))].into())
                .collect();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .projection_expression("pk, complete")
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
                    .map_err(failed)?;
                for item in out
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default()
                {
                    if let (Some(AttributeValue::S(pk)), Some(AttributeValue::Bool(true))) =
                        (item.get("pk"), item.get("complete"))
                    {
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

impl ClaimStore for Claims {
    async fn read(&self, key: &str) -> Result<ClaimState, PortError> {
        Ok(Claims::read(self, key).await?)
    }

    async fn take(
        &self,
        key: &str,
        state: ClaimState,
        parts: &[String],
        now: Timestamp,
    ) -> Result<Vec<Claim>, PortError> {
        Ok(Claims::take(self, key, state, parts, now).await?)
    }

    async fn settle(&self, key: &str, s: &Settlement, now: Timestamp) -> Result<(), PortError> {
        Ok(self
            .settle_refusing(
                key,
                &strs(&s.done),
                &strs(&s.refused),
                &strs(&s.released),
                s.complete,
                now,
            )
            .await?)
    }

    async fn completed(&self, keys: &[String]) -> Result<Vec<String>, PortError> {
        Ok(Claims::completed(self, keys).await?)
    }
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The claim rule itself is tested once, in the domain (`pipeline::claims`), on this
    /// same state; here only the item's reading into it.
    #[test]
    fn an_item_reads_back_as_the_claim_state_it_stores() {
        let item: HashMap<String, AttributeValue> = [
            ("version".to_owned(), n(3)),
            ("done".to_owned(), AttributeValue::Ss(vec!["NOTE#a".into()])),
            ("refused".to_owned(), AttributeValue::Ss(vec!["CHAT#gone".into()])),
            (
                "leases".to_owned(),
                AttributeValue::M([("NOTE#b".to_owned(), n(100)), ("NOTE#c".to_owned(), n(50))].into()),
            ),
        ]
        .into();
        let state = state_of(&item);
        assert_eq!(
            state,
            ClaimState {
                version: Some(3),
                done: ["NOTE#a".to_owned()].into(),
                refused: ["CHAT#gone".to_owned()].into(),
                leases: [("NOTE#b".to_owned(), 100), ("NOTE#c".to_owned(), 50)].into(),
                complete: false,
            }
        );
        assert!(!state.is_complete());
    }
}
