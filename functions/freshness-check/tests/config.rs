//! The configuration (SPEC §5): read and checked at start; the day counts
//! parsed by the domain's one parse, a bad one refused naming the variable.

use freshness_check::Config;

fn config(extra: &[(&str, &str)]) -> Result<Config, String> {
    Config::from_lookup(|var| {
        let set = match var {
            "TABLE_NAME" => Some("plans"),
            "REMINDER_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:123456789012:reminders"),
            "ESCALATION_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:123456789012:escalations"),
            "VERIFY_KEY_SECRET_ARN" => Some("verify-key"),
            "VERIFY_BASE_URL" => Some("https://api.example.com"),
            _ => extra.iter().find(|(k, _)| *k == var).map(|(_, v)| *v),
        };
        set.map(str::to_owned)
    })
    .map_err(|e| e.to_string())
}

#[test]
fn unset_day_counts_take_their_defaults() {
    let s = config(&[]).unwrap().settings;
    assert_eq!(s.policy.remind_before_days, 14);
    assert_eq!(s.remind_every_days, 7);
    assert_eq!(s.escalate_after_days, 30);
}

#[test]
fn day_counts_in_bounds_are_taken() {
    let s = config(&[
        ("REMIND_BEFORE_DAYS", "21"),
        ("REMIND_EVERY_DAYS", "3"),
        ("ESCALATE_AFTER_DAYS", "365"),
    ])
    .unwrap()
    .settings;
    assert_eq!(s.policy.remind_before_days, 21);
    assert_eq!(s.remind_every_days, 3);
    assert_eq!(s.escalate_after_days, 365);
}

#[test]
fn a_bad_day_count_fails_the_start_naming_the_variable() {
    for (var, value, max) in [
        ("REMIND_BEFORE_DAYS", "0", 90),
        ("REMIND_BEFORE_DAYS", "two weeks", 90),
        ("REMIND_EVERY_DAYS", "91", 90),
        ("ESCALATE_AFTER_DAYS", "", 365),
    ] {
        let err = config(&[(var, value)]).unwrap_err();
        assert_eq!(
            err,
            format!("configuration: {var} must be a whole number of days from 1 to {max}, not {value:?}")
        );
    }
}

#[test]
fn a_missing_required_setting_is_named() {
    let err = Config::from_lookup(|_| None).unwrap_err();
    assert_eq!(err.to_string(), "configuration: TABLE_NAME is not set");
}

/// SPEC §14: subscriptions are kept unless `MANAGE_SUBSCRIPTIONS` says
/// false; anything but true or false stops the start, naming it.
#[test]
fn managing_subscriptions_is_on_unless_set_to_false() {
    assert!(config(&[]).unwrap().manage_subscriptions);
    assert!(
        config(&[("MANAGE_SUBSCRIPTIONS", "true")])
            .unwrap()
            .manage_subscriptions
    );
    assert!(
        !config(&[("MANAGE_SUBSCRIPTIONS", "false")])
            .unwrap()
            .manage_subscriptions
    );
    assert_eq!(
        config(&[("MANAGE_SUBSCRIPTIONS", "yes")]).unwrap_err(),
        "configuration: MANAGE_SUBSCRIPTIONS must be true or false, not \"yes\""
    );
}
