//! The process against the local stack (moto): the verification key is read
//! on the first invocation, not at init; a failed read fails that invocation
//! with a clear error and is tried again by the next; a key once read is kept.

use freshness_check::{CheckError, Config, Process, Request, run};
use jiff::Timestamp;
use support_plans_aws::adapters::FreshnessAdapters;

const KEY: &str = "freshness-test-key-freshness-test-key-0123456789";

#[tokio::test]
async fn the_key_is_read_on_first_use_then_kept() {
    let sdk = support_plans_tests::local_config().await;
    let store = support_plans_tests::fresh_store().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let name = format!(
        "freshness-key-{}-{}",
        std::process::id(),
        Timestamp::now().as_millisecond()
    );
    let config = Config::from_lookup(|var| {
        Some(match var {
            "TABLE_NAME" => store.table().to_owned(),
            "REMINDER_TOPIC_ARN" => "arn:aws:sns:us-east-1:123456789012:reminders".into(),
            "ESCALATION_TOPIC_ARN" => "arn:aws:sns:us-east-1:123456789012:escalations".into(),
            "VERIFY_KEY_SECRET_ARN" => name.clone(),
            "VERIFY_BASE_URL" => "https://api.example.com".into(),
            _ => return None,
        })
    })
    .unwrap();
    // No request here: the secret does not exist yet.
    let topics = [config.reminder_topic.as_str(), config.escalation_topic.as_str()];
    let adapters = FreshnessAdapters::new(&sdk, &config.table, &config.key_secret, topics);
    let process = Process::new(config, adapters);

    let err = process.app().await.unwrap_err();
    assert!(matches!(err, CheckError::Setup(_)), "{err:?}");
    assert!(err.to_string().contains(&name), "names the secret: {err}");

    secrets
        .create_secret()
        .name(&name)
        .secret_string(KEY)
        .send()
        .await
        .unwrap();
    let app = process.app().await.expect("read on the next invocation");
    let outcome = run(app, Request { dry_run: true }, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(outcome.summary.reminders, 0, "an empty table");

    secrets
        .delete_secret()
        .secret_id(&name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    process.app().await.expect("kept for the process");
}
