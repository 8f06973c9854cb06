//! The REST-JSON wire protocol: which operation lives at which method and
//! path (from the botocore model's `http` blocks), the error shapes, and how
//! replies are written.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Operations the emulator routes. The unimplemented ones still get a route
/// so a client hears a clear "not implemented" instead of a 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    StartIncident,
    GetIncidentRecord,
    ListIncidentRecords,
    UpdateIncidentRecord,
    DeleteIncidentRecord,
    CreateTimelineEvent,
    GetTimelineEvent,
    ListTimelineEvents,
    UpdateTimelineEvent,
    DeleteTimelineEvent,
    ListRelatedItems,
    UpdateRelatedItems,
    CreateResponsePlan,
    GetResponsePlan,
    ListResponsePlans,
    UpdateResponsePlan,
    DeleteResponsePlan,
    TagResource,
    UntagResource,
    ListTagsForResource,
    // Present in the model, not emulated.
    BatchGetIncidentFindings,
    CreateReplicationSet,
    DeleteReplicationSet,
    DeleteResourcePolicy,
    GetReplicationSet,
    GetResourcePolicies,
    ListIncidentFindings,
    ListReplicationSets,
    PutResourcePolicy,
    UpdateDeletionProtection,
    UpdateReplicationSet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Delete,
}

/// Path of the three tag operations; the ARN is a URI label.
pub const TAGS_PATH: &str = "/tags/{resourceArn}";

impl Op {
    pub const ALL: [Op; 31] = [
        Op::StartIncident,
        Op::GetIncidentRecord,
        Op::ListIncidentRecords,
        Op::UpdateIncidentRecord,
        Op::DeleteIncidentRecord,
        Op::CreateTimelineEvent,
        Op::GetTimelineEvent,
        Op::ListTimelineEvents,
        Op::UpdateTimelineEvent,
        Op::DeleteTimelineEvent,
        Op::ListRelatedItems,
        Op::UpdateRelatedItems,
        Op::CreateResponsePlan,
        Op::GetResponsePlan,
        Op::ListResponsePlans,
        Op::UpdateResponsePlan,
        Op::DeleteResponsePlan,
        Op::TagResource,
        Op::UntagResource,
        Op::ListTagsForResource,
        Op::BatchGetIncidentFindings,
        Op::CreateReplicationSet,
        Op::DeleteReplicationSet,
        Op::DeleteResourcePolicy,
        Op::GetReplicationSet,
        Op::GetResourcePolicies,
        Op::ListIncidentFindings,
        Op::ListReplicationSets,
        Op::PutResourcePolicy,
        Op::UpdateDeletionProtection,
        Op::UpdateReplicationSet,
    ];

