//! Reminders that arrive (SPEC §14) against the local stack: the SNS adapter
//! against moto's SNS (made faithful by `infra/local/moto_server.py`: e-mail
//! subscriptions pending until confirmed, Subscribe idempotent on equal
//! attributes and refused on different ones, pages of 100), the table
//! adapter, and the domain's `Keeper::run` over both, end to end.
//!
//! Each test has topics (and a table) of its own. SNS calls are counted by
//! an interceptor on the client, not by the code under test.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};

use jiff::Timestamp;
use serde_json::{Value, json};
use support_plans_aws::calls::CallLog;
use support_plans_aws::subscriptions::SnsSubscriptions;
use support_plans_domain::model::{PlanSpec, SupportPlan};
use support_plans_domain::ports::PlanStore as _;
use support_plans_domain::reminders::subscriptions::{
    Change, Keeper, Listed, PlanReach, Reach, Record, Report, SnsError, SubscriptionRecords,
    Subscriptions as _, Topic, filter_policy,
};
use support_plans_tests::{actor, fresh_store, local_config, plan_body, sns_confirm};

static NAMES: AtomicU32 = AtomicU32::new(0);

/// A name no other test (or run against the same stack) uses.
fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}-{}",
        std::process::id(),
        NAMES.fetch_add(1, Ordering::Relaxed),
        Timestamp::now().as_millisecond()
    )
}

/// Two fresh topics, the adapter on them, a raw client (for what an
/// operator does by hand) and the adapter's calls.
struct Sns {
    adapter: SnsSubscriptions,
    raw: aws_sdk_sns::Client,
    calls: CallLog,
}

impl Sns {
    async fn new() -> Self {
        let config = local_config().await;
        let raw = aws_sdk_sns::Client::new(&config);
        let calls = CallLog::default();
        let counted = aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::config::Builder::from(&config)
                .interceptor(calls.interceptor())
                .build(),
        );
        let mut arns = Vec::new();
        for name in ["reminders", "escalations"] {
            let out = raw
                .create_topic()
                .name(unique(name))
                .send()
                .await
                .expect("create topic");
            arns.push(out.topic_arn().expect("a topic ARN").to_owned());
        }
        Self {
            adapter: SnsSubscriptions::new(counted, arns[0].clone(), arns[1].clone()),
            raw,
            calls,
        }
    }

    fn arn(&self, topic: Topic) -> &str {
        self.adapter.topic_arn(topic)
    }

    /// The adapter's calls since the last look, by operation.
    fn take_calls(&self) -> Vec<String> {
        let ops = self.calls.calls().into_iter().map(|c| c.operation).collect();
        self.calls.clear();
        ops
    }

    /// What SNS lists for `topic`, read with the raw client.
    async fn listed(&self, topic: Topic) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .raw
                .list_subscriptions_by_topic()
                .topic_arn(self.arn(topic))
                .set_next_token(token)
                .send()
                .await
                .expect("ListSubscriptionsByTopic");
            for s in page.subscriptions() {
                out.push((
                    s.endpoint().unwrap_or_default().to_owned(),
                    s.subscription_arn().unwrap_or_default().to_owned(),
                ));
            }
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                out.sort();
                return out;
            }
        }
    }

    /// The filter policy SNS has for `arn`, as JSON.
    async fn policy_of(&self, arn: &str) -> Option<Value> {
        let out = self
            .raw
            .get_subscription_attributes()
            .subscription_arn(arn)
            .send()
            .await
            .expect("GetSubscriptionAttributes");
        out.attributes()
            .and_then(|a| a.get("FilterPolicy"))
            .map(|p| serde_json::from_str(p).expect("a JSON filter policy"))
    }

    /// An `email` subscription made by hand (pending until confirmed); its ARN.
    async fn by_hand(&self, topic: Topic, endpoint: &str, policy: Option<&Value>) -> String {
        let mut req = self
            .raw
            .subscribe()
            .topic_arn(self.arn(topic))
            .protocol("email")
            .endpoint(endpoint)
            .return_subscription_arn(true);
        if let Some(p) = policy {
            req = req.attributes("FilterPolicy", p.to_string());
        }
        let out = req.send().await.expect("Subscribe by hand");
        out.subscription_arn().expect("an ARN").to_owned()
    }
}

