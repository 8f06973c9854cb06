//! Reminders that arrive (SPEC §14): the freshness check keeps the reminder
//! and escalation topics' `email` subscriptions in step with the active
//! plans, and records who can be reached.
//!
//! - Every owner address of an active plan wants an `email` subscription on
//!   the reminder topic with the filter policy `{"owner_email": [address]}`,
//!   every escalation address one on the escalation topic with
//!   `{"escalation_email": [address]}`. Addresses are compared exactly, as
//!   the filter policy compares the messages' attributes.
//! - Missing ones are created (SNS sends the owner a confirmation first);
//!   the ones the service created ([`Managed`], recorded in the table) for
//!   addresses that no longer own anything are removed; subscriptions made
//!   by hand are never touched.
//! - An address whose subscription is missing, still pending confirmation,
//!   or made by hand with a filter that drops its messages is *unreachable*.
//!
//! [`upkeep`] decides from what SNS lists and what the table records;
//! [`Keeper::run`] asks, decides, acts (or, dry, only reports) and records.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::future::Future;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::SupportPlan;
use crate::ports::StoreError;

/// The two topics whose subscriptions are kept.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Reminder,
    Escalation,
}

impl Topic {
    pub const ALL: [Topic; 2] = [Topic::Reminder, Topic::Escalation];

    /// The message attribute its subscriptions filter on.
    pub fn attribute(self) -> &'static str {
        match self {
            Self::Reminder => "owner_email",
            Self::Escalation => "escalation_email",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reminder => "reminder",
            Self::Escalation => "escalation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The subscription an address of an active plan needs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Wanted {
    pub topic: Topic,
    pub address: String,
}

impl Wanted {
    /// `{"<attribute>": ["<address>"]}`.
    pub fn filter_policy(&self) -> String {
        filter_policy(self.topic, &self.address)
    }
}

/// The filter policy the service gives `address`'s subscription on `topic`.
pub fn filter_policy(topic: Topic, address: &str) -> String {
    serde_json::json!({ topic.attribute(): [address] }).to_string()
}

/// The subscriptions the active plans need: each owner address on the
/// reminder topic, each escalation address on the escalation topic, once.
pub fn wanted(plans: &[SupportPlan]) -> BTreeSet<Wanted> {
    let mut out = BTreeSet::new();
    for p in plans.iter().filter(|p| p.is_active()) {
        let owner = &p.spec.owner;
        out.insert(Wanted {
            topic: Topic::Reminder,
            address: owner.email.to_string(),
        });
        if let Some(e) = &owner.escalation_email {
            out.insert(Wanted {
                topic: Topic::Escalation,
                address: e.to_string(),
            });
        }
    }
    out
}

/// One subscription as SNS lists it (`ListSubscriptionsByTopic`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// `None` while pending confirmation (SNS lists `PendingConfirmation`).
    pub arn: Option<String>,
    pub protocol: String,
    pub endpoint: String,
}

/// Whether an address's messages reach it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// A confirmed `email` subscription that lets its messages through.
    Confirmed,
    /// Subscribed; the owner has not yet followed SNS's confirmation link.
    PendingConfirmation,
    /// No `email` subscription for the address.
    NoSubscription,
    /// Only a subscription made by hand whose filter policy drops the
    /// address's messages (left alone: it is not the service's).
    FilteredOut,
}

impl Reach {
    pub fn is_reachable(self) -> bool {
        self == Self::Confirmed
    }

    /// For people: why the messages do not arrive.
    pub fn explain(self) -> &'static str {
        match self {
            Self::Confirmed => "subscribed and confirmed",
            Self::PendingConfirmation => {
                "subscribed, but the confirmation SNS e-mailed has not been followed yet"
            }
            Self::NoSubscription => "no e-mail subscription",
            Self::FilteredOut => {
                "the only subscription, made by hand, has a filter policy that drops these messages"
            }
        }
    }
}

