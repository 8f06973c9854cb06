//! The command's API client against the local stack (SPEC §3, §12):
//! `infra/local/with-stack.sh cargo nextest run -p support-plans --test client`
//! (`API_URL` from the stack's env, the local identity headers).

mod common;

use std::time::{Duration, Instant};

use common::{api_url, unique};
use serde_json::{Value, json};
use support_plans::client::{Auth, Client, ClientError, Etag, Kind, caller_owned};

async fn as_member(team: &str) -> Client {
    Client::new(
        &api_url(),
        Auth::Local {
            principal: format!("{team}-dev@example.com"),
            groups: vec![team.to_owned()],
        },
    )
    .await
    .expect("a client of the local stack")
}

/// The sample AWS plan (owned by `platform`) under a new id.
fn sample_plan(id: &str) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/local/samples/plans/aws-business.json"
    );
    let text = std::fs::read_to_string(path).expect("the sample plan");
    let mut plan: Value = serde_json::from_str(&text).expect("JSON");
    plan["id"] = json!(id);
    plan
}

fn workload(name: &str, team: &str, dependencies: &[&str]) -> Value {
    json!({
        "name": name,
        "description": "a workload of the client's tests",
        "owner": {"team": team, "email": format!("{team}@example.com")},
        "criticality": "tier-1",
        "dependencies": dependencies,
        "match": {"title_keywords": ["clienttest"], "resource_patterns": ["arn:aws:rds:*:*:db:clienttest-*"]}
    })
}

fn etag(n: u64) -> Etag {
    Etag::from(format!("\"{n}\"").as_str())
}

#[tokio::test]
async fn a_plan_is_created_read_replaced_with_if_match_and_retired() {
    let client = as_member("platform").await;
    let id = unique("cli-life");
    let body = sample_plan(&id);

    let (created, tag) = client.create(Kind::Plan, &body).await.expect("created");
    assert_eq!(tag, etag(1));
    assert_eq!(created["version"], 1);

    let (read, read_tag) = client
        .get_plan(&id)
        .await
        .expect("read")
        .expect("the plan exists");
    assert_eq!(read_tag, tag);
    // What export writes and apply compares: the answer, server fields
    // (version, timestamps, freshness) and all, reads as the body that made it.
    assert!(read.get("freshness").is_some() && read.get("updated_by").is_some());
    assert_eq!(
        caller_owned(Kind::Plan, &read).expect("valid"),
        caller_owned(Kind::Plan, &body).expect("valid")
    );

    let mut changed = body.clone();
    changed["tier"] = json!("Enterprise");
    let (replaced, tag2) = client
        .replace(Kind::Plan, &id, &changed, &read_tag)
        .await
        .expect("replaced");
    assert_eq!(tag2, etag(2));
    assert_eq!(replaced["tier"], "Enterprise");

    // The version read before that write is stale now.
    let stale = client
        .replace(Kind::Plan, &id, &body, &read_tag)
        .await
        .expect_err("stale");
    assert!(matches!(stale, ClientError::PreconditionFailed(_)), "{stale:?}");
    assert!(stale.to_string().starts_with("changed since read"), "{stale}");
    let stale = client
        .retire(Kind::Plan, &id, &read_tag)
        .await
        .expect_err("stale");
    assert!(matches!(stale, ClientError::PreconditionFailed(_)), "{stale:?}");

    let (retired, tag3) = client.retire(Kind::Plan, &id, &tag2).await.expect("retired");
    assert_eq!(tag3, etag(3));
    assert_eq!(retired["status"], "retired");
    let (after, _) = client.get_plan(&id).await.expect("read").expect("kept");
    assert_eq!(after["status"], "retired");
    assert_eq!(after["tier"], "Enterprise");
}

