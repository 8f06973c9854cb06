//! "Vendor responded" (SPEC §13): someone marks a plan's vendor as
//! responding to an incident, through the signed link each follow-up note
//! carries (`/responded/{token}`) or the portals' route; from then on that
//! plan's follow-ups stop. Recorded once per (incident, plan): the first
//! mark stands, a second one changes nothing and is told the first.

//!
//! The link's token is signed like the verification links' (SPEC §5,
//! [`crate::token`]): HMAC-SHA256 under a key of a [`KeySet`] (the secret
//! `RESPONDED_KEY_SECRET_ARN`, the same format, the same rotation by key id),
//! `base64url(payload) "." base64url(tag)`, payload
//! `r1|<kid>|<plan>|<expiry, unix s>|<incident key>`. Its version `r1` is not
//! the verification tokens' `v2`, and the version is inside what is signed:
//! a verification token is never a responded token, nor the other way round,
//! even under one key. The tag is checked in constant time before anything
//! else in the payload is believed; a link lives 14 days.

use std::collections::BTreeMap;
use std::future::Future;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::pipeline::claims::note_part;
use crate::ports::PortError;
use crate::token::{self, KeySet};
use crate::types::{IncidentArn, Slug};

/// How the mark was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The signed link of a note (`POST /responded/{token}`).
    Link,
    /// `POST /incidents/{incident}/plans/{plan}/responded` (a portal).
    Api,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Link => "link",
            Self::Api => "api",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "link" => Some(Self::Link),
            "api" => Some(Self::Api),
            _ => None,
        }
    }
}

/// A plan's vendor marked as responding to an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responded {
    pub plan: String,
    /// Who: the name given on the link's page, or the API's caller.
    pub by: String,
    pub at: Timestamp,
    pub via: Via,
}

/// Whether a mark was the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marked {
    /// Recorded now.
    First,
    /// Recorded before: this one.
    Already(Responded),
}

/// Where marks are kept, with the incident's claims (SPEC §13 "in the table").
pub trait ResponseMarks: Send + Sync {
    /// Records `mark` for the incident `incident` (its claims key), unless
    /// the plan was marked before: atomically, the first writer wins.
    fn mark(
        &self,
        incident: &str,
        mark: &Responded,
    ) -> impl Future<Output = Result<Marked, PortError>> + Send;
    /// Every mark of the incident, by plan.
    fn marks(
        &self,
        incident: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, Responded>, PortError>> + Send;
}

/// Where a plan's note was posted: only a plan whose note is in the incident
/// may be marked (its claim item's `done` has `NOTE#<plan>`).
pub trait PostedNotes: Send + Sync {
    /// Whether the note of `plan` was posted into the incident `incident` (its claims key).
    fn note_posted(&self, incident: &str, plan: &str)
    -> impl Future<Output = Result<bool, PortError>> + Send;
}

/// The claim part whose presence in `done` says the plan's note was posted.
pub fn posted_part(plan: &str) -> String {
    note_part(plan)
}

/// The version of the links' payload.
const LINK_VERSION: &str = "r1";
/// Longer than any link: an incident key of up to 1,000 characters, a
/// 63-character slug, a 32-character key id.
const MAX_LINK_CHARS: usize = 2000;
/// The longest incident key a link carries (an Incident Manager ARN's bound).
pub const MAX_INCIDENT_KEY_CHARS: usize = 1000;

/// What a valid link says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RespondedLink {
    /// The incident's claims key (an Incident Manager ARN, or `pagerduty:<id>`).
    pub incident: String,
    pub plan: String,
    pub expires_at: Timestamp,
}

/// Why a link is refused; each reason gets its own page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not something this service issued: cut, padded, garbled, or another kind of token.
    #[error("this link is incomplete or damaged")]
    Malformed,
    /// The signature does not match (forged or altered), or its key is not listed (any more).
    #[error("this link was not issued by support-plans, or was altered")]
    BadSignature,
    /// Correctly signed, but claiming to live longer than links may.
    #[error("this link claims to work for longer than links may (14 days)")]
    TooLong,
    #[error("this link has expired")]
    Expired,
    /// Signed with a key past its `not_after`.
    #[error("this link was signed with a key that was retired")]
    RetiredKey,
}

impl LinkError {
    /// The HTTP status of the page that says so.
    pub fn status(self) -> u16 {
        match self {
            Self::Malformed | Self::BadSignature | Self::TooLong => 400,
            Self::Expired | Self::RetiredKey => 410,
        }
    }
}

fn link_ttl() -> SignedDuration {
    SignedDuration::from_hours(24 * token::TOKEN_TTL_DAYS)
}

