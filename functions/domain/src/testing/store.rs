//! An in-memory store (feature `testing`): the plan and workload stores and
//! the activity log of `ports.rs` and `readiness.rs`, with the DynamoDB
//! store's semantics (SPEC §3, §7): conditional writes (`AlreadyExists`,
//! `Conflict`, `NotFound` as it answers them), a history per record, lists
//! in key order with opaque cursors, and filtered lists that fill their page.
//! Clones share one set of data.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::civil::Date;

use crate::model::{Change, Meta, Revision, Status, SupportPlan, Workload};
use crate::ports::{
    Keep, OwnerIndex, Page, PageRequest, PlanFilter, PlanStore, StoreError, WorkloadFilter, WorkloadStore,
    encode_cursor,
};
use jiff::Timestamp;

use crate::readiness::{Activity, ActivityLog, Delta, Readiness, ReadinessSnapshots, Stored};
use crate::reminders::subscriptions::{Record as SubRecord, SubscriptionRecords, Topic};
use crate::types::Slug;

/// What the store needs to know of a plan or a workload.
trait Record: Clone {
    fn key(&self) -> &Slug;
    fn team(&self) -> &Slug;
    fn status(&self) -> Status;
    fn meta(&self) -> &Meta;
}

impl Record for SupportPlan {
    fn key(&self) -> &Slug {
        &self.spec.id
    }
    fn team(&self) -> &Slug {
        &self.spec.owner.team
    }
    fn status(&self) -> Status {
        self.spec.status
    }
    fn meta(&self) -> &Meta {
        &self.meta
    }
}

impl Record for Workload {
    fn key(&self) -> &Slug {
        &self.spec.name
    }
    fn team(&self) -> &Slug {
        &self.spec.owner.team
    }
    fn status(&self) -> Status {
        self.status
    }
    fn meta(&self) -> &Meta {
        &self.meta
    }
}

/// One kind of record: the current version and every version, oldest first.
struct Table<R> {
    records: BTreeMap<String, (R, Vec<Revision<R>>)>,
}

impl<R> Default for Table<R> {
    fn default() -> Self {
        Self {
            records: BTreeMap::new(),
        }
    }
}

fn revision<R: Record>(r: &R, change: Change) -> Revision<R> {
    Revision {
        version: r.meta().version,
        change,
        by: r.meta().updated_by.clone(),
        at: r.meta().updated_at,
        record: r.clone(),
    }
}

/// Which current records a list reads, in key order (an index partition).
enum Selection<'a> {
    All,
    Team(&'a Slug),
    Status(Status),
}

impl<R: Record> Table<R> {
    fn create(&mut self, r: &R) -> Result<(), StoreError> {
        let key = r.key().to_string();
        if self.records.contains_key(&key) {
            return Err(StoreError::AlreadyExists(key));
        }
        self.records
            .insert(key, (r.clone(), vec![revision(r, Change::Created)]));
        Ok(())
    }

    /// As DynamoDB's conditional transaction: only if version n is current.
    fn put_version(&mut self, next: &R, change: Change) -> Result<(), StoreError> {
        let expected = next
            .meta()
            .version
            .checked_sub(1)
            .filter(|v| *v >= 1)
            .ok_or_else(|| StoreError::Unexpected("a new version must follow version 1 or later".into()))?;
        let key = next.key().to_string();
        let Some((current, history)) = self.records.get_mut(&key) else {
            return Err(StoreError::NotFound(key));
        };
        if current.meta().version != expected {
            return Err(StoreError::Conflict { id: key, expected });
        }
        *current = next.clone();
        history.push(revision(next, change));
        Ok(())
    }

    fn get(&self, key: &str) -> Option<R> {
        self.records.get(key).map(|(r, _)| r.clone())
    }

    /// In the order asked; missing keys left out, a repeated key once.
    fn get_many(&self, keys: &[Slug]) -> Vec<R> {
        let mut out: Vec<R> = Vec::new();
        for k in keys {
            if let Some(r) = self.get(k.as_str())
                && !out.iter().any(|o| o.key() == k)
            {
                out.push(r);
            }
        }
        out
    }

