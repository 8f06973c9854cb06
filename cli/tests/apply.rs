//! `diff`, `apply` and `export` against the local stack (SPEC §12), the
//! built binary run as a user would, as an admin of the local stack:
//! `infra/local/with-stack.sh cargo nextest run -p support-plans --test apply`.
//! Each test uses ids of its own; the stack is shared with the others.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{api_url, unique};
use serde_json::{Value, json};
use support_plans::apply::{self, Action};
use support_plans::client::{Auth, Client, ClientError, Etag, Kind};
use support_plans::lint;

const ADMIN: &str = "admin@example.com";
const ADMINS: &str = "support-plans-admins";

/// A fresh folder in the temporary directory (left for a look after a failure).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique(&format!("sp-apply-{name}")));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

async fn admin() -> Client {
    Client::new(
        &api_url(),
        Auth::Local {
            principal: ADMIN.into(),
            groups: vec![ADMINS.into()],
        },
    )
    .await
    .expect("a client of the local stack")
}

/// The built binary, as an admin of the local stack.
fn cli(args: &[&str]) -> Output {
    let url = api_url();
    let out = Command::new(env!("CARGO_BIN_EXE_support-plans"))
        .args(args)
        .args(["--endpoint", &url, "--as", ADMIN, "--groups", ADMINS])
        .env_remove("SUPPORT_PLANS_TOKEN")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    eprintln!(
        "$ support-plans {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("an exit code")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn sample_plan(id: &str) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/local/samples/plans/aws-business.json"
    );
    let mut plan: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the sample")).expect("JSON");
    plan["id"] = json!(id);
    plan
}

fn workload(name: &str, dependencies: &[&str]) -> Value {
    json!({
        "name": name,
        "owner": {"team": "platform", "email": "platform@example.com"},
        "criticality": "tier-1",
        "dependencies": dependencies,
        "match": {"title_keywords": ["applytest"]}
    })
}

async fn etag_of(client: &Client, kind: Kind, id: &str) -> Etag {
    client.get(kind, id).await.expect("read").expect("exists").1
}

/// Copies `export`'s files of `ids` into a new plans folder `to`.
fn pick(from: &Path, to: &Path, files: &[(Kind, &str)]) {
    for (kind, id) in files {
        let folder = to.join(kind.folder());
        std::fs::create_dir_all(&folder).expect("a folder");
        let name = format!("{id}.yaml");
        std::fs::copy(from.join(kind.folder()).join(&name), folder.join(&name)).expect("exported");
    }
}

/// Writes `body` as YAML at `DIR/<kind folder>/<id>.yaml`.
fn write(dir: &Path, kind: Kind, id: &str, body: &Value) {
    let folder = dir.join(kind.folder());
    std::fs::create_dir_all(&folder).expect("a folder");
    std::fs::write(
        folder.join(format!("{id}.yaml")),
        serde_yaml::to_string(body).expect("YAML"),
    )
    .expect("written");
}

#[tokio::test]
async fn export_then_apply_is_a_no_op() {
    let client = admin().await;
    let (p1, p2, w) = (unique("ex-a"), unique("ex-b"), unique("ex-w"));
    for p in [&p1, &p2] {
        client.create(Kind::Plan, &sample_plan(p)).await.expect("created");
    }
    client
        .create(Kind::Workload, &workload(&w, &[&p1, &p2]))
        .await
        .expect("created");
    let before = [
        etag_of(&client, Kind::Plan, &p1).await,
        etag_of(&client, Kind::Plan, &p2).await,
        etag_of(&client, Kind::Workload, &w).await,
    ];

    let all = scratch("export");
    let out = cli(&["export", "-o", all.to_str().expect("UTF-8")]);
    assert_eq!(code(&out), 0);
    assert!(all.join("plans").join(format!("{p1}.yaml")).is_file());
    // What export writes lints clean (cross-references included).
    let lint = Command::new(env!("CARGO_BIN_EXE_support-plans"))
        .args(["lint", all.to_str().expect("UTF-8")])
        .output()
        .expect("lint runs");
    assert_eq!(code(&lint), 0, "{}", stdout(&lint));
    // A second export refuses to overwrite; --force does.
    let again = cli(&["export", "-o", all.to_str().expect("UTF-8")]);
    assert_eq!(code(&again), 1);
    assert!(stderr(&again).contains("already exists"), "{}", stderr(&again));
    assert_eq!(
        code(&cli(&["export", "-o", all.to_str().expect("UTF-8"), "--force"])),
        0
    );

    // Only this test's records: other tests write beside it.
    let mine = scratch("mine");
    pick(
        &all,
        &mine,
        &[(Kind::Plan, &p1), (Kind::Plan, &p2), (Kind::Workload, &w)],
    );
    let dir = mine.to_str().expect("UTF-8");
    let diff = cli(&["diff", "-f", dir]);
    assert_eq!(code(&diff), 0);
    assert!(stderr(&diff).contains("0 to create, 0 to update, 3 unchanged"));
    let applied = cli(&["apply", "-f", dir]);
    assert_eq!(code(&applied), 0);
    assert!(stderr(&applied).contains("0 written, 3 unchanged, 0 failed"));
    let after = [
        etag_of(&client, Kind::Plan, &p1).await,
        etag_of(&client, Kind::Plan, &p2).await,
        etag_of(&client, Kind::Workload, &w).await,
    ];
    assert_eq!(after, before, "apply of an export wrote something");
}

