//! The DynamoDB store: one table (SPEC §7), defined in `template.yaml`.
//!
//! Items, all in one table:
//!
//! | item | pk | sk | index keys |
//! |---|---|---|---|
//! | current plan | `PLAN#<id>` | `CURRENT` | by-kind `PLAN`/id · by-owner-team `PLAN#<team>`/id · by-status `PLAN#<status>`/id · active only: by-owner `PLAN`/`<e-mail>#<team>#<id>` with the `digest` |
//! | plan version | `PLAN#<id>` | `V#<version, 20 digits>` | none (not in any index) |
//! | current workload | `WORKLOAD#<name>` | `CURRENT` | as plans, with `WORKLOAD` |
//! | workload version | `WORKLOAD#<name>` | `V#<version>` | none |
//!
//! Every write is a transaction of the current item, conditional on the
//! version read, and the new version's history item: both or neither. The
//! history item is itself conditional on not existing, a second guard: two
//! writers of version n+1 can never both land.
//! Lists read an index or the primary key; nothing scans the table. A list
//! filtered beyond what its index answers reads on to fill its page, within
//! [`FILTERED_LIST_BUDGET`] (SPEC §3 "Filtered lists are full pages").

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem};
use serde::Serialize;
use serde::de::DeserializeOwned;
use support_plans_domain::model::{Change, Meta, Revision, Status, SupportPlan, Workload};
pub use support_plans_domain::ports::Keep;
use support_plans_domain::ports::{
    OwnerIndex, Page, PageRequest, PlanFilter, PlanStore, StoreError, WorkloadFilter, WorkloadStore,
    encode_cursor,
};
use support_plans_domain::types::Slug;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
const CURRENT: &str = "CURRENT";
const VERSION_PREFIX: &str = "V#";

/// The owner index's one partition: the active plans.
const OWNER_PARTITION: &str = "PLAN";
/// The current item's attribute holding the plan's digest (JSON).
const DIGEST: &str = "digest";

/// The table's global secondary indexes, as `template.yaml` defines them.
#[derive(Debug, Clone, Copy)]
enum Index {
    Kind,
    OwnerTeam,
    Status,
    /// Active plans only, by owner address, team and id; projects the digest.
    Owner,
}

impl Index {
    fn name(self) -> &'static str {
        match self {
            Index::Kind => "by-kind",
            Index::OwnerTeam => "by-owner-team",
            Index::Status => "by-status",
            Index::Owner => "by-owner",
        }
    }
    fn keys(self) -> (&'static str, &'static str) {
        match self {
            Index::Kind => ("gsi1pk", "gsi1sk"),
            Index::OwnerTeam => ("gsi2pk", "gsi2sk"),
            Index::Status => ("gsi3pk", "gsi3sk"),
            Index::Owner => ("gsi4pk", "gsi4sk"),
        }
    }
}

/// What the store needs to know of a plan or a workload.
trait Record: Serialize + DeserializeOwned + Send + Sync {
    const KIND: &'static str;
    fn key(&self) -> &str;
    fn team(&self) -> &str;
    fn status(&self) -> Status;
    fn meta(&self) -> &Meta;
    fn version(&self) -> u64 {
        self.meta().version
    }
    /// Attributes of the current item beyond the record and the three indexes.
    fn extra(&self, item: &mut Item) -> Result<(), StoreError> {
        let _ = item;
        Ok(())
    }
}

impl Record for SupportPlan {
    const KIND: &'static str = "PLAN";
    fn key(&self) -> &str {
        self.spec.id.as_str()
    }
    fn team(&self) -> &str {
        self.spec.owner.team.as_str()
    }
    fn status(&self) -> Status {
        self.spec.status
    }
    fn meta(&self) -> &Meta {
        &self.meta
    }
    /// An active plan is in the owner index with its digest (SPEC §15).
    fn extra(&self, item: &mut Item) -> Result<(), StoreError> {
        if self.is_active() {
            let (pk, sk) = Index::Owner.keys();
            item.insert(pk.into(), s(OWNER_PARTITION));
            item.insert(sk.into(), s(self.owner_key()));
            let digest = serde_json::to_string(&self.digest()).map_err(unexpected)?;
            item.insert(DIGEST.into(), s(digest));
        }
        Ok(())
    }
}

