//! SPEC §2: every rule of a support plan and a workload body, checked by
//! breaking exactly one field of a valid body and naming the exact field path
//! that the caller gets back.

use serde_json::{Value, json};
use support_plans_domain::model::DEFAULT_REVIEW_EVERY_DAYS;
use support_plans_domain::model::DEFAULT_VERIFY_EVERY_DAYS;
use support_plans_domain::{
    Actor, ChannelKind, Criticality, PlanSpec, Role, Status, SupportPlan, ValidationErrors, Workload,
    WorkloadSpec,
};

// ---------------------------------------------------------------- helpers

/// A valid plan using every field.
fn plan() -> Value {
    json!({
        "id": "acme-cloud",
        "vendor": "Acme Corporation",
        "product": "Acme Cloud",
        "tier": "Premier 24x7",
        "status": "active",
        "owner": {
            "team": "platform",
            "email": "platform-team@example.com",
            "escalation_email": "cto-office@example.com"
        },
        "account_ref": "Account 123456789012",
        "channels": [
            {
                "kind": "portal",
                "value": "https://support.acme.example.com/cases/new",
                "hours": "24x7",
                "notes": "Sign in with SSO.\nPick the production org."
            },
            { "kind": "phone", "value": "+1 206 555 0100", "hours": "24x7" },
            { "kind": "email", "value": "support@acme.example.com", "hours": "business-hours" },
            { "kind": "chat", "value": "https://chat.acme.example.com/", "hours": "Mon-Fri 08:00-18:00 CET" },
            { "kind": "api", "value": "https://api.acme.example.com/v1/cases", "hours": "24x7" }
        ],
        "severities": [
            { "name": "Sev 1 - Production down", "response_minutes": 60, "impacts": [1, 2] },
            { "name": "Sev 2 - Degraded", "response_minutes": 240, "impacts": [3] },
            { "name": "Sev 3 - Question", "response_minutes": 1440, "impacts": [4, 5] }
        ],
        "escalation_steps": [
            {
                "title": "Open a case",
                "instructions": "Open a case at the matching severity.\nPaste the incident ARN.",
                "after_minutes": 0,
                "contact": "platform-lead"
            },
            { "title": "Call the TAM", "instructions": "Ask for a duty manager.", "after_minutes": 30, "contact": "acme-tam" },
            { "title": "Escalate to the account manager", "after_minutes": 120 }
        ],
        "contacts": [
            { "id": "platform-lead", "name": "Maya Okafor", "role": "owner", "email": "maya@example.com" },
            { "id": "acme-tam", "name": "Tom Tam", "role": "vendor-tam", "phone": "+12065550101", "verify_every_days": 30 },
            {
                "id": "acme-support",
                "name": "Acme Support Desk",
                "role": "vendor-support",
                "email": "desk@acme.example.com",
                "phone": "+44-20-7946-0000"
            }
        ],
        "verify_every_days": 60,
        "review_every_days": 365,
        "renews_on": "2027-01-31",
        "docs_url": "https://wiki.example.com/vendors/acme"
    })
}

/// A valid workload using every field.
fn workload() -> Value {
    json!({
        "name": "payments",
        "description": "Card payments and refunds.\nLedger on RDS.",
        "owner": { "team": "payments", "email": "payments-team@example.com", "escalation_email": "cto@example.com" },
        "criticality": "tier-1",
        "dependencies": ["aws-business", "stripe-premium"],
        "match": {
            "response_plans": [
                "payments-critical",
                "arn:aws:ssm-incidents::111122223333:response-plan/payments_minor"
            ],
            "resource_patterns": ["arn:aws:rds:*:*:db:payments-*", "arn:aws:lambda:*:*:function:payments-*"],
            "title_keywords": ["payments", "card-vault", "Refund"],
            "pagerduty_services": ["PABC123", "Payments API", "card-vault (prod)"]
        }
    })
}

/// Sets (or inserts) the value at a JSON pointer: the parent must exist.
fn set(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer starts with /");
    let parent = doc
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no parent for {pointer}"));
    match parent {
        Value::Object(map) => {
            map.insert(key.to_owned(), value);
        }
        Value::Array(items) => {
            let i: usize = key.parse().expect("array index");
            if i == items.len() {
                items.push(value);
            } else {
                items[i] = value;
            }
        }
        other => panic!("{pointer}: parent is {other}"),
    }
}

/// Removes the key at a JSON pointer (which must exist).
fn remove(doc: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer starts with /");
    let parent = doc.pointer_mut(parent).expect("parent exists");
    let removed = parent.as_object_mut().expect("object parent").remove(key);
    assert!(removed.is_some(), "nothing to remove at {pointer}");
}

fn list_of(n: usize, f: impl Fn(usize) -> Value) -> Value {
    Value::Array((0..n).map(f).collect())
}

/// One rule check: a label, how to break the valid body, and the single field
/// expected in the errors (`None`: the edited body is still valid).
type Case = (&'static str, fn(&mut Value), Option<&'static str>);

