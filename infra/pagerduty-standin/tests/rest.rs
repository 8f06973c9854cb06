//! The REST calls in PagerDuty's shapes, its auth, `From` and error
//! answers, fault injection, and the admin routes (ageing, counts, reset).

mod common;

use axum::http::Method;
use common::{FROM, TOKEN, admin, call, incident, pd, service, start};
use pagerduty_standin::Config;
use serde_json::json;

#[tokio::test]
async fn incident_lifecycle_in_pagerduty_shapes() {
    let s = start(Config::new(TOKEN)).await;
    let svc = service(&s, "Checkout").await;

    let p = pd(&s, Method::GET, "/priorities", None).await;
    assert_eq!(p.status, 200);
    let names: Vec<&str> = p.body["priorities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["P1", "P2", "P3", "P4", "P5"]);
    let p1 = p.body["priorities"][0]["id"].as_str().unwrap().to_string();

    let created = pd(
        &s,
        Method::POST,
        "/incidents",
        Some(
            json!({"incident": {"type": "incident", "title": "Checkout is down",
            "service": {"id": svc, "type": "service_reference"},
            "priority": {"id": p1, "type": "priority_reference"}, "urgency": "low",
            "body": {"type": "incident_body", "details": "500s everywhere"}}}),
        ),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let i = &created.body["incident"];
    let id = i["id"].as_str().unwrap().to_string();
    assert_eq!(i["type"], "incident");
    assert_eq!(i["status"], "triggered");
    assert_eq!(i["title"], "Checkout is down");
    assert_eq!(i["incident_number"], 1);
    assert_eq!(i["summary"], "[#1] Checkout is down");
    assert_eq!(i["urgency"], "low");
    assert_eq!(i["priority"]["summary"], "P1");
    assert_eq!(i["service"]["id"], svc);
    assert_eq!(i["service"]["summary"], "Checkout");
    assert_eq!(i["html_url"], format!("{}/incidents/{id}", s.url()));
    assert!(i["created_at"].as_str().unwrap().ends_with('Z'));

    // By id, and by incident number.
    for key in [id.as_str(), "1"] {
        let got = pd(&s, Method::GET, &format!("/incidents/{key}"), None).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.body["incident"]["id"], id);
    }

    let note = pd(
        &s,
        Method::POST,
        &format!("/incidents/{id}/notes"),
        Some(json!({"note": {"content": "Call AWS Support"}})),
    )
    .await;
    assert_eq!(note.status, 200, "{}", note.body);
    assert_eq!(note.body["note"]["content"], "Call AWS Support");
    assert_eq!(note.body["note"]["user"]["summary"], FROM);
    let notes = pd(&s, Method::GET, &format!("/incidents/{id}/notes"), None).await;
    assert_eq!(notes.status, 200);
    assert_eq!(notes.body["notes"].as_array().unwrap().len(), 1);
    assert_eq!(notes.body["notes"][0]["content"], "Call AWS Support");

    let resolved = pd(
        &s,
        Method::PUT,
        &format!("/incidents/{id}"),
        Some(json!({"incident": {"type": "incident_reference", "status": "resolved"}})),
    )
    .await;
    assert_eq!(resolved.status, 200, "{}", resolved.body);
    assert_eq!(resolved.body["incident"]["status"], "resolved");
    assert!(resolved.body["incident"]["resolved_at"].is_string());
    let got = pd(&s, Method::GET, &format!("/incidents/{id}"), None).await;
    assert_eq!(got.body["incident"]["status"], "resolved");
}

#[tokio::test]
async fn token_is_required_with_pagerduty_401() {
    let s = start(Config::new(TOKEN)).await;
    for auth in [None, Some("wrong")] {
        let a = call(&s, Method::GET, "/priorities", auth, None, None).await;
        assert_eq!(a.status, 401);
        assert_eq!(
            a.body,
            json!({"error": {"message": "Authentication failed", "code": 2006}})
        );
    }
    // An empty token, and the right token in another position, are refused too.
    let a = call(&s, Method::GET, "/priorities", Some(""), None, None).await;
    assert_eq!(a.status, 401);
    let a = call(
        &s,
        Method::GET,
        "/priorities",
        Some(&format!("x {TOKEN}")),
        None,
        None,
    )
    .await;
    assert_eq!(a.status, 401);
}

#[tokio::test]
async fn from_header_is_required_where_pagerduty_requires_it() {
    let s = start(Config::new(TOKEN)).await;
    let svc = service(&s, "Checkout").await;
    let i = incident(&s, &svc, "Down").await;
    let id = i["id"].as_str().unwrap();
    let body = json!({"incident": {"type": "incident", "title": "x", "service": {"id": svc, "type": "service_reference"}}});
    let cases = [
        (Method::POST, "/incidents".to_string(), body),
        (
            Method::POST,
            format!("/incidents/{id}/notes"),
            json!({"note": {"content": "hi"}}),
        ),
        (
            Method::PUT,
            format!("/incidents/{id}"),
            json!({"incident": {"type": "incident", "status": "resolved"}}),
        ),
    ];
    for (method, path, body) in cases {
        let a = call(&s, method.clone(), &path, Some(TOKEN), None, Some(body.clone())).await;
        assert_eq!(a.status, 400, "{method} {path}: {}", a.body);
        assert_eq!(a.body["error"]["code"], 2001);
        assert_eq!(a.body["error"]["message"], "Invalid Input Provided");
        assert!(a.body["error"]["errors"][0].as_str().unwrap().contains("From"));
        let a = call(
            &s,
            method.clone(),
            &path,
            Some(TOKEN),
            Some("not-an-email"),
            Some(body),
        )
        .await;
        assert_eq!(a.status, 400);
        assert_eq!(a.body["error"]["code"], 1008);
    }
    // Reads need no From.
    let a = call(
        &s,
        Method::GET,
        &format!("/incidents/{id}/notes"),
        Some(TOKEN),
        None,
        None,
    )
    .await;
    assert_eq!(a.status, 200);
    // Nothing was written by the refused calls.
    assert_eq!(a.body["notes"], json!([]));
    let got = call(
        &s,
        Method::GET,
        &format!("/incidents/{id}"),
        Some(TOKEN),
        None,
        None,
    )
    .await;
    assert_eq!(got.body["incident"]["status"], "triggered");
}

#[tokio::test]
async fn unknown_things_and_bad_input_answer_pagerduty_errors() {
    let s = start(Config::new(TOKEN)).await;
    let svc = service(&s, "Checkout").await;
    for (method, path) in [
        (Method::GET, "/incidents/PNOPE00"),
        (Method::GET, "/incidents/PNOPE00/notes"),
        (Method::POST, "/incidents/PNOPE00/notes"),
    ] {
        let a = pd(&s, method, path, Some(json!({"note": {"content": "x"}}))).await;
        assert_eq!(a.status, 404, "{path}");
        assert_eq!(a.body["error"]["code"], 2100);
        assert_eq!(a.body["error"]["message"], "Not Found");
    }
    let no_service = pd(&s, Method::POST, "/incidents", Some(json!({"incident": {"type": "incident", "title": "x", "service": {"id": "PNOPE00", "type": "service_reference"}}}))).await;
    assert_eq!(no_service.status, 400);
    assert_eq!(no_service.body["error"]["code"], 5002);
    let bad_priority = pd(&s, Method::POST, "/incidents", Some(json!({"incident": {"type": "incident", "title": "x",
        "service": {"id": svc, "type": "service_reference"}, "priority": {"id": "PNOPE00", "type": "priority_reference"}}}))).await;
    assert_eq!(bad_priority.status, 400);
    assert_eq!(bad_priority.body["error"]["code"], 1020);
    for body in [
        json!({"title": "unwrapped"}),
        json!({"incident": {"type": "incident", "service": {"id": svc, "type": "service_reference"}}}),
    ] {
        let a = pd(&s, Method::POST, "/incidents", Some(body)).await;
        assert_eq!(a.status, 400);
        assert_eq!(a.body["error"]["code"], 2001);
    }
    let dup = pd(
        &s,
        Method::POST,
        "/services",
        Some(json!({"service": {"name": "Checkout"}})),
    )
    .await;
    assert_eq!(dup.status, 400);
}

#[tokio::test]
async fn notes_over_the_limit_are_refused() {
    let mut config = Config::new(TOKEN);
    config.note_limit = 100;
    let s = start(config).await;
    let svc = service(&s, "Checkout").await;
    let id = incident(&s, &svc, "Down").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/incidents/{id}/notes");
    let at_limit = pd(
        &s,
        Method::POST,
        &path,
        Some(json!({"note": {"content": "é".repeat(100)}})),
    )
    .await;
    assert_eq!(at_limit.status, 200, "the limit counts characters, not bytes");
    let over = pd(
        &s,
        Method::POST,
        &path,
        Some(json!({"note": {"content": "x".repeat(101)}})),
    )
    .await;
    assert_eq!(over.status, 400);
    assert_eq!(over.body["error"]["code"], 2001);
    assert!(
        over.body["error"]["errors"][0]
            .as_str()
            .unwrap()
            .contains("maximum is 100")
    );
    let notes = pd(&s, Method::GET, &path, None).await;
    assert_eq!(notes.body["notes"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_default_note_limit_is_25000_characters() {
    let s = start(Config::new(TOKEN)).await;
    let svc = service(&s, "Checkout").await;
    let id = incident(&s, &svc, "Down").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/incidents/{id}/notes");
    assert_eq!(
        pd(
            &s,
            Method::POST,
            &path,
            Some(json!({"note": {"content": "x".repeat(25_000)}}))
        )
        .await
        .status,
        200
    );
    assert_eq!(
        pd(
            &s,
            Method::POST,
            &path,
            Some(json!({"note": {"content": "x".repeat(25_001)}}))
        )
        .await
        .status,
        400
    );
}

#[tokio::test]
async fn injected_429_carries_retry_after_then_the_call_succeeds() {
    let s = start(Config::new(TOKEN)).await;
    let svc = service(&s, "Checkout").await;
    let id = incident(&s, &svc, "Down").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    admin(
        &s,
        Method::POST,
        "faults",
        Some(json!([
            {"operation": "CreateNote", "status": 429, "retry_after": 7, "count": 1},
            {"operation": "CreateNote", "status": 500, "count": 1},
        ])),
    )
    .await;
    let path = format!("/incidents/{id}/notes");
    let note = Some(json!({"note": {"content": "step 1"}}));

    let first = pd(&s, Method::POST, &path, note.clone()).await;
    assert_eq!(first.status, 429);
    assert_eq!(first.headers["retry-after"], "7");
    assert_eq!(first.headers["ratelimit-reset"], "7");
    assert_eq!(first.body["error"]["code"], 2020);
    assert_eq!(first.body["error"]["message"], "Rate Limit Exceeded");
    let second = pd(&s, Method::POST, &path, note.clone()).await;
    assert_eq!(second.status, 500);
    assert_eq!(second.body["error"]["code"], 2000);
    let third = pd(&s, Method::POST, &path, note).await;
    assert_eq!(third.status, 200);

    // Other operations were never affected; every attempt was counted.
    assert_eq!(
        pd(&s, Method::GET, &path, None).await.body["notes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let calls = admin(&s, Method::GET, "calls", None).await;
    assert_eq!(calls["calls"]["CreateNote"], 3);
    assert_eq!(calls["calls"]["ListNotes"], 1);
    assert_eq!(admin(&s, Method::GET, "faults", None).await["faults"], json!([]));
}

#[tokio::test]
async fn fault_rules_are_checked() {
    let s = start(Config::new(TOKEN)).await;
    for bad in [
        json!({"operation": "Nope", "status": 500}),
        json!({"operation": "*", "status": 418}),
        json!({"operation": "*", "status": 500, "retry_after": 3}),
        json!({"operation": "*", "status": 500, "count": 0}),
    ] {
        let a = call(
            &s,
            Method::POST,
            "/_standin/faults",
            None,
            None,
            Some(bad.clone()),
        )
        .await;
        assert_eq!(a.status, 400, "{bad}");
    }
    // "*" until cleared: every operation, after the token check.
    admin(
        &s,
        Method::POST,
        "faults",
        Some(json!({"operation": "*", "status": 503})),
    )
    .await;
    assert_eq!(pd(&s, Method::GET, "/priorities", None).await.status, 503);
    assert_eq!(
        call(&s, Method::GET, "/priorities", None, None, None)
            .await
            .status,
        401
    );
    assert_eq!(pd(&s, Method::GET, "/priorities", None).await.status, 503);
    admin(&s, Method::DELETE, "faults", None).await;
    assert_eq!(pd(&s, Method::GET, "/priorities", None).await.status, 200);
}

#[tokio::test]
async fn age_moves_created_at_into_the_past() {
    let s = start(Config::new(TOKEN)).await;
    let svc = service(&s, "Checkout").await;
    let i = incident(&s, &svc, "Down").await;
    let id = i["id"].as_str().unwrap();
    let before: jiff::Timestamp = i["created_at"].as_str().unwrap().parse().unwrap();
    let aged = admin(
        &s,
        Method::POST,
        &format!("incidents/{id}/age"),
        Some(json!({"minutes": 90})),
    )
    .await;
    let got = pd(&s, Method::GET, &format!("/incidents/{id}"), None).await;
    let after: jiff::Timestamp = got.body["incident"]["created_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(before.as_second() - after.as_second(), 90 * 60);
    assert_eq!(aged["created_at"], got.body["incident"]["created_at"]);
    let unknown = call(
        &s,
        Method::POST,
        "/_standin/incidents/PNOPE00/age",
        None,
        None,
        Some(json!({"minutes": 5})),
    )
    .await;
    assert_eq!(unknown.status, 404);
    let out_of_range = call(
        &s,
        Method::POST,
        &format!("/_standin/incidents/{id}/age"),
        None,
        None,
        Some(json!({"minutes": 0})),
    )
    .await;
    assert_eq!(out_of_range.status, 400);
}

#[tokio::test]
async fn reset_forgets_everything() {
    let s = start(Config::new(TOKEN)).await;
    let svc = service(&s, "Checkout").await;
    let id = incident(&s, &svc, "Down").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    admin(&s, Method::POST, "reset", None).await;
    assert_eq!(
        pd(&s, Method::GET, &format!("/incidents/{id}"), None)
            .await
            .status,
        404
    );
    assert_eq!(
        admin(&s, Method::GET, "calls", None).await["calls"],
        json!({"GetIncident": 1})
    );
    // The service name is free again.
    service(&s, "Checkout").await;
}

/// Ids of a `GET /incidents` answer, in its order.
fn ids(a: &common::Answer) -> Vec<String> {
    a.body["incidents"]
        .as_array()
        .unwrap_or_else(|| panic!("no incidents in {}", a.body))
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

async fn set_status(s: &pagerduty_standin::Running, id: &str, status: &str) {
    let a = pd(
        s,
        Method::PUT,
        &format!("/incidents/{id}"),
        Some(json!({"incident": {"type": "incident_reference", "status": status}})),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn list_incidents_filters_by_status_and_creation_oldest_first_in_get_shapes() {
    let s = start(Config::new(TOKEN)).await;
    let svc = service(&s, "Checkout").await;
    let mut made = Vec::new();
    for title in ["old", "triggered", "acked", "resolved"] {
        made.push(
            incident(&s, &svc, title).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let other = service(&s, "Ledger").await;
    made.push(
        incident(&s, &other, "other service").await["id"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    let [old, triggered, acked, resolved, ledger] = made.clone().try_into().unwrap();
    // 40 days old: outside the default range (30 days) and the window below.
    admin(
        &s,
        Method::POST,
        &format!("incidents/{old}/age"),
        Some(json!({"minutes": 40 * 24 * 60})),
    )
    .await;
    set_status(&s, &acked, "acknowledged").await;
    set_status(&s, &resolved, "resolved").await;
    // `triggered` is the oldest of the window, by two minutes.
    admin(
        &s,
        Method::POST,
        &format!("incidents/{triggered}/age"),
        Some(json!({"minutes": 2})),
    )
    .await;

    let open = pd(
        &s,
        Method::GET,
        "/incidents?statuses[]=triggered&statuses[]=acknowledged",
        None,
    )
    .await;
    assert_eq!(open.status, 200, "{}", open.body);
    assert_eq!(
        ids(&open),
        [triggered.as_str(), acked.as_str(), ledger.as_str()],
        "open, in the last 30 days, oldest first"
    );
    assert_eq!(
        (open.body["limit"].clone(), open.body["offset"].clone()),
        (json!(25), json!(0))
    );
    assert_eq!(open.body["more"], false);
    assert_eq!(open.body["total"], json!(null), "total only when asked for");
    // Each listed incident is the incident GET /incidents/{id} shows.
    let one = pd(&s, Method::GET, &format!("/incidents/{acked}"), None).await;
    assert_eq!(open.body["incidents"][1], one.body["incident"]);

    let all = pd(&s, Method::GET, "/incidents?date_range=all&total=true", None).await;
    assert_eq!(
        ids(&all),
        [
            old.as_str(),
            triggered.as_str(),
            acked.as_str(),
            resolved.as_str(),
            ledger.as_str()
        ]
    );
    assert_eq!(all.body["total"], 5);
    let resolved_only = pd(&s, Method::GET, "/incidents?statuses%5B%5D=resolved", None).await;
    assert_eq!(ids(&resolved_only), [resolved.as_str()]);
    let by_service = pd(
        &s,
        Method::GET,
        &format!("/incidents?service_ids[]={other}"),
        None,
    )
    .await;
    assert_eq!(ids(&by_service), [ledger.as_str()]);

    // A window on created_at: since one minute ago leaves out the incident aged by two.
    let since = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(1);
    let until = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(1);
    let window = pd(
        &s,
        Method::GET,
        &format!("/incidents?statuses[]=triggered&statuses[]=acknowledged&since={since}&until={until}"),
        None,
    )
    .await;
    assert_eq!(ids(&window), [acked.as_str(), ledger.as_str()], "{}", window.body);
    let counts = admin(&s, Method::GET, "calls", None).await;
    assert_eq!(counts["calls"]["ListIncidents"], 5, "every list call counted");
}

#[tokio::test]
async fn list_incidents_pages_with_limit_offset_and_more() {
    let s = start(Config::new(TOKEN)).await;
    let svc = service(&s, "Checkout").await;
    let mut made = Vec::new();
    for n in 0..5 {
        made.push(
            incident(&s, &svc, &format!("#{n}")).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let page = pd(
            &s,
            Method::GET,
            &format!("/incidents?limit=2&offset={offset}&total=true"),
            None,
        )
        .await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(
            (page.body["limit"].as_u64(), page.body["offset"].as_u64()),
            (Some(2), Some(offset))
        );
        assert_eq!(page.body["total"], 5);
        seen.extend(ids(&page));
        if page.body["more"] != true {
            break;
        }
        offset += 2;
    }
    assert_eq!(offset, 4, "three pages");
    assert_eq!(seen, made, "each once, in creation order");
    let past_the_end = pd(&s, Method::GET, "/incidents?offset=10", None).await;
    assert_eq!(
        (ids(&past_the_end).len(), past_the_end.body["more"].clone()),
        (0, json!(false))
    );
}

#[tokio::test]
async fn list_incidents_refuses_what_pagerduty_refuses() {
    let s = start(Config::new(TOKEN)).await;
    let svc = service(&s, "Checkout").await;
    incident(&s, &svc, "Down").await;
    let no_token = call(&s, Method::GET, "/incidents", None, None, None).await;
    assert_eq!(no_token.status, 401);
    assert_eq!(no_token.body["error"]["code"], 2006);
    for (query, code) in [
        ("statuses[]=open", 1003),
        ("since=last-tuesday", 2004),
        ("since=2026-02-01T00:00Z&until=2026-01-01T00:00Z", 2005),
        ("since=2025-01-01&until=2026-01-01", 2005),
        ("limit=101", 2001),
        ("limit=0", 2001),
        ("offset=9999&limit=2", 2001),
        ("sort_by=created_at:desc", 2001),
    ] {
        let a = pd(&s, Method::GET, &format!("/incidents?{query}"), None).await;
        assert_eq!(
            (a.status, a.body["error"]["code"].as_u64()),
            (400, Some(code)),
            "{query}: {}",
            a.body
        );
        assert!(a.body["error"]["message"].is_string(), "{query}: {}", a.body);
    }
    admin(
        &s,
        Method::POST,
        "faults",
        Some(json!({"operation": "ListIncidents", "status": 429, "count": 1})),
    )
    .await;
    assert_eq!(pd(&s, Method::GET, "/incidents", None).await.status, 429);
    assert_eq!(pd(&s, Method::GET, "/incidents", None).await.status, 200);
}
