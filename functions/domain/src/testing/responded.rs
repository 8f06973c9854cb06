//! An in-memory [`ResponseMarks`] and [`PostedNotes`] (SPEC §13): the marks
//! by (incident, plan), the first one standing, and which plans' notes were
//! posted into which incident.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use crate::ports::PortError;
use crate::responded::{Marked, PostedNotes, Responded, ResponseMarks};

#[derive(Debug, Default)]
struct State {
    marks: BTreeMap<String, BTreeMap<String, Responded>>,
    posted: BTreeSet<(String, String)>,
    failing: bool,
}

#[derive(Debug, Clone, Default)]
pub struct FakeResponseMarks {
    state: Arc<Mutex<State>>,
}

impl FakeResponseMarks {
    /// The note of `plan` was posted into `incident`.
    pub fn posted(&self, incident: &str, plan: &str) {
        self.state
            .lock()
            .unwrap()
            .posted
            .insert((incident.to_owned(), plan.to_owned()));
    }

    /// Every mark held, as (incident, mark).
    pub fn all(&self) -> Vec<(String, Responded)> {
        let state = self.state.lock().unwrap();
        state
            .marks
            .iter()
            .flat_map(|(i, m)| m.values().map(move |r| (i.clone(), r.clone())))
            .collect()
    }

    /// Every call from now on fails with a retryable error.
    pub fn fail(&self) {
        self.state.lock().unwrap().failing = true;
    }
}

fn unavailable() -> PortError {
    PortError::Retry("the table is unavailable".into())
}

impl ResponseMarks for FakeResponseMarks {
    async fn mark(&self, incident: &str, mark: &Responded) -> Result<Marked, PortError> {
        let mut state = self.state.lock().unwrap();
        if state.failing {
            return Err(unavailable());
        }
        let marks = state.marks.entry(incident.to_owned()).or_default();
        match marks.get(&mark.plan) {
            Some(first) => Ok(Marked::Already(first.clone())),
            None => {
                marks.insert(mark.plan.clone(), mark.clone());
                Ok(Marked::First)
            }
        }
    }

    async fn marks(&self, incident: &str) -> Result<BTreeMap<String, Responded>, PortError> {
        let state = self.state.lock().unwrap();
        if state.failing {
            return Err(unavailable());
        }
        Ok(state.marks.get(incident).cloned().unwrap_or_default())
    }
}

impl PostedNotes for FakeResponseMarks {
    async fn note_posted(&self, incident: &str, plan: &str) -> Result<bool, PortError> {
        let state = self.state.lock().unwrap();
        if state.failing {
            return Err(unavailable());
        }
        Ok(state.posted.contains(&(incident.to_owned(), plan.to_owned())))
    }
}
