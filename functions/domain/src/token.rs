//! One-click verification tokens (SPEC §5): a reminder links each contact to
//! `/verify/{token}`, and the token is the only credential of that route.
//!
//! A token is bound to one plan in one life (its creation, or its last
//! reactivation), one owner (team and e-mail), one contact and one version
//! of that contact (name, e-mail, phone), and expires 14 days after issue.
//! It is signed with HMAC-SHA256 under a key of the stack's Secrets Manager
//! secret, named by its key id: `base64url(payload) "." base64url(tag)`, payload
//! `v2|<kid>|<plan>|<contact>|<contact digest>|<owner digest>|<life, unix ms>|<expiry, unix s>`.
//! The digests are keyed (HMAC, 12 characters): the URL carries no name,
//! e-mail or phone, and no one without the key can test a guess against them.
//! The tag is checked in constant time before anything else in the payload is
//! believed; a token that claims to live longer than 14 days is refused.
//! `v1` tokens (plan, contact and expiry only) are refused: they bind nothing.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use sha2::Sha256;

use crate::model::{Contact, SupportPlan};
use crate::types::{Email, Phone, Slug};

/// How long a link works after the reminder that carries it was built.
pub const TOKEN_TTL_DAYS: i64 = 14;
/// How far the issuer's clock may be ahead of the verifier's.
pub const CLOCK_SKEW_SECS: i64 = 300;
/// Longer than any token this module issues (two 63-character slugs, a 32-character kid).
const MAX_TOKEN_CHARS: usize = 600;
const VERSION: &str = "v2";
/// Bytes of a digest kept in the token (12 base64url characters).
const DIGEST_BYTES: usize = 9;
/// The key id of a secret that holds one plain key (the stack's first format).
pub const PLAIN_KID: &str = "0";
const MAX_KEYS: usize = 20;

type HmacSha256 = Hmac<Sha256>;

/// An HMAC key. Its bytes never reach a log: `Debug` shows only its length.
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

    pub(crate) fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.0).expect("HMAC takes a key of any length")
    }

    /// A short keyed digest of `parts` under the domain `label`.
    fn digest(&self, label: &str, parts: &[&str]) -> String {
        let mut mac = self.mac();
        mac.update(label.as_bytes());
        for p in parts {
            // A separator no part can hold (they are single-line text).
            mac.update(b"\x1f");
            mac.update(p.as_bytes());
        }
        URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..DIGEST_BYTES])
    }
}

impl fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyKey({} bytes, redacted)", self.0.len())
    }
}

/// One key of the set: its id, and until when it still verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) kid: String,
    pub(crate) key: VerifyKey,
    /// Set on a key being retired: it verifies until then and never signs.
    pub(crate) not_after: Option<Timestamp>,
}