impl Record for Workload {
    const KIND: &'static str = "WORKLOAD";
    fn key(&self) -> &str {
        self.spec.name.as_str()
    }
    fn team(&self) -> &str {
        self.spec.owner.team.as_str()
    }
    fn status(&self) -> Status {
        self.status
    }
    fn meta(&self) -> &Meta {
        &self.meta
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn pk_of<R: Record>(key: &str) -> String {
    format!("{}#{key}", R::KIND)
}

fn version_sk(version: u64) -> String {
    format!("{VERSION_PREFIX}{version:020}")
}

fn unexpected(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unexpected(Box::new(e))
}

fn service_error<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    // DisplayErrorContext walks the source chain: "service error" alone says nothing.
    StoreError::Unexpected(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string().into())
}

/// The index key values of a current item.
fn index_values<R: Record>(r: &R, index: Index) -> (String, String) {
    match index {
        Index::Kind => (R::KIND.to_owned(), r.key().to_owned()),
        Index::OwnerTeam => (format!("{}#{}", R::KIND, r.team()), r.key().to_owned()),
        Index::Status => (format!("{}#{}", R::KIND, r.status()), r.key().to_owned()),
        Index::Owner => unreachable!("set by Record::extra"),
    }
}

fn record_value<R: Record>(r: &R) -> Result<AttributeValue, StoreError> {
    let item: Item = serde_dynamo::to_item(r).map_err(unexpected)?;
    Ok(AttributeValue::M(item))
}

fn current_item<R: Record>(r: &R) -> Result<Item, StoreError> {
    let mut item = Item::new();
    item.insert(PK.into(), s(pk_of::<R>(r.key())));
    item.insert(SK.into(), s(CURRENT));
    item.insert("version".into(), n(r.version()));
    for index in [Index::Kind, Index::OwnerTeam, Index::Status] {
        let (pk, sk) = index.keys();
        let (pv, sv) = index_values(r, index);
        item.insert(pk.into(), s(pv));
        item.insert(sk.into(), s(sv));
    }
    r.extra(&mut item)?;
    item.insert("record".into(), record_value(r)?);
    Ok(item)
}

/// A plan's current item exactly as the store writes it (keys, index keys,
/// the record): for loading a table in bulk (the scale benchmark).
pub fn current_plan_item(plan: &SupportPlan) -> Result<HashMap<String, AttributeValue>, StoreError> {
    current_item(plan)
}

/// A version's history item; who and when are the record's own `updated_by`/`updated_at`.
fn revision_item<R: Record>(r: &R, change: &Change) -> Result<Item, StoreError> {
    let mut item = Item::new();
    item.insert(PK.into(), s(pk_of::<R>(r.key())));
    item.insert(SK.into(), s(version_sk(r.version())));
    item.insert("version".into(), n(r.version()));
    item.insert(
        "change".into(),
        AttributeValue::M(serde_dynamo::to_item(change).map_err(unexpected)?),
    );
    item.insert("by".into(), s(r.meta().updated_by.as_str()));
    item.insert("at".into(), s(r.meta().updated_at.to_string()));
    item.insert("record".into(), record_value(r)?);
    Ok(item)
}

fn record_of<R: Record>(mut item: Item) -> Result<R, StoreError> {
    match item.remove("record") {
        Some(AttributeValue::M(map)) => serde_dynamo::from_item(map).map_err(unexpected),
        _ => Err(StoreError::Unexpected("stored item has no record".into())),
    }
}

fn revision_of<R: Record>(mut item: Item) -> Result<Revision<R>, StoreError> {
    let mut rev = Item::new();
    for key in ["version", "change", "by", "at", "record"] {
        if let Some(v) = item.remove(key) {
            rev.insert(key.into(), v);
        }
    }
    serde_dynamo::from_item(rev).map_err(unexpected)
}

/// How much one filtered list request may read (SPEC §3 "Filtered lists are
/// full pages"): `reads` requests (index queries, or batch reads of a
/// workload's plans) of at most `items_per_read` items each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadBudget {
    pub reads: usize,
    pub items_per_read: u16,
}

