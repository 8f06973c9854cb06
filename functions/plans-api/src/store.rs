//! The store and the verification keys as `AppState` holds them (SPEC §3,
//! §5): any implementation of the domain's ports (DynamoDB in the function,
//! the in-memory store in tests), behind one `Arc<dyn …>`.
//!
//! Why not `AppState<S>`: axum's state, the `Caller` extractor, every
//! handler and the OpenAPI route list would all become generic for one
//! type per binary. The ports return `impl Future`, which a trait object
//! cannot, so [`Store`] boxes each call's future once: one small allocation
//! next to a network round trip, and cloning the state is one `Arc` bump
//! (cheaper than the `DynamoStore` clone it replaces, which copied the
//! table's name).

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use support_plans_domain::freshness::Policy;
use support_plans_domain::model::{Change, Revision, Status, SupportPlan, Workload};
use support_plans_domain::ports::{
    Keep, KeysError, OwnerIndex, Page, PageRequest, PlanFilter, PlanStore, StoreError, VerifyKeys,
    WorkloadFilter, WorkloadStore,
};
use support_plans_domain::readiness::keep::{self, Kept};
use support_plans_domain::readiness::{Activity, ActivityLog, Delta, Readiness, ReadinessSnapshots, Stored};
use support_plans_domain::reminders::subscriptions::{Record, SubscriptionRecords, Topic};
use support_plans_domain::token::KeySet;
use support_plans_domain::types::Slug;

type Boxed<'a, T, E = StoreError> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'a>>;

/// The ports, with boxed futures so that they fit behind a `dyn`.
trait Erased: Send + Sync + Any {
    fn create_plan<'a>(&'a self, plan: &'a SupportPlan) -> Boxed<'a, ()>;
    fn get_plan<'a>(&'a self, id: &'a Slug) -> Boxed<'a, Option<SupportPlan>>;
    fn get_plans<'a>(&'a self, ids: &'a [Slug]) -> Boxed<'a, Vec<SupportPlan>>;
    fn put_plan_version<'a>(&'a self, next: &'a SupportPlan, change: Change) -> Boxed<'a, ()>;
    fn plan_history<'a>(
        &'a self,
        id: &'a Slug,
        page: &'a PageRequest,
    ) -> Boxed<'a, Page<Revision<SupportPlan>>>;
    fn list_plans_where<'a>(
        &'a self,
        filter: &'a PlanFilter,
        page: &'a PageRequest,
        keep: Keep<'a, SupportPlan>,
    ) -> Boxed<'a, Page<SupportPlan>>;
    fn all_plans(&self, status: Status) -> Boxed<'_, (Vec<SupportPlan>, usize)>;
    fn create_workload<'a>(&'a self, workload: &'a Workload) -> Boxed<'a, ()>;
    fn get_workload<'a>(&'a self, name: &'a Slug) -> Boxed<'a, Option<Workload>>;
    fn put_workload_version<'a>(&'a self, next: &'a Workload, change: Change) -> Boxed<'a, ()>;
    fn workload_history<'a>(
        &'a self,
        name: &'a Slug,
        page: &'a PageRequest,
    ) -> Boxed<'a, Page<Revision<Workload>>>;
    fn list_workloads_where<'a>(
        &'a self,
        filter: &'a WorkloadFilter,
        page: &'a PageRequest,
        keep: Keep<'a, Workload>,
    ) -> Boxed<'a, Page<Workload>>;
    fn all_workloads(&self, status: Status) -> Boxed<'_, (Vec<Workload>, usize)>;
    fn record<'a>(&'a self, day: Date, counts: &'a Activity) -> Boxed<'a, ()>;
    fn since(&self, first_day: Date) -> Boxed<'_, Activity>;
    fn all_records(&self) -> Boxed<'_, (Vec<Record>, usize)>;
    fn records<'a>(&'a self, keys: &'a [(Topic, &'a str)]) -> Boxed<'a, Vec<Record>>;
    fn save_record<'a>(&'a self, record: &'a Record) -> Boxed<'a, ()>;
    fn forget_record<'a>(&'a self, topic: Topic, address: &'a str) -> Boxed<'a, ()>;
    fn active_plans_by_owner<'a>(
        &'a self,
        cursor: Option<&'a str>,
    ) -> Boxed<'a, (Vec<SupportPlan>, Option<String>)>;
    fn active_plans_of<'a>(&'a self, email: &'a str, limit: u16) -> Boxed<'a, Vec<Slug>>;
    fn load_snapshot(&self) -> Boxed<'_, Option<Stored>>;
    fn replace_snapshot<'a>(
        &'a self,
        readiness: &'a Readiness,
        expected: Option<(u64, u64)>,
    ) -> Boxed<'a, ()>;
    fn adjust_snapshot<'a>(&'a self, delta: &'a Delta, as_of: Timestamp) -> Boxed<'a, ()>;
    fn as_any(&self) -> &dyn Any;
}