/// Runs every case against `base` with `parse`, collecting all mismatches.
fn check<T>(base: fn() -> Value, parse: fn(&Value) -> Result<T, ValidationErrors>, cases: &[Case]) {
    let mut failures = Vec::new();
    for (label, edit, expected) in cases {
        let mut body = base();
        edit(&mut body);
        let got = parse(&body);
        match (expected, &got) {
            (None, Ok(_)) => {}
            (None, Err(e)) => failures.push(format!("{label}: expected valid, got {e}")),
            (Some(field), Err(e)) if e.fields() == vec![*field] => {
                let message = e.message_for(field).unwrap_or_default();
                if message.trim().is_empty() {
                    failures.push(format!("{label}: error on {field} has no message"));
                }
            }
            (Some(field), Err(e)) => failures.push(format!(
                "{label}: expected only `{field}`, got {:?} ({e})",
                e.fields()
            )),
            (Some(field), Ok(_)) => failures.push(format!(
                "{label}: expected an error on `{field}`, but it was accepted"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn check_plan(cases: &[Case]) {
    check(plan, PlanSpec::parse, cases);
}

fn check_workload(cases: &[Case]) {
    check(workload, WorkloadSpec::parse, cases);
}

fn parse_plan_ok(body: &Value) -> PlanSpec {
    PlanSpec::parse(body).unwrap_or_else(|e| panic!("valid plan refused: {e}"))
}

fn parse_workload_ok(body: &Value) -> WorkloadSpec {
    WorkloadSpec::parse(body).unwrap_or_else(|e| panic!("valid workload refused: {e}"))
}

// ---------------------------------------------------------------- plan: the base

#[test]
fn the_base_plan_is_valid_and_parses_every_field() {
    let spec = parse_plan_ok(&plan());
    assert_eq!(spec.id.as_str(), "acme-cloud");
    assert_eq!(spec.vendor, "Acme Corporation");
    assert_eq!(spec.product, "Acme Cloud");
    assert_eq!(spec.tier, "Premier 24x7");
    assert_eq!(spec.status, Status::Active);
    assert_eq!(spec.owner.team.as_str(), "platform");
    assert_eq!(
        spec.owner.escalation_email.as_ref().map(|e| e.as_str()),
        Some("cto-office@example.com")
    );
    assert_eq!(spec.account_ref.as_deref(), Some("Account 123456789012"));
    let kinds: Vec<ChannelKind> = spec.channels.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            ChannelKind::Portal,
            ChannelKind::Phone,
            ChannelKind::Email,
            ChannelKind::Chat,
            ChannelKind::Api
        ]
    );
    assert_eq!(spec.channels[1].value, "+1 206 555 0100");
    assert!(spec.channels[0].is_24x7());
    assert_eq!(spec.severities[0].impacts, [1, 2]);
    assert_eq!(spec.severities[1].response_minutes, 240);
    assert_eq!(spec.escalation_steps.len(), 3);
    assert_eq!(
        spec.escalation_steps[1].contact.as_ref().map(|c| c.as_str()),
        Some("acme-tam")
    );
    assert_eq!(spec.escalation_steps[2].instructions, "");
    assert_eq!(spec.contacts[1].role, Role::VendorTam);
    assert_eq!(spec.contacts[1].verify_every_days, Some(30));
    assert_eq!(spec.contacts[1].email, None);
    assert_eq!(spec.verify_every_days, 60);
    assert_eq!(spec.review_every_days, 365);
    assert_eq!(
        spec.renews_on.map(|d| d.to_string()).as_deref(),
        Some("2027-01-31")
    );
    assert_eq!(
        spec.docs_url.as_ref().map(|u| u.as_str()),
        Some("https://wiki.example.com/vendors/acme")
    );
}

#[test]
fn a_minimal_plan_gets_the_defaults() {
    let body = json!({
        "id": "tiny",
        "vendor": "Tiny",
        "tier": "Basic",
        "owner": { "team": "platform", "email": "p@example.com" },
        "channels": [{ "kind": "email", "value": "help@tiny.example.com", "hours": "business-hours" }],
        "escalation_steps": [{ "title": "Email them" }]
    });
    let spec = parse_plan_ok(&body);
    assert_eq!(spec.verify_every_days, 90);
    assert_eq!(spec.verify_every_days, DEFAULT_VERIFY_EVERY_DAYS);
    assert_eq!(spec.review_every_days, 180);
    assert_eq!(spec.review_every_days, DEFAULT_REVIEW_EVERY_DAYS);
    assert_eq!(spec.status, Status::Active);
    assert_eq!(spec.product, "");
    assert!(spec.severities.is_empty());
    assert!(spec.contacts.is_empty());
    assert_eq!(spec.account_ref, None);
    assert_eq!(spec.renews_on, None);
    assert_eq!(spec.docs_url, None);
    assert_eq!(spec.owner.escalation_email, None);
    assert_eq!(spec.escalation_steps[0].after_minutes, 0);
    assert_eq!(spec.escalation_steps[0].contact, None);
}

// ---------------------------------------------------------------- plan: top-level fields

#[test]
fn plan_id_is_a_slug() {
    check_plan(&[
        ("two chars", |b| set(b, "/id", json!("a1")), None),
        ("63 chars", |b| set(b, "/id", json!("a".repeat(63))), None),
        ("starts with a digit", |b| set(b, "/id", json!("0-acme")), None),
        ("64 chars", |b| set(b, "/id", json!("a".repeat(64))), Some("id")),
        ("one char", |b| set(b, "/id", json!("a")), Some("id")),
        ("upper case", |b| set(b, "/id", json!("Acme")), Some("id")),
        ("leading hyphen", |b| set(b, "/id", json!("-acme")), Some("id")),
        ("underscore", |b| set(b, "/id", json!("acme_cloud")), Some("id")),
        ("space", |b| set(b, "/id", json!("acme cloud")), Some("id")),
        ("empty", |b| set(b, "/id", json!("")), Some("id")),
        ("missing", |b| remove(b, "/id"), Some("id")),
        ("null", |b| set(b, "/id", Value::Null), Some("id")),
        ("number", |b| set(b, "/id", json!(42)), Some("id")),
    ]);
}

#[test]
fn plan_vendor_is_1_to_200_chars() {
    check_plan(&[
        ("200 chars", |b| set(b, "/vendor", json!("v".repeat(200))), None),
        (
            "200 multibyte chars",
            |b| set(b, "/vendor", json!("é".repeat(200))),
            None,
        ),
        (
            "201 chars",
            |b| set(b, "/vendor", json!("v".repeat(201))),
            Some("vendor"),
        ),
        ("empty", |b| set(b, "/vendor", json!("")), Some("vendor")),
        ("blank", |b| set(b, "/vendor", json!("   ")), Some("vendor")),
        ("missing", |b| remove(b, "/vendor"), Some("vendor")),
        ("null", |b| set(b, "/vendor", Value::Null), Some("vendor")),
        ("number", |b| set(b, "/vendor", json!(42)), Some("vendor")),
        ("list", |b| set(b, "/vendor", json!(["Acme"])), Some("vendor")),
    ]);
}

#[test]
fn plan_product_is_at_most_200_chars_and_optional() {
    check_plan(&[
        ("200 chars", |b| set(b, "/product", json!("p".repeat(200))), None),
        ("empty", |b| set(b, "/product", json!("")), None),
        ("missing", |b| remove(b, "/product"), None),
        (
            "201 chars",
            |b| set(b, "/product", json!("p".repeat(201))),
            Some("product"),
        ),
        ("boolean", |b| set(b, "/product", json!(true)), Some("product")),
    ]);
}

#[test]
fn plan_tier_is_1_to_100_chars() {
    check_plan(&[
        ("100 chars", |b| set(b, "/tier", json!("t".repeat(100))), None),
        (
            "101 chars",
            |b| set(b, "/tier", json!("t".repeat(101))),
            Some("tier"),
        ),
        ("empty", |b| set(b, "/tier", json!("")), Some("tier")),
        ("missing", |b| remove(b, "/tier"), Some("tier")),
    ]);
}

#[test]
fn plan_names_refuse_control_and_invisible_characters() {
    check_plan(&[
        (
            "bell in vendor",
            |b| set(b, "/vendor", json!("Acme\u{7}Corp")),
            Some("vendor"),
        ),
        (
            "NUL in vendor",
            |b| set(b, "/vendor", json!("Acme\u{0}")),
            Some("vendor"),
        ),
        (
            "line break in vendor",
            |b| set(b, "/vendor", json!("Acme\nCorp")),
            Some("vendor"),
        ),
        (
            "escape in tier",
            |b| set(b, "/tier", json!("\u{1b}[31mGold")),
            Some("tier"),
        ),
        (
            "RTL override in product",
            |b| set(b, "/product", json!("Acme\u{202E}duolC")),
            Some("product"),
        ),
        (
            "zero-width space in contact name",
            |b| set(b, "/contacts/0/name", json!("Maya\u{200B}")),
            Some("contacts[0].name"),
        ),
        (
            "tab in step title",
            |b| set(b, "/escalation_steps/0/title", json!("Open\ta case")),
            Some("escalation_steps[0].title"),
        ),
        (
            "line break in severity name",
            |b| set(b, "/severities/0/name", json!("Sev 1\nDown")),
            Some("severities[0].name"),
        ),
        (
            "non-ASCII letters are fine",
            |b| set(b, "/vendor", json!("Société Générale Ünïcödé")),
            None,
        ),
    ]);
}

#[test]
fn plan_status_is_active_or_retired() {
    check_plan(&[
        ("retired", |b| set(b, "/status", json!("retired")), None),
        ("missing defaults", |b| remove(b, "/status"), None),
        (
            "unknown value",
            |b| set(b, "/status", json!("archived")),
            Some("status"),
        ),
        (
            "wrong case",
            |b| set(b, "/status", json!("Active")),
            Some("status"),
        ),
        ("number", |b| set(b, "/status", json!(1)), Some("status")),
    ]);
    let mut body = plan();
    set(&mut body, "/status", json!("retired"));
    assert_eq!(parse_plan_ok(&body).status, Status::Retired);
    let mut body = plan();
    remove(&mut body, "/status");
    assert_eq!(parse_plan_ok(&body).status, Status::Active);
}

#[test]
fn plan_owner_has_a_team_slug_an_email_and_an_optional_escalation_email() {
    check_plan(&[
        (
            "no escalation email",
            |b| remove(b, "/owner/escalation_email"),
            None,
        ),
        ("missing owner", |b| remove(b, "/owner"), Some("owner")),
        (
            "owner is a string",
            |b| set(b, "/owner", json!("platform")),
            Some("owner"),
        ),
        (
            "team not a slug",
            |b| set(b, "/owner/team", json!("Platform Team")),
            Some("owner.team"),
        ),
        ("team missing", |b| remove(b, "/owner/team"), Some("owner.team")),
        (
            "email not an address",
            |b| set(b, "/owner/email", json!("platform-team")),
            Some("owner.email"),
        ),
        (
            "email without a dot in the domain",
            |b| set(b, "/owner/email", json!("p@localhost")),
            Some("owner.email"),
        ),
        (
            "email missing",
            |b| remove(b, "/owner/email"),
            Some("owner.email"),
        ),
        (
            "escalation email bad",
            |b| set(b, "/owner/escalation_email", json!("cto@")),
            Some("owner.escalation_email"),
        ),
        (
            "unknown owner field",
            |b| set(b, "/owner/phone", json!("+12065550100")),
            Some("owner.phone"),
        ),
    ]);
}

#[test]
fn plan_account_ref_refuses_secret_looking_values() {
    check_plan(&[
        (
            "customer number",
            |b| set(b, "/account_ref", json!("Customer #AC-55821")),
            None,
        ),
        (
            "contract number",
            |b| set(b, "/account_ref", json!("Contract 2024-ENT-0042")),
            None,
        ),
        (
            "200 chars",
            |b| set(b, "/account_ref", json!("a".repeat(200))),
            None,
        ),
        ("missing", |b| remove(b, "/account_ref"), None),
        (
            "201 chars",
            |b| set(b, "/account_ref", json!("a".repeat(201))),
            Some("account_ref"),
        ),
        (
            "PIN",
            |b| set(b, "/account_ref", json!("Customer 1234, PIN 5678")),
            Some("account_ref"),
        ),
        (
            "pin lower case",
            |b| set(b, "/account_ref", json!("acct 1234 pin: 5678")),
            Some("account_ref"),
        ),
        (
            "password",
            |b| set(b, "/account_ref", json!("Account 42 password: hunter2")),
            Some("account_ref"),
        ),
        (
            "Password capitalised",
            |b| set(b, "/account_ref", json!("Password=hunter2")),
            Some("account_ref"),
        ),
        (
            "token",
            |b| set(b, "/account_ref", json!("token=abc123")),
            Some("account_ref"),
        ),
        (
            "api key",
            |b| set(b, "/account_ref", json!("api key 1234")),
            Some("account_ref"),
        ),
        (
            "AWS access key",
            |b| set(b, "/account_ref", json!("AKIAIOSFODNN7EXAMPLE")),
            Some("account_ref"),
        ),
        (
            "random-looking run",
            |b| {
                set(
                    b,
                    "/account_ref",
                    json!("acct 42 sk_live_51H8aBcDeFgHiJkLmNoPqRsTu"),
                )
            },
            Some("account_ref"),
        ),
        (
            "line break",
            |b| set(b, "/account_ref", json!("Account\n42")),
            Some("account_ref"),
        ),
        (
            "number",
            |b| set(b, "/account_ref", json!(123456789012_u64)),
            Some("account_ref"),
        ),
    ]);
    let mut body = plan();
    set(&mut body, "/account_ref", json!("Customer 1234, PIN 5678"));
    let err = PlanSpec::parse(&body).unwrap_err();
    let message = err.message_for("account_ref").unwrap();
    assert!(message.contains("secret"), "message should say why: {message}");
    assert!(
        !message.contains("5678"),
        "the secret must not be echoed back: {message}"
    );
}

#[test]
fn plan_verify_every_days_is_7_to_365_defaulting_to_90() {
    check_plan(&[
        ("7", |b| set(b, "/verify_every_days", json!(7)), None),
        ("365", |b| set(b, "/verify_every_days", json!(365)), None),
        ("missing", |b| remove(b, "/verify_every_days"), None),
        ("null", |b| set(b, "/verify_every_days", Value::Null), None),
        (
            "6",
            |b| set(b, "/verify_every_days", json!(6)),
            Some("verify_every_days"),
        ),
        (
            "366",
            |b| set(b, "/verify_every_days", json!(366)),
            Some("verify_every_days"),
        ),
        (
            "0",
            |b| set(b, "/verify_every_days", json!(0)),
            Some("verify_every_days"),
        ),
        (
            "negative",
            |b| set(b, "/verify_every_days", json!(-90)),
            Some("verify_every_days"),
        ),
        (
            "fraction",
            |b| set(b, "/verify_every_days", json!(90.5)),
            Some("verify_every_days"),
        ),
        (
            "string",
            |b| set(b, "/verify_every_days", json!("90")),
            Some("verify_every_days"),
        ),
        (
            "huge",
            |b| set(b, "/verify_every_days", json!(4_294_967_386_u64)),
            Some("verify_every_days"),
        ),
    ]);
    for (edit, expected) in [(json!(7), 7), (json!(365), 365), (Value::Null, 90)] {
        let mut body = plan();
        set(&mut body, "/verify_every_days", edit);
        assert_eq!(parse_plan_ok(&body).verify_every_days, expected);
    }
    let mut body = plan();
    remove(&mut body, "/verify_every_days");
    assert_eq!(parse_plan_ok(&body).verify_every_days, 90);
}

#[test]
fn plan_review_every_days_is_30_to_730_defaulting_to_180() {
    check_plan(&[
        ("30", |b| set(b, "/review_every_days", json!(30)), None),
        ("730", |b| set(b, "/review_every_days", json!(730)), None),
        ("missing", |b| remove(b, "/review_every_days"), None),
        (
            "29",
            |b| set(b, "/review_every_days", json!(29)),
            Some("review_every_days"),
        ),
        (
            "731",
            |b| set(b, "/review_every_days", json!(731)),
            Some("review_every_days"),
        ),
        (
            "string",
            |b| set(b, "/review_every_days", json!("180")),
            Some("review_every_days"),
        ),
    ]);
    let mut body = plan();
    remove(&mut body, "/review_every_days");
    assert_eq!(parse_plan_ok(&body).review_every_days, 180);
    let mut body = plan();
    set(&mut body, "/review_every_days", json!(730));
    assert_eq!(parse_plan_ok(&body).review_every_days, 730);
}

#[test]
fn plan_renews_on_is_a_yyyy_mm_dd_date() {
    check_plan(&[
        ("leap day", |b| set(b, "/renews_on", json!("2028-02-29")), None),
        ("missing", |b| remove(b, "/renews_on"), None),
        ("null", |b| set(b, "/renews_on", Value::Null), None),
        (
            "no leading zeros",
            |b| set(b, "/renews_on", json!("2027-1-31")),
            Some("renews_on"),
        ),
        (
            "day first",
            |b| set(b, "/renews_on", json!("31/01/2027")),
            Some("renews_on"),
        ),
        (
            "impossible day",
            |b| set(b, "/renews_on", json!("2027-02-30")),
            Some("renews_on"),
        ),
        (
            "not a leap year",
            |b| set(b, "/renews_on", json!("2027-02-29")),
            Some("renews_on"),
        ),
        (
            "timestamp",
            |b| set(b, "/renews_on", json!("2027-01-31T00:00:00Z")),
            Some("renews_on"),
        ),
        (
            "compact",
            |b| set(b, "/renews_on", json!("20270131")),
            Some("renews_on"),
        ),
        (
            "number",
            |b| set(b, "/renews_on", json!(20_270_131)),
            Some("renews_on"),
        ),
        ("empty", |b| set(b, "/renews_on", json!("")), Some("renews_on")),
    ]);
}

#[test]
fn plan_docs_url_is_https() {
    check_plan(&[
        (
            "with port and query",
            |b| set(b, "/docs_url", json!("https://wiki.example.com:8443/a?b=c#d")),
            None,
        ),
        ("missing", |b| remove(b, "/docs_url"), None),
        (
            "http",
            |b| set(b, "/docs_url", json!("http://wiki.example.com/acme")),
            Some("docs_url"),
        ),
        (
            "javascript",
            |b| set(b, "/docs_url", json!("javascript:alert(1)")),
            Some("docs_url"),
        ),
        (
            "no host",
            |b| set(b, "/docs_url", json!("https://")),
            Some("docs_url"),
        ),
        (
            "credentials",
            |b| set(b, "/docs_url", json!("https://user:pw@wiki.example.com/")),
            Some("docs_url"),
        ),
        (
            "markup",
            |b| set(b, "/docs_url", json!("https://wiki.example.com/\"><script>")),
            Some("docs_url"),
        ),
        (
            "relative",
            |b| set(b, "/docs_url", json!("/vendors/acme")),
            Some("docs_url"),
        ),
    ]);
}

#[test]
fn unknown_fields_are_refused_by_name() {
    check_plan(&[
        ("top level", |b| set(b, "/foo", json!("bar")), Some("foo")),
        (
            "top level even when null",
            |b| set(b, "/foo", Value::Null),
            Some("foo"),
        ),
        (
            "in a channel",
            |b| set(b, "/channels/0/colour", json!("red")),
            Some("channels[0].colour"),
        ),
        (
            "in a severity",
            |b| set(b, "/severities/2/sla", json!(1)),
            Some("severities[2].sla"),
        ),
        (
            "in a step",
            |b| set(b, "/escalation_steps/1/owner", json!("x")),
            Some("escalation_steps[1].owner"),
        ),
        (
            "in a contact",
            |b| set(b, "/contacts/2/pager", json!("x")),
            Some("contacts[2].pager"),
        ),
        (
            "camelCase of a known field",
            |b| set(b, "/verifyEveryDays", json!(90)),
            Some("verifyEveryDays"),
        ),
    ]);
    let mut body = plan();
    set(&mut body, "/foo", json!(1));
    set(&mut body, "/bar", json!(2));
    let err = PlanSpec::parse(&body).unwrap_err();
    let mut fields = err.fields();
    fields.sort_unstable();
    assert_eq!(fields, ["bar", "foo"]);
    assert_eq!(err.message_for("foo"), Some("unknown field"));
}

#[test]
fn a_body_that_is_not_an_object_is_refused() {
    for body in [json!([]), json!("plan"), json!(null), json!(42)] {
        let err = PlanSpec::parse(&body).unwrap_err();
        assert_eq!(err.fields(), [""], "{body}");
        let err = WorkloadSpec::parse(&body).unwrap_err();
        assert_eq!(err.fields(), [""], "{body}");
    }
}

// ---------------------------------------------------------------- plan: channels

#[test]
fn plan_has_1_to_10_channels() {
    check_plan(&[
        (
            "one",
            |b| {
                set(
                    b,
                    "/channels",
                    json!([{ "kind": "phone", "value": "+12065550100", "hours": "24x7" }]),
                )
            },
            None,
        ),
        (
            "ten",
            |b| {
                set(
                    b,
                    "/channels",
                    list_of(
                        10,
                        |i| json!({ "kind": "portal", "value": format!("https://s{i}.example.com"), "hours": "24x7" }),
                    ),
                )
            },
            None,
        ),
        ("none", |b| set(b, "/channels", json!([])), Some("channels")),
        (
            "eleven",
            |b| {
                set(
                    b,
                    "/channels",
                    list_of(
                        11,
                        |i| json!({ "kind": "portal", "value": format!("https://s{i}.example.com"), "hours": "24x7" }),
                    ),
                )
            },
            Some("channels"),
        ),
        ("missing", |b| remove(b, "/channels"), Some("channels")),
        (
            "an object",
            |b| set(b, "/channels", json!({ "kind": "portal" })),
            Some("channels"),
        ),
        (
            "an item that is a string",
            |b| set(b, "/channels/1", json!("+12065550100")),
            Some("channels[1]"),
        ),
    ]);
}

#[test]
fn channel_kind_is_one_of_the_five() {
    check_plan(&[
        (
            "fax",
            |b| set(b, "/channels/0/kind", json!("fax")),
            Some("channels[0].kind"),
        ),
        (
            "Portal",
            |b| set(b, "/channels/0/kind", json!("Portal")),
            Some("channels[0].kind"),
        ),
        (
            "missing",
            |b| remove(b, "/channels/0/kind"),
            Some("channels[0].kind"),
        ),
    ]);
}

#[test]
fn channel_value_is_checked_by_kind() {
    check_plan(&[
        // portal, chat and api: an https URL
        (
            "portal javascript",
            |b| set(b, "/channels/0/value", json!("javascript:alert(1)")),
            Some("channels[0].value"),
        ),
        (
            "portal http",
            |b| set(b, "/channels/0/value", json!("http://support.acme.example.com")),
            Some("channels[0].value"),
        ),
        (
            "portal upper-case scheme",
            |b| set(b, "/channels/0/value", json!("HTTPS://support.acme.example.com")),
            Some("channels[0].value"),
        ),
        (
            "portal data url",
            |b| {
                set(
                    b,
                    "/channels/0/value",
                    json!("data:text/html,<script>alert(1)</script>"),
                )
            },
            Some("channels[0].value"),
        ),
        (
            "chat http",
            |b| set(b, "/channels/3/value", json!("http://chat.acme.example.com/")),
            Some("channels[3].value"),
        ),
        (
            "chat javascript",
            |b| set(b, "/channels/3/value", json!("javascript:alert(1)")),
            Some("channels[3].value"),
        ),
        (
            "api http",
            |b| set(b, "/channels/4/value", json!("http://api.acme.example.com/")),
            Some("channels[4].value"),
        ),
        (
            "api phone number",
            |b| set(b, "/channels/4/value", json!("+12065550100")),
            Some("channels[4].value"),
        ),
        // phone: E.164
        (
            "phone with separators",
            |b| set(b, "/channels/1/value", json!("+44-20-7946-0000")),
            None,
        ),
        (
            "phone without plus",
            |b| set(b, "/channels/1/value", json!("2065550100")),
            Some("channels[1].value"),
        ),
        (
            "phone with parentheses",
            |b| set(b, "/channels/1/value", json!("+1 (206) 555-0100")),
            Some("channels[1].value"),
        ),
        (
            "phone too short",
            |b| set(b, "/channels/1/value", json!("+12345")),
            Some("channels[1].value"),
        ),
        (
            "phone too long",
            |b| set(b, "/channels/1/value", json!("+1206555010012345")),
            Some("channels[1].value"),
        ),
        (
            "phone is a tel: URL",
            |b| set(b, "/channels/1/value", json!("tel:+12065550100")),
            Some("channels[1].value"),
        ),
        (
            "phone is a number",
            |b| set(b, "/channels/1/value", json!(12_065_550_100_u64)),
            Some("channels[1].value"),
        ),
        // email: an address
        (
            "email without at",
            |b| set(b, "/channels/2/value", json!("support")),
            Some("channels[2].value"),
        ),
        (
            "email is a mailto URL",
            |b| set(b, "/channels/2/value", json!("mailto:support@acme.example.com")),
            Some("channels[2].value"),
        ),
        (
            "email with a space",
            |b| set(b, "/channels/2/value", json!("sup port@acme.example.com")),
            Some("channels[2].value"),
        ),
        (
            "email is an https URL",
            |b| set(b, "/channels/2/value", json!("https://acme.example.com")),
            Some("channels[2].value"),
        ),
        // the value follows the kind
        (
            "kind changed to phone, value is a URL",
            |b| set(b, "/channels/0/kind", json!("phone")),
            Some("channels[0].value"),
        ),
        (
            "kind changed to portal, value is a phone",
            |b| set(b, "/channels/1/kind", json!("portal")),
            Some("channels[1].value"),
        ),
        (
            "missing",
            |b| remove(b, "/channels/0/value"),
            Some("channels[0].value"),
        ),
        (
            "empty",
            |b| set(b, "/channels/0/value", json!("")),
            Some("channels[0].value"),
        ),
    ]);
}

#[test]
fn channel_hours_is_at_most_50_chars_and_notes_at_most_500() {
    check_plan(&[
        (
            "hours business-hours",
            |b| set(b, "/channels/0/hours", json!("business-hours")),
            None,
        ),
        (
            "hours 50 chars",
            |b| set(b, "/channels/0/hours", json!("h".repeat(50))),
            None,
        ),
        (
            "hours 51 chars",
            |b| set(b, "/channels/0/hours", json!("h".repeat(51))),
            Some("channels[0].hours"),
        ),
        (
            "hours empty",
            |b| set(b, "/channels/0/hours", json!("")),
            Some("channels[0].hours"),
        ),
        (
            "hours missing",
            |b| remove(b, "/channels/0/hours"),
            Some("channels[0].hours"),
        ),
        (
            "notes 500 chars",
            |b| set(b, "/channels/0/notes", json!("n".repeat(500))),
            None,
        ),
        (
            "notes with line breaks",
            |b| set(b, "/channels/0/notes", json!("one\ntwo\r\nthree\tfour")),
            None,
        ),
        ("notes missing", |b| remove(b, "/channels/0/notes"), None),
        (
            "notes 501 chars",
            |b| set(b, "/channels/0/notes", json!("n".repeat(501))),
            Some("channels[0].notes"),
        ),
        (
            "notes with NUL",
            |b| set(b, "/channels/0/notes", json!("a\u{0}b")),
            Some("channels[0].notes"),
        ),
        (
            "notes a list",
            |b| set(b, "/channels/1/notes", json!(["a"])),
            Some("channels[1].notes"),
        ),
    ]);
}

// ---------------------------------------------------------------- plan: severities

#[test]
fn plan_has_at_most_10_severities() {
    check_plan(&[
        ("none", |b| set(b, "/severities", json!([])), None),
        ("missing", |b| remove(b, "/severities"), None),
        (
            "five, one impact each",
            |b| {
                set(
                    b,
                    "/severities",
                    list_of(
                        5,
                        |i| json!({ "name": format!("S{i}"), "response_minutes": 60, "impacts": [i + 1] }),
                    ),
                )
            },
            None,
        ),
        (
            "eleven",
            |b| {
                set(
                    b,
                    "/severities",
                    list_of(
                        11,
                        |i| json!({ "name": format!("S{i}"), "response_minutes": 60, "impacts": [i % 5 + 1] }),
                    ),
                )
            },
            Some("severities"),
        ),
    ]);
}

#[test]
fn severity_name_and_response_minutes() {
    check_plan(&[
        (
            "name 100 chars",
            |b| set(b, "/severities/0/name", json!("n".repeat(100))),
            None,
        ),
        (
            "name empty",
            |b| set(b, "/severities/0/name", json!("")),
            Some("severities[0].name"),
        ),
        (
            "name missing",
            |b| remove(b, "/severities/0/name"),
            Some("severities[0].name"),
        ),
        (
            "1 minute",
            |b| set(b, "/severities/0/response_minutes", json!(1)),
            None,
        ),
        (
            "10080 minutes",
            |b| set(b, "/severities/0/response_minutes", json!(10080)),
            None,
        ),
        (
            "0 minutes",
            |b| set(b, "/severities/0/response_minutes", json!(0)),
            Some("severities[0].response_minutes"),
        ),
        (
            "10081 minutes",
            |b| set(b, "/severities/1/response_minutes", json!(10081)),
            Some("severities[1].response_minutes"),
        ),
        (
            "negative",
            |b| set(b, "/severities/0/response_minutes", json!(-60)),
            Some("severities[0].response_minutes"),
        ),
        (
            "fraction",
            |b| set(b, "/severities/0/response_minutes", json!(59.5)),
            Some("severities[0].response_minutes"),
        ),
        (
            "string",
            |b| set(b, "/severities/0/response_minutes", json!("60")),
            Some("severities[0].response_minutes"),
        ),
        (
            "missing",
            |b| remove(b, "/severities/2/response_minutes"),
            Some("severities[2].response_minutes"),
        ),
    ]);
}

#[test]
fn severity_impacts_are_codes_1_to_5_each_in_at_most_one_severity() {
    check_plan(&[
        (
            "all five in one severity",
            |b| {
                set(
                    b,
                    "/severities",
                    json!([{ "name": "All", "response_minutes": 60, "impacts": [5, 4, 3, 2, 1] }]),
                );
            },
            None,
        ),
        // A vendor level no incident impact maps to (more levels than impacts).
        ("empty list", |b| set(b, "/severities/0/impacts", json!([])), None),
        (
            "missing",
            |b| remove(b, "/severities/0/impacts"),
            Some("severities[0].impacts"),
        ),
        (
            "six items",
            |b| set(b, "/severities/0/impacts", json!([1, 2, 3, 4, 5, 1])),
            Some("severities[0].impacts"),
        ),
        (
            "code 0",
            |b| set(b, "/severities/1/impacts", json!([0])),
            Some("severities[1].impacts[0]"),
        ),
        (
            "code 6",
            |b| set(b, "/severities/1/impacts", json!([6])),
            Some("severities[1].impacts[0]"),
        ),
        (
            "code as a string",
            |b| set(b, "/severities/0/impacts/1", json!("2")),
            Some("severities[0].impacts[1]"),
        ),
        (
            "not a list",
            |b| set(b, "/severities/0/impacts", json!(1)),
            Some("severities[0].impacts"),
        ),
        (
            "twice in one severity",
            |b| set(b, "/severities/0/impacts", json!([1, 1])),
            Some("severities[0].impacts"),
        ),
        // The later severity is the one in error.
        (
            "in two severities",
            |b| set(b, "/severities/1/impacts", json!([3, 2])),
            Some("severities[1].impacts"),
        ),
        (
            "in the first and last",
            |b| set(b, "/severities/2/impacts", json!([4, 5, 1])),
            Some("severities[2].impacts"),
        ),
    ]);
    let mut body = plan();
    set(&mut body, "/severities/2/impacts", json!([4, 1]));
    let err = PlanSpec::parse(&body).unwrap_err();
    let message = err.message_for("severities[2].impacts").unwrap();
    assert!(
        message.contains('1') && message.contains("severities[0]"),
        "{message}"
    );
}

// ---------------------------------------------------------------- plan: escalation steps

fn step(i: usize) -> Value {
    json!({ "title": format!("Step {i}"), "after_minutes": i * 10 })
}

#[test]
fn plan_has_1_to_20_escalation_steps() {
    check_plan(&[
        ("one", |b| set(b, "/escalation_steps", list_of(1, step)), None),
        ("twenty", |b| set(b, "/escalation_steps", list_of(20, step)), None),
        (
            "none",
            |b| set(b, "/escalation_steps", json!([])),
            Some("escalation_steps"),
        ),
        (
            "twenty-one",
            |b| set(b, "/escalation_steps", list_of(21, step)),
            Some("escalation_steps"),
        ),
        (
            "missing",
            |b| remove(b, "/escalation_steps"),
            Some("escalation_steps"),
        ),
    ]);
}

#[test]
fn step_title_instructions_and_after_minutes() {
    check_plan(&[
        (
            "title 120 chars",
            |b| set(b, "/escalation_steps/0/title", json!("t".repeat(120))),
            None,
        ),
        (
            "title 121 chars",
            |b| set(b, "/escalation_steps/0/title", json!("t".repeat(121))),
            Some("escalation_steps[0].title"),
        ),
        (
            "title empty",
            |b| set(b, "/escalation_steps/1/title", json!("")),
            Some("escalation_steps[1].title"),
        ),
        (
            "title missing",
            |b| remove(b, "/escalation_steps/2/title"),
            Some("escalation_steps[2].title"),
        ),
        (
            "instructions 2000 chars",
            |b| set(b, "/escalation_steps/0/instructions", json!("i".repeat(2000))),
            None,
        ),
        (
            "instructions multi-line",
            |b| set(b, "/escalation_steps/0/instructions", json!("1. a\n2. b\n\n3. c")),
            None,
        ),
        (
            "instructions 2001 chars",
            |b| set(b, "/escalation_steps/0/instructions", json!("i".repeat(2001))),
            Some("escalation_steps[0].instructions"),
        ),
        (
            "instructions with escape",
            |b| set(b, "/escalation_steps/0/instructions", json!("\u{1b}[2J")),
            Some("escalation_steps[0].instructions"),
        ),
        (
            "after 0",
            |b| set(b, "/escalation_steps/2/after_minutes", json!(0)),
            None,
        ),
        (
            "after 10080",
            |b| set(b, "/escalation_steps/2/after_minutes", json!(10080)),
            None,
        ),
        (
            "after missing",
            |b| remove(b, "/escalation_steps/2/after_minutes"),
            None,
        ),
        (
            "after 10081",
            |b| set(b, "/escalation_steps/2/after_minutes", json!(10081)),
            Some("escalation_steps[2].after_minutes"),
        ),
        (
            "after -1",
            |b| set(b, "/escalation_steps/2/after_minutes", json!(-1)),
            Some("escalation_steps[2].after_minutes"),
        ),
        (
            "after string",
            |b| set(b, "/escalation_steps/1/after_minutes", json!("30")),
            Some("escalation_steps[1].after_minutes"),
        ),
    ]);
}

#[test]
fn step_contact_is_a_contact_id_of_the_plan() {
    check_plan(&[
        (
            "a contact of the plan",
            |b| set(b, "/escalation_steps/2/contact", json!("acme-support")),
            None,
        ),
        (
            "not a contact",
            |b| set(b, "/escalation_steps/2/contact", json!("nobody")),
            Some("escalation_steps[2].contact"),
        ),
        (
            "not a slug",
            |b| set(b, "/escalation_steps/2/contact", json!("Acme Support")),
            Some("escalation_steps[2].contact"),
        ),
        (
            "contact removed from the plan",
            |b| {
                let contacts = b["contacts"].as_array_mut().unwrap();
                contacts.remove(1); // acme-tam, used by step 1
            },
            Some("escalation_steps[1].contact"),
        ),
        (
            "plan with no contacts",
            |b| {
                remove(b, "/contacts");
                remove(b, "/escalation_steps/1/contact");
            },
            Some("escalation_steps[0].contact"),
        ),
    ]);
}

// ---------------------------------------------------------------- plan: contacts

fn contact(i: usize) -> Value {
    json!({ "id": format!("extra-{i}"), "name": format!("Extra {i}"), "role": "vendor-support", "email": format!("x{i}@example.com") })
}

#[test]
fn plan_has_at_most_50_contacts() {
    check_plan(&[
        (
            "none",
            |b| {
                set(b, "/contacts", json!([]));
                remove(b, "/escalation_steps/0/contact");
                remove(b, "/escalation_steps/1/contact");
            },
            None,
        ),
        (
            "fifty",
            |b| {
                let contacts = b["contacts"].as_array_mut().unwrap();
                contacts.extend((0..47).map(contact));
                assert_eq!(contacts.len(), 50);
            },
            None,
        ),
        (
            "fifty-one",
            |b| {
                let contacts = b["contacts"].as_array_mut().unwrap();
                contacts.extend((0..48).map(contact));
                assert_eq!(contacts.len(), 51);
            },
            Some("contacts"),
        ),
        ("not a list", |b| set(b, "/contacts", json!({})), Some("contacts")),
    ]);
}

#[test]
fn contact_id_is_a_unique_slug() {
    check_plan(&[
        (
            "duplicate",
            |b| set(b, "/contacts/2/id", json!("acme-tam")),
            Some("contacts[2].id"),
        ),
        (
            "duplicate of the first",
            |b| set(b, "/contacts/2/id", json!("platform-lead")),
            Some("contacts[2].id"),
        ),
        (
            "not a slug",
            |b| set(b, "/contacts/2/id", json!("Acme Support")),
            Some("contacts[2].id"),
        ),
        ("missing", |b| remove(b, "/contacts/2/id"), Some("contacts[2].id")),
    ]);
    let mut body = plan();
    set(&mut body, "/contacts/2/id", json!("acme-tam"));
    let err = PlanSpec::parse(&body).unwrap_err();
    assert!(
        err.message_for("contacts[2].id").unwrap().contains("contacts[1]"),
        "{err}"
    );
}

#[test]
fn contact_name_and_role() {
    check_plan(&[
        (
            "name 200 chars",
            |b| set(b, "/contacts/0/name", json!("n".repeat(200))),
            None,
        ),
        (
            "name 201 chars",
            |b| set(b, "/contacts/0/name", json!("n".repeat(201))),
            Some("contacts[0].name"),
        ),
        (
            "name missing",
            |b| remove(b, "/contacts/0/name"),
            Some("contacts[0].name"),
        ),
        (
            "role vendor-account-manager",
            |b| set(b, "/contacts/0/role", json!("vendor-account-manager")),
            None,
        ),
        (
            "role internal-poc",
            |b| set(b, "/contacts/0/role", json!("internal-poc")),
            None,
        ),
        (
            "role escalation-manager",
            |b| set(b, "/contacts/0/role", json!("escalation-manager")),
            None,
        ),
        (
            "role unknown",
            |b| set(b, "/contacts/1/role", json!("cto")),
            Some("contacts[1].role"),
        ),
        (
            "role snake_case",
            |b| set(b, "/contacts/1/role", json!("vendor_tam")),
            Some("contacts[1].role"),
        ),
        (
            "role missing",
            |b| remove(b, "/contacts/1/role"),
            Some("contacts[1].role"),
        ),
    ]);
}

#[test]
fn contact_needs_an_email_or_a_phone() {
    check_plan(&[
        ("email only", |b| remove(b, "/contacts/2/phone"), None),
        ("phone only", |b| remove(b, "/contacts/2/email"), None),
        (
            "neither",
            |b| remove(b, "/contacts/0/email"),
            Some("contacts[0].email"),
        ),
        (
            "neither, phone only contact",
            |b| remove(b, "/contacts/1/phone"),
            Some("contacts[1].email"),
        ),
        (
            "both null",
            |b| {
                set(b, "/contacts/2/email", Value::Null);
                set(b, "/contacts/2/phone", Value::Null);
            },
            Some("contacts[2].email"),
        ),
        (
            "email invalid",
            |b| set(b, "/contacts/0/email", json!("maya")),
            Some("contacts[0].email"),
        ),
        (
            "phone invalid",
            |b| set(b, "/contacts/1/phone", json!("206-555-0101")),
            Some("contacts[1].phone"),
        ),
    ]);
}

#[test]
fn contact_verify_every_days_is_7_to_365() {
    check_plan(&[
        ("7", |b| set(b, "/contacts/1/verify_every_days", json!(7)), None),
        (
            "365",
            |b| set(b, "/contacts/1/verify_every_days", json!(365)),
            None,
        ),
        ("missing", |b| remove(b, "/contacts/1/verify_every_days"), None),
        (
            "6",
            |b| set(b, "/contacts/1/verify_every_days", json!(6)),
            Some("contacts[1].verify_every_days"),
        ),
        (
            "366",
            |b| set(b, "/contacts/1/verify_every_days", json!(366)),
            Some("contacts[1].verify_every_days"),
        ),
        (
            "string",
            |b| set(b, "/contacts/0/verify_every_days", json!("30")),
            Some("contacts[0].verify_every_days"),
        ),
    ]);
    let mut body = plan();
    remove(&mut body, "/contacts/1/verify_every_days");
    assert_eq!(
        parse_plan_ok(&body).contacts[1].verify_every_days,
        None,
        "no override: the plan's cycle applies"
    );
}

// ---------------------------------------------------------------- plan: null, types, several errors

#[test]
fn null_is_treated_as_absent() {
    let mut body = plan();
    for pointer in [
        "/product",
        "/status",
        "/account_ref",
        "/severities",
        "/verify_every_days",
        "/review_every_days",
        "/renews_on",
        "/docs_url",
        "/owner/escalation_email",
        "/channels/0/notes",
        "/escalation_steps/2/instructions",
        "/escalation_steps/2/after_minutes",
        "/contacts/1/verify_every_days",
        "/contacts/2/phone",
    ] {
        set(&mut body, pointer, Value::Null);
    }
    let spec = parse_plan_ok(&body);
    assert_eq!(spec.product, "");
    assert_eq!(spec.status, Status::Active);
    assert_eq!(spec.account_ref, None);
    assert!(spec.severities.is_empty());
    assert_eq!((spec.verify_every_days, spec.review_every_days), (90, 180));
    assert_eq!(spec.renews_on, None);
    assert_eq!(spec.docs_url, None);
    assert_eq!(spec.owner.escalation_email, None);
    assert_eq!(spec.channels[0].notes, None);
    assert_eq!(spec.escalation_steps[2].after_minutes, 0);
    assert_eq!(spec.contacts[1].verify_every_days, None);
    assert_eq!(spec.contacts[2].phone, None);

    // A required field that is null is missing.
    check_plan(&[
        ("null owner", |b| set(b, "/owner", Value::Null), Some("owner")),
        (
            "null channels",
            |b| set(b, "/channels", Value::Null),
            Some("channels"),
        ),
        ("null tier", |b| set(b, "/tier", Value::Null), Some("tier")),
        (
            "null step title",
            |b| set(b, "/escalation_steps/0/title", Value::Null),
            Some("escalation_steps[0].title"),
        ),
    ]);
}

#[test]
fn wrong_json_types_are_named() {
    check_plan(&[
        (
            "number as string",
            |b| set(b, "/review_every_days", json!("180")),
            Some("review_every_days"),
        ),
        ("string as number", |b| set(b, "/tier", json!(1)), Some("tier")),
        (
            "list as object",
            |b| set(b, "/escalation_steps", json!({ "title": "x" })),
            Some("escalation_steps"),
        ),
        (
            "object as list",
            |b| set(b, "/owner", json!(["platform"])),
            Some("owner"),
        ),
        (
            "contact as string",
            |b| {
                set(b, "/contacts/2", json!("acme-support"));
            },
            Some("contacts[2]"),
        ),
        (
            "boolean as number",
            |b| set(b, "/severities/0/response_minutes", json!(true)),
            Some("severities[0].response_minutes"),
        ),
    ]);
    let mut body = plan();
    set(&mut body, "/vendor", json!(42));
    let err = PlanSpec::parse(&body).unwrap_err();
    assert!(err.message_for("vendor").unwrap().contains("string"), "{err}");
}

#[test]
fn three_independent_errors_are_all_reported() {
    let mut body = plan();
    set(&mut body, "/vendor", json!(""));
    set(
        &mut body,
        "/channels/0/value",
        json!("http://support.acme.example.com"),
    );
    set(&mut body, "/contacts/1/role", json!("boss"));
    let err = PlanSpec::parse(&body).unwrap_err();
    let mut fields = err.fields();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["channels[0].value", "contacts[1].role", "vendor"],
        "{err}"
    );
    assert_eq!(err.0.len(), 3);
    let shown = err.to_string();
    assert!(shown.starts_with("3 invalid field(s)"), "{shown}");
    for f in ["vendor", "channels[0].value", "contacts[1].role"] {
        assert!(shown.contains(f), "{shown}");
    }
}

#[test]
fn errors_in_many_places_are_all_reported() {
    let mut body = plan();
    set(&mut body, "/id", json!("Bad Id"));
    set(&mut body, "/owner/team", json!("Bad Team"));
    set(&mut body, "/severities/1/impacts", json!([7]));
    set(&mut body, "/escalation_steps/0/after_minutes", json!(99999));
    set(&mut body, "/docs_url", json!("http://x.example.com"));
    set(&mut body, "/foo", json!(1));
    let err = PlanSpec::parse(&body).unwrap_err();
    let mut fields = err.fields();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "docs_url",
            "escalation_steps[0].after_minutes",
            "foo",
            "id",
            "owner.team",
            "severities[1].impacts[0]"
        ]
    );
}

