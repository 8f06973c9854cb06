//! Reminders and escalations (SPEC §5) as pure functions, and the check's
//! service over in-memory ports: who gets what, when again, and how a long
//! message is split.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use support_plans_domain::freshness::State;
use support_plans_domain::ports::StoreError;
use support_plans_domain::reminders::subscriptions::{Reach, Report};
use support_plans_domain::reminders::{
    AttrValue, Check, Message, Notifier, NotifyError, OwnerDue, OwnerKey, OwnerState, Reminded,
    ReminderStates, SNS_MAX_BYTES, SUBJECT_MAX_CHARS, Settings, Subject, collect, decide,
    escalation_messages, evaluate_all, reminder_messages,
};
use support_plans_domain::token::{KeySet, Links, VerifyKey, verify};
use support_plans_domain::{Actor, PlanSpec, SupportPlan};

const NOW: &str = "2026-11-21T08:00:00Z";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

fn key() -> KeySet {
    KeySet::single(VerifyKey::new(vec![42u8; 64]).unwrap())
}

fn links() -> Links {
    Links::new("https://api.example.com", key()).unwrap()
}

fn contact(id: &str) -> Value {
    json!({"id": id, "name": format!("Person {id}"), "role": "vendor-tam", "email": format!("{id}@vendor.example.net")})
}

/// A plan of `team`, created `age` days ago, with `contacts` (never verified
/// unless `verified` gives their ages in days).
fn plan(id: &str, team: &str, age: i64, contacts: &[&str], verified: &[(&str, i64)]) -> SupportPlan {
    let body = json!({
        "id": id, "vendor": "Vendor", "product": "Cloud", "tier": "Gold",
        "owner": {"team": team, "email": format!("{team}@example.com"), "escalation_email": "cto@example.com"},
        "channels": [{"kind": "portal", "value": "https://support.vendor.example.net", "hours": "24x7"}],
        "escalation_steps": [{"title": "Open a case", "instructions": "", "after_minutes": 0}],
        "contacts": contacts.iter().map(|c| contact(c)).collect::<Vec<_>>(),
    });
    let spec = PlanSpec::parse(&body).unwrap();
    let actor = Actor::parse("seed").unwrap();
    let mut p = SupportPlan::create(spec, &actor, now() - days(age));
    p.reviewed_at = Some(now() - days(1));
    for (c, age) in verified {
        let c = p.spec.contacts.iter_mut().find(|x| x.id.as_str() == *c).unwrap();
        c.verified_at = Some(now() - days(*age));
        c.verified_by = Some(actor.clone());
    }
    p
}

fn owners(plans: &[SupportPlan], at: Timestamp) -> Vec<OwnerDue> {
    let settings = Settings::default();
    collect(plans, &evaluate_all(plans, at, &settings.policy), &settings).1
}

fn attr(m: &Message, name: &str) -> String {
    m.attribute(name).map(AttrValue::value).unwrap_or_default()
}

#[test]
fn items_are_grouped_by_owner_with_exactly_the_due_ones() {
    let plans = vec![
        // ok (10 days), due soon (80 of 90), overdue by 10, never verified (plan 400 days old).
        plan(
            "p-one",
            "platform",
            400,
            &["ok", "soon", "late", "never"],
            &[("ok", 10), ("soon", 80), ("late", 100)],
        ),
        plan("p-two", "data", 5, &["fresh"], &[("fresh", 1)]),
        plan("p-three", "platform", 5, &["new-one"], &[]),
    ];
    let settings = Settings::default();
    let (tally, owners) = collect(&plans, &evaluate_all(&plans, now(), &settings.policy), &settings);
    assert_eq!((tally.plans, tally.contacts), (3, 6));
    assert_eq!((tally.due_soon, tally.overdue), (1, 3));
    assert_eq!(owners.len(), 1, "data has nothing due");
    let o = &owners[0];
    assert_eq!(o.owner.team.as_str(), "platform");
    let got: Vec<(String, State, i64, bool)> = o
        .items
        .iter()
        .map(|i| {
            let Subject::Contact { id, .. } = &i.subject else {
                panic!("{i:?}")
            };
            (format!("{}/{id}", i.plan), i.state, i.days_overdue, i.escalate)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("p-one/soon".into(), State::DueSoon, 0, false),
            ("p-one/late".into(), State::Overdue, 10, false),
            ("p-one/never".into(), State::Overdue, 400, true),
            ("p-three/new-one".into(), State::Overdue, 5, false),
        ]
    );
}