    fn history(&self, key: &str, page: &PageRequest) -> Result<Page<Revision<R>>, StoreError> {
        let before = page
            .after()
            .map(|a| {
                a.parse::<u64>()
                    .map_err(|_| StoreError::InvalidPage("cursor is not one this API issued".into()))
            })
            .transpose()?;
        let revisions = self
            .records
            .get(key)
            .map(|(_, h)| h.as_slice())
            .unwrap_or_default()
            .iter()
            .rev()
            .filter(|r| before.is_none_or(|b| r.version < b))
            .map(|r| (r.version.to_string(), Some(r.clone())));
        Ok(fill(revisions, page.limit()))
    }

    fn list(&self, selection: &Selection<'_>, page: &PageRequest, keep: Keep<'_, R>) -> Page<R> {
        let after = page.after();
        let records = self
            .records
            .iter()
            .filter(|(k, _)| after.is_none_or(|a| k.as_str() > a))
            .map(|(_, (r, _))| r)
            .filter(|r| match selection {
                Selection::All => true,
                Selection::Team(t) => r.team() == *t,
                Selection::Status(s) => r.status() == *s,
            })
            .map(|r| (r.key().to_string(), keep.is_none_or(|k| k(r)).then(|| r.clone())));
        fill(records, page.limit())
    }

    fn all(&self, status: Status) -> Vec<R> {
        self.records
            .values()
            .map(|(r, _)| r)
            .filter(|r| r.status() == status)
            .cloned()
            .collect()
    }
}

/// A page of at most `limit` of the records offered in order (`None`:
/// examined, not kept), with a cursor at its last item when a further one
/// was kept. With no read budget to run out of, a page is always full.
fn fill<T>(records: impl Iterator<Item = (String, Option<T>)>, limit: u16) -> Page<T> {
    let mut items = Vec::new();
    let mut last = None;
    for (key, record) in records {
        let Some(r) = record else { continue };
        if items.len() == usize::from(limit) {
            return Page {
                items,
                next_cursor: last.map(|k: String| encode_cursor(&k)),
            };
        }
        items.push(r);
        last = Some(key);
    }
    Page {
        items,
        next_cursor: None,
    }
}

#[derive(Default)]
struct Data {
    plans: Table<SupportPlan>,
    workloads: Table<Workload>,
    activity: BTreeMap<Date, Activity>,
    subscriptions: BTreeMap<(Topic, String), SubRecord>,
    snapshot: Option<Stored>,
}

/// The store. `Clone` shares the data: keep one handle to look inside
/// while another serves.
#[derive(Clone, Default)]
pub struct InMemoryStore {
    data: Arc<Mutex<Data>>,
}

impl std::fmt::Debug for InMemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InMemoryStore")
    }
}

