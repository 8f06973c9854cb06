//! SPEC §2: the lifecycle of a support plan and a workload — create, replace
//! (PUT keeps server-owned fields, contacts matched by id), verify a contact,
//! review, retire.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use support_plans_domain::{
    Actor, ChangeError, Criticality, PlanSpec, Status, SupportPlan, VerifiedVia, Workload, WorkloadSpec,
};

fn t0() -> Timestamp {
    "2026-01-10T09:30:00Z".parse().unwrap()
}

fn later(hours: i64) -> Timestamp {
    t0().checked_add(SignedDuration::from_hours(hours)).unwrap()
}

fn alice() -> Actor {
    Actor::parse("alice@example.com").unwrap()
}

fn bob() -> Actor {
    Actor::parse("arn:aws:iam::111122223333:role/platform-admin").unwrap()
}

fn plan_body() -> Value {
    json!({
        "id": "acme-cloud",
        "vendor": "Acme",
        "tier": "Gold",
        "owner": { "team": "platform", "email": "platform@example.com" },
        "channels": [{ "kind": "portal", "value": "https://support.acme.example.com", "hours": "24x7" }],
        "escalation_steps": [{ "title": "Open a case", "contact": "acme-tam" }],
        "contacts": [
            { "id": "platform-lead", "name": "Maya", "role": "owner", "email": "maya@example.com" },
            { "id": "acme-tam", "name": "Tom", "role": "vendor-tam", "phone": "+12065550101" },
            { "id": "acme-am", "name": "Ann", "role": "vendor-account-manager", "email": "ann@acme.example.com" }
        ]
    })
}

fn spec(body: &Value) -> PlanSpec {
    PlanSpec::parse(body).unwrap_or_else(|e| panic!("{e}"))
}

fn contact<'a>(plan: &'a SupportPlan, id: &str) -> &'a support_plans_domain::Contact {
    plan.spec
        .contacts
        .iter()
        .find(|c| c.id.as_str() == id)
        .unwrap_or_else(|| panic!("no contact {id}"))
}

/// A plan created at t0 by alice, whose two first contacts were then verified by bob.
fn verified_plan() -> SupportPlan {
    SupportPlan::create(spec(&plan_body()), &alice(), t0())
        .contact_verified(
            "platform-lead",
            &bob(),
            VerifiedVia::Api,
            Some("Handover call".into()),
            later(1),
        )
        .unwrap()
        .contact_verified("acme-tam", &bob(), VerifiedVia::Link, None, later(2))
        .unwrap()
        .reviewed(&alice(), later(3))
}

// ---------------------------------------------------------------- plans

#[test]
fn create_gives_version_1_stamped_with_the_actor_and_time() {
    let plan = SupportPlan::create(spec(&plan_body()), &alice(), t0());
    assert_eq!(plan.meta.version, 1);
    assert_eq!(plan.meta.created_at, t0());
    assert_eq!(plan.meta.updated_at, t0());
    assert_eq!(plan.meta.updated_by, alice());
    assert_eq!(plan.id().as_str(), "acme-cloud");
    assert_eq!(plan.reviewed_at, None);
    assert_eq!(plan.reviewed_by, None);
    assert!(plan.is_active());
    assert!(
        plan.spec
            .contacts
            .iter()
            .all(|c| c.verified_at.is_none() && c.verified_by.is_none())
    );
}