/// What the table keeps per topic and address: the subscription the service
/// made (if it made one) and what the last check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub topic: Topic,
    pub address: String,
    /// The subscription the service created (SNS returns its ARN at once,
    /// even while pending); `None` when the address is served by hand.
    pub managed_arn: Option<String>,
    pub reach: Reach,
    pub checked_at: Timestamp,
}

/// The table's side: the records, read whole by the freshness check and one
/// by one by the plan read.
pub trait SubscriptionRecords: Send + Sync {
    /// Every record, and the number of reads it took.
    fn all_records(&self) -> impl Future<Output = Result<(Vec<Record>, usize), StoreError>> + Send;
    /// The records of `keys` that exist.
    fn records(&self, keys: &[(Topic, &str)])
    -> impl Future<Output = Result<Vec<Record>, StoreError>> + Send;
    fn save_record(&self, record: &Record) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn forget_record(
        &self,
        topic: Topic,
        address: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// An SNS call refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnsError {
    /// It will be refused again (no permission, a topic that does not
    /// exist, invalid parameters).
    #[error("refused: {0}")]
    Refused(String),
    /// Throttled, 5xx, a timeout: the next run tries again.
    #[error("failed: {0}")]
    Failed(String),
    /// Unsubscribing a subscription SNS no longer has.
    #[error("not found: {0}")]
    NotFound(String),
}

/// SNS's side, with the two topics' ARNs bound in.
pub trait Subscriptions: Send + Sync {
    /// Every subscription of `topic`, and the calls it took (one per page of 100).
    fn list(&self, topic: Topic) -> impl Future<Output = Result<(Vec<Listed>, usize), SnsError>> + Send;
    /// The filter policy of a confirmed subscription (`None`: none set).
    fn filter_policy(&self, arn: &str) -> impl Future<Output = Result<Option<String>, SnsError>> + Send;
    /// Subscribes `address` (protocol `email`) with `filter_policy`; the ARN,
    /// returned at once even though the subscription is pending.
    fn subscribe(
        &self,
        topic: Topic,
        address: &str,
        filter_policy: &str,
    ) -> impl Future<Output = Result<String, SnsError>> + Send;
    fn unsubscribe(&self, arn: &str) -> impl Future<Output = Result<(), SnsError>> + Send;
}

/// Whether a filter policy (JSON, attribute scope) lets through messages
/// whose `attribute` is `address`: no policy does, nor one that does not
/// select by that attribute (it filters on `kind` or `owner_team`, which
/// the service's messages carry too); one that names the attribute must
/// list the address (exactly, or as `equals-ignore-case`). A policy that
/// is not JSON lets nothing through.
pub fn lets_through(policy: Option<&str>, attribute: &str, address: &str) -> bool {
    let Some(policy) = policy.map(str::trim).filter(|p| !p.is_empty()) else {
        return true;
    };
    let Ok(Value::Object(keys)) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    let Some(rule) = keys.get(attribute) else {
        return true;
    };
    let values = match rule {
        Value::Array(v) => v.as_slice(),
        one => std::slice::from_ref(one),
    };
    values.iter().any(|v| match v {
        Value::String(s) => s == address,
        Value::Object(o) => o
            .get("equals-ignore-case")
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case(address)),
        _ => false,
    })
}

/// The subscriptions of one topic, by address (`email` ones only).
#[derive(Debug, Default)]
struct ByAddress<'a> {
    pending: BTreeSet<&'a str>,
    confirmed: BTreeMap<&'a str, Vec<&'a str>>,
    arns: BTreeSet<&'a str>,
}

impl<'a> ByAddress<'a> {
    fn of(listed: &'a [Listed]) -> Self {
        let mut s = Self::default();
        for l in listed.iter().filter(|l| l.protocol == "email") {
            match &l.arn {
                None => {
                    s.pending.insert(&l.endpoint);
                }
                Some(arn) => {
                    s.confirmed.entry(&l.endpoint).or_default().push(arn);
                    s.arns.insert(arn);
                }
            }
        }
        s
    }
}

/// One change upkeep makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub topic: Topic,
    pub address: String,
}

