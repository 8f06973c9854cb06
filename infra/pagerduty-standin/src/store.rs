//! The stand-in's state: services, the account's priorities, incidents and
//! their notes, rendered in the REST API's shapes (PagerDuty OpenAPI
//! `reference/REST/openapiv3.json`: Service, Priority, Incident, IncidentNote).

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::error::PdError;
use crate::util::{now_seconds, pd_id};

/// The five priorities of the API reference's `GET /priorities` example
/// (ids included), most to least severe, as every account starts with.
pub const PRIORITIES: [(&str, &str, &str); 5] = [
    (
        "PSLWBL8",
        "P1",
        "Critical issue that warrants public notification and liaison with executive teams",
    ),
    (
        "P53ZZH5",
        "P2",
        "Critical system issue actively impacting many customers' ability to use the product",
    ),
    (
        "PGE9YCZ",
        "P3",
        "Stability or minor customer-impacting issues that require immediate attention from service owners",
    ),
    (
        "PVJPWYW",
        "P4",
        "Minor issues requiring action, but not affecting customer ability to use the product",
    ),
    (
        "P81SUUT",
        "P5",
        "Cosmetic issues or bugs, not affecting customer ability to use the product",
    ),
];

/// "A maximum of 2000 notes can be added to an incident" (createIncidentNote).
pub const MAX_NOTES: usize = 2000;

/// The escalation policy every service and incident names: the stand-in
/// has no escalation policies of its own.
const POLICY_ID: &str = "PSTANDN";

#[derive(Debug, Clone)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct Note {
    pub id: String,
    pub from: String,
    pub content: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct Incident {
    pub id: String,
    pub number: u64,
    pub title: String,
    pub service_id: String,
    pub priority: Option<usize>,
    pub urgency: String,
    pub status: String,
    pub incident_key: Option<String>,
    pub body: Option<Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_status_change_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub notes: Vec<Note>,
}

#[derive(Debug, Default)]
pub struct Store {
    pub services: BTreeMap<String, Service>,
    pub incidents: BTreeMap<String, Incident>,
    next_number: u64,
}

/// What the caller asked for in `POST /incidents`, already checked.
#[derive(Debug)]
pub struct NewIncident {
    pub title: String,
    pub service_id: String,
    pub priority: Option<usize>,
    pub urgency: Option<String>,
    pub incident_key: Option<String>,
    pub body: Option<Value>,
}

impl Store {
    pub fn add_service(&mut self, name: String, description: Option<String>) -> Service {
        let mut id = pd_id();
        while self.services.contains_key(&id) {
            id = pd_id();
        }
        let s = Service {
            id: id.clone(),
            name,
            description,
            created_at: now_seconds(),
        };
        self.services.insert(id, s.clone());
        s
    }

    pub fn create_incident(&mut self, n: NewIncident) -> Result<Incident, PdError> {
        if !self.services.contains_key(&n.service_id) {
            return Err(PdError::coded(5002, "Service Not Found")
                .detail(format!("No service with id {:?}", n.service_id)));
        }
        if let Some(key) = &n.incident_key
            && self.incidents.values().any(|i| {
                i.service_id == n.service_id && i.status != "resolved" && i.incident_key.as_ref() == Some(key)
            })
        {
            return Err(PdError::invalid(
                "Open incident with matching dedup key already exists on this service",
            ));
        }
        let mut id = pd_id();
        while self.incidents.contains_key(&id) {
            id = pd_id();
        }
        self.next_number += 1;
        let now = now_seconds();
        let incident = Incident {
            id: id.clone(),
            number: self.next_number,
            title: n.title,
            service_id: n.service_id,
            priority: n.priority,
            urgency: n.urgency.unwrap_or_else(|| "high".to_string()),
            status: "triggered".to_string(),
            incident_key: n.incident_key,
            body: n.body,
            created_at: now,
            updated_at: now,
            last_status_change_at: now,
            resolved_at: None,
            notes: Vec::new(),
        };
        self.incidents.insert(id, incident.clone());
        Ok(incident)
    }

    /// By id, or by incident number ("Accepts either an incident id, or an
    /// incident number", getIncident).
    pub fn incident_mut(&mut self, id_or_number: &str) -> Result<&mut Incident, PdError> {
        let number = id_or_number.parse::<u64>().ok();
        self.incidents
            .values_mut()
            .find(|i| i.id == id_or_number || Some(i.number) == number)
            .ok_or_else(|| PdError::not_found().detail(format!("Incident {id_or_number} not found")))
    }