impl InMemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn data(&self) -> MutexGuard<'_, Data> {
        // A test that panicked while holding the lock left whole data behind.
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl PlanStore for InMemoryStore {
    async fn create_plan(&self, plan: &SupportPlan) -> Result<(), StoreError> {
        self.data().plans.create(plan)
    }

    async fn get_plan(&self, id: &Slug) -> Result<Option<SupportPlan>, StoreError> {
        Ok(self.data().plans.get(id.as_str()))
    }

    async fn get_plans(&self, ids: &[Slug]) -> Result<Vec<SupportPlan>, StoreError> {
        Ok(self.data().plans.get_many(ids))
    }

    async fn put_plan_version(&self, next: &SupportPlan, change: Change) -> Result<(), StoreError> {
        self.data().plans.put_version(next, change)
    }

    async fn plan_history(
        &self,
        id: &Slug,
        page: &PageRequest,
    ) -> Result<Page<Revision<SupportPlan>>, StoreError> {
        self.data().plans.history(id.as_str(), page)
    }

    async fn list_plans_where(
        &self,
        filter: &PlanFilter,
        page: &PageRequest,
        keep: Keep<'_, SupportPlan>,
    ) -> Result<Page<SupportPlan>, StoreError> {
        let data = self.data();
        let selection = match filter {
            PlanFilter::All => Selection::All,
            PlanFilter::OwnerTeam(t) => Selection::Team(t),
            PlanFilter::Status(s) => Selection::Status(*s),
            PlanFilter::Workload(name) => {
                // The workload's plans in its dependency order; the cursor is
                // the last dependency of the page.
                let workload = data
                    .workloads
                    .get(name.as_str())
                    .ok_or_else(|| StoreError::NotFound(name.to_string()))?;
                let deps = &workload.spec.dependencies;
                let next = match page.after() {
                    None => 0,
                    Some(after) => deps
                        .iter()
                        .position(|d| d.as_str() == after)
                        .map(|i| i + 1)
                        .ok_or_else(|| {
                            StoreError::InvalidPage("cursor does not belong to this workload".into())
                        })?,
                };
                let plans = deps[next..].iter().map(|d| {
                    let plan = data.plans.get(d.as_str());
                    (d.to_string(), plan.filter(|p| keep.is_none_or(|k| k(p))))
                });
                return Ok(fill(plans, page.limit()));
            }
        };
        Ok(data.plans.list(&selection, page, keep))
    }

    async fn all_plans(&self, status: Status) -> Result<(Vec<SupportPlan>, usize), StoreError> {
        Ok((self.data().plans.all(status), 1))
    }
}

impl WorkloadStore for InMemoryStore {
    async fn create_workload(&self, workload: &Workload) -> Result<(), StoreError> {
        self.data().workloads.create(workload)
    }

    async fn get_workload(&self, name: &Slug) -> Result<Option<Workload>, StoreError> {
        Ok(self.data().workloads.get(name.as_str()))
    }

    async fn put_workload_version(&self, next: &Workload, change: Change) -> Result<(), StoreError> {
        self.data().workloads.put_version(next, change)
    }

    async fn workload_history(
        &self,
        name: &Slug,
        page: &PageRequest,
    ) -> Result<Page<Revision<Workload>>, StoreError> {
        self.data().workloads.history(name.as_str(), page)
    }

    async fn list_workloads_where(
        &self,
        filter: &WorkloadFilter,
        page: &PageRequest,
        keep: Keep<'_, Workload>,
    ) -> Result<Page<Workload>, StoreError> {
        let selection = match filter {
            WorkloadFilter::All => Selection::All,
            WorkloadFilter::OwnerTeam(t) => Selection::Team(t),
            WorkloadFilter::Status(s) => Selection::Status(*s),
        };
        Ok(self.data().workloads.list(&selection, page, keep))
    }

    async fn all_workloads(&self, status: Status) -> Result<(Vec<Workload>, usize), StoreError> {
        Ok((self.data().workloads.all(status), 1))
    }
}

impl ActivityLog for InMemoryStore {
    async fn record(&self, day: Date, counts: &Activity) -> Result<(), StoreError> {
        let mut data = self.data();
        let sum = data.activity.entry(day).or_default();
        sum.reminders_sent += counts.reminders_sent;
        sum.escalations_sent += counts.escalations_sent;
        sum.incidents_matched += counts.incidents_matched;
        sum.incidents_unmatched += counts.incidents_unmatched;
        sum.incidents_without_plan += counts.incidents_without_plan;
        // As the table does: the snapshot counts it too, if there is one.
        if let Some(s) = data.snapshot.as_mut() {
            s.readiness.activity.add(counts);
            s.activity_seq += 1;
        }
        Ok(())
    }

    async fn since(&self, first_day: Date) -> Result<Activity, StoreError> {
        let data = self.data();
        let mut sum = Activity::default();
        for day in data.activity.range(first_day..).map(|(_, a)| a) {
            sum.reminders_sent += day.reminders_sent;
            sum.escalations_sent += day.escalations_sent;
            sum.incidents_matched += day.incidents_matched;
            sum.incidents_unmatched += day.incidents_unmatched;
            sum.incidents_without_plan += day.incidents_without_plan;
        }
        Ok(sum)
    }
}