/// What [`upkeep`] decided for one topic, before the hand-made confirmed
/// subscriptions' filter policies are known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Wanted addresses with no subscription of any kind: create.
    pub create: Vec<Wanted>,
    /// Managed subscriptions of addresses no longer wanted: `(record, ARN)`.
    pub remove: Vec<Record>,
    /// Records of managed subscriptions SNS no longer has (it drops an
    /// unconfirmed one after 48 hours), for addresses no longer wanted.
    pub forget: Vec<Record>,
    /// What each wanted address's subscriptions say, where it is known now.
    pub reach: BTreeMap<Wanted, Reach>,
    /// Wanted addresses with only hand-made confirmed subscriptions: their
    /// filter policies decide (`(wanted, ARNs)`).
    pub ask: Vec<(Wanted, Vec<String>)>,
}

/// Decides one topic's upkeep from what SNS lists, what the table records
/// and what the plans want. `manage` false: nothing is created or removed,
/// reachability is still found.
pub fn upkeep(
    topic: Topic,
    wanted: &BTreeSet<Wanted>,
    listed: &[Listed],
    records: &[Record],
    manage: bool,
) -> Plan {
    let by = ByAddress::of(listed);
    let ours: HashMap<&str, &Record> = records
        .iter()
        .filter(|r| r.topic == topic)
        .filter_map(|r| r.managed_arn.as_deref().map(|_| (r.address.as_str(), r)))
        .collect();
    let mut plan = Plan::default();
    for w in wanted.iter().filter(|w| w.topic == topic) {
        let address = w.address.as_str();
        let confirmed = by.confirmed.get(address);
        let mine = ours
            .get(address)
            .and_then(|r| r.managed_arn.as_deref())
            .filter(|arn| confirmed.is_some_and(|c| c.contains(arn)));
        if mine.is_some() {
            plan.reach.insert(w.clone(), Reach::Confirmed);
        } else if let Some(hand_made) = confirmed {
            plan.ask
                .push((w.clone(), hand_made.iter().map(|a| a.to_string()).collect()));
        } else if by.pending.contains(address) {
            plan.reach.insert(w.clone(), Reach::PendingConfirmation);
        } else {
            plan.reach.insert(w.clone(), Reach::NoSubscription);
            if manage {
                plan.create.push(w.clone());
            }
        }
    }
    if manage {
        for r in ours.values() {
            let still = wanted.contains(&Wanted {
                topic,
                address: r.address.clone(),
            });
            if still {
                continue;
            }
            let arn = r.managed_arn.as_deref().unwrap_or_default();
            // Confirmed under its ARN: remove it. Still pending: SNS lets
            // nobody delete it and drops it after 48 hours by itself, so it
            // is left (and its record kept: confirmed meanwhile, it is
            // removed next time). Gone: forget the record.
            if by.arns.contains(arn) {
                plan.remove.push((*r).clone());
            } else if !by.pending.contains(r.address.as_str()) {
                plan.forget.push((*r).clone());
            }
        }
        plan.remove.sort_by(|a, b| a.address.cmp(&b.address));
        plan.forget.sort_by(|a, b| a.address.cmp(&b.address));
    }
    plan
}

/// What a run of upkeep did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The addresses the active plans need reached: owners on the reminder
    /// topic, escalation contacts on the escalation topic.
    pub addresses: usize,
    /// Subscriptions created (dry: to create); SNS sends each a confirmation.
    pub created: Vec<Change>,
    /// Managed subscriptions removed (dry: to remove).
    pub removed: Vec<Change>,
    /// Owner addresses (reminder topic) not reachable, with why.
    pub owners_unreachable: BTreeMap<String, Reach>,
    /// Escalation addresses (escalation topic) not reachable, with why.
    pub escalations_unreachable: BTreeMap<String, Reach>,
    /// Owner addresses the last look found unreachable and this one
    /// reachable: the reminders before went nowhere, so they are reminded
    /// at once.
    pub owners_now_reachable: BTreeSet<String>,
    /// SNS calls made: list pages, filter policies read, subscribes, unsubscribes.
    pub sns_calls: usize,
    /// Table requests: the records read and written.
    pub table_requests: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
}