/// The keys of the secret: one signs (the one without `not_after`), every
/// one verifies the tokens that name it until its `not_after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySet {
    pub(crate) keys: Vec<Entry>,
    pub(crate) signing: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretJson {
    keys: Vec<EntryJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryJson {
    kid: String,
    key: String,
    #[serde(default)]
    not_after: Option<String>,
}

impl KeySet {
    /// One key, id [`PLAIN_KID`], that signs and verifies.
    pub fn single(key: VerifyKey) -> Self {
        Self {
            keys: vec![Entry {
                kid: PLAIN_KID.to_owned(),
                key,
                not_after: None,
            }],
            signing: 0,
        }
    }

    /// The secret's value: either one plain key (at least 32 characters, as
    /// the stack generates it; id [`PLAIN_KID`]), or
    /// `{"keys": [{"kid": "…", "key": "…", "not_after": "RFC 3339"?}, …]}`
    /// with exactly one key without `not_after` (the one that signs). Errors
    /// never quote the secret.
    pub fn parse(secret: &str) -> Result<Self, String> {
        if !secret.trim_start().starts_with('{') {
            return VerifyKey::new(secret.as_bytes().to_vec()).map(Self::single);
        }
        let json: SecretJson = serde_json::from_str(secret).map_err(|e| {
            format!(
                "it is not {{\"keys\": [{{\"kid\", \"key\", \"not_after\"?}}]}} JSON ({:?} error at line {}, column {})",
                e.classify(),
                e.line(),
                e.column()
            )
        })?;
        if json.keys.is_empty() || json.keys.len() > MAX_KEYS {
            return Err(format!(
                "it must list 1 to {MAX_KEYS} keys, not {}",
                json.keys.len()
            ));
        }
        let mut keys = Vec::with_capacity(json.keys.len());
        for (i, k) in json.keys.into_iter().enumerate() {
            let kid_ok = (1..=32).contains(&k.kid.len())
                && k.kid
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !kid_ok {
                return Err(format!(
                    "keys[{i}].kid must be 1 to 32 letters, digits, '-' or '_'"
                ));
            }
            if keys.iter().any(|e: &Entry| e.kid == k.kid) {
                return Err(format!("keys[{i}].kid '{}' is listed twice", k.kid));
            }
            let key = VerifyKey::new(k.key.into_bytes()).map_err(|e| format!("keys[{i}].key: {e}"))?;
            let not_after = k
                .not_after
                .map(|t| {
                    t.parse::<Timestamp>()
                        .map_err(|_| format!("keys[{i}].not_after must be a time like 2026-12-01T00:00:00Z"))
                })
                .transpose()?;
            keys.push(Entry {
                kid: k.kid,
                key,
                not_after,
            });
        }
        let signing: Vec<usize> = (0..keys.len()).filter(|&i| keys[i].not_after.is_none()).collect();
        match signing[..] {
            [signing] => Ok(Self { keys, signing }),
            _ => Err(format!(
                "exactly one key must have no not_after (the one that signs), not {}",
                signing.len()
            )),
        }
    }

    /// The id of the key that signs.
    pub fn signing_kid(&self) -> &str {
        &self.keys[self.signing].kid
    }

    /// Whether a key of this id is listed (retired or not).
    pub fn knows(&self, kid: &str) -> bool {
        self.keys.iter().any(|e| e.kid == kid)
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&Entry> {
        self.keys.iter().find(|e| e.kid == kid)
    }
}

/// What a link is bound to: a plan in one life, its owner, a contact as it is now.
#[derive(Debug, Clone, Copy)]
pub struct LinkFor<'a> {
    pub plan: &'a Slug,
    /// [`SupportPlan::life`].
    pub life: Timestamp,
    pub owner_team: &'a Slug,
    pub owner_email: &'a Email,
    pub contact: &'a Slug,
    pub name: &'a str,
    pub email: Option<&'a Email>,
    pub phone: Option<&'a Phone>,
}

impl<'a> LinkFor<'a> {
    pub fn of(plan: &'a SupportPlan, contact: &'a Contact) -> Self {
        Self {
            plan: &plan.spec.id,
            life: plan.life(),
            owner_team: &plan.spec.owner.team,
            owner_email: &plan.spec.owner.email,
            contact: &contact.id,
            name: &contact.name,
            email: contact.email.as_ref(),
            phone: contact.phone.as_ref(),
        }
    }

    fn contact_digest(&self, key: &VerifyKey) -> String {
        key.digest(
            "contact",
            &[
                self.name,
                self.email.map_or("", Email::as_str),
                self.phone.map_or("", Phone::as_str),
            ],
        )
    }

    fn owner_digest(&self, key: &VerifyKey) -> String {
        key.digest("owner", &[self.owner_team.as_str(), self.owner_email.as_str()])
    }
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyClaims {
    pub kid: String,
    pub plan: Slug,
    pub contact: Slug,
    pub expires_at: Timestamp,
    contact_digest: String,
    owner_digest: String,
    life_ms: i64,
    key: VerifyKey,
}

impl VerifyClaims {
    /// When the token was issued (its expiry less the lifetime).
    pub fn issued_at(&self) -> Timestamp {
        self.expires_at - ttl()
    }

    /// Refuses a valid token for a plan that is gone or retired, or in
    /// another life, or of another owner, or a contact the plan no longer
    /// has or whose name, e-mail or phone changed since.
    pub fn check(&self, plan: Option<&SupportPlan>) -> Result<(), TokenError> {
        let plan = plan
            .filter(|p| p.id() == &self.plan && p.is_active())
            .ok_or(TokenError::WrongPlan)?;
        if plan.life().as_millisecond() != self.life_ms {
            return Err(TokenError::EarlierLife);
        }
        let contact = plan
            .spec
            .contacts
            .iter()
            .find(|c| c.id == self.contact)
            .ok_or(TokenError::UnknownContact)?;
        let now = LinkFor::of(plan, contact);
        // Digests are public values (in the URL): no constant time needed.
        if now.owner_digest(&self.key) != self.owner_digest {
            return Err(TokenError::OwnerChanged);
        }
        if now.contact_digest(&self.key) != self.contact_digest {
            return Err(TokenError::ContactChanged);
        }
        Ok(())
    }
}

/// Why a token is refused; each reason gets its own page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not something this service issued: cut, padded or garbled in transit.
    #[error("this link is incomplete or damaged")]
    Malformed,
    /// Well-formed, but the signature does not match (forged or tampered
    /// with), or its key is not listed (any more).
    #[error("this link was not issued by support-plans, or was altered")]
    BadSignature,
    /// Correctly signed, but its expiry is further than the links' lifetime.
    #[error("this link claims to work for longer than links may (14 days)")]
    TooLong,
    #[error("this link has expired")]
    Expired,
    /// Signed with a key past its `not_after`.
    #[error("this link was signed with a key that was retired")]
    RetiredKey,
    /// A `v1` link, from before links were bound to an owner and a contact.
    #[error("this link is from a reminder sent before links were bound to the contact")]
    OldFormat,
    /// Signed, but for a plan that no longer exists or was retired.
    #[error("this link is for a plan that no longer exists or was retired")]
    WrongPlan,
    /// The plan was retired and reactivated since.
    #[error("this link was for the plan before it was retired and reactivated")]
    EarlierLife,
    #[error("this link was for the plan's previous owner: the plan has another owner now")]
    OwnerChanged,
    #[error("this link is for a contact the plan no longer has")]
    UnknownContact,
    #[error("this link was for an earlier version of the contact: its name, e-mail or phone changed since")]
    ContactChanged,
}

/// Why a signed token's envelope is refused, before its own fields are
/// read (shared with the "vendor responded" links, SPEC §13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    Malformed,
    BadSignature,
    TooLong,
    Expired,
    RetiredKey,
    /// Well-formed, signed or not, but of another version than asked for.
    Version(String),
}