/// A link's token for marking `plan` as responding to `incident` (its
/// claims key), signed with the signing key, expiring 14 days after `now`.
pub fn issue_link(keys: &KeySet, incident: &str, plan: &str, now: Timestamp) -> String {
    let expires = (now + link_ttl()).as_second();
    token::seal(keys, |entry| {
        format!(
            "{LINK_VERSION}|{kid}|{plan}|{expires}|{incident}",
            kid = entry.kid
        )
    })
}

/// Checks the signature (in constant time) with the key the token names,
/// then the payload, then the expiry, then the key's retirement.
pub fn verify_link(keys: &KeySet, token: &str, now: Timestamp) -> Result<RespondedLink, LinkError> {
    let (entry, payload) = token::open(keys, token, MAX_LINK_CHARS, LINK_VERSION)?;
    // Signed by us: the payload is ours, but still parsed strictly. The
    // incident key comes last: it is the only part that may hold a '|'.
    let mut parts = payload.splitn(5, '|').skip(2);
    let (Some(plan), Some(expires), Some(incident)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(LinkError::Malformed);
    };
    let plan = Slug::parse(plan).map_err(|_| LinkError::Malformed)?;
    let incident_ok = !incident.is_empty()
        && incident.len() <= MAX_INCIDENT_KEY_CHARS
        && !incident.chars().any(|c| c.is_whitespace() || c.is_control());
    if !incident_ok {
        return Err(LinkError::Malformed);
    }
    let expires_at = token::check_expiry(entry, expires, link_ttl(), now)?;
    Ok(RespondedLink {
        incident: incident.to_owned(),
        plan: plan.as_str().to_owned(),
        expires_at,
    })
}

impl From<token::Refusal> for LinkError {
    fn from(r: token::Refusal) -> Self {
        match r {
            token::Refusal::Malformed | token::Refusal::Version(_) => Self::Malformed,
            token::Refusal::BadSignature => Self::BadSignature,
            token::Refusal::TooLong => Self::TooLong,
            token::Refusal::Expired => Self::Expired,
            token::Refusal::RetiredKey => Self::RetiredKey,
        }
    }
}

/// Builds the links of the follow-up notes: `<base><token>`, `base` being
/// `RESPONDED_URL` (the API's URL and `/responded/`).
#[derive(Debug, Clone)]
pub struct RespondedLinks {
    pub base: String,
    pub keys: KeySet,
}

impl RespondedLinks {
    /// `base` must be an http(s) URL ending with `/responded/`.
    pub fn new(base: &str, keys: KeySet) -> Result<Self, String> {
        let ok = (base.starts_with("https://") || base.starts_with("http://"))
            && base.ends_with("/responded/")
            && !base.contains(['?', '#', ' ', '"', '<', '>'])
            && base.len() <= 1000;
        if !ok {
            return Err(format!(
                "RESPONDED_URL must be the API's http(s) URL followed by /responded/, not {base:?}"
            ));
        }
        Ok(Self {
            base: base.to_owned(),
            keys,
        })
    }

    /// The link that marks `plan` as responding to `incident`, valid 14 days from `now`.
    pub fn url(&self, incident: &str, plan: &str, now: Timestamp) -> String {
        format!("{}{}", self.base, issue_link(&self.keys, incident, plan, now))
    }
}

/// Who marked a vendor as responding, as typed on the link's page: trimmed,
/// 1 to 100 characters, one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByName(String);

/// The longest name the link's page takes.
pub const MAX_BY_CHARS: usize = 100;