impl SubscriptionRecords for InMemoryStore {
    async fn all_records(&self) -> Result<(Vec<SubRecord>, usize), StoreError> {
        Ok((self.data().subscriptions.values().cloned().collect(), 1))
    }

    async fn records(&self, keys: &[(Topic, &str)]) -> Result<Vec<SubRecord>, StoreError> {
        let data = self.data();
        Ok(keys
            .iter()
            .filter_map(|(t, a)| data.subscriptions.get(&(*t, (*a).to_owned())).cloned())
            .collect())
    }

    async fn save_record(&self, record: &SubRecord) -> Result<(), StoreError> {
        self.data()
            .subscriptions
            .insert((record.topic, record.address.clone()), record.clone());
        Ok(())
    }

    async fn forget_record(&self, topic: Topic, address: &str) -> Result<(), StoreError> {
        self.data().subscriptions.remove(&(topic, address.to_owned()));
        Ok(())
    }
}

impl ReadinessSnapshots for InMemoryStore {
    async fn load_snapshot(&self) -> Result<Option<Stored>, StoreError> {
        Ok(self.data().snapshot.clone())
    }

    async fn replace_snapshot(
        &self,
        readiness: &Readiness,
        expected: Option<(u64, u64)>,
    ) -> Result<(), StoreError> {
        let mut data = self.data();
        let now = data.snapshot.as_ref().map(|s| (s.seq, s.activity_seq));
        if now.is_some() && now != expected {
            return Err(StoreError::Conflict {
                id: "readiness snapshot".into(),
                expected: expected.map_or(0, |e| e.0),
            });
        }
        data.snapshot = Some(Stored {
            readiness: readiness.clone(),
            seq: 0,
            activity_seq: 0,
        });
        Ok(())
    }

    async fn adjust_snapshot(&self, delta: &Delta, as_of: Timestamp) -> Result<(), StoreError> {
        let mut data = self.data();
        let Some(s) = data.snapshot.as_mut() else {
            return Err(StoreError::NotFound("readiness snapshot".into()));
        };
        if s.readiness.as_of != as_of {
            return Err(StoreError::Conflict {
                id: "readiness snapshot".into(),
                expected: s.seq,
            });
        }
        s.readiness = delta.apply(&s.readiness);
        s.seq += 1;
        Ok(())
    }
}

/// The owner index's page size here: small, so that tests cross pages.
pub const OWNER_PAGE: usize = 3;

impl OwnerIndex for InMemoryStore {
    async fn active_plans_by_owner(
        &self,
        cursor: Option<&str>,
    ) -> Result<(Vec<SupportPlan>, Option<String>), StoreError> {
        let mut plans: Vec<(String, SupportPlan)> = self
            .data()
            .plans
            .all(Status::Active)
            .into_iter()
            .map(|p| (p.owner_key(), p))
            .filter(|(k, _)| cursor.is_none_or(|c| k.as_str() > c))
            .collect();
        plans.sort_by(|a, b| a.0.cmp(&b.0));
        let more = plans.len() > OWNER_PAGE;
        plans.truncate(OWNER_PAGE);
        let next = if more {
            plans.last().map(|(k, _)| k.clone())
        } else {
            None
        };
        Ok((plans.into_iter().map(|(_, p)| p.digest()).collect(), next))
    }

    async fn active_plans_of(&self, email: &str, limit: u16) -> Result<Vec<Slug>, StoreError> {
        let mut ids: Vec<Slug> = self
            .data()
            .plans
            .all(Status::Active)
            .into_iter()
            .filter(|p| p.spec.owner.email.as_str() == email)
            .map(|p| p.spec.id)
            .collect();
        ids.sort();
        ids.truncate(usize::from(limit));
        Ok(ids)
    }
}