    pub fn name(self) -> &'static str {
        self.route().0
    }

    pub fn method(self) -> Method {
        self.route().1
    }

    pub fn path(self) -> &'static str {
        self.route().2
    }

    /// (name, method, requestUri) exactly as in service-2.json.
    fn route(self) -> (&'static str, Method, &'static str) {
        use Method::{Delete, Get, Post};
        match self {
            Op::StartIncident => ("StartIncident", Post, "/startIncident"),
            Op::GetIncidentRecord => ("GetIncidentRecord", Get, "/getIncidentRecord"),
            Op::ListIncidentRecords => ("ListIncidentRecords", Post, "/listIncidentRecords"),
            Op::UpdateIncidentRecord => ("UpdateIncidentRecord", Post, "/updateIncidentRecord"),
            Op::DeleteIncidentRecord => ("DeleteIncidentRecord", Post, "/deleteIncidentRecord"),
            Op::CreateTimelineEvent => ("CreateTimelineEvent", Post, "/createTimelineEvent"),
            Op::GetTimelineEvent => ("GetTimelineEvent", Get, "/getTimelineEvent"),
            Op::ListTimelineEvents => ("ListTimelineEvents", Post, "/listTimelineEvents"),
            Op::UpdateTimelineEvent => ("UpdateTimelineEvent", Post, "/updateTimelineEvent"),
            Op::DeleteTimelineEvent => ("DeleteTimelineEvent", Post, "/deleteTimelineEvent"),
            Op::ListRelatedItems => ("ListRelatedItems", Post, "/listRelatedItems"),
            Op::UpdateRelatedItems => ("UpdateRelatedItems", Post, "/updateRelatedItems"),
            Op::CreateResponsePlan => ("CreateResponsePlan", Post, "/createResponsePlan"),
            Op::GetResponsePlan => ("GetResponsePlan", Get, "/getResponsePlan"),
            Op::ListResponsePlans => ("ListResponsePlans", Post, "/listResponsePlans"),
            Op::UpdateResponsePlan => ("UpdateResponsePlan", Post, "/updateResponsePlan"),
            Op::DeleteResponsePlan => ("DeleteResponsePlan", Post, "/deleteResponsePlan"),
            Op::TagResource => ("TagResource", Post, TAGS_PATH),
            Op::UntagResource => ("UntagResource", Delete, TAGS_PATH),
            Op::ListTagsForResource => ("ListTagsForResource", Get, TAGS_PATH),
            Op::BatchGetIncidentFindings => ("BatchGetIncidentFindings", Post, "/batchGetIncidentFindings"),
            Op::CreateReplicationSet => ("CreateReplicationSet", Post, "/createReplicationSet"),
            Op::DeleteReplicationSet => ("DeleteReplicationSet", Post, "/deleteReplicationSet"),
            Op::DeleteResourcePolicy => ("DeleteResourcePolicy", Post, "/deleteResourcePolicy"),
            Op::GetReplicationSet => ("GetReplicationSet", Get, "/getReplicationSet"),
            Op::GetResourcePolicies => ("GetResourcePolicies", Post, "/getResourcePolicies"),
            Op::ListIncidentFindings => ("ListIncidentFindings", Post, "/listIncidentFindings"),
            Op::ListReplicationSets => ("ListReplicationSets", Post, "/listReplicationSets"),
            Op::PutResourcePolicy => ("PutResourcePolicy", Post, "/putResourcePolicy"),
            Op::UpdateDeletionProtection => ("UpdateDeletionProtection", Post, "/updateDeletionProtection"),
            Op::UpdateReplicationSet => ("UpdateReplicationSet", Post, "/updateReplicationSet"),
        }
    }

    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Operations whose input has an idempotency `clientToken` in the model.
    pub fn has_client_token(self) -> bool {
        matches!(
            self,
            Op::StartIncident
                | Op::UpdateIncidentRecord
                | Op::CreateTimelineEvent
                | Op::UpdateTimelineEvent
                | Op::UpdateRelatedItems
                | Op::CreateResponsePlan
                | Op::UpdateResponsePlan
        )
    }

    /// Members bound to the query string (`location: querystring`), and
    /// whether the member is a list (repeated key).
    pub fn query_members(self) -> &'static [(&'static str, bool)] {
        match self {
            Op::GetIncidentRecord | Op::GetResponsePlan => &[("arn", false)],
            Op::GetTimelineEvent => &[("eventId", false), ("incidentRecordArn", false)],
            Op::UntagResource => &[("tagKeys", true)],
            _ => &[],
        }
    }
}

/// `ResourceType` enum of the model, carried by not-found and conflict errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    ResponsePlan,
    IncidentRecord,
    TimelineEvent,
}

