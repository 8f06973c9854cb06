//! Signed incident webhooks (SPEC §11): the two verifiers the HTTP edge runs
//! before it believes a byte of a delivery. Bytes and strings in, a typed
//! answer out; no I/O here, the replay store is the port
//! [`WebhookIds`](crate::ports::WebhookIds).
//!
//! - **PagerDuty Webhooks V3** (`POST /hooks/pagerduty`,
//!   <https://github.com/PagerDuty/developer-docs/blob/main/docs/webhooks/04-Signatures.md>):
//!   `X-PagerDuty-Signature` is a comma-separated list of `v1=<hex>` values
//!   (several while PagerDuty rotates the subscription's secret), each the
//!   HMAC-SHA256 of the raw body under a secret; the secret's characters are
//!   the key. Entries of other versions are skipped; one `v1` value must
//!   match one of our secrets.
//! - **Standard Webhooks** (`POST /hooks/incident`,
//!   <https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md>):
//!   `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`
//!   (space-separated `v1,<base64>` entries; `v1a` and other versions
//!   skipped), each the HMAC-SHA256 of `{id}.{timestamp}.{body}` under the
//!   base64-decoded secret (`whsec_<base64>`; the prefix is optional, as in
//!   the spec's reference libraries: the rest is base64 either way). The
//!   timestamp must lie within [`TOLERANCE`] of `now`, either side; the
//!   answer carries the id and how long to remember it, so the edge can
//!   refuse a replay ([`not_replayed`], [`handed_off`]).
//!
//! Comparison is in constant time by construction: a tag is only ever
//! checked with `hmac`'s `Mac::verify_slice` (a `subtle` constant-time
//! equality over the whole tag, as `token.rs` does), never with `==` on
//! bytes or strings. Several secrets may be configured on our side too
//! (rotation): every configured secret is tried against every signature.
//! No error names a secret or echoes a header's value.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use sha2::Sha256;

use crate::ports::{StoreError, WebhookIds};

/// The largest body either route verifies, as the plans API's JSON bodies.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// How far `webhook-timestamp` may be from `now`, either side (the Standard
/// Webhooks reference libraries' 5 minutes).
pub const TOLERANCE: SignedDuration = SignedDuration::from_secs(5 * 60);
/// At most this many entries in one signature header (PagerDuty sends two
/// during a rotation); more is a malformed header, not more work.
pub const MAX_SIGNATURES: usize = 8;
/// At most this many secrets configured for one route.
pub const MAX_SECRETS: usize = 8;
/// The longest `webhook-id` accepted.
pub const MAX_ID_CHARS: usize = 256;
/// The fewest key bytes a Standard Webhooks secret may have (the spec: "at
/// least 24 bytes").
pub const MIN_STANDARD_KEY_BYTES: usize = 24;

pub const PAGERDUTY_SIGNATURE: &str = "X-PagerDuty-Signature";
pub const WEBHOOK_ID: &str = "webhook-id";
pub const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
pub const WEBHOOK_SIGNATURE: &str = "webhook-signature";

const SHA256_BYTES: usize = 32;
const WHSEC_PREFIX: &str = "whsec_";

type HmacSha256 = Hmac<Sha256>;

/// One HMAC key. Its bytes never reach a log: `Debug` shows only its length.
#[derive(Clone)]
struct Key(Vec<u8>);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({} bytes)", self.0.len())
    }
}

/// The secrets one route verifies with: one, or several while the operator
/// rotates. Built once at start from the Secrets Manager value; never empty.
#[derive(Debug, Clone)]
pub struct WebhookSecrets {
    keys: Vec<Key>,
}

/// Why a configured secret is unusable. Names the secret by its position
/// (1-based, in the secret's value), never by its content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the webhook secret holds no secret")]
    Empty,
    #[error("the webhook secret holds more than {MAX_SECRETS} secrets")]
    TooMany,
    #[error("webhook secret #{index} is not base64 (after an optional whsec_ prefix)")]
    NotBase64 { index: usize },
    #[error("webhook secret #{index} has {bytes} key bytes; at least {MIN_STANDARD_KEY_BYTES} are needed")]
    TooShort { index: usize, bytes: usize },
}

impl WebhookSecrets {
    /// PagerDuty subscription secrets, as PagerDuty shows them: the
    /// characters are the key. `value` holds one or more, separated by
    /// whitespace (a new one on its own line while rotating).
    pub fn pagerduty(value: &str) -> Result<Self, SecretError> {
        Self::build(value, |_, s| Ok(s.as_bytes().to_vec()))
    }

    /// Standard Webhooks secrets, `whsec_<base64>` (or the bare base64): the
    /// decoded bytes are the key, at least 24 of them. `value` holds one or
    /// more, separated by whitespace.
    pub fn standard(value: &str) -> Result<Self, SecretError> {
        Self::build(value, |index, s| {
            let encoded = s.strip_prefix(WHSEC_PREFIX).unwrap_or(s);
            let key = STANDARD
                .decode(encoded)
                .map_err(|_| SecretError::NotBase64 { index })?;
            if key.len() < MIN_STANDARD_KEY_BYTES {
                return Err(SecretError::TooShort {
                    index,
                    bytes: key.len(),
                });
            }
            Ok(key)
        })
    }

