//! What the real service's surroundings would deliver after StartIncident:
//! the CloudTrail "AWS API Call via CloudTrail" event an EventBridge rule
//! forwards, and the runbook's `aws:invokeLambdaFunction` payload (rendered
//! from the runbook document by `runbook.rs`). Both are plain HTTP POSTs of
//! JSON to configured URLs (locally the Lambda Invoke API of `cargo lambda
//! watch`), sent after the reply and never failing it.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Request, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde_json::{Value, json};

use crate::model::SsmAutomation;
use crate::util::{rfc3339, uuid};

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Attempts per delivery; only connection failures are retried, since a
/// target that answered may already have run the function.
const ATTEMPTS: u32 = 3;
/// Generous: `cargo lambda watch` compiles a function on its first invoke.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// How much of the target's answer a record keeps.
const ANSWER_LIMIT: usize = 4096;

/// Targets must be plain `http://` URLs (no TLS client in the emulator).
pub fn check_target(url: &str) -> Result<(), String> {
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("target {url:?} is not a URL: {e}"))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(format!("target {url:?} must be an http:// URL with a host"));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Event,
    Runbook,
}

/// One finished delivery, as listed by `GET /_emulator/deliveries`.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub kind: Kind,
    pub target: String,
    pub incident_record_arn: String,
    pub attempts: u32,
    pub delivered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// What the target answered: its JSON, or the first 4 KiB as a string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<Value>,
}

impl Record {
    /// A delivery that was never attempted, and why.
    pub fn not_sent(kind: Kind, target: &str, arn: &str, error: String) -> Self {
        Record {
            kind,
            target: target.to_string(),
            incident_record_arn: arn.to_string(),
            attempts: 0,
            delivered: false,
            status: None,
            error: Some(error),
            payload: None,
            answer: None,
        }
    }
}

/// The caller as seen by CloudTrail.
#[derive(Debug, Clone)]
pub struct CallerInfo {
    pub arn: String,
    pub access_key_id: String,
    pub user_agent: String,
    pub source_ip: String,
}

pub struct StartEvent<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub time_ms: i64,
    pub request_id: &'a str,
    pub caller: &'a CallerInfo,
    pub request: &'a Value,
    pub incident_record_arn: &'a str,
}

/// The EventBridge event for a CloudTrail-logged StartIncident call.
pub fn cloudtrail_event(e: &StartEvent<'_>) -> Value {
    let time = rfc3339(e.time_ms);
    // CloudTrail logs the request's parameters; these are the ones a rule or
    // the responder reads.
    let mut params = serde_json::Map::new();
    for key in ["responsePlanArn", "title", "impact", "clientToken"] {
        if let Some(v) = e.request.get(key).filter(|v| !v.is_null()) {
            params.insert(key.to_string(), v.clone());
        }
    }
    json!({
        "version": "0",
        "id": uuid(),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ssm-incidents",
        "account": e.account,
        "time": time,
        "region": e.region,
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {
                "type": "IAMUser",
                "principalId": "AIDAEMULATOR",
                "arn": e.caller.arn,
                "accountId": e.account,
                "accessKeyId": e.caller.access_key_id,
                "userName": e.caller.arn.rsplit('/').next().unwrap_or("emulator"),
            },
            "eventTime": time,
            "eventSource": "ssm-incidents.amazonaws.com",
            "eventName": "StartIncident",
            "awsRegion": e.region,
            "sourceIPAddress": e.caller.source_ip,
            "userAgent": e.caller.user_agent,
            "requestParameters": params,
            "responseElements": { "incidentRecordArn": e.incident_record_arn },
            "requestID": e.request_id,
            "eventID": uuid(),
            "readOnly": false,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": e.account,
            "eventCategory": "Management",
        }
    })
}