#[tokio::test]
async fn one_field_changed_is_one_version_and_keeps_the_attestations() {
    let client = admin().await;
    let id = unique("one");
    client
        .create(Kind::Plan, &sample_plan(&id))
        .await
        .expect("created");
    // An attestation first (the API's route, by hand).
    let verify = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"])
        .args([
            "-H",
            &format!("x-local-principal: {ADMIN}"),
            "-H",
            &format!("x-local-groups: {ADMINS}"),
        ])
        .args([
            "-H",
            "content-type: application/json",
            "-d",
            r#"{"note": "called"}"#,
        ])
        .arg(format!("{}/plans/{id}/contacts/platform-lead/verify", api_url()))
        .output()
        .expect("curl runs");
    assert_eq!(
        String::from_utf8_lossy(&verify.stdout),
        "200",
        "verify: {verify:?}"
    );
    let (read, _) = client.get(Kind::Plan, &id).await.expect("read").expect("exists");
    let verified_at = read["contacts"][0]["verified_at"].clone();
    assert!(verified_at.is_string(), "{read}");
    let version = read["version"].as_u64().expect("a version");

    let all = scratch("one-export");
    assert_eq!(code(&cli(&["export", "-o", all.to_str().expect("UTF-8")])), 0);
    let mine = scratch("one");
    pick(&all, &mine, &[(Kind::Plan, &id)]);
    let file = mine.join("plans").join(format!("{id}.yaml"));
    let mut body: Value = serde_yaml::from_str(&std::fs::read_to_string(&file).expect("read")).expect("YAML");
    body["contacts"][1]["phone"] = json!("+12065550199");
    std::fs::write(&file, serde_yaml::to_string(&body).expect("YAML")).expect("written");

    let dir = mine.to_str().expect("UTF-8");
    let diff = cli(&["diff", "-f", dir]);
    assert_eq!(code(&diff), 2);
    let shown = stdout(&diff);
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), 2, "{shown}");
    assert!(lines[0].starts_with(&format!("update    plan {id}")), "{shown}");
    assert_eq!(
        lines[1].trim(),
        r#"contacts[1].phone: "+12065550102" → "+12065550199""#
    );
    let json = cli(&["diff", "-f", dir, "--output", "json"]);
    let doc: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(doc["steps"][0]["changes"][0]["field"], "contacts[1].phone");

    let applied = cli(&["apply", "-f", dir]);
    assert_eq!(code(&applied), 0);
    assert_eq!(stdout(&applied).trim(), format!("updated plan {id}"));
    let (after, _) = client.get(Kind::Plan, &id).await.expect("read").expect("exists");
    assert_eq!(after["version"].as_u64(), Some(version + 1));
    assert_eq!(after["contacts"][1]["phone"], "+12065550199");
    assert_eq!(after["contacts"][0]["verified_at"], verified_at, "{after}");
    assert_eq!(after["contacts"][0]["verified_note"], "called");
    // And now nothing to do.
    assert_eq!(code(&cli(&["diff", "-f", dir])), 0);
}

/// The race between reading and writing, at the engine: `plan` reads (the
/// versions its diff is made against), someone writes one record through
/// the API, then `execute` writes with the versions read. The binary does
/// the same two calls back to back, so the window cannot be hit from
/// outside it without a hook; this drives the same functions.
#[tokio::test]
async fn a_record_changed_since_read_fails_alone_with_412() {
    let client = admin().await;
    let (raced, calm) = (unique("race"), unique("calm"));
    let dir = scratch("race");
    for id in [&raced, &calm] {
        client
            .create(Kind::Plan, &sample_plan(id))
            .await
            .expect("created");
        let mut body = sample_plan(id);
        body["tier"] = json!("Enterprise");
        write(&dir, Kind::Plan, id, &body);
    }
    let report = lint::lint_paths(std::slice::from_ref(&dir));
    assert!(report.is_clean(), "{:?}", report.problems);
    let plan = apply::plan(&client, &report.resources, false, &[])
        .await
        .expect("a plan");
    assert_eq!(plan.count(Action::Update), 2);

    // Someone else, between the read and the write.
    let (current, tag) = client
        .get(Kind::Plan, &raced)
        .await
        .expect("read")
        .expect("exists");
    let mut theirs = current.clone();
    theirs["tier"] = json!("Developer");
    client
        .replace(Kind::Plan, &raced, &theirs, &tag)
        .await
        .expect("their write");

    let outcomes = apply::execute(&client, &plan, |_, _| {}).await;
    assert_eq!(outcomes.len(), 2);
    for o in &outcomes {
        let step = &plan.steps[o.step];
        if step.id == raced {
            let e = o.result.as_ref().expect_err("412");
            assert!(matches!(e, ClientError::PreconditionFailed(_)), "{e:?}");
            assert!(e.to_string().starts_with("changed since read"), "{e}");
        } else {
            assert!(o.result.is_ok(), "{:?}", o.result);
        }
    }
    let (r, _) = client
        .get(Kind::Plan, &raced)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(r["tier"], "Developer", "their write stands");
    let (c, _) = client
        .get(Kind::Plan, &calm)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(c["tier"], "Enterprise", "the other plan was applied");
}