/// The budget of a list whose filter the index cannot answer alone: 10
/// reads of 100 items, so at most 1,000 plans examined per page. Each Query
/// returns at most 1 MB, so a request reads at most ~10 MB and makes 10
/// round trips (tens of milliseconds each in a region): within plans-api's
/// 10 s timeout and 128 MB with room to spare, whatever the plans' size. The
/// items kept are at most `limit` + 1; the others are dropped as read. A
/// page that runs out of budget returns what it found and a cursor.
pub const FILTERED_LIST_BUDGET: ReadBudget = ReadBudget {
    reads: 10,
    items_per_read: 100,
};

/// The adapter: a client built once per process and the table's name.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    budget: ReadBudget,
    /// The owner index's page size in items; `None`: DynamoDB's 1 MB pages.
    owner_page: Option<i32>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            budget: FILTERED_LIST_BUDGET,
            owner_page: None,
        }
    }

    /// The same store reading the owner index `items` at a time (tests that
    /// cross pages without a megabyte of plans).
    #[must_use]
    pub fn with_owner_page(mut self, items: u16) -> Self {
        self.owner_page = Some(i32::from(items.max(1)));
        self
    }

    /// The same store with another read budget for filtered lists (tests).
    #[must_use]
    pub fn with_read_budget(mut self, budget: ReadBudget) -> Self {
        self.budget = ReadBudget {
            reads: budget.reads.max(1),
            items_per_read: budget.items_per_read.clamp(1, 100),
        };
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// For the other adapters on the same table (reminder state, activity counts).
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn put(&self, item: Item, condition: &str) -> Put {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .build()
            .expect("table, item and condition are set")
    }

    async fn create<R: Record>(&self, r: &R) -> Result<(), StoreError> {
        let items = [
            self.put(current_item(r)?, "attribute_not_exists(pk)"),
            self.put(revision_item(r, &Change::Created)?, "attribute_not_exists(pk)"),
        ];
        match self.transact(items).await {
            Err(TxError::ConditionFailed) => Err(StoreError::AlreadyExists(r.key().to_owned())),
            Err(TxError::Other(e)) => Err(e),
            Ok(()) => Ok(()),
        }
    }

    async fn put_version<R: Record>(&self, next: &R, change: Change) -> Result<(), StoreError> {
        let expected =
            next.version().checked_sub(1).filter(|v| *v >= 1).ok_or_else(|| {
                StoreError::Unexpected("a new version must follow version 1 or later".into())
            })?;
        let current = Put::builder()
            .table_name(&self.table)
            .set_item(Some(current_item(next)?))
            .condition_expression("attribute_exists(pk) AND #v = :expected")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":expected", n(expected))
            .build()
            .expect("table, item and condition are set");
        let items = [
            current,
            self.put(revision_item(next, &change)?, "attribute_not_exists(pk)"),
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TxError::Other(e)) => Err(e),
            Err(TxError::ConditionFailed) => {
                // Tell "gone" from "someone else wrote first".
                match self.get::<R>(next.key()).await? {
                    None => Err(StoreError::NotFound(next.key().to_owned())),
                    Some(_) => Err(StoreError::Conflict {
                        id: next.key().to_owned(),
                        expected,
                    }),
                }
            }
        }
    }

    /// One write: the record and its history item, all or nothing. The SDK
    /// gives every call a `ClientRequestToken` (the model marks it as the
    /// idempotency token) and keeps it across its retries, so a retry of a
    /// write that committed but whose answer was lost is answered as the
    /// first call was, not as a lost race (tests/tests/retries.rs, against a
    /// local DynamoDB that honours the token as DynamoDB does).
    async fn transact(&self, puts: [Put; 2]) -> Result<(), TxError> {
        let items = puts
            .into_iter()
            .map(|p| TransactWriteItem::builder().put(p).build())
            .collect();
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = e.into_service_error();
                if let aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) = &e {
                    // A lost race: a condition failed, or another transaction
                    // held the item. Either way the caller's version is stale.
                    let lost = c.cancellation_reasons().iter().all(|r| {
                        matches!(r.code(), None | Some("None" | "ConditionalCheckFailed" | "TransactionConflict"))
                    });
                    if lost {
                        return Err(TxError::ConditionFailed);
                    }
                }
                Err(TxError::Other(unexpected(e)))
            }
        }
    }

    async fn get<R: Record>(&self, key: &str) -> Result<Option<R>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk_of::<R>(key)))
            .key(SK, s(CURRENT))
            .consistent_read(true)
            .send()
            .await
            .map_err(service_error)?;
        out.item.map(record_of).transpose()
    }

    /// Current records by key, in the order asked; missing keys left out.
    async fn get_many<R: Record>(&self, keys: &[Slug]) -> Result<Vec<R>, StoreError> {
        let wanted: Vec<Item> = keys
            .iter()
            .map(|k| {
                [
                    (PK.to_owned(), s(pk_of::<R>(k.as_str()))),
                    (SK.to_owned(), s(CURRENT)),
                ]
                .into()
            })
            .collect();
        let mut found: HashMap<String, R> = HashMap::new();
        for item in self.batch_get(wanted).await?.0 {
            let r: R = record_of(item)?;
            found.insert(r.key().to_owned(), r);
        }
        Ok(keys.iter().filter_map(|k| found.remove(k.as_str())).collect())
    }

    /// The items of `keys` that exist (strongly consistent), in no
    /// particular order, and the requests it took: `BatchGetItem` by 100
    /// keys, each key asked once (DynamoDB refuses a request naming one
    /// twice), unprocessed keys (throttling) asked again with backoff.
    pub(crate) async fn batch_get(&self, keys: Vec<Item>) -> Result<(Vec<Item>, usize), StoreError> {
        let mut unique: Vec<Item> = Vec::with_capacity(keys.len());
        for k in keys {
            if !unique.contains(&k) {
                unique.push(k);
            }
        }
        let (mut items, mut requests) = (Vec::new(), 0);
        for chunk in unique.chunks(100) {
            let mut wanted = chunk.to_vec();
            let mut attempt = 0u32;
            while !wanted.is_empty() {
                let req = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut wanted)))
                    .consistent_read(true)
                    .build()
                    .map_err(unexpected)?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, req)
                    .send()
                    .await
                    .map_err(service_error)?;
                requests += 1;
                items.extend(
                    out.responses
                        .and_then(|mut r| r.remove(&self.table))
                        .unwrap_or_default(),
                );
                if let Some(rest) = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                    wanted = rest.keys;
                    attempt += 1;
                    if attempt > 8 {
                        return Err(StoreError::Unexpected("batch read kept being throttled".into()));
                    }
                    // Unprocessed keys mean throttling: back off before asking again.
                    tokio::time::sleep(std::time::Duration::from_millis(25 * 2u64.pow(attempt))).await;
                }
            }
        }
        Ok((items, requests))
    }

    async fn history<R: Record>(
        &self,
        key: &str,
        page: &PageRequest,
    ) -> Result<Page<Revision<R>>, StoreError> {
        let pk = pk_of::<R>(key);
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :v)")
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":v", s(VERSION_PREFIX))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(i32::from(page.limit()) + 1);
        if let Some(after) = page.after() {
            let version: u64 = after
                .parse()
                .map_err(|_| StoreError::InvalidPage("cursor is not one this API issued".into()))?;
            q = q
                .exclusive_start_key(PK, s(&pk))
                .exclusive_start_key(SK, s(version_sk(version)));
        }
        let out = q.send().await.map_err(service_error)?;
        let more = out.last_evaluated_key.is_some();
        let revisions = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(revision_of)
            .collect::<Result<Vec<Revision<R>>, _>>()?;
        Ok(paged(revisions, page.limit(), more, |r| r.version.to_string()))
    }

    /// One page of the index partition `partition`. Without `keep`, one
    /// query of `limit + 1` items. With `keep`, reads on (following the
    /// index's LastEvaluatedKey) until `limit + 1` records are kept, the data
    /// ends or the read budget is spent: the page has `limit` of them, and a
    /// cursor only when a further one was found or the budget ran out (then
    /// at the last record examined, so the next page reads on from there).
    async fn list_index<R: Record>(
        &self,
        index: Index,
        partition: String,
        page: &PageRequest,
        keep: Keep<'_, R>,
    ) -> Result<Page<R>, StoreError> {
        let (ipk, isk) = index.keys();
        let query = |start: Option<Item>, limit: u16| {
            self.client
                .query()
                .table_name(&self.table)
                .index_name(index.name())
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", ipk)
                .expression_attribute_values(":pk", s(&partition))
                .set_exclusive_start_key(start)
                .limit(i32::from(limit))
        };
        // The cursor holds only the last key; the rest of the start key is
        // rebuilt here, so a cursor cannot point outside this query.
        let mut start: Option<Item> = page.after().map(|after| {
            [
                (PK.to_owned(), s(pk_of::<R>(after))),
                (SK.to_owned(), s(CURRENT)),
                (ipk.to_owned(), s(&partition)),
                (isk.to_owned(), s(after)),
            ]
            .into()
        });
        let Some(keep) = keep else {
            let out = query(start, page.limit() + 1)
                .send()
                .await
                .map_err(service_error)?;
            let more = out.last_evaluated_key.is_some();
            let records = out
                .items
                .unwrap_or_default()
                .into_iter()
                .map(record_of)
                .collect::<Result<Vec<R>, _>>()?;
            return Ok(paged(records, page.limit(), more, |r| r.key().to_owned()));
        };
        let mut fill = Fill::new(page.limit());
        for _ in 0..self.budget.reads {
            let out = query(start.take(), self.budget.items_per_read)
                .send()
                .await
                .map_err(service_error)?;
            for item in out.items.unwrap_or_default() {
                let r: R = record_of(item)?;
                let kept = keep(&r);
                if let Some(done) = fill.offer(r.key().to_owned(), kept.then_some(r)) {
                    return Ok(done);
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(fill.ended()),
            }
        }
        Ok(fill.out_of_budget())
    }

    /// A workload's plans in its dependency order, filtered by `keep` like
    /// [`Self::list_index`]; the cursor is the last dependency examined.
    async fn list_dependencies(
        &self,
        name: &Slug,
        page: &PageRequest,
        keep: Keep<'_, SupportPlan>,
    ) -> Result<Page<SupportPlan>, StoreError> {
        let workload: Workload = self
            .get(name.as_str())
            .await?
            .ok_or_else(|| StoreError::NotFound(name.to_string()))?;
        let deps = &workload.spec.dependencies;
        let mut next = match page.after() {
            None => 0,
            Some(after) => deps
                .iter()
                .position(|d| d.as_str() == after)
                .map(|i| i + 1)
                .ok_or_else(|| StoreError::InvalidPage("cursor does not belong to this workload".into()))?,
        };
        let (reads, per_read) = match keep {
            None => (1, usize::from(page.limit()) + 1),
            Some(_) => (self.budget.reads, usize::from(self.budget.items_per_read)),
        };
        let mut fill = Fill::new(page.limit());
        for _ in 0..reads {
            let end = (next + per_read).min(deps.len());
            let mut plans = self
                .get_many::<SupportPlan>(&deps[next..end])
                .await?
                .into_iter()
                .peekable();
            for dep in &deps[next..end] {
                // get_many keeps the order asked and leaves out missing plans.
                let plan = plans.next_if(|p| p.id() == dep);
                let plan = plan.filter(|p| keep.is_none_or(|k| k(p)));
                if let Some(done) = fill.offer(dep.to_string(), plan) {
                    return Ok(done);
                }
            }
            next = end;
            if next == deps.len() {
                return Ok(fill.ended());
            }
        }
        Ok(fill.out_of_budget())
    }

    /// Every plan with `status`, read once through the index, page by page,
    /// all in memory (the readiness reference the tests compare the snapshot
    /// with; the freshness check reads the owner index instead). Also returns
    /// the number of requests it took.
    pub async fn all_plans(&self, status: Status) -> Result<(Vec<SupportPlan>, usize), StoreError> {
        self.all_with_status(status).await
    }

    /// Every workload with `status` (the responder matches against all active ones).
    pub async fn all_workloads(&self, status: Status) -> Result<(Vec<Workload>, usize), StoreError> {
        self.all_with_status(status).await
    }

    async fn all_with_status<R: Record>(&self, status: Status) -> Result<(Vec<R>, usize), StoreError> {
        let partition = format!("{}#{}", R::KIND, status);
        let (ipk, _) = Index::Status.keys();
        let mut records = Vec::new();
        let mut start: Option<Item> = None;
        let mut reads = 0;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(Index::Status.name())
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", ipk)
                .expression_attribute_values(":pk", s(&partition))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(service_error)?;
            reads += 1;
            for item in out.items.unwrap_or_default() {
                records.push(record_of(item)?);
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok((records, reads)),
            }
        }
    }
}

