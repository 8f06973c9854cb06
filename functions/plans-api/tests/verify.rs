//! One-click verification (SPEC §5) through the real handler against moto:
//! GET changes nothing, POST records the attestation (by the owner, via a
//! link) in the plan and its history, and every bad token gets a clear page,
//! a 4xx, and changes nothing. No identity is needed: the token is the credential.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{ADMIN, Api, READER, Resp, Who, contact};
use jiff::{SignedDuration, Timestamp};
use plans_api::verify::KeySource;
use serde_json::json;
use support_plans_aws::secrets::SecretsManagerKeys;
use support_plans_domain::Slug;
use support_plans_domain::ports::PlanStore as _;
use support_plans_domain::token::{KeySet, LinkFor, VerifyKey, issue};
use support_plans_tests::plan_body;

const KEY: &str = "plans-api-test-key-plans-api-test-key-0123";

fn key() -> KeySet {
    KeySet::single(VerifyKey::new(KEY.as_bytes().to_vec()).unwrap())
}

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

/// A token for (`plan`, `contact`) as the plan is stored now (or a made-up
/// plan or contact when there is none), signed with `keys` at `at`.
async fn token_with(api: &Api, keys: &KeySet, plan: &str, contact: &str, at: Timestamp) -> String {
    let stored = api.state.store.get_plan(&slug(plan)).await.unwrap();
    let p = stored.unwrap_or_else(|| support_plans_tests::new_plan(plan, "payments"));
    let c = p
        .spec
        .contacts
        .iter()
        .find(|c| c.id.as_str() == contact)
        .cloned()
        .unwrap_or_else(|| {
            let mut c = p.spec.contacts[0].clone();
            c.id = slug(contact);
            c
        });
    issue(keys, &LinkFor::of(&p, &c), at)
}

async fn token(api: &Api, plan: &str, contact: &str) -> String {
    token_with(api, &key(), plan, contact, Timestamp::now()).await
}

async fn api_with_key() -> Api {
    let mut state = Api::new().await.state;
    state.verify_key = KeySource::Keys(key());
    Api::from_state(state)
}

