//! An in-memory [`ResponseMarks`] (SPEC §13): the first mark of a plan
//! stands, as the adapter's conditional write has it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::ports::PortError;
use crate::responded::{Marked, Responded, ResponseMarks};

#[derive(Debug, Clone, Default)]
pub struct FakeResponseMarks {
    marks: Arc<Mutex<BTreeMap<String, BTreeMap<String, Responded>>>>,
}

impl ResponseMarks for FakeResponseMarks {
    async fn mark(&self, incident: &str, mark: &Responded) -> Result<Marked, PortError> {
        let mut all = self.marks.lock().unwrap();
        let of = all.entry(incident.to_owned()).or_default();
        match of.get(&mark.plan) {
            Some(first) => Ok(Marked::Already(first.clone())),
            None => {
                of.insert(mark.plan.clone(), mark.clone());
                Ok(Marked::First)
            }
        }
    }

    async fn marks(&self, incident: &str) -> Result<BTreeMap<String, Responded>, PortError> {
        Ok(self
            .marks
            .lock()
            .unwrap()
            .get(incident)
            .cloned()
            .unwrap_or_default())
    }
}
