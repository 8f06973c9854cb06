//! The claims of one incident's answer (SPEC §4 "Exactly once"): what each
//! part of it is called, what the claim store holds of it, and what is
//! written back after posting.

use std::collections::{BTreeMap, BTreeSet};

/// The part that adds the incident to the day's count.
pub const COUNTED: &str = "COUNTED";
/// The note saying no workload matched.
pub const UNMATCHED: &str = "NOTE#unmatched";

pub fn note_part(plan: &str) -> String {
    format!("NOTE#{plan}")
}

/// A plan's related items (its portal links).
pub fn link_part(plan: &str) -> String {
    format!("LINK#{plan}")
}

/// The vendor's case opened for a plan (SPEC §13), and its note.
pub fn case_part(plan: &str) -> String {
    format!("CASE#{plan}")
}

pub fn chat_part(topic: &str) -> String {
    format!("CHAT#{topic}")
}

pub fn is_chat_part(part: &str) -> bool {
    part.starts_with("CHAT#")
}

/// The no-plan note's part for one matched workload.
pub fn no_plan_part(workload: &str) -> String {
    format!("NOTE#noplan#{workload}")
}

/// One part as claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Ours: post, then settle it as done, refused or given back.
    Acquired,
    /// Already posted, or refused for good (not tried again).
    Done,
    /// Another invocation holds it now.
    Busy,
}

/// One incident's claims as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimState {
    /// The store's version of the claims; `None`: nothing stored yet.
    pub version: Option<u64>,
    pub done: BTreeSet<String>,
    /// Parts a service refused for good (a chat topic that is gone, ...).
    pub refused: BTreeSet<String>,
    /// Part → end of its lease (epoch seconds).
    pub leases: BTreeMap<String, i64>,
    pub complete: bool,
}

impl ClaimState {
    /// Posted, or refused for good: nothing more to do for `part`.
    pub fn is_done(&self, part: &str) -> bool {
        self.done.contains(part) || self.refused.contains(part)
    }

    /// Refused for good by the service it goes to.
    pub fn is_refused(&self, part: &str) -> bool {
        self.refused.contains(part)
    }

    /// Every part of the answer was posted (the sweep skips the incident).
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// How `part` may be claimed at `now` (epoch seconds).
    pub fn claim(&self, part: &str, now: i64) -> Claim {
        if self.is_done(part) {
            Claim::Done
        } else if self.leases.get(part).is_some_and(|&until| until > now) {
            Claim::Busy
        } else {
            Claim::Acquired
        }
    }
}

/// What one answer writes back, in one write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settlement {
    /// Posted (or nothing left to post): done.
    pub done: Vec<String>,
    /// Refused for good: recorded, never taken again.
    pub refused: Vec<String>,
    /// Failed or unused: given back, so a retry may take them at once.
    pub released: Vec<String>,
    /// Nothing is left of the answer: the sweep skips the incident.
    pub complete: bool,
}

impl Settlement {
    /// Parts given back, nothing else.
    pub fn release(parts: Vec<String>) -> Self {
        Self {
            released: parts,
            ..Self::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.done.is_empty() && self.refused.is_empty() && self.released.is_empty() && !self.complete
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_is_done_busy_while_leased_to_another_and_free_once_its_lease_ran_out() {
        let state = ClaimState {
            version: Some(3),
            done: ["NOTE#a".to_owned()].into(),
            refused: ["CHAT#gone".to_owned()].into(),
            leases: [("NOTE#b".to_owned(), 100), ("NOTE#c".to_owned(), 50)].into(),
            complete: false,
        };
        assert_eq!(state.claim("NOTE#a", 60), Claim::Done);
        assert_eq!(
            state.claim("CHAT#gone", 60),
            Claim::Done,
            "refused: never taken again"
        );
        assert!(state.is_refused("CHAT#gone") && !state.is_refused("NOTE#a"));
        assert_eq!(state.claim("NOTE#b", 60), Claim::Busy);
        assert_eq!(state.claim("NOTE#c", 60), Claim::Acquired, "its lease ran out");
        assert_eq!(state.claim("NOTE#d", 60), Claim::Acquired);
        assert_eq!(ClaimState::default().claim("NOTE#a", 0), Claim::Acquired);
    }
}
