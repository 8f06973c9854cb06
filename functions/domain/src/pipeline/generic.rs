//! The generic incident (SPEC §4 trigger 4, §11): `{id, title, impact?,
//! workload?, resources?, url?}`, from an EventBridge `Incident Started`
//! event's `detail` or a signed `POST /hooks/incident` body. One parser, so
//! the webhook edge refuses exactly what the responder would ignore.

use serde_json::{Value, json};

use crate::types::{HttpsUrl, Slug};

/// The most involved resources one incident may name.
pub const MAX_RESOURCES: usize = 100;
/// The `source` of the events `POST /hooks/incident` hands to the responder.
pub const WEBHOOK_SOURCE: &str = "support-plans.webhook";
/// Their `detail-type`.
pub const INCIDENT_STARTED: &str = "Incident Started";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generic {
    /// The event's `source`: who sent it (checked against `GENERIC_SOURCES`).
    pub source: String,
    pub id: String,
    pub title: String,
    pub impact: Option<u8>,
    pub workload: Option<String>,
    pub resources: Vec<String>,
    pub url: Option<String>,
    pub time: Option<String>,
}

/// Why a generic incident is refused: the field (as named in the incident
/// itself, `source` for the event's) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {reason}")]
pub struct Invalid {
    pub field: &'static str,
    pub reason: String,
}

impl Invalid {
    fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }

    /// The message as the responder logs it for an EventBridge event, where
    /// the incident is the event's `detail`.
    pub fn in_event(&self) -> String {
        match self.field {
            "source" => format!("the event's source {}", self.reason),
            _ => format!("detail.{self}"),
        }
    }
}

/// An ARN: `arn:`, at most 2,048 characters, no whitespace or control character.
pub fn is_arn(s: &str) -> bool {
    s.starts_with("arn:") && s.len() <= 2048 && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Involved resources, named `field` in messages: a list, or a string
/// holding a JSON list or comma-separated ARNs (as a runbook may pass
/// `INVOLVED_RESOURCES`); at most [`MAX_RESOURCES`] ARNs.
pub fn resources(v: Option<&Value>, field: &str) -> Result<Vec<String>, String> {
    let list: Vec<String> = match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
        Some(Value::String(s)) if s.trim_start().starts_with('[') => {
            serde_json::from_str(s).map_err(|_| format!("{field} is not a list of ARNs"))?
        }
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(_) => return Err(format!("{field} is not a list of ARNs")),
    };
    if list.len() > MAX_RESOURCES || list.iter().any(|r| !is_arn(r)) {
        return Err(format!("{field} holds something that is not an ARN"));
    }
    Ok(list)
}

/// A workload name, if one is given (empty is none).
pub fn workload(v: Option<&Value>) -> Result<Option<String>, String> {
    match v.and_then(Value::as_str).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(w) => Slug::parse(w)
            .map(|s| Some(s.to_string()))
            .map_err(|_| "workload is not a workload name".into()),
    }
}

/// The generic incident `detail` sent by `source` at `time` (the event's).
pub fn generic(source: &str, detail: &Value, time: Option<&Value>) -> Result<Generic, Invalid> {
    // EventBridge's own bound; the allowed list is checked by the responder.
    if source.chars().count() > 256 {
        return Err(Invalid::new("source", "is longer than 256 characters"));
    }
    if !detail.is_object() {
        return Err(Invalid::new(
            "id",
            "is required (the incident is not a JSON object)",
        ));
    }
    let text = |k: &'static str, max: usize| -> Result<Option<String>, Invalid> {
        match detail.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.chars().count() <= max && !s.chars().any(char::is_control) => {
                Ok(Some(s.clone()))
            }
            Some(_) => Err(Invalid::new(
                k,
                format!("is not text of at most {max} characters"),
            )),
        }
    };
    let id = text("id", 128)?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Invalid::new("id", "is required"))?;
    let impact = match detail.get("impact") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|n| (1..=5).contains(n))
                .and_then(|n| u8::try_from(n).ok())
                .ok_or_else(|| Invalid::new("impact", "must be 1 to 5"))?,
        ),
    };
    let url = text("url", 1000)?;
    if url.as_deref().is_some_and(|u| HttpsUrl::parse(u).is_err()) {
        return Err(Invalid::new("url", "must be an https URL"));
    }
    let strip = |field: &'static str, m: String| {
        let reason = m.strip_prefix(field).unwrap_or(&m).trim_start().to_owned();
        Invalid::new(field, reason)
    };
    Ok(Generic {
        source: source.to_owned(),
        id,
        title: text("title", 200)?.unwrap_or_default(),
        impact,
        workload: workload(detail.get("workload")).map_err(|m| strip("workload", m))?,
        resources: resources(detail.get("resources"), "resources").map_err(|m| strip("resources", m))?,
        url,
        time: time.and_then(Value::as_str).map(str::to_owned),
    })
}

