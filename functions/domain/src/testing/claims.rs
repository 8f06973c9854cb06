//! An in-memory [`ClaimStore`] with the DynamoDB adapter's semantics: a part
//! is done, refused, or leased until a time; a take leases what is free.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use crate::pipeline::{Claim, ClaimState, Settlement};
use crate::ports::{ClaimStore, PortError};

/// How long a part is leased (the adapter's `LEASE`, 3 minutes here).
pub const LEASE_SECONDS: i64 = 180;

#[derive(Debug, Clone, Default)]
pub struct FakeClaims {
    items: Arc<Mutex<HashMap<String, ClaimState>>>,
}

impl FakeClaims {
    /// The claims of `key` as stored.
    pub fn state(&self, key: &str) -> ClaimState {
        self.items.lock().unwrap().get(key).cloned().unwrap_or_default()
    }

    /// Leases `part` of `key` to another invocation until `until`.
    pub fn lease(&self, key: &str, part: &str, until: Timestamp) {
        let mut items = self.items.lock().unwrap();
        let item = items.entry(key.to_owned()).or_default();
        item.leases.insert(part.to_owned(), until.as_second());
        item.version = Some(item.version.map_or(1, |v| v + 1));
    }
}

impl ClaimStore for FakeClaims {
    async fn read(&self, key: &str) -> Result<ClaimState, PortError> {
        Ok(self.state(key))
    }

    async fn take(
        &self,
        key: &str,
        _state: ClaimState,
        parts: &[String],
        now: Timestamp,
    ) -> Result<Vec<Claim>, PortError> {
        // One process, one lock: the take is on what is stored now.
        let mut items = self.items.lock().unwrap();
        let item = items.entry(key.to_owned()).or_default();
        let claims: Vec<Claim> = parts.iter().map(|p| item.claim(p, now.as_second())).collect();
        for (part, claim) in parts.iter().zip(&claims) {
            if *claim == Claim::Acquired {
                item.leases.insert(part.clone(), now.as_second() + LEASE_SECONDS);
            }
        }
        item.version = Some(item.version.map_or(1, |v| v + 1));
        Ok(claims)
    }

    async fn settle(&self, key: &str, s: &Settlement, _now: Timestamp) -> Result<(), PortError> {
        if s.is_empty() {
            return Ok(());
        }
        let mut items = self.items.lock().unwrap();
        let item = items.entry(key.to_owned()).or_default();
        for part in s.done.iter().chain(&s.refused).chain(&s.released) {
            item.leases.remove(part);
        }
        item.done.extend(s.done.iter().cloned());
        item.refused.extend(s.refused.iter().cloned());
        item.complete |= s.complete;
        item.version = Some(item.version.map_or(1, |v| v + 1));
        Ok(())
    }

    async fn completed(&self, keys: &[String]) -> Result<Vec<String>, PortError> {
        let items = self.items.lock().unwrap();
        Ok(keys
            .iter()
            .filter(|k| items.get(*k).is_some_and(ClaimState::is_complete))
            .cloned()
            .collect())
    }
}