fn policy(topic: Topic, address: &str) -> Value {
    serde_json::from_str(&filter_policy(topic, address)).expect("JSON")
}

/// An active plan owned by `owner`, escalating to `escalation`.
fn plan(id: &str, owner: &str, escalation: Option<&str>) -> SupportPlan {
    let mut body = plan_body(id, "platform");
    body["owner"]["email"] = json!(owner);
    if let Some(e) = escalation {
        body["owner"]["escalation_email"] = json!(e);
    }
    SupportPlan::create(
        PlanSpec::parse(&body).expect("a valid plan body"),
        &actor("arn:aws:iam::111122223333:user/creator"),
        Timestamp::now(),
    )
}

fn changes(list: &[Change]) -> BTreeSet<(Topic, &str)> {
    list.iter().map(|c| (c.topic, c.address.as_str())).collect()
}

fn reach_of(records: &[Record], topic: Topic, address: &str) -> Option<(Reach, Option<String>)> {
    records
        .iter()
        .find(|r| r.topic == topic && r.address == address)
        .map(|r| (r.reach, r.managed_arn.clone()))
}

async fn run<R: SubscriptionRecords>(sns: &Sns, records: &R, plans: &[SupportPlan], dry_run: bool) -> Report {
    let keeper = Keeper {
        sns: &sns.adapter,
        records,
        manage: true,
    };
    let report = keeper
        .run(plans, Timestamp::now(), dry_run)
        .await
        .expect("the run reads the table");
    assert_eq!(report.failures, Vec::<String>::new(), "no call failed");
    report
}

// --- The SNS adapter against moto's SNS -------------------------------------

#[tokio::test]
async fn a_new_email_subscription_is_pending_until_its_owner_confirms() {
    let sns = Sns::new().await;
    let address = "owner@example.com";
    let wanted = filter_policy(Topic::Reminder, address);
    let arn = sns
        .adapter
        .subscribe(Topic::Reminder, address, &wanted)
        .await
        .expect("subscribed");
    assert!(
        arn.starts_with(sns.arn(Topic::Reminder)),
        "the real ARN at once: {arn}"
    );

    let (listed, calls) = sns.adapter.list(Topic::Reminder).await.expect("listed");
    assert_eq!(calls, 1);
    assert_eq!(
        listed,
        vec![Listed {
            arn: None,
            protocol: "email".into(),
            endpoint: address.into()
        }],
        "pending: listed without its ARN"
    );

    assert_eq!(
        sns_confirm(sns.arn(Topic::Reminder), address).await,
        vec![arn.clone()]
    );
    assert_eq!(
        sns_confirm(sns.arn(Topic::Reminder), address).await,
        Vec::<String>::new()
    );
    let (listed, _) = sns.adapter.list(Topic::Reminder).await.expect("listed");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].arn.as_deref(),
        Some(arn.as_str()),
        "confirmed: listed with its ARN"
    );

    let read = sns.adapter.filter_policy(&arn).await.expect("attributes read");
    let read: Value = serde_json::from_str(read.as_deref().expect("a filter policy")).unwrap();
    assert_eq!(read, policy(Topic::Reminder, address));
    assert_eq!(read, json!({"owner_email": [address]}));
    // The other topic is untouched.
    assert_eq!(sns.adapter.list(Topic::Escalation).await.unwrap().0, vec![]);
}

#[tokio::test]
async fn a_subscription_made_without_a_filter_policy_reads_back_none() {
    let sns = Sns::new().await;
    let arn = sns.by_hand(Topic::Reminder, "all@example.com", None).await;
    assert_eq!(sns.adapter.filter_policy(&arn).await, Ok(None));
}