#[test]
fn contact_verified_records_the_attestation_and_bumps_the_version() {
    let plan = SupportPlan::create(spec(&plan_body()), &alice(), t0());
    let next = plan
        .contact_verified(
            "acme-tam",
            &bob(),
            VerifiedVia::Link,
            Some("Called, still our TAM.".into()),
            later(5),
        )
        .unwrap();
    let c = contact(&next, "acme-tam");
    assert_eq!(c.verified_at, Some(later(5)));
    assert_eq!(c.verified_by, Some(bob()));
    assert_eq!(c.verified_via, Some(VerifiedVia::Link));
    assert_eq!(c.verified_note.as_deref(), Some("Called, still our TAM."));
    // Only that contact.
    assert_eq!(contact(&next, "platform-lead").verified_at, None);
    assert_eq!(contact(&next, "acme-am").verified_at, None);
    assert_eq!(next.meta.version, 2);
    assert_eq!(next.meta.created_at, t0());
    assert_eq!(next.meta.updated_at, later(5));
    assert_eq!(next.meta.updated_by, bob());
    // The original is untouched.
    assert_eq!(contact(&plan, "acme-tam").verified_at, None);
    assert_eq!(plan.meta.version, 1);

    // Verifying again replaces the attestation; an empty note is no note.
    let again = next
        .contact_verified(
            "acme-tam",
            &alice(),
            VerifiedVia::Api,
            Some(String::new()),
            later(9),
        )
        .unwrap();
    let c = contact(&again, "acme-tam");
    assert_eq!(c.verified_at, Some(later(9)));
    assert_eq!(c.verified_by, Some(alice()));
    assert_eq!(c.verified_via, Some(VerifiedVia::Api));
    assert_eq!(c.verified_note, None);
    assert_eq!(again.meta.version, 3);
}

#[test]
fn contact_verified_refuses_an_unknown_contact_and_a_bad_note() {
    let plan = SupportPlan::create(spec(&plan_body()), &alice(), t0());
    match plan.contact_verified("nobody", &bob(), VerifiedVia::Api, None, later(1)) {
        Err(ChangeError::UnknownContact(id)) => assert_eq!(id, "nobody"),
        other => panic!("expected UnknownContact, got {other:?}"),
    }
    match plan.contact_verified(
        "acme-tam",
        &bob(),
        VerifiedVia::Api,
        Some("n".repeat(501)),
        later(1),
    ) {
        Err(ChangeError::Invalid(e)) => assert_eq!(e.fields(), ["note"]),
        other => panic!("expected Invalid(note), got {other:?}"),
    }
    match plan.contact_verified(
        "acme-tam",
        &bob(),
        VerifiedVia::Api,
        Some("a\u{0}b".into()),
        later(1),
    ) {
        Err(ChangeError::Invalid(e)) => assert_eq!(e.fields(), ["note"]),
        other => panic!("expected Invalid(note), got {other:?}"),
    }
    assert!(
        plan.contact_verified(
            "acme-tam",
            &bob(),
            VerifiedVia::Api,
            Some("line one\nline two".into()),
            later(1)
        )
        .is_ok()
    );
}

#[test]
fn reviewed_sets_reviewed_at_and_by() {
    let plan = SupportPlan::create(spec(&plan_body()), &alice(), t0());
    let next = plan.reviewed(&bob(), later(24));
    assert_eq!(next.reviewed_at, Some(later(24)));
    assert_eq!(next.reviewed_by, Some(bob()));
    assert_eq!(next.meta.version, 2);
    assert_eq!(next.meta.updated_at, later(24));
    assert_eq!(next.meta.updated_by, bob());
    assert_eq!(next.spec, plan.spec, "a review changes nothing the caller owns");
}

#[test]
fn retired_sets_status_retired() {
    let plan = verified_plan();
    let next = plan.retired(&bob(), later(48));
    assert_eq!(next.spec.status, Status::Retired);
    assert!(!next.is_active());
    assert_eq!(next.meta.version, plan.meta.version + 1);
    assert_eq!(next.meta.updated_by, bob());
    assert_eq!(next.meta.updated_at, later(48));
    assert_eq!(next.meta.created_at, t0());
    // Nothing else is lost.
    assert_eq!(next.reviewed_at, plan.reviewed_at);
    assert_eq!(next.spec.contacts, plan.spec.contacts);
}