impl OwnerIndex for DynamoStore {
    async fn active_plans_by_owner(
        &self,
        cursor: Option<&str>,
    ) -> Result<(Vec<SupportPlan>, Option<String>), StoreError> {
        let (ipk, isk) = Index::Owner.keys();
        // The cursor is the last item's owner key, whose last part is the plan's id.
        let start: Option<Item> = cursor.map(|after| {
            let id = after.rsplit('#').next().unwrap_or_default();
            [
                (PK.to_owned(), s(pk_of::<SupportPlan>(id))),
                (SK.to_owned(), s(CURRENT)),
                (ipk.to_owned(), s(OWNER_PARTITION)),
                (isk.to_owned(), s(after)),
            ]
            .into()
        });
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(Index::Owner.name())
            .key_condition_expression("#pk = :pk")
            .projection_expression("#sk, #d")
            .expression_attribute_names("#pk", ipk)
            .expression_attribute_names("#sk", isk)
            .expression_attribute_names("#d", DIGEST)
            .expression_attribute_values(":pk", s(OWNER_PARTITION))
            .set_exclusive_start_key(start)
            .set_limit(self.owner_page)
            .send()
            .await
            .map_err(service_error)?;
        let items = out.items.unwrap_or_default();
        let mut last = None;
        let mut plans = Vec::with_capacity(items.len());
        for mut item in items {
            let Some(AttributeValue::S(digest)) = item.remove(DIGEST) else {
                return Err(StoreError::Unexpected("an owner index item has no digest".into()));
            };
            plans.push(serde_json::from_str(&digest).map_err(unexpected)?);
            if let Some(AttributeValue::S(k)) = item.remove(isk) {
                last = Some(k);
            }
        }
        let more = out.last_evaluated_key.is_some_and(|k| !k.is_empty());
        Ok((plans, last.filter(|_| more)))
    }