#[tokio::test]
async fn subscribing_again_with_the_same_policy_gives_the_same_subscription_another_policy_is_refused() {
    let sns = Sns::new().await;
    let address = "owner@example.com";
    let wanted = filter_policy(Topic::Reminder, address);
    let first = sns
        .adapter
        .subscribe(Topic::Reminder, address, &wanted)
        .await
        .unwrap();
    let again = sns
        .adapter
        .subscribe(Topic::Reminder, address, &wanted)
        .await
        .unwrap();
    assert_eq!(again, first, "pending: the same subscription");
    sns_confirm(sns.arn(Topic::Reminder), address).await;
    let confirmed = sns
        .adapter
        .subscribe(Topic::Reminder, address, &wanted)
        .await
        .unwrap();
    assert_eq!(confirmed, first, "confirmed: the same subscription");

    let other = filter_policy(Topic::Reminder, "someone-else@example.com");
    let err = sns
        .adapter
        .subscribe(Topic::Reminder, address, &other)
        .await
        .expect_err("different attributes are refused");
    assert!(
        matches!(&err, SnsError::Refused(m) if m.contains("Subscription already exists with different attributes")),
        "{err:?}"
    );
    assert_eq!(
        sns.listed(Topic::Reminder).await,
        vec![(address.to_owned(), first.clone())]
    );
    assert_eq!(
        sns.policy_of(&first).await,
        Some(policy(Topic::Reminder, address)),
        "the refused call changed nothing"
    );
}

#[tokio::test]
async fn unsubscribe_removes_pending_and_confirmed_subscriptions() {
    let sns = Sns::new().await;
    let confirmed = sns
        .adapter
        .subscribe(
            Topic::Escalation,
            "a@example.com",
            &filter_policy(Topic::Escalation, "a@example.com"),
        )
        .await
        .unwrap();
    sns_confirm(sns.arn(Topic::Escalation), "a@example.com").await;
    let pending = sns
        .adapter
        .subscribe(
            Topic::Escalation,
            "b@example.com",
            &filter_policy(Topic::Escalation, "b@example.com"),
        )
        .await
        .unwrap();
    assert_eq!(sns.adapter.list(Topic::Escalation).await.unwrap().0.len(), 2);

    sns.adapter
        .unsubscribe(&confirmed)
        .await
        .expect("confirmed one removed");
    sns.adapter
        .unsubscribe(&pending)
        .await
        .expect("pending one removed");
    assert_eq!(sns.adapter.list(Topic::Escalation).await.unwrap().0, vec![]);
    // SNS answers success for a subscription it no longer has.
    assert_eq!(sns.adapter.unsubscribe(&confirmed).await, Ok(()));
    let gone = sns.adapter.filter_policy(&confirmed).await;
    assert!(matches!(gone, Err(SnsError::NotFound(_))), "{gone:?}");
}

#[tokio::test]
async fn listing_reads_every_page_of_100_and_counts_them() {
    let sns = Sns::new().await;
    for i in 0..100 {
        sns.by_hand(Topic::Reminder, &format!("p{i:03}@example.com"), None)
            .await;
    }
    sns.take_calls();
    let (listed, calls) = sns.adapter.list(Topic::Reminder).await.unwrap();
    assert_eq!((listed.len(), calls), (100, 1), "100 are one page");
    assert_eq!(sns.take_calls(), vec!["ListSubscriptionsByTopic"]);

    for i in 100..205 {
        let address = format!("p{i:03}@example.com");
        sns.by_hand(Topic::Reminder, &address, None).await;
        if i % 2 == 0 {
            sns_confirm(sns.arn(Topic::Reminder), &address).await;
        }
    }
    sns.take_calls();
    let (listed, calls) = sns.adapter.list(Topic::Reminder).await.unwrap();
    assert_eq!(calls, 3, "205 are three pages");
    assert_eq!(sns.take_calls().len(), 3);
    let endpoints: BTreeSet<&str> = listed.iter().map(|l| l.endpoint.as_str()).collect();
    assert_eq!(endpoints.len(), 205, "each once");
    assert_eq!(listed.iter().filter(|l| l.arn.is_some()).count(), 53);
}

#[tokio::test]
async fn a_topic_that_does_not_exist_is_refused_not_retried() {
    let config = local_config().await;
    let missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic";
    let adapter = SnsSubscriptions::new(aws_sdk_sns::Client::new(&config), missing, missing);
    let listed = adapter.list(Topic::Reminder).await;
    assert!(matches!(listed, Err(SnsError::Refused(_))), "{listed:?}");
    let subscribed = adapter.subscribe(Topic::Reminder, "a@example.com", "{}").await;
    assert!(matches!(subscribed, Err(SnsError::Refused(_))), "{subscribed:?}");
}

// --- The table adapter ------------------------------------------------------