impl Report {
    /// Why the owner `address` is unreachable, if it is.
    pub fn owner_unreachable(&self, address: &str) -> Option<Reach> {
        self.owners_unreachable.get(address).copied()
    }
}

/// Upkeep over its ports.
#[derive(Debug)]
pub struct Keeper<'a, S, R> {
    pub sns: &'a S,
    pub records: &'a R,
    /// `ManageSubscriptions`: false finds reachability only.
    pub manage: bool,
}

/// What SNS and the table say, read once per run before the plans: the
/// table's records, each topic's subscriptions (`None`: SNS could not list
/// it, and the topic is left for the next run), the hand-made
/// subscriptions' verdicts as asked, and every address wanted so far.
#[derive(Debug, Default)]
pub struct Look {
    records: Vec<Record>,
    listed: [Option<Vec<Listed>>; 2],
    hand_made: HashMap<Wanted, Reach>,
    wanted: BTreeSet<Wanted>,
    report: Report,
}

fn by_key(records: &[Record]) -> HashMap<(Topic, &str), &Record> {
    records
        .iter()
        .map(|r| ((r.topic, r.address.as_str()), r))
        .collect()
}

fn slot(topic: Topic) -> usize {
    match topic {
        Topic::Reminder => 0,
        Topic::Escalation => 1,
    }
}