impl<T: Ports + 'static> Erased for T {
    fn create_plan<'a>(&'a self, plan: &'a SupportPlan) -> Boxed<'a, ()> {
        Box::pin(PlanStore::create_plan(self, plan))
    }
    fn get_plan<'a>(&'a self, id: &'a Slug) -> Boxed<'a, Option<SupportPlan>> {
        Box::pin(PlanStore::get_plan(self, id))
    }
    fn get_plans<'a>(&'a self, ids: &'a [Slug]) -> Boxed<'a, Vec<SupportPlan>> {
        Box::pin(PlanStore::get_plans(self, ids))
    }
    fn put_plan_version<'a>(&'a self, next: &'a SupportPlan, change: Change) -> Boxed<'a, ()> {
        Box::pin(PlanStore::put_plan_version(self, next, change))
    }
    fn plan_history<'a>(
        &'a self,
        id: &'a Slug,
        page: &'a PageRequest,
    ) -> Boxed<'a, Page<Revision<SupportPlan>>> {
        Box::pin(PlanStore::plan_history(self, id, page))
    }
    fn list_plans_where<'a>(
        &'a self,
        filter: &'a PlanFilter,
        page: &'a PageRequest,
        keep: Keep<'a, SupportPlan>,
    ) -> Boxed<'a, Page<SupportPlan>> {
        Box::pin(PlanStore::list_plans_where(self, filter, page, keep))
    }
    fn all_plans(&self, status: Status) -> Boxed<'_, (Vec<SupportPlan>, usize)> {
        Box::pin(PlanStore::all_plans(self, status))
    }
    fn create_workload<'a>(&'a self, workload: &'a Workload) -> Boxed<'a, ()> {
        Box::pin(WorkloadStore::create_workload(self, workload))
    }
    fn get_workload<'a>(&'a self, name: &'a Slug) -> Boxed<'a, Option<Workload>> {
        Box::pin(WorkloadStore::get_workload(self, name))
    }
    fn put_workload_version<'a>(&'a self, next: &'a Workload, change: Change) -> Boxed<'a, ()> {
        Box::pin(WorkloadStore::put_workload_version(self, next, change))
    }
    fn workload_history<'a>(
        &'a self,
        name: &'a Slug,
        page: &'a PageRequest,
    ) -> Boxed<'a, Page<Revision<Workload>>> {
        Box::pin(WorkloadStore::workload_history(self, name, page))
    }
    fn list_workloads_where<'a>(
        &'a self,
        filter: &'a WorkloadFilter,
        page: &'a PageRequest,
        keep: Keep<'a, Workload>,
    ) -> Boxed<'a, Page<Workload>> {
        Box::pin(WorkloadStore::list_workloads_where(self, filter, page, keep))
    }
    fn all_workloads(&self, status: Status) -> Boxed<'_, (Vec<Workload>, usize)> {
        Box::pin(WorkloadStore::all_workloads(self, status))
    }
    fn record<'a>(&'a self, day: Date, counts: &'a Activity) -> Boxed<'a, ()> {
        Box::pin(ActivityLog::record(self, day, counts))
    }
    fn since(&self, first_day: Date) -> Boxed<'_, Activity> {
        Box::pin(ActivityLog::since(self, first_day))
    }
    fn all_records(&self) -> Boxed<'_, (Vec<Record>, usize)> {
        Box::pin(SubscriptionRecords::all_records(self))
    }
    fn records<'a>(&'a self, keys: &'a [(Topic, &'a str)]) -> Boxed<'a, Vec<Record>> {
        Box::pin(SubscriptionRecords::records(self, keys))
    }
    fn save_record<'a>(&'a self, record: &'a Record) -> Boxed<'a, ()> {
        Box::pin(SubscriptionRecords::save_record(self, record))
    }
    fn forget_record<'a>(&'a self, topic: Topic, address: &'a str) -> Boxed<'a, ()> {
        Box::pin(SubscriptionRecords::forget_record(self, topic, address))
    }
    fn active_plans_by_owner<'a>(
        &'a self,
        cursor: Option<&'a str>,
    ) -> Boxed<'a, (Vec<SupportPlan>, Option<String>)> {
        Box::pin(OwnerIndex::active_plans_by_owner(self, cursor))
    }
    fn active_plans_of<'a>(&'a self, email: &'a str, limit: u16) -> Boxed<'a, Vec<Slug>> {
        Box::pin(OwnerIndex::active_plans_of(self, email, limit))
    }
    fn load_snapshot(&self) -> Boxed<'_, Option<Stored>> {
        Box::pin(ReadinessSnapshots::load_snapshot(self))
    }
    fn replace_snapshot<'a>(
        &'a self,
        readiness: &'a Readiness,
        expected: Option<(u64, u64)>,
    ) -> Boxed<'a, ()> {
        Box::pin(ReadinessSnapshots::replace_snapshot(self, readiness, expected))
    }
    fn adjust_snapshot<'a>(&'a self, delta: &'a Delta, as_of: Timestamp) -> Boxed<'a, ()> {
        Box::pin(ReadinessSnapshots::adjust_snapshot(self, delta, as_of))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The ports the API reads and writes through.
pub trait Ports:
    PlanStore + WorkloadStore + ActivityLog + SubscriptionRecords + OwnerIndex + ReadinessSnapshots
{
}

impl<T> Ports for T where
    T: PlanStore + WorkloadStore + ActivityLog + SubscriptionRecords + OwnerIndex + ReadinessSnapshots
{
}

/// Any store implementing the ports. Every plan or workload written through
/// it also keeps the readiness snapshot current (SPEC §15), whichever route
/// wrote: the plans API, the verification page, a review.
#[derive(Clone)]
pub struct Store(Arc<dyn Erased>, Policy);

impl Store {
    pub fn new(store: impl Ports + 'static, policy: Policy) -> Self {
        Self(Arc::new(store), policy)
    }

    /// The implementation, when it is a `T` (tests look inside their table).
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.0.as_any().downcast_ref()
    }

    /// After a write: the snapshot gets its change. A failure leaves the
    /// write as it is (it is done) and is logged; the snapshot is off by
    /// that write until the next freshness run computes every figure.
    fn kept(&self, what: &str, result: Result<Kept, StoreError>) {
        match result {
            Ok(kept) => tracing::debug!(what, ?kept, "readiness snapshot"),
            Err(e) => {
                tracing::warn!(what, error = %e, "the readiness snapshot misses this write until the next freshness run")
            }
        }
    }

    async fn plan_written(&self, before: Option<&SupportPlan>, after: &SupportPlan) {
        let result = keep::plan_written(self, before, after, &self.1).await;
        self.kept(after.spec.id.as_str(), result);
    }

    async fn workload_written(&self, before: Option<&Workload>, after: &Workload) {
        let result = keep::workload_written(self, before, after).await;
        self.kept(after.spec.name.as_str(), result);
    }

    /// The version `next` replaces, read before the write (`None` when the
    /// current one is not it: the conditional write then fails anyway).
    async fn replaced_plan(&self, next: &SupportPlan) -> Result<Option<SupportPlan>, StoreError> {
        let current = self.0.get_plan(&next.spec.id).await?;
        Ok(current.filter(|c| c.meta.version + 1 == next.meta.version))
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store(..)")
    }
}

