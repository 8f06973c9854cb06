//! An in-memory [`WebhookIds`] (SPEC §11): each id and until when it is
//! remembered.

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
    async fn first_seen(&self, id: &str, now: Timestamp, until: Timestamp) -> Result<bool, StoreError> {
        let mut seen = self.seen.lock().unwrap();
        match seen.get(id) {
            Some(&held) if held >= now => Ok(false),
            _ => {
                seen.insert(id.to_owned(), until);
                Ok(true)
            }
        }
    }

    async fn forget(&self, id: &str) -> Result<(), StoreError> {
        self.seen.lock().unwrap().remove(id);
        Ok(())
    }
}