#[test]
fn an_owner_is_reminded_once_per_cadence_unless_something_new_falls_due() {
    let settings = Settings::default();
    let plans = vec![plan("p-one", "platform", 400, &["late"], &[("late", 100)])];
    let o = &owners(&plans, now())[0];
    let first = decide(o, &OwnerState::default(), now(), &settings);
    assert!(first.remind && !first.escalate);
    assert!(first.new.is_empty(), "nothing is marked new in a first reminder");
    assert_eq!(first.next.version, 1);
    // Later the same day, and six days later: nothing.
    for later in [SignedDuration::from_hours(10), days(6)] {
        let o = &owners(&plans, now() + later)[0];
        let d = decide(o, &first.next, now() + later, &settings);
        assert!(!d.remind && !d.escalate, "{later:?}");
        assert_eq!(d.next, first.next);
    }
    // REMIND_EVERY_DAYS later, even a few seconds short of a full week: again.
    let week = now() + days(7) - SignedDuration::from_secs(30);
    let d = decide(&owners(&plans, week)[0], &first.next, week, &settings);
    assert!(d.remind);
    assert!(d.new.is_empty(), "the same item is not new");
    // A newly due item: at once.
    let mut more = plans.clone();
    more.push(plan("p-two", "platform", 2, &["added"], &[]));
    let next_day = now() + days(1);
    let d = decide(&owners(&more, next_day)[0], &first.next, next_day, &settings);
    assert!(d.remind);
    assert_eq!(d.new.len(), 1);
    // An item that was due soon and is now overdue became due: at once.
    let soon = vec![plan("p-one", "platform", 400, &["soon"], &[("soon", 85)])];
    let d1 = decide(&owners(&soon, now())[0], &OwnerState::default(), now(), &settings);
    let at = now() + days(6);
    let o = &owners(&soon, at)[0];
    assert_eq!(o.items[0].state, State::Overdue);
    assert!(decide(o, &d1.next, at, &settings).remind);
}

#[test]
fn escalations_only_past_the_threshold_and_once_per_cadence() {
    let settings = Settings::default();
    // Overdue by exactly 30 days: not escalated; by 31: escalated.
    let plans = vec![plan(
        "p-one",
        "platform",
        400,
        &["thirty", "thirty-one"],
        &[("thirty", 120), ("thirty-one", 121)],
    )];
    let o = &owners(&plans, now())[0];
    let escalated: Vec<i64> = o.escalated().map(|i| i.days_overdue).collect();
    assert_eq!(escalated, vec![31]);
    let d = decide(o, &OwnerState::default(), now(), &settings);
    assert!(d.escalate);
    let msgs = escalation_messages(o, Reminded::default(), &links(), now(), &settings);
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(attr(m, "kind"), "escalation");
    assert_eq!(attr(m, "escalation_email"), "cto@example.com");
    assert_eq!(attr(m, "owner_team"), "platform");
    assert!(m.body.contains("Person thirty-one"), "{}", m.body);
    assert!(!m.body.contains("Person thirty,"), "{}", m.body);
    assert!(!m.body.contains("/verify/"), "escalations carry no owner links");
    let later = now() + SignedDuration::from_hours(3);
    assert!(!decide(&owners(&plans, later)[0], &d.next, later, &settings).escalate);
}