#[test]
fn server_owned_fields_in_a_plan_body_are_ignored() {
    let mut body = plan();
    set(&mut body, "/version", json!(41));
    set(&mut body, "/created_at", json!("2020-01-01T00:00:00Z"));
    set(&mut body, "/updated_at", json!("2020-01-02T00:00:00Z"));
    set(&mut body, "/updated_by", json!("mallory"));
    set(&mut body, "/reviewed_at", json!("2026-05-01T00:00:00Z"));
    set(&mut body, "/reviewed_by", json!("mallory"));
    set(&mut body, "/freshness", json!({ "state": "ok" }));
    set(
        &mut body,
        "/contacts/0/verified_at",
        json!("2026-05-31T00:00:00Z"),
    );
    set(&mut body, "/contacts/0/verified_by", json!("mallory"));
    set(&mut body, "/contacts/0/verified_via", json!("api"));
    set(&mut body, "/contacts/0/verified_note", json!("trust me"));
    set(&mut body, "/contacts/1/freshness", json!({ "state": "ok" }));

    let spec = parse_plan_ok(&body);
    assert_eq!(
        spec,
        parse_plan_ok(&plan()),
        "server-owned fields changed the parsed spec"
    );
    for c in &spec.contacts {
        assert_eq!(c.verified_at, None, "{}", c.id);
        assert_eq!(c.verified_by, None, "{}", c.id);
        assert_eq!(c.verified_via, None, "{}", c.id);
        assert_eq!(c.verified_note, None, "{}", c.id);
    }
    let as_json = serde_json::to_value(&spec).unwrap();
    for key in [
        "version",
        "created_at",
        "updated_at",
        "updated_by",
        "reviewed_at",
        "reviewed_by",
        "freshness",
    ] {
        assert!(as_json.get(key).is_none(), "{key} kept in the spec: {as_json}");
    }
    assert!(as_json["contacts"][0].get("verified_at").is_none());

    // Creating from it takes nothing from the body either.
    let now: jiff::Timestamp = "2026-06-01T08:00:00Z".parse().unwrap();
    let actor = Actor::parse("alice@example.com").unwrap();
    let created = SupportPlan::create(spec, &actor, now);
    assert_eq!(created.meta.version, 1);
    assert_eq!(created.meta.created_at, now);
    assert_eq!(created.meta.updated_by, actor);
    assert_eq!(created.reviewed_at, None);
    assert_eq!(created.reviewed_by, None);
    assert!(created.spec.contacts.iter().all(|c| c.verified_at.is_none()));
}

