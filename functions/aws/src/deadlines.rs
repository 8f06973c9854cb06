//! The incident responder's time budget, stated once (SPEC §4 "Exactly once,
//! whatever the retries"): how long one SDK call may take, how long the
//! function may run (`template.yaml`'s `IncidentResponderFunction.Timeout`,
//! which a test holds to [`RESPONDER_TIMEOUT`]), and how long a claimed part
//! stays leased ([`LEASE`]). The webhook edge's budget (SPEC §11) is at the
//! end ([`hooks_timeouts`]), with that of the routes where people and portals
//! mark a vendor as responding (SPEC §13, [`responded_timeouts`]).
//!
//! The arithmetic:
//!
//! - one call: attempts of at most [`ATTEMPT_TIMEOUT`] (10 s; the connection
//!   within [`crate::sdk::CONNECT_TIMEOUT`], 3 s), retried with backoff
//!   (throttling, 5xx, timeouts) up to [`crate::sdk::MAX_ATTEMPTS`], all of it
//!   cut at [`OPERATION_TIMEOUT`] (20 s) whatever is left; PagerDuty's
//!   calls ([`crate::pagerduty`], not the SDK's) keep to the same budget: one
//!   port call (the token's read and the incident's `GET`; a note's list and
//!   post) within [`OPERATION_TIMEOUT`], each attempt within
//!   [`ATTEMPT_TIMEOUT`], a `Retry-After` that would overrun it not waited for;
//! - one incident: at most [`SEQUENTIAL_CALLS`] (6) calls one after the other
//!   (the incident ‖ workloads ‖ claim item; the claim write, twice if another
//!   invocation wrote in between, and the read between; the posts; the
//!   settling write), so 6 × 20 s = 120 s = [`RESPONDER_TIMEOUT`], the
//!   function's timeout: an answer whose every call runs to its deadline
//!   still ends before Lambda stops it;
//! - a lease is counted from the invocation's start (the `now` the handler
//!   is given), so whatever the invocation did before, it is stopped by
//!   Lambda at start + 120 s; [`LEASE`] = 120 s + [`LEASE_MARGIN`] (60 s, for
//!   clocks of two hosts apart and a request still on the wire when Lambda
//!   stops the invocation) = 180 s. No invocation that may still post a part
//!   can lose its lease; a part whose invocation died is taken over 3
//!   minutes after that invocation started, within the next sweep (every 10
//!   minutes by default).
//!
//! The AWS Support case (SPEC §13) takes more calls in a row than a post
//! (the marker's lookup, `CreateCase`, the display id, then its note), and a
//! sweep follows up many incidents: neither is bounded by 6 × 20 s. Both are
//! claimed parts under the same lease, so what the timeout cuts short is
//! finished by the retry (a case is found by its marker, never opened twice)
//! and never posted twice. PagerDuty's incident list, one port call, keeps to
//! [`OPERATION_TIMEOUT`] like its other calls.
//!
//! What this cannot cover: an invocation stopped (timeout, crash) after SNS
//! accepted a chat message and before its claim recorded it as done. SNS
//! `Publish` has no idempotency token, so the invocation that takes the part
//! over after the lease sends that message a second time. Notes and related
//! items do not duplicate that way: their client tokens make Incident
//! Manager answer the retry as a replay.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;

use crate::sdk::CONNECT_TIMEOUT;

/// One attempt of one call of the responder.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// One call of the responder, every attempt and backoff included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);
/// The most calls one incident's answer makes one after the other.
pub const SEQUENTIAL_CALLS: u32 = 6;
/// The function's timeout (`template.yaml`, `IncidentResponderFunction`).
pub const RESPONDER_TIMEOUT: Duration =
    Duration::from_secs(OPERATION_TIMEOUT.as_secs() * SEQUENTIAL_CALLS as u64);
/// What a lease adds to the function's timeout.
pub const LEASE_MARGIN: Duration = Duration::from_secs(60);
/// How long a claimed part is the claiming invocation's, from its start.
pub const LEASE: Duration = Duration::from_secs(RESPONDER_TIMEOUT.as_secs() + LEASE_MARGIN.as_secs());

/// The responder's SDK timeouts: [`CONNECT_TIMEOUT`], [`ATTEMPT_TIMEOUT`],
/// [`OPERATION_TIMEOUT`].
pub fn responder_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

// ---- The webhook edge (SPEC §11, function `incident-hooks`) ------------------
//
// PagerDuty gives a delivery 5 s before it counts it failed (and API Gateway
// 29 s). `POST /hooks/pagerduty` makes at most two calls one after the other
// (the secret, once per process and five minutes; the hand-off), `POST
// /hooks/incident` at most four (the secret, whether the id was handed off
// before, the hand-off, the id recorded): 2 × 1.5 s = 3 s and 4 × 1.5 s = 6 s.
// An attempt of these small calls normally takes tens of milliseconds.