    async fn active_plans_of(&self, email: &str, limit: u16) -> Result<Vec<Slug>, StoreError> {
        let (ipk, isk) = Index::Owner.keys();
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(Index::Owner.name())
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :owner)")
            .projection_expression("#sk")
            .expression_attribute_names("#pk", ipk)
            .expression_attribute_names("#sk", isk)
            .expression_attribute_values(":pk", s(OWNER_PARTITION))
            .expression_attribute_values(":owner", s(format!("{email}#")))
            .limit(i32::from(limit.max(1)))
            .send()
            .await
            .map_err(service_error)?;
        Ok(out
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(|i| match i.get(isk) {
                Some(AttributeValue::S(k)) => k.rsplit('#').next().and_then(|id| Slug::parse(id).ok()),
                _ => None,
            })
            .collect())
    }
}

/// Cuts a `limit + 1` read to `limit` and gives the next page's cursor.
fn paged<T>(mut items: Vec<T>, limit: u16, more: bool, key: impl Fn(&T) -> String) -> Page<T> {
    let limit = usize::from(limit);
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|t| encode_cursor(&key(t)))
    } else if more {
        items.last().map(|t| encode_cursor(&key(t)))
    } else {
        None
    };
    Page { items, next_cursor }
}

/// A page being filled from records read in key order.
struct Fill<T> {
    limit: usize,
    items: Vec<T>,
    /// The key of the last record kept.
    last_kept: Option<String>,
    /// The key of the last record examined, kept or not.
    last_examined: Option<String>,
}

