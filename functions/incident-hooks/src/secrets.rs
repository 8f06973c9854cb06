//! The two webhook secrets (SPEC §11), read from their secret on a route's
//! first delivery and kept for [`KEEP_FOR`], so a rotation takes effect
//! within five minutes without a deploy. An empty or unusable value is kept
//! as such for as long (the route answers 503 naming its variable; the
//! route is unauthenticated, so a flood must not turn into reads); a failed
//! read is kept for [`RETRY_READ_AFTER`]. Nothing here logs or shows the value.

use std::sync::Arc;
use std::time::{Duration, Instant};

use support_plans_domain::ports::SecretText;
use support_plans_domain::webhook::WebhookSecrets;
use tokio::sync::Mutex;

/// How long a secret's value is used before it is read again.
pub const KEEP_FOR: Duration = Duration::from_secs(5 * 60);
/// How long after a failed read the next one is tried.
pub const RETRY_READ_AFTER: Duration = Duration::from_secs(10);

/// How the secret's text is read into keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// The PagerDuty subscription secret(s), as PagerDuty shows them.
    PagerDuty,
    /// `whsec_<base64>`, Standard Webhooks.
    Standard,
}

/// Why a route cannot verify: the detail for the log (never the value).
pub type Unusable = String;

/// A read's outcome: when it was made, how long it serves, what it gave.
#[derive(Debug)]
struct Held {
    at: Instant,
    keep: Duration,
    value: Result<Arc<WebhookSecrets>, Unusable>,
}

#[derive(Debug)]
pub struct CachedSecret<S> {
    source: S,
    scheme: Scheme,
    /// The variable naming the secret, for messages.
    pub variable: &'static str,
    keep_for: Duration,
    held: Mutex<Option<Held>>,
}

impl<S: SecretText> CachedSecret<S> {
    pub fn new(source: S, scheme: Scheme, variable: &'static str) -> Self {
        Self {
            source,
            scheme,
            variable,
            keep_for: KEEP_FOR,
            held: Mutex::new(None),
        }
    }

    /// The same, kept `keep_for` instead of [`KEEP_FOR`] (tests).
    pub fn keeping_for(mut self, keep_for: Duration) -> Self {
        self.keep_for = keep_for;
        self
    }

    /// The keys to verify with, or why there are none.
    pub async fn get(&self) -> Result<Arc<WebhookSecrets>, Unusable> {
        let mut held = self.held.lock().await;
        if let Some(h) = held.as_ref()
            && h.at.elapsed() < h.keep
        {
            return h.value.clone();
        }
        let (keep, value) = match self.source.read_text().await {
            Ok(text) => {
                let parsed = match self.scheme {
                    Scheme::PagerDuty => WebhookSecrets::pagerduty(&text),
                    Scheme::Standard => WebhookSecrets::standard(&text),
                };
                (self.keep_for, parsed.map(Arc::new).map_err(|e| e.to_string()))
            }
            Err(e) => (RETRY_READ_AFTER.min(self.keep_for), Err(e.to_string())),
        };
        if let Err(why) = &value {
            tracing::error!(secret = self.variable, error = %why, "webhook secret unusable; the route answers 503");
        }
        *held = Some(Held {
            at: Instant::now(),
            keep,
            value: value.clone(),
        });
        value
    }
}
