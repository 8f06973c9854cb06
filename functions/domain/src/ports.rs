//! What the domain needs from storage and from the services it talks to.
//! Adapters (DynamoDB, Incident Manager, SNS, in-memory) implement these; each
//! trait mirrors one slice of least-privilege access.

use std::future::Future;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;

use crate::model::{Change, Revision, Status, SupportPlan, Workload};
use crate::pipeline::{Claim, ClaimState, IncidentId, ReportedIncident, Settlement};
use crate::token::KeySet;
use crate::types::Slug;

pub const MAX_PAGE: u16 = 100;
pub const DEFAULT_PAGE: u16 = 50;

/// A page to read: at most `limit` items after `cursor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    limit: u16,
    after: Option<String>,
}

impl PageRequest {
    /// Checks `limit` (1–100) and decodes the opaque `cursor` of a previous page.
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, StoreError> {
        let limit = match limit {
            None => DEFAULT_PAGE,
            Some(n) if (1..=u32::from(MAX_PAGE)).contains(&n) => n as u16,
            Some(_) => return Err(StoreError::InvalidPage(format!("limit must be 1 to {MAX_PAGE}"))),
        };
        let after = cursor.map(decode_cursor).transpose()?;
        Ok(Self { limit, after })
    }

    pub fn first(limit: u16) -> Self {
        Self {
            limit: limit.clamp(1, MAX_PAGE),
            after: None,
        }
    }

    pub fn limit(&self) -> u16 {
        self.limit
    }

    /// The sort key (a plan id, a workload name, a version) the page starts after.
    pub fn after(&self) -> Option<&str> {
        self.after.as_deref()
    }
}

/// The opaque cursor for "after this key". Keys are slugs or version numbers,
/// so a decoded cursor is checked to be one before it is used.
pub fn encode_cursor(after: &str) -> String {
    URL_SAFE_NO_PAD.encode(after)
}

fn decode_cursor(cursor: &str) -> Result<String, StoreError> {
    let bad = || StoreError::InvalidPage("cursor is not one this API issued".into());
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let s = String::from_utf8(bytes).map_err(|_| bad())?;
    let is_version = !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    if Slug::parse(&s).is_ok() || is_version {
        Ok(s)
    } else {
        Err(bad())
    }
}

/// One page of results and the cursor of the next, if there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Which plans to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanFilter {
    All,
    /// The plans a workload depends on, in its dependency order.
    Workload(Slug),
    OwnerTeam(Slug),
    Status(Status),
}

/// Which workloads to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkloadFilter {
    All,
    OwnerTeam(Slug),
    Status(Status),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("'{0}' already exists")]
    AlreadyExists(String),
    #[error("'{0}' was not found")]
    NotFound(String),
    /// Someone else wrote first: the version read is no longer current.
    #[error("'{id}' changed since version {expected} was read")]
    Conflict { id: String, expected: u64 },
    #[error("{0}")]
    InvalidPage(String),
    #[error("storage failed: {0}")]
    Unexpected(#[source] Box<dyn std::error::Error + Send + Sync>),
}

type Res<T> = Result<T, StoreError>;

/// A filter applied to each record a list reads, beyond what its index
/// answers: the store reads on to fill the page (SPEC §3 "Filtered lists are
/// full pages").
pub type Keep<'a, R> = Option<&'a (dyn Fn(&R) -> bool + Send + Sync)>;

pub trait PlanStore: Send + Sync {
    /// Writes version 1; `AlreadyExists` if the id is taken.
    fn create_plan(&self, plan: &SupportPlan) -> impl Future<Output = Res<()>> + Send;
    fn get_plan(&self, id: &Slug) -> impl Future<Output = Res<Option<SupportPlan>>> + Send;
    /// Plans by id, in the order asked; ids that do not exist are left out.
    fn get_plans(&self, ids: &[Slug]) -> impl Future<Output = Res<Vec<SupportPlan>>> + Send;
    /// Writes `next` (version n+1) only if version n is still current, and
    /// keeps it in the history with `change`; `Conflict` otherwise.
    fn put_plan_version(&self, next: &SupportPlan, change: Change) -> impl Future<Output = Res<()>> + Send;
    /// Every stored version, newest first.
    fn plan_history(
        &self,
        id: &Slug,
        page: &PageRequest,
    ) -> impl Future<Output = Res<Page<Revision<SupportPlan>>>> + Send;
    fn list_plans(
        &self,
        filter: &PlanFilter,
        page: &PageRequest,
    ) -> impl Future<Output = Res<Page<SupportPlan>>> + Send {
        self.list_plans_where(filter, page, None)
    }
    /// The plans `filter` selects, of which only those `keep` accepts: a
    /// full page when the data allows, within the store's read budget.
    fn list_plans_where(
        &self,
        filter: &PlanFilter,
        page: &PageRequest,
        keep: Keep<'_, SupportPlan>,
    ) -> impl Future<Output = Res<Page<SupportPlan>>> + Send;
    /// Every plan with `status`, for whole-directory work (readiness, the
    /// freshness check), and the number of reads it took.
    fn all_plans(&self, status: Status) -> impl Future<Output = Res<(Vec<SupportPlan>, usize)>> + Send;
}

