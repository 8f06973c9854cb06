//! An in-memory [`HandOff`] (SPEC §11): every payload handed off, in order;
//! it can be made to fail a number of times, or to refuse for good.

use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::ports::{HandOff, PortError};

#[derive(Debug, Default)]
struct State {
    handed: Vec<Value>,
    failing: u32,
    refusing: bool,
}

#[derive(Debug, Clone, Default)]
pub struct FakeHandOff {
    state: Arc<Mutex<State>>,
}

impl FakeHandOff {
    /// The payloads handed off so far (failed attempts not included).
    pub fn payloads(&self) -> Vec<Value> {
        self.state.lock().unwrap().handed.clone()
    }

    /// The next `times` hand-offs fail with a retryable error.
    pub fn fail(&self, times: u32) {
        self.state.lock().unwrap().failing = times;
    }

    /// Every hand-off from now on is refused (no such function).
    pub fn refuse(&self) {
        self.state.lock().unwrap().refusing = true;
    }
}

impl HandOff for FakeHandOff {
    async fn hand_off(&self, payload: &Value) -> Result<(), PortError> {
        let mut state = self.state.lock().unwrap();
        if state.refusing {
            return Err(PortError::Refused("the responder function does not exist".into()));
        }
        if state.failing > 0 {
            state.failing -= 1;
            return Err(PortError::Retry("the responder is throttled".into()));
        }
        state.handed.push(payload.clone());
        Ok(())
    }
}