#[test]
fn a_stored_plan_sent_back_as_a_body_is_accepted() {
    // What a GET returns can be PUT back unchanged (plans kept as code).
    let now: jiff::Timestamp = "2026-06-01T08:00:00Z".parse().unwrap();
    let actor = Actor::parse("arn:aws:iam::111122223333:role/admin").unwrap();
    let stored = SupportPlan::create(parse_plan_ok(&plan()), &actor, now)
        .contact_verified(
            "acme-tam",
            &actor,
            support_plans_domain::VerifiedVia::Link,
            Some("ok".into()),
            now,
        )
        .unwrap()
        .reviewed(&actor, now);
    let body = serde_json::to_value(&stored).unwrap();
    let spec = parse_plan_ok(&body);
    assert_eq!(spec.contacts[1].verified_at, None);
    assert_eq!(spec.id, stored.spec.id);
}

// ---------------------------------------------------------------- workloads

#[test]
fn the_base_workload_is_valid_and_parses_every_field() {
    let spec = parse_workload_ok(&workload());
    assert_eq!(spec.name.as_str(), "payments");
    assert_eq!(spec.criticality, Criticality::Tier1);
    assert_eq!(spec.owner.team.as_str(), "payments");
    let deps: Vec<&str> = spec.dependencies.iter().map(|d| d.as_str()).collect();
    assert_eq!(deps, ["aws-business", "stripe-premium"]);
    assert_eq!(spec.matching.response_plans.len(), 2);
    assert_eq!(
        spec.matching.resource_patterns[0],
        "arn:aws:rds:*:*:db:payments-*"
    );
    assert_eq!(spec.matching.title_keywords, ["payments", "card-vault", "Refund"]);
    assert_eq!(
        spec.matching.pagerduty_services,
        ["PABC123", "Payments API", "card-vault (prod)"]
    );
}