    fn build(
        value: &str,
        key: impl Fn(usize, &str) -> Result<Vec<u8>, SecretError>,
    ) -> Result<Self, SecretError> {
        let keys = value
            .split_ascii_whitespace()
            .enumerate()
            .map(|(i, s)| key(i + 1, s).map(Key))
            .collect::<Result<Vec<_>, _>>()?;
        match keys.len() {
            0 => Err(SecretError::Empty),
            n if n > MAX_SECRETS => Err(SecretError::TooMany),
            _ => Ok(Self { keys }),
        }
    }

    /// How many secrets are configured.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Never true: a set is built with at least one secret.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether one of `tags` is the HMAC of `parts` (concatenated) under one
    /// of the secrets. Every tag is compared with `verify_slice`: constant
    /// time in the tag's content.
    fn any_matches(&self, parts: &[&[u8]], tags: &[Vec<u8>]) -> bool {
        let mut found = false;
        for key in &self.keys {
            let mut mac = HmacSha256::new_from_slice(&key.0).expect("HMAC takes a key of any length");
            for part in parts {
                mac.update(part);
            }
            for tag in tags {
                // No early exit: every pair is checked whatever matched.
                found |= mac.clone().verify_slice(tag).is_ok();
            }
        }
        found
    }
}

/// Why a delivery is refused. `status` is what the HTTP edge answers and
/// `Display` the detail it shows: header names and limits, never a value
/// the caller sent, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("missing {0}")]
    MissingHeader(&'static str),
    #[error("malformed {header}: {reason}")]
    MalformedHeader {
        header: &'static str,
        reason: &'static str,
    },
    #[error("the body is over {MAX_BODY_BYTES} bytes")]
    BodyTooLarge,
    #[error("no signature in {0} matches")]
    NoMatch(&'static str),
    #[error("{WEBHOOK_TIMESTAMP} is more than {} seconds in the past", TOLERANCE.as_secs())]
    Stale,
    #[error("{WEBHOOK_TIMESTAMP} is more than {} seconds in the future", TOLERANCE.as_secs())]
    Future,
    #[error("this {WEBHOOK_ID} was already received and handed off")]
    Replayed,
    /// The replay store could not be asked: nothing was accepted; the
    /// sender should deliver again.
    #[error("could not check {WEBHOOK_ID}; deliver again")]
    Unavailable(#[source] StoreError),
}

impl WebhookError {
    /// The HTTP status the edge answers: 401 when the credential is missing,
    /// wrong or stale; 400 when a header cannot be read; 413 for an
    /// over-long body; 409 for a replayed id; 503 when the replay store
    /// failed (the sender retries).
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingHeader(_) | Self::NoMatch(_) | Self::Stale | Self::Future => 401,
            Self::MalformedHeader { .. } => 400,
            Self::BodyTooLarge => 413,
            Self::Replayed => 409,
            Self::Unavailable(_) => 503,
        }
    }
}

fn header<'a>(value: Option<&'a [u8]>, name: &'static str) -> Result<&'a str, WebhookError> {
    let value = value.ok_or(WebhookError::MissingHeader(name))?;
    let value = std::str::from_utf8(value).map_err(|_| malformed(name, "not UTF-8"))?;
    let value = value.trim();
    if value.is_empty() {
        return Err(WebhookError::MissingHeader(name));
    }
    Ok(value)
}

fn malformed(header: &'static str, reason: &'static str) -> WebhookError {
    WebhookError::MalformedHeader { header, reason }
}

fn check_body(body: &[u8]) -> Result<(), WebhookError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(WebhookError::BodyTooLarge);
    }
    Ok(())
}

/// The `v1` tags of a signature header: `entries` split on `sep`, each
/// `version` `kv` `value`; other versions skipped; at least one `v1`.
fn v1_tags(
    value: &str,
    name: &'static str,
    sep: char,
    kv: char,
    decode: impl Fn(&str) -> Option<Vec<u8>>,
) -> Result<Vec<Vec<u8>>, WebhookError> {
    let mut tags = Vec::new();
    for (n, entry) in value
        .split(sep)
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .enumerate()
    {
        if n >= MAX_SIGNATURES {
            return Err(malformed(name, "more than 8 signatures"));
        }
        let (version, tag) = entry
            .split_once(kv)
            .ok_or_else(|| malformed(name, "an entry is not <version><separator><signature>"))?;
        if version != "v1" {
            continue;
        }
        let tag = decode(tag).filter(|t| t.len() == SHA256_BYTES).ok_or_else(|| {
            malformed(
                name,
                "a v1 signature is not a SHA-256 HMAC in the expected encoding",
            )
        })?;
        tags.push(tag);
    }
    if tags.is_empty() {
        return Err(malformed(name, "no v1 signature"));
    }
    Ok(tags)
}

