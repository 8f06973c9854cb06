//! An in-memory [`Metrics`]: every count kept, in order.

use std::sync::{Arc, Mutex};

use crate::ports::Metrics;

#[derive(Debug, Clone, Default)]
pub struct FakeMetrics {
    counted: Arc<Mutex<Vec<&'static str>>>,
}

impl FakeMetrics {
    /// How many times `name` was counted.
    pub fn count_of(&self, name: &str) -> usize {
        self.counted
            .lock()
            .unwrap()
            .iter()
            .filter(|n| **n == name)
            .count()
    }
}

impl Metrics for FakeMetrics {
    fn count(&self, name: &'static str) {
        self.counted.lock().unwrap().push(name);
    }
}
