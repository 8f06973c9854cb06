//! SPEC §2, §5 (issue 12): an attestation belongs to a person. A `PUT` that
//! changes a contact's name, e-mail or phone drops its attestation; one that
//! changes anything else (or nothing: plans as code re-applied) keeps it.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use support_plans_domain::{Actor, PlanSpec, SupportPlan, VerifiedVia};

fn t0() -> Timestamp {
    "2026-01-10T09:30:00Z".parse().unwrap()
}

fn later(hours: i64) -> Timestamp {
    t0() + SignedDuration::from_hours(hours)
}

fn alice() -> Actor {
    Actor::parse("alice@example.com").unwrap()
}

fn body() -> Value {
    json!({
        "id": "acme-cloud",
        "vendor": "Acme",
        "tier": "Gold",
        "owner": { "team": "platform", "email": "platform@example.com" },
        "channels": [{ "kind": "portal", "value": "https://support.acme.example.com", "hours": "24x7" }],
        "escalation_steps": [{ "title": "Open a case", "contact": "tam" }],
        "contacts": [
            { "id": "tam", "name": "Tom", "role": "vendor-tam", "phone": "+12065550101", "email": "tom@acme.example.com" },
            { "id": "am", "name": "Ann", "role": "vendor-account-manager", "email": "ann@acme.example.com" }
        ]
    })
}

/// Both contacts attested at later(1).
fn attested() -> SupportPlan {
    let spec = PlanSpec::parse(&body()).unwrap();
    SupportPlan::create(spec, &alice(), t0())
        .contact_verified(
            "tam",
            &alice(),
            VerifiedVia::Link,
            Some("called".into()),
            later(1),
        )
        .unwrap()
        .contact_verified("am", &alice(), VerifiedVia::Api, None, later(1))
        .unwrap()
}

fn put(plan: &SupportPlan, edit: impl FnOnce(&mut Value)) -> SupportPlan {
    let mut b = body();
    edit(&mut b);
    plan.replaced(PlanSpec::parse(&b).unwrap(), &alice(), later(2))
        .unwrap()
}

fn attestation(plan: &SupportPlan, id: &str) -> (Option<Timestamp>, bool, bool, bool) {
    let c = plan.spec.contacts.iter().find(|c| c.id.as_str() == id).unwrap();
    (
        c.verified_at,
        c.verified_by.is_some(),
        c.verified_via.is_some(),
        c.verified_note.is_some(),
    )
}

#[test]
fn a_changed_name_email_or_phone_drops_the_attestation_and_only_that_contacts() {
    let plan = attested();
    for (what, field, value) in [
        ("phone", "phone", json!("+12065550199")),
        ("e-mail", "email", json!("tom.t@acme.example.com")),
        ("name", "name", json!("Tomás")),
    ] {
        let next = put(&plan, |b| b["contacts"][0][field] = value.clone());
        assert_eq!(
            attestation(&next, "tam"),
            (None, false, false, false),
            "{what} changed: the contact is due again"
        );
        assert_eq!(
            attestation(&next, "am"),
            (Some(later(1)), true, true, false),
            "{what}: the unchanged contact keeps its attestation"
        );
    }
    // A phone removed (the e-mail stays) is a change too.
    let next = put(&plan, |b| {
        b["contacts"][0].as_object_mut().unwrap().remove("phone");
    });
    assert_eq!(attestation(&next, "tam").0, None);
}

#[test]
fn the_same_plan_reapplied_or_other_fields_changed_keep_every_attestation() {
    let plan = attested();
    let same = put(&plan, |_| {});
    assert_eq!(attestation(&same, "tam"), (Some(later(1)), true, true, true));
    assert_eq!(attestation(&same, "am"), (Some(later(1)), true, true, false));
    // The role, the contact's own period, the order of contacts and the
    // rest of the plan are not who answers: kept.
    let other = put(&plan, |b| {
        b["vendor"] = json!("Acme Corporation");
        b["contacts"][0]["role"] = json!("vendor-support");
        b["contacts"][0]["verify_every_days"] = json!(30);
        let contacts = b["contacts"].as_array_mut().unwrap();
        contacts.reverse();
    });
    assert_eq!(attestation(&other, "tam").0, Some(later(1)));
    assert_eq!(attestation(&other, "am").0, Some(later(1)));
}

#[test]
fn a_retired_plan_made_active_again_starts_a_new_life_and_a_body_cannot_set_it() {
    let plan = attested();
    assert_eq!((plan.reactivated_at, plan.life()), (None, t0()));
    // Active to active: the same life.
    let same = put(&plan, |_| {});
    assert_eq!((same.reactivated_at, same.life()), (None, t0()));
    // Retired, then a PUT with status active (the body says "active" by default).
    let retired = plan.retired(&alice(), later(2));
    let back = retired
        .replaced(PlanSpec::parse(&body()).unwrap(), &alice(), later(3))
        .unwrap();
    assert!(back.is_active());
    assert_eq!((back.reactivated_at, back.life()), (Some(later(3)), later(3)));
    assert_eq!(back.meta.created_at, t0(), "created_at does not change");
    // Retired by a PUT too, and kept retired by the next one: no new life.
    let mut retire = body();
    retire["status"] = json!("retired");
    let still = retired
        .replaced(PlanSpec::parse(&retire).unwrap(), &alice(), later(3))
        .unwrap();
    assert_eq!(still.reactivated_at, None);
    // A body that sends reactivated_at back (from a GET) is accepted, and ignored.
    let mut sent = body();
    sent["reactivated_at"] = json!("2030-01-01T00:00:00Z");
    let next = back
        .replaced(PlanSpec::parse(&sent).unwrap(), &alice(), later(4))
        .unwrap();
    assert_eq!(next.reactivated_at, Some(later(3)));
}