#[tokio::test]
async fn subscription_records_round_trip_through_the_table() {
    let store = fresh_store().await;
    let at: Timestamp = "2026-12-02T08:00:00Z".parse().unwrap();
    let managed = Record {
        topic: Topic::Reminder,
        address: "a@example.com".into(),
        managed_arn: Some("arn:aws:sns:us-east-1:123456789012:reminders:1".into()),
        reach: Reach::PendingConfirmation,
        checked_at: at,
    };
    let by_hand = Record {
        topic: Topic::Reminder,
        address: "b@example.com".into(),
        managed_arn: None,
        reach: Reach::FilteredOut,
        checked_at: at,
    };
    // The same address on the other topic is another record.
    let escalation = Record {
        topic: Topic::Escalation,
        address: "a@example.com".into(),
        managed_arn: None,
        reach: Reach::NoSubscription,
        checked_at: at,
    };
    for r in [&managed, &by_hand, &escalation] {
        store.save_record(r).await.unwrap();
    }

    let (mut all, reads) = store.all_records().await.unwrap();
    all.sort_by(|a, b| (a.topic, &a.address).cmp(&(b.topic, &b.address)));
    assert_eq!(reads, 1);
    assert_eq!(all, vec![managed.clone(), by_hand.clone(), escalation.clone()]);

    let some = store
        .records(&[
            (Topic::Escalation, "a@example.com"),
            (Topic::Reminder, "nobody@example.com"),
            (Topic::Reminder, "a@example.com"),
            (Topic::Escalation, "a@example.com"),
        ])
        .await
        .unwrap();
    assert_eq!(
        some,
        vec![escalation.clone(), managed.clone()],
        "the ones that exist, once, in the order asked"
    );

    let confirmed = Record {
        reach: Reach::Confirmed,
        checked_at: "2026-12-03T08:00:00Z".parse().unwrap(),
        ..managed.clone()
    };
    store.save_record(&confirmed).await.unwrap();
    store
        .forget_record(Topic::Reminder, "b@example.com")
        .await
        .unwrap();
    store
        .forget_record(Topic::Reminder, "never@example.com")
        .await
        .unwrap();
    let (mut all, _) = store.all_records().await.unwrap();
    all.sort_by(|a, b| (a.topic, &a.address).cmp(&(b.topic, &b.address)));
    assert_eq!(all, vec![confirmed, escalation]);
}

#[tokio::test]
async fn the_records_live_in_their_own_partition_only() {
    let store = fresh_store().await;
    store
        .create_plan(&plan("acme-cloud", "a@example.com", None))
        .await
        .unwrap();
    store
        .save_record(&Record {
            topic: Topic::Reminder,
            address: "a@example.com".into(),
            managed_arn: None,
            reach: Reach::Confirmed,
            checked_at: Timestamp::now(),
        })
        .await
        .unwrap();
    let (all, _) = store.all_records().await.unwrap();
    assert_eq!(all.len(), 1, "plans are not read as records");
    let raw = store
        .client()
        .scan()
        .table_name(store.table())
        .send()
        .await
        .unwrap();
    let keys: Vec<(String, String)> = raw
        .items()
        .iter()
        .filter_map(|i| {
            Some((
                i.get("pk")?.as_s().ok()?.clone(),
                i.get("sk")?.as_s().ok()?.clone(),
            ))
        })
        .filter(|(pk, _)| !pk.starts_with("PLAN#"))
        .collect();
    assert_eq!(
        keys,
        vec![("SUBSCRIPTIONS".to_owned(), "reminder#a@example.com".to_owned())],
        "one item, under the SUBSCRIPTIONS key only"
    );
}

// --- Keeper::run over both adapters -----------------------------------------

