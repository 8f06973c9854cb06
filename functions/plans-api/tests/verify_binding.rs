//! An attestation belongs to a person (SPEC §5, issue 12), through the real
//! handler against moto: a PUT that changes a contact drops its attestation,
//! and a one-click link stops working when the contact, the owner or the
//! plan's life changes, when it claims to live longer than 14 days, when it
//! predates the bound links (v1), or when its key was retired. Keys rotate
//! through the Secrets Manager secret: old and new both work, then the old
//! one is dropped.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{ADMIN, Api, READER, Resp, Who, contact};
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use plans_api::verify::KeySource;
use serde_json::{Value, json};
use sha2::Sha256;
use support_plans_aws::secrets::SecretsManagerKeys;
use support_plans_domain::Slug;
use support_plans_domain::ports::PlanStore as _;
use support_plans_domain::token::{KeySet, LinkFor, issue};
use support_plans_tests::plan_body;

const KEY: &str = "binding-test-key-binding-test-key-0123456789";
const NEW_KEY: &str = "rotated-key-rotated-key-rotated-key-0123456789";

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

/// A link's path for (`plan`, `contact`) as the freshness check issues it
/// now, signed with the secret's value `secret`.
async fn link(api: &Api, secret: &str, plan: &str, contact: &str, now: Timestamp) -> String {
    let keys = KeySet::parse(secret).unwrap();
    let plan = api.state.store.get_plan(&slug(plan)).await.unwrap().unwrap();
    let contact = plan
        .spec
        .contacts
        .iter()
        .find(|c| c.id.as_str() == contact)
        .unwrap();
    format!("/verify/{}", issue(&keys, &LinkFor::of(&plan, contact), now))
}

async fn api_with(secret: &str) -> Api {
    let mut state = Api::new().await.state;
    state.verify_key = KeySource::Keys(KeySet::parse(secret).unwrap());
    Api::from_state(state)
}

fn freshness<'a>(plan: &'a Value, id: &str) -> &'a Value {
    plan["freshness"]["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["contact"] == id)
        .unwrap()
}

async fn confirm(api: &Api, path: &str) -> Resp {
    api.call("POST", path, &Who::Nobody, &[], None).await
}