impl From<Refusal> for TokenError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Version(v) if v == "v1" => Self::OldFormat,
            Refusal::Malformed | Refusal::Version(_) => Self::Malformed,
            Refusal::BadSignature => Self::BadSignature,
            Refusal::TooLong => Self::TooLong,
            Refusal::Expired => Self::Expired,
            Refusal::RetiredKey => Self::RetiredKey,
        }
    }
}

/// `base64url(payload) "." base64url(HMAC-SHA256(payload))` under the
/// signing key; `payload` is given that key's entry (its id goes in it).
pub(crate) fn seal(keys: &KeySet, payload: impl FnOnce(&Entry) -> String) -> String {
    let entry = &keys.keys[keys.signing];
    let payload = payload(entry);
    let mut mac = entry.key.mac();
    mac.update(payload.as_bytes());
    let tag = mac.finalize().into_bytes();
    let mut token = URL_SAFE_NO_PAD.encode(payload.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(tag, &mut token);
    token
}

/// Opens a token sealed by [`seal`] whose payload starts `<version>|<kid>|`:
/// its length and encoding, then only the version and the key id are read
/// before the tag is checked, in constant time, with the key the token
/// names. Gives that key's entry and the payload, whose fields the caller
/// parses.
pub(crate) fn open<'k>(
    keys: &'k KeySet,
    token: &str,
    max_chars: usize,
    version: &str,
) -> Result<(&'k Entry, String), Refusal> {
    if token.len() > max_chars {
        return Err(Refusal::Malformed);
    }
    let (payload, tag) = token.split_once('.').ok_or(Refusal::Malformed)?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| Refusal::Malformed)?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| Refusal::Malformed)?;
    if tag.len() != 32 {
        return Err(Refusal::Malformed);
    }
    let payload = String::from_utf8(payload).map_err(|_| Refusal::Malformed)?;
    let entry = {
        let mut parts = payload.splitn(3, '|');
        match (parts.next(), parts.next()) {
            (Some(v), Some(kid)) if v == version => keys.get(kid).ok_or(Refusal::BadSignature)?,
            (Some(v), Some(_)) => return Err(Refusal::Version(v.to_owned())),
            _ => return Err(Refusal::Malformed),
        }
    };
    let mut mac = entry.key.mac();
    mac.update(payload.as_bytes());
    mac.verify_slice(&tag).map_err(|_| Refusal::BadSignature)?;
    Ok((entry, payload))
}