#[tokio::test]
async fn a_workload_round_trips_and_its_status_stays_the_service_s() {
    let client = as_member("platform").await;
    let plan = unique("cli-dep");
    client
        .create(Kind::Plan, &sample_plan(&plan))
        .await
        .expect("the plan it depends on");
    let name = unique("cli-wl");
    let body = workload(&name, "platform", &[&plan]);
    let (_, tag) = client.create(Kind::Workload, &body).await.expect("created");
    let (read, read_tag) = client.get_workload(&name).await.expect("read").expect("exists");
    assert_eq!(read_tag, tag);
    assert_eq!(
        caller_owned(Kind::Workload, &read).expect("valid"),
        caller_owned(Kind::Workload, &body).expect("valid")
    );
    let (retired, _) = client
        .retire(Kind::Workload, &name, &read_tag)
        .await
        .expect("retired");
    assert_eq!(retired["status"], "retired");
    // `status` is not the caller's: a retired workload still reads as its file.
    assert_eq!(
        caller_owned(Kind::Workload, &retired).expect("valid"),
        caller_owned(Kind::Workload, &body).expect("valid")
    );
}

#[tokio::test]
async fn lists_follow_the_cursors_to_the_end() {
    let client = as_member("platform").await.with_page_size(2);
    let mut plans = Vec::new();
    for _ in 0..5 {
        let id = unique("cli-page");
        client
            .create(Kind::Plan, &sample_plan(&id))
            .await
            .expect("created");
        plans.push(id);
    }
    let mut workloads = Vec::new();
    for _ in 0..3 {
        let name = unique("cli-pagewl");
        client
            .create(Kind::Workload, &workload(&name, "platform", &[&plans[0]]))
            .await
            .expect("created");
        workloads.push(name);
    }

    let listed = client.list_plans().await.expect("listed");
    let ids: Vec<&str> = listed.iter().filter_map(|p| p["id"].as_str()).collect();
    // More than one page of 2, every plan once.
    assert!(ids.len() >= 5, "{ids:?}");
    let mut unique_ids = ids.clone();
    unique_ids.sort_unstable();
    unique_ids.dedup();
    assert_eq!(unique_ids.len(), ids.len(), "an item listed twice: {ids:?}");
    for id in &plans {
        assert!(ids.contains(&id.as_str()), "{id} missing from {ids:?}");
    }

    let listed = client.list_workloads().await.expect("listed");
    let names: Vec<&str> = listed.iter().filter_map(|w| w["name"].as_str()).collect();
    for name in &workloads {
        assert!(names.contains(&name.as_str()), "{name} missing from {names:?}");
    }
}

#[tokio::test]
async fn writing_another_team_s_plan_is_forbidden_and_names_the_team() {
    let payments = as_member("payments").await;
    let platform = as_member("platform").await;
    let id = unique("cli-forbid");
    let mut body = sample_plan(&id);
    body["owner"]["team"] = json!("payments");

    let refused = platform
        .create(Kind::Plan, &body)
        .await
        .expect_err("not platform's");
    match &refused {
        ClientError::Forbidden(detail) => assert!(detail.contains("payments"), "{detail}"),
        other => panic!("expected Forbidden, got {other:?}"),
    }

    let (_, tag) = payments.create(Kind::Plan, &body).await.expect("payments' own");
    let mut changed = body.clone();
    changed["tier"] = json!("Enterprise");
    let refused = platform
        .replace(Kind::Plan, &id, &changed, &tag)
        .await
        .expect_err("not platform's");
    assert!(
        matches!(&refused, ClientError::Forbidden(d) if d.contains("payments")),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("(403)"), "{refused}");
    // Anyone authenticated may read it.
    assert!(platform.get_plan(&id).await.expect("read").is_some());
}

