//! A recorder of SDK calls, for measuring how many sequential round trips a
//! piece of code makes (SPEC §10 "incident to post"). Attach [`CallLog`] as
//! an interceptor to a client's config; every attempt of every operation is
//! recorded with its service, operation, start and end.
//!
//! ```ignore
//! let calls = CallLog::default();
//! let conf = aws_sdk_dynamodb::config::Builder::from(&sdk_config).interceptor(calls.clone()).build();
//! let client = aws_sdk_dynamodb::Client::from_conf(conf);
//! ```

use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// One attempt of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub service: String,
    pub operation: String,
    pub start: Instant,
    pub end: Instant,
}

/// The calls recorded so far; clones share one log.
#[derive(Debug, Clone, Default)]
pub struct CallLog {
    calls: Arc<Mutex<Vec<Call>>>,
}

/// When the current attempt started, kept in the operation's config bag.
#[derive(Debug, Clone, Copy)]
struct AttemptStart(Instant);

impl Storable for AttemptStart {
    type Storer = StoreReplace<Self>;
}

impl CallLog {
    /// The interceptor to attach to a client's config (a clone of the log).
    pub fn interceptor(&self) -> Self {
        self.clone()
    }

    /// Every attempt recorded, in the order they ended.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn clear(&self) {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    /// An operation starts when the caller's future first runs it, before
    /// the request is built and signed: a call waits on nothing else from
    /// then on, so the client's own CPU work does not count as another round trip.
    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(AttemptStart(Instant::now()));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let end = Instant::now();
        let start = cfg.load::<AttemptStart>().map_or(end, |s| s.0);
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_owned(), m.name().to_owned()))
            .unwrap_or_default();
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).push(Call {
            service,
            operation,
            start,
            end,
        });
        Ok(())
    }
}

/// For each call, the length of the longest chain of calls ending with it,
/// each starting after the previous one ended (its round trip number).
fn depths(calls: &[Call]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..calls.len()).collect();
    order.sort_by_key(|&i| (calls[i].start, calls[i].end));
    let mut depth = vec![0; calls.len()];
    for (k, &i) in order.iter().enumerate() {
        depth[i] = 1 + order[..k]
            .iter()
            .filter(|&&j| calls[j].end <= calls[i].start)
            .map(|&j| depth[j])
            .max()
            .unwrap_or(0);
    }
    depth
}

/// The length of the longest chain of calls each starting after the previous
/// one ended: how many round trips the calls cost one after the other.
pub fn sequential_depth(calls: &[Call]) -> usize {
    depths(calls).into_iter().max().unwrap_or(0)
}

/// The calls grouped by round trip: the first group needed nothing before
/// it, each later group waited for a call of the group before.
pub fn rounds(calls: &[Call]) -> Vec<Vec<&Call>> {
    let depth = depths(calls);
    let mut rounds: Vec<Vec<&Call>> = vec![Vec::new(); sequential_depth(calls)];
    let mut order: Vec<usize> = (0..calls.len()).collect();
    order.sort_by_key(|&i| calls[i].start);
    for i in order {
        rounds[depth[i] - 1].push(&calls[i]);
    }
    rounds
}

/// Each round trip as its operations, e.g. `GetIncidentRecord‖Query‖PutItem×3`.
pub fn describe_rounds(calls: &[Call]) -> Vec<String> {
    rounds(calls)
        .into_iter()
        .map(|round| {
            let mut ops: Vec<(&str, usize)> = Vec::new();
            for c in round {
                match ops.iter_mut().find(|(op, _)| *op == c.operation) {
                    Some((_, n)) => *n += 1,
                    None => ops.push((&c.operation, 1)),
                }
            }
            ops.iter()
                .map(|(op, n)| {
                    if *n == 1 {
                        (*op).to_owned()
                    } else {
                        format!("{op}×{n}")
                    }
                })
                .collect::<Vec<_>>()
                .join("‖")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn call(op: &str, base: Instant, from: u64, to: u64) -> Call {
        Call {
            service: "test".into(),
            operation: op.into(),
            start: base + Duration::from_millis(from),
            end: base + Duration::from_millis(to),
        }
    }

    #[test]
    fn overlapping_calls_are_one_round_trip_and_waiting_ones_add_one_each() {
        let t = Instant::now();
        let calls = [
            call("A", t, 0, 10),
            call("B", t, 1, 12),
            call("C", t, 12, 20),
            call("D", t, 13, 15),
            call("E", t, 21, 30),
        ];
        assert_eq!(sequential_depth(&calls), 3);
        assert_eq!(describe_rounds(&calls), ["A‖B", "C‖D", "E"]);
        assert_eq!(sequential_depth(&calls[..2]), 1);
        assert_eq!(sequential_depth(&[]), 0);
    }

    #[test]
    fn a_late_call_counts_after_the_one_it_followed() {
        let t = Instant::now();
        // B starts after A ended although both are "first": two round trips.
        let calls = [call("A", t, 0, 5), call("B", t, 6, 8), call("C", t, 0, 9)];
        assert_eq!(sequential_depth(&calls), 2);
        assert_eq!(describe_rounds(&calls), ["A‖C", "B"]);
    }
}
