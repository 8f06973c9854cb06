//! SPEC §5, issue 18: the owner corrects a contact through the verification
//! page ("It changed"). The plan's own validation checks the values; the
//! next version carries them, verified by the owner through the link; the
//! history keeps the old ones; a second submit writes nothing; a stale form
//! is a conflict.

use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use support_plans_domain::model::ContactFields;
use support_plans_domain::ports::{PageRequest, PlanStore as _};
use support_plans_domain::testing::store::InMemoryStore;
use support_plans_domain::token::{self, KeySet, LinkFor, VerifyClaims, VerifyKey};
use support_plans_domain::verification::{self, ConfirmError, CorrectError, Corrected};
use support_plans_domain::{Actor, Change, PlanSpec, Slug, SupportPlan, VerifiedVia};

fn t0() -> Timestamp {
    "2026-01-10T09:30:00Z".parse().unwrap()
}

fn later(hours: i64) -> Timestamp {
    t0() + SignedDuration::from_hours(hours)
}

fn keys() -> KeySet {
    KeySet::single(VerifyKey::new(b"correction-test-key-correction-test-key-0".to_vec()).unwrap())
}

fn plan() -> SupportPlan {
    let spec = PlanSpec::parse(&json!({
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
    }))
    .unwrap();
    SupportPlan::create(spec, &Actor::parse("alice@example.com").unwrap(), t0())
}

async fn stored() -> (InMemoryStore, VerifyClaims) {
    let store = InMemoryStore::new();
    let p = plan();
    store.create_plan(&p).await.unwrap();
    let raw = token::issue(&keys(), &LinkFor::of(&p, &p.spec.contacts[0]), later(1));
    let claims = token::verify(&keys(), &raw, later(2)).unwrap();
    (store, claims)
}

fn tom(phone: &str) -> ContactFields {
    ContactFields {
        name: "Tom".into(),
        email: "tom@acme.example.com".into(),
        phone: phone.into(),
        role: "vendor-tam".into(),
    }
}