#[test]
fn a_minimal_workload_gets_the_defaults() {
    let spec =
        parse_workload_ok(&json!({ "name": "batch", "owner": { "team": "data", "email": "d@example.com" } }));
    assert_eq!(spec.criticality, Criticality::Tier2);
    assert_eq!(spec.description, "");
    assert!(spec.dependencies.is_empty());
    assert!(spec.matching.response_plans.is_empty());
    assert!(spec.matching.resource_patterns.is_empty());
    assert!(spec.matching.title_keywords.is_empty());
    assert!(spec.matching.pagerduty_services.is_empty());
}

#[test]
fn workload_name_description_and_owner() {
    check_workload(&[
        ("63 chars", |b| set(b, "/name", json!("w".repeat(63))), None),
        (
            "64 chars",
            |b| set(b, "/name", json!("w".repeat(64))),
            Some("name"),
        ),
        ("upper case", |b| set(b, "/name", json!("Payments")), Some("name")),
        ("one char", |b| set(b, "/name", json!("p")), Some("name")),
        ("slash", |b| set(b, "/name", json!("pay/ments")), Some("name")),
        ("missing", |b| remove(b, "/name"), Some("name")),
        (
            "description 500",
            |b| set(b, "/description", json!("d".repeat(500))),
            None,
        ),
        ("description missing", |b| remove(b, "/description"), None),
        (
            "description 501",
            |b| set(b, "/description", json!("d".repeat(501))),
            Some("description"),
        ),
        (
            "description with NUL",
            |b| set(b, "/description", json!("a\u{0}")),
            Some("description"),
        ),
        ("owner missing", |b| remove(b, "/owner"), Some("owner")),
        ("owner null", |b| set(b, "/owner", Value::Null), Some("owner")),
        (
            "owner team not a slug",
            |b| set(b, "/owner/team", json!("Payments Team")),
            Some("owner.team"),
        ),
        (
            "owner email missing",
            |b| remove(b, "/owner/email"),
            Some("owner.email"),
        ),
        (
            "owner escalation email bad",
            |b| set(b, "/owner/escalation_email", json!("cto")),
            Some("owner.escalation_email"),
        ),
    ]);
}