impl Generic {
    /// The incident as a generic `detail`, only the fields it has.
    pub fn detail(&self) -> Value {
        let mut d = json!({"id": self.id, "title": self.title});
        if let Some(i) = self.impact {
            d["impact"] = json!(i);
        }
        if let Some(w) = &self.workload {
            d["workload"] = json!(w);
        }
        if !self.resources.is_empty() {
            d["resources"] = json!(self.resources);
        }
        if let Some(u) = &self.url {
            d["url"] = json!(u);
        }
        d
    }

    /// The `Incident Started` event the responder answers, as EventBridge
    /// would deliver it: this incident's source, `time` and detail.
    pub fn event(&self) -> Value {
        let mut e = json!({
            "source": self.source,
            "detail-type": INCIDENT_STARTED,
            "detail": self.detail(),
        });
        if let Some(t) = &self.time {
            e["time"] = json!(t);
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field_and_the_event_form_prefixes_detail() {
        let e = generic("x", &json!({"id": "1", "impact": 9}), None).unwrap_err();
        assert_eq!(e.field, "impact");
        assert_eq!(e.to_string(), "impact must be 1 to 5");
        assert_eq!(e.in_event(), "detail.impact must be 1 to 5");
        let e = generic("x", &json!({"title": "no id"}), None).unwrap_err();
        assert_eq!(e.to_string(), "id is required");
        let e = generic("x", &json!({"id": "1", "resources": ["nope"]}), None).unwrap_err();
        assert_eq!(e.to_string(), "resources holds something that is not an ARN");
        let e = generic("x", &json!({"id": "1", "workload": "Not A Slug"}), None).unwrap_err();
        assert_eq!(e.to_string(), "workload is not a workload name");
        let e = generic(&"s".repeat(257), &json!({"id": "1"}), None).unwrap_err();
        assert_eq!(e.in_event(), "the event's source is longer than 256 characters");
        assert_eq!(generic("x", &json!([1]), None).unwrap_err().field, "id");
    }

    #[test]
    fn the_event_carries_what_was_validated() {
        let g = generic(
            WEBHOOK_SOURCE,
            &json!({"id": "INC-7", "title": "Payments down", "impact": 2, "extra": true,
                    "resources": "arn:aws:s3:::a, arn:aws:s3:::b", "url": "https://x.example.com/7"}),
            Some(&json!("2026-11-21T10:00:00Z")),
        )
        .unwrap();
        assert_eq!(
            g.event(),
            json!({"source": WEBHOOK_SOURCE, "detail-type": "Incident Started", "time": "2026-11-21T10:00:00Z",
                   "detail": {"id": "INC-7", "title": "Payments down", "impact": 2,
                              "resources": ["arn:aws:s3:::a", "arn:aws:s3:::b"], "url": "https://x.example.com/7"}})
        );
        // What the event carries parses back to the same incident.
        let again = generic(WEBHOOK_SOURCE, &g.event()["detail"], g.event().get("time")).unwrap();
        assert_eq!(again, g);
    }
}