/// The active plans in owner order (SPEC §10, §15): read page by page, so
/// that whole-directory work (the freshness check, the readiness figures)
/// holds one page and one owner's plans at a time, whatever their number.
pub trait OwnerIndex: Send + Sync {
    /// One page of the active plans' digests ([`SupportPlan::digest`]), in
    /// [`SupportPlan::owner_key`] order, after `cursor` (a previous page's),
    /// and the next page's cursor if there is more.
    fn active_plans_by_owner(
        &self,
        cursor: Option<&str>,
    ) -> impl Future<Output = Res<(Vec<SupportPlan>, Option<String>)>> + Send;
    /// The ids of at most `limit` active plans whose owner address is `email`.
    fn active_plans_of(&self, email: &str, limit: u16) -> impl Future<Output = Res<Vec<Slug>>> + Send;
}

/// The owner index read page by page, in batches of whole owners: an
/// owner's plans that run on into the next page are held back and come
/// with it. Holds one page and one owner's plans at a time.
#[derive(Debug, Default)]
pub struct OwnerPages {
    cursor: Option<String>,
    carry: Vec<SupportPlan>,
    done: bool,
    /// The index queries made.
    pub reads: usize,
}

impl OwnerPages {
    /// The next batch (whole owners, in owner order); `None` at the end.
    pub async fn next(&mut self, store: &impl OwnerIndex) -> Res<Option<Vec<SupportPlan>>> {
        let owner = |p: &SupportPlan| (p.spec.owner.email.clone(), p.spec.owner.team.clone());
        loop {
            if self.done {
                return Ok((!self.carry.is_empty()).then(|| std::mem::take(&mut self.carry)));
            }
            let (page, next) = store.active_plans_by_owner(self.cursor.as_deref()).await?;
            self.reads += 1;
            self.carry.extend(page);
            self.done = next.is_none();
            self.cursor = next;
            if self.done {
                continue;
            }
            let Some(last) = self.carry.last().map(owner) else {
                continue;
            };
            let cut = self
                .carry
                .iter()
                .rposition(|p| owner(p) != last)
                .map_or(0, |i| i + 1);
            if cut > 0 {
                let rest = self.carry.split_off(cut);
                return Ok(Some(std::mem::replace(&mut self.carry, rest)));
            }
        }
    }
}

pub trait WorkloadStore: Send + Sync {
    fn create_workload(&self, workload: &Workload) -> impl Future<Output = Res<()>> + Send;
    fn get_workload(&self, name: &Slug) -> impl Future<Output = Res<Option<Workload>>> + Send;
    fn put_workload_version(&self, next: &Workload, change: Change) -> impl Future<Output = Res<()>> + Send;
    fn workload_history(
        &self,
        name: &Slug,
        page: &PageRequest,
    ) -> impl Future<Output = Res<Page<Revision<Workload>>>> + Send;
    fn list_workloads(
        &self,
        filter: &WorkloadFilter,
        page: &PageRequest,
    ) -> impl Future<Output = Res<Page<Workload>>> + Send {
        self.list_workloads_where(filter, page, None)
    }
    /// As [`PlanStore::list_plans_where`], for workloads.
    fn list_workloads_where(
        &self,
        filter: &WorkloadFilter,
        page: &PageRequest,
        keep: Keep<'_, Workload>,
    ) -> impl Future<Output = Res<Page<Workload>>> + Send;
    /// Every workload with `status` (matching, readiness), and the number of reads it took.
    fn all_workloads(&self, status: Status) -> impl Future<Output = Res<(Vec<Workload>, usize)>> + Send;
}

/// Whether an event got one of its key's slots for the minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Taken,
    /// Every slot of the minute is taken.
    Full,
}