fn hex32(s: &str) -> Option<Vec<u8>> {
    if s.len() != 2 * SHA256_BYTES {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16);
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| Some((digit(p[0])? * 16 + digit(p[1])?) as u8))
        .collect()
}

/// Verifies a PagerDuty V3 delivery: `signature` is the
/// `X-PagerDuty-Signature` header's value as received (`None` when absent),
/// `body` the raw body, unparsed.
pub fn verify_pagerduty(
    secrets: &WebhookSecrets,
    signature: Option<&[u8]>,
    body: &[u8],
) -> Result<(), WebhookError> {
    check_body(body)?;
    let value = header(signature, PAGERDUTY_SIGNATURE)?;
    let tags = v1_tags(value, PAGERDUTY_SIGNATURE, ',', '=', hex32)?;
    if secrets.any_matches(&[body], &tags) {
        Ok(())
    } else {
        Err(WebhookError::NoMatch(PAGERDUTY_SIGNATURE))
    }
}

/// The three Standard Webhooks headers as received (`None` when absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct StandardHeaders<'a> {
    pub id: Option<&'a [u8]>,
    pub timestamp: Option<&'a [u8]>,
    pub signature: Option<&'a [u8]>,
}

/// A verified Standard Webhooks delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// `webhook-id`: the same on every retry of one message.
    pub id: String,
    /// `webhook-timestamp`: when this attempt was signed.
    pub timestamp: Timestamp,
}

impl Verified {
    /// Until when the id must be remembered: after it, a replay of this very
    /// delivery is refused as stale anyway.
    pub fn remember_until(&self) -> Timestamp {
        self.timestamp + TOLERANCE
    }
}

/// Verifies a Standard Webhooks delivery at `now`: headers present and
/// well-formed, timestamp within [`TOLERANCE`], one `v1` signature matching
/// one of the secrets. The replay check is the caller's next step
/// ([`not_replayed`]).
pub fn verify_standard(
    secrets: &WebhookSecrets,
    headers: StandardHeaders<'_>,
    body: &[u8],
    now: Timestamp,
) -> Result<Verified, WebhookError> {
    check_body(body)?;
    let id = header(headers.id, WEBHOOK_ID)?;
    let timestamp = header(headers.timestamp, WEBHOOK_TIMESTAMP)?;
    let signature = header(headers.signature, WEBHOOK_SIGNATURE)?;
    if id.chars().count() > MAX_ID_CHARS {
        return Err(malformed(WEBHOOK_ID, "longer than 256 characters"));
    }
    // The spec: the id must not hold a `.` (the signed content is
    // `.`-delimited); nor whitespace or control characters.
    if id
        .chars()
        .any(|c| c == '.' || c.is_whitespace() || c.is_control())
    {
        return Err(malformed(
            WEBHOOK_ID,
            "holds '.', whitespace or a control character",
        ));
    }
    if !timestamp.bytes().all(|b| b.is_ascii_digit()) || timestamp.len() > 12 {
        return Err(malformed(WEBHOOK_TIMESTAMP, "not unix seconds"));
    }
    let at = timestamp
        .parse::<i64>()
        .ok()
        .and_then(|s| Timestamp::from_second(s).ok())
        .ok_or_else(|| malformed(WEBHOOK_TIMESTAMP, "not unix seconds"))?;
    let tags = v1_tags(signature, WEBHOOK_SIGNATURE, ' ', ',', |t| {
        STANDARD.decode(t).ok()
    })?;
    if now.duration_since(at) > TOLERANCE {
        return Err(WebhookError::Stale);
    }
    if at.duration_since(now) > TOLERANCE {
        return Err(WebhookError::Future);
    }
    if !secrets.any_matches(&[id.as_bytes(), b".", timestamp.as_bytes(), b".", body], &tags) {
        return Err(WebhookError::NoMatch(WEBHOOK_SIGNATURE));
    }
    Ok(Verified {
        id: id.to_owned(),
        timestamp: at,
    })
}

/// Whether a verified delivery may be handed off at `now`: `Ok` unless its
/// id was handed off within its window ([`WebhookError::Replayed`]). After
/// the hand-off, the caller records it with [`handed_off`].
pub async fn not_replayed(
    ids: &impl WebhookIds,
    verified: &Verified,
    now: Timestamp,
) -> Result<(), WebhookError> {
    match ids.handed_off_before(&verified.id, now).await {
        Ok(false) => Ok(()),
        Ok(true) => Err(WebhookError::Replayed),
        Err(e) => Err(WebhookError::Unavailable(e)),
    }
}

/// Records that a verified delivery was handed off: its id is a replay until
/// the end of its window.
pub async fn handed_off(ids: &impl WebhookIds, verified: &Verified) -> Result<(), StoreError> {
    ids.handed_off(&verified.id, verified.remember_until()).await
}
