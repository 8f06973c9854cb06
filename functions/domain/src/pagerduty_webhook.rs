//! The PagerDuty Webhooks V3 envelope (SPEC §11,
//! <https://developer.pagerduty.com/docs/webhooks-overview>), read only as
//! far as the edge needs: `event.event_type`, and for `incident.triggered`
//! the event's id and the incident's (`event.id`, `event.data.id`). The
//! responder reads the incident itself from PagerDuty's REST API, so
//! nothing else of the body is believed. Called after the signature is
//! verified.

use serde_json::{Value, json};

/// The one event type handed to the responder.
pub const INCIDENT_TRIGGERED: &str = "incident.triggered";
/// PagerDuty ids (`PGR0VU2`, `01DEN4HPBOGPUA5ZZQJHXAVZKS`) are short
/// alphanumerics; anything longer is not one (the rule of
/// [`crate::pagerduty::incident_id`], which the responder applies again).
pub use crate::pagerduty::MAX_ID_CHARS;
/// The longest webhook event id taken (the responder takes 128 too).
pub const MAX_EVENT_ID_CHARS: usize = 128;
/// Event types are short dotted names (`incident.priority_updated`).
pub const MAX_EVENT_TYPE_CHARS: usize = 64;

/// A verified delivery, as the edge answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PagerDutyEvent {
    /// `incident.triggered`: handed to the responder.
    Triggered { event_id: String, incident_id: String },
    /// Any other event type: answered 202 and ignored.
    Other { event_type: String },
}

/// Why a verified body is refused (400): the field, by its JSON path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the body is not JSON")]
    NotJson,
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("{field} {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
}

impl EnvelopeError {
    /// The field at fault (`body` when it is the whole body).
    pub fn field(&self) -> &'static str {
        match self {
            Self::NotJson => "body",
            Self::Missing(f) | Self::Invalid { field: f, .. } => f,
        }
    }
}

fn text<'a>(event: &'a Value, pointer: &str, field: &'static str) -> Result<&'a str, EnvelopeError> {
    let value = event.pointer(pointer).ok_or(EnvelopeError::Missing(field))?;
    value.as_str().ok_or(EnvelopeError::Invalid {
        field,
        reason: "is not a string",
    })
}

/// The incident's id: it goes into the responder's REST calls' paths.
fn incident_id(event: &Value) -> Result<String, EnvelopeError> {
    let s = text(event, "/event/data/id", "event.data.id")?;
    crate::pagerduty::incident_id(s)
        .map(str::to_owned)
        .map_err(|_| EnvelopeError::Invalid {
            field: "event.data.id",
            reason: "is not a PagerDuty id (1 to 64 letters and digits)",
        })
}

/// The event's id, only ever logged: PagerDuty documents no format for it
/// (its example is a 26-character ULID-like `01DEN4HPBOGPUA5ZZQJHXAVZKS`),
/// so any short token of letters, digits, `-` and `_` is taken.
fn event_id(event: &Value) -> Result<String, EnvelopeError> {
    let s = text(event, "/event/id", "event.id")?;
    if s.is_empty()
        || s.len() > MAX_EVENT_ID_CHARS
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(EnvelopeError::Invalid {
            field: "event.id",
            reason: "is not an event id (1 to 128 letters, digits, '-' and '_')",
        });
    }
    Ok(s.to_owned())
}

/// The envelope of a verified V3 delivery's raw `body`.
pub fn parse(body: &[u8]) -> Result<PagerDutyEvent, EnvelopeError> {
    let v: Value = serde_json::from_slice(body).map_err(|_| EnvelopeError::NotJson)?;
    let event_type = v
        .pointer("/event/event_type")
        .ok_or(EnvelopeError::Missing("event.event_type"))?;
    let event_type = event_type
        .as_str()
        .filter(|t| {
            !t.is_empty()
                && t.len() <= MAX_EVENT_TYPE_CHARS
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
        })
        .ok_or(EnvelopeError::Invalid {
            field: "event.event_type",
            reason: "is not an event type (1 to 64 letters, digits, '.' and '_')",
        })?;
    if event_type != INCIDENT_TRIGGERED {
        return Ok(PagerDutyEvent::Other {
            event_type: event_type.to_owned(),
        });
    }
    Ok(PagerDutyEvent::Triggered {
        event_id: event_id(&v)?,
        incident_id: incident_id(&v)?,
    })
}

