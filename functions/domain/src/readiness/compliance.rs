//! The AWS Config rule's evaluation of the account (SPEC §15), as data: the
//! readiness figures → COMPLIANT or NON_COMPLIANT, with an annotation of at
//! most 256 characters naming the worst gaps first; and [`report`], the
//! rule's one invocation: read the snapshot, evaluate, put the evaluation.
//!
//! COMPLIANT when every active workload relies on an active plan, no contact
//! is overdue for verification and every tier-1 workload has a 24x7 channel.
//! The snapshot counts the overdue contacts of every active plan, not only
//! of the plans a workload relies on: a plan nobody relies on with an overdue
//! contact makes the account NON_COMPLIANT too. Two decisions beyond SPEC
//! §15: no active workload at all is NON_COMPLIANT (nothing shows the
//! practice in place), and figures older than [`STALE_AFTER_DAYS`] are
//! NON_COMPLIANT (the freshness check stopped; what it last saw says nothing
//! of today). Without a snapshot (neither a freshness run nor a
//! `GET /readiness` has written one yet) nothing is put: Config's own answer
//! for a rule without results is INSUFFICIENT_DATA, which `PutEvaluations`
//! refuses from a rule's function.

use std::future::Future;

use jiff::Timestamp;
use serde::Serialize;

use super::{Readiness, ReadinessSnapshots};
use crate::ports::{PortError, StoreError};
use crate::wire::wire_enum;

/// Config's limit on an annotation (`StringWithCharLimit256`), in characters.
pub const MAX_ANNOTATION_CHARS: usize = 256;

/// Figures older than this many days are not the account's state: the
/// freshness check runs every weekday by default, and weekly at the least.
pub const STALE_AFTER_DAYS: i64 = 8;

/// The resource the rule evaluates: the account itself.
pub const ACCOUNT_RESOURCE_TYPE: &str = "AWS::::Account";

wire_enum! {
    /// An evaluation's `ComplianceType`: the two a rule's function may put
    /// for the account (Config refuses INSUFFICIENT_DATA from it).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Compliance {
        Compliant = "COMPLIANT",
        NonCompliant = "NON_COMPLIANT",
    }
}

/// The account's evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub compliance: Compliance,
    /// At most [`MAX_ANNOTATION_CHARS`] characters, never empty.
    pub annotation: String,
}

/// One gap: whether it makes the account NON_COMPLIANT, and its words.
struct Gap {
    judged: bool,
    text: String,
}

fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The gaps of `r` at `now`, worst first: those the rule judges on, then
/// the ones an operations lead would want named beside them.
fn gaps(r: &Readiness, now: Timestamp) -> Vec<Gap> {
    let mut out = Vec::new();
    let mut judged = |text: String| out.push(Gap { judged: true, text });
    let age_days = now.duration_since(r.as_of).as_hours() / 24;
    if age_days > STALE_AFTER_DAYS {
        judged(format!(
            "Figures {age_days} days old (as of {}): the freshness check has not run since",
            r.as_of.strftime("%Y-%m-%d")
        ));
    }
    if r.workloads == 0 {
        judged("No active workload is registered, so none is known to rely on a support plan".into());
    }
    if r.tier1_workloads_without_24x7 > 0 {
        judged(format!(
            "{} without a 24x7 support channel",
            count(
                r.tier1_workloads_without_24x7,
                "tier-1 workload",
                "tier-1 workloads"
            )
        ));
    }
    if r.workloads_without_active_plan > 0 {
        judged(format!(
            "{} of {} without an active support plan",
            r.workloads_without_active_plan,
            count(r.workloads, "workload", "workloads")
        ));
    }
    if r.contacts_overdue > 0 {
        judged(format!(
            "{} of {} overdue for verification",
            r.contacts_overdue,
            count(r.contacts, "contact", "contacts")
        ));
    }
    let mut also = |n: u64, one: &str, many: &str| {
        if n > 0 {
            out.push(Gap {
                judged: false,
                text: count(n, one, many),
            });
        }
    };
    also(
        r.owners_unreachable,
        "plan owner not reached by reminders",
        "plan owners not reached by reminders",
    );
    also(r.contracts_lapsed, "lapsed contract", "lapsed contracts");
    also(
        r.plans_due_for_review,
        "plan due for review",
        "plans due for review",
    );
    out
}