/// The expiry of a token opened with `entry` (`expires`, Unix seconds):
/// not passed, not further than `ttl` (and the clock skew) from `now`, and
/// the key not retired.
pub(crate) fn check_expiry(
    entry: &Entry,
    expires: &str,
    ttl: SignedDuration,
    now: Timestamp,
) -> Result<Timestamp, Refusal> {
    let expires_at = expires
        .parse::<i64>()
        .ok()
        .and_then(|s| Timestamp::from_second(s).ok())
        .ok_or(Refusal::Malformed)?;
    if now >= expires_at {
        return Err(Refusal::Expired);
    }
    if expires_at > now + ttl + SignedDuration::from_secs(CLOCK_SKEW_SECS) {
        return Err(Refusal::TooLong);
    }
    if entry.not_after.is_some_and(|t| now >= t) {
        return Err(Refusal::RetiredKey);
    }
    Ok(expires_at)
}

pub(crate) fn ttl() -> SignedDuration {
    SignedDuration::from_hours(24 * TOKEN_TTL_DAYS)
}

/// A token for `link`, signed with the signing key, expiring 14 days after `now`.
pub fn issue(keys: &KeySet, link: &LinkFor<'_>, now: Timestamp) -> String {
    let expires = (now + ttl()).as_second();
    seal(keys, |entry| {
        format!(
            "{VERSION}|{kid}|{plan}|{contact}|{cd}|{od}|{life}|{expires}",
            kid = entry.kid,
            plan = link.plan,
            contact = link.contact,
            cd = link.contact_digest(&entry.key),
            od = link.owner_digest(&entry.key),
            life = link.life.as_millisecond(),
        )
    })
}

/// The key id a token names, if it is shaped like one of ours (not checked).
pub fn kid_of(token: &str) -> Option<String> {
    let payload = URL_SAFE_NO_PAD.decode(token.split_once('.')?.0).ok()?;
    let payload = std::str::from_utf8(&payload).ok()?;
    let mut parts = payload.splitn(3, '|');
    match (parts.next(), parts.next()) {
        (Some(VERSION), Some(kid)) => Some(kid.to_owned()),
        _ => None,
    }
}

/// Checks the signature (in constant time) with the key the token names,
/// then the payload, then the expiry, then the key's retirement.
pub fn verify(keys: &KeySet, token: &str, now: Timestamp) -> Result<VerifyClaims, TokenError> {
    let (entry, payload) = open(keys, token, MAX_TOKEN_CHARS, VERSION)?;
    // Signed by us: the payload is ours, but still parsed strictly.
    let mut parts = payload.split('|').skip(2);
    let (Some(plan), Some(contact), Some(cd), Some(od), Some(life), Some(expires), None) = (
        parts.next(),
        parts.next(),
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
    let life_ms = life.parse::<i64>().map_err(|_| TokenError::Malformed)?;
    let expires_at = check_expiry(entry, expires, ttl(), now)?;
    Ok(VerifyClaims {
        kid: entry.kid.clone(),
        plan,
        contact,
        expires_at,
        contact_digest: cd.to_owned(),
        owner_digest: od.to_owned(),
        life_ms,
        key: entry.key.clone(),
    })
}

/// Builds the one-click links of a reminder: `<base>/verify/<token>`.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
    keys: KeySet,
}