impl<S: Subscriptions, R: SubscriptionRecords> Keeper<'_, S, R> {
    /// Keeps both topics in step with `plans`: [`Self::look`], [`Self::reach`]
    /// over all of them, [`Self::finish`].
    pub async fn run(
        &self,
        plans: &[SupportPlan],
        now: Timestamp,
        dry_run: bool,
    ) -> Result<Report, StoreError> {
        let mut look = self.look().await?;
        self.reach(&mut look, plans).await;
        Ok(self.finish(look, now, dry_run).await)
    }

    /// Reads the records (one table read) and lists both topics. A topic SNS
    /// cannot list is reported in `failures` and left for the next run.
    pub async fn look(&self) -> Result<Look, StoreError> {
        let (records, reads) = self.records.all_records().await?;
        let mut look = Look {
            records,
            report: Report {
                table_requests: reads,
                ..Report::default()
            },
            ..Look::default()
        };
        for topic in Topic::ALL {
            match self.sns.list(topic).await {
                Ok((listed, calls)) => {
                    look.report.sns_calls += calls;
                    look.listed[slot(topic)] = Some(listed);
                }
                Err(e) => look
                    .report
                    .failures
                    .push(format!("listing the {topic} topic: {e}")),
            }
        }
        Ok(look)
    }

    /// Whether the addresses of `plans` will be reached once upkeep is done
    /// (a subscription to create will be pending confirmation), for the
    /// reminders of these plans' owners; the addresses are remembered as
    /// wanted for [`Self::finish`]. Asks SNS only for hand-made confirmed
    /// subscriptions' filter policies, once per address.
    pub async fn reach(&self, look: &mut Look, plans: &[SupportPlan]) -> Report {
        let batch = wanted(plans);
        let mut out = Report {
            addresses: batch.len(),
            ..Report::default()
        };
        for topic in Topic::ALL {
            let Some(listed) = look.listed[slot(topic)].as_ref() else {
                continue;
            };
            let plan = upkeep(topic, &batch, listed, &look.records, self.manage);
            let mut reach = plan.reach;
            for w in plan.create {
                reach.insert(w, Reach::PendingConfirmation);
            }
            for (w, arns) in plan.ask {
                let r = match look.hand_made.get(&w) {
                    Some(r) => *r,
                    None => {
                        let r = self.hand_made(&w, &arns, &mut look.report).await;
                        look.hand_made.insert(w.clone(), r);
                        r
                    }
                };
                reach.insert(w, r);
            }
            let known = by_key(&look.records);
            tell(&mut out, topic, &reach, &known);
        }
        look.wanted.extend(batch);
        out
    }

    /// Creates what is missing and removes what is no longer wanted, for
    /// every address [`Self::reach`] saw, and records what it found. A dry
    /// run decides and reports, and changes nothing, in SNS or in the table.
    /// A failed call fails that address only.
    pub async fn finish(&self, look: Look, now: Timestamp, dry_run: bool) -> Report {
        let Look {
            records,
            listed,
            hand_made,
            wanted,
            mut report,
        } = look;
        report.addresses = wanted.len();
        let known = by_key(&records);
        for topic in Topic::ALL {
            let Some(listed) = listed[slot(topic)].as_ref() else {
                continue;
            };
            let plan = upkeep(topic, &wanted, listed, &records, self.manage);
            let mut reach = plan.reach;
            for (w, _) in plan.ask {
                // Every wanted address went through `reach`, which asked.
                let r = hand_made.get(&w).copied().unwrap_or(Reach::Confirmed);
                reach.insert(w, r);
            }
            let mut created: HashMap<String, String> = HashMap::new();
            for w in plan.create {
                report.created.push(Change {
                    topic,
                    address: w.address.clone(),
                });
                if dry_run {
                    // What it would be: SNS asks the address to confirm.
                    reach.insert(w, Reach::PendingConfirmation);
                    continue;
                }
                report.sns_calls += 1;
                match self.sns.subscribe(topic, &w.address, &w.filter_policy()).await {
                    Ok(arn) => {
                        created.insert(w.address.clone(), arn);
                        reach.insert(w, Reach::PendingConfirmation);
                    }
                    Err(e) => {
                        report.created.pop();
                        report
                            .failures
                            .push(format!("subscribing {} to the {topic} topic: {e}", w.address));
                    }
                }
            }
            for r in plan.remove {
                report.removed.push(Change {
                    topic,
                    address: r.address.clone(),
                });
                if dry_run {
                    continue;
                }
                report.sns_calls += 1;
                let arn = r.managed_arn.as_deref().unwrap_or_default();
                match self.sns.unsubscribe(arn).await {
                    Ok(()) | Err(SnsError::NotFound(_)) => {
                        self.forget(&r, &mut report).await;
                    }
                    Err(e) => {
                        report.removed.pop();
                        report
                            .failures
                            .push(format!("unsubscribing {} from the {topic} topic: {e}", r.address));
                    }
                }
            }
            if !dry_run {
                for r in &plan.forget {
                    self.forget(r, &mut report).await;
                }
            }
            tell(&mut report, topic, &reach, &known);
            for (w, r) in reach {
                let before = known.get(&(topic, w.address.as_str()));
                if dry_run {
                    continue;
                }
                let managed_arn = created
                    .remove(&w.address)
                    .or_else(|| before.and_then(|b| b.managed_arn.clone()))
                    // A managed subscription SNS no longer has is not ours any more.
                    .filter(|_| r != Reach::NoSubscription);
                let next = Record {
                    topic,
                    address: w.address.clone(),
                    managed_arn,
                    reach: r,
                    checked_at: now,
                };
                let same = before.is_some_and(|b| b.reach == next.reach && b.managed_arn == next.managed_arn);
                if same {
                    continue;
                }
                report.table_requests += 1;
                if let Err(e) = self.records.save_record(&next).await {
                    report
                        .failures
                        .push(format!("recording {} on the {topic} topic: {e}", next.address));
                }
            }
        }
        report
    }

    /// An address served only by subscriptions made by hand: reachable if
    /// any lets its messages through.
    async fn hand_made(&self, w: &Wanted, arns: &[String], report: &mut Report) -> Reach {
        for arn in arns {
            report.sns_calls += 1;
            match self.sns.filter_policy(arn).await {
                Ok(p) if lets_through(p.as_deref(), w.topic.attribute(), &w.address) => {
                    return Reach::Confirmed;
                }
                Ok(_) => {}
                Err(e) => {
                    report.failures.push(format!(
                        "reading the filter policy of {}'s subscription: {e}",
                        w.address
                    ));
                    // Confirmed and there: do not call it unreachable on a
                    // failed read.
                    return Reach::Confirmed;
                }
            }
        }
        Reach::FilteredOut
    }

    async fn forget(&self, r: &Record, report: &mut Report) {
        report.table_requests += 1;
        if let Err(e) = self.records.forget_record(r.topic, &r.address).await {
            report.failures.push(format!(
                "forgetting {}'s subscription on the {} topic: {e}",
                r.address, r.topic
            ));
        }
    }
}