/// The parameters Incident Manager starts the runbook's automation with, as
/// StartAutomationExecution takes them (name -> values): the action's static
/// `parameters`, then its `dynamicParameters` filled with the incident's ARN
/// (one value) or its involved resources (the list, possibly empty).
pub fn runbook_parameters(
    action: &SsmAutomation,
    incident_record_arn: &str,
    involved_resources: &[String],
) -> BTreeMap<String, Vec<String>> {
    let mut params = action.parameters.clone().unwrap_or_default();
    for (name, p) in action.dynamic_parameters.iter().flatten() {
        let values = match p.variable.as_deref() {
            Some("INCIDENT_RECORD_ARN") => vec![incident_record_arn.to_string()],
            Some("INVOLVED_RESOURCES") => involved_resources.to_vec(),
            _ => continue,
        };
        params.insert(name.clone(), values);
    }
    params
}

/// POSTs `payload` to `target`, retrying connection failures with a short
/// backoff. Never panics; the outcome is returned for the record.
pub async fn post(client: &HttpClient, kind: Kind, target: &str, arn: &str, payload: &Value) -> Record {
    let mut record = Record {
        kind,
        target: target.to_string(),
        incident_record_arn: arn.to_string(),
        attempts: 0,
        delivered: false,
        status: None,
        error: None,
        payload: Some(payload.clone()),
        answer: None,
    };
    let body = Bytes::from(payload.to_string());
    for attempt in 1..=ATTEMPTS {
        record.attempts = attempt;
        let req = match Request::post(target)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(body.clone()))
        {
            Ok(r) => r,
            Err(e) => {
                record.error = Some(format!("bad target: {e}"));
                return record;
            }
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, client.request(req)).await {
            Ok(Ok(resp)) => {
                let status = resp.status();
                // Read the body (the connection can then be reused).
                if let Ok(b) = resp.into_body().collect().await {
                    record.answer = answer(&b.to_bytes());
                }
                record.status = Some(status.as_u16());
                record.delivered = status.is_success();
                if !record.delivered {
                    record.error = Some(format!("target answered {status}"));
                }
                return record;
            }
            Ok(Err(e)) if e.is_connect() && attempt < ATTEMPTS => {
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
            Ok(Err(e)) => {
                record.error = Some(format!("{e}"));
                return record;
            }
            Err(_) => {
                record.error = Some(format!("no answer within {}s", REQUEST_TIMEOUT.as_secs()));
                return record;
            }
        }
    }
    record
}

fn answer(body: &[u8]) -> Option<Value> {
    if body.is_empty() {
        return None;
    }
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(|_| body.len() <= ANSWER_LIMIT)
        .or_else(|| {
            let text = String::from_utf8_lossy(body);
            Some(Value::String(text.chars().take(ANSWER_LIMIT).collect()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_must_be_http() {
        assert!(check_target("http://127.0.0.1:9000/2015-03-31/functions/f/invocations").is_ok());
        assert!(check_target("https://example.com/").is_err());
        assert!(check_target("not a url").is_err());
        assert!(check_target("/relative").is_err());
    }

    #[test]
    fn cloudtrail_event_shape() {
        let caller = CallerInfo {
            arn: "arn:aws:iam::111122223333:user/emulator".into(),
            access_key_id: "testing".into(),
            user_agent: "ua".into(),
            source_ip: "127.0.0.1".into(),
        };
        let request = json!({"responsePlanArn": "arn:aws:ssm-incidents::111122223333:response-plan/p", "impact": 2, "relatedItems": []});
        let e = cloudtrail_event(&StartEvent {
            account: "111122223333",
            region: "us-east-1",
            time_ms: 0,
            request_id: "r",
            caller: &caller,
            request: &request,
            incident_record_arn: "arn:x",
        });
        assert_eq!(e["detail"]["eventName"], "StartIncident");
        assert_eq!(e["detail"]["requestParameters"]["impact"], 2);
        assert!(e["detail"]["requestParameters"].get("relatedItems").is_none());
        assert_eq!(e["detail"]["responseElements"]["incidentRecordArn"], "arn:x");
        assert_eq!(e["time"], "1970-01-01T00:00:00Z");
    }
}