#[tokio::test]
async fn prune_without_yes_retires_nothing_and_writes_nothing() {
    let client = admin().await;
    let (kept, gone) = (unique("kept"), unique("gone"));
    for id in [&kept, &gone] {
        client
            .create(Kind::Plan, &sample_plan(id))
            .await
            .expect("created");
    }
    let dir = scratch("prune");
    let mut body = sample_plan(&kept);
    body["tier"] = json!("Enterprise");
    write(&dir, Kind::Plan, &kept, &body);
    let tags = [
        etag_of(&client, Kind::Plan, &kept).await,
        etag_of(&client, Kind::Plan, &gone).await,
    ];
    let d = dir.to_str().expect("UTF-8");

    let diff = cli(&["diff", "-f", d, "--prune"]);
    assert_eq!(code(&diff), 2);
    assert!(stdout(&diff).contains(&format!("retire    plan {gone}  (no file holds it)")));

    let out = cli(&["apply", "-f", d, "--prune"]);
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).contains(&format!("retire    plan {gone}")),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("add --yes"), "{}", stderr(&out));
    // Nothing written at all: neither the retire nor the update.
    let after = [
        etag_of(&client, Kind::Plan, &kept).await,
        etag_of(&client, Kind::Plan, &gone).await,
    ];
    assert_eq!(after, tags);
    let (g, _) = client
        .get(Kind::Plan, &gone)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(g["status"], "active");
}

#[test]
fn a_broken_folder_is_reported_and_nothing_is_read() {
    let dir = scratch("broken");
    write(&dir, Kind::Plan, "x", &json!({"id": "x", "vendor": ""}));
    // No stack needed: lint fails first (an endpoint that is never called).
    let out = Command::new(env!("CARGO_BIN_EXE_support-plans"))
        .args([
            "diff",
            "-f",
            dir.to_str().expect("UTF-8"),
            "--endpoint",
            "http://127.0.0.1:9",
        ])
        .args(["--as", ADMIN])
        .output()
        .expect("runs");
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("plans/x.yaml: vendor:"), "{}", stdout(&out));
    assert!(stderr(&out).contains("nothing was read"), "{}", stderr(&out));
}

/// SPEC §13's plan fields survive export and apply: `code` written after a
/// severity's `impacts`, `open_case` after `docs_url`, and the file applies
/// back unchanged.
#[tokio::test]
async fn export_writes_the_case_fields_in_the_spec_order_and_applies_unchanged() {
    let client = admin().await;
    let id = unique("ex-case");
    let mut plan = sample_plan(&id);
    plan["docs_url"] = json!("https://wiki.example.com/vendors/aws");
    plan["severities"] = json!([
        {"name": "Production system down", "response_minutes": 60, "impacts": [1], "code": "urgent"},
        {"name": "Production system impaired", "response_minutes": 240, "impacts": [2], "code": "high"},
        {"name": "System impaired", "response_minutes": 720, "impacts": [3, 4]}
    ]);
    plan["open_case"] = json!({
        "min_impact": 2,
        "service_code": "amazon-dynamodb",
        "category_code": "general-guidance",
        "cc_emails": ["sre@example.com"]
    });
    client.create(Kind::Plan, &plan).await.expect("created");

    let all = scratch("export-case");
    assert_eq!(code(&cli(&["export", "-o", all.to_str().expect("UTF-8")])), 0);
    let text = std::fs::read_to_string(all.join("plans").join(format!("{id}.yaml"))).expect("exported");
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing from:\n{text}"))
    };
    assert!(at("impacts:") < at("code: urgent"), "{text}");
    assert!(at("docs_url:") < at("open_case:"), "{text}");
    assert!(
        at("open_case:") < at("min_impact: 2") && at("min_impact: 2") < at("service_code: amazon-dynamodb"),
        "{text}"
    );
    assert!(text.contains("- sre@example.com"), "{text}");
    // Nothing after open_case at the top level: it is the last field.
    let after: Vec<&str> = text[at("open_case:")..]
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with(' ') && !l.starts_with('-'))
        .collect();
    assert!(after.is_empty(), "{after:?} after open_case in:\n{text}");

    let mine = scratch("mine-case");
    pick(&all, &mine, &[(Kind::Plan, &id)]);
    let diff = cli(&["diff", "-f", mine.to_str().expect("UTF-8")]);
    assert_eq!(code(&diff), 0);
    assert!(
        stderr(&diff).contains("0 to create, 0 to update, 1 unchanged"),
        "{}",
        stderr(&diff)
    );
}
