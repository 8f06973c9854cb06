//! An in-memory incident source and sink: incidents a test opens, the notes
//! and links posted to them (de-duplicated by client token, as Incident
//! Manager does), and faults to inject on the next notes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use crate::pipeline::{IncidentId, ReportedIncident};
use crate::ports::{IncidentSink, IncidentSource, PortError};

/// A note as posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub at: Timestamp,
}

#[derive(Debug, Default)]
struct State {
    incidents: HashMap<String, ReportedIncident>,
    notes: HashMap<String, Vec<Note>>,
    links: HashMap<String, Vec<(String, String)>>,
    tokens: Vec<String>,
    /// The next notes fail with these, in order.
    note_faults: Vec<PortError>,
    /// Reading fails with this while set.
    read_fault: Option<PortError>,
    note_calls: usize,
    /// What `note_limit` says, when set.
    note_limit: Option<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct FakeIncidents {
    state: Arc<Mutex<State>>,
}

impl FakeIncidents {
    pub fn open(&self, incident: ReportedIncident) {
        let key = incident.id.key();
        self.state.lock().unwrap().incidents.insert(key, incident);
    }

    /// The next notes posted fail, one fault each.
    pub fn fail_notes(&self, faults: Vec<PortError>) {
        self.state.lock().unwrap().note_faults = faults;
    }

    /// Reading any incident fails with `fault` (`None`: reads work again).
    pub fn fail_reads(&self, fault: Option<PortError>) {
        self.state.lock().unwrap().read_fault = fault;
    }

    pub fn notes(&self, id: &IncidentId) -> Vec<Note> {
        let state = self.state.lock().unwrap();
        state.notes.get(&id.key()).cloned().unwrap_or_default()
    }

    /// The links posted, as (title, url).
    pub fn links(&self, id: &IncidentId) -> Vec<(String, String)> {
        let state = self.state.lock().unwrap();
        state.links.get(&id.key()).cloned().unwrap_or_default()
    }

    /// The sink's notes take at most `limit` characters (a PagerDuty-like sink).
    pub fn limit_notes(&self, limit: usize) {
        self.state.lock().unwrap().note_limit = Some(limit);
    }

    /// Notes tried, posted or not.
    pub fn note_calls(&self) -> usize {
        self.state.lock().unwrap().note_calls
    }
}

impl IncidentSource for FakeIncidents {
    async fn read(&self, id: &IncidentId) -> Result<Option<ReportedIncident>, PortError> {
        let state = self.state.lock().unwrap();
        if let Some(fault) = &state.read_fault {
            return Err(fault.clone());
        }
        let mut incident = state.incidents.get(&id.key()).cloned();
        if let Some(i) = &mut incident {
            // What it links to now, as Incident Manager's related items say.
            i.related_urls.extend(
                state
                    .links
                    .get(&id.key())
                    .into_iter()
                    .flatten()
                    .map(|(_, u)| u.clone()),
            );
        }
        Ok(incident)
    }

    async fn open_since(&self, since: Timestamp) -> Result<Vec<IncidentId>, PortError> {
        let state = self.state.lock().unwrap();
        let mut open: Vec<&ReportedIncident> = state
            .incidents
            .values()
            .filter(|i| !i.resolved && i.started_at > since)
            .collect();
        open.sort_by_key(|i| i.started_at);
        Ok(open.into_iter().map(|i| i.id.clone()).collect())
    }
}

impl IncidentSink for FakeIncidents {
    fn note_limit(&self, _incident: &IncidentId) -> usize {
        let limit = self.state.lock().unwrap().note_limit;
        limit.unwrap_or(crate::post::MAX_EVENT_DATA)
    }

    async fn note(
        &self,
        id: &IncidentId,
        text: &str,
        at: Timestamp,
        client_token: &str,
    ) -> Result<(), PortError> {
        let mut state = self.state.lock().unwrap();
        state.note_calls += 1;
        if !state.note_faults.is_empty() {
            return Err(state.note_faults.remove(0));
        }
        if let Some(limit) = state.note_limit
            && text.chars().count() > limit
        {
            return Err(PortError::Refused(format!("note over {limit} characters")));
        }
        if state.tokens.iter().any(|t| t == client_token) {
            return Ok(());
        }
        state.tokens.push(client_token.to_owned());
        state.notes.entry(id.key()).or_default().push(Note {
            text: text.to_owned(),
            at,
        });
        Ok(())
    }

    async fn link(
        &self,
        id: &IncidentId,
        title: &str,
        url: &str,
        client_token: &str,
    ) -> Result<(), PortError> {
        let mut state = self.state.lock().unwrap();
        if state.tokens.iter().any(|t| t == client_token) {
            return Ok(());
        }
        state.tokens.push(client_token.to_owned());
        state
            .links
            .entry(id.key())
            .or_default()
            .push((title.to_owned(), url.to_owned()));
        Ok(())
    }
}