/// Adds `reach` (one topic's addresses) to `report`: who is unreachable,
/// and which owners the last look found unreachable and this one reachable.
fn tell(
    report: &mut Report,
    topic: Topic,
    reach: &BTreeMap<Wanted, Reach>,
    known: &HashMap<(Topic, &str), &Record>,
) {
    for (w, r) in reach {
        let unreachable = match topic {
            Topic::Reminder => &mut report.owners_unreachable,
            Topic::Escalation => &mut report.escalations_unreachable,
        };
        if !r.is_reachable() {
            unreachable.insert(w.address.clone(), *r);
        }
        let before = known.get(&(topic, w.address.as_str()));
        if topic == Topic::Reminder && r.is_reachable() && before.is_some_and(|b| !b.reach.is_reachable()) {
            report.owners_now_reachable.insert(w.address.clone());
        }
    }
}

/// Reachability of one plan's owner and escalation addresses, for the plan
/// read and the support card; `None` when not checked yet.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressReach {
    pub topic: Topic,
    pub address: String,
    /// Null: the freshness check has not looked at this address yet.
    pub reach: Option<Reach>,
    pub reachable: Option<bool>,
    pub checked_at: Option<Timestamp>,
}

impl AddressReach {
    pub fn of(topic: Topic, address: &str, records: &[Record]) -> Self {
        let r = records.iter().find(|r| r.topic == topic && r.address == address);
        Self {
            topic,
            address: address.to_owned(),
            reach: r.map(|r| r.reach),
            reachable: r.map(|r| r.reach.is_reachable()),
            checked_at: r.map(|r| r.checked_at),
        }
    }

    /// True only when checked and found unreachable.
    pub fn is_unreachable(&self) -> bool {
        self.reachable == Some(false)
    }
}

/// A plan's addresses and what the table says of them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanReach {
    pub owner: AddressReach,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalation: Option<AddressReach>,
}

impl PlanReach {
    /// The keys to read for `plan`.
    pub fn keys(plan: &SupportPlan) -> Vec<(Topic, String)> {
        let o = &plan.spec.owner;
        let mut keys = vec![(Topic::Reminder, o.email.to_string())];
        if let Some(e) = &o.escalation_email {
            keys.push((Topic::Escalation, e.to_string()));
        }
        keys
    }

    pub fn of(plan: &SupportPlan, records: &[Record]) -> Self {
        let o = &plan.spec.owner;
        Self {
            owner: AddressReach::of(Topic::Reminder, o.email.as_str(), records),
            escalation: o
                .escalation_email
                .as_ref()
                .map(|e| AddressReach::of(Topic::Escalation, e.as_str(), records)),
        }
    }

    /// Reads `plan`'s records (one batch) and tells.
    pub async fn read(plan: &SupportPlan, store: &impl SubscriptionRecords) -> Result<Self, StoreError> {
        let keys = Self::keys(plan);
        let refs: Vec<(Topic, &str)> = keys.iter().map(|(t, a)| (*t, a.as_str())).collect();
        let records = store.records(&refs).await?;
        Ok(Self::of(plan, &records))
    }
}

/// The owner addresses of `plans` (active ones) that the records show as
/// unreachable: readiness's `owners_unreachable`.
pub fn owners_unreachable(plans: &[SupportPlan], records: &[Record]) -> u64 {
    let bad = crate::readiness::unreachable_owners(records);
    let owners: BTreeSet<&str> = plans
        .iter()
        .filter(|p| p.is_active())
        .map(|p| p.spec.owner.email.as_str())
        .filter(|e| bad.contains(e))
        .collect();
    owners.len() as u64
}
