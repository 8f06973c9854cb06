//! An in-memory [`WebhookIds`] (SPEC §11): each id handed off and until
//! when it is remembered.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use crate::ports::{StoreError, WebhookIds};

#[derive(Debug, Clone, Default)]
pub struct FakeWebhookIds {
    seen: Arc<Mutex<HashMap<String, Timestamp>>>,
}

impl FakeWebhookIds {
    /// Until when `id` is remembered, if it is.
    pub fn until(&self, id: &str) -> Option<Timestamp> {
        self.seen.lock().unwrap().get(id).copied()
    }
}

impl WebhookIds for FakeWebhookIds {
    async fn handed_off_before(&self, id: &str, now: Timestamp) -> Result<bool, StoreError> {
        Ok(self.seen.lock().unwrap().get(id).is_some_and(|&held| held >= now))
    }

    async fn handed_off(&self, id: &str, until: Timestamp) -> Result<(), StoreError> {
        self.seen.lock().unwrap().insert(id.to_owned(), until);
        Ok(())
    }
}