async fn current(store: &InMemoryStore) -> SupportPlan {
    store
        .get_plan(&Slug::parse("acme-cloud").unwrap())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_correction_is_one_new_version_verified_by_the_owner_and_a_resubmit_writes_nothing() {
    let (store, claims) = stored().await;
    let done = verification::correct(&store, &claims, &tom(" +1 206 555 0199 "), 1, later(3))
        .await
        .unwrap();
    let Corrected::Recorded { plan, by } = done else {
        panic!("{done:?}")
    };
    assert_eq!(by.as_str(), "platform@example.com");
    assert_eq!(plan, current(&store).await);
    assert_eq!(plan.meta.version, 2);
    let c = &plan.spec.contacts[0];
    assert_eq!(c.phone.as_ref().unwrap().as_str(), "+1 206 555 0199", "trimmed");
    assert_eq!(c.verified_at, Some(later(3)));
    assert_eq!(c.verified_by, Some(by.clone()));
    assert_eq!(c.verified_via, Some(VerifiedVia::Link));
    assert_eq!(c.verified_note.as_deref(), Some(verification::CORRECTED_NOTE));
    assert_eq!(
        plan.spec.contacts[1],
        plan_contact_am(),
        "the other contact is untouched"
    );

    let history = store
        .plan_history(
            &Slug::parse("acme-cloud").unwrap(),
            &PageRequest::parse(None, None).unwrap(),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(history.len(), 2);
    assert_eq!(
        history[0].change,
        Change::ContactCorrected {
            contact: Slug::parse("tam").unwrap()
        }
    );
    assert_eq!(history[0].by, by);
    assert_eq!(
        history[1].record.spec.contacts[0]
            .phone
            .as_ref()
            .unwrap()
            .as_str(),
        "+12065550101",
        "the history keeps the old phone"
    );

    // The same form again (the version it carries is now stale, and the
    // link's digest names the old phone): already recorded, nothing written.
    let again = verification::correct(&store, &claims, &tom("+1 206 555 0199"), 1, later(4))
        .await
        .unwrap();
    assert!(
        matches!(again, Corrected::Already { recorded: Some(at), .. } if at == later(3)),
        "{again:?}"
    );
    assert_eq!(current(&store).await.meta.version, 2);

    // Another correction through the same link: the plan moved on.
    let other = verification::correct(&store, &claims, &tom("+12065550123"), 1, later(4)).await;
    assert!(
        matches!(other, Err(CorrectError::Conflict { shown: 1 })),
        "{other:?}"
    );
    // Even on the current version: the link no longer names this contact as it is.
    let other = verification::correct(&store, &claims, &tom("+12065550123"), 2, later(4)).await;
    assert!(
        matches!(
            other,
            Err(CorrectError::Refused(ConfirmError::Token(
                token::TokenError::ContactChanged
            )))
        ),
        "{other:?}"
    );
    assert_eq!(current(&store).await.meta.version, 2);
}

fn plan_contact_am() -> support_plans_domain::Contact {
    plan().spec.contacts[1].clone()
}

#[tokio::test]
async fn invalid_values_are_named_by_the_forms_fields_and_nothing_is_written() {
    let (store, claims) = stored().await;
    let bad = ContactFields {
        name: " ".into(),
        email: "not-an-address".into(),
        phone: "12345".into(),
        role: "boss".into(),
    };
    let Err(CorrectError::Invalid(errors)) = verification::correct(&store, &claims, &bad, 1, later(3)).await
    else {
        panic!("not refused as invalid")
    };
    let mut fields = errors.fields();
    fields.sort_unstable();
    assert_eq!(fields, ["email", "name", "phone", "role"], "{errors}");
    assert!(errors.message_for("role").unwrap().contains("vendor-tam"));

    // No e-mail and no phone: the plan's own rule, on the form's field.
    let none = ContactFields {
        email: String::new(),
        phone: String::new(),
        ..tom("")
    };
    let Err(CorrectError::Invalid(errors)) = verification::correct(&store, &claims, &none, 1, later(3)).await
    else {
        panic!("not refused as invalid")
    };
    assert_eq!(errors.fields(), ["email"], "{errors}");
    assert_eq!(current(&store).await.meta.version, 1);
}

#[tokio::test]
async fn a_stale_form_or_a_link_for_another_owner_changes_nothing() {
    let (store, claims) = stored().await;
    // Someone else wrote version 2 (a review) after the page was shown.
    let p = current(&store).await;
    let reviewed = p.reviewed(&Actor::parse("bob@example.com").unwrap(), later(2));
    store.put_plan_version(&reviewed, Change::Reviewed).await.unwrap();
    let r = verification::correct(&store, &claims, &tom("+12065550199"), 1, later(3)).await;
    assert!(matches!(r, Err(CorrectError::Conflict { shown: 1 })), "{r:?}");

    // The same values as the plan has: nothing to write, whatever the version.
    let same = verification::correct(&store, &claims, &tom("+12065550101"), 1, later(3))
        .await
        .unwrap();
    assert!(
        matches!(same, Corrected::Already { recorded: None, .. }),
        "{same:?}"
    );

    // A new owner: the link no longer holds, even for values already there.
    let mut spec = reviewed.spec.clone();
    spec.owner.email = support_plans_domain::Email::parse("someone-else@example.com").unwrap();
    let moved = reviewed
        .replaced(spec, &Actor::parse("bob@example.com").unwrap(), later(2))
        .unwrap();
    store.put_plan_version(&moved, Change::Replaced).await.unwrap();
    for phone in ["+12065550101", "+12065550199"] {
        let r = verification::correct(&store, &claims, &tom(phone), 3, later(3)).await;
        assert!(
            matches!(
                r,
                Err(CorrectError::Refused(ConfirmError::Token(
                    token::TokenError::OwnerChanged
                )))
            ),
            "{r:?}"
        );
    }
    assert_eq!(current(&store).await.meta.version, 3);
}