#[test]
fn replaced_keeps_attestations_of_unchanged_contacts_by_id_and_the_review() {
    let plan = verified_plan();
    assert_eq!(plan.meta.version, 4);

    // The caller's copy of the plan: no attestations, contacts reordered,
    // acme-am removed, a new contact added, the TAM's phone changed.
    let mut body = plan_body();
    body["vendor"] = json!("Acme Corporation");
    body["contacts"] = json!([
        { "id": "acme-tam", "name": "Tom Tam", "role": "vendor-tam", "phone": "+12065550199" },
        { "id": "acme-support", "name": "Desk", "role": "vendor-support", "email": "desk@acme.example.com" },
        { "id": "platform-lead", "name": "Maya", "role": "owner", "email": "maya@example.com" }
    ]);
    let new_spec = spec(&body);
    assert!(new_spec.contacts.iter().all(|c| c.verified_at.is_none()));

    let next = plan.replaced(new_spec, &bob(), later(100)).unwrap();

    assert_eq!(next.meta.version, 5);
    assert_eq!(next.meta.created_at, t0());
    assert_eq!(next.meta.updated_at, later(100));
    assert_eq!(next.meta.updated_by, bob());
    assert_eq!(next.spec.vendor, "Acme Corporation", "the new spec is applied");

    // The TAM's name and phone changed: someone else may answer now, so
    // the attestation is dropped (issue 12; tests/attestation.rs).
    let tam = contact(&next, "acme-tam");
    assert_eq!(tam.name, "Tom Tam");
    assert_eq!(tam.phone.as_ref().map(|p| p.as_str()), Some("+12065550199"));
    assert_eq!(tam.verified_at, None);
    assert_eq!(tam.verified_by, None);
    assert_eq!(tam.verified_via, None);
    assert_eq!(tam.verified_note, None);

    let lead = contact(&next, "platform-lead");
    assert_eq!(lead.verified_at, Some(later(1)));
    assert_eq!(lead.verified_by, Some(bob()));
    assert_eq!(lead.verified_via, Some(VerifiedVia::Api));
    assert_eq!(lead.verified_note.as_deref(), Some("Handover call"));

    let new = contact(&next, "acme-support");
    assert_eq!(new.verified_at, None, "a new contact is unverified");
    assert_eq!(new.verified_by, None);
    assert_eq!(new.verified_via, None);

    assert!(
        next.spec.contacts.iter().all(|c| c.id.as_str() != "acme-am"),
        "a removed contact is gone"
    );

    assert_eq!(next.reviewed_at, Some(later(3)));
    assert_eq!(next.reviewed_by, Some(alice()));
}

#[test]
fn replaced_does_not_carry_an_attestation_to_a_renamed_contact() {
    let plan = verified_plan();
    let mut body = plan_body();
    body["contacts"][0]["id"] = json!("platform-lead-2");
    body["escalation_steps"][0]["contact"] = json!("acme-tam");
    let next = plan.replaced(spec(&body), &bob(), later(100)).unwrap();
    assert_eq!(contact(&next, "platform-lead-2").verified_at, None);
    assert_eq!(contact(&next, "acme-tam").verified_at, Some(later(2)));
}

#[test]
fn replaced_then_re_adding_a_removed_contact_starts_unverified() {
    let plan = verified_plan();
    let mut without = plan_body();
    without["contacts"].as_array_mut().unwrap().remove(0); // platform-lead
    let v5 = plan.replaced(spec(&without), &alice(), later(10)).unwrap();
    let v6 = v5.replaced(spec(&plan_body()), &alice(), later(11)).unwrap();
    assert_eq!(v6.meta.version, 6);
    assert_eq!(
        contact(&v6, "platform-lead").verified_at,
        None,
        "the attestation went with the removal"
    );
    assert_eq!(contact(&v6, "acme-tam").verified_at, Some(later(2)));
}

#[test]
fn replaced_with_the_same_body_is_idempotent_for_server_owned_fields() {
    let plan = verified_plan();
    let next = plan.replaced(spec(&plan_body()), &alice(), later(50)).unwrap();
    assert_eq!(next.spec.contacts, plan.spec.contacts);
    assert_eq!(next.reviewed_at, plan.reviewed_at);
    assert_eq!(next.spec, plan.spec);
}

