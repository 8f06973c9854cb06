//! One-click verification tokens (SPEC §5): a reminder links each contact to
//! `/verify/{token}`, and the token is the only credential of that route.
//!
//! A token names a plan, a contact and an expiry (14 days after issue), and is
//! signed with HMAC-SHA256 under a key the stack generates in Secrets Manager:
//! `base64url(payload) "." base64url(tag)`, payload `v1|<plan>|<contact>|<expiry, unix s>`.
//! Everything is URL-safe. The tag is checked in constant time before anything
//! in the payload is believed.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use sha2::Sha256;

use crate::model::SupportPlan;
use crate::types::Slug;

/// How long a link works after the reminder that carries it was built.
pub const TOKEN_TTL_DAYS: i64 = 14;
/// Longer than any token this module issues (two 63-character slugs).
const MAX_TOKEN_CHARS: usize = 400;
const VERSION: &str = "v1";

type HmacSha256 = Hmac<Sha256>;

/// The HMAC key. Its bytes never reach a log: `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyKey(Vec<u8>);

impl VerifyKey {
    /// At least 32 bytes (the stack generates 64 characters).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, String> {
        let bytes = bytes.into();
        if bytes.len() < 32 {
            return Err(format!(
                "the verification key must be at least 32 bytes, not {}",
                bytes.len()
            ));
        }
        Ok(Self(bytes))
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.0).expect("HMAC takes a key of any length")
    }
}

impl fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyKey({} bytes, redacted)", self.0.len())
    }
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyClaims {
    pub plan: Slug,
    pub contact: Slug,
    pub expires_at: Timestamp,
}

impl VerifyClaims {
    /// When the token was issued (its expiry less the lifetime).
    pub fn issued_at(&self) -> Timestamp {
        self.expires_at - ttl()
    }

    /// Refuses a valid token for a plan that is gone or retired, or a contact
    /// the plan no longer has.
    pub fn check(&self, plan: Option<&SupportPlan>) -> Result<(), TokenError> {
        let plan = plan
            .filter(|p| p.id() == &self.plan && p.is_active())
            .ok_or(TokenError::WrongPlan)?;
        if plan.spec.contacts.iter().any(|c| c.id == self.contact) {
            Ok(())
        } else {
            Err(TokenError::UnknownContact)
        }
    }
}

/// Why a token is refused; each reason gets its own page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not something this service issued: cut, padded or garbled in transit.
    #[error("this link is incomplete or damaged")]
    Malformed,
    /// Well-formed, but the signature does not match: forged or tampered with.
    #[error("this link was not issued by support-plans, or was altered")]
    BadSignature,
    #[error("this link has expired")]
    Expired,
    /// Signed, but for a plan that no longer exists or was retired.
    #[error("this link is for a plan that no longer exists or was retired")]
    WrongPlan,
    #[error("this link is for a contact the plan no longer has")]
    UnknownContact,
}

fn ttl() -> SignedDuration {
    SignedDuration::from_hours(24 * TOKEN_TTL_DAYS)
}

/// A token for (`plan`, `contact`) that expires 14 days after `now`.
pub fn issue(key: &VerifyKey, plan: &Slug, contact: &Slug, now: Timestamp) -> String {
    let expires = (now + ttl()).as_second();
    let payload = format!("{VERSION}|{plan}|{contact}|{expires}");
    let mut mac = key.mac();
    mac.update(payload.as_bytes());
    let tag = mac.finalize().into_bytes();
    let mut token = URL_SAFE_NO_PAD.encode(payload.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(tag, &mut token);
    token
}

/// Checks the signature (in constant time), then the payload, then the expiry.
pub fn verify(key: &VerifyKey, token: &str, now: Timestamp) -> Result<VerifyClaims, TokenError> {
    if token.len() > MAX_TOKEN_CHARS {
        return Err(TokenError::Malformed);
    }
    let (payload, tag) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::Malformed)?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| TokenError::Malformed)?;
    if tag.len() != 32 {
        return Err(TokenError::Malformed);
    }
    let mut mac = key.mac();
    mac.update(&payload);
    mac.verify_slice(&tag).map_err(|_| TokenError::BadSignature)?;
    // Signed by us: the payload is ours, but still parsed strictly.
    let payload = std::str::from_utf8(&payload).map_err(|_| TokenError::Malformed)?;
    let mut parts = payload.split('|');
    let (Some(VERSION), Some(plan), Some(contact), Some(expires), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(TokenError::Malformed);
    };
    let plan = Slug::parse(plan).map_err(|_| TokenError::Malformed)?;
    let contact = Slug::parse(contact).map_err(|_| TokenError::Malformed)?;
    let expires_at = expires
        .parse::<i64>()
        .ok()
        .and_then(|s| Timestamp::from_second(s).ok())
        .ok_or(TokenError::Malformed)?;
    if now >= expires_at {
        return Err(TokenError::Expired);
    }
    Ok(VerifyClaims {
        plan,
        contact,
        expires_at,
    })
}