impl<T> Fill<T> {
    fn new(limit: u16) -> Self {
        Self {
            limit: usize::from(limit),
            items: Vec::new(),
            last_kept: None,
            last_examined: None,
        }
    }

    /// Offers the record at `key` (`None`: examined, not kept). Returns the
    /// page when this is a kept record beyond the limit: more follow, so the
    /// cursor is the page's last item.
    fn offer(&mut self, key: String, record: Option<T>) -> Option<Page<T>> {
        if let Some(r) = record {
            if self.items.len() == self.limit {
                let cursor = self.last_kept.take().map(|k| encode_cursor(&k));
                return Some(Page {
                    items: std::mem::take(&mut self.items),
                    next_cursor: cursor,
                });
            }
            self.items.push(r);
            self.last_kept = Some(key.clone());
        }
        self.last_examined = Some(key);
        None
    }

    /// The data ended: nothing more follows.
    fn ended(self) -> Page<T> {
        Page {
            items: self.items,
            next_cursor: None,
        }
    }

    /// The budget ran out: more may follow after the last record examined.
    fn out_of_budget(self) -> Page<T> {
        Page {
            next_cursor: self.last_examined.map(|k| encode_cursor(&k)),
            items: self.items,
        }
    }
}

enum TxError {
    ConditionFailed,
    Other(StoreError),
}