impl PlanStore for Store {
    async fn create_plan(&self, plan: &SupportPlan) -> Result<(), StoreError> {
        self.0.create_plan(plan).await?;
        self.plan_written(None, plan).await;
        Ok(())
    }
    async fn get_plan(&self, id: &Slug) -> Result<Option<SupportPlan>, StoreError> {
        self.0.get_plan(id).await
    }
    async fn get_plans(&self, ids: &[Slug]) -> Result<Vec<SupportPlan>, StoreError> {
        self.0.get_plans(ids).await
    }
    async fn put_plan_version(&self, next: &SupportPlan, change: Change) -> Result<(), StoreError> {
        let before = self.replaced_plan(next).await?;
        self.0.put_plan_version(next, change).await?;
        self.plan_written(before.as_ref(), next).await;
        Ok(())
    }
    async fn plan_history(
        &self,
        id: &Slug,
        page: &PageRequest,
    ) -> Result<Page<Revision<SupportPlan>>, StoreError> {
        self.0.plan_history(id, page).await
    }
    async fn list_plans_where(
        &self,
        filter: &PlanFilter,
        page: &PageRequest,
        keep: Keep<'_, SupportPlan>,
    ) -> Result<Page<SupportPlan>, StoreError> {
        self.0.list_plans_where(filter, page, keep).await
    }
    async fn all_plans(&self, status: Status) -> Result<(Vec<SupportPlan>, usize), StoreError> {
        self.0.all_plans(status).await
    }
}