/// What the responder is invoked with for a triggered incident (the
/// contract of issue 15): `{"pagerduty": {"incident_id", "event_id"}}`.
pub fn hand_off(event_id: &str, incident_id: &str) -> Value {
    json!({"pagerduty": {"incident_id": incident_id, "event_id": event_id}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Vec<u8> {
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn a_triggered_incident_gives_its_ids() {
        // The shape of PagerDuty's documented example delivery.
        let b = body(
            json!({"event": {"id": "01DEN4HPBOGPUA5ZZQJHXAVZKS", "event_type": "incident.triggered",
            "resource_type": "incident", "occurred_at": "2020-10-02T18:45:22.169Z",
            "data": {"id": "PGR0VU2", "type": "incident", "title": "A little bump in the road"}}}),
        );
        assert_eq!(
            parse(&b).unwrap(),
            PagerDutyEvent::Triggered {
                event_id: "01DEN4HPBOGPUA5ZZQJHXAVZKS".into(),
                incident_id: "PGR0VU2".into()
            }
        );
        assert_eq!(
            hand_off("E1", "PGR0VU2"),
            json!({"pagerduty": {"incident_id": "PGR0VU2", "event_id": "E1"}})
        );
    }

    #[test]
    fn other_types_are_named_and_nothing_else_is_read() {
        let b = body(json!({"event": {"event_type": "incident.acknowledged"}}));
        assert_eq!(
            parse(&b).unwrap(),
            PagerDutyEvent::Other {
                event_type: "incident.acknowledged".into()
            }
        );
        let b = body(json!({"event": {"event_type": "pagey.ping"}}));
        assert!(matches!(parse(&b).unwrap(), PagerDutyEvent::Other { .. }));
    }

    #[test]
    fn an_event_id_may_be_a_uuid_or_a_ulid() {
        for event_id in [
            "01DEN4HPBOGPUA5ZZQJHXAVZKS",
            "0f76ba5e-1fd4-43b9-b1e7-c9635169e73d",
        ] {
            let b = body(
                json!({"event": {"id": event_id, "event_type": "incident.triggered", "data": {"id": "PGR0VU2"}}}),
            );
            assert!(
                matches!(parse(&b), Ok(PagerDutyEvent::Triggered { .. })),
                "{event_id}"
            );
        }
        let b = body(
            json!({"event": {"id": "a b", "event_type": "incident.triggered", "data": {"id": "PGR0VU2"}}}),
        );
        assert_eq!(parse(&b).unwrap_err().field(), "event.id");
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (b"not json".to_vec(), "body"),
            (body(json!({"event": {}})), "event.event_type"),
            (body(json!({"event": {"event_type": 3}})), "event.event_type"),
            (body(json!({"event": {"event_type": "a b"}})), "event.event_type"),
            (
                body(json!({"event": {"event_type": "incident.triggered", "data": {"id": "P1"}}})),
                "event.id",
            ),
            (
                body(json!({"event": {"id": "E1", "event_type": "incident.triggered"}})),
                "event.data.id",
            ),
            (
                body(
                    json!({"event": {"id": "E1", "event_type": "incident.triggered", "data": {"id": "../x"}}}),
                ),
                "event.data.id",
            ),
            (
                body(
                    json!({"event": {"id": "E".repeat(129), "event_type": "incident.triggered", "data": {"id": "P1"}}}),
                ),
                "event.id",
            ),
        ];
        for (b, field) in cases {
            let e = parse(&b).unwrap_err();
            assert_eq!(e.field(), field, "{e}");
            assert!(e.to_string().contains(field), "{e}");
        }
    }
}
