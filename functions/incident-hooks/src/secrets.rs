//! The two webhook secrets (SPEC §11) and the responded links' keys (SPEC
//! §13, the same format as the verification key), read from their secret on a route's
//! first delivery and kept for [`KEEP_FOR`], so a rotation takes effect
//! within five minutes without a deploy. An empty or unusable value is kept
//! as such for as long (the route answers 503 naming its variable; the
//! route is unauthenticated, so a flood must not turn into reads); a failed
//! read is kept for [`RETRY_READ_AFTER`]. Nothing here logs or shows the value.

use std::sync::Arc;
use std::time::{Duration, Instant};

use support_plans_domain::ports::SecretText;
use support_plans_domain::token::KeySet;
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
struct Held<T> {
    at: Instant,
    keep: Duration,
    value: Result<Arc<T>, Unusable>,
}

/// A secret's value, read into `T` (webhook secrets, or a key set).
#[derive(Debug)]
pub struct CachedSecret<S, T = WebhookSecrets> {
    source: S,
    parse: fn(&str) -> Result<T, Unusable>,
    /// The variable naming the secret, for messages.
    pub variable: &'static str,
    keep_for: Duration,
    held: Mutex<Option<Held<T>>>,
}

fn pagerduty(text: &str) -> Result<WebhookSecrets, Unusable> {
    WebhookSecrets::pagerduty(text).map_err(|e| e.to_string())
}

fn standard(text: &str) -> Result<WebhookSecrets, Unusable> {
    WebhookSecrets::standard(text).map_err(|e| e.to_string())
}

impl<S: SecretText> CachedSecret<S> {
    pub fn new(source: S, scheme: Scheme, variable: &'static str) -> Self {
        let parse = match scheme {
            Scheme::PagerDuty => pagerduty,
            Scheme::Standard => standard,
        };
        Self::parsed_by(source, parse, variable)
    }
}

impl<S: SecretText> CachedSecret<S, KeySet> {
    /// An HMAC key set ([`KeySet::parse`]: one plain key, or the rotation's JSON).
    pub fn keys(source: S, variable: &'static str) -> Self {
        Self::parsed_by(source, KeySet::parse, variable)
    }
}

impl<S: SecretText, T> CachedSecret<S, T> {
    fn parsed_by(source: S, parse: fn(&str) -> Result<T, Unusable>, variable: &'static str) -> Self {
        Self {
            source,
            parse,
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
    pub async fn get(&self) -> Result<Arc<T>, Unusable> {
        let mut held = self.held.lock().await;
        if let Some(h) = held.as_ref()
            && h.at.elapsed() < h.keep
        {
            return h.value.clone();
        }
        let (keep, value) = match self.source.read_text().await {
            Ok(text) => (self.keep_for, (self.parse)(&text).map(Arc::new)),
            Err(e) => (RETRY_READ_AFTER.min(self.keep_for), Err(e.to_string())),
        };
        if let Err(why) = &value {
            tracing::error!(secret = self.variable, error = %why, "secret unusable; its routes answer 503");
        }
        *held = Some(Held {
            at: Instant::now(),
            keep,
            value: value.clone(),
        });
        value
    }
}