impl ResourceType {
    fn as_str(self) -> &'static str {
        match self {
            ResourceType::ResponsePlan => "RESPONSE_PLAN",
            ResourceType::IncidentRecord => "INCIDENT_RECORD",
            ResourceType::TimelineEvent => "TIMELINE_EVENT",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Validation,
    NotFound,
    Conflict,
    Throttling,
    Internal,
    AccessDenied,
    QuotaExceeded,
    /// Not a model shape: for routes the emulator does not implement.
    NotImplemented,
    /// Not a model shape: what AWS front ends answer for unknown paths.
    UnknownOperation,
}

impl ErrorKind {
    /// Exception name (the `x-amzn-ErrorType`) and HTTP status from the model.
    fn wire(self) -> (&'static str, StatusCode) {
        match self {
            ErrorKind::Validation => ("ValidationException", StatusCode::BAD_REQUEST),
            ErrorKind::NotFound => ("ResourceNotFoundException", StatusCode::NOT_FOUND),
            ErrorKind::Conflict => ("ConflictException", StatusCode::CONFLICT),
            ErrorKind::Throttling => ("ThrottlingException", StatusCode::TOO_MANY_REQUESTS),
            ErrorKind::Internal => ("InternalServerException", StatusCode::INTERNAL_SERVER_ERROR),
            ErrorKind::AccessDenied => ("AccessDeniedException", StatusCode::FORBIDDEN),
            ErrorKind::QuotaExceeded => ("ServiceQuotaExceededException", StatusCode::PAYMENT_REQUIRED),
            // 501 on purpose: SDKs do not retry it, unlike 500.
            ErrorKind::NotImplemented => ("NotImplemented", StatusCode::NOT_IMPLEMENTED),
            ErrorKind::UnknownOperation => ("UnknownOperationException", StatusCode::NOT_FOUND),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
    pub resource: Option<(ResourceType, String)>,
    pub quota_code: Option<&'static str>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
            resource: None,
            quota_code: None,
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::new(ErrorKind::Validation, message)
    }

    pub fn not_found(rt: ResourceType, id: &str) -> Self {
        let what = match rt {
            ResourceType::ResponsePlan => "Response plan",
            ResourceType::IncidentRecord => "Incident record",
            ResourceType::TimelineEvent => "Timeline event",
        };
        ApiError {
            resource: Some((rt, id.to_string())),
            ..ApiError::new(ErrorKind::NotFound, format!("{what} {id} does not exist"))
        }
    }

    pub fn conflict(message: impl Into<String>, resource: Option<(ResourceType, String)>) -> Self {
        ApiError {
            resource,
            ..ApiError::new(ErrorKind::Conflict, message)
        }
    }

    pub fn quota(message: impl Into<String>, quota_code: &'static str) -> Self {
        ApiError {
            quota_code: Some(quota_code),
            ..ApiError::new(ErrorKind::QuotaExceeded, message)
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind.wire().0
    }

    pub fn status(&self) -> StatusCode {
        self.kind.wire().1
    }

    /// The error body: `message` plus the members the model declares for
    /// the shape (throttling and quota errors require quotaCode/serviceCode).
    pub fn body(&self) -> Value {
        let mut body = json!({ "message": self.message });
        if let Some((rt, id)) = &self.resource {
            body["resourceType"] = json!(rt.as_str());
            body["resourceIdentifier"] = json!(id);
        }
        if matches!(self.kind, ErrorKind::Throttling | ErrorKind::QuotaExceeded) {
            body["serviceCode"] = json!("ssm-incidents");
            body["quotaCode"] = json!(self.quota_code.unwrap_or("emulator-fault"));
        }
        body
    }

    pub fn into_response_with_id(self, request_id: &str) -> Response {
        let mut resp = (self.status(), json_body(&self.body())).into_response();
        let h = resp.headers_mut();
        h.insert("x-amzn-ErrorType", HeaderValue::from_static(self.code()));
        insert_common_headers(h, request_id);
        resp
    }
}

/// A successful reply: the model's status code and an optional JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Option<Value>,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Reply {
            status: 200,
            body: Some(strip_nulls(body)),
        }
    }

    pub fn created(body: Value) -> Self {
        Reply {
            status: 201,
            body: Some(strip_nulls(body)),
        }
    }

    pub fn no_content() -> Self {
        Reply {
            status: 204,
            body: None,
        }
    }

    pub fn into_response_with_id(self, request_id: &str) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut resp = match &self.body {
            Some(body) => (status, json_body(body)).into_response(),
            None => status.into_response(),
        };
        insert_common_headers(resp.headers_mut(), request_id);
        resp
    }
}

fn json_body(v: &Value) -> ([(header::HeaderName, &'static str); 1], String) {
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(v).unwrap_or_else(|_| "{}".to_string()),
    )
}

fn insert_common_headers(h: &mut axum::http::HeaderMap, request_id: &str) {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-RequestId", v);
    }
}

/// Drops `null` members recursively: optional members that are unset are
/// absent on the wire, and the SDKs reject a union with two keys present.
pub fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_has_a_distinct_route() {
        let mut seen = std::collections::HashSet::new();
        for op in Op::ALL {
            assert!(seen.insert((op.method(), op.path())), "{op:?}");
            assert_eq!(Op::from_name(op.name()), Some(op));
        }
    }

    #[test]
    fn throttling_body_has_required_members() {
        let e = ApiError::new(ErrorKind::Throttling, "slow down");
        assert_eq!(e.status(), StatusCode::TOO_MANY_REQUESTS);
        let b = e.body();
        assert_eq!(b["serviceCode"], "ssm-incidents");
        assert!(b["quotaCode"].is_string());
    }

    #[test]
    fn strip_nulls_is_recursive() {
        let v = strip_nulls(json!({"a": null, "b": {"c": null, "d": 1}, "e": [{"f": null}]}));
        assert_eq!(v, json!({"b": {"d": 1}, "e": [{}]}));
    }
}
