//! SPEC §2 "Freshness": contacts, plan review and contract renewal, at a fixed
//! `now` with the default policy (remind 14 days before, renewal window 60 days).

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde_json::{Value, json};
use support_plans_domain::freshness::{ContractState, Policy, State, evaluate};
use support_plans_domain::{Actor, PlanSpec, SupportPlan};

const DAY: i64 = 86_400;

fn now() -> Timestamp {
    "2026-06-01T08:00:00Z".parse().unwrap()
}

fn today() -> Date {
    "2026-06-01".parse().unwrap()
}

fn ago(secs: i64) -> Timestamp {
    now().checked_sub(SignedDuration::from_secs(secs)).unwrap()
}

fn days_ago(days: i64) -> Timestamp {
    ago(days * DAY)
}

fn actor() -> Actor {
    Actor::parse("alice@example.com").unwrap()
}

/// A plan with the given extra top-level fields and these contacts.
fn plan_with(contacts: Value, extra: Value) -> PlanSpec {
    let mut body = json!({
        "id": "acme-cloud",
        "vendor": "Acme",
        "tier": "Gold",
        "owner": { "team": "platform", "email": "platform@example.com" },
        "channels": [{ "kind": "portal", "value": "https://support.acme.example.com", "hours": "24x7" }],
        "escalation_steps": [{ "title": "Open a case" }],
        "contacts": contacts
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    PlanSpec::parse(&body).unwrap_or_else(|e| panic!("{e}"))
}

fn one_contact(cycle: Option<u16>) -> Value {
    let mut c =
        json!({ "id": "acme-tam", "name": "Tom", "role": "vendor-tam", "email": "tom@acme.example.com" });
    if let Some(days) = cycle {
        c["verify_every_days"] = json!(days);
    }
    json!([c])
}

/// A plan created 400 days ago, reviewed now, with one contact verified at `verified_at`.
fn plan_verified_at(
    verified_at: Option<Timestamp>,
    contact_cycle: Option<u16>,
    plan_cycle: u16,
) -> SupportPlan {
    let spec = plan_with(
        one_contact(contact_cycle),
        json!({ "verify_every_days": plan_cycle }),
    );
    let mut plan = SupportPlan::create(spec, &actor(), days_ago(400));
    plan.reviewed_at = Some(now());
    plan.spec.contacts[0].verified_at = verified_at;
    plan
}

fn contact_due(
    verified_at: Option<Timestamp>,
    contact_cycle: Option<u16>,
    plan_cycle: u16,
) -> support_plans_domain::freshness::Due {
    let plan = plan_verified_at(verified_at, contact_cycle, plan_cycle);
    let f = evaluate(&plan, now(), &Policy::default());
    assert_eq!(f.contacts.len(), 1);
    assert_eq!(f.contacts[0].contact.as_str(), "acme-tam");
    assert_eq!(f.contacts[0].verified_at, verified_at);
    assert_eq!(f.contacts[0].never_verified, verified_at.is_none());
    f.contacts[0].due
}

#[test]
fn default_policy_is_14_days_remind_and_60_days_renewal() {
    let p = Policy::default();
    assert_eq!(p.remind_before_days, 14);
    assert_eq!(p.renewal_window_days, 60);
}

// ---------------------------------------------------------------- contacts

#[test]
fn contact_one_day_before_due_soon_is_ok() {
    // Verified 75 days ago on a 90-day cycle: due in 15 days.
    let due = contact_due(Some(days_ago(75)), None, 90);
    assert_eq!(due.state, State::Ok);
    assert_eq!(
        due.due_at,
        days_ago(75)
            .checked_add(SignedDuration::from_secs(90 * DAY))
            .unwrap()
    );
    assert_eq!(due.days_left, 15);
    assert_eq!(due.days_overdue, 0);
}

#[test]
fn contact_one_second_before_due_soon_is_ok() {
    // Due in 14 days and one second.
    let due = contact_due(Some(ago(76 * DAY - 1)), None, 90);
    assert_eq!(due.state, State::Ok);
    assert_eq!(due.days_left, 15, "days left are rounded up");
}

#[test]
fn contact_exactly_at_due_soon_start_is_due_soon() {
    // Verified 76 days ago: due in exactly 14 days.
    let due = contact_due(Some(days_ago(76)), None, 90);
    assert_eq!(due.state, State::DueSoon);
    assert_eq!(due.days_left, 14);
    assert_eq!(due.days_overdue, 0);
}

#[test]
fn contact_one_second_before_due_is_due_soon() {
    let due = contact_due(Some(ago(90 * DAY - 1)), None, 90);
    assert_eq!(due.state, State::DueSoon);
    assert_eq!(due.days_left, 1);
    assert_eq!(due.days_overdue, 0);
}

#[test]
fn contact_exactly_at_due_is_overdue_by_0_days() {
    let due = contact_due(Some(days_ago(90)), None, 90);
    assert_eq!(due.state, State::Overdue);
    assert_eq!(due.due_at, now());
    assert_eq!(due.days_left, 0);
    assert_eq!(due.days_overdue, 0);
}

#[test]
fn contact_overdue_counts_whole_days_past_due() {
    let due = contact_due(Some(days_ago(121)), None, 90);
    assert_eq!(due.state, State::Overdue);
    assert_eq!(due.days_overdue, 31);
    assert_eq!(due.days_left, 0);
    assert_eq!(due.due_at, days_ago(31));

    // One second short of 31 days past due is 30 whole days.
    let due = contact_due(Some(ago(121 * DAY - 1)), None, 90);
    assert_eq!(due.state, State::Overdue);
    assert_eq!(due.days_overdue, 30);

    // A day and a bit past due.
    let due = contact_due(Some(ago(91 * DAY + 3600)), None, 90);
    assert_eq!(due.days_overdue, 1);
}

#[test]
fn contact_verified_just_now_is_ok_for_the_whole_cycle() {
    let due = contact_due(Some(now()), None, 90);
    assert_eq!(due.state, State::Ok);
    assert_eq!(due.days_left, 90);
}

#[test]
fn a_contacts_own_cycle_overrides_the_plans() {
    // 40 days ago: fine on the plan's 90-day cycle, 10 days overdue on its own 30.
    assert_eq!(contact_due(Some(days_ago(40)), None, 90).state, State::Ok);
    let due = contact_due(Some(days_ago(40)), Some(30), 90);
    assert_eq!(due.state, State::Overdue);
    assert_eq!(due.days_overdue, 10);

    // 100 days ago: overdue on the plan's 90, fine on its own 365.
    assert_eq!(contact_due(Some(days_ago(100)), None, 90).state, State::Overdue);
    let due = contact_due(Some(days_ago(100)), Some(365), 90);
    assert_eq!(due.state, State::Ok);
    assert_eq!(due.days_left, 265);

    // The plan's own cycle is used when the contact has none.
    let due = contact_due(Some(days_ago(100)), None, 120);
    assert_eq!(due.state, State::Ok);
    assert_eq!(due.days_left, 20);
    let due = contact_due(Some(days_ago(100)), None, 7);
    assert_eq!(due.days_overdue, 93);
}

#[test]
fn a_never_verified_contact_is_overdue_since_the_plan_was_created() {
    let due = contact_due(None, None, 90);
    assert_eq!(due.state, State::Overdue);
    assert_eq!(due.due_at, days_ago(400));
    assert_eq!(due.days_overdue, 400);

    // Even on a freshly created plan, and whatever its cycle.
    let spec = plan_with(one_contact(Some(365)), json!({}));
    let created = ago(5 * DAY + 7200);
    let plan = SupportPlan::create(spec, &actor(), created);
    let f = evaluate(&plan, now(), &Policy::default());
    assert!(f.contacts[0].never_verified);
    assert_eq!(f.contacts[0].verified_at, None);
    assert_eq!(f.contacts[0].due.state, State::Overdue);
    assert_eq!(f.contacts[0].due.days_overdue, 5);
    assert_eq!(f.contacts[0].due.due_at, created);

    let plan = SupportPlan::create(plan_with(one_contact(None), json!({})), &actor(), now());
    let f = evaluate(&plan, now(), &Policy::default());
    assert_eq!(f.contacts[0].due.state, State::Overdue);
    assert_eq!(f.contacts[0].due.days_overdue, 0);
}

#[test]
fn every_contact_is_evaluated_in_order() {
    let contacts = json!([
        { "id": "a-ok", "name": "A", "role": "owner", "email": "a@example.com" },
        { "id": "b-soon", "name": "B", "role": "vendor-tam", "email": "b@example.com" },
        { "id": "c-late", "name": "C", "role": "vendor-support", "phone": "+12065550100", "verify_every_days": 30 },
        { "id": "d-never", "name": "D", "role": "escalation-manager", "email": "d@example.com" }
    ]);
    let mut plan = SupportPlan::create(plan_with(contacts, json!({})), &actor(), days_ago(20));
    plan.spec.contacts[0].verified_at = Some(days_ago(1));
    plan.spec.contacts[1].verified_at = Some(days_ago(80));
    plan.spec.contacts[2].verified_at = Some(days_ago(45));
    let f = evaluate(&plan, now(), &Policy::default());
    let got: Vec<(&str, State, i64)> = f
        .contacts
        .iter()
        .map(|c| (c.contact.as_str(), c.due.state, c.due.days_overdue))
        .collect();
    assert_eq!(
        got,
        [
            ("a-ok", State::Ok, 0),
            ("b-soon", State::DueSoon, 0),
            ("c-late", State::Overdue, 15),
            ("d-never", State::Overdue, 20)
        ]
    );
    assert_eq!(f.contacts[2].name, "C");
    assert_eq!(f.contacts[2].role, support_plans_domain::Role::VendorSupport);
}

#[test]
fn a_custom_remind_window_is_used() {
    let plan = plan_verified_at(Some(days_ago(80)), None, 90); // due in 10 days
    let f = evaluate(
        &plan,
        now(),
        &Policy {
            remind_before_days: 7,
            renewal_window_days: 60,
        },
    );
    assert_eq!(f.contacts[0].due.state, State::Ok);
    let f = evaluate(
        &plan,
        now(),
        &Policy {
            remind_before_days: 10,
            renewal_window_days: 60,
        },
    );
    assert_eq!(f.contacts[0].due.state, State::DueSoon);
}

// ---------------------------------------------------------------- plan review

fn review(
    created: Timestamp,
    reviewed: Option<Timestamp>,
    every: u16,
) -> support_plans_domain::freshness::Due {
    let spec = plan_with(json!([]), json!({ "review_every_days": every }));
    let mut plan = SupportPlan::create(spec, &actor(), created);
    plan.reviewed_at = reviewed;
    evaluate(&plan, now(), &Policy::default()).review
}

#[test]
fn review_is_due_review_every_days_after_creation_when_never_reviewed() {
    let due = review(days_ago(400), None, 180);
    assert_eq!(due.state, State::Overdue);
    assert_eq!(due.due_at, days_ago(220));
    assert_eq!(due.days_overdue, 220);

    let due = review(days_ago(5), None, 180);
    assert_eq!(due.state, State::Ok);
    assert_eq!(due.days_left, 175);

    let due = review(days_ago(170), None, 180);
    assert_eq!(due.state, State::DueSoon);
    assert_eq!(due.days_left, 10);
}

#[test]
fn review_is_due_review_every_days_after_the_last_review() {
    let due = review(days_ago(400), Some(days_ago(200)), 180);
    assert_eq!(due.state, State::Overdue);
    assert_eq!(due.days_overdue, 20);
    assert_eq!(due.due_at, days_ago(20));

    let due = review(days_ago(400), Some(days_ago(30)), 180);
    assert_eq!(due.state, State::Ok);
    assert_eq!(due.days_left, 150);

    let due = review(days_ago(400), Some(days_ago(355)), 365);
    assert_eq!(due.state, State::DueSoon);
    assert_eq!(due.days_left, 10);

    let due = review(days_ago(400), Some(days_ago(180)), 180);
    assert_eq!(due.state, State::Overdue);
    assert_eq!(due.days_overdue, 0);
}

// ---------------------------------------------------------------- contract

fn contract(renews_on: Option<Date>) -> Option<support_plans_domain::freshness::ContractFreshness> {
    let extra = match renews_on {
        Some(d) => json!({ "renews_on": d.to_string() }),
        None => json!({}),
    };
    let mut plan = SupportPlan::create(plan_with(json!([]), extra), &actor(), days_ago(10));
    plan.reviewed_at = Some(now());
    evaluate(&plan, now(), &Policy::default()).contract
}

fn renewing_in(days: i32) -> support_plans_domain::freshness::ContractFreshness {
    let on = today().checked_add(days.days()).unwrap();
    let c = contract(Some(on)).expect("a contract with renews_on");
    assert_eq!(c.renews_on, on);
    c
}

#[test]
fn no_renews_on_means_no_contract_item() {
    assert_eq!(contract(None), None);
}

#[test]
fn contract_far_from_renewal_is_current() {
    let c = renewing_in(61);
    assert_eq!(
        (c.contract, c.state, c.days_to_renewal),
        (ContractState::Current, State::Ok, 61)
    );
    let c = renewing_in(400);
    assert_eq!(
        (c.contract, c.state, c.days_to_renewal),
        (ContractState::Current, State::Ok, 400)
    );
}

#[test]
fn contract_within_60_days_is_renewing() {
    let c = renewing_in(40);
    assert_eq!(
        (c.contract, c.state, c.days_to_renewal),
        (ContractState::Renewing, State::DueSoon, 40)
    );
    let c = renewing_in(60);
    assert_eq!(
        (c.contract, c.state, c.days_to_renewal),
        (ContractState::Renewing, State::DueSoon, 60)
    );
    let c = renewing_in(1);
    assert_eq!(
        (c.contract, c.state, c.days_to_renewal),
        (ContractState::Renewing, State::DueSoon, 1)
    );
}

#[test]
fn contract_renewing_today_is_renewing_not_lapsed() {
    let c = renewing_in(0);
    assert_eq!(
        (c.contract, c.state, c.days_to_renewal),
        (ContractState::Renewing, State::DueSoon, 0)
    );
}

#[test]
fn contract_past_renews_on_is_lapsed() {
    let c = renewing_in(-1);
    assert_eq!(
        (c.contract, c.state, c.days_to_renewal),
        (ContractState::Lapsed, State::Overdue, -1)
    );
    let c = renewing_in(-10);
    assert_eq!(
        (c.contract, c.state, c.days_to_renewal),
        (ContractState::Lapsed, State::Overdue, -10)
    );
}

#[test]
fn contract_days_count_calendar_days_in_utc() {
    // Late in the UTC day is still the same date.
    let late: Timestamp = "2026-06-01T23:59:59Z".parse().unwrap();
    let spec = plan_with(json!([]), json!({ "renews_on": "2026-06-01" }));
    let plan = SupportPlan::create(spec, &actor(), days_ago(10));
    let c = evaluate(&plan, late, &Policy::default()).contract.unwrap();
    assert_eq!((c.contract, c.days_to_renewal), (ContractState::Renewing, 0));
    // The next second is the next day: lapsed.
    let c = evaluate(
        &plan,
        late.checked_add(SignedDuration::from_secs(1)).unwrap(),
        &Policy::default(),
    )
    .contract
    .unwrap();
    assert_eq!((c.contract, c.days_to_renewal), (ContractState::Lapsed, -1));
}

#[test]
fn a_custom_renewal_window_is_used() {
    let spec = plan_with(json!([]), json!({ "renews_on": "2026-07-01" })); // 30 days
    let mut plan = SupportPlan::create(spec, &actor(), days_ago(10));
    plan.reviewed_at = Some(now());
    let narrow = Policy {
        remind_before_days: 14,
        renewal_window_days: 29,
    };
    assert_eq!(
        evaluate(&plan, now(), &narrow).contract.unwrap().contract,
        ContractState::Current
    );
    let wide = Policy {
        remind_before_days: 14,
        renewal_window_days: 30,
    };
    assert_eq!(
        evaluate(&plan, now(), &wide).contract.unwrap().contract,
        ContractState::Renewing
    );
}

// ---------------------------------------------------------------- the plan's state

#[test]
fn plan_state_is_the_worst_item() {
    let contacts = json!([
        { "id": "a-lead", "name": "A", "role": "owner", "email": "a@example.com" },
        { "id": "b-tam", "name": "B", "role": "vendor-tam", "email": "b@example.com" }
    ]);
    let base = || {
        let spec = plan_with(contacts.clone(), json!({ "renews_on": "2027-06-01" }));
        let mut plan = SupportPlan::create(spec, &actor(), days_ago(100));
        plan.reviewed_at = Some(days_ago(1));
        plan.spec.contacts[0].verified_at = Some(days_ago(1));
        plan.spec.contacts[1].verified_at = Some(days_ago(1));
        plan
    };
    let p = Policy::default();

    let healthy = base();
    let f = evaluate(&healthy, now(), &p);
    assert_eq!(f.state(), State::Ok);
    assert!(!f.is_stale());

    let mut one_due_soon = base();
    one_due_soon.spec.contacts[1].verified_at = Some(days_ago(80));
    let f = evaluate(&one_due_soon, now(), &p);
    assert_eq!(f.state(), State::DueSoon);
    assert!(f.is_stale());

    let mut one_overdue = base();
    one_overdue.spec.contacts[0].verified_at = None;
    one_overdue.spec.contacts[1].verified_at = Some(days_ago(80));
    assert_eq!(evaluate(&one_overdue, now(), &p).state(), State::Overdue);

    let mut review_overdue = base();
    review_overdue.reviewed_at = Some(days_ago(181));
    assert_eq!(evaluate(&review_overdue, now(), &p).state(), State::Overdue);

    let mut review_due_soon = base();
    review_due_soon.reviewed_at = Some(days_ago(170));
    assert_eq!(evaluate(&review_due_soon, now(), &p).state(), State::DueSoon);

    let mut renewing = base();
    renewing.spec.renews_on = Some("2026-07-01".parse().unwrap());
    assert_eq!(evaluate(&renewing, now(), &p).state(), State::DueSoon);

    let mut lapsed = base();
    lapsed.spec.renews_on = Some("2026-05-31".parse().unwrap());
    let f = evaluate(&lapsed, now(), &p);
    assert_eq!(f.state(), State::Overdue);
    assert!(
        f.contacts.iter().all(|c| c.due.state == State::Ok),
        "only the contract is bad"
    );
    assert_eq!(f.review.state, State::Ok);

    // A plan without contacts or a contract is as fresh as its review.
    let spec = plan_with(json!([]), json!({}));
    let mut bare = SupportPlan::create(spec, &actor(), days_ago(1));
    assert_eq!(evaluate(&bare, now(), &p).state(), State::Ok);
    bare.meta.created_at = days_ago(200);
    assert_eq!(evaluate(&bare, now(), &p).state(), State::Overdue);
}

#[test]
fn states_are_ordered_ok_due_soon_overdue_and_serialise_kebab_case() {
    assert!(State::Ok < State::DueSoon && State::DueSoon < State::Overdue);
    assert_eq!(serde_json::to_value(State::DueSoon).unwrap(), json!("due-soon"));
    assert_eq!(
        serde_json::to_value(ContractState::Lapsed).unwrap(),
        json!("lapsed")
    );
    let plan = plan_verified_at(Some(days_ago(80)), None, 90);
    let v = serde_json::to_value(evaluate(&plan, now(), &Policy::default())).unwrap();
    assert_eq!(v["contacts"][0]["state"], json!("due-soon"));
    assert_eq!(v["contacts"][0]["days_left"], json!(10));
    assert_eq!(v["contacts"][0]["contact"], json!("acme-tam"));
    assert!(v.get("contract").is_none(), "{v}");
}