#[tokio::test]
async fn the_first_run_subscribes_each_address_once_with_its_filter_policy() {
    let sns = Sns::new().await;
    let store = fresh_store().await;
    let plans = [
        plan("aws", "platform@example.com", Some("cto@example.com")),
        plan("stripe", "platform@example.com", Some("cto@example.com")),
        plan("mongodb", "data@example.com", None),
    ];
    let report = run(&sns, &store, &plans, false).await;
    assert_eq!(
        changes(&report.created),
        BTreeSet::from([
            (Topic::Reminder, "data@example.com"),
            (Topic::Reminder, "platform@example.com"),
            (Topic::Escalation, "cto@example.com"),
        ])
    );
    assert_eq!(report.removed, vec![]);

    let reminders = sns.listed(Topic::Reminder).await;
    assert_eq!(
        reminders,
        vec![
            ("data@example.com".to_owned(), "PendingConfirmation".to_owned()),
            (
                "platform@example.com".to_owned(),
                "PendingConfirmation".to_owned()
            ),
        ],
        "one e-mail subscription per owner, pending until confirmed"
    );
    let (records, _) = store.all_records().await.unwrap();
    assert_eq!(records.len(), 3);
    for (topic, address) in [
        (Topic::Reminder, "data@example.com"),
        (Topic::Reminder, "platform@example.com"),
        (Topic::Escalation, "cto@example.com"),
    ] {
        let (reach, arn) = reach_of(&records, topic, address).expect("recorded");
        assert_eq!(reach, Reach::PendingConfirmation);
        let arn = arn.expect("the managed subscription's ARN");
        assert!(arn.starts_with(sns.arn(topic)), "{arn}");
        assert_eq!(sns.policy_of(&arn).await, Some(policy(topic, address)));
    }
    assert_eq!(
        sns.listed(Topic::Escalation).await,
        vec![("cto@example.com".to_owned(), "PendingConfirmation".to_owned())]
    );
    // Pending: not reachable yet, and said so.
    assert_eq!(
        report.owner_unreachable("platform@example.com"),
        Some(Reach::PendingConfirmation)
    );
    assert_eq!(
        report.owner_unreachable("data@example.com"),
        Some(Reach::PendingConfirmation)
    );
    assert_eq!(
        report.escalations_unreachable.get("cto@example.com"),
        Some(&Reach::PendingConfirmation)
    );
}

#[tokio::test]
async fn a_second_run_changes_nothing_and_makes_at_most_two_sns_calls_per_owner() {
    let sns = Sns::new().await;
    let store = fresh_store().await;
    let plans = [
        plan("aws", "platform@example.com", Some("cto@example.com")),
        plan("mongodb", "data@example.com", Some("cto@example.com")),
        plan("stripe", "payments@example.com", None),
    ];
    let owners = 3;
    run(&sns, &store, &plans, false).await;
    let before = (
        sns.listed(Topic::Reminder).await,
        sns.listed(Topic::Escalation).await,
    );
    let (records_before, _) = store.all_records().await.unwrap();
    sns.take_calls();

    let second = run(&sns, &store, &plans, false).await;
    assert_eq!((second.created.len(), second.removed.len()), (0, 0));
    assert_eq!(
        (
            sns.listed(Topic::Reminder).await,
            sns.listed(Topic::Escalation).await
        ),
        before
    );
    let (records_after, _) = store.all_records().await.unwrap();
    assert_eq!(records_after, records_before, "nothing new to record");
    assert_eq!(second.table_requests, 1, "one read, no write");
    let calls = sns.take_calls();
    assert_eq!(calls, vec!["ListSubscriptionsByTopic"; 2], "one page per topic");
    assert!(calls.len() <= 2 * owners);

    // The owners confirm: the next run records them reachable, still with no change in SNS.
    for (topic, address) in [
        (Topic::Reminder, "platform@example.com"),
        (Topic::Reminder, "data@example.com"),
        (Topic::Reminder, "payments@example.com"),
        (Topic::Escalation, "cto@example.com"),
    ] {
        assert_eq!(sns_confirm(sns.arn(topic), address).await.len(), 1);
    }
    let third = run(&sns, &store, &plans, false).await;
    assert_eq!((third.created.len(), third.removed.len()), (0, 0));
    assert!(
        third.owners_unreachable.is_empty(),
        "{:?}",
        third.owners_unreachable
    );
    assert!(third.escalations_unreachable.is_empty());
    let calls = sns.take_calls();
    assert!(calls.len() <= 2 * owners, "{calls:?}");
    assert!(calls.iter().all(|c| c == "ListSubscriptionsByTopic"), "{calls:?}");
    let (records, _) = store.all_records().await.unwrap();
    assert!(records.iter().all(|r| r.reach == Reach::Confirmed), "{records:?}");

    let fourth = run(&sns, &store, &plans, false).await;
    assert_eq!(
        (fourth.created.len(), fourth.removed.len(), fourth.table_requests),
        (0, 0, 1)
    );
    assert_eq!(sns.take_calls().len(), 2);
}