#[test]
fn workload_criticality_is_a_tier_defaulting_to_tier_2() {
    check_workload(&[
        ("tier-2", |b| set(b, "/criticality", json!("tier-2")), None),
        ("tier-3", |b| set(b, "/criticality", json!("tier-3")), None),
        ("missing", |b| remove(b, "/criticality"), None),
        (
            "tier-0",
            |b| set(b, "/criticality", json!("tier-0")),
            Some("criticality"),
        ),
        (
            "tier-4",
            |b| set(b, "/criticality", json!("tier-4")),
            Some("criticality"),
        ),
        (
            "critical",
            |b| set(b, "/criticality", json!("critical")),
            Some("criticality"),
        ),
        (
            "number",
            |b| set(b, "/criticality", json!(1)),
            Some("criticality"),
        ),
    ]);
    let mut body = workload();
    remove(&mut body, "/criticality");
    assert_eq!(parse_workload_ok(&body).criticality, Criticality::Tier2);
    set(&mut body, "/criticality", json!("tier-3"));
    assert_eq!(parse_workload_ok(&body).criticality, Criticality::Tier3);
}

#[test]
fn workload_dependencies_are_at_most_100_distinct_plan_ids() {
    check_workload(&[
        ("none", |b| set(b, "/dependencies", json!([])), None),
        (
            "100",
            |b| set(b, "/dependencies", list_of(100, |i| json!(format!("plan-{i}")))),
            None,
        ),
        (
            "101",
            |b| set(b, "/dependencies", list_of(101, |i| json!(format!("plan-{i}")))),
            Some("dependencies"),
        ),
        (
            "duplicate",
            |b| set(b, "/dependencies/2", json!("aws-business")),
            Some("dependencies[2]"),
        ),
        (
            "not a slug",
            |b| set(b, "/dependencies/1", json!("Stripe Premium")),
            Some("dependencies[1]"),
        ),
        (
            "not a list",
            |b| set(b, "/dependencies", json!("aws-business")),
            Some("dependencies"),
        ),
    ]);
}

#[test]
fn workload_match_response_plans_are_names_or_response_plan_arns() {
    check_workload(&[
        (
            "name with underscore",
            |b| set(b, "/match/response_plans/0", json!("payments_critical")),
            None,
        ),
        (
            "20",
            |b| {
                set(
                    b,
                    "/match/response_plans",
                    list_of(20, |i| json!(format!("rp-{i}"))),
                )
            },
            None,
        ),
        (
            "21",
            |b| {
                set(
                    b,
                    "/match/response_plans",
                    list_of(21, |i| json!(format!("rp-{i}"))),
                )
            },
            Some("match.response_plans"),
        ),
        (
            "name with a space",
            |b| set(b, "/match/response_plans/0", json!("payments critical")),
            Some("match.response_plans[0]"),
        ),
        (
            "empty name",
            |b| set(b, "/match/response_plans/0", json!("")),
            Some("match.response_plans[0]"),
        ),
        (
            "name with a slash",
            |b| set(b, "/match/response_plans/0", json!("a/b")),
            Some("match.response_plans[0]"),
        ),
        (
            "incident-record ARN",
            |b| {
                set(
                    b,
                    "/match/response_plans/1",
                    json!("arn:aws:ssm-incidents::111122223333:incident-record/x/y"),
                )
            },
            Some("match.response_plans[1]"),
        ),
        (
            "ARN of another service",
            |b| {
                set(
                    b,
                    "/match/response_plans/1",
                    json!("arn:aws:s3:::response-plan/x"),
                )
            },
            Some("match.response_plans[1]"),
        ),
        (
            "ARN with an empty name",
            |b| {
                set(
                    b,
                    "/match/response_plans/1",
                    json!("arn:aws:ssm-incidents::111122223333:response-plan/"),
                )
            },
            Some("match.response_plans[1]"),
        ),
        (
            "not a list",
            |b| set(b, "/match/response_plans", json!("payments-critical")),
            Some("match.response_plans"),
        ),
    ]);
}

#[test]
fn workload_match_pagerduty_services_are_at_most_20_distinct_ids_or_names() {
    check_workload(&[
        (
            "20",
            |b| {
                set(
                    b,
                    "/match/pagerduty_services",
                    list_of(20, |i| json!(format!("P{i:06}"))),
                )
            },
            None,
        ),
        (
            "21",
            |b| {
                set(
                    b,
                    "/match/pagerduty_services",
                    list_of(21, |i| json!(format!("P{i:06}"))),
                )
            },
            Some("match.pagerduty_services"),
        ),
        (
            "255 characters",
            |b| set(b, "/match/pagerduty_services/2", json!("s".repeat(255))),
            None,
        ),
        (
            "256 characters",
            |b| set(b, "/match/pagerduty_services/2", json!("s".repeat(256))),
            Some("match.pagerduty_services[2]"),
        ),
        (
            "a name with spaces, punctuation and accents",
            |b| {
                set(
                    b,
                    "/match/pagerduty_services/2",
                    json!("Paiements & remboursements (EU)"),
                )
            },
            None,
        ),
        (
            "empty",
            |b| set(b, "/match/pagerduty_services/2", json!("")),
            Some("match.pagerduty_services[2]"),
        ),
        (
            "blank",
            |b| set(b, "/match/pagerduty_services/2", json!("   ")),
            Some("match.pagerduty_services[2]"),
        ),
        (
            "a line break",
            |b| set(b, "/match/pagerduty_services/2", json!("Payments\nAPI")),
            Some("match.pagerduty_services[2]"),
        ),
        (
            "a control character",
            |b| set(b, "/match/pagerduty_services/2", json!("Payments\u{7}")),
            Some("match.pagerduty_services[2]"),
        ),
        (
            "a duplicate",
            |b| set(b, "/match/pagerduty_services/2", json!("PABC123")),
            Some("match.pagerduty_services[2]"),
        ),
        (
            "a name repeated in another case (names match case-insensitively)",
            |b| set(b, "/match/pagerduty_services/2", json!("payments api")),
            Some("match.pagerduty_services[2]"),
        ),
        (
            "not a string",
            |b| set(b, "/match/pagerduty_services/1", json!(42)),
            Some("match.pagerduty_services[1]"),
        ),
        (
            "not a list",
            |b| set(b, "/match/pagerduty_services", json!("PABC123")),
            Some("match.pagerduty_services"),
        ),
    ]);
}

#[test]
fn a_duplicate_pagerduty_service_is_named_with_its_first_place() {
    let mut body = workload();
    set(&mut body, "/match/pagerduty_services/2", json!("PAYMENTS API"));
    let e = WorkloadSpec::parse(&body).unwrap_err();
    let message = e.message_for("match.pagerduty_services[2]").unwrap();
    assert!(message.contains("match.pagerduty_services[1]"), "{message}");
}

#[test]
fn pagerduty_services_are_written_only_when_a_workload_has_some() {
    let without = parse_workload_ok(&json!({
        "name": "batch",
        "owner": { "team": "data", "email": "d@example.com" },
        "match": { "title_keywords": ["batch"] }
    }));
    let json = serde_json::to_value(&without).unwrap();
    assert_eq!(
        json["match"],
        json!({"response_plans": [], "resource_patterns": [], "title_keywords": ["batch"]}),
        "a workload without PagerDuty services is written as before"
    );
    let with = parse_workload_ok(&workload());
    let json = serde_json::to_value(&with).unwrap();
    assert_eq!(
        json["match"]["pagerduty_services"],
        json!(["PABC123", "Payments API", "card-vault (prod)"])
    );
    let back: WorkloadSpec = serde_json::from_value(json).unwrap();
    assert_eq!(back, with, "what is written reads back the same");
}

#[test]
fn workload_match_resource_patterns_are_arn_globs() {
    check_workload(&[
        (
            "50",
            |b| {
                set(
                    b,
                    "/match/resource_patterns",
                    list_of(50, |i| json!(format!("arn:aws:rds:*:*:db:p{i}-*"))),
                )
            },
            None,
        ),
        (
            "51",
            |b| {
                set(
                    b,
                    "/match/resource_patterns",
                    list_of(51, |i| json!(format!("arn:aws:rds:*:*:db:p{i}-*"))),
                )
            },
            Some("match.resource_patterns"),
        ),
        (
            "not an ARN",
            |b| set(b, "/match/resource_patterns/0", json!("payments-*")),
            Some("match.resource_patterns[0]"),
        ),
        (
            "too few parts",
            |b| set(b, "/match/resource_patterns/1", json!("arn:aws:rds")),
            Some("match.resource_patterns[1]"),
        ),
        (
            "with a space",
            |b| {
                set(
                    b,
                    "/match/resource_patterns/0",
                    json!("arn:aws:rds:*:*:db:pay ments-*"),
                )
            },
            Some("match.resource_patterns[0]"),
        ),
        (
            "number",
            |b| set(b, "/match/resource_patterns/0", json!(1)),
            Some("match.resource_patterns[0]"),
        ),
    ]);
}