/// A connection of the webhook edge not made within this is given up.
pub const HOOKS_CONNECT_TIMEOUT: Duration = Duration::from_millis(800);
/// One attempt of one call of the webhook edge.
pub const HOOKS_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
/// One call of the webhook edge, retries and backoff included.
pub const HOOKS_OPERATION_TIMEOUT: Duration = Duration::from_millis(1500);
/// The most calls one delivery makes one after the other.
pub const HOOKS_SEQUENTIAL_CALLS: u32 = 4;
/// The function's timeout (`template.yaml`, `IncidentHooksFunction`, which a
/// test holds to it): every call of either kind of route at its deadline
/// still ends before Lambda stops it, and before API Gateway's 29 s.
pub const HOOKS_TIMEOUT: Duration = Duration::from_secs(25);

/// The webhook edge's SDK timeouts.
pub fn hooks_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(HOOKS_CONNECT_TIMEOUT)
        .operation_attempt_timeout(HOOKS_ATTEMPT_TIMEOUT)
        .operation_timeout(HOOKS_OPERATION_TIMEOUT)
        .build()
}

// ---- The responded routes (SPEC §13, function `incident-hooks`) -------------
//
// `POST /responded/{token}` (a person's click) and `POST
// /incidents/{incident}/plans/{plan}/responded` (a portal's call) are not
// deliveries their sender gives up on after 5 s: only API Gateway's 29 s
// bounds them, and an answer of 503 makes a person try again by hand. So the
// table and the links' keys are called with longer deadlines there than on
// the webhook routes, and a storage hiccup of a second or two is waited out.
// A mark makes at most [`RESPONDED_SEQUENTIAL_CALLS`] (4) such calls one
// after the other (the links' keys, once per process and five minutes;
// whether the plan's note was posted; the mark; the first mark read back),
// then the hand-off on the webhooks' deadline (its failure is only logged:
// the responder's sweep posts the note later): 4 × 5 s + 1.5 s = 21.5 s,
// under [`HOOKS_TIMEOUT`].

/// One attempt of one call of the responded routes.
pub const RESPONDED_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// One call of the responded routes, retries and backoff included.
pub const RESPONDED_OPERATION_TIMEOUT: Duration = Duration::from_secs(5);
/// The most calls one mark makes one after the other, the hand-off aside.
pub const RESPONDED_SEQUENTIAL_CALLS: u32 = 4;

/// The responded routes' SDK timeouts (the connection: the webhooks').
pub fn responded_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(HOOKS_CONNECT_TIMEOUT)
        .operation_attempt_timeout(RESPONDED_ATTEMPT_TIMEOUT)
        .operation_timeout(RESPONDED_OPERATION_TIMEOUT)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_outlives_the_function_and_the_function_every_call_on_the_path() {
        assert!(CONNECT_TIMEOUT < ATTEMPT_TIMEOUT);
        assert!(
            ATTEMPT_TIMEOUT < OPERATION_TIMEOUT,
            "a stalled attempt leaves room for a retry"
        );
        assert!(OPERATION_TIMEOUT * SEQUENTIAL_CALLS <= RESPONDER_TIMEOUT);
        assert!(LEASE > RESPONDER_TIMEOUT);
        assert_eq!(LEASE, Duration::from_secs(180));
        // A lease must end well before the next default sweep comes back.
        assert!(LEASE < Duration::from_secs(10 * 60));
        let t = responder_timeouts();
        assert_eq!(t.operation_timeout(), Some(OPERATION_TIMEOUT));
        assert_eq!(t.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
    }

    #[test]
    fn a_webhook_delivery_is_answered_within_the_senders_deadlines() {
        assert!(HOOKS_CONNECT_TIMEOUT < HOOKS_ATTEMPT_TIMEOUT);
        assert!(HOOKS_ATTEMPT_TIMEOUT < HOOKS_OPERATION_TIMEOUT);
        // PagerDuty: the secret and the hand-off, well within its 5 s.
        assert!(HOOKS_OPERATION_TIMEOUT * 2 <= Duration::from_secs(3));
        // API Gateway's 29 s, and the function's own timeout.
        assert!(HOOKS_OPERATION_TIMEOUT * HOOKS_SEQUENTIAL_CALLS < HOOKS_TIMEOUT);
        assert!(HOOKS_TIMEOUT < Duration::from_secs(29));
        let t = hooks_timeouts();
        assert_eq!(t.operation_timeout(), Some(HOOKS_OPERATION_TIMEOUT));
    }

    #[test]
    fn a_mark_waits_longer_than_a_webhook_and_still_ends_before_the_function() {
        assert!(HOOKS_ATTEMPT_TIMEOUT < RESPONDED_ATTEMPT_TIMEOUT);
        assert!(RESPONDED_ATTEMPT_TIMEOUT < RESPONDED_OPERATION_TIMEOUT);
        assert!(
            RESPONDED_OPERATION_TIMEOUT * RESPONDED_SEQUENTIAL_CALLS + HOOKS_OPERATION_TIMEOUT
                < HOOKS_TIMEOUT
        );
        let t = responded_timeouts();
        assert_eq!(t.operation_attempt_timeout(), Some(RESPONDED_ATTEMPT_TIMEOUT));
        assert_eq!(t.operation_timeout(), Some(RESPONDED_OPERATION_TIMEOUT));
    }
}
