//! The freshness check against the local stack (moto), with a fixed clock:
//! each test has its own table, its own topics and an SQS queue subscribed to
//! each (raw delivery off, as `make local-up` sets it), and reads back what
//! was sent through that subscription: the real delivery path.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};

use freshness_check::{App, Request, run};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use support_plans_aws::DynamoStore;
use support_plans_aws::sns::SnsNotifier;
use support_plans_aws::subscriptions::SnsSubscriptions;
use support_plans_domain::model::{Actor, Change, PlanSpec, Status, SupportPlan};
use support_plans_domain::ports::{PageRequest, PlanFilter, PlanStore as _, WorkloadStore as _};
use support_plans_domain::reminders::{SNS_MAX_BYTES, Settings, SnapshotOutcome};
use support_plans_domain::token::{KeySet, Links, TokenError, VerifyClaims, VerifyKey, verify};
use support_plans_domain::types::Slug;

/// The day the samples' README describes.
const NOW: &str = "2026-11-21T08:00:00Z";
static STACKS: AtomicU32 = AtomicU32::new(0);

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

fn key() -> KeySet {
    KeySet::single(VerifyKey::new(b"test-key-test-key-test-key-test-key-0123456789".to_vec()).unwrap())
}

const BASE: &str = "https://api.example.com";

/// One SNS message as the subscribed queue received it (the SNS envelope).
#[derive(Debug, Clone)]
struct Received {
    subject: String,
    body: String,
    attributes: BTreeMap<String, (String, String)>,
}

impl Received {
    fn attr(&self, name: &str) -> &str {
        self.attributes.get(name).map_or("", |(_, v)| v.as_str())
    }
    /// `STATE|what` for each item line, e.g. `OVERDUE|Plan review`.
    fn items(&self) -> BTreeSet<String> {
        self.body
            .lines()
            .filter(|l| l.starts_with("[OVERDUE") || l.starts_with("[DUE SOON"))
            .map(|l| {
                let (label, what) = l.split_once("] ").unwrap();
                let state = label.trim_start_matches('[').trim_end_matches(", NEW");
                format!("{state}|{what}")
            })
            .collect()
    }
    /// The (plan, contact) of every one-click link in the body.
    fn links(&self) -> Vec<(String, String)> {
        self.claims()
            .into_iter()
            .map(|c| (c.plan.to_string(), c.contact.to_string()))
            .collect()
    }
    /// What every one-click link in the body says.
    fn claims(&self) -> Vec<VerifyClaims> {
        self.body
            .lines()
            .filter_map(|l| l.split(&format!("{BASE}/verify/")).nth(1))
            .map(|t| verify(&key(), t, now()).expect("a valid token"))
            .collect()
    }
}

struct Stack {
    app: App,
    sqs: aws_sdk_sqs::Client,
    reminders: String,
    escalations: String,
}

impl Stack {
    async fn new() -> Self {
        let config = support_plans_tests::local_config().await;
        let store: DynamoStore = support_plans_tests::fresh_store().await;
        let sns = aws_sdk_sns::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        let id = format!(
            "{}-{}",
            std::process::id(),
            STACKS.fetch_add(1, Ordering::Relaxed)
        );
        let (reminder_topic, reminders) =
            support_plans_tests::topic_with_queue(&sns, &sqs, &format!("reminders-{id}")).await;
        let (escalation_topic, escalations) =
            support_plans_tests::topic_with_queue(&sns, &sqs, &format!("escalations-{id}")).await;
        let app = App {
            store,
            notifier: SnsNotifier::new(sns.clone()),
            links: Links::new(BASE, key()).unwrap(),
            subscriptions: SnsSubscriptions::new(sns, &reminder_topic, &escalation_topic),
            manage_subscriptions: true,
            reminder_topic,
            escalation_topic,
            settings: Settings::default(),
        };
        Self {
            app,
            sqs,
            reminders,
            escalations,
        }
    }