/// The message for the only error of a team's workload body edited by `edit`.
fn refusal(edit: impl FnOnce(&mut Value), field: &str) -> String {
    let mut body = workload();
    edit(&mut body);
    let e = WorkloadSpec::parse(&body).expect_err("a team's broad rule is refused");
    assert_eq!(e.fields(), vec![field], "{e}");
    e.message_for(field).unwrap().to_owned()
}

#[test]
fn a_team_may_not_write_a_resource_pattern_that_leaves_the_service_or_the_resource_wild() {
    for (pattern, why) in [
        ("arn:*:*:*:*:*", "service"),
        ("arn:aws:*:*:*:db:payments-main", "service"),
        ("arn:aws:rds*:*:*:db:payments-main", "service"),
        ("arn:aws::*:*:db:payments-main", "service"),
        ("arn:aws:rds:*:*:*", "resource"),
        ("arn:aws:rds:*:*:*:*", "resource"),
        ("arn:aws:s3:::*/*", "resource"),
        ("arn:aws:rds:us-east-1:111122223333:", "resource"),
    ] {
        let message = refusal(
            |b| set(b, "/match/resource_patterns/1", json!(pattern)),
            "match.resource_patterns[1]",
        );
        assert!(message.contains(why), "{pattern}: {message}");
        assert!(message.contains("admin"), "{pattern}: {message}");
    }
    for fine in [
        "arn:aws:rds:*:*:db:payments-*",
        "arn:*:rds:*:*:db:payments-*",
        "arn:aws:s3:::payments-ledger/*",
        "arn:aws:ecs:*:*:service/checkout-web/*",
        "arn:aws:rds:*:*:db:*payments*",
    ] {
        let mut body = workload();
        set(&mut body, "/match/resource_patterns/1", json!(fine));
        parse_workload_ok(&body);
    }
}

#[test]
fn a_team_may_not_write_a_short_or_common_incident_word_as_a_title_keyword() {
    for word in [
        "down",
        "Down",
        "api",
        "error",
        "ERRORS",
        "outage",
        "latency",
        "failed",
        "prod",
        "production",
        "critical",
        "degraded",
        "timeout",
        "incident",
        "etl",
        "db",
    ] {
        let message = refusal(
            |b| set(b, "/match/title_keywords/2", json!(word)),
            "match.title_keywords[2]",
        );
        assert!(message.contains("admin"), "{word}: {message}");
    }
    assert!(
        refusal(
            |b| set(b, "/match/title_keywords/0", json!("etl")),
            "match.title_keywords[0]"
        )
        .contains("at least 4 characters")
    );
    assert!(
        refusal(
            |b| set(b, "/match/title_keywords/0", json!("Outage")),
            "match.title_keywords[0]"
        )
        .contains("common incident word")
    );
}

#[test]
fn an_admin_may_write_a_broad_rule_and_a_team_may_keep_it_unchanged() {
    use support_plans_domain::model::MatchPolicy;
    let mut body = workload();
    set(&mut body, "/match/resource_patterns/0", json!("arn:*:*:*:*:*"));
    set(&mut body, "/match/title_keywords/0", json!("down"));
    let admin = WorkloadSpec::parse_with(&body, MatchPolicy::Admin).expect("an admin's broad rule");
    let team = WorkloadSpec::parse_with(&body, MatchPolicy::Team).unwrap_err();
    assert_eq!(
        team.fields(),
        ["match.resource_patterns[0]", "match.title_keywords[0]"]
    );
    // The same rules, stored by an admin, may be written back by the team.
    WorkloadSpec::parse_with(&body, MatchPolicy::TeamKeeping(&admin.matching)).expect("kept as they are");
    // A changed or added broad rule may not.
    set(&mut body, "/match/title_keywords/1", json!("outage"));
    set(
        &mut body,
        "/match/resource_patterns/1",
        json!("arn:aws:rds:*:*:*"),
    );
    let e = WorkloadSpec::parse_with(&body, MatchPolicy::TeamKeeping(&admin.matching)).unwrap_err();
    assert_eq!(
        e.fields(),
        ["match.resource_patterns[1]", "match.title_keywords[1]"]
    );
    // Syntax is checked for an admin too.
    set(&mut body, "/match/title_keywords/1", json!("two words"));
    let e = WorkloadSpec::parse_with(&body, MatchPolicy::Admin).unwrap_err();
    assert_eq!(e.fields(), ["match.title_keywords[1]"]);
}

#[test]
fn the_sample_workloads_are_a_teams_to_write() {
    for name in ["payments", "checkout-web", "analytics"] {
        let path = format!(
            "{}/../../infra/local/samples/workloads/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let body: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        WorkloadSpec::parse(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn resource_patterns_are_at_most_1024_characters() {
    let long = |n: usize| format!("arn:aws:rds:*:*:db:{}", "p".repeat(n - 19));
    check_workload(&[
        (
            "1024",
            |b| {
                set(
                    b,
                    "/match/resource_patterns/0",
                    json!(format!("arn:aws:rds:*:*:db:{}", "p".repeat(1005))),
                )
            },
            None,
        ),
        (
            "1025",
            |b| {
                set(
                    b,
                    "/match/resource_patterns/0",
                    json!(format!("arn:aws:rds:*:*:db:{}", "p".repeat(1006))),
                )
            },
            Some("match.resource_patterns[0]"),
        ),
    ]);
    assert_eq!(long(1024).len(), 1024);
    check_workload(&[
        (
            "10 stars",
            |b| {
                set(
                    b,
                    "/match/resource_patterns/0",
                    json!("arn:*:rds:*:*:db:*p*a*y*m*e*n*ts"),
                )
            },
            None,
        ),
        (
            "11 stars",
            |b| {
                set(
                    b,
                    "/match/resource_patterns/0",
                    json!("arn:*:rds:*:*:db:*p*a*y*m*e*n*t*s"),
                )
            },
            Some("match.resource_patterns[0]"),
        ),
    ]);
    let message = refusal(
        |b| set(b, "/match/resource_patterns/0", json!(long(1025))),
        "match.resource_patterns[0]",
    );
    assert!(message.contains("1024"), "{message}");
}

#[test]
fn workload_match_title_keywords_are_at_most_20_single_words() {
    check_workload(&[
        (
            "hyphenated",
            |b| set(b, "/match/title_keywords/0", json!("card-vault")),
            None,
        ),
        (
            "non-ASCII letters",
            |b| set(b, "/match/title_keywords/0", json!("störung")),
            None,
        ),
        (
            "20",
            |b| {
                set(
                    b,
                    "/match/title_keywords",
                    list_of(20, |i| json!(format!("word{i}"))),
                )
            },
            None,
        ),
        (
            "21",
            |b| {
                set(
                    b,
                    "/match/title_keywords",
                    list_of(21, |i| json!(format!("word{i}"))),
                )
            },
            Some("match.title_keywords"),
        ),
        (
            "two words",
            |b| set(b, "/match/title_keywords/1", json!("card vault")),
            Some("match.title_keywords[1]"),
        ),
        (
            "empty",
            |b| set(b, "/match/title_keywords/0", json!("")),
            Some("match.title_keywords[0]"),
        ),
        (
            "punctuation",
            |b| set(b, "/match/title_keywords/0", json!("pay*")),
            Some("match.title_keywords[0]"),
        ),
        (
            "51 chars",
            |b| set(b, "/match/title_keywords/0", json!("k".repeat(51))),
            Some("match.title_keywords[0]"),
        ),
        (
            "50 chars",
            |b| set(b, "/match/title_keywords/0", json!("k".repeat(50))),
            None,
        ),
    ]);
}

#[test]
fn workload_unknown_fields_are_refused_by_name() {
    check_workload(&[
        ("top level", |b| set(b, "/foo", json!(1)), Some("foo")),
        (
            "in match",
            |b| set(b, "/match/tags", json!(["x"])),
            Some("match.tags"),
        ),
        (
            "in owner",
            |b| set(b, "/owner/slack", json!("#payments")),
            Some("owner.slack"),
        ),
        ("match missing", |b| remove(b, "/match"), None),
        ("match null", |b| set(b, "/match", Value::Null), None),
        ("match a list", |b| set(b, "/match", json!([])), Some("match")),
    ]);
}

#[test]
fn workload_three_independent_errors_are_all_reported() {
    let mut body = workload();
    set(&mut body, "/name", json!("Payments"));
    set(&mut body, "/criticality", json!("gold"));
    set(&mut body, "/match/title_keywords/2", json!("two words"));
    let err = WorkloadSpec::parse(&body).unwrap_err();
    let mut fields = err.fields();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["criticality", "match.title_keywords[2]", "name"],
        "{err}"
    );
}

#[test]
fn server_owned_fields_in_a_workload_body_are_ignored() {
    let mut body = workload();
    set(&mut body, "/status", json!("retired"));
    set(&mut body, "/version", json!(9));
    set(&mut body, "/created_at", json!("2020-01-01T00:00:00Z"));
    set(&mut body, "/updated_at", json!("2020-01-01T00:00:00Z"));
    set(&mut body, "/updated_by", json!("mallory"));
    let spec = parse_workload_ok(&body);
    assert_eq!(spec, parse_workload_ok(&workload()));
    let now: jiff::Timestamp = "2026-06-01T08:00:00Z".parse().unwrap();
    let w = Workload::create(spec, &Actor::parse("alice").unwrap(), now);
    assert_eq!(w.status, Status::Active, "a body cannot retire a workload");
    assert!(w.is_active());
    assert_eq!(w.meta.version, 1);
    assert_eq!(w.meta.created_at, now);
}

// ---------------------------------------------------------------- known defects in src (ignored)

#[test]
fn account_ref_refuses_a_secret_word_glued_to_its_value() {
    check_plan(&[
        (
            "PIN glued to the digits",
            |b| set(b, "/account_ref", json!("Account 42 PIN5678")),
            Some("account_ref"),
        ),
        (
            "password glued to the value",
            |b| set(b, "/account_ref", json!("Account 42 password123")),
            Some("account_ref"),
        ),
        (
            "token glued to the value",
            |b| set(b, "/account_ref", json!("Account 42 token123")),
            Some("account_ref"),
        ),
    ]);
}

#[test]
fn account_ref_accepts_a_long_hyphenated_contract_number() {
    check_plan(&[(
        "hyphenated contract number",
        |b| {
            set(
                b,
                "/account_ref",
                json!("Contract ENT-2024-00042-EMEA-PREMIUM-SUPPORT"),
            )
        },
        None,
    )]);
}

#[test]
fn https_urls_refuse_impossible_ports() {
    check_plan(&[
        (
            "port 99999",
            |b| set(b, "/docs_url", json!("https://wiki.example.com:99999/acme")),
            Some("docs_url"),
        ),
        (
            "port 0",
            |b| set(b, "/docs_url", json!("https://wiki.example.com:0/acme")),
            Some("docs_url"),
        ),
        (
            "port 65535",
            |b| set(b, "/docs_url", json!("https://wiki.example.com:65535/acme")),
            None,
        ),
    ]);
}

// ---------------------------------------------------------------- plan: opening the AWS case (SPEC §13)

/// The valid plan with `open_case` at impact 2 and AWS codes where it needs them.
fn case_plan() -> Value {
    let mut b = plan();
    set(&mut b, "/severities/0/code", json!("urgent"));
    set(&mut b, "/severities/1/code", json!("normal"));
    // A severity no case is opened at may carry any vendor's code.
    set(&mut b, "/severities/2/code", json!("Sev-3 question"));
    set(
        &mut b,
        "/open_case",
        json!({
            "min_impact": 2,
            "service_code": "amazon-dynamodb",
            "category_code": "general-guidance",
            "cc_emails": ["sre@example.com", "payments-oncall@example.com"]
        }),
    );
    b
}

fn check_case_plan(cases: &[Case]) {
    check(case_plan, PlanSpec::parse, cases);
}

#[test]
fn a_plan_that_opens_aws_cases_parses_its_codes_and_open_case() {
    let spec = parse_plan_ok(&case_plan());
    let codes: Vec<Option<&str>> = spec.severities.iter().map(|s| s.code.as_deref()).collect();
    assert_eq!(codes, [Some("urgent"), Some("normal"), Some("Sev-3 question")]);
    let open = spec.open_case.expect("open_case parsed");
    assert_eq!(open.min_impact, 2);
    assert_eq!(open.service_code, "amazon-dynamodb");
    assert_eq!(open.category_code, "general-guidance");
    let cc: Vec<&str> = open.cc_emails.iter().map(|e| e.as_str()).collect();
    assert_eq!(cc, ["sre@example.com", "payments-oncall@example.com"]);

    // Without them, a plan reads as before.
    let spec = parse_plan_ok(&plan());
    assert_eq!(spec.open_case, None);
    assert!(spec.severities.iter().all(|s| s.code.is_none()));
}

#[test]
fn a_parsed_plan_writes_code_after_impacts_and_open_case_after_docs_url() {
    // `export` writes the spec's own field order.
    let text = serde_json::to_string(&parse_plan_ok(&case_plan())).unwrap();
    let at = |k: &str| {
        text.find(&format!("\"{k}\""))
            .unwrap_or_else(|| panic!("{k} missing: {text}"))
    };
    assert!(at("impacts") < at("code"), "{text}");
    assert!(at("docs_url") < at("open_case"), "{text}");
    assert!(text.ends_with("}}"), "open_case is the last field: {text}");
    // Round trip: what is written parses to the same plan.
    let again: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parse_plan_ok(&again), parse_plan_ok(&case_plan()));
}

