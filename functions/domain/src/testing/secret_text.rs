//! An in-memory [`SecretText`]: a value that a test can change (a rotation,
//! an operator filling an empty secret) or make unreadable, and how many
//! times it was read.

use std::sync::{Arc, Mutex};

use crate::ports::{KeysError, SecretText};

#[derive(Debug, Default)]
struct State {
    value: Option<String>,
    reads: usize,
}

#[derive(Debug, Clone, Default)]
pub struct FakeSecret {
    state: Arc<Mutex<State>>,
}

impl FakeSecret {
    /// A secret holding `value`.
    pub fn new(value: impl Into<String>) -> Self {
        let fake = Self::default();
        fake.set(value);
        fake
    }

    /// From now on the secret holds `value`.
    pub fn set(&self, value: impl Into<String>) {
        self.state.lock().unwrap().value = Some(value.into());
    }

    /// From now on the secret cannot be read.
    pub fn unreadable(&self) {
        self.state.lock().unwrap().value = None;
    }

    /// How many times it was read.
    pub fn reads(&self) -> usize {
        self.state.lock().unwrap().reads
    }
}

impl SecretText for FakeSecret {
    async fn read_text(&self) -> Result<String, KeysError> {
        let mut state = self.state.lock().unwrap();
        state.reads += 1;
        state.value.clone().ok_or_else(|| KeysError::Read {
            id: "fake-secret".into(),
            detail: "unreadable".into(),
        })
    }
}
