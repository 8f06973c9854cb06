//! An in-memory [`ChatPublisher`]: messages kept per topic; a topic can be
//! made to refuse for good, or to fail a number of times.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use crate::ports::{ChatPublisher, PortError};

#[derive(Debug, Default)]
struct State {
    published: Vec<(String, String)>,
    refusing: BTreeSet<String>,
    failing: HashMap<String, u32>,
    attempts: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct FakeChat {
    state: Arc<Mutex<State>>,
}

impl FakeChat {
    /// `topic` refuses every message (it is gone, or the function may not use it).
    pub fn refuse(&self, topic: &str) {
        self.state.lock().unwrap().refusing.insert(topic.to_owned());
    }

    /// `topic` fails the next `times` messages with a retryable error.
    pub fn fail(&self, topic: &str, times: u32) {
        self.state.lock().unwrap().failing.insert(topic.to_owned(), times);
    }

    /// The messages published to `topic`.
    pub fn messages(&self, topic: &str) -> Vec<String> {
        let state = self.state.lock().unwrap();
        state
            .published
            .iter()
            .filter(|(t, _)| t == topic)
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// Every publish tried, to any topic, in order.
    pub fn attempts(&self) -> Vec<String> {
        self.state.lock().unwrap().attempts.clone()
    }
}

impl ChatPublisher for FakeChat {
    async fn publish(&self, topic: &str, message: &str) -> Result<(), PortError> {
        let mut state = self.state.lock().unwrap();
        state.attempts.push(topic.to_owned());
        if state.refusing.contains(topic) {
            return Err(PortError::Refused(format!("{topic}: no such topic")));
        }
        if let Some(n) = state.failing.get_mut(topic)
            && *n > 0
        {
            *n -= 1;
            return Err(PortError::Retry(format!("{topic}: throttled")));
        }
        state.published.push((topic.to_owned(), message.to_owned()));
        Ok(())
    }
}