#[test]
fn severity_code_is_optional_single_line_text_of_1_to_50_chars() {
    check_plan(&[
        (
            "any vendor's code",
            |b| set(b, "/severities/0/code", json!("Sev 1 / P1")),
            None,
        ),
        (
            "50 chars",
            |b| set(b, "/severities/0/code", json!("c".repeat(50))),
            None,
        ),
        ("null", |b| set(b, "/severities/0/code", Value::Null), None),
        (
            "51 chars",
            |b| set(b, "/severities/1/code", json!("c".repeat(51))),
            Some("severities[1].code"),
        ),
        (
            "empty",
            |b| set(b, "/severities/0/code", json!("")),
            Some("severities[0].code"),
        ),
        (
            "blank",
            |b| set(b, "/severities/0/code", json!("   ")),
            Some("severities[0].code"),
        ),
        (
            "line break",
            |b| set(b, "/severities/2/code", json!("sev\n3")),
            Some("severities[2].code"),
        ),
        (
            "a number",
            |b| set(b, "/severities/0/code", json!(1)),
            Some("severities[0].code"),
        ),
    ]);
}

#[test]
fn open_case_min_impact_is_1_to_5_and_required() {
    check_case_plan(&[
        ("1", |b| set(b, "/open_case/min_impact", json!(1)), None),
        (
            "3: severities[1] has an AWS code",
            |b| set(b, "/open_case/min_impact", json!(3)),
            None,
        ),
        (
            "0",
            |b| set(b, "/open_case/min_impact", json!(0)),
            Some("open_case.min_impact"),
        ),
        (
            "6",
            |b| set(b, "/open_case/min_impact", json!(6)),
            Some("open_case.min_impact"),
        ),
        (
            "a string",
            |b| set(b, "/open_case/min_impact", json!("2")),
            Some("open_case.min_impact"),
        ),
        (
            "missing",
            |b| remove(b, "/open_case/min_impact"),
            Some("open_case.min_impact"),
        ),
        ("open_case null", |b| set(b, "/open_case", Value::Null), None),
        (
            "open_case a list",
            |b| set(b, "/open_case", json!([])),
            Some("open_case"),
        ),
        (
            "unknown key",
            |b| set(b, "/open_case/severity", json!("high")),
            Some("open_case.severity"),
        ),
    ]);
}

#[test]
fn open_case_service_and_category_codes_are_aws_support_codes() {
    check_case_plan(&[
        (
            "one char",
            |b| set(b, "/open_case/service_code", json!("x")),
            None,
        ),
        (
            "digits",
            |b| set(b, "/open_case/category_code", json!("ec2-2")),
            None,
        ),
        (
            "100 chars",
            |b| set(b, "/open_case/service_code", json!("s".repeat(100))),
            None,
        ),
        (
            "101 chars",
            |b| set(b, "/open_case/service_code", json!("s".repeat(101))),
            Some("open_case.service_code"),
        ),
        (
            "empty",
            |b| set(b, "/open_case/service_code", json!("")),
            Some("open_case.service_code"),
        ),
        (
            "upper case",
            |b| set(b, "/open_case/service_code", json!("Amazon-DynamoDB")),
            Some("open_case.service_code"),
        ),
        (
            "a space",
            |b| set(b, "/open_case/category_code", json!("general guidance")),
            Some("open_case.category_code"),
        ),
        (
            "an underscore",
            |b| set(b, "/open_case/category_code", json!("general_guidance")),
            Some("open_case.category_code"),
        ),
        (
            "service missing",
            |b| remove(b, "/open_case/service_code"),
            Some("open_case.service_code"),
        ),
        (
            "category missing",
            |b| remove(b, "/open_case/category_code"),
            Some("open_case.category_code"),
        ),
        (
            "a number",
            |b| set(b, "/open_case/category_code", json!(7)),
            Some("open_case.category_code"),
        ),
    ]);
    let mut body = case_plan();
    set(&mut body, "/open_case/service_code", json!("Amazon_EC2"));
    let err = PlanSpec::parse(&body).unwrap_err();
    let message = err.message_for("open_case.service_code").unwrap();
    assert!(
        message.contains("AWS Support code") && message.contains("a-z, 0-9"),
        "{message}"
    );
}

#[test]
fn open_case_cc_emails_are_at_most_9_addresses_without_duplicates() {
    check_case_plan(&[
        ("missing", |b| remove(b, "/open_case/cc_emails"), None),
        ("empty", |b| set(b, "/open_case/cc_emails", json!([])), None),
        (
            "nine",
            |b| {
                set(
                    b,
                    "/open_case/cc_emails",
                    list_of(9, |i| json!(format!("cc{i}@example.com"))),
                )
            },
            None,
        ),
        (
            "ten",
            |b| {
                set(
                    b,
                    "/open_case/cc_emails",
                    list_of(10, |i| json!(format!("cc{i}@example.com"))),
                )
            },
            Some("open_case.cc_emails"),
        ),
        (
            "not an address",
            |b| set(b, "/open_case/cc_emails/1", json!("payments-oncall")),
            Some("open_case.cc_emails[1]"),
        ),
        (
            "twice, in another case",
            |b| set(b, "/open_case/cc_emails/2", json!("SRE@Example.com")),
            Some("open_case.cc_emails[2]"),
        ),
        (
            "not a list",
            |b| set(b, "/open_case/cc_emails", json!("sre@example.com")),
            Some("open_case.cc_emails"),
        ),
    ]);
    let mut body = case_plan();
    set(&mut body, "/open_case/cc_emails/2", json!("SRE@Example.com"));
    let err = PlanSpec::parse(&body).unwrap_err();
    let message = err.message_for("open_case.cc_emails[2]").unwrap();
    assert!(message.contains("cc_emails[0]"), "{message}");
}

#[test]
fn with_open_case_the_severities_it_opens_at_carry_an_aws_code() {
    check_case_plan(&[
        // Only the severities at impacts 1..=min_impact need an AWS code.
        (
            "no code below min_impact",
            |b| remove(b, "/severities/1/code"),
            None,
        ),
        (
            "free text at min_impact 4",
            |b| set(b, "/open_case/min_impact", json!(4)),
            Some("severities[2].code"),
        ),
        (
            "missing",
            |b| remove(b, "/severities/0/code"),
            Some("severities[0].code"),
        ),
        (
            "not AWS's wording",
            |b| set(b, "/severities/0/code", json!("Sev 1")),
            Some("severities[0].code"),
        ),
        (
            "AWS's code in capitals",
            |b| set(b, "/severities/0/code", json!("Urgent")),
            Some("severities[0].code"),
        ),
        (
            "each AWS code",
            |b| {
                set(b, "/severities/0/code", json!("critical"));
                set(b, "/severities/1/code", json!("high"));
                set(b, "/severities/2/code", json!("low"));
                set(b, "/open_case/min_impact", json!(5));
            },
            None,
        ),
        // Without open_case, a code is the vendor's free text.
        (
            "free text, no open_case",
            |b| {
                remove(b, "/open_case");
                set(b, "/severities/0/code", json!("Sev 1"));
            },
            None,
        ),
    ]);
    let mut body = case_plan();
    remove(&mut body, "/severities/0/code");
    let err = PlanSpec::parse(&body).unwrap_err();
    let message = err.message_for("severities[0].code").unwrap();
    assert!(
        message.contains("open_case") && message.contains("low, normal, high, urgent, critical"),
        "{message}"
    );
    set(&mut body, "/severities/0/code", json!("P1"));
    let err = PlanSpec::parse(&body).unwrap_err();
    let message = err.message_for("severities[0].code").unwrap();
    assert!(
        message.contains("'P1'") && message.contains("urgent"),
        "{message}"
    );
}

#[test]
fn with_open_case_every_impact_up_to_min_impact_is_mapped() {
    check_case_plan(&[
        (
            "impact 2 mapped nowhere",
            |b| set(b, "/severities/0/impacts", json!([1])),
            Some("open_case.min_impact"),
        ),
        (
            "no severities",
            |b| set(b, "/severities", json!([])),
            Some("open_case.min_impact"),
        ),
        (
            "min_impact 1 needs only impact 1",
            |b| {
                set(b, "/severities/0/impacts", json!([1]));
                set(b, "/open_case/min_impact", json!(1));
            },
            None,
        ),
    ]);
    let mut body = case_plan();
    set(&mut body, "/severities/0/impacts", json!([2]));
    let err = PlanSpec::parse(&body).unwrap_err();
    assert_eq!(err.fields(), ["open_case.min_impact"]);
    let message = err.message_for("open_case.min_impact").unwrap();
    assert!(
        message.contains("impact 1 ") && message.contains("severities"),
        "{message}"
    );
}