/// GET and POST both refuse with `status` and a page that says `says`; nothing changes.
async fn assert_refused(api: &Api, path: &str, status: u16, says: &str, what: &str) {
    let before = api.get("/plans/stripe", &READER).await.etag();
    for method in ["GET", "POST"] {
        let r = api.call(method, path, &Who::Nobody, &[], None).await;
        assert_eq!(r.status, status, "{what} {method}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        assert!(r.text.contains(says), "{what} {method}: {}", r.text);
        assert!(r.text.contains("Nothing was changed."), "{what} {method}");
    }
    assert_eq!(
        api.get("/plans/stripe", &READER).await.etag(),
        before,
        "{what}: nothing changed"
    );
}

/// PUTs the current plan with `edit` applied, as an admin.
async fn put_edited(api: &Api, edit: impl FnOnce(&mut Value)) -> Resp {
    let current = api.get("/plans/stripe", &READER).await;
    let mut body = current.json();
    edit(&mut body);
    let r = api
        .put("/plans/stripe", &ADMIN, Some(&current.etag()), &body)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r
}

#[tokio::test]
async fn a_put_that_changes_a_contacts_phone_drops_its_attestation_and_its_link() {
    let api = api_with(KEY).await;
    api.seed_plan("stripe", "payments").await;
    // Both contacts attested: tam through its link, support through the API.
    let tam_link = link(&api, KEY, "stripe", "tam", Timestamp::now()).await;
    assert_eq!(confirm(&api, &tam_link).await.status, 200);
    let r = api
        .post(
            "/plans/stripe/contacts/support/verify",
            &ADMIN,
            &json!({"note": "called them"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let issued = link(&api, KEY, "stripe", "tam", Timestamp::now()).await;

    // A new phone for the TAM: someone else may answer it now.
    let r = put_edited(&api, |b| {
        b["contacts"][1]["phone"] = json!("+12065550199");
    })
    .await;
    let plan = r.json();
    let tam = contact(&plan, "tam");
    for field in ["verified_at", "verified_by", "verified_via", "verified_note"] {
        assert!(tam.get(field).is_none(), "tam keeps {field}: {tam}");
    }
    assert_ne!(freshness(&plan, "tam")["state"], "ok", "{plan}");
    // The unchanged contact keeps who verified it.
    let support = contact(&plan, "support");
    assert_eq!(support["verified_via"], "api");
    assert_eq!(support["verified_note"], "called them");
    assert_eq!(freshness(&plan, "support")["state"], "ok");
    // GET says the same; the history keeps the old attestation.
    let plan = api.get("/plans/stripe", &READER).await.json();
    assert!(contact(&plan, "tam").get("verified_at").is_none(), "{plan}");
    let history = api.get("/plans/stripe/history", &READER).await.json();
    let before = &history["items"][1]["record"];
    assert_eq!(contact(before, "tam")["verified_via"], "link", "{history}");

    // The link of the old phone no longer confirms anything.
    assert_refused(
        &api,
        &issued,
        410,
        "this link was for an earlier version of the contact",
        "phone changed",
    )
    .await;

    // Re-applying the same plan (plans as code) keeps every attestation.
    let fresh = link(&api, KEY, "stripe", "tam", Timestamp::now()).await;
    assert_eq!(confirm(&api, &fresh).await.status, 200);
    let same = put_edited(&api, |_| {}).await.json();
    assert_eq!(contact(&same, "tam")["verified_via"], "link", "{same}");
    assert_eq!(contact(&same, "support")["verified_via"], "api", "{same}");
}

#[tokio::test]
async fn a_put_that_changes_a_contacts_name_or_email_drops_its_attestation() {
    let api = api_with(KEY).await;
    api.seed_plan("stripe", "payments").await;
    for (what, edit) in [
        ("name", json!({"name": "Sam Ortiz"})),
        ("email", json!({"email": "desk@example.net"})),
    ] {
        let r = api
            .post("/plans/stripe/contacts/support/verify", &ADMIN, &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let issued = link(&api, KEY, "stripe", "support", Timestamp::now()).await;
        let plan = put_edited(&api, |b| {
            for (k, v) in edit.as_object().unwrap() {
                b["contacts"][0][k] = v.clone();
            }
        })
        .await
        .json();
        assert!(
            contact(&plan, "support").get("verified_at").is_none(),
            "{what}: {plan}"
        );
        assert_refused(&api, &issued, 410, "earlier version of the contact", what).await;
    }
}

#[tokio::test]
async fn a_link_stops_working_when_the_plans_owner_changes() {
    let api = api_with(KEY).await;
    api.seed_plan("stripe", "payments").await;
    let issued = link(&api, KEY, "stripe", "tam", Timestamp::now()).await;
    assert_eq!(api.get(&issued, &Who::Nobody).await.status, 200);

    put_edited(&api, |b| {
        b["owner"]["email"] = json!("new-owner@example.com");
    })
    .await;
    assert_refused(&api, &issued, 410, "the plan has another owner", "owner e-mail").await;

    // The team too.
    let issued = link(&api, KEY, "stripe", "tam", Timestamp::now()).await;
    assert_eq!(api.get(&issued, &Who::Nobody).await.status, 200);
    put_edited(&api, |b| {
        b["owner"]["team"] = json!("platform");
    })
    .await;
    assert_refused(&api, &issued, 410, "the plan has another owner", "owner team").await;
}

#[tokio::test]
async fn a_retired_then_reactivated_plan_does_not_revive_old_links() {
    let api = api_with(KEY).await;
    api.seed_plan("stripe", "payments").await;
    let issued = link(&api, KEY, "stripe", "tam", Timestamp::now()).await;
    assert_eq!(api.get(&issued, &Who::Nobody).await.status, 200);

    let r = api.delete("/plans/stripe", &ADMIN, Some("\"1\"")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Retired: refused as today.
    assert_refused(&api, &issued, 404, "no longer there", "retired").await;
    // Reactivated by a PUT with status active (a re-create is refused: 409).
    assert_eq!(
        api.post("/plans", &ADMIN, &plan_body("stripe", "payments"))
            .await
            .status,
        409
    );
    let plan = put_edited(&api, |b| {
        b["status"] = json!("active");
    })
    .await
    .json();
    assert_eq!(plan["status"], "active");
    assert_refused(
        &api,
        &issued,
        410,
        "this link was for the plan before it was retired",
        "reactivated",
    )
    .await;
    // A link of the new life works.
    let fresh = link(&api, KEY, "stripe", "tam", Timestamp::now()).await;
    assert_eq!(confirm(&api, &fresh).await.status, 200);
}

/// `token` with its last payload field (the expiry) replaced by `expires`,
/// signed again with `key`: a correctly signed token that claims too much.
fn resigned_with_expiry(token: &str, key: &str, expires: i64) -> String {
    let (payload, _) = token.split_once('.').unwrap();
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let (head, _) = payload.rsplit_once('|').unwrap();
    sign(&format!("{head}|{expires}"), key)
}

fn sign(payload: &str, key: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

#[tokio::test]
async fn no_token_lives_past_14_days_whatever_it_claims() {
    let api = api_with(KEY).await;
    api.seed_plan("stripe", "payments").await;
    let issued = link(&api, KEY, "stripe", "tam", Timestamp::now()).await;
    let token = issued.trim_start_matches("/verify/");
    let now = Timestamp::now().as_second();
    // 14 days and a minute of clock skew: accepted.
    let edge = resigned_with_expiry(token, KEY, now + 14 * 86_400 + 60);
    assert_eq!(
        api.get(&format!("/verify/{edge}"), &Who::Nobody).await.status,
        200
    );
    for (what, expires) in [("a year", now + 365 * 86_400), ("15 days", now + 15 * 86_400)] {
        let long = resigned_with_expiry(token, KEY, expires);
        assert_refused(
            &api,
            &format!("/verify/{long}"),
            403,
            "claims to work for longer than links may",
            what,
        )
        .await;
    }
}

#[tokio::test]
async fn links_of_the_unbound_v1_format_are_refused_with_a_page_saying_to_use_the_newest_reminder() {
    let api = api_with(KEY).await;
    api.seed_plan("stripe", "payments").await;
    let expires = (Timestamp::now() + SignedDuration::from_hours(24 * 13)).as_second();
    let v1 = sign(&format!("v1|stripe|tam|{expires}"), KEY);
    assert_refused(
        &api,
        &format!("/verify/{v1}"),
        410,
        "use the link in your newest reminder",
        "v1",
    )
    .await;
}

/// A secret of its own on moto, holding `value`.
async fn secret(value: &str) -> (aws_sdk_secretsmanager::Client, String) {
    let config = support_plans_tests::local_config().await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let name = format!(
        "verify-key-rotation-{}-{}",
        std::process::id(),
        Timestamp::now().as_nanosecond()
    );
    client
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .unwrap();
    (client, name)
}

async fn api_reading(client: &aws_sdk_secretsmanager::Client, name: &str, clock: fn() -> Timestamp) -> Api {
    let mut state = Api::new().await.state;
    state.verify_key = KeySource::secret(SecretsManagerKeys::new(client.clone(), name));
    state.clock = clock;
    Api::from_state(state)
}

#[tokio::test]
async fn a_rotated_key_keeps_old_links_working_until_the_old_key_is_dropped() {
    // The stack's secret today: one plain key.
    let (client, name) = secret(KEY).await;
    let api = api_reading(&client, &name, Timestamp::now).await;
    api.seed_plan("stripe", "payments").await;
    let old_link = link(&api, KEY, "stripe", "tam", Timestamp::now()).await;
    assert_eq!(api.get(&old_link, &Who::Nobody).await.status, 200);

    // The operator rotates: a new key signs, the old one verifies for 15 days more.
    let not_after = Timestamp::now() + SignedDuration::from_hours(24 * 15);
    let rotated = json!({"keys": [
        {"kid": "k2", "key": NEW_KEY},
        {"kid": "0", "key": KEY, "not_after": not_after.to_string()},
    ]})
    .to_string();
    client
        .put_secret_value()
        .secret_id(&name)
        .secret_string(&rotated)
        .send()
        .await
        .unwrap();
    let new_link = link(&api, &rotated, "stripe", "tam", Timestamp::now()).await;
    assert_ne!(new_link, old_link);
    // The warm process learns the new key on its first link signed with it;
    // the old link still works.
    assert_eq!(
        api.get(&new_link, &Who::Nobody).await.status,
        200,
        "the new key is accepted by a warm process"
    );
    assert_eq!(
        api.get(&old_link, &Who::Nobody).await.status,
        200,
        "old key, both listed"
    );
    // A cold start reads both too.
    let cold = api_reading(&client, &name, Timestamp::now).await;
    let cold = Api::from_state(api_state_sharing(&cold, &api));
    assert_eq!(cold.get(&old_link, &Who::Nobody).await.status, 200);
    assert_eq!(cold.get(&new_link, &Who::Nobody).await.status, 200);

    // 16 days later (inside the new link's life if it were issued then) the
    // old key is past its not_after: its links are refused, even by a
    // process that read the secret before.
    let later = api_reading(&client, &name, || {
        Timestamp::now() + SignedDuration::from_hours(24 * 16)
    })
    .await;
    let later = Api::from_state(api_state_sharing(&later, &api));
    let new_then = link(&api, &rotated, "stripe", "tam", later.state.now()).await;
    assert_eq!(later.get(&new_then, &Who::Nobody).await.status, 200);
    let old_then = link(&api, KEY, "stripe", "tam", later.state.now()).await;
    let r = later.get(&old_then, &Who::Nobody).await;
    assert_eq!(r.status, 410, "{}", r.text);
    assert!(
        r.text.contains("signed with a key that was retired"),
        "{}",
        r.text
    );

    // Then the operator removes the old entry: unknown to a cold start.
    let dropped = json!({"keys": [{"kid": "k2", "key": NEW_KEY}]}).to_string();
    client
        .put_secret_value()
        .secret_id(&name)
        .secret_string(&dropped)
        .send()
        .await
        .unwrap();
    let cold = api_reading(&client, &name, Timestamp::now).await;
    let cold = Api::from_state(api_state_sharing(&cold, &api));
    assert_eq!(cold.get(&old_link, &Who::Nobody).await.status, 403);
    assert_eq!(cold.get(&new_link, &Who::Nobody).await.status, 200);
}

/// `api`'s key source and clock over `data`'s table (where the plan is).
fn api_state_sharing(api: &Api, data: &Api) -> plans_api::AppState {
    let mut state = data.state.clone();
    state.verify_key = api.state.verify_key.clone();
    state.clock = api.state.clock;
    state
}

#[tokio::test]
async fn made_up_key_ids_read_the_secret_at_most_once_a_minute_and_a_failed_read_keeps_the_keys() {
    let (client, name) = secret(KEY).await;
    let api = api_reading(&client, &name, Timestamp::now).await;
    api.seed_plan("stripe", "payments").await;
    let known = link(&api, KEY, "stripe", "tam", Timestamp::now()).await;
    assert_eq!(api.get(&known, &Who::Nobody).await.status, 200);

    // The secret is gone: a link naming an unknown key id tries one read,
    // which fails; the keys read before still serve, nothing is a 503.
    client
        .delete_secret()
        .secret_id(&name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    let rotated = json!({"keys": [{"kid": "k2", "key": NEW_KEY}]}).to_string();
    let unknown = link(&api, &rotated, "stripe", "tam", Timestamp::now()).await;
    assert_eq!(api.get(&unknown, &Who::Nobody).await.status, 403);
    assert_eq!(api.get(&known, &Who::Nobody).await.status, 200);

    // The secret is back with that key, but within the minute no second
    // read is made for an unknown key id: still refused.
    client
        .create_secret()
        .name(&name)
        .secret_string(&rotated)
        .send()
        .await
        .unwrap();
    assert_eq!(api.get(&unknown, &Who::Nobody).await.status, 403);
    // A cold start reads it.
    let cold = api_reading(&client, &name, Timestamp::now).await;
    let cold = Api::from_state(api_state_sharing(&cold, &api));
    assert_eq!(cold.get(&unknown, &Who::Nobody).await.status, 200);
}