fn assert_html(r: &Resp) {
    assert_eq!(
        r.header("content-type"),
        Some("text/html; charset=utf-8"),
        "{}",
        r.text
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert!(r.text.starts_with("<!doctype html>"), "{}", r.text);
}

#[tokio::test]
async fn get_shows_and_changes_nothing_then_post_records_the_owners_attestation() {
    let api = api_with_key().await;
    api.seed_plan("stripe", "payments").await;
    let path = format!("/verify/{}", token(&api, "stripe", "tam").await);

    // GET, without any identity: a page with the plan, the contact and a button.
    let page = api.get(&path, &Who::Nobody).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_html(&page);
    assert!(
        page.text.contains("Dana Reyes") && page.text.contains("vendor-tam"),
        "{}",
        page.text
    );
    assert!(page.text.contains("<code>stripe</code>"), "{}", page.text);
    assert!(page.text.contains("<form method=\"post\">"), "{}", page.text);
    let plan = api.get("/plans/stripe", &READER).await;
    assert_eq!(plan.etag(), "\"1\"", "a GET changes nothing");
    assert!(contact(&plan.json(), "tam").get("verified_at").is_none());

    // POST: recorded as verified by the plan's owner, through a link.
    let done = api
        .call(
            "POST",
            &path,
            &Who::Nobody,
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(""),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_html(&done);
    assert!(done.text.contains("Thank you"), "{}", done.text);
    let plan = api.get("/plans/stripe", &READER).await;
    assert_eq!(plan.etag(), "\"2\"");
    let plan = plan.json();
    let tam = contact(&plan, "tam");
    assert_eq!(tam["verified_via"], "link");
    assert_eq!(tam["verified_by"], "payments@example.com");
    assert!(tam["verified_note"].as_str().unwrap().contains("one-click link"));
    let fresh = plan["freshness"]["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["contact"] == "tam")
        .unwrap();
    assert_eq!(fresh["state"], "ok");
    // The other contact is untouched.
    assert!(contact(&plan, "support").get("verified_at").is_none());

    // ... and in the history, newest first, with who and what.
    let history = api.get("/plans/stripe/history", &READER).await.json();
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0]["change"],
        json!({"kind": "contact-verified", "contact": "tam"})
    );
    assert_eq!(items[0]["by"], "payments@example.com");
    assert_eq!(contact(&items[0]["record"], "tam")["verified_via"], "link");

    // A second click records nothing more.
    let again = api.post(&path, &Who::Nobody, &json!({})).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert!(again.text.contains("Already confirmed"), "{}", again.text);
    assert_eq!(api.get("/plans/stripe", &READER).await.etag(), "\"2\"");
}

#[tokio::test]
async fn forged_tampered_expired_wrong_plan_and_unknown_contact_tokens_change_nothing() {
    let api = api_with_key().await;
    api.seed_plan("stripe", "payments").await;
    api.seed_plan("old-vendor", "payments").await;
    assert_eq!(
        api.delete("/plans/old-vendor", &ADMIN, Some("\"1\""))
            .await
            .status,
        200
    );

    let good = token(&api, "stripe", "tam").await;
    let (payload, tag) = good.split_once('.').unwrap();
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let other_contact = URL_SAFE_NO_PAD.encode(payload.replace("|tam|", "|support|"));
    let (head, expires) = payload.rsplit_once('|').unwrap();
    let expires: i64 = expires.parse().unwrap();
    let longer = URL_SAFE_NO_PAD.encode(format!("{head}|{}", expires + 86_400 * 365));
    let forger =
        KeySet::single(VerifyKey::new(b"not-the-key-not-the-key-not-the-key-0000".to_vec()).unwrap());
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "forged",
            token_with(&api, &forger, "stripe", "tam", Timestamp::now()).await,
            403,
            "not valid",
        ),
        (
            "tampered contact",
            format!("{other_contact}.{tag}"),
            403,
            "not valid",
        ),
        ("tampered expiry", format!("{longer}.{tag}"), 403, "not valid"),
        ("cut short", good[..good.len() - 4].to_owned(), 400, "incomplete"),
        ("garbage", "hello".to_owned(), 400, "incomplete"),
        (
            "expired",
            token_with(
                &api,
                &key(),
                "stripe",
                "tam",
                Timestamp::now() - SignedDuration::from_hours(24 * 15),
            )
            .await,
            410,
            "expired",
        ),
        (
            "wrong plan",
            token(&api, "ghost", "tam").await,
            404,
            "no longer there",
        ),
        (
            "retired plan",
            token(&api, "old-vendor", "tam").await,
            404,
            "no longer there",
        ),
        (
            "unknown contact",
            token(&api, "stripe", "nobody").await,
            404,
            "no longer in the plan",
        ),
    ];
    for (what, t, status, says) in &cases {
        for method in ["GET", "POST"] {
            let r = api
                .call(method, &format!("/verify/{t}"), &Who::Nobody, &[], None)
                .await;
            assert_eq!(r.status, *status, "{what} {method}: {}", r.text);
            assert_html(&r);
            assert!(r.text.contains(says), "{what} {method}: {}", r.text);
            assert!(r.text.contains("Nothing was changed."), "{what} {method}");
        }
    }
    let plan = api.get("/plans/stripe", &READER).await;
    assert_eq!(plan.etag(), "\"1\"", "nothing changed");
    assert_eq!(
        api.get("/plans/stripe/history", &READER).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(api.get("/plans/old-vendor", &READER).await.etag(), "\"2\"");
}