    /// Moves an incident's creation `minutes` into the past.
    pub fn age(&mut self, id: &str, minutes: i64) -> Result<Timestamp, PdError> {
        let i = self.incident_mut(id)?;
        let by = SignedDuration::from_mins(minutes);
        i.created_at = i.created_at.checked_sub(by).unwrap_or(i.created_at);
        if i.status == "triggered" {
            i.last_status_change_at = i.created_at;
        }
        Ok(i.created_at)
    }
}

/// Where the stand-in's resources live, for `self` and `html_url`.
#[derive(Debug, Clone)]
pub struct Links {
    pub base: String,
}

impl Links {
    fn reference(&self, kind: &str, path: &str, id: &str, summary: &str) -> Value {
        let url = format!("{}/{path}/{id}", self.base);
        json!({ "id": id, "type": kind, "summary": summary, "self": url, "html_url": url })
    }

    pub fn policy(&self) -> Value {
        self.reference(
            "escalation_policy_reference",
            "escalation_policies",
            POLICY_ID,
            "Default",
        )
    }

    pub fn service_ref(&self, s: Option<&Service>, id: &str) -> Value {
        self.reference(
            "service_reference",
            "services",
            id,
            s.map_or(id, |s| s.name.as_str()),
        )
    }

    pub fn priority_ref(&self, index: usize) -> Value {
        let (id, name, _) = PRIORITIES[index];
        self.reference("priority_reference", "priorities", id, name)
    }

    pub fn priority(&self, index: usize) -> Value {
        let (id, name, description) = PRIORITIES[index];
        json!({
            "id": id, "type": "priority", "summary": name, "self": format!("{}/priorities/{id}", self.base),
            "name": name, "description": description,
        })
    }

    pub fn user_ref(&self, email: &str) -> Value {
        // One user per From address, with a stable id.
        let id = format!(
            "PU{:05X}",
            email
                .bytes()
                .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
                & 0xFFFFF
        );
        self.reference("user_reference", "users", &id, email)
    }

    pub fn service(&self, s: &Service) -> Value {
        let url = format!("{}/services/{}", self.base, s.id);
        json!({
            "id": s.id, "type": "service", "summary": s.name, "self": url, "html_url": url,
            "name": s.name, "description": s.description, "created_at": s.created_at.to_string(),
            "status": "active", "auto_resolve_timeout": null, "acknowledgement_timeout": null,
            "alert_creation": "create_alerts_and_incidents", "escalation_policy": self.policy(),
            "teams": [], "integrations": [],
            "incident_urgency_rule": { "type": "constant", "urgency": "high" },
        })
    }

    /// The Incident resource (createIncident / getIncident / updateIncident).
    pub fn incident(&self, i: &Incident, services: &BTreeMap<String, Service>) -> Value {
        let url = format!("{}/incidents/{}", self.base, i.id);
        let mut v = json!({
            "id": i.id, "type": "incident", "summary": format!("[#{}] {}", i.number, i.title),
            "self": url, "html_url": url, "incident_number": i.number, "title": i.title,
            "created_at": i.created_at.to_string(), "updated_at": i.updated_at.to_string(),
            "status": i.status, "incident_key": i.incident_key,
            "service": self.service_ref(services.get(&i.service_id), &i.service_id),
            "priority": i.priority.map(|p| self.priority_ref(p)),
            "urgency": i.urgency, "assigned_via": "escalation_policy", "assignments": [],
            "acknowledgements": [], "resolved_at": i.resolved_at.map(|t| t.to_string()),
            "last_status_change_at": i.last_status_change_at.to_string(),
            "escalation_policy": self.policy(), "teams": [],
        });
        if let Some(body) = &i.body {
            v["body"] = body.clone();
        }
        v
    }

    /// The incident as a V3 webhook's `event.data` carries it (the
    /// "incident" event data type).
    pub fn webhook_incident(&self, i: &Incident, services: &BTreeMap<String, Service>) -> Value {
        let url = format!("{}/incidents/{}", self.base, i.id);
        json!({
            "id": i.id, "type": "incident", "self": url, "html_url": url, "number": i.number,
            "status": i.status, "incident_key": i.incident_key, "created_at": i.created_at.to_string(),
            "title": i.title, "service": self.service_ref(services.get(&i.service_id), &i.service_id),
            "assignees": [], "escalation_policy": self.policy(), "teams": [],
            "priority": i.priority.map(|p| self.priority_ref(p)), "urgency": i.urgency,
            "conference_bridge": null, "resolve_reason": null,
        })
    }

    pub fn note(&self, n: &Note) -> Value {
        json!({
            "id": n.id, "user": self.user_ref(&n.from),
            "channel": { "summary": "The PagerDuty website or APIs" },
            "content": n.content, "created_at": n.created_at.to_string(),
            "updated_at": n.created_at.to_string(),
        })
    }
}
