//! An in-memory [`Directory`]: the workloads and plans a test puts in.

use std::sync::{Arc, Mutex};

use crate::model::{SupportPlan, Workload};
use crate::ports::{Directory, StoreError};
use crate::types::Slug;

#[derive(Debug, Clone, Default)]
pub struct FakeDirectory {
    workloads: Arc<Mutex<Vec<Workload>>>,
    plans: Arc<Mutex<Vec<SupportPlan>>>,
}

impl FakeDirectory {
    pub fn new(workloads: Vec<Workload>, plans: Vec<SupportPlan>) -> Self {
        Self {
            workloads: Arc::new(Mutex::new(workloads)),
            plans: Arc::new(Mutex::new(plans)),
        }
    }
}

impl Directory for FakeDirectory {
    async fn active_workloads(&self) -> Result<Vec<Workload>, StoreError> {
        let workloads = self.workloads.lock().unwrap();
        Ok(workloads.iter().filter(|w| w.is_active()).cloned().collect())
    }

    async fn plans(&self, ids: &[Slug]) -> Result<Vec<SupportPlan>, StoreError> {
        let plans = self.plans.lock().unwrap();
        Ok(ids
            .iter()
            .filter_map(|id| plans.iter().find(|p| p.id() == id).cloned())
            .collect())
    }
}