/// The account's evaluation from the figures `r`, at `now` (when Config
/// triggered the rule).
pub fn evaluate(r: &Readiness, now: Timestamp) -> Evaluation {
    let gaps = gaps(r, now);
    let (judged, also): (Vec<&Gap>, Vec<&Gap>) = gaps.iter().partition(|g| g.judged);
    let join = |g: &[&Gap]| g.iter().map(|g| g.text.as_str()).collect::<Vec<_>>().join("; ");
    let (compliance, mut text) = if judged.is_empty() {
        (
            Compliance::Compliant,
            format!(
                "Every workload ({}) relies on an active plan, every tier-1 one has a 24x7 channel \
                 and no contact ({}) is overdue for verification.",
                r.workloads, r.contacts
            ),
        )
    } else {
        (Compliance::NonCompliant, format!("{}.", join(&judged)))
    };
    if !also.is_empty() {
        text.push_str(&format!(" Also: {}.", join(&also)));
    }
    Evaluation {
        compliance,
        annotation: fit(&text, MAX_ANNOTATION_CHARS),
    }
}

/// `text` if it has at most `max` characters; else cut after a whole word
/// and ended with an ellipsis, `max` characters at most.
pub fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let room = max.saturating_sub(1);
    let mut end = 0;
    let mut last_space = None;
    for (i, (at, c)) in text.char_indices().enumerate() {
        if i > room {
            break;
        }
        if c == ' ' {
            last_space = Some(at);
        }
        if i < room {
            end = at + c.len_utf8();
        }
    }
    let kept = match last_space {
        Some(at) => &text[..at],
        None => &text[..end],
    };
    format!("{}…", kept.trim_end_matches([' ', ';', ',', ':', '.']))
}

/// One invocation of the rule, as Config sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInvocation {
    /// The account evaluated (`awsAccountId`).
    pub account_id: String,
    /// When Config triggered the evaluation (`notificationCreationTime`):
    /// the evaluation's `OrderingTimestamp`, and the "now" of the figures' age.
    pub notified_at: Timestamp,
    /// Identifies the rule and the event; the evaluation goes back with it.
    pub result_token: String,
}

/// The evaluation of one resource, as `PutEvaluations` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceEvaluation {
    pub resource_type: &'static str,
    pub resource_id: String,
    pub compliance: Compliance,
    pub annotation: String,
    pub ordering: Timestamp,
}

/// Where evaluations go: AWS Config.
pub trait Evaluations: Send + Sync {
    /// `PutEvaluations` of `evaluation` with `result_token`. `Refused` when
    /// Config will refuse it again (an unknown token or rule, access
    /// denied, an invalid value), `Retry` otherwise (throttling, 5xx, an
    /// evaluation Config answered as failed).
    fn put(
        &self,
        result_token: &str,
        evaluation: &ResourceEvaluation,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// What an invocation reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reported", rename_all = "snake_case")]
pub enum Reported {
    /// The account's evaluation, put.
    Evaluation(ResourceEvaluation),
    /// No snapshot yet (no freshness run has written one): nothing put.
    Nothing { why: String },
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The snapshot could not be read: nothing was put.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Config did not take the evaluation.
    #[error("PutEvaluations: {0}")]
    Put(PortError),
}

/// The rule's invocation: one snapshot read, the evaluation of the account,
/// one `PutEvaluations`.
pub async fn report(
    snapshots: &impl ReadinessSnapshots,
    evaluations: &impl Evaluations,
    invocation: &RuleInvocation,
) -> Result<Reported, ReportError> {
    let Some(stored) = snapshots.load_snapshot().await? else {
        return Ok(Reported::Nothing {
            why: "no readiness snapshot yet (the first freshness run writes it); \
                  Config shows the rule's result as INSUFFICIENT_DATA until then"
                .into(),
        });
    };
    let Evaluation {
        compliance,
        annotation,
    } = evaluate(&stored.readiness, invocation.notified_at);
    let evaluation = ResourceEvaluation {
        resource_type: ACCOUNT_RESOURCE_TYPE,
        resource_id: invocation.account_id.clone(),
        compliance,
        annotation,
        ordering: invocation.notified_at,
    };
    evaluations
        .put(&invocation.result_token, &evaluation)
        .await
        .map_err(ReportError::Put)?;
    Ok(Reported::Evaluation(evaluation))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_text_is_kept_whole() {
        assert_eq!(fit("two words", 9), "two words");
    }

    #[test]
    fn a_long_text_is_cut_after_a_word_counting_characters() {
        assert_eq!(fit("éé ééé éééé", 9), "éé ééé…");
        assert_eq!(fit("one; two; three", 12), "one; two…");
        // One word longer than the limit: cut inside it.
        assert_eq!(fit("abcdefghij", 5), "abcd…");
    }
}