impl WorkloadStore for Store {
    async fn create_workload(&self, workload: &Workload) -> Result<(), StoreError> {
        self.0.create_workload(workload).await?;
        self.workload_written(None, workload).await;
        Ok(())
    }
    async fn get_workload(&self, name: &Slug) -> Result<Option<Workload>, StoreError> {
        self.0.get_workload(name).await
    }
    async fn put_workload_version(&self, next: &Workload, change: Change) -> Result<(), StoreError> {
        let before = self
            .0
            .get_workload(&next.spec.name)
            .await?
            .filter(|c| c.meta.version + 1 == next.meta.version);
        self.0.put_workload_version(next, change).await?;
        self.workload_written(before.as_ref(), next).await;
        Ok(())
    }
    async fn workload_history(
        &self,
        name: &Slug,
        page: &PageRequest,
    ) -> Result<Page<Revision<Workload>>, StoreError> {
        self.0.workload_history(name, page).await
    }
    async fn list_workloads_where(
        &self,
        filter: &WorkloadFilter,
        page: &PageRequest,
        keep: Keep<'_, Workload>,
    ) -> Result<Page<Workload>, StoreError> {
        self.0.list_workloads_where(filter, page, keep).await
    }
    async fn all_workloads(&self, status: Status) -> Result<(Vec<Workload>, usize), StoreError> {
        self.0.all_workloads(status).await
    }
}

impl ActivityLog for Store {
    async fn record(&self, day: Date, counts: &Activity) -> Result<(), StoreError> {
        self.0.record(day, counts).await
    }
    async fn since(&self, first_day: Date) -> Result<Activity, StoreError> {
        self.0.since(first_day).await
    }
}

impl SubscriptionRecords for Store {
    async fn all_records(&self) -> Result<(Vec<Record>, usize), StoreError> {
        self.0.all_records().await
    }
    async fn records(&self, keys: &[(Topic, &str)]) -> Result<Vec<Record>, StoreError> {
        self.0.records(keys).await
    }
    async fn save_record(&self, record: &Record) -> Result<(), StoreError> {
        self.0.save_record(record).await
    }
    async fn forget_record(&self, topic: Topic, address: &str) -> Result<(), StoreError> {
        self.0.forget_record(topic, address).await
    }
}

impl OwnerIndex for Store {
    async fn active_plans_by_owner(
        &self,
        cursor: Option<&str>,
    ) -> Result<(Vec<SupportPlan>, Option<String>), StoreError> {
        self.0.active_plans_by_owner(cursor).await
    }
    async fn active_plans_of(&self, email: &str, limit: u16) -> Result<Vec<Slug>, StoreError> {
        self.0.active_plans_of(email, limit).await
    }
}

impl ReadinessSnapshots for Store {
    async fn load_snapshot(&self) -> Result<Option<Stored>, StoreError> {
        self.0.load_snapshot().await
    }
    async fn replace_snapshot(
        &self,
        readiness: &Readiness,
        expected: Option<(u64, u64)>,
    ) -> Result<(), StoreError> {
        self.0.replace_snapshot(readiness, expected).await
    }
    async fn adjust_snapshot(&self, delta: &Delta, as_of: Timestamp) -> Result<(), StoreError> {
        self.0.adjust_snapshot(delta, as_of).await
    }
}

/// A source of verification keys, behind a `dyn` as [`Store`] is.
trait ErasedKeys: Send + Sync {
    fn read_keys(&self) -> Boxed<'_, KeySet, KeysError>;
}

impl<T: VerifyKeys> ErasedKeys for T {
    fn read_keys(&self) -> Boxed<'_, KeySet, KeysError> {
        Box::pin(VerifyKeys::read_keys(self))
    }
}

/// Any implementation of the domain's [`VerifyKeys`].
#[derive(Clone)]
pub struct Keys(Arc<dyn ErasedKeys>);

impl Keys {
    pub fn new(keys: impl VerifyKeys + 'static) -> Self {
        Self(Arc::new(keys))
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

impl VerifyKeys for Keys {
    async fn read_keys(&self) -> Result<KeySet, KeysError> {
        self.0.read_keys().await
    }
}
