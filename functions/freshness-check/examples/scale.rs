//! The freshness-scale bar (SPEC §10): 10,000 plans and 100,000 contacts in a
//! table of the local stack, evaluated by the freshness check. Prints the
//! table reads and the CPU time of each phase. Not a test: loading the table
//! into moto takes a minute or two.
//!
//! ```sh
//! infra/local/with-stack.sh cargo run --release -p freshness-check --example scale
//! infra/local/with-stack.sh cargo run --release -p freshness-check --example scale -- --send
//! ```
//! `--send` also makes the real run (one SNS message per owner, through moto).
//! `--stack-table` loads the stack's own table (`TABLE_NAME`, the one the
//! functions under `cargo lambda watch` read) instead of a new one, so that
//! `bench scale` can then time `GET /readiness` and the freshness-check
//! process over the same 10,000 plans (infra/bench/run.sh).
//!
//! The last line on stdout is one JSON object for `make bench`: the read's and
//! the whole dry run's process CPU, the evaluation's thread CPU (milliseconds),
//! the dry run's table reads and the plan read's Query pages.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};

use freshness_check::{App, Request, run};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use support_plans_aws::DynamoStore;
use support_plans_aws::sns::SnsNotifier;
use support_plans_aws::store::current_plan_item;
use support_plans_aws::subscriptions::SnsSubscriptions;
use support_plans_domain::model::{Actor, PlanSpec, Status, SupportPlan};
use support_plans_domain::reminders::{Settings, collect, decide, evaluate_all, reminder_messages};
use support_plans_domain::token::{KeySet, Links, VerifyKey};

const PLANS: usize = 10_000;
const CONTACTS_PER_PLAN: usize = 10;
const OWNERS: usize = 1_000;

/// CPU time of this process (all threads), from /proc: user + system.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("Linux /proc");
    // Fields after the command name (which is in parentheses).
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let f: Vec<u64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0)).collect();
    // utime and stime are fields 14 and 15 (1-based), in clock ticks (100 Hz on Linux).
    Duration::from_millis((f[11] + f[12]) * 10)
}

/// CPU time of the current thread, in nanoseconds (the runtime is single-threaded).
fn thread_cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").expect("Linux /proc");
    Duration::from_nanos(s.split_whitespace().next().unwrap().parse().unwrap())
}