#[test]
fn a_reminder_lists_every_item_with_a_working_link_per_contact() {
    let settings = Settings::default();
    let plans = vec![plan(
        "p-one",
        "platform",
        400,
        &["soon", "never"],
        &[("soon", 80)],
    )];
    let o = &owners(&plans, now())[0];
    let d = decide(o, &OwnerState::default(), now(), &settings);
    let msgs = reminder_messages(o, &d.new, &links(), now(), &settings);
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(m.subject, "[support-plans] platform: 1 overdue, 1 due soon");
    assert_eq!(attr(m, "owner_team"), "platform");
    assert_eq!(attr(m, "owner_email"), "platform@example.com");
    assert_eq!(attr(m, "kind"), "reminder");
    assert_eq!(
        m.attribute("plan_ids"),
        Some(&AttrValue::StringArray(vec!["p-one".into()]))
    );
    assert_eq!(attr(m, "plan_ids"), r#"["p-one"]"#);
    let tokens: Vec<&str> = m
        .body
        .lines()
        .filter_map(|l| l.split("https://api.example.com/verify/").nth(1))
        .collect();
    assert_eq!(tokens.len(), 2, "{}", m.body);
    // A changed contact is corrected on the link's page, not with an HTTP PUT.
    assert_eq!(
        m.body.matches("Changed? Open the same link").count(),
        2,
        "{}",
        m.body
    );
    assert!(
        !m.body.contains("PUT https://api.example.com/plans/p-one\n"),
        "{}",
        m.body
    );
    let contacts: HashSet<String> = tokens
        .iter()
        .map(|t| {
            let claims = verify(&key(), t, now()).unwrap();
            assert_eq!(claims.plan.as_str(), "p-one");
            // Bound to the plan as it is: its owner, its life, the contact.
            assert_eq!(claims.check(Some(&plans[0])), Ok(()));
            claims.contact.to_string()
        })
        .collect();
    assert_eq!(contacts, HashSet::from(["soon".to_owned(), "never".to_owned()]));
    assert!(
        m.body.contains("[DUE SOON] Contact Person soon, vendor-tam"),
        "{}",
        m.body
    );
    assert!(m.body.contains("Never verified"), "{}", m.body);
    assert!(m.body.contains("400 days overdue"), "{}", m.body);
}

#[test]
fn subjects_stay_within_100_ascii_characters() {
    let team = format!("t{}", "x".repeat(62));
    let plans = vec![plan("p-one", &team, 400, &["never"], &[])];
    let settings = Settings::default();
    let o = &owners(&plans, now())[0];
    for m in reminder_messages(o, &HashSet::new(), &links(), now(), &settings)
        .iter()
        .chain(&escalation_messages(
            o,
            Reminded::default(),
            &links(),
            now(),
            &settings,
        ))
    {
        assert!(m.subject.chars().count() <= SUBJECT_MAX_CHARS, "{}", m.subject);
        assert!(m.subject.is_ascii() && !m.subject.contains('\n'));
    }
}

#[test]
fn an_owner_past_256_kib_gets_several_complete_messages() {
    let settings = Settings::default();
    // 16 plans of 50 never-verified contacts: 800 items, about 320 KiB.
    let names: Vec<String> = (0..50).map(|i| format!("contact-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let plans: Vec<SupportPlan> = (0..16)
        .map(|p| plan(&format!("plan-{p:02}"), "platform", 100, &refs, &[]))
        .collect();
    let o = &owners(&plans, now())[0];
    assert_eq!(o.items.len(), 800);
    let msgs = reminder_messages(o, &HashSet::new(), &links(), now(), &settings);
    let whole: usize = msgs.iter().map(Message::size).sum();
    assert!(msgs.len() >= 2, "{} message(s) of {whole} bytes", msgs.len());
    let mut seen = Vec::new();
    for (n, m) in msgs.iter().enumerate() {
        assert!(m.size() <= SNS_MAX_BYTES, "part {n}: {} bytes", m.size());
        assert!(
            m.subject.contains(&format!(" {}/{}]", n + 1, msgs.len())),
            "{}",
            m.subject
        );
        assert!(m.body.starts_with("Hello platform team"), "complete: greeting");
        assert!(
            m.body
                .trim_end()
                .ends_with("-- support-plans freshness check, 2026-11-21"),
            "complete: footer"
        );
        let AttrValue::StringArray(ids) = m.attribute("plan_ids").unwrap() else {
            panic!()
        };
        for line in m.body.lines() {
            if let Some(token) = line.split("/verify/").nth(1) {
                let c = verify(&key(), token, now()).unwrap();
                assert!(
                    ids.contains(&c.plan.to_string()),
                    "plan_ids of the part name {}",
                    c.plan
                );
                seen.push((c.plan.to_string(), c.contact.to_string()));
            }
        }
    }
    // Every item exactly once across the parts.
    assert_eq!(seen.len(), 800);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 800);
}

// ---------------------------------------------------------------- the service over fakes

#[derive(Default)]
struct MemStates(Mutex<HashMap<OwnerKey, OwnerState>>);

impl ReminderStates for MemStates {
    async fn load(&self, owners: &[OwnerKey]) -> Result<(HashMap<OwnerKey, OwnerState>, usize), StoreError> {
        let m = self.0.lock().unwrap();
        Ok((
            owners
                .iter()
                .filter_map(|o| m.get(o).map(|s| (o.clone(), s.clone())))
                .collect(),
            1,
        ))
    }
    async fn save(&self, owner: &OwnerKey, state: &OwnerState, expected: u64) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap();
        let current = m.get(owner).map_or(0, |s| s.version);
        if current != expected {
            return Err(StoreError::Conflict {
                id: owner.email.to_string(),
                expected,
            });
        }
        m.insert(owner.clone(), state.clone());
        Ok(())
    }
}

#[derive(Default)]
struct MemNotifier {
    sent: Mutex<Vec<(String, Message)>>,
    fail_topic: Option<&'static str>,
}

impl Notifier for MemNotifier {
    async fn publish(&self, topic: &str, message: &Message) -> Result<(), NotifyError> {
        if self.fail_topic == Some(topic) {
            return Err(NotifyError("throttled".into()));
        }
        self.sent
            .lock()
            .unwrap()
            .push((topic.to_owned(), message.clone()));
        Ok(())
    }
}

fn sample() -> Vec<SupportPlan> {
    vec![
        plan("p-one", "platform", 400, &["ok", "never"], &[("ok", 1)]),
        plan("p-two", "data", 400, &["late"], &[("late", 100)]),
        plan("p-three", "web", 400, &["ok"], &[("ok", 1)]),
    ]
}

#[tokio::test(flavor = "current_thread")]
async fn a_dry_run_sends_and_records_nothing_and_says_the_same() {
    let states = MemStates::default();
    let notifier = MemNotifier::default();
    let links = links();
    let check = Check {
        states: &states,
        notifier: &notifier,
        links: &links,
        settings: Settings::default(),
        reminder_topic: "reminders",
        escalation_topic: "escalations",
        reach: &Report::default(),
    };
    let plans = sample();
    let fresh = evaluate_all(&plans, now(), &Settings::default().policy);
    let dry = check.run(&plans, &fresh, now(), true).await.unwrap();
    assert!(notifier.sent.lock().unwrap().is_empty());
    assert!(states.0.lock().unwrap().is_empty());
    let real = check.run(&plans, &fresh, now(), false).await.unwrap();
    assert_eq!(dry, real);
    assert_eq!((real.reminders, real.escalations, real.errors), (2, 1, 0));
    let topics: Vec<String> = notifier
        .sent
        .lock()
        .unwrap()
        .iter()
        .map(|(t, _)| t.clone())
        .collect();
    assert_eq!(topics, vec!["reminders", "reminders", "escalations"]);
    // A rerun sends nothing; its dry run says so too.
    let again = check.run(&plans, &fresh, now(), true).await.unwrap();
    assert_eq!((again.reminders, again.not_due_again), (0, 2));
}

#[tokio::test(flavor = "current_thread")]
async fn what_failed_to_send_is_sent_by_the_next_run() {
    let states = MemStates::default();
    let failing = MemNotifier {
        fail_topic: Some("escalations"),
        ..MemNotifier::default()
    };
    let links = links();
    let mut check = Check {
        states: &states,
        notifier: &failing,
        links: &links,
        settings: Settings::default(),
        reminder_topic: "reminders",
        escalation_topic: "escalations",
        reach: &Report::default(),
    };
    let plans = sample();
    let fresh = evaluate_all(&plans, now(), &Settings::default().policy);
    let s = check.run(&plans, &fresh, now(), false).await.unwrap();
    assert_eq!((s.reminders, s.escalations, s.errors), (2, 0, 1));
    assert_eq!(s.failures.len(), 1, "{:?}", s.failures);
    let working = MemNotifier::default();
    check.notifier = &working;
    let s = check.run(&plans, &fresh, now(), false).await.unwrap();
    assert_eq!((s.reminders, s.escalations, s.errors), (0, 1, 0));
    let sent = working.sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(attr(&sent[0].1, "kind"), "escalation");
    assert_eq!(attr(&sent[0].1, "owner_team"), "platform");
}

/// The escalation says what is true of the owner's reminders: reminded
/// today for the first time, not reminded because the reminder failed, or
/// last reminded on a given day — never "has been reminded" by default.
#[tokio::test(flavor = "current_thread")]
async fn an_escalation_says_whether_and_when_the_owner_was_reminded() {
    let links = links();
    let plans = vec![plan("p-one", "platform", 400, &["never"], &[])];
    let fresh = evaluate_all(&plans, now(), &Settings::default().policy);
    let escalation = |notifier: &MemNotifier| {
        let sent = notifier.sent.lock().unwrap();
        let bodies: Vec<String> = sent
            .iter()
            .filter(|(t, _)| t == "escalations")
            .map(|(_, m)| m.body.clone())
            .collect();
        assert_eq!(bodies.len(), 1, "one escalation");
        bodies[0].clone()
    };
    let never_claimed = "has been reminded and has not acted";

    // 1. The first run ever: the owner is reminded now, for the first time.
    let states = MemStates::default();
    let notifier = MemNotifier::default();
    let check = Check {
        states: &states,
        notifier: &notifier,
        links: &links,
        settings: Settings::default(),
        reminder_topic: "reminders",
        escalation_topic: "escalations",
        reach: &Report::default(),
    };
    check.run(&plans, &fresh, now(), false).await.unwrap();
    let body = escalation(&notifier);
    assert!(!body.contains(never_claimed), "{body}");
    assert!(
        body.contains("The owner is reminded today for the first time"),
        "{body}"
    );

    // 2. The reminder could not be sent: the escalation says so.
    let states = MemStates::default();
    let notifier = MemNotifier {
        fail_topic: Some("reminders"),
        ..MemNotifier::default()
    };
    let check = Check {
        notifier: &notifier,
        states: &states,
        ..check
    };
    check.run(&plans, &fresh, now(), false).await.unwrap();
    let body = escalation(&notifier);
    assert!(!body.contains(never_claimed), "{body}");
    assert!(
        body.contains(
            "The owner could not be reminded today (the reminder failed) and had not been reminded before"
        ),
        "{body}"
    );

    // 3. Reminded three days ago of these items, not again today (the
    //    cadence is a week): the escalation says when.
    let settings = Settings::default();
    let o = &owners(&plans, now())[0];
    let mut earlier = decide(o, &OwnerState::default(), now() - days(3), &settings).next;
    earlier.escalated_at = None;
    earlier.escalated.clear();
    let states = MemStates::default();
    states.0.lock().unwrap().insert(o.owner.clone(), earlier);
    let notifier = MemNotifier::default();
    let check = Check {
        notifier: &notifier,
        states: &states,
        ..check
    };
    let s = check.run(&plans, &fresh, now(), false).await.unwrap();
    assert_eq!((s.reminders, s.escalations), (0, 1));
    let body = escalation(&notifier);
    assert!(!body.contains(never_claimed), "{body}");
    assert!(
        body.contains("The owner was last reminded on 2026-11-18 and these items are still overdue"),
        "{body}"
    );
}

/// An owner whose address has no confirmed subscription (SPEC §14): the
/// escalation says the reminders do not reach them, and why.
#[tokio::test(flavor = "current_thread")]
async fn an_escalation_says_when_reminders_do_not_reach_the_owner() {
    let links = links();
    let plans = vec![plan("p-one", "platform", 400, &["never"], &[])];
    let fresh = evaluate_all(&plans, now(), &Settings::default().policy);
    let reach = Report {
        owners_unreachable: BTreeMap::from([("platform@example.com".to_owned(), Reach::PendingConfirmation)]),
        ..Report::default()
    };
    let states = MemStates::default();
    let notifier = MemNotifier::default();
    let check = Check {
        states: &states,
        notifier: &notifier,
        links: &links,
        settings: Settings::default(),
        reminder_topic: "reminders",
        escalation_topic: "escalations",
        reach: &reach,
    };
    check.run(&plans, &fresh, now(), false).await.unwrap();
    let sent = notifier.sent.lock().unwrap();
    let (_, escalation) = sent.iter().find(|(t, _)| t == "escalations").unwrap();
    assert!(
        escalation.body.contains(
            "Reminders do not reach the owner's address: subscribed, but the confirmation SNS e-mailed has not been followed yet."
        ),
        "{}",
        escalation.body
    );
    let (_, reminder) = sent.iter().find(|(t, _)| t == "reminders").unwrap();
    assert!(
        !reminder.body.contains("do not reach"),
        "the reminder itself is as before"
    );
}