    /// The sample plans and workloads, aged by seed.json relative to NOW.
    async fn with_samples() -> Self {
        let stack = Self::new().await;
        let samples = local_stack::seed::load(&local_stack::seed::samples_dir(), now()).unwrap();
        for p in &samples.plans {
            stack.app.store.create_plan(p).await.unwrap();
        }
        for w in &samples.workloads {
            stack.app.store.create_workload(w).await.unwrap();
        }
        stack
    }

    async fn run(&self, at: Timestamp) -> freshness_check::Outcome {
        run(&self.app, Request { dry_run: false }, at).await.unwrap()
    }

    async fn drain(&self, queue: &str) -> Vec<Received> {
        let mut out = Vec::new();
        loop {
            let got = self
                .sqs
                .receive_message()
                .queue_url(queue)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .unwrap();
            let messages = got.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            for m in messages {
                let envelope: Value = serde_json::from_str(m.body().unwrap()).unwrap();
                let attributes = envelope["MessageAttributes"]
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| {
                                let t = v["Type"].as_str().unwrap().to_owned();
                                (k.clone(), (t, v["Value"].as_str().unwrap().to_owned()))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(Received {
                    subject: envelope["Subject"].as_str().unwrap_or_default().to_owned(),
                    body: envelope["Message"].as_str().unwrap().to_owned(),
                    attributes,
                });
                self.sqs
                    .delete_message()
                    .queue_url(queue)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
        out.sort_by(|a, b| {
            a.attr("owner_team")
                .cmp(b.attr("owner_team"))
                .then(a.subject.cmp(&b.subject))
        });
        out
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The reminders the samples give on 2026-11-21 (infra/local/samples/README.md):
/// datadog-enterprise (observability) is fully healthy, so three owners.
fn expected_reminders() -> BTreeMap<&'static str, BTreeSet<String>> {
    BTreeMap::from([
        (
            "data",
            set(&[
                "DUE SOON|Contact Data platform on-call, internal-poc",
                "OVERDUE|Contact Kwame Mensah, vendor-tam",
                "OVERDUE|Contact MongoDB Severity 1 hotline, vendor-support",
                "DUE SOON|Contract renews on 2026-12-31 (in 40 days)",
            ]),
        ),
        (
            "payments",
            set(&[
                "OVERDUE|Contact Stripe Premium support line, vendor-support",
                "OVERDUE|Contract lapsed on 2026-11-11 (10 days ago)",
            ]),
        ),
        (
            "platform",
            set(&[
                "DUE SOON|Contact Daniel Reyes, vendor-account-manager",
                "OVERDUE|Contact Priya Natarajan, vendor-support",
                "OVERDUE|Contact Tomasz Nowak, escalation-manager",
                "OVERDUE|Plan review",
            ]),
        ),
    ])
}

fn by_team(messages: &[Received]) -> BTreeMap<&str, BTreeSet<String>> {
    messages
        .iter()
        .map(|m| (m.attr("owner_team"), m.items()))
        .collect()
}

#[tokio::test]
async fn over_the_samples_each_owner_gets_one_message_with_exactly_its_items() {
    let stack = Stack::with_samples().await;
    let out = stack.run(now()).await;
    let s = &out.summary;
    assert_eq!((s.plans, s.contacts), (4, 18));
    // By hand (samples README): due soon = aws-account-manager, data-oncall and
    // the mongodb-atlas contract (3); overdue = 5 contacts (aws-solutions-architect,
    // platform-escalation-manager, mongodb-tam, mongodb-support, stripe-support),
    // the aws-business review and the lapsed stripe-premium contract (7).
    assert_eq!((s.due_soon, s.overdue), (3, 7));
    assert_eq!((s.owners_due, s.reminders, s.reminder_messages), (3, 3, 3));
    assert_eq!((s.escalations, s.escalation_messages, s.errors), (2, 2, 0));

    let reminders = stack.drain(&stack.reminders).await;
    assert_eq!(reminders.len(), 3, "one message per owner");
    assert_eq!(by_team(&reminders), expected_reminders());
    let emails: BTreeMap<&str, &str> = reminders
        .iter()
        .map(|m| (m.attr("owner_team"), m.attr("owner_email")))
        .collect();
    assert_eq!(
        emails,
        BTreeMap::from([
            ("data", "data-team@example.com"),
            ("payments", "payments-team@example.com"),
            ("platform", "platform-team@example.com"),
        ])
    );
    for m in &reminders {
        assert_eq!(m.attributes["kind"], ("String".into(), "reminder".into()));
        assert_eq!(m.attributes["plan_ids"].0, "String.Array");
        assert!(
            m.subject.len() <= 100 && m.subject.starts_with("[support-plans] "),
            "{}",
            m.subject
        );
        // Every contact item has exactly one working link, to its own plan.
        let contacts = m.items().iter().filter(|i| i.contains("|Contact ")).count();
        let links = m.links();
        assert_eq!(links.len(), contacts, "{}", m.body);
        let plan_ids: Vec<String> = serde_json::from_str(m.attr("plan_ids")).unwrap();
        assert!(links.iter().all(|(p, _)| plan_ids.contains(p)));
    }
    let plan_ids: BTreeMap<&str, &str> = reminders
        .iter()
        .map(|m| (m.attr("owner_team"), m.attr("plan_ids")))
        .collect();
    assert_eq!(plan_ids["platform"], r#"["aws-business"]"#);
    assert_eq!(plan_ids["data"], r#"["mongodb-atlas"]"#);
    assert_eq!(plan_ids["payments"], r#"["stripe-premium"]"#);

    // Escalations: only what is overdue by more than 30 days.
    let escalations = stack.drain(&stack.escalations).await;
    assert_eq!(
        by_team(&escalations),
        BTreeMap::from([
            ("data", set(&["OVERDUE|Contact Kwame Mensah, vendor-tam"])),
            (
                "platform",
                set(&["OVERDUE|Contact Tomasz Nowak, escalation-manager"])
            ),
        ])
    );
    for m in &escalations {
        assert_eq!(m.attr("kind"), "escalation");
        assert_eq!(m.attr("escalation_email"), "cto-office@example.com");
        assert!(
            m.body
                .contains("You are the escalation contact (cto-office@example.com)"),
            "{}",
            m.body
        );
    }

    // The reminder state is not a plan or workload: the indexes still list 4 and 3.
    let page = PageRequest::first(100);
    assert_eq!(
        stack
            .app
            .store
            .list_plans(&PlanFilter::All, &page)
            .await
            .unwrap()
            .items
            .len(),
        4
    );
    let active = PlanFilter::Status(Status::Active);
    assert_eq!(
        stack
            .app
            .store
            .list_plans(&active, &page)
            .await
            .unwrap()
            .items
            .len(),
        4
    );
    let (workloads, _) = stack.app.store.all_workloads(Status::Active).await.unwrap();
    assert_eq!(workloads.len(), 3);
}

#[tokio::test]
async fn a_rerun_the_same_day_sends_nothing_and_a_week_later_sends_again() {
    let stack = Stack::with_samples().await;
    stack.run(now()).await;
    assert_eq!(stack.drain(&stack.reminders).await.len(), 3);
    assert_eq!(stack.drain(&stack.escalations).await.len(), 2);

    // Later the same day, and the next day: nothing new has fallen due.
    for later in [SignedDuration::from_hours(9), days(1)] {
        let s = stack.run(now() + later).await.summary;
        assert_eq!(
            (s.reminders, s.escalations, s.not_due_again),
            (0, 0, 3),
            "{later:?}"
        );
        assert!(stack.drain(&stack.reminders).await.is_empty(), "{later:?}");
        assert!(stack.drain(&stack.escalations).await.is_empty(), "{later:?}");
    }

    // REMIND_EVERY_DAYS (7) later: every owner again, with the items of that day.
    let week = now() + days(7);
    let s = stack.run(week).await.summary;
    assert_eq!((s.reminders, s.escalations, s.errors), (3, 2, 0));
    let again = stack.drain(&stack.reminders).await;
    assert_eq!(
        again.iter().map(|m| m.attr("owner_team")).collect::<Vec<_>>(),
        vec!["data", "payments", "platform"]
    );
    assert_eq!(stack.drain(&stack.escalations).await.len(), 2);
}

#[tokio::test]
async fn a_newly_due_item_is_sent_at_once_to_its_owner_only() {
    let stack = Stack::with_samples().await;
    stack.run(now()).await;
    stack.drain(&stack.reminders).await;
    stack.drain(&stack.escalations).await;

    // The next day, payments adds a contact to its Stripe plan: never verified,
    // so due since the plan was created.
    let next_day = now() + days(1);
    let plan = stack
        .app
        .store
        .get_plan(&Slug::parse("stripe-premium").unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut body = serde_json::to_value(&plan.spec).unwrap();
    body["contacts"].as_array_mut().unwrap().push(json!({
        "id": "stripe-tam", "name": "Noor Haddad", "role": "vendor-tam", "email": "noor.haddad@example.net"
    }));
    let spec = PlanSpec::parse(&body).unwrap();
    let next = plan
        .replaced(
            spec,
            &Actor::parse("payments-team@example.com").unwrap(),
            next_day,
        )
        .unwrap();
    stack
        .app
        .store
        .put_plan_version(&next, Change::Replaced)
        .await
        .unwrap();

    let s = stack.run(next_day).await.summary;
    assert_eq!((s.reminders, s.not_due_again, s.escalations), (1, 2, 0));
    let got = stack.drain(&stack.reminders).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].attr("owner_team"), "payments");
    assert!(
        got[0]
            .body
            .contains("[OVERDUE, NEW] Contact Noor Haddad, vendor-tam"),
        "{}",
        got[0].body
    );
    // The rest of the owner's items come along, not marked new.
    assert!(
        got[0]
            .body
            .contains("[OVERDUE] Contact Stripe Premium support line, vendor-support"),
        "{}",
        got[0].body
    );
    assert!(stack.drain(&stack.escalations).await.is_empty());

    // Six days after the first run, two sample items fall due on their own:
    // data-oncall (due in 5 days) is overdue, platform-oncall (due in 18 days)
    // is due soon. Their owners hear at once; payments, reminded yesterday, not.
    let s = stack.run(now() + days(6)).await.summary;
    assert_eq!((s.reminders, s.not_due_again, s.escalations), (2, 1, 0));
    let got = stack.drain(&stack.reminders).await;
    let teams: Vec<&str> = got.iter().map(|m| m.attr("owner_team")).collect();
    assert_eq!(teams, vec!["data", "platform"]);
    assert!(
        got[0]
            .body
            .contains("[OVERDUE, NEW] Contact Data platform on-call"),
        "{}",
        got[0].body
    );
    assert!(
        got[1].body.contains("[DUE SOON, NEW] Contact Platform on-call"),
        "{}",
        got[1].body
    );
}

#[tokio::test]
async fn a_dry_run_sends_nothing_and_returns_the_same_summary() {
    let stack = Stack::with_samples().await;
    let dry = run(&stack.app, Request { dry_run: true }, now()).await.unwrap();
    assert!(dry.metrics.is_none(), "a dry run emits no metrics");
    assert!(stack.drain(&stack.reminders).await.is_empty());
    assert!(stack.drain(&stack.escalations).await.is_empty());
    // Nothing was recorded either: the real run decides exactly the same.
    let real = stack.run(now()).await;
    // The real run read what the dry run read; it also made the SNS calls
    // and table writes the dry run only reported, and wrote the readiness
    // snapshot.
    let (mut d, mut r) = (dry.summary.clone(), real.summary.clone());
    assert_eq!(r.table_reads, d.table_reads);
    assert_eq!(d.subscriptions.created.len(), 5, "{d:?}");
    assert_eq!(
        (d.snapshot, r.snapshot),
        (SnapshotOutcome::NotWritten, SnapshotOutcome::Replaced)
    );
    for s in [&mut d, &mut r] {
        s.subscriptions.sns_calls = 0;
        s.subscriptions.table_requests = 0;
        s.snapshot = SnapshotOutcome::NotWritten;
    }
    assert_eq!(d, r);
    assert_eq!(stack.drain(&stack.reminders).await.len(), 3);
    // And a dry run after it says that nothing would be sent now.
    let after = run(&stack.app, Request { dry_run: true }, now()).await.unwrap();
    assert_eq!((after.summary.reminders, after.summary.not_due_again), (0, 3));
}

#[tokio::test]
async fn the_metrics_line_is_emf_with_the_spec_names() {
    let stack = Stack::with_samples().await;
    let out = stack.run(now()).await;
    let line = out.metrics.expect("a real run emits metrics");
    assert!(!line.contains('\n'), "one line");
    let v: Value = serde_json::from_str(&line).unwrap();
    let aws = &v["_aws"];
    assert_eq!(aws["Timestamp"], json!(now().as_millisecond()));
    let directive = &aws["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "SupportPlans");
    assert_eq!(directive["Dimensions"], json!([["Service"]]));
    assert_eq!(v["Service"], "freshness-check");
    let names: Vec<&str> = directive["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    // SPEC §6, in order, and each metric has its value on the line.
    let spec = [
        "Workloads",
        "WorkloadsWithoutActivePlan",
        "Tier1WorkloadsWithout24x7",
        "Plans",
        "Contacts",
        "ContactsFreshPercent",
        "ContactsOverdue",
        "PlansDueForReview",
        "ContractsRenewing",
        "ContractsLapsed",
        "RemindersSent",
        "EscalationsSent",
        "IncidentsMatched30Days",
        "IncidentsUnmatched30Days",
        "IncidentsWithoutPlan30Days",
    ];
    for name in spec {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    // The responder counts each incident once under these names; the 30-day
    // totals never share them (SPEC §4 "Counted once").
    for name in ["IncidentsMatched", "IncidentsUnmatched", "IncidentsWithoutPlan"] {
        assert!(
            !names.contains(&name),
            "{name} is the responder's per-incident metric: {names:?}"
        );
    }
    for name in &names {
        assert!(v[name].is_number(), "{name} has no value");
    }
    assert_eq!(
        directive["Metrics"][5],
        json!({"Name": "ContactsFreshPercent", "Unit": "Percent"})
    );
    // The figures of the samples (counted by hand in infra/local/samples/README.md):
    // 3 workloads, 4 plans, 18 contacts of which 5 overdue (13/18 = 72.2 % fresh),
    // 1 plan due for review, 1 contract renewing, 1 lapsed; 3 reminders and 2
    // escalations sent by this run.
    for (name, value) in [
        ("Workloads", json!(3)),
        ("WorkloadsWithoutActivePlan", json!(0)),
        ("Tier1WorkloadsWithout24x7", json!(0)),
        ("Plans", json!(4)),
        ("Contacts", json!(18)),
        ("ContactsFreshPercent", json!(72.2)),
        ("ContactsOverdue", json!(5)),
        ("PlansDueForReview", json!(1)),
        ("ContractsRenewing", json!(1)),
        ("ContractsLapsed", json!(1)),
        ("RemindersSent", json!(3)),
        ("EscalationsSent", json!(2)),
        ("IncidentsMatched30Days", json!(0)),
        ("IncidentsUnmatched30Days", json!(0)),
        ("IncidentsWithoutPlan30Days", json!(0)),
    ] {
        assert_eq!(v[name], value, "{name}");
    }
    // What was sent is counted for GET /readiness.
    assert_eq!(out.readiness.activity.reminders_sent, 3);
    assert_eq!(out.readiness.activity.escalations_sent, 2);
}

#[tokio::test]
async fn an_owner_past_256_kib_receives_several_complete_messages() {
    let stack = Stack::new().await;
    // 16 plans of 50 never-verified contacts: 800 items, about 320 KiB of text.
    let creator = Actor::parse("arn:aws:iam::111122223333:user/creator").unwrap();
    for p in 0..16 {
        let mut body = support_plans_tests::plan_body(&format!("big-{p:02}"), "platform");
        body["contacts"] = (0..50)
            .map(|c| json!({"id": format!("contact-{c:02}"), "name": format!("Person {p}-{c}"), "role": "vendor-support", "email": format!("p{p}c{c}@vendor.example.net")}))
            .collect();
        body["escalation_steps"] = json!([{"title": "Open a case", "instructions": "", "after_minutes": 0}]);
        let plan = SupportPlan::create(PlanSpec::parse(&body).unwrap(), &creator, now() - days(10));
        stack.app.store.create_plan(&plan).await.unwrap();
    }
    let s = stack.run(now()).await.summary;
    assert_eq!((s.reminders, s.errors), (1, 0));
    assert!(s.reminder_messages >= 2, "{s:?}");
    let got = stack.drain(&stack.reminders).await;
    assert_eq!(got.len(), s.reminder_messages);
    let mut seen = BTreeSet::new();
    for (i, m) in got.iter().enumerate() {
        let size = m.body.len()
            + m.subject.len()
            + m.attributes
                .iter()
                .map(|(k, (t, v))| k.len() + t.len() + v.len())
                .sum::<usize>();
        assert!(size <= SNS_MAX_BYTES, "part {i}: {size} bytes");
        assert!(m.body.starts_with("Hello platform team"), "part {i} is complete");
        assert!(
            m.body.trim_end().ends_with("freshness check, 2026-11-21"),
            "part {i} is complete"
        );
        assert!(
            m.subject.contains(&format!("/{}] platform", got.len())),
            "{}",
            m.subject
        );
        let plan_ids: Vec<String> = serde_json::from_str(m.attr("plan_ids")).unwrap();
        for (plan, contact) in m.links() {
            assert!(plan_ids.contains(&plan), "part {i}: {plan} not in plan_ids");
            assert!(seen.insert((plan, contact)), "an item in two parts");
        }
    }
    assert_eq!(seen.len(), 800, "every item, each once");
}

#[tokio::test]
async fn the_links_sent_are_bound_to_the_plan_as_stored_and_stop_when_its_contact_changes() {
    let stack = Stack::with_samples().await;
    stack.run(now()).await;
    let reminders = stack.drain(&stack.reminders).await;
    let stripe = Slug::parse("stripe-premium").unwrap();
    let mut stripe_links = Vec::new();
    for m in &reminders {
        for c in m.claims() {
            let plan = stack.app.store.get_plan(&c.plan).await.unwrap();
            assert_eq!(c.check(plan.as_ref()), Ok(()), "{} {}", c.plan, c.contact);
            if c.plan == stripe {
                stripe_links.push(c);
            }
        }
    }
    assert_eq!(stripe_links.len(), 1, "the support line is overdue");

    // The support line's number changes: the link sent for the old one stops.
    let plan = stack.app.store.get_plan(&stripe).await.unwrap().unwrap();
    let mut body = serde_json::to_value(&plan.spec).unwrap();
    let contacts = body["contacts"].as_array_mut().unwrap();
    let line = contacts
        .iter_mut()
        .find(|c| c["id"] == stripe_links[0].contact.as_str())
        .unwrap();
    line["phone"] = json!("+18005550199");
    line.as_object_mut().unwrap().remove("email");
    let next = plan
        .replaced(
            PlanSpec::parse(&body).unwrap(),
            &Actor::parse("payments-team@example.com").unwrap(),
            now() + days(1),
        )
        .unwrap();
    stack
        .app
        .store
        .put_plan_version(&next, Change::Replaced)
        .await
        .unwrap();
    let stored = stack.app.store.get_plan(&stripe).await.unwrap();
    assert_eq!(
        stripe_links[0].check(stored.as_ref()),
        Err(TokenError::ContactChanged)
    );
}