fn plan(i: usize, now: Timestamp, actor: &Actor) -> SupportPlan {
    let team = format!("team-{:03}", i % OWNERS);
    let mut body = support_plans_tests::plan_body(&format!("plan-{i:05}"), &team);
    body["contacts"] = (0..CONTACTS_PER_PLAN)
        .map(|c| {
            json!({"id": format!("contact-{c}"), "name": format!("Contact {i}-{c}"), "role": "vendor-support",
                   "email": format!("c{c}.p{i}@vendor.example.net"), "phone": "+12065550100"})
        })
        .collect();
    body["escalation_steps"] =
        json!([{"title": "Open a case", "instructions": "Use the portal.", "after_minutes": 0}]);
    if i.is_multiple_of(7) {
        body["renews_on"] = json!(format!("2027-0{}-15", 1 + i % 9));
    }
    let spec = PlanSpec::parse(&body).expect("a valid plan");
    let mut p = SupportPlan::create(spec, actor, now - SignedDuration::from_hours(24 * 400));
    p.reviewed_at = Some(now - SignedDuration::from_hours(24 * (i % 300) as i64));
    for (c, contact) in p.spec.contacts.iter_mut().enumerate() {
        // Ages spread over 0–199 days: about half overdue, some due soon, a few never verified.
        if !(i + c).is_multiple_of(17) {
            let days = ((i * 37 + c * 11) % 200) as i64;
            contact.verified_at = Some(now - SignedDuration::from_hours(24 * days));
            contact.verified_by = Some(actor.clone());
        }
    }
    p
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let send = std::env::args().any(|a| a == "--send");
    let now = Timestamp::now();
    let config = support_plans_tests::local_config().await;
    let store = if std::env::args().any(|a| a == "--stack-table") {
        let table = std::env::var("TABLE_NAME").expect("--stack-table: TABLE_NAME is set by the stack's env");
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table)
    } else {
        support_plans_tests::fresh_store().await
    };
    let actor = Actor::parse("scale-example").unwrap();

    // Loaded with BatchWriteItem (25 current items a call, no history): moto
    // copies every table on each TransactWriteItems, which at this size takes
    // minutes and gigabytes. Each item is the one the store writes
    // (`current_plan_item`: keys, indexes, record and whatever else the store
    // keeps on it); the read-back below checks them.
    let started = Instant::now();
    // SCALE_PLANS: fewer plans, for profiling a phase; the bar is judged at PLANS.
    let n = std::env::var("SCALE_PLANS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(PLANS);
    let plans: Vec<SupportPlan> = (0..n).map(|i| plan(i, now, &actor)).collect();
    let contacts: usize = plans.iter().map(|p| p.spec.contacts.len()).sum();
    let client = store.client().clone();
    for chunk in plans.chunks(25) {
        let mut writes: Vec<WriteRequest> = chunk
            .iter()
            .map(|p| {
                let put = PutRequest::builder()
                    .set_item(Some(current_plan_item(p).expect("a plan's item")))
                    .build()
                    .unwrap();
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        while !writes.is_empty() {
            let out = client
                .batch_write_item()
                .request_items(store.table(), writes)
                .send()
                .await
                .expect("batch write");
            writes = out
                .unprocessed_items
                .and_then(|mut u| u.remove(store.table()))
                .unwrap_or_default();
        }
    }
    eprintln!(
        "loaded {} plans, {contacts} contacts, {OWNERS} owners into {} in {:.1?}",
        plans.len(),
        store.table(),
        started.elapsed()
    );
    drop(plans);

    let sns = aws_sdk_sns::Client::new(&config);
    let topic = sns
        .create_topic()
        .name(format!("scale-{}", std::process::id()))
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let key = KeySet::single(VerifyKey::new(vec![7u8; 64]).unwrap());
    let app = App {
        store: store.clone(),
        notifier: SnsNotifier::new(sns.clone()),
        links: Links::new("https://api.example.com", key).unwrap(),
        subscriptions: SnsSubscriptions::new(sns, &topic, &topic),
        manage_subscriptions: true,
        reminder_topic: topic.clone(),
        escalation_topic: topic,
        settings: Settings::default(),
    };

    // 1. The read alone: the active plans, once, page by page.
    let (c0, t0, w0) = (cpu(), thread_cpu(), Instant::now());
    let (read, pages) = store.all_plans(Status::Active).await.unwrap();
    let (c1, t1, w1) = (cpu(), thread_cpu(), w0.elapsed());
    let read_cpu = c1 - c0;
    assert_eq!(read.len(), n, "every plan loaded is read back through the store");
    println!(
        "read:       {} plans in {pages} Query pages; CPU {:?} (thread {:.1?}), wall {w1:.1?}",
        read.len(),
        c1 - c0,
        t1 - t0
    );

    // 2. The evaluation alone (pure): freshness of every item, grouping by owner,
    //    the decision per owner and every reminder rendered with its links.
    let settings = Settings::default();
    let t0 = thread_cpu();
    let freshness = evaluate_all(&read, now, &settings.policy);
    let (tally, owners) = collect(&read, &freshness, &settings);
    let mut messages = 0;
    let mut bytes = 0;
    for o in &owners {
        let d = decide(o, &Default::default(), now, &settings);
        for m in reminder_messages(o, &d.new, &app.links, now, &settings) {
            messages += 1;
            bytes += m.size();
        }
    }
    let t1 = thread_cpu();
    let eval_cpu = t1 - t0;
    println!(
        "evaluate:   {} plans, {} contacts, {} due soon, {} overdue, {} owners, {messages} messages \
         ({:.1} MiB); CPU {:.1?}",
        tally.plans,
        tally.contacts,
        tally.due_soon,
        tally.overdue,
        owners.len(),
        bytes as f64 / 1_048_576.0,
        t1 - t0
    );
    drop((read, freshness, owners));

    // 3. The whole dry run as the function makes it.
    let (c0, t0, w0) = (cpu(), thread_cpu(), Instant::now());
    let dry = run(&app, Request { dry_run: true }, now).await.unwrap();
    let (c1, t1) = (cpu(), thread_cpu());
    let dry_cpu = c1 - c0;
    println!(
        "dry run:    {} table reads in all; CPU {:?} (thread {:.1?}), wall {:.1?}\n            {}",
        dry.summary.table_reads,
        c1 - c0,
        t1 - t0,
        w0.elapsed(),
        serde_json::to_string(&dry.summary).unwrap()
    );

    let figures = json!({
        "plans": n,
        "contacts": contacts,
        "eval_cpu_ms": eval_cpu.as_millis() as u64,
        "read_cpu_ms": read_cpu.as_millis() as u64,
        "total_cpu_ms": dry_cpu.as_millis() as u64,
        "table_reads": dry.summary.table_reads,
        "pages": pages,
    });
    if send {
        let (c0, w0) = (cpu(), Instant::now());
        let real = run(&app, Request { dry_run: false }, now).await.unwrap();
        println!(
            "real run:   CPU {:?}, wall {:.1?}\n            {}",
            cpu() - c0,
            w0.elapsed(),
            serde_json::to_string(&real.summary).unwrap()
        );
    }
    println!("{figures}");
}
