//! The harness's own checks: the Runtime API serves a real `lambda_runtime`
//! binary through one invocation, a dying binary is a failed run, and the
//! faked store answers the real API handler.

use std::path::PathBuf;

use bench::coldstart::{Check, Target, run_once};
use bench::runtime_api::RuntimeApi;
use serde_json::json;

fn hello(event: serde_json::Value, check: Check) -> Target {
    Target::new(
        "hello-world",
        PathBuf::from(env!("CARGO_BIN_EXE_hello-world")),
        vec![
            ("AWS_LAMBDA_FUNCTION_NAME".into(), "hello-world".into()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), "128".into()),
            ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
            ("AWS_REGION".into(), "us-east-1".into()),
        ],
        event,
        check,
    )
}

fn log() -> std::fs::File {
    std::fs::OpenOptions::new().write(true).open("/dev/null").unwrap()
}

#[test]
fn a_lambda_runtime_binary_starts_answers_and_is_measured() {
    let api = RuntimeApi::start().unwrap();
    for run in 0..2 {
        let sample = run_once(
            &api,
            &hello(json!({"hello": "world"}), Check::Answered),
            run,
            &log(),
        )
        .unwrap();
        assert!(sample.cold_ms > 0.0 && sample.cold_ms < 10_000.0, "{sample:?}");
        // A Rust process that ran tokio and answered has touched a few hundred KiB at least.
        assert!(sample.hwm_kib > 500, "{sample:?}");
        // CPU in clock ticks: a whole number of 10 ms, no less at the end than at init.
        assert!(sample.cpu_ms >= sample.init_cpu_ms, "{sample:?}");
        assert_eq!(sample.cpu_ms % 10.0, 0.0, "{sample:?}");
        assert!(sample.cpu_ms < 10_000.0, "{sample:?}");
    }
}

#[test]
fn a_response_that_is_not_a_200_is_a_failed_run() {
    let api = RuntimeApi::start().unwrap();
    // hello-world echoes its event: statusCode 500 comes back.
    let err = run_once(
        &api,
        &hello(json!({"statusCode": 500}), Check::Status(200)),
        0,
        &log(),
    )
    .unwrap_err();
    assert!(err.contains("expected statusCode 200"), "{err}");
}

#[test]
fn a_binary_that_dies_at_init_is_a_failed_run() {
    let api = RuntimeApi::start().unwrap();
    let mut target = hello(json!({}), Check::Answered);
    target.bin = PathBuf::from("/bin/false");
    let err = run_once(&api, &target, 0, &log()).unwrap_err();
    assert!(err.contains("exited"), "{err}");
}

#[tokio::test]
async fn the_faked_store_serves_the_real_handler() {
    let fixture = bench::overhead::Fixture::new().await.unwrap();
    let len = fixture.get_plan().await;
    assert!(len > 200, "a whole plan view, not an error: {len} bytes");
}