#[tokio::test]
async fn an_owner_replaced_loses_the_managed_subscription_and_the_new_owner_gets_one() {
    let sns = Sns::new().await;
    let store = fresh_store().await;
    run(
        &sns,
        &store,
        &[plan("aws", "old@example.com", Some("old-lead@example.com"))],
        false,
    )
    .await;
    // The old owner confirmed; the old escalation address never did.
    sns_confirm(sns.arn(Topic::Reminder), "old@example.com").await;
    run(
        &sns,
        &store,
        &[plan("aws", "old@example.com", Some("old-lead@example.com"))],
        false,
    )
    .await;

    let replaced = [plan("aws", "new@example.com", Some("new-lead@example.com"))];
    let report = run(&sns, &store, &replaced, false).await;
    // The confirmed one is removed; the pending one cannot be (SNS lets
    // nobody delete a subscription pending confirmation) and is left to
    // expire.
    assert_eq!(
        changes(&report.removed),
        BTreeSet::from([(Topic::Reminder, "old@example.com")])
    );
    assert_eq!(
        changes(&report.created),
        BTreeSet::from([
            (Topic::Reminder, "new@example.com"),
            (Topic::Escalation, "new-lead@example.com")
        ])
    );
    assert_eq!(
        sns.listed(Topic::Reminder).await,
        vec![("new@example.com".to_owned(), "PendingConfirmation".to_owned())]
    );
    let mut escalation = sns.listed(Topic::Escalation).await;
    escalation.sort();
    assert_eq!(
        escalation,
        vec![
            (
                "new-lead@example.com".to_owned(),
                "PendingConfirmation".to_owned()
            ),
            (
                "old-lead@example.com".to_owned(),
                "PendingConfirmation".to_owned()
            )
        ]
    );
    let (records, _) = store.all_records().await.unwrap();
    let mut addresses: Vec<(Topic, &str)> = records.iter().map(|r| (r.topic, r.address.as_str())).collect();
    addresses.sort();
    assert_eq!(
        addresses,
        vec![
            (Topic::Reminder, "new@example.com"),
            (Topic::Escalation, "new-lead@example.com"),
            (Topic::Escalation, "old-lead@example.com")
        ],
        "the old owner's record is forgotten; the pending one's is kept until SNS drops it"
    );
    assert!(records.iter().all(|r| r.managed_arn.is_some()));
}

#[tokio::test]
async fn a_hand_made_subscription_survives_every_run() {
    let sns = Sns::new().await;
    let store = fresh_store().await;
    // An operator subscribed the owner before the service did, and a mailing
    // list nobody's plan names.
    let owner = "platform@example.com";
    let hand = sns
        .by_hand(Topic::Reminder, owner, Some(&policy(Topic::Reminder, owner)))
        .await;
    sns_confirm(sns.arn(Topic::Reminder), owner).await;
    let list = sns
        .by_hand(Topic::Reminder, "all-reminders@example.com", None)
        .await;
    sns_confirm(sns.arn(Topic::Reminder), "all-reminders@example.com").await;
    let expected = {
        let mut v = vec![
            (owner.to_owned(), hand.clone()),
            ("all-reminders@example.com".to_owned(), list.clone()),
        ];
        v.sort();
        v
    };

    let plans = [plan("aws", owner, None)];
    let first = run(&sns, &store, &plans, false).await;
    assert_eq!(first.created, vec![], "the owner is served by hand");
    assert_eq!(first.owner_unreachable(owner), None, "reachable by hand");
    assert_eq!(sns.listed(Topic::Reminder).await, expected);
    let (records, _) = store.all_records().await.unwrap();
    assert_eq!(
        reach_of(&records, Topic::Reminder, owner),
        Some((Reach::Confirmed, None))
    );

    run(&sns, &store, &plans, false).await;
    // The owner no longer owns anything: the hand-made subscription stays.
    let report = run(&sns, &store, &[plan("aws", "someone@example.com", None)], false).await;
    assert_eq!(report.removed, vec![]);
    let mut now = sns.listed(Topic::Reminder).await;
    now.retain(|(endpoint, _)| endpoint != "someone@example.com");
    assert_eq!(now, expected);
    assert_eq!(sns.policy_of(&hand).await, Some(policy(Topic::Reminder, owner)));
}