#[tokio::test]
async fn a_missing_plan_is_none_and_an_invalid_body_names_its_fields() {
    let client = as_member("platform").await;
    assert!(
        client
            .get_plan(&unique("cli-none"))
            .await
            .expect("read")
            .is_none()
    );
    assert!(
        client
            .get_workload(&unique("cli-none"))
            .await
            .expect("read")
            .is_none()
    );

    let mut bad = sample_plan(&unique("cli-bad"));
    bad["contacts"][0]["email"] = json!("not an address");
    bad["tier"] = json!("");
    match client.create(Kind::Plan, &bad).await.expect_err("invalid") {
        ClientError::Invalid { errors, .. } => {
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            assert!(fields.contains(&"contacts[0].email"), "{fields:?}");
            assert!(fields.contains(&"tier"), "{fields:?}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn a_request_without_an_identity_is_unauthenticated_and_the_token_unshown() {
    // The local stack has no JWT authorizer: a bearer token is no identity there.
    let token = "eyJhbGciOiJub25lIn0.cli-test-secret.";
    let client = Client::new(&api_url(), Auth::Bearer(token.into()))
        .await
        .expect("a client");
    let e = client.list_plans().await.expect_err("no identity");
    assert!(matches!(e, ClientError::Unauthenticated(_)), "{e:?}");
    assert!(!e.to_string().contains("cli-test-secret"), "{e}");
    assert!(!format!("{e:?} {client:?}").contains("cli-test-secret"));
}

#[tokio::test]
async fn an_unreachable_endpoint_is_named_in_one_line_quickly() {
    // Nothing listens on port 1: refused at once.
    let endpoint = "http://127.0.0.1:1/lambda-url/plans-api";
    let client = Client::new(
        endpoint,
        Auth::Local {
            principal: "dana@example.com".into(),
            groups: vec!["platform".into()],
        },
    )
    .await
    .expect("a client");
    let started = Instant::now();
    let e = client.get_plan("aws-business").await.expect_err("unreachable");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(e, ClientError::Unreachable { .. }), "{e:?}");
    let shown = e.to_string();
    assert!(shown.contains(endpoint) && !shown.contains('\n'), "{shown}");
}

/// A loopback port whose accept queue is full: connections to it hang (the
/// kernel drops their SYNs) until the client's connect timeout.
async fn port_that_never_connects() -> (tokio::net::TcpListener, Vec<std::net::TcpStream>, u16) {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .bind("127.0.0.1:0".parse().expect("an address"))
        .expect("bound");
    let listener = socket.listen(1).expect("listening");
    let port = listener.local_addr().expect("an address").port();
    let mut held = Vec::new();
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
        {
            Ok(s) => held.push(s),
            Err(_) => return (listener, held, port),
        }
    }
    panic!("the accept queue never filled");
}

#[tokio::test]
async fn a_connection_that_hangs_ends_at_the_connect_timeout() {
    let (_listener, _held, port) = port_that_never_connects().await;
    let endpoint = format!("http://127.0.0.1:{port}");
    let client = Client::new(&endpoint, Auth::Bearer("t".into()))
        .await
        .expect("a client")
        .with_timeouts(Duration::from_millis(300), Duration::from_secs(10))
        .expect("timeouts");
    let started = Instant::now();
    let e = client.list_plans().await.expect_err("unreachable");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert!(matches!(e, ClientError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains("connect timeout"), "{e}");
}

#[tokio::test]
async fn an_endpoint_that_never_answers_ends_at_the_answer_timeout() {
    // Accepts, reads, never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bound");
    let port = listener.local_addr().expect("an address").port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let client = Client::new(&format!("http://127.0.0.1:{port}"), Auth::Bearer("t".into()))
        .await
        .expect("a client")
        .with_timeouts(Duration::from_secs(1), Duration::from_millis(500))
        .expect("timeouts");
    let started = Instant::now();
    let e = client.get_plan("aws-business").await.expect_err("no answer");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(e, ClientError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains("no answer within 0.5 s"), "{e}");
    silent.abort();
}

/// The chart's contract with the API: every figure it draws is in the answer.
#[tokio::test]
async fn readiness_answers_every_figure_the_chart_draws() {
    let client = as_member("platform").await;
    let answer = client.readiness().await.expect("GET /readiness");
    let figures =
        support_plans::readiness::Readiness::from_json(&answer).unwrap_or_else(|e| panic!("{e}: {answer}"));
    assert_eq!(figures.gaps.len() + figures.activity.len(), 12);
    assert_eq!(Some(figures.plans), answer["plans"].as_u64());
}

// ---- Transient answers --------------------------------------------------------

/// A stand-in for the API on loopback that answers each request (one per
/// connection) with the next `(status, body)` of `script`, the last one
/// again when the script runs out; the request lines, as they came.
async fn scripted(
    script: Vec<(u16, &'static str)>,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bound");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((stream, _)) = listener.accept().await {
            let (status, body) = script[n.min(script.len() - 1)];
            n += 1;
            let mut reader = BufReader::new(stream);
            let mut first = String::new();
            reader.read_line(&mut first).await.expect("a request line");
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).await.expect("a header");
                if line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().expect("a length");
                }
            }
            let mut sent = vec![0; length];
            reader.read_exact(&mut sent).await.expect("the body");
            log.lock().unwrap().push(first.trim().to_owned());
            let mut stream = reader.into_inner();
            let answer = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\netag: \"1\"\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(answer.as_bytes()).await.expect("answered");
            stream.shutdown().await.ok();
        }
    });
    (url, seen)
}

