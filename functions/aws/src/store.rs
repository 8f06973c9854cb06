//! The DynamoDB store: one table (SPEC §7), defined in `template.yaml`.
//!
//! Items, all in one table:
//!
//! | item | pk | sk | index keys |
//! |---|---|---|---|
//! | current plan | `PLAN#<id>` | `CURRENT` | by-kind `PLAN`/id · by-owner-team `PLAN#<team>`/id · by-status `PLAN#<status>`/id |
//! | plan version | `PLAN#<id>` | `V#<version, 20 digits>` | none (not in any index) |
//! | current workload | `WORKLOAD#<name>` | `CURRENT` | as plans, with `WORKLOAD` |
//! | workload version | `WORKLOAD#<name>` | `V#<version>` | none |
//!
//! Every write is a transaction of the current item, conditional on the
//! version read, and the new version's history item: both or neither. The
//! history item is itself conditional on not existing, a second guard: two
//! writers of version n+1 can never both land.
//! Lists read an index or the primary key; nothing scans the table.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem};
use serde::Serialize;
use serde::de::DeserializeOwned;
use support_plans_domain::model::{Change, Meta, Revision, Status, SupportPlan, Workload};
use support_plans_domain::ports::{
    Page, PageRequest, PlanFilter, PlanStore, StoreError, WorkloadFilter, WorkloadStore, encode_cursor,
};
use support_plans_domain::types::Slug;

type Item = HashMap<String, AttributeValue>;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
const CURRENT: &str = "CURRENT";
const VERSION_PREFIX: &str = "V#";

/// The table's global secondary indexes, as `template.yaml` defines them.
#[derive(Debug, Clone, Copy)]
enum Index {
    Kind,
    OwnerTeam,
    Status,
}

impl Index {
    fn name(self) -> &'static str {
        match self {
            Index::Kind => "by-kind",
            Index::OwnerTeam => "by-owner-team",
            Index::Status => "by-status",
        }
    }
    fn keys(self) -> (&'static str, &'static str) {
        match self {
            Index::Kind => ("gsi1pk", "gsi1sk"),
            Index::OwnerTeam => ("gsi2pk", "gsi2sk"),
            Index::Status => ("gsi3pk", "gsi3sk"),
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

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Active => "active",
        Status::Retired => "retired",
    }
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
        Index::Status => (
            format!("{}#{}", R::KIND, status_name(r.status())),
            r.key().to_owned(),
        ),
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
    item.insert("record".into(), record_value(r)?);
    Ok(item)
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

/// The adapter: a client built once per process and the table's name.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
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
        let mut found: HashMap<String, R> = HashMap::new();
        for chunk in keys.chunks(100) {
            let mut wanted: Vec<Item> = Vec::new();
            for k in chunk {
                let key: Item = [
                    (PK.to_owned(), s(pk_of::<R>(k.as_str()))),
                    (SK.to_owned(), s(CURRENT)),
                ]
                .into();
                if !wanted.contains(&key) {
                    wanted.push(key);
                }
            }
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
                for item in out
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default()
                {
                    let r: R = record_of(item)?;
                    found.insert(r.key().to_owned(), r);
                }
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
        Ok(keys.iter().filter_map(|k| found.remove(k.as_str())).collect())
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

    async fn list_index<R: Record>(
        &self,
        index: Index,
        partition: String,
        page: &PageRequest,
    ) -> Result<Page<R>, StoreError> {
        let (ipk, isk) = index.keys();
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index.name())
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", ipk)
            .expression_attribute_values(":pk", s(&partition))
            .limit(i32::from(page.limit()) + 1);
        if let Some(after) = page.after() {
            // The cursor holds only the last key; the rest of the start key
            // is rebuilt here, so a cursor cannot point outside this query.
            q = q
                .exclusive_start_key(PK, s(pk_of::<R>(after)))
                .exclusive_start_key(SK, s(CURRENT))
                .exclusive_start_key(ipk, s(&partition))
                .exclusive_start_key(isk, s(after));
        }
        let out = q.send().await.map_err(service_error)?;
        let more = out.last_evaluated_key.is_some();
        let records = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(record_of)
            .collect::<Result<Vec<R>, _>>()?;
        Ok(paged(records, page.limit(), more, |r| r.key().to_owned()))
    }

    /// Every plan with `status`, read once through the index, page by page,
    /// for whole-table jobs (the freshness check). Also returns the number of
    /// requests it took.
    pub async fn all_plans(&self, status: Status) -> Result<(Vec<SupportPlan>, usize), StoreError> {
        self.all_with_status(status).await
    }

    /// Every workload with `status` (the responder matches against all active ones).
    pub async fn all_workloads(&self, status: Status) -> Result<(Vec<Workload>, usize), StoreError> {
        self.all_with_status(status).await
    }

    async fn all_with_status<R: Record>(&self, status: Status) -> Result<(Vec<R>, usize), StoreError> {
        let partition = format!("{}#{}", R::KIND, status_name(status));
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

    async fn list_plans(
        &self,
        filter: &PlanFilter,
        page: &PageRequest,
    ) -> Result<Page<SupportPlan>, StoreError> {
        let kind = SupportPlan::KIND;
        match filter {
            PlanFilter::All => self.list_index(Index::Kind, kind.to_owned(), page).await,
            PlanFilter::OwnerTeam(team) => {
                self.list_index(Index::OwnerTeam, format!("{kind}#{team}"), page)
                    .await
            }
            PlanFilter::Status(st) => {
                self.list_index(Index::Status, format!("{kind}#{}", status_name(*st)), page)
                    .await
            }
            PlanFilter::Workload(name) => {
                let workload: Workload = self
                    .get(name.as_str())
                    .await?
                    .ok_or_else(|| StoreError::NotFound(name.to_string()))?;
                let deps = &workload.spec.dependencies;
                let start = match page.after() {
                    None => 0,
                    Some(after) => deps
                        .iter()
                        .position(|d| d.as_str() == after)
                        .map(|i| i + 1)
                        .ok_or_else(|| {
                            StoreError::InvalidPage("cursor does not belong to this workload".into())
                        })?,
                };
                let end = (start + usize::from(page.limit())).min(deps.len());
                let plans = self.get_many::<SupportPlan>(&deps[start..end]).await?;
                let next_cursor = (end < deps.len()).then(|| encode_cursor(deps[end - 1].as_str()));
                Ok(Page {
                    items: plans,
                    next_cursor,
                })
            }
        }
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

    async fn list_workloads(
        &self,
        filter: &WorkloadFilter,
        page: &PageRequest,
    ) -> Result<Page<Workload>, StoreError> {
        let kind = Workload::KIND;
        match filter {
            WorkloadFilter::All => self.list_index(Index::Kind, kind.to_owned(), page).await,
            WorkloadFilter::OwnerTeam(team) => {
                self.list_index(Index::OwnerTeam, format!("{kind}#{team}"), page)
                    .await
            }
            WorkloadFilter::Status(st) => {
                self.list_index(Index::Status, format!("{kind}#{}", status_name(*st)), page)
                    .await
            }
        }
    }
}