#[tokio::test]
async fn a_hand_made_subscription_whose_filter_drops_the_owners_messages_is_unreachable() {
    let sns = Sns::new().await;
    let store = fresh_store().await;
    let owner = "platform@example.com";
    sns.by_hand(
        Topic::Reminder,
        owner,
        // Made for another address: the owner's messages do not match it.
        Some(&policy(Topic::Reminder, "someone-else@example.com")),
    )
    .await;
    sns_confirm(sns.arn(Topic::Reminder), owner).await;
    let report = run(&sns, &store, &[plan("aws", owner, None)], false).await;
    assert_eq!(report.owner_unreachable(owner), Some(Reach::FilteredOut));
    assert_eq!(report.created, vec![], "not the service's to change");
    let (records, _) = store.all_records().await.unwrap();
    assert_eq!(
        reach_of(&records, Topic::Reminder, owner),
        Some((Reach::FilteredOut, None))
    );
}

#[tokio::test]
async fn a_pending_subscription_is_reported_unreachable_until_confirmed() {
    let sns = Sns::new().await;
    let store = fresh_store().await;
    let owner = "platform@example.com";
    // Subscribed by hand; the confirmation e-mail not followed yet.
    sns.by_hand(Topic::Reminder, owner, Some(&policy(Topic::Reminder, owner)))
        .await;
    let plans = [plan("aws", owner, None)];
    let report = run(&sns, &store, &plans, false).await;
    assert_eq!(report.owner_unreachable(owner), Some(Reach::PendingConfirmation));
    assert_eq!(report.created, vec![], "a pending subscription is not made twice");
    let (records, _) = store.all_records().await.unwrap();
    assert_eq!(
        reach_of(&records, Topic::Reminder, owner),
        Some((Reach::PendingConfirmation, None))
    );
    let read = PlanReach::read(&plans[0], &store).await.unwrap();
    assert!(read.owner.is_unreachable(), "the plan read says so: {read:?}");

    sns_confirm(sns.arn(Topic::Reminder), owner).await;
    let report = run(&sns, &store, &plans, false).await;
    assert_eq!(report.owner_unreachable(owner), None);
    let read = PlanReach::read(&plans[0], &store).await.unwrap();
    assert_eq!(read.owner.reachable, Some(true));
}

#[tokio::test]
async fn a_dry_run_reports_the_changes_and_makes_none() {
    let sns = Sns::new().await;
    let store = fresh_store().await;
    let plans = [plan("aws", "platform@example.com", Some("cto@example.com"))];
    let dry = run(&sns, &store, &plans, true).await;
    assert_eq!(
        changes(&dry.created),
        BTreeSet::from([
            (Topic::Reminder, "platform@example.com"),
            (Topic::Escalation, "cto@example.com")
        ])
    );
    assert_eq!(sns.listed(Topic::Reminder).await, vec![]);
    assert_eq!(sns.listed(Topic::Escalation).await, vec![]);
    assert_eq!(store.all_records().await.unwrap().0, vec![]);
    assert!(
        sns.take_calls().iter().all(|c| c == "ListSubscriptionsByTopic"),
        "a dry run only reads"
    );

    run(&sns, &store, &plans, false).await;
    // Confirmed: a pending one is not removed (SNS lets it expire).
    sns_confirm(sns.arn(Topic::Reminder), "platform@example.com").await;
    let before = (
        sns.listed(Topic::Reminder).await,
        store.all_records().await.unwrap().0,
    );
    let replaced = [plan("aws", "new@example.com", Some("cto@example.com"))];
    let dry = run(&sns, &store, &replaced, true).await;
    assert_eq!(
        changes(&dry.removed),
        BTreeSet::from([(Topic::Reminder, "platform@example.com")])
    );
    assert_eq!(
        changes(&dry.created),
        BTreeSet::from([(Topic::Reminder, "new@example.com")])
    );
    assert_eq!(
        (
            sns.listed(Topic::Reminder).await,
            store.all_records().await.unwrap().0
        ),
        before
    );
}