impl ByName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("give your name".into());
        }
        if name.chars().count() > MAX_BY_CHARS {
            return Err(format!("at most {MAX_BY_CHARS} characters"));
        }
        if name.chars().any(char::is_control) {
            return Err("one line of text, without control characters".into());
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The incident of the portals' route (`POST /incidents/{incident}/plans/{plan}/responded`,
/// `{incident}` URL-decoded): an Incident Manager incident ARN (its key is the
/// ARN) or a PagerDuty incident id, 1 to 20 uppercase letters and digits (its key
/// `pagerduty:<id>`). Returns the incident's claims key.
pub fn incident_key(raw: &str) -> Result<String, String> {
    if raw.starts_with("arn:") {
        return IncidentArn::parse(raw).map(|arn| arn.as_str().to_owned());
    }
    let pagerduty =
        (1..=20).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if pagerduty {
        Ok(format!("pagerduty:{raw}"))
    } else {
        Err("not an Incident Manager incident ARN nor a PagerDuty incident id (1 to 20 uppercase letters and digits)".into())
    }
}

/// The id an incident's key shows to people: an ARN's last segment, or the source's own id.
pub fn short_id(incident: &str) -> &str {
    match IncidentArn::response_plan_in(incident) {
        Some(_) => incident.rsplit('/').next().unwrap_or(incident),
        None => incident.split_once(':').map_or(incident, |(_, id)| id),
    }
}

/// What the webhook edge hands to the responder after a first mark: it posts
/// the note into the incident, reading who and when from the table.
pub fn hand_off(incident: &str, plan: &str) -> Value {
    json!({"responded": {"incident": incident, "plan": plan}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{CLOCK_SKEW_SECS, VerifyKey};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hmac::Mac as _;

    const ARN: &str = "arn:aws:ssm-incidents::111122223333:incident-record/payments-critical/6ac3b7d0";

    fn keys(b: u8) -> KeySet {
        KeySet::single(VerifyKey::new(vec![b; 64]).unwrap())
    }

    fn now() -> Timestamp {
        "2026-11-21T08:00:00Z".parse().unwrap()
    }

    fn payload_of(t: &str) -> String {
        String::from_utf8(URL_SAFE_NO_PAD.decode(t.split_once('.').unwrap().0).unwrap()).unwrap()
    }

    fn resign(payload: &str, b: u8) -> String {
        let mut mac = VerifyKey::new(vec![b; 64]).unwrap().mac();
        mac.update(payload.as_bytes());
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    #[test]
    fn a_link_round_trips_for_both_kinds_of_incident_and_is_url_safe() {
        for incident in [ARN, "pagerduty:PGR0VU2"] {
            let t = issue_link(&keys(7), incident, "aws-business", now());
            assert!(
                t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'),
                "{t}"
            );
            assert!(
                payload_of(&t).starts_with("r1|0|aws-business|"),
                "{}",
                payload_of(&t)
            );
            let link = verify_link(&keys(7), &t, now() + SignedDuration::from_hours(24 * 13)).unwrap();
            assert_eq!(
                link,
                RespondedLink {
                    incident: incident.into(),
                    plan: "aws-business".into(),
                    expires_at: now() + link_ttl(),
                }
            );
        }
    }

    #[test]
    fn forged_altered_expired_and_foreign_links_are_refused() {
        let t = issue_link(&keys(7), ARN, "aws-business", now());
        // Another key: forged.
        assert_eq!(verify_link(&keys(8), &t, now()), Err(LinkError::BadSignature));
        let payload = payload_of(&t);
        let tag = t.split_once('.').unwrap().1;
        let altered = |p: String| format!("{}.{tag}", URL_SAFE_NO_PAD.encode(p));
        // Another plan, another incident, another kid: the tag no longer matches.
        for p in [
            payload.replace("aws-business", "stripe-premium"),
            payload.replace("6ac3b7d0", "6ac3b7d1"),
            payload.replacen("r1|0|", "r1|k9|", 1),
        ] {
            assert_eq!(
                verify_link(&keys(7), &altered(p), now()),
                Err(LinkError::BadSignature)
            );
        }
        // Expired, to the second.
        assert_eq!(
            verify_link(&keys(7), &t, now() + link_ttl()),
            Err(LinkError::Expired)
        );
        assert!(verify_link(&keys(7), &t, now() + link_ttl() - SignedDuration::from_secs(1)).is_ok());
        // Signed, but claiming more than 14 days and the clock skew.
        let skew = now().as_second() + 14 * 86_400 + CLOCK_SKEW_SECS;
        let edge = resign(&format!("r1|0|aws-business|{skew}|{ARN}"), 7);
        assert!(verify_link(&keys(7), &edge, now()).is_ok());
        let long = resign(&format!("r1|0|aws-business|{}|{ARN}", skew + 1), 7);
        assert_eq!(verify_link(&keys(7), &long, now()), Err(LinkError::TooLong));
        // Signed, but the payload is not ours: a bad plan, an empty incident.
        let exp = now().as_second() + 60;
        for p in [
            format!("r1|0|Not A Slug|{exp}|{ARN}"),
            format!("r1|0|aws-business|{exp}|"),
        ] {
            assert_eq!(
                verify_link(&keys(7), &resign(&p, 7), now()),
                Err(LinkError::Malformed),
                "{p}"
            );
        }
        for bad in [
            "",
            "abc",
            "a.b",
            "!!.!!",
            &t[..t.len() - 5],
            &"x".repeat(2100),
            &format!("{t}.x"),
        ] {
            assert_eq!(
                verify_link(&keys(7), bad, now()),
                Err(LinkError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_verification_token_is_never_a_responded_link_nor_the_other_way_round() {
        let ks = keys(7);
        let spec = crate::PlanSpec::parse(&json!({
            "id": "aws-business", "vendor": "AWS", "tier": "Business",
            "owner": {"team": "platform", "email": "platform@example.com"},
            "channels": [{"kind": "portal", "value": "https://support.example.com", "hours": "24x7"}],
            "escalation_steps": [{"title": "Open a case"}],
            "contacts": [{"id": "tam", "name": "Sam", "role": "vendor-tam", "phone": "+12065550102"}]
        }))
        .unwrap();
        let plan =
            crate::SupportPlan::create(spec, &crate::Actor::parse("alice@example.com").unwrap(), now());
        let c = &plan.spec.contacts[0];
        let verify = token::issue(&ks, &token::LinkFor::of(&plan, c), now());
        assert_eq!(verify_link(&ks, &verify, now()), Err(LinkError::Malformed));
        let responded = issue_link(&ks, ARN, "aws-business", now());
        assert_eq!(
            token::verify(&ks, &responded, now()),
            Err(token::TokenError::Malformed)
        );
        // Even a verification payload signed under the key, read as a link.
        let v2 = resign(&payload_of(&verify), 7);
        assert_eq!(verify_link(&ks, &v2, now()), Err(LinkError::Malformed));
    }

    #[test]
    fn links_rotate_with_the_key_set() {
        let old = "o".repeat(40);
        let new = "n".repeat(40);
        let plain = KeySet::parse(&old).unwrap();
        let t_old = issue_link(&plain, ARN, "aws-business", now());
        let na = now() + SignedDuration::from_hours(24 * 15);
        let both = KeySet::parse(&format!(
            r#"{{"keys": [{{"kid": "0", "key": "{old}", "not_after": "{na}"}}, {{"kid": "k2", "key": "{new}"}}]}}"#
        ))
        .unwrap();
        let t_new = issue_link(&both, ARN, "aws-business", now());
        assert!(payload_of(&t_new).starts_with("r1|k2|"));
        assert!(
            verify_link(&both, &t_old, now()).is_ok(),
            "the old key while listed"
        );
        assert!(verify_link(&both, &t_new, now()).is_ok());
        assert_eq!(
            verify_link(&plain, &t_new, now()),
            Err(LinkError::BadSignature),
            "unknown kid"
        );
        let t_late = issue_link(&plain, ARN, "aws-business", na - SignedDuration::from_hours(1));
        assert_eq!(verify_link(&both, &t_late, na), Err(LinkError::RetiredKey));
    }

    #[test]
    fn the_links_base_is_the_responded_url() {
        let l = RespondedLinks::new("https://api.example.com/responded/", keys(1)).unwrap();
        let url = l.url(ARN, "aws-business", now());
        let t = url.strip_prefix("https://api.example.com/responded/").unwrap();
        assert_eq!(verify_link(&keys(1), t, now()).unwrap().plan, "aws-business");
        for bad in [
            "https://api.example.com/",
            "ftp://x/responded/",
            "https://a/responded/?x",
        ] {
            let e = RespondedLinks::new(bad, keys(1)).unwrap_err();
            assert!(e.contains("RESPONDED_URL"), "{e}");
        }
    }

    #[test]
    fn a_name_is_one_trimmed_line_of_1_to_100_characters() {
        assert_eq!(ByName::parse("  Dana Reyes ").unwrap().as_str(), "Dana Reyes");
        assert_eq!(
            ByName::parse(&"é".repeat(100)).unwrap().as_str().chars().count(),
            100
        );
        for (bad, says) in [
            ("", "name"),
            ("   ", "name"),
            ("a\nb", "one line"),
            (&*"x".repeat(101), "100"),
        ] {
            assert!(ByName::parse(bad).unwrap_err().contains(says), "{bad:?}");
        }
    }

    #[test]
    fn the_portals_incident_is_an_incident_arn_or_a_pagerduty_id() {
        assert_eq!(incident_key(ARN).unwrap(), ARN);
        assert_eq!(incident_key("PGR0VU2").unwrap(), "pagerduty:PGR0VU2");
        for bad in [
            "",
            "pgr0vu2",
            "P-1",
            &"A".repeat(21),
            "arn:aws:s3:::bucket",
            "pagerduty:PGR0VU2",
        ] {
            assert!(incident_key(bad).is_err(), "{bad}");
        }
        assert_eq!(short_id(ARN), "6ac3b7d0");
        assert_eq!(short_id("pagerduty:PGR0VU2"), "PGR0VU2");
        assert_eq!(
            hand_off(ARN, "aws-business"),
            json!({"responded": {"incident": ARN, "plan": "aws-business"}})
        );
        assert_eq!(posted_part("aws-business"), "NOTE#aws-business");
    }
}
