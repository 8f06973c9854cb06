//! An in-memory [`RateLimit`]: slots per key and UTC minute.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use crate::ports::{RateLimit, Slot, StoreError};

#[derive(Debug, Clone, Default)]
pub struct FakeRateLimit {
    taken: Arc<Mutex<HashMap<(String, i64), u32>>>,
}

fn minute(at: Timestamp) -> i64 {
    at.as_second().div_euclid(60)
}

impl FakeRateLimit {
    /// Slots of `key` taken in the minute `at` falls in.
    pub fn taken(&self, key: &str, at: Timestamp) -> u32 {
        let taken = self.taken.lock().unwrap();
        taken.get(&(key.to_owned(), minute(at))).copied().unwrap_or(0)
    }
}

impl RateLimit for FakeRateLimit {
    async fn take_slot(&self, key: &str, at: Timestamp, limit: u32) -> Result<Slot, StoreError> {
        let mut taken = self.taken.lock().unwrap();
        let n = taken.entry((key.to_owned(), minute(at))).or_default();
        if *n < limit {
            *n += 1;
            Ok(Slot::Taken)
        } else {
            Ok(Slot::Full)
        }
    }

    async fn give_back(&self, key: &str, taken_at: Timestamp) -> Result<(), StoreError> {
        let mut taken = self.taken.lock().unwrap();
        if let Some(n) = taken.get_mut(&(key.to_owned(), minute(taken_at))) {
            *n = n.saturating_sub(1);
        }
        Ok(())
    }
}