/// Counters of events per key and minute, shared by every instance of a
/// function: the generic incidents' per-source limit (SPEC §4 trigger 4).
pub trait RateLimit: Send + Sync {
    /// Takes one of the `limit` slots of `key` in the minute `at` falls in
    /// (UTC), atomically: concurrent callers never get more than `limit`.
    fn take_slot(&self, key: &str, at: Timestamp, limit: u32) -> impl Future<Output = Res<Slot>> + Send;
    /// Gives back a slot taken at `taken_at` that paid for nothing.
    fn give_back(&self, key: &str, taken_at: Timestamp) -> impl Future<Output = Res<()>> + Send;
}

/// The Standard Webhooks ids already handed off (SPEC §11): `POST
/// /hooks/incident` refuses a delivery whose `webhook-id` was handed off
/// before, within the id's window ([`webhook::Verified::remember_until`]:
/// after it the delivery's timestamp is stale anyway, so the record may
/// expire, e.g. through the table's TTL).
///
/// An id is recorded only once its delivery was handed off, so a delivery
/// that failed for any reason (the hand-off, or the store itself answering
/// after its deadline) leaves nothing that would refuse the sender's
/// redelivery. Two deliveries of one id that overlap before either is
/// handed off are both handed off: the responder's claims post an incident's
/// parts once whatever the hand-offs (SPEC §4 "Exactly once").
///
/// [`webhook::Verified::remember_until`]: crate::webhook::Verified::remember_until
pub trait WebhookIds: Send + Sync {
    /// Whether a delivery of `id` was handed off and its record holds at `now`.
    fn handed_off_before(&self, id: &str, now: Timestamp) -> impl Future<Output = Res<bool>> + Send;
    /// Records that a delivery of `id` was handed off, until `until`;
    /// idempotent, so a retried call that had landed is no error.
    fn handed_off(&self, id: &str, until: Timestamp) -> impl Future<Output = Res<()>> + Send;
}

/// The hand-off of a verified webhook delivery to the incident responder
/// (SPEC §11): the responder is invoked asynchronously with `payload` (a
/// PagerDuty `{"pagerduty": {...}}` or a generic `Incident Started` event);
/// `Ok` once the invocation is queued. `Retry` when the sender should
/// deliver again (throttling, 5xx, a timeout), `Refused` when it never will
/// succeed (no such function, access denied): either is a 5xx to the sender.
pub trait HandOff: Send + Sync {
    fn hand_off(&self, payload: &serde_json::Value) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// A secret's text (SPEC §11: the webhook secrets), read as it is now; the
/// caller parses and caches it. `KeysError::Read` when it could not be read.
pub trait SecretText: Send + Sync {
    fn read_text(&self) -> impl Future<Output = Result<String, KeysError>> + Send;
}

/// Why the one-click verification keys could not be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum KeysError {
    #[error("reading the secret {id}: {detail}")]
    Read { id: String, detail: String },
    #[error("the secret {id} is unusable: {detail}")]
    Invalid { id: String, detail: String },
}

/// Where the one-click verification keys are kept (SPEC §5): one read
/// returns the key that signs and every key that verifies.
pub trait VerifyKeys: Send + Sync {
    fn read_keys(&self) -> impl Future<Output = Result<KeySet, KeysError>> + Send;
}

// ---- The incident pipeline's ports (SPEC §4, §11) ----------------------------
//
// Each failure says what the caller does next: `Refused` (permanent: recorded,
// never tried again) or `Retry` (throttling, 5xx, a timeout: given back).

/// A port call that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// The service refuses it and would again (access denied, no such
    /// topic, an invalid request): SPEC §4 "Permanent failures are not retried".
    #[error("{0}")]
    Refused(String),
    /// Worth another try.
    #[error("{0}")]
    Retry(String),
}

impl PortError {
    pub fn is_refused(&self) -> bool {
        matches!(self, Self::Refused(_))
    }
}

impl From<StoreError> for PortError {
    fn from(e: StoreError) -> Self {
        Self::Retry(e.to_string())
    }
}

type PortRes<T> = Result<T, PortError>;