impl PlanStore for DynamoStore {
    async fn create_plan(&self, plan: &SupportPlan) -> Result<(), StoreError> {
        self.create(plan).await
    }

    async fn get_plan(&self, id: &Slug) -> Result<Option<SupportPlan>, StoreError> {
        self.get(id.as_str()).await
    }

    async fn get_plans(&self, ids: &[Slug]) -> Result<Vec<SupportPlan>, StoreError> {
        self.get_many(ids).await
    }

    async fn put_plan_version(&self, next: &SupportPlan, change: Change) -> Result<(), StoreError> {
        self.put_version(next, change).await
    }

    async fn plan_history(
        &self,
        id: &Slug,
        page: &PageRequest,
    ) -> Result<Page<Revision<SupportPlan>>, StoreError> {
        self.history(id.as_str(), page).await
    }

    async fn list_plans_where(
        &self,
        filter: &PlanFilter,
        page: &PageRequest,
        keep: Keep<'_, SupportPlan>,
    ) -> Result<Page<SupportPlan>, StoreError> {
        DynamoStore::list_plans_where(self, filter, page, keep).await
    }

    async fn all_plans(&self, status: Status) -> Result<(Vec<SupportPlan>, usize), StoreError> {
        DynamoStore::all_plans(self, status).await
    }
}

impl WorkloadStore for DynamoStore {
    async fn create_workload(&self, workload: &Workload) -> Result<(), StoreError> {
        self.create(workload).await
    }

    async fn get_workload(&self, name: &Slug) -> Result<Option<Workload>, StoreError> {
        self.get(name.as_str()).await
    }

    async fn put_workload_version(&self, next: &Workload, change: Change) -> Result<(), StoreError> {
        self.put_version(next, change).await
    }

    async fn workload_history(
        &self,
        name: &Slug,
        page: &PageRequest,
    ) -> Result<Page<Revision<Workload>>, StoreError> {
        self.history(name.as_str(), page).await
    }

    async fn list_workloads_where(
        &self,
        filter: &WorkloadFilter,
        page: &PageRequest,
        keep: Keep<'_, Workload>,
    ) -> Result<Page<Workload>, StoreError> {
        DynamoStore::list_workloads_where(self, filter, page, keep).await
    }

    async fn all_workloads(&self, status: Status) -> Result<(Vec<Workload>, usize), StoreError> {
        DynamoStore::all_workloads(self, status).await
    }
}

impl DynamoStore {
    /// The plans `filter` selects (through its index), of which only those
    /// `keep` accepts: for a filter the index cannot answer alone, read on
    /// within the read budget to fill the page (SPEC §3).
    pub async fn list_plans_where(
        &self,
        filter: &PlanFilter,
        page: &PageRequest,
        keep: Keep<'_, SupportPlan>,
    ) -> Result<Page<SupportPlan>, StoreError> {
        let kind = SupportPlan::KIND;
        match filter {
            PlanFilter::All => self.list_index(Index::Kind, kind.to_owned(), page, keep).await,
            PlanFilter::OwnerTeam(team) => {
                self.list_index(Index::OwnerTeam, format!("{kind}#{team}"), page, keep)
                    .await
            }
            PlanFilter::Status(st) => {
                self.list_index(Index::Status, format!("{kind}#{}", st), page, keep)
                    .await
            }
            PlanFilter::Workload(name) => self.list_dependencies(name, page, keep).await,
        }
    }

    /// As [`Self::list_plans_where`], for workloads.
    pub async fn list_workloads_where(
        &self,
        filter: &WorkloadFilter,
        page: &PageRequest,
        keep: Keep<'_, Workload>,
    ) -> Result<Page<Workload>, StoreError> {
        let kind = Workload::KIND;
        match filter {
            WorkloadFilter::All => self.list_index(Index::Kind, kind.to_owned(), page, keep).await,
            WorkloadFilter::OwnerTeam(team) => {
                self.list_index(Index::OwnerTeam, format!("{kind}#{team}"), page, keep)
                    .await
            }
            WorkloadFilter::Status(st) => {
                self.list_index(Index::Status, format!("{kind}#{}", st), page, keep)
                    .await
            }
        }
    }
}