#[test]
fn replaced_refuses_a_changed_id() {
    let plan = verified_plan();
    let mut body = plan_body();
    body["id"] = json!("acme-cloud-2");
    match plan.replaced(spec(&body), &bob(), later(100)) {
        Err(ChangeError::Invalid(e)) => {
            assert_eq!(e.fields(), ["id"]);
            assert!(e.message_for("id").unwrap().contains("acme-cloud"), "{e}");
        }
        other => panic!("expected Invalid(id), got {other:?}"),
    }
}

#[test]
fn replaced_can_retire_through_the_spec_and_keeps_history_fields() {
    let plan = verified_plan();
    let mut body = plan_body();
    body["status"] = json!("retired");
    let next = plan.replaced(spec(&body), &bob(), later(100)).unwrap();
    assert_eq!(next.spec.status, Status::Retired);
    assert_eq!(next.meta.created_at, plan.meta.created_at);
}

#[test]
fn a_stored_plan_round_trips_through_json() {
    let plan = verified_plan();
    let text = serde_json::to_string(&plan).unwrap();
    let back: SupportPlan = serde_json::from_str(&text).unwrap();
    assert_eq!(back, plan);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], json!(4));
    assert_eq!(v["contacts"][1]["verified_via"], json!("link"));
    assert_eq!(v["reviewed_by"], json!("alice@example.com"));
}

// ---------------------------------------------------------------- workloads

fn workload_body() -> Value {
    json!({
        "name": "payments",
        "owner": { "team": "payments", "email": "payments@example.com" },
        "criticality": "tier-1",
        "dependencies": ["acme-cloud"],
        "match": { "title_keywords": ["payments"] }
    })
}

fn wspec(body: &Value) -> WorkloadSpec {
    WorkloadSpec::parse(body).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn workload_create_gives_version_1_active() {
    let w = Workload::create(wspec(&workload_body()), &alice(), t0());
    assert_eq!(w.meta.version, 1);
    assert_eq!(w.meta.created_at, t0());
    assert_eq!(w.meta.updated_at, t0());
    assert_eq!(w.meta.updated_by, alice());
    assert_eq!(w.status, Status::Active);
    assert!(w.is_active());
    assert_eq!(w.name().as_str(), "payments");
}

#[test]
fn workload_replaced_applies_the_spec_and_bumps_the_version() {
    let w = Workload::create(wspec(&workload_body()), &alice(), t0());
    let mut body = workload_body();
    body["criticality"] = json!("tier-3");
    body["dependencies"] = json!(["acme-cloud", "other-plan"]);
    let next = w.replaced(wspec(&body), &bob(), later(1)).unwrap();
    assert_eq!(next.spec.criticality, Criticality::Tier3);
    assert_eq!(next.spec.dependencies.len(), 2);
    assert_eq!(next.meta.version, 2);
    assert_eq!(next.meta.created_at, t0());
    assert_eq!(next.meta.updated_at, later(1));
    assert_eq!(next.meta.updated_by, bob());
    assert_eq!(next.status, Status::Active);
}

#[test]
fn workload_name_is_immutable() {
    let w = Workload::create(wspec(&workload_body()), &alice(), t0());
    let mut body = workload_body();
    body["name"] = json!("payments-v2");
    match w.replaced(wspec(&body), &bob(), later(1)) {
        Err(ChangeError::Invalid(e)) => assert_eq!(e.fields(), ["name"]),
        other => panic!("expected Invalid(name), got {other:?}"),
    }
}

#[test]
fn workload_retired_sets_status_and_a_replace_does_not_revive_it() {
    let w = Workload::create(wspec(&workload_body()), &alice(), t0());
    let retired = w.retired(&bob(), later(1));
    assert_eq!(retired.status, Status::Retired);
    assert!(!retired.is_active());
    assert_eq!(retired.meta.version, 2);
    assert_eq!(retired.meta.updated_by, bob());
    assert_eq!(retired.spec, w.spec);
    // status is server-owned: a PUT keeps it.
    let replaced = retired
        .replaced(wspec(&workload_body()), &alice(), later(2))
        .unwrap();
    assert_eq!(replaced.status, Status::Retired);
    assert_eq!(replaced.meta.version, 3);
}
