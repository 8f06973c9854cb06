//! SPEC §11: the signed webhooks' verifiers (PagerDuty V3, Standard
//! Webhooks) against the published vectors, rotation on both sides,
//! tampering, missing and malformed headers, the timestamp window and a
//! replayed `webhook-id` refused through the in-memory replay store.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use sha2::Sha256;
use support_plans_domain::testing::webhook_ids::FakeWebhookIds;
use support_plans_domain::webhook::{
    MAX_BODY_BYTES, SecretError, StandardHeaders, TOLERANCE, WebhookError, WebhookSecrets, handed_off,
    not_replayed, verify_pagerduty, verify_standard,
};

// ---- PagerDuty V3 ----------------------------------------------------------

// The vector of PagerDuty's own client library (go-pagerduty,
// webhookv3/webhookv3_test.go): its test secret, body and `v1` signature.
const PD_SECRET: &str = "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK";
const PD_SIG: &str = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd";
const PD_OTHER_SIG: &str = "v1=7020c8a7ec668a9b7012bc3dd82e483394b038f4230acc6785efbf2a7d8bcaf5";
const PD_BODY: &str = r#"{"event":{"id":"01BWDWL3NYY7LUFPZCC28QUCMK","event_type":"incident.priority_updated","resource_type":"incident","occurred_at":"2021-04-26T17:36:27.458Z","agent":{"html_url":"https://acme.pagerduty.com/users/PLH1HKV","id":"PLH1HKV","self":"https://api.pagerduty.com/users/PLH1HKV","summary":"Tenex Engineer","type":"user_reference"},"client":null,"data":{"id":"PGR0VU2","type":"incident","self":"https://api.pagerduty.com/incidents/PGR0VU2","html_url":"https://acme.pagerduty.com/incidents/PGR0VU2","number":2,"status":"triggered","title":"A little bump in the road","service":{"html_url":"https://acme.pagerduty.com/services/PF9KMXH","id":"PF9KMXH","self":"https://api.pagerduty.com/services/PF9KMXH","summary":"API Service","type":"service_reference"},"assignees":[{"html_url":"https://acme.pagerduty.com/users/PTUXL6G","id":"PTUXL6G","self":"https://api.pagerduty.com/users/PTUXL6G","summary":"User 123","type":"user_reference"}],"escalation_policy":{"html_url":"https://acme.pagerduty.com/escalation_policies/PUS0KTE","id":"PUS0KTE","self":"https://api.pagerduty.com/escalation_policies/PUS0KTE","summary":"Default","type":"escalation_policy_reference"},"teams":[{"html_url":"https://acme.pagerduty.com/teams/PFCVPS0","id":"PFCVPS0","self":"https://api.pagerduty.com/teams/PFCVPS0","summary":"Engineering","type":"team_reference"}],"priority":{"html_url":"https://acme.pagerduty.com/account/incident_priorities","id":"PSO75BM","self":"https://api.pagerduty.com/priorities/PSO75BM","summary":"P1","type":"priority_reference"},"urgency":"high","conference_bridge":{"conference_number":1000,"conference_url":"https://example.com"},"resolve_reason":null}}}"#;

fn pd(secrets: &str, sig: Option<&str>, body: &str) -> Result<(), WebhookError> {
    let secrets = WebhookSecrets::pagerduty(secrets).unwrap();
    verify_pagerduty(&secrets, sig.map(str::as_bytes), body.as_bytes())
}

fn hmac(key: &[u8], content: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(content);
    mac.finalize().into_bytes().to_vec()
}