impl Links {
    /// `base` is the API's base URL (`http(s)://…`, no query); a trailing `/` is dropped.
    pub fn new(base: &str, keys: KeySet) -> Result<Self, String> {
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
            keys,
        })
    }

    pub fn verify_link(&self, link: &LinkFor<'_>, now: Timestamp) -> String {
        format!("{}/verify/{}", self.base, issue(&self.keys, link, now))
    }

    pub fn base(&self) -> &str {
        &self.base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Actor, PlanSpec};

    fn key(b: u8) -> VerifyKey {
        VerifyKey::new(vec![b; 64]).unwrap()
    }

    fn keys(b: u8) -> KeySet {
        KeySet::single(key(b))
    }

    const NOW: &str = "2026-11-21T08:00:00Z";

    fn now() -> Timestamp {
        NOW.parse().unwrap()
    }

    fn plan() -> SupportPlan {
        let spec = PlanSpec::parse(&serde_json::json!({
            "id": "aws-business",
            "vendor": "AWS",
            "tier": "Business",
            "owner": {"team": "platform", "email": "platform@example.com"},
            "channels": [{"kind": "portal", "value": "https://support.example.com", "hours": "24x7"}],
            "escalation_steps": [{"title": "Open a case"}],
            "contacts": [
                {"id": "aws-account-manager", "name": "Dana Reyes", "role": "vendor-account-manager", "email": "dana@example.net", "phone": "+12065550101"},
                {"id": "tam", "name": "Sam", "role": "vendor-tam", "phone": "+12065550102"}
            ]
        }))
        .unwrap();
        SupportPlan::create(spec, &Actor::parse("alice@example.com").unwrap(), now())
    }

    fn token_for(keys: &KeySet, plan: &SupportPlan, contact: &str, at: Timestamp) -> String {
        let c = plan
            .spec
            .contacts
            .iter()
            .find(|c| c.id.as_str() == contact)
            .unwrap();
        issue(keys, &LinkFor::of(plan, c), at)
    }

    fn resign(payload: &str, key: &VerifyKey) -> String {
        let mut mac = key.mac();
        mac.update(payload.as_bytes());
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    #[test]
    fn a_token_round_trips_is_url_safe_and_carries_no_personal_data() {
        let p = plan();
        let t = token_for(&keys(7), &p, "aws-account-manager", now());
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'),
            "{t}"
        );
        let (payload, _) = t.split_once('.').unwrap();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        for pii in ["Dana", "dana@", "2065550101", "platform@"] {
            assert!(!payload.contains(pii), "{payload}");
        }
        assert!(
            payload.starts_with("v2|0|aws-business|aws-account-manager|"),
            "{payload}"
        );
        let claims = verify(&keys(7), &t, now() + SignedDuration::from_hours(24 * 13)).unwrap();
        assert_eq!(claims.plan.as_str(), "aws-business");
        assert_eq!(claims.contact.as_str(), "aws-account-manager");
        assert_eq!(claims.kid, "0");
        assert_eq!(claims.issued_at(), now());
        assert_eq!(claims.check(Some(&p)), Ok(()));
    }

    #[test]
    fn forged_tampered_expired_too_long_old_and_malformed_tokens_are_refused_with_distinct_reasons() {
        let p = plan();
        let t = token_for(&keys(7), &p, "tam", now());
        // Another key: forged.
        assert_eq!(verify(&keys(8), &t, now()), Err(TokenError::BadSignature));
        // The payload changed to another plan, the tag kept: tampered.
        let (payload, tag) = t.split_once('.').unwrap();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let other = URL_SAFE_NO_PAD.encode(payload.replace("aws-business", "stripe-premium"));
        assert_eq!(
            verify(&keys(7), &format!("{other}.{tag}"), now()),
            Err(TokenError::BadSignature)
        );
        // Another kid: not listed.
        let other = URL_SAFE_NO_PAD.encode(payload.replacen("v2|0|", "v2|k9|", 1));
        assert_eq!(
            verify(&keys(7), &format!("{other}.{tag}"), now()),
            Err(TokenError::BadSignature)
        );
        // One character of the tag flipped.
        let mut flipped = t.clone().into_bytes();
        let last = flipped.len() - 2;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            verify(&keys(7), std::str::from_utf8(&flipped).unwrap(), now()),
            Err(TokenError::BadSignature)
        );
        // Expired: 14 days after issue, to the second.
        assert_eq!(verify(&keys(7), &t, now() + ttl()), Err(TokenError::Expired));
        assert!(verify(&keys(7), &t, now() + ttl() - SignedDuration::from_secs(1)).is_ok());
        // Correctly signed but claiming more than 14 days (and the skew): refused.
        let (head, _) = payload.rsplit_once('|').unwrap();
        let skew = now().as_second() + 14 * 86_400 + CLOCK_SKEW_SECS;
        let edge = resign(&format!("{head}|{skew}"), &key(7));
        assert!(verify(&keys(7), &edge, now()).is_ok());
        let long = resign(&format!("{head}|{}", skew + 1), &key(7));
        assert_eq!(verify(&keys(7), &long, now()), Err(TokenError::TooLong));
        // v1: refused whatever its signature.
        let v1 = resign(
            &format!("v1|aws-business|tam|{}", now().as_second() + 60),
            &key(7),
        );
        assert_eq!(verify(&keys(7), &v1, now()), Err(TokenError::OldFormat));
        for bad in [
            "",
            "abc",
            "a.b",
            "!!.!!",
            &t[..t.len() - 5],
            &"x".repeat(700),
            &format!("{t}.x"),
        ] {
            assert_eq!(verify(&keys(7), bad, now()), Err(TokenError::Malformed), "{bad}");
        }
    }

    #[test]
    fn a_token_is_bound_to_the_contact_the_owner_and_the_plans_life() {
        let p = plan();
        let ks = keys(7);
        let t = token_for(&ks, &p, "aws-account-manager", now());
        let claims = || verify(&ks, &t, now()).unwrap();
        let actor = Actor::parse("bob@example.com").unwrap();
        let put = |edit: &dyn Fn(&mut PlanSpec)| {
            let mut spec = p.spec.clone();
            edit(&mut spec);
            p.replaced(spec, &actor, now()).unwrap()
        };
        // Another contact of the same plan: unchanged, still fine.
        let role = put(&|s| s.contacts[0].verify_every_days = Some(30));
        assert_eq!(claims().check(Some(&role)), Ok(()));
        let phone = put(&|s| s.contacts[0].phone = None);
        assert_eq!(claims().check(Some(&phone)), Err(TokenError::ContactChanged));
        let name = put(&|s| s.contacts[0].name = "Dana R.".into());
        assert_eq!(claims().check(Some(&name)), Err(TokenError::ContactChanged));
        let email =
            put(&|s| s.contacts[0].email = Some(crate::types::Email::parse("d@example.net").unwrap()));
        assert_eq!(claims().check(Some(&email)), Err(TokenError::ContactChanged));
        let team = put(&|s| s.owner.team = Slug::parse("payments").unwrap());
        assert_eq!(claims().check(Some(&team)), Err(TokenError::OwnerChanged));
        let owner = put(&|s| s.owner.email = crate::types::Email::parse("x@example.com").unwrap());
        assert_eq!(claims().check(Some(&owner)), Err(TokenError::OwnerChanged));
        let gone = put(&|s| {
            s.contacts.remove(0);
        });
        assert_eq!(claims().check(Some(&gone)), Err(TokenError::UnknownContact));
        let retired = p.retired(&actor, now());
        assert_eq!(claims().check(Some(&retired)), Err(TokenError::WrongPlan));
        let back = retired
            .replaced(p.spec.clone(), &actor, now() + SignedDuration::from_secs(1))
            .unwrap();
        assert!(back.is_active());
        assert_eq!(claims().check(Some(&back)), Err(TokenError::EarlierLife));
        assert_eq!(claims().check(None), Err(TokenError::WrongPlan));
    }

    #[test]
    fn key_sets_parse_plain_and_json_secrets_and_rotate() {
        let old = "o".repeat(40);
        let new = "n".repeat(40);
        // The stack's plain secret: one key, id "0".
        let plain = KeySet::parse(&old).unwrap();
        assert_eq!(plain.signing_kid(), PLAIN_KID);
        let p = plan();
        let t_old = token_for(&plain, &p, "tam", now());
        let na = now() + SignedDuration::from_hours(24 * 15);
        let both = KeySet::parse(&format!(
            r#"{{"keys": [{{"kid": "0", "key": "{old}", "not_after": "{na}"}}, {{"kid": "k2", "key": "{new}"}}]}}"#
        ))
        .unwrap();
        assert_eq!(both.signing_kid(), "k2", "the key without not_after signs");
        let t_new = token_for(&both, &p, "tam", now());
        assert!(verify(&both, &t_old, now()).is_ok(), "old key while listed");
        assert!(verify(&both, &t_new, now()).is_ok());
        assert_eq!(verify(&plain, &t_new, now()), Err(TokenError::BadSignature));
        // Past its not_after the old key verifies nothing.
        let t_late = token_for(&plain, &p, "tam", na - SignedDuration::from_hours(1));
        assert_eq!(verify(&both, &t_late, na), Err(TokenError::RetiredKey));
        for (bad, says) in [
            ("short", "at least 32 bytes"),
            ("{", "JSON"),
            (r#"{"keys": []}"#, "1 to 20 keys"),
            (
                &format!(r#"{{"keys": [{{"kid": "a b", "key": "{new}"}}]}}"#),
                "kid",
            ),
            (
                &format!(
                    r#"{{"keys": [{{"kid": "a", "key": "{new}"}}, {{"kid": "a", "key": "{old}", "not_after": "{na}"}}]}}"#
                ),
                "twice",
            ),
            (
                &format!(r#"{{"keys": [{{"kid": "a", "key": "{new}"}}, {{"kid": "b", "key": "{old}"}}]}}"#),
                "exactly one",
            ),
            (
                &format!(r#"{{"keys": [{{"kid": "a", "key": "{new}", "not_after": "soon"}}]}}"#),
                "not_after",
            ),
            (
                &format!(r#"{{"keys": [{{"kid": "a", "key": "{new}", "extra": "{old}"}}]}}"#),
                "JSON",
            ),
        ] {
            let e = KeySet::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
            assert!(
                !e.contains(&old) && !e.contains(&new),
                "the error quotes the key: {e}"
            );
        }
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let k = VerifyKey::new(b"s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t".to_vec()).unwrap();
        assert!(!format!("{k:?}").contains("s3cr3t"));
        assert!(!format!("{:?}", KeySet::single(k)).contains("s3cr3t"));
        assert!(VerifyKey::new(b"short".to_vec()).is_err());
    }

    #[test]
    fn links_need_an_http_base() {
        assert!(Links::new("https://api.example.com/", keys(1)).is_ok());
        assert!(Links::new("http://127.0.0.1:9000/lambda-url/plans-api", keys(1)).is_ok());
        assert!(Links::new("ftp://x", keys(1)).is_err());
        let l = Links::new("https://api.example.com/", keys(1)).unwrap();
        let p = plan();
        let link = l.verify_link(&LinkFor::of(&p, &p.spec.contacts[0]), now());
        assert!(link.starts_with("https://api.example.com/verify/"), "{link}");
    }
}
