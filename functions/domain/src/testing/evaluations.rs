//! An in-memory [`Evaluations`] (AWS Config, SPEC §15): keeps every
//! evaluation put with its result token, and can be told to refuse or to
//! fail the next calls.

use std::sync::{Arc, Mutex};

use crate::ports::PortError;
use crate::readiness::compliance::{Evaluations, ResourceEvaluation};

#[derive(Debug, Default)]
struct State {
    put: Vec<(String, ResourceEvaluation)>,
    refuse: Option<String>,
    fail_next: u32,
}

#[derive(Debug, Clone, Default)]
pub struct FakeEvaluations {
    state: Arc<Mutex<State>>,
}

impl FakeEvaluations {
    /// Every evaluation put, with its result token, in order.
    pub fn put(&self) -> Vec<(String, ResourceEvaluation)> {
        self.state.lock().unwrap().put.clone()
    }

    /// Every call refused with `reason` from now on (an unknown token).
    pub fn refuse(&self, reason: &str) {
        self.state.lock().unwrap().refuse = Some(reason.to_owned());
    }

    /// The next `n` calls fail with a transient error (throttling).
    pub fn fail_next(&self, n: u32) {
        self.state.lock().unwrap().fail_next = n;
    }
}

impl Evaluations for FakeEvaluations {
    async fn put(&self, result_token: &str, evaluation: &ResourceEvaluation) -> Result<(), PortError> {
        let mut s = self.state.lock().unwrap();
        if let Some(reason) = &s.refuse {
            return Err(PortError::Refused(reason.clone()));
        }
        if s.fail_next > 0 {
            s.fail_next -= 1;
            return Err(PortError::Retry("Config: throttled".into()));
        }
        s.put.push((result_token.to_owned(), evaluation.clone()));
        Ok(())
    }
}