/// Exactly once (SPEC §4): one claim item per incident, keyed by
/// [`IncidentId::key`](crate::pipeline::IncidentId::key), holding which parts
/// of the answer are done, refused, or leased to an invocation.
pub trait ClaimStore: Send + Sync {
    /// The incident's claims, read consistently; empty when there are none.
    fn read(&self, key: &str) -> impl Future<Output = PortRes<ClaimState>> + Send;
    /// Leases, with one conditional write on `state`'s version, every one of
    /// `parts` neither done nor leased to another invocation at `now` (the
    /// invocation's start); says for each whether it is ours, done or busy.
    fn take(
        &self,
        key: &str,
        state: ClaimState,
        parts: &[String],
        now: Timestamp,
    ) -> impl Future<Output = PortRes<Vec<Claim>>> + Send;
    /// In one write: parts done, refused for good, given back, and the
    /// answer complete. Writes nothing when the settlement is empty.
    fn settle(
        &self,
        key: &str,
        settlement: &Settlement,
        now: Timestamp,
    ) -> impl Future<Output = PortRes<()>> + Send;
    /// Of `keys`, those whose answer is complete (the sweep skips them).
    fn completed(&self, keys: &[String]) -> impl Future<Output = PortRes<Vec<String>>> + Send;
}

/// Where incidents are read: Incident Manager, PagerDuty.
pub trait IncidentSource: Send + Sync {
    /// The incident as the pipeline needs it; `None`: no such incident.
    fn read(&self, id: &IncidentId) -> impl Future<Output = PortRes<Option<ReportedIncident>>> + Send;
    /// The open incidents started since `since` (the reconciliation sweep).
    fn open_since(&self, since: Timestamp) -> impl Future<Output = PortRes<Vec<IncidentId>>> + Send;
}

/// Where an incident's notes and links are written.
pub trait IncidentSink: Send + Sync {
    /// The longest note text the sink takes for `incident`, in characters:
    /// the renderer cuts each plan at a step boundary below it. Incident
    /// Manager's is [`MAX_EVENT_DATA`](crate::post::MAX_EVENT_DATA); a sink
    /// that adds to the text (PagerDuty's marker line) leaves room for it.
    fn note_limit(&self, incident: &IncidentId) -> usize {
        let _ = incident;
        crate::post::MAX_EVENT_DATA
    }
    /// Whether the incident takes related links (Incident Manager's related
    /// items); without, the portals are only in the plans' notes.
    fn takes_links(&self, incident: &IncidentId) -> bool {
        let _ = incident;
        true
    }
    /// One note on the incident. `at` and `client_token` are the same on
    /// every try (the incident's start; derived from incident and part), so a
    /// sink that de-duplicates sees a retry as the request it took before.
    fn note(
        &self,
        incident: &IncidentId,
        text: &str,
        at: Timestamp,
        client_token: &str,
    ) -> impl Future<Output = PortRes<()>> + Send;
    /// One link (a portal where a case is opened) on the incident.
    fn link(
        &self,
        incident: &IncidentId,
        title: &str,
        url: &str,
        client_token: &str,
    ) -> impl Future<Output = PortRes<()>> + Send;
}

/// The chat message's way out (AWS Chatbot over SNS).
pub trait ChatPublisher: Send + Sync {
    /// Publishes `message` to `topic`; `Refused` when the topic refuses it for good.
    fn publish(&self, topic: &str, message: &str) -> impl Future<Output = PortRes<()>> + Send;
}

/// What the pipeline reads of the directory.
pub trait Directory: Send + Sync {
    /// Every active workload (matched against every incident).
    fn active_workloads(&self) -> impl Future<Output = Res<Vec<Workload>>> + Send;
    /// Plans by id, in the order asked; ids that do not exist are left out.
    fn plans(&self, ids: &[Slug]) -> impl Future<Output = Res<Vec<SupportPlan>>> + Send;
}

/// Counted events (CloudWatch metrics), each one when it happens.
pub trait Metrics: Send + Sync {
    fn count(&self, name: &'static str);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_forgeries() {
        let c = encode_cursor("aws-business");
        assert_eq!(
            PageRequest::parse(Some(10), Some(&c)).unwrap().after(),
            Some("aws-business")
        );
        for bad in [
            "!!",
            &URL_SAFE_NO_PAD.encode("PLAN#x\"}"),
            &URL_SAFE_NO_PAD.encode(""),
        ] {
            assert!(
                matches!(
                    PageRequest::parse(None, Some(bad)),
                    Err(StoreError::InvalidPage(_))
                ),
                "{bad}"
            );
        }
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(101), None).is_err());
        assert_eq!(PageRequest::parse(None, None).unwrap().limit(), DEFAULT_PAGE);
    }
}