/// Builds the one-click links of a reminder: `<base>/verify/<token>`.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
    key: VerifyKey,
}

impl Links {
    /// `base` is the API's base URL (`http(s)://…`, no query); a trailing `/` is dropped.
    pub fn new(base: &str, key: VerifyKey) -> Result<Self, String> {
        let ok = (base.starts_with("https://") || base.starts_with("http://"))
            && !base.contains(['?', '#', ' ', '"', '<', '>'])
            && base.len() <= 1000;
        if !ok {
            return Err(format!(
                "VERIFY_BASE_URL must be the API's http(s) base URL, not {base:?}"
            ));
        }
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            key,
        })
    }

    pub fn verify_link(&self, plan: &Slug, contact: &Slug, now: Timestamp) -> String {
        format!("{}/verify/{}", self.base, issue(&self.key, plan, contact, now))
    }

    pub fn base(&self) -> &str {
        &self.base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> VerifyKey {
        VerifyKey::new(vec![b; 64]).unwrap()
    }

    fn slug(s: &str) -> Slug {
        Slug::parse(s).unwrap()
    }

    const NOW: &str = "2026-11-21T08:00:00Z";

    #[test]
    fn a_token_round_trips_and_is_url_safe() {
        let now: Timestamp = NOW.parse().unwrap();
        let t = issue(&key(7), &slug("aws-business"), &slug("aws-account-manager"), now);
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'),
            "{t}"
        );
        let claims = verify(&key(7), &t, now + SignedDuration::from_hours(24 * 13)).unwrap();
        assert_eq!(claims.plan.as_str(), "aws-business");
        assert_eq!(claims.contact.as_str(), "aws-account-manager");
        assert_eq!(claims.issued_at(), now);
    }

    #[test]
    fn forged_tampered_expired_and_malformed_tokens_are_refused_with_distinct_reasons() {
        let now: Timestamp = NOW.parse().unwrap();
        let t = issue(&key(7), &slug("aws-business"), &slug("tam"), now);
        // Another key: forged.
        assert_eq!(verify(&key(8), &t, now), Err(TokenError::BadSignature));
        // The payload changed to another plan, the tag kept: tampered.
        let (_, tag) = t.split_once('.').unwrap();
        let other = URL_SAFE_NO_PAD.encode(format!("v1|stripe-premium|tam|{}", (now + ttl()).as_second()));
        assert_eq!(
            verify(&key(7), &format!("{other}.{tag}"), now),
            Err(TokenError::BadSignature)
        );
        // A later expiry, the tag kept: tampered.
        let later = URL_SAFE_NO_PAD.encode(format!(
            "v1|aws-business|tam|{}",
            now.as_second() + 10 * 86_400 * 365
        ));
        assert_eq!(
            verify(&key(7), &format!("{later}.{tag}"), now),
            Err(TokenError::BadSignature)
        );
        // One character of the tag flipped.
        let mut flipped = t.clone().into_bytes();
        let last = flipped.len() - 2;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            verify(&key(7), std::str::from_utf8(&flipped).unwrap(), now),
            Err(TokenError::BadSignature)
        );
        // Expired: 14 days after issue, to the second.
        assert_eq!(verify(&key(7), &t, now + ttl()), Err(TokenError::Expired));
        assert!(verify(&key(7), &t, now + ttl() - SignedDuration::from_secs(1)).is_ok());
        for bad in [
            "",
            "abc",
            "a.b",
            "!!.!!",
            &t[..t.len() - 5],
            &"x".repeat(500),
            &format!("{t}.x"),
        ] {
            assert_eq!(verify(&key(7), bad, now), Err(TokenError::Malformed), "{bad}");
        }
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let k = VerifyKey::new(b"s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t".to_vec()).unwrap();
        assert!(!format!("{k:?}").contains("s3cr3t"));
        assert!(VerifyKey::new(b"short".to_vec()).is_err());
    }

    #[test]
    fn links_need_an_http_base() {
        assert!(Links::new("https://api.example.com/", key(1)).is_ok());
        assert!(Links::new("http://127.0.0.1:9000/lambda-url/plans-api", key(1)).is_ok());
        assert!(Links::new("ftp://x", key(1)).is_err());
        let l = Links::new("https://api.example.com/", key(1)).unwrap();
        let link = l.verify_link(&slug("p1"), &slug("c1"), NOW.parse().unwrap());
        assert!(link.starts_with("https://api.example.com/verify/"), "{link}");
    }
}