fn pd_sig(secret: &str, body: &str) -> String {
    let tag = hmac(secret.as_bytes(), body.as_bytes());
    format!(
        "v1={}",
        tag.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

#[test]
fn pagerduty_vector_verifies() {
    pd(PD_SECRET, Some(PD_SIG), PD_BODY).unwrap();
}

#[test]
fn pagerduty_rotation_either_signature_either_secret() {
    // PagerDuty rotating: two v1 values, ours is second, with spaces.
    pd(PD_SECRET, Some(&format!("{PD_OTHER_SIG}, {PD_SIG}")), PD_BODY).unwrap();
    pd(PD_SECRET, Some(&format!("{PD_SIG},{PD_OTHER_SIG}")), PD_BODY).unwrap();
    // Unknown versions are skipped, not refused.
    pd(PD_SECRET, Some(&format!("v2=abc,{PD_SIG}")), PD_BODY).unwrap();
    // Us rotating: the old secret and the new one, one per line.
    pd(
        &format!("new-secret-0123456789\n{PD_SECRET}"),
        Some(PD_SIG),
        PD_BODY,
    )
    .unwrap();
    let new_sig = pd_sig("new-secret-0123456789", PD_BODY);
    pd(
        &format!("new-secret-0123456789\n{PD_SECRET}"),
        Some(&new_sig),
        PD_BODY,
    )
    .unwrap();
    // The new secret alone does not verify the old signature.
    assert!(matches!(
        pd("new-secret-0123456789", Some(PD_SIG), PD_BODY),
        Err(WebhookError::NoMatch("X-PagerDuty-Signature"))
    ));
}

#[test]
fn pagerduty_tampered_body_or_wrong_secret_is_401() {
    let tampered = PD_BODY.replace("\"P1\"", "\"P5\"");
    let e = pd(PD_SECRET, Some(PD_SIG), &tampered).unwrap_err();
    assert_eq!(e.status(), 401);
    assert_eq!(e.to_string(), "no signature in X-PagerDuty-Signature matches");
    // A trailing newline is a different body: the raw bytes are signed.
    assert!(pd(PD_SECRET, Some(PD_SIG), &format!("{PD_BODY}\n")).is_err());
    let e = pd("not-the-secret", Some(PD_SIG), PD_BODY).unwrap_err();
    assert!(matches!(e, WebhookError::NoMatch(_)));
    // The upper-case hex of the right tag is accepted (hex is hex).
    pd(
        PD_SECRET,
        Some(&PD_SIG.to_uppercase().replacen("V1", "v1", 1)),
        PD_BODY,
    )
    .unwrap();
}

#[test]
fn pagerduty_missing_and_malformed_headers() {
    let e = pd(PD_SECRET, None, PD_BODY).unwrap_err();
    assert_eq!(
        (e.status(), e.to_string()),
        (401, "missing X-PagerDuty-Signature".to_owned())
    );
    assert!(matches!(
        pd(PD_SECRET, Some("  "), PD_BODY),
        Err(WebhookError::MissingHeader(_))
    ));
    for bad in [
        "0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd", // no version
        "v1=0c0b",                                                          // short
        "v1=zz0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd", // not hex
        "v2=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd", // no v1
    ] {
        let e = pd(PD_SECRET, Some(bad), PD_BODY).unwrap_err();
        assert_eq!(e.status(), 400, "{bad}");
        assert!(
            e.to_string().starts_with("malformed X-PagerDuty-Signature: "),
            "{e}"
        );
        assert!(!e.to_string().contains("0c0b"), "echoes the header: {e}");
    }
    let nine = [PD_SIG; 9].join(",");
    assert_eq!(pd(PD_SECRET, Some(&nine), PD_BODY).unwrap_err().status(), 400);
    let secrets = WebhookSecrets::pagerduty(PD_SECRET).unwrap();
    let e = verify_pagerduty(&secrets, Some(b"v1=\xff"), PD_BODY.as_bytes()).unwrap_err();
    assert_eq!(e.to_string(), "malformed X-PagerDuty-Signature: not UTF-8");
}

#[test]
fn body_over_the_cap_is_413_before_any_hmac() {
    let big = "x".repeat(MAX_BODY_BYTES + 1);
    let sig = pd_sig(PD_SECRET, &big);
    assert_eq!(pd(PD_SECRET, Some(&sig), &big).unwrap_err().status(), 413);
    let at_cap = "x".repeat(MAX_BODY_BYTES);
    pd(PD_SECRET, Some(&pd_sig(PD_SECRET, &at_cap)), &at_cap).unwrap();
}

#[test]
fn secrets_are_checked_at_start_and_never_shown() {
    assert_eq!(WebhookSecrets::pagerduty(" \n ").unwrap_err(), SecretError::Empty);
    assert_eq!(
        WebhookSecrets::pagerduty(&"s ".repeat(9)).unwrap_err(),
        SecretError::TooMany
    );
    assert_eq!(
        WebhookSecrets::standard(&format!("{SW_SECRET} whsec_not*base64")).unwrap_err(),
        SecretError::NotBase64 { index: 2 }
    );
    // 16 bytes: under the spec's 24.
    let short = format!("whsec_{}", STANDARD.encode([7u8; 16]));
    let e = WebhookSecrets::standard(&short).unwrap_err();
    assert_eq!(
        e.to_string(),
        "webhook secret #1 has 16 key bytes; at least 24 are needed"
    );
    let secrets = WebhookSecrets::pagerduty(&format!("{PD_SECRET}\nother")).unwrap();
    assert_eq!(secrets.len(), 2);
    let shown = format!("{secrets:?}");
    assert!(!shown.contains("lDQH") && !shown.contains("other"), "{shown}");
}

// ---- Standard Webhooks -------------------------------------------------------

// The vector of the spec's reference Rust library
// (standard-webhooks/libraries/rust/src/lib.rs, `test_sign`).
const SW_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const SW_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
const SW_TS: i64 = 1649367553;
const SW_BODY: &str = r#"{"email":"test@example.com","username":"test_user"}"#;
const SW_SIG: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(secs).unwrap()
}

fn sw(
    secrets: &str,
    id: Option<&str>,
    ts: Option<&str>,
    sig: Option<&str>,
    body: &str,
    now: Timestamp,
) -> Result<String, WebhookError> {
    let secrets = WebhookSecrets::standard(secrets).unwrap();
    let headers = StandardHeaders {
        id: id.map(str::as_bytes),
        timestamp: ts.map(str::as_bytes),
        signature: sig.map(str::as_bytes),
    };
    verify_standard(&secrets, headers, body.as_bytes(), now).map(|v| v.id)
}

fn sw_sig(secret: &str, id: &str, ts: i64, body: &str) -> String {
    let key = STANDARD.decode(secret.trim_start_matches("whsec_")).unwrap();
    format!(
        "v1,{}",
        STANDARD.encode(hmac(&key, format!("{id}.{ts}.{body}").as_bytes()))
    )
}

fn vector(now: Timestamp) -> Result<String, WebhookError> {
    sw(
        SW_SECRET,
        Some(SW_ID),
        Some(&SW_TS.to_string()),
        Some(SW_SIG),
        SW_BODY,
        now,
    )
}

#[test]
fn standard_vector_verifies_and_names_the_id() {
    assert_eq!(vector(at(SW_TS)).unwrap(), SW_ID);
    let secrets = WebhookSecrets::standard(SW_SECRET).unwrap();
    let headers = StandardHeaders {
        id: Some(SW_ID.as_bytes()),
        timestamp: Some(b"1649367553"),
        signature: Some(SW_SIG.as_bytes()),
    };
    let v = verify_standard(&secrets, headers, SW_BODY.as_bytes(), at(SW_TS + 10)).unwrap();
    assert_eq!(v.timestamp, at(SW_TS));
    assert_eq!(v.remember_until(), at(SW_TS + 300));
    // Without the prefix the secret is the same base64: the same key.
    let bare = SW_SECRET.trim_start_matches("whsec_");
    assert_eq!(
        sw(
            bare,
            Some(SW_ID),
            Some("1649367553"),
            Some(SW_SIG),
            SW_BODY,
            at(SW_TS)
        )
        .unwrap(),
        SW_ID
    );
}

#[test]
fn standard_timestamp_window_is_five_minutes_either_side() {
    assert_eq!(TOLERANCE, SignedDuration::from_mins(5));
    vector(at(SW_TS + 300)).unwrap();
    vector(at(SW_TS - 300)).unwrap();
    let e = vector(at(SW_TS + 301)).unwrap_err();
    assert_eq!(
        (e.status(), e.to_string()),
        (
            401,
            "webhook-timestamp is more than 300 seconds in the past".to_owned()
        )
    );
    let e = vector(at(SW_TS - 301)).unwrap_err();
    assert_eq!(
        (e.status(), e.to_string()),
        (
            401,
            "webhook-timestamp is more than 300 seconds in the future".to_owned()
        )
    );
    // A fresh timestamp does not rescue a signature made for another one.
    let e = sw(
        SW_SECRET,
        Some(SW_ID),
        Some(&(SW_TS + 1).to_string()),
        Some(SW_SIG),
        SW_BODY,
        at(SW_TS),
    )
    .unwrap_err();
    assert!(matches!(e, WebhookError::NoMatch("webhook-signature")));
}

#[test]
fn standard_rotation_both_sides() {
    let new = format!("whsec_{}", STANDARD.encode([42u8; 32]));
    // The sender rotating: its new signature first, the vector's second, and a v1a skipped.
    let sigs = format!("{} v1a,aGVsbG8= {SW_SIG}", sw_sig(&new, SW_ID, SW_TS, SW_BODY));
    sw(
        SW_SECRET,
        Some(SW_ID),
        Some("1649367553"),
        Some(&sigs),
        SW_BODY,
        at(SW_TS),
    )
    .unwrap();
    // Us rotating: two secrets configured, either one's signature verifies.
    let both = format!("{new}\n{SW_SECRET}");
    sw(
        &both,
        Some(SW_ID),
        Some("1649367553"),
        Some(SW_SIG),
        SW_BODY,
        at(SW_TS),
    )
    .unwrap();
    let new_sig = sw_sig(&new, SW_ID, SW_TS, SW_BODY);
    sw(
        &both,
        Some(SW_ID),
        Some("1649367553"),
        Some(&new_sig),
        SW_BODY,
        at(SW_TS),
    )
    .unwrap();
    assert!(
        sw(
            &new,
            Some(SW_ID),
            Some("1649367553"),
            Some(SW_SIG),
            SW_BODY,
            at(SW_TS)
        )
        .is_err()
    );
}

#[test]
fn standard_tampering_is_401() {
    let now = at(SW_TS);
    let ts = Some("1649367553");
    let tampered_body = SW_BODY.replace("test_user", "admin");
    for (id, body) in [(SW_ID, tampered_body.as_str()), ("msg_other", SW_BODY)] {
        let e = sw(SW_SECRET, Some(id), ts, Some(SW_SIG), body, now).unwrap_err();
        assert_eq!(
            (e.status(), e.to_string()),
            (401, "no signature in webhook-signature matches".to_owned())
        );
    }
    let wrong = format!("whsec_{}", STANDARD.encode([1u8; 32]));
    assert!(matches!(
        sw(&wrong, Some(SW_ID), ts, Some(SW_SIG), SW_BODY, now),
        Err(WebhookError::NoMatch(_))
    ));
}

#[test]
fn standard_missing_and_malformed_headers() {
    let now = at(SW_TS);
    let (id, ts, sig) = (Some(SW_ID), Some("1649367553"), Some(SW_SIG));
    for (got, header) in [
        (sw(SW_SECRET, None, ts, sig, SW_BODY, now), "webhook-id"),
        (sw(SW_SECRET, id, None, sig, SW_BODY, now), "webhook-timestamp"),
        (sw(SW_SECRET, id, ts, None, SW_BODY, now), "webhook-signature"),
    ] {
        let e = got.unwrap_err();
        assert_eq!((e.status(), e.to_string()), (401, format!("missing {header}")));
    }
    for (got, header) in [
        (
            sw(SW_SECRET, Some("msg.1649367553"), ts, sig, SW_BODY, now),
            "webhook-id",
        ),
        (
            sw(SW_SECRET, Some(&"m".repeat(257)), ts, sig, SW_BODY, now),
            "webhook-id",
        ),
        (
            sw(SW_SECRET, id, Some("1649367553.0"), sig, SW_BODY, now),
            "webhook-timestamp",
        ),
        (
            sw(SW_SECRET, id, Some("-1649367553"), sig, SW_BODY, now),
            "webhook-timestamp",
        ),
        (
            sw(SW_SECRET, id, Some("2022-04-07T21:39:13Z"), sig, SW_BODY, now),
            "webhook-timestamp",
        ),
        (
            sw(SW_SECRET, id, Some("99999999999999"), sig, SW_BODY, now),
            "webhook-timestamp",
        ),
        (
            sw(
                SW_SECRET,
                id,
                ts,
                Some("v1=tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="),
                SW_BODY,
                now,
            ),
            "webhook-signature",
        ),
        (
            sw(SW_SECRET, id, ts, Some("v1,not base64!"), SW_BODY, now),
            "webhook-signature",
        ),
        (
            sw(SW_SECRET, id, ts, Some("v1,aGVsbG8="), SW_BODY, now),
            "webhook-signature",
        ),
        (
            sw(SW_SECRET, id, ts, Some("v1a,aGVsbG8="), SW_BODY, now),
            "webhook-signature",
        ),
    ] {
        let e = got.unwrap_err();
        assert_eq!(e.status(), 400, "{e}");
        assert!(e.to_string().starts_with(&format!("malformed {header}: ")), "{e}");
    }
}

#[tokio::test]
async fn a_replayed_id_is_refused_until_its_window_ends() {
    let ids = FakeWebhookIds::default();
    let secrets = WebhookSecrets::standard(SW_SECRET).unwrap();
    let deliver = |ts: i64, now: Timestamp| {
        let sig = sw_sig(SW_SECRET, SW_ID, ts, SW_BODY);
        let ts = ts.to_string();
        let headers = StandardHeaders {
            id: Some(SW_ID.as_bytes()),
            timestamp: Some(ts.as_bytes()),
            signature: Some(sig.as_bytes()),
        };
        verify_standard(&secrets, headers, SW_BODY.as_bytes(), now)
    };
    let first = deliver(SW_TS, at(SW_TS)).unwrap();
    not_replayed(&ids, &first, at(SW_TS)).await.unwrap();
    // Until its hand-off is recorded, nothing refuses the same delivery (a
    // hand-off that failed, or a store that answered too late, leaves nothing).
    assert_eq!(ids.until(SW_ID), None);
    not_replayed(&ids, &first, at(SW_TS + 1)).await.unwrap();
    handed_off(&ids, &first).await.unwrap();
    assert_eq!(ids.until(SW_ID), Some(at(SW_TS + 300)));
    // The same delivery again, and a re-signed one with a fresh timestamp: replays.
    let again = deliver(SW_TS, at(SW_TS + 60)).unwrap();
    let e = not_replayed(&ids, &again, at(SW_TS + 60)).await.unwrap_err();
    assert_eq!(
        (e.status(), e.to_string()),
        (
            409,
            "this webhook-id was already received and handed off".to_owned()
        )
    );
    let resigned = deliver(SW_TS + 200, at(SW_TS + 200)).unwrap();
    assert!(matches!(
        not_replayed(&ids, &resigned, at(SW_TS + 200)).await,
        Err(WebhookError::Replayed)
    ));
    // The first delivery itself, at the window's very end: still refused; past it: stale.
    assert!(matches!(
        not_replayed(&ids, &again, at(SW_TS + 300)).await,
        Err(WebhookError::Replayed)
    ));
    assert!(matches!(
        deliver(SW_TS, at(SW_TS + 301)),
        Err(WebhookError::Stale)
    ));
    // A re-signed delivery after the window: the record has expired.
    let later = deliver(SW_TS + 301, at(SW_TS + 301)).unwrap();
    not_replayed(&ids, &later, at(SW_TS + 301)).await.unwrap();
}