#[tokio::test]
async fn the_page_escapes_what_it_shows_and_needs_no_identity_even_locally() {
    let mut state = Api::new().await.state;
    state.verify_key = KeySource::Keys(key());
    state.auth.local_auth = true;
    let api = Api::from_state(state);
    let mut body = plan_body("stripe", "payments");
    body["contacts"][1]["name"] = json!("<script>alert('x')</script> & Co");
    let created = api
        .call(
            "POST",
            "/plans",
            &Who::Nobody,
            &[
                ("x-local-principal", "admin@example.com"),
                ("x-local-groups", common::ADMIN_GROUP),
            ],
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    // No x-local-principal header: the token alone is enough.
    let page = api
        .get(
            &format!("/verify/{}", token(&api, "stripe", "tam").await),
            &Who::Nobody,
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(!page.text.contains("<script>"), "{}", page.text);
    assert!(
        page.text
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co"),
        "{}",
        page.text
    );
    // Other routes still need an identity.
    assert_eq!(api.get("/plans/stripe", &Who::Nobody).await.status, 401);
}

#[tokio::test]
async fn without_a_key_the_pages_say_so_and_change_nothing() {
    let api = Api::new().await;
    api.seed_plan("stripe", "payments").await;
    let path = format!("/verify/{}", token(&api, "stripe", "tam").await);
    for method in ["GET", "POST"] {
        let r = api.call(method, &path, &Who::Nobody, &[], None).await;
        assert_eq!(r.status, 503, "{method}: {}", r.text);
        assert_html(&r);
    }
    assert_eq!(api.get("/plans/stripe", &READER).await.etag(), "\"1\"");
}

#[tokio::test]
async fn the_key_is_read_from_its_secret_on_first_use_and_a_failed_read_is_tried_again() {
    let config = support_plans_tests::local_config().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    let name = format!(
        "verify-key-{}-{}",
        std::process::id(),
        Timestamp::now().as_millisecond()
    );
    let mut state = Api::new().await.state;
    state.verify_key = KeySource::secret(SecretsManagerKeys::new(secrets.clone(), &name));
    let api = Api::from_state(state);
    api.seed_plan("stripe", "payments").await;
    let path = format!("/verify/{}", token(&api, "stripe", "tam").await);

    // No such secret yet: a page that says so, a 503, nothing changed.
    let r = api.get(&path, &Who::Nobody).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_html(&r);
    assert!(
        r.text.contains("could not read its verification key"),
        "{}",
        r.text
    );

    // The failure was not kept: once the secret exists, the next request reads it.
    secrets
        .create_secret()
        .name(&name)
        .secret_string(KEY)
        .send()
        .await
        .unwrap();
    let r = api.get(&path, &Who::Nobody).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // The key is kept for the process: no read per request.
    secrets
        .delete_secret()
        .secret_id(&name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    let r = api.get(&path, &Who::Nobody).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

// ---- "It changed" (issue 18): the contact corrected through the page's form.

/// `application/x-www-form-urlencoded`, as a browser sends it.
fn form(fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
                b' ' => "+".to_owned(),
                b => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Dana Reyes (`tam` of `plan_body`) with `phone`, on version `version`.
fn dana(version: &str, phone: &str) -> String {
    form(&[
        ("version", version),
        ("name", "Dana Reyes"),
        ("email", ""),
        ("phone", phone),
        ("role", "vendor-tam"),
    ])
}

async fn submit(api: &Api, token: &str, body: &str) -> Resp {
    api.call(
        "POST",
        &format!("/verify/{token}/change"),
        &Who::Nobody,
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(body),
    )
    .await
}

async fn versions(api: &Api, id: &str) -> usize {
    api.get(&format!("/plans/{id}/history"), &READER).await.json()["items"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn the_page_offers_the_form_and_a_change_is_one_version_verified_by_the_owner_via_the_link() {
    let api = api_with_key().await;
    api.seed_plan("stripe", "payments").await;
    let t = token(&api, "stripe", "tam").await;

    // The page: the form, pre-filled, for version 1, posting beside the page.
    let page = api.get(&format!("/verify/{t}"), &Who::Nobody).await;
    assert_eq!(page.status, 200, "{}", page.text);
    for part in [
        "<h2>It changed</h2>".to_owned(),
        format!("action=\"{t}/change\""),
        "name=\"version\" value=\"1\"".to_owned(),
        "name=\"name\" value=\"Dana Reyes\"".to_owned(),
        "name=\"phone\" value=\"+12065550101\"".to_owned(),
        "name=\"email\" value=\"\"".to_owned(),
        "<option value=\"vendor-tam\" selected>".to_owned(),
    ] {
        assert!(page.text.contains(&part), "{part}: {}", page.text);
    }
    assert!(!page.text.contains("PUT /plans"), "{}", page.text);
    assert_eq!(
        api.get("/plans/stripe", &READER).await.etag(),
        "\"1\"",
        "a GET changes nothing"
    );

    let done = submit(&api, &t, &dana("1", "+1 206 555 0199")).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_html(&done);
    assert!(done.text.contains("Thank you: changed"), "{}", done.text);
    assert!(done.text.contains("+1 206 555 0199"), "{}", done.text);

    let plan = api.get("/plans/stripe", &READER).await;
    assert_eq!(plan.etag(), "\"2\"");
    let plan = plan.json();
    let tam = contact(&plan, "tam");
    assert_eq!(tam["phone"], "+1 206 555 0199");
    assert_eq!(tam["verified_via"], "link");
    assert_eq!(tam["verified_by"], "payments@example.com");
    assert!(
        tam["verified_note"].as_str().unwrap().contains("Corrected"),
        "{tam}"
    );
    assert_eq!(plan["updated_by"], "payments@example.com");
    assert!(
        contact(&plan, "support").get("verified_at").is_none(),
        "only this contact"
    );

    let history = api.get("/plans/stripe/history", &READER).await.json();
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0]["change"],
        json!({"kind": "contact-corrected", "contact": "tam"})
    );
    assert_eq!(items[0]["by"], "payments@example.com");
    assert_eq!(
        contact(&items[1]["record"], "tam")["phone"],
        "+12065550101",
        "the old phone"
    );

    // The same form again: already recorded, nothing more.
    let again = submit(&api, &t, &dana("1", "+1 206 555 0199")).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert!(again.text.contains("Already recorded"), "{}", again.text);
    assert!(again.text.contains("Nothing was changed."), "{}", again.text);
    assert_eq!(versions(&api, "stripe").await, 2);

    // The link's page and button now say the contact changed (410), and a
    // different correction through it is refused: the plan moved on (409).
    for method in ["GET", "POST"] {
        let r = api
            .call(method, &format!("/verify/{t}"), &Who::Nobody, &[], None)
            .await;
        assert_eq!(r.status, 410, "{method}: {}", r.text);
        assert!(r.text.contains("This contact was changed"), "{}", r.text);
    }
    let other = submit(&api, &t, &dana("1", "+12065550123")).await;
    assert_eq!(other.status, 409, "{}", other.text);
    assert_html(&other);
    assert!(other.text.contains("Nothing was changed."), "{}", other.text);
    assert_eq!(versions(&api, "stripe").await, 2);
}

#[tokio::test]
async fn an_invalid_value_shows_the_form_again_with_the_error_beside_the_field() {
    let api = api_with_key().await;
    api.seed_plan("stripe", "payments").await;
    let t = token(&api, "stripe", "tam").await;
    let r = submit(
        &api,
        &t,
        &form(&[
            ("version", "1"),
            ("name", "<b>Dana</b> & Co"),
            ("email", "dana-at-example"),
            ("phone", "+12065550101"),
            ("role", "vendor-tam"),
        ]),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_html(&r);
    assert!(r.text.contains("Please check the form"), "{}", r.text);
    // The error is next to the e-mail field; the values are kept, escaped;
    // the form posts to the same URL, for the same version.
    assert!(
        r.text.contains("name=\"email\" value=\"dana-at-example\" autocomplete=\"off\" aria-invalid=\"true\" aria-describedby=\"email-error\"><br><span class=\"error\" id=\"email-error\">"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("name-error"), "{}", r.text);
    assert!(
        r.text.contains("value=\"&lt;b&gt;Dana&lt;/b&gt; &amp; Co\""),
        "{}",
        r.text
    );
    assert!(!r.text.contains("<b>"), "{}", r.text);
    assert!(r.text.contains("<form method=\"post\" novalidate>"), "{}", r.text);
    assert!(r.text.contains("name=\"version\" value=\"1\""), "{}", r.text);

    // Neither e-mail nor phone: the plan's own rule, on the e-mail field.
    let r = submit(&api, &t, &dana("1", "")).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.text
            .contains("id=\"email-error\">is required when there is no phone"),
        "{}",
        r.text
    );

    // A form that is not the page's (no version): a page, a 400.
    let r = submit(&api, &t, "phone=%2B12065550199").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_html(&r);
    assert!(r.text.contains("This form is incomplete"), "{}", r.text);

    assert_eq!(api.get("/plans/stripe", &READER).await.etag(), "\"1\"");
    assert_eq!(versions(&api, "stripe").await, 1);
}

#[tokio::test]
async fn a_form_for_an_older_version_is_a_conflict_and_changes_nothing() {
    let api = api_with_key().await;
    api.seed_plan("stripe", "payments").await;
    let t = token(&api, "stripe", "tam").await;
    // The page was shown at version 1; then the plan was reviewed (version 2).
    assert_eq!(api.get(&format!("/verify/{t}"), &Who::Nobody).await.status, 200);
    let reviewed = api.call("POST", "/plans/stripe/review", &ADMIN, &[], None).await;
    assert_eq!(reviewed.status, 200, "{}", reviewed.text);

    let r = submit(&api, &t, &dana("1", "+12065550199")).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_html(&r);
    assert!(
        r.text.contains("This plan changed since the page was shown"),
        "{}",
        r.text
    );
    let plan = api.get("/plans/stripe", &READER).await;
    assert_eq!(plan.etag(), "\"2\"");
    assert_eq!(contact(&plan.json(), "tam")["phone"], "+12065550101");

    // Shown again (version 2), the same change goes through.
    let r = submit(&api, &t, &dana("2", "+12065550199")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(api.get("/plans/stripe", &READER).await.etag(), "\"3\"");
}

#[tokio::test]
async fn bad_expired_and_retired_links_refuse_the_form_and_change_nothing() {
    let api = api_with_key().await;
    api.seed_plan("stripe", "payments").await;
    api.seed_plan("old-vendor", "payments").await;
    let retired_link = token(&api, "old-vendor", "tam").await;
    assert_eq!(
        api.delete("/plans/old-vendor", &ADMIN, Some("\"1\""))
            .await
            .status,
        200
    );
    let good = token(&api, "stripe", "tam").await;
    let forger =
        KeySet::single(VerifyKey::new(b"not-the-key-not-the-key-not-the-key-0000".to_vec()).unwrap());
    let cases = [
        (
            "forged",
            token_with(&api, &forger, "stripe", "tam", Timestamp::now()).await,
            403,
            "not valid",
        ),
        ("cut short", good[..good.len() - 4].to_owned(), 400, "incomplete"),
        (
            "expired",
            token_with(
                &api,
                &key(),
                "stripe",
                "tam",
                Timestamp::now() - SignedDuration::from_hours(24 * 15),
            )
            .await,
            410,
            "expired",
        ),
        ("retired plan", retired_link, 404, "no longer there"),
        (
            "unknown contact",
            token(&api, "stripe", "nobody").await,
            404,
            "no longer in the plan",
        ),
    ];
    for (what, t, status, says) in &cases {
        let r = submit(&api, t, &dana("1", "+12065550199")).await;
        assert_eq!(r.status, *status, "{what}: {}", r.text);
        assert_html(&r);
        assert!(r.text.contains(says), "{what}: {}", r.text);
        assert!(r.text.contains("Nothing was changed."), "{what}");
    }
    assert_eq!(api.get("/plans/stripe", &READER).await.etag(), "\"1\"");
    assert_eq!(versions(&api, "stripe").await, 1);
    assert_eq!(api.get("/plans/old-vendor", &READER).await.etag(), "\"2\"");
}
