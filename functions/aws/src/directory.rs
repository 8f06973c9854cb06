//! The incident pipeline's view of the directory (SPEC §4) on the one table:
//! every active workload, and plans by id.

use support_plans_domain::Slug;
use support_plans_domain::model::{Status, SupportPlan, Workload};
use support_plans_domain::ports::{Directory, PlanStore as _, StoreError};

use crate::store::DynamoStore;

impl Directory for DynamoStore {
    async fn active_workloads(&self) -> Result<Vec<Workload>, StoreError> {
        Ok(self.all_workloads(Status::Active).await?.0)
    }

    async fn plans(&self, ids: &[Slug]) -> Result<Vec<SupportPlan>, StoreError> {
        self.get_plans(ids).await
    }
}
