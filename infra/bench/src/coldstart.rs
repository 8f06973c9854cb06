//! Cold start, CPU time and peak RSS of one binary: spawn it as Lambda
//! would (its environment, the Runtime API's address), time spawn → its
//! first `/next`, serve it one event, and read its CPU time (utime + stime)
//! and peak RSS (`VmHWM`) while it waits on the second `/next`. A run whose
//! invocation fails is an error, not a figure.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::runtime_api::{Report, RuntimeApi};

/// How a response is judged correct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Any response (not `/error`, not `/init/error`).
    Answered,
    /// An API Gateway proxy response with this `statusCode`.
    Status(u16),
}

#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub bin: PathBuf,
    pub env: Vec<(String, String)>,
    pub event: Value,
    pub check: Check,
    /// How long the invocation may take (30 s unless set: the freshness
    /// check over 10,000 plans takes longer against moto).
    pub invoke_timeout: Duration,
}

impl Target {
    pub fn new(name: &str, bin: PathBuf, env: Vec<(String, String)>, event: Value, check: Check) -> Self {
        Self {
            name: name.to_owned(),
            bin,
            env,
            event,
            check,
            invoke_timeout: INVOKE_TIMEOUT,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Spawn → first `/next`.
    pub cold_ms: f64,
    /// First `/next` → the response.
    pub invoke_ms: f64,
    /// Peak resident set through the invocation (`VmHWM`), KiB.
    pub hwm_kib: u64,
    /// CPU time of the process (all its threads, user + system) from its
    /// start to its first `/next`, and to its second (the invocation
    /// answered), ms; 10 ms resolution (clock ticks).
    pub init_cpu_ms: f64,
    pub cpu_ms: f64,
}

/// A run's figures and the function's answer.
#[derive(Debug, Clone)]
pub struct Measured {
    pub sample: Sample,
    pub response: Vec<u8>,
}

const INIT_TIMEOUT: Duration = Duration::from_secs(10);
const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn peak_rss_kib(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmHWM in /proc/{pid}/status"))
}

/// utime + stime of `pid` (every thread, the exited ones included), ms.
pub fn cpu_ms(pid: u32) -> Result<f64, String> {
    let stat =
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| format!("/proc/{pid}/stat: {e}"))?;
    // The fields after the command name, which is in parentheses: state is
    // field 3, utime and stime fields 14 and 15 (1-based), in clock ticks.
    let rest = stat
        .rfind(')')
        .map(|i| &stat[i + 1..])
        .ok_or_else(|| format!("/proc/{pid}/stat: no command name"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| -> Result<u64, String> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("/proc/{pid}/stat: no field {}", i + 3))
    };
    // USER_HZ is 100 on Linux, whatever the kernel's own tick.
    Ok((tick(11)? + tick(12)?) as f64 * 10.0)
}

fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(600).collect()
}

/// Waits for the next report, failing if the process dies first.
fn wait(api: &RuntimeApi, child: &mut Child, timeout: Duration, what: &str) -> Result<Report, String> {
    let until = Instant::now() + timeout;
    loop {
        match api.recv_timeout(Duration::from_millis(50)) {
            Ok(report) => return Ok(report),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(e) => return Err(format!("the runtime API stopped: {e}")),
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the process exited ({status}) while waiting for {what}"));
        }
        if Instant::now() > until {
            return Err(format!("{what} did not come within {timeout:?}"));
        }
    }
}

/// One cold start, one invocation; the process is killed after.
pub fn run_once(api: &RuntimeApi, target: &Target, run: u32, log: &File) -> Result<Sample, String> {
    measure(api, target, run, log).map(|m| m.sample)
}

/// [`run_once`], with the function's answer.
pub fn measure(api: &RuntimeApi, target: &Target, run: u32, log: &File) -> Result<Measured, String> {
    let request_id = format!("bench-{}-{run}", target.name);
    let event = serde_json::to_vec(&target.event).expect("an event serializes");
    api.prepare(&target.name, &request_id, &event);
    let mut command = Command::new(&target.bin);
    command
        .env_clear()
        .envs(target.env.iter().map(|(k, v)| (k, v)))
        .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log.try_clone().map_err(|e| e.to_string())?);
    let start = Instant::now();
    let child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", target.bin.display()))?;
    let mut child = Killed(child);
    let result = (|| {
        let first = match wait(api, &mut child.0, INIT_TIMEOUT, "the first /next")? {
            Report::Next { n: 1, at } => at,
            Report::InitError { body } => return Err(format!("init failed: {}", text(&body))),
            other => return Err(format!("expected the first /next, got {other:?}")),
        };
        let cold_ms = first.duration_since(start).as_secs_f64() * 1e3;
        let init_cpu_ms = cpu_ms(child.0.id())?;
        let (answered, body) = match wait(api, &mut child.0, target.invoke_timeout, "the response")? {
            Report::Response { id, body, at } if id == request_id => (at, body),
            Report::Error { body, .. } => return Err(format!("the invocation failed: {}", text(&body))),
            other => return Err(format!("expected the response, got {other:?}")),
        };
        if let Check::Status(status) = target.check {
            let value: Value = serde_json::from_slice(&body)
                .map_err(|e| format!("response not JSON ({e}): {}", text(&body)))?;
            if value["statusCode"] != status {
                return Err(format!("expected statusCode {status}: {}", text(&body)));
            }
        }
        match wait(api, &mut child.0, INVOKE_TIMEOUT, "the second /next")? {
            Report::Next { n: 2, .. } => {}
            other => return Err(format!("expected the second /next, got {other:?}")),
        }
        let hwm_kib = peak_rss_kib(child.0.id())?;
        let cpu_ms = cpu_ms(child.0.id())?;
        Ok(Measured {
            sample: Sample {
                cold_ms,
                invoke_ms: answered.duration_since(first).as_secs_f64() * 1e3,
                hwm_kib,
                init_cpu_ms,
                cpu_ms,
            },
            response: body.to_vec(),
        })
    })();
    drop(child);
    api.release();
    result.map_err(|e| format!("{} run {run}: {e}", target.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_counts_what_the_process_spent() {
        let before = cpu_ms(std::process::id()).unwrap();
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(200) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let spent = cpu_ms(std::process::id()).unwrap() - before;
        // 200 ms of wall time busy; some of it may go to other processes.
        assert!((50.0..=2_000.0).contains(&spent), "{spent} ms");
        assert!(cpu_ms(u32::MAX).unwrap_err().contains("/proc/"));
    }
}
