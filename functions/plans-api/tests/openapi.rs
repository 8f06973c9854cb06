//! The OpenAPI document is true: every route SPEC §3 asks for (in scope) is
//! in it, every path it names is routed, and nothing else is.

mod common;

use common::{ADMIN, Api};

/// The routes of SPEC §3 this function serves.
const SPEC_ROUTES: &[(&str, &str)] = &[
    ("get", "/plans"),
    ("post", "/plans"),
    ("get", "/plans/{id}"),
    ("put", "/plans/{id}"),
    ("delete", "/plans/{id}"),
    ("get", "/plans/{id}/history"),
    ("post", "/plans/{id}/contacts/{contact_id}/verify"),
    ("post", "/plans/{id}/review"),
    ("get", "/workloads"),
    ("post", "/workloads"),
    ("get", "/workloads/{name}"),
    ("put", "/workloads/{name}"),
    ("delete", "/workloads/{name}"),
    ("get", "/workloads/{name}/history"),
    ("get", "/workloads/{name}/support"),
    ("get", "/openapi.json"),
    ("get", "/readiness"),
    ("get", "/verify/{token}"),
    ("post", "/verify/{token}"),
    ("post", "/verify/{token}/change"),
    ("post", "/match"),
];

async fn document(api: &Api) -> serde_json::Value {
    let r = api.get("/openapi.json", &common::READER).await;
    assert_eq!(r.status, 200);
    r.json()
}

fn documented(doc: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                out.push((method.to_owned(), path.clone()));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_lists_exactly_the_spec_routes() {
    let api = Api::new().await;
    let doc = document(&api).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let mut expected: Vec<(String, String)> = SPEC_ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(documented(&doc), expected);
}

#[tokio::test]
async fn every_documented_path_is_routed() {
    let api = Api::new().await;
    let doc = document(&api).await;
    for (method, path) in documented(&doc) {
        let concrete = path
            .replace("{id}", "some-plan")
            .replace("{contact_id}", "some-contact")
            .replace("{name}", "some-workload");
        let r = api
            .call(&method.to_uppercase(), &concrete, &ADMIN, &[], None)
            .await;
        let problem = if r.text.starts_with('{') {
            r.json()["type"].as_str().unwrap_or("").to_owned()
        } else {
            String::new()
        };
        assert!(
            !problem.ends_with(":no-route") && r.status != 405,
            "{method} {path} is documented but not routed: {} {}",
            r.status,
            r.text
        );
    }
}

#[tokio::test]
async fn undocumented_paths_and_methods_are_not_routed() {
    let api = Api::new().await;
    for (method, path) in [
        ("GET", "/plans/a/b/c"),
        ("PATCH", "/plans/x"),
        ("GET", "/admin"),
        ("POST", "/plans/x/history"),
    ] {
        let r = api.call(method, path, &ADMIN, &[], None).await;
        assert!(
            r.status == 404 || r.status == 405,
            "{method} {path}: {}",
            r.status
        );
    }
}

#[tokio::test]
async fn the_document_shows_the_pagerduty_fields() {
    let api = Api::new().await;
    let doc = document(&api).await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["Match"]["properties"]["pagerduty_services"]["type"], "array",
        "{}",
        schemas["Match"]
    );
    assert!(
        schemas["MatchRequest"]["properties"]["pagerduty_service"].is_object(),
        "{}",
        schemas["MatchRequest"]
    );
    let reasons = serde_json::to_string(&schemas["Reason"]).unwrap();
    assert!(reasons.contains("pagerduty-service"), "{reasons}");
}

#[tokio::test]
async fn the_document_shows_the_case_fields() {
    let api = Api::new().await;
    let doc = document(&api).await;
    let schemas = &doc["components"]["schemas"];
    assert!(
        schemas["Severity"]["properties"]["code"].is_object(),
        "{}",
        schemas["Severity"]
    );
    let spec = serde_json::to_string(&schemas["PlanSpec"]).unwrap();
    assert!(spec.contains("OpenCase"), "{spec}");
    for field in ["min_impact", "service_code", "category_code", "cc_emails"] {
        assert!(
            schemas["OpenCase"]["properties"][field].is_object(),
            "{field}: {}",
            schemas["OpenCase"]
        );
    }
    let answer = serde_json::to_string(&doc["paths"]["/match"]["post"]["responses"]["200"]).unwrap();
    assert!(answer.contains("MatchAnswer"), "{answer}");
    for field in [
        "service_code",
        "category_code",
        "severity_code",
        "subject",
        "cc_emails",
    ] {
        assert!(
            schemas["CasePreview"]["properties"][field].is_object(),
            "{field}: {}",
            schemas["CasePreview"]
        );
    }
    let note = serde_json::to_string(&schemas["MatchNote"]).unwrap();
    assert!(
        note.contains("PlanNote") && note.contains("CasePreview"),
        "{note}"
    );
}
