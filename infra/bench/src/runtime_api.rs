//! A small local Lambda Runtime API (the 2018-06-01 interface the
//! functions' `lambda_runtime` speaks): one event per run, then every
//! further `/next` is parked until the run ends, as Lambda parks a frozen
//! environment. Each request is reported, with its arrival instant, to the
//! harness thread.

use std::net::SocketAddr;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// What the function under test did, in arrival order.
#[derive(Debug)]
pub enum Report {
    /// Its `n`-th `GET …/invocation/next` of this run arrived at `at`.
    Next {
        n: u32,
        at: Instant,
    },
    Response {
        id: String,
        body: Bytes,
        at: Instant,
    },
    Error {
        id: String,
        body: Bytes,
    },
    InitError {
        body: Bytes,
    },
}

#[derive(Debug, Default)]
struct Run {
    generation: u64,
    nexts: u32,
    request_id: String,
    function_arn: String,
    event: Bytes,
}

#[derive(Debug)]
struct Shared {
    run: Mutex<Run>,
    reports: Mutex<Sender<Report>>,
    /// Bumped at the end of each run: parked `/next` requests give up.
    released: tokio::sync::watch::Sender<u64>,
}

impl Shared {
    fn report(&self, report: Report) {
        // The harness may have stopped listening (a failed run); nothing to do then.
        let _ = self.reports.lock().expect("not poisoned").send(report);
    }
}

/// The server, on a loopback port of its own, in a thread of its own.
#[derive(Debug)]
pub struct RuntimeApi {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    reports: Receiver<Report>,
}

impl RuntimeApi {
    pub fn start() -> std::io::Result<Self> {
        let (tx, rx) = channel();
        let (released, _) = tokio::sync::watch::channel(0);
        let shared = Arc::new(Shared {
            run: Mutex::new(Run::default()),
            reports: Mutex::new(tx),
            released,
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        std::thread::Builder::new()
            .name("runtime-api".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("the listener");
                    axum::serve(listener, app).await.expect("the runtime API serves");
                });
            })?;
        Ok(Self {
            addr,
            shared,
            reports: rx,
        })
    }

    /// Sets the event the next run's first `/next` answers with.
    pub fn prepare(&self, function_name: &str, request_id: &str, event: &[u8]) {
        // Reports of an earlier run (a late request) must not count in this one.
        while self.reports.try_recv().is_ok() {}
        let mut run = self.shared.run.lock().expect("not poisoned");
        run.nexts = 0;
        run.request_id = request_id.to_owned();
        run.function_arn = format!("arn:aws:lambda:us-east-1:111122223333:function:{function_name}");
        run.event = Bytes::copy_from_slice(event);
    }

    /// Ends a run: parked `/next` requests are answered (with 410) and dropped.
    pub fn release(&self) {
        let mut run = self.shared.run.lock().expect("not poisoned");
        run.generation += 1;
        self.shared.released.send_replace(run.generation);
    }

    pub fn recv_timeout(&self, timeout: Duration) -> Result<Report, RecvTimeoutError> {
        self.reports.recv_timeout(timeout)
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let at = Instant::now();
    let (n, generation, answer) = {
        let mut run = shared.run.lock().expect("not poisoned");
        run.nexts += 1;
        let answer = (run.nexts == 1).then(|| {
            (
                run.request_id.clone(),
                run.function_arn.clone(),
                run.event.clone(),
            )
        });
        (run.nexts, run.generation, answer)
    };
    shared.report(Report::Next { n, at });
    match answer {
        Some((id, arn, event)) => {
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
                + 30_000;
            let mut headers = HeaderMap::new();
            let mut set = |name: &'static str, value: String| {
                headers.insert(name, HeaderValue::from_str(&value).expect("a header value"));
            };
            set("lambda-runtime-aws-request-id", id);
            set("lambda-runtime-deadline-ms", deadline.to_string());
            set("lambda-runtime-invoked-function-arn", arn);
            set(
                "lambda-runtime-trace-id",
                "Root=1-67a1b2c3-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0".into(),
            );
            set("content-type", "application/json".into());
            (StatusCode::OK, headers, event).into_response()
        }
        None => {
            // Parked, as a frozen environment, until the harness ends the run.
            let mut released = shared.released.subscribe();
            let _ = released.wait_for(|g| *g > generation).await;
            StatusCode::GONE.into_response()
        }
    }
}

async fn response(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let at = Instant::now();
    shared.report(Report::Response { id, body, at });
    StatusCode::ACCEPTED
}

async fn error(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    shared.report(Report::Error { id, body });
    StatusCode::ACCEPTED
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    shared.report(Report::InitError { body });
    StatusCode::ACCEPTED
}
