//! Cold start and peak RSS of one binary: spawn it as Lambda would (its
//! environment, the Runtime API's address), time spawn → its first
//! `/next`, serve it one event, and read its peak RSS (`VmHWM`) while it
//! waits on the second `/next`. A run whose invocation fails is an error,
//! not a figure.

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
}

#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Spawn → first `/next`.
    pub cold_ms: f64,
    /// First `/next` → the response.
    pub invoke_ms: f64,
    /// Peak resident set through the invocation (`VmHWM`), KiB.
    pub hwm_kib: u64,
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
            return Err(format!("no {what} within {timeout:?}"));
        }
    }
}

/// One cold start, one invocation; the process is killed after.
pub fn run_once(api: &RuntimeApi, target: &Target, run: u32, log: &File) -> Result<Sample, String> {
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
        let (answered, body) = match wait(api, &mut child.0, INVOKE_TIMEOUT, "the response")? {
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
        Ok(Sample {
            cold_ms,
            invoke_ms: answered.duration_since(first).as_secs_f64() * 1e3,
            hwm_kib,
        })
    })();
    drop(child);
    api.release();
    result.map_err(|e| format!("{} run {run}: {e}", target.name))
}