async fn bearer(url: &str) -> Client {
    Client::new(url, Auth::Bearer("t".into()))
        .await
        .expect("a client")
}

const PAGE: &str = r#"{"items":[{"id":"aws-business"}]}"#;
const INTERNAL: &str = r#"{"status":500,"title":"Internal Server Error"}"#;

/// A read that API Gateway, Lambda or the service answers with a 5xx (or a
/// throttle) is asked again, with backoff: one bad second does not fail an
/// `apply` in CI.
#[tokio::test]
async fn a_read_answered_5xx_or_429_is_asked_again_until_it_is_answered() {
    let (url, seen) = scripted(vec![
        (503, r#"{"message":"Service Unavailable"}"#),
        (429, r#"{"message":"Too Many Requests"}"#),
        (500, INTERNAL),
        (200, PAGE),
    ])
    .await;
    let started = Instant::now();
    let listed = bearer(&url)
        .await
        .list_plans()
        .await
        .expect("listed on the fourth try");
    assert_eq!(listed, vec![json!({"id": "aws-business"})]);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(
        seen.iter()
            .all(|l| l == &seen[0] && l.starts_with("GET /plans?limit=")),
        "{seen:?}"
    );
    // Backoff between the tries, not a burst.
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_read_that_stays_unavailable_fails_with_the_last_answer_after_four_tries() {
    let (url, seen) = scripted(vec![(502, r#"{"message":"Internal server error"}"#)]).await;
    let e = bearer(&url)
        .await
        .get_plan("aws-business")
        .await
        .expect_err("still 502");
    assert!(e.to_string().contains("502"), "{e}");
    assert_eq!(seen.lock().unwrap().len(), 4);
}

/// A write the API may have done before it failed is not sent again: a
/// second create or replace would be answered "already exists" or "changed
/// since read" and hide what happened. A throttle (429) did nothing, so it is.
#[tokio::test]
async fn a_write_answered_5xx_is_sent_once_and_one_answered_429_again() {
    let (url, seen) = scripted(vec![(500, INTERNAL), (201, PAGE)]).await;
    let client = bearer(&url).await;
    let e = client
        .create(Kind::Plan, &json!({"id": "aws-business"}))
        .await
        .expect_err("500");
    assert!(e.to_string().contains("500"), "{e}");
    assert_eq!(seen.lock().unwrap().len(), 1, "a 5xx write is not repeated");

    let (url, seen) = scripted(vec![(429, r#"{"message":"Too Many Requests"}"#), (201, PAGE)]).await;
    let (created, _) = bearer(&url)
        .await
        .create(Kind::Plan, &json!({"id": "aws-business"}))
        .await
        .expect("created on the second try");
    assert_eq!(created["items"][0]["id"], "aws-business");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, ["POST /plans HTTP/1.1", "POST /plans HTTP/1.1"]);
}
