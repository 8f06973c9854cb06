//! An in-memory [`ActivityLog`]: the days' counts summed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use jiff::civil::Date;

use crate::ports::StoreError;
use crate::readiness::{Activity, ActivityLog};

#[derive(Debug, Clone, Default)]
pub struct FakeActivity {
    days: Arc<Mutex<BTreeMap<Date, Activity>>>,
}

fn add(sum: &mut Activity, a: &Activity) {
    sum.reminders_sent += a.reminders_sent;
    sum.escalations_sent += a.escalations_sent;
    sum.incidents_matched += a.incidents_matched;
    sum.incidents_unmatched += a.incidents_unmatched;
    sum.incidents_without_plan += a.incidents_without_plan;
}

impl FakeActivity {
    /// Every day's counts summed.
    pub fn total(&self) -> Activity {
        let mut sum = Activity::default();
        for a in self.days.lock().unwrap().values() {
            add(&mut sum, a);
        }
        sum
    }
}

impl ActivityLog for FakeActivity {
    async fn record(&self, day: Date, counts: &Activity) -> Result<(), StoreError> {
        add(self.days.lock().unwrap().entry(day).or_default(), counts);
        Ok(())
    }

    async fn since(&self, first_day: Date) -> Result<Activity, StoreError> {
        let mut sum = Activity::default();
        for (_, a) in self.days.lock().unwrap().range(first_day..) {
            add(&mut sum, a);
        }
        Ok(sum)
    }
}
