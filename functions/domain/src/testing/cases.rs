//! An in-memory [`SupportCases`] (SPEC §13): keeps every case opened with the
//! marker it carries, finds a case by its marker as the adapter does, and
//! can be told to refuse (no Business support) or to fail for a while.

use std::sync::{Arc, Mutex};

use crate::case::{CaseOpened, CaseRequest, SupportCases, console_url};
use crate::ports::PortError;

#[derive(Debug, Default)]
struct State {
    opened: Vec<(CaseRequest, String)>,
    refuse: Option<String>,
    fail_next: u32,
    calls: u32,
}

#[derive(Debug, Clone, Default)]
pub struct FakeCases {
    state: Arc<Mutex<State>>,
}

impl FakeCases {
    /// Every case opened, with its marker.
    pub fn opened(&self) -> Vec<(CaseRequest, String)> {
        self.state.lock().unwrap().opened.clone()
    }

    /// Every call refused with `reason` from now on.
    pub fn refuse(&self, reason: &str) {
        self.state.lock().unwrap().refuse = Some(reason.to_owned());
    }

    /// The next `n` calls open the case and then fail with a transient
    /// error (an answer lost on the way back): a retry must find the case.
    pub fn fail_next(&self, n: u32) {
        self.state.lock().unwrap().fail_next = n;
    }

    pub fn calls(&self) -> u32 {
        self.state.lock().unwrap().calls
    }
}

impl SupportCases for FakeCases {
    async fn open_case(&self, request: &CaseRequest, marker: &str) -> Result<CaseOpened, PortError> {
        let mut s = self.state.lock().unwrap();
        s.calls += 1;
        if let Some(reason) = &s.refuse {
            return Err(PortError::Refused(reason.clone()));
        }
        let found = s.opened.iter().position(|(_, m)| m == marker);
        let index = match found {
            Some(i) => i,
            None => {
                s.opened.push((request.clone(), marker.to_owned()));
                s.opened.len() - 1
            }
        };
        if s.fail_next > 0 {
            // Opened, but the answer is lost: a retry must find it.
            s.fail_next -= 1;
            return Err(PortError::Retry("Support: the answer was lost".into()));
        }
        let display_id = format!("{}", 1_000_000_000 + index);
        Ok(CaseOpened {
            case_id: format!("case-123456789012-2026-{index:016x}"),
            url: console_url(&display_id),
            display_id: Some(display_id),
            found: found.is_some(),
        })
    }
}
