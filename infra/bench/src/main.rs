//! `bench`: the parts of `make bench` that are Rust (infra/bench/run.sh
//! calls them, and says what each figure means in infra/bench/README.md).
//!
//!   bench stack --out FILE [--runs N] [--gets N] [--bin-dir DIR]
//!       under infra/local/with-stack.sh: GET latency through the API, then
//!       cold start and peak RSS of hello-world and the four functions, then
//!       GET /readiness at 10 plans
//!   bench scale --out FILE [--gets N] [--budget-s S] [--runs N] [--bin-dir DIR]
//!       under infra/local/with-stack.sh, once the scale example has loaded
//!       the stack's table: GET /readiness at that size, then the
//!       freshness-check process's dry run (CPU, peak RSS, DynamoDB reads)
//!   bench overhead --out FILE [--iterations N] [--criterion DIR]
//!       the API handler over a faked store, timed call by call
//!   bench lint --bin FILE --out FILE [--files N] [--runs N]
//!       `support-plans lint` over N generated plan files (default 1,000)
//!   bench table --dir DIR --markdown FILE
//!       prints the table of every result in DIR and writes it as Markdown
//!   bench last-json
//!       prints the last stdout line (stdin) of an example that is a JSON object

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use bench::coldstart::{Check, Sample, Target, measure, run_once};
use bench::dynamo_calls::{DynamoCalls, Reads};
use bench::overhead::{Fixture, api_event};
use bench::runtime_api::RuntimeApi;
use bench::{last_json_line, quantile, table};
use serde_json::{Value, json};

type Result<T> = std::result::Result<T, String>;

struct Args(Vec<String>);

impl Args {
    fn value(&self, flag: &str) -> Option<&str> {
        self.0
            .iter()
            .position(|a| a == flag)
            .and_then(|i| self.0.get(i + 1))
            .map(String::as_str)
    }
    fn required(&self, flag: &str) -> Result<&str> {
        self.value(flag).ok_or_else(|| format!("{flag} is required"))
    }
    fn number(&self, flag: &str, default: usize) -> Result<usize> {
        self.value(flag).map_or(Ok(default), |v| {
            v.parse().map_err(|_| format!("{flag} takes a number, not {v:?}"))
        })
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first().cloned() else {
        eprintln!("usage: bench stack|scale|overhead|lint|table|last-json ... (see infra/bench/README.md)");
        return ExitCode::from(2);
    };
    let args = Args(args);
    let result = match command.as_str() {
        "stack" => stack(&args),
        "scale" => scale(&args),
        "overhead" => overhead(&args),
        "lint" => lint(&args),
        "table" => print_table(&args),
        "last-json" => last_json(),
        other => Err(format!(
            "unknown command {other:?}: stack, scale, overhead, lint, table or last-json"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write_json(path: &str, value: &Value) -> Result<()> {
    if let Some(dir) = Path::new(path).parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, format!("{value:#}\n")).map_err(|e| format!("{path}: {e}"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// `KEY=VALUE` lines (the local stack's `functions.env`).
fn env_file(path: &Path) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect())
}

/// What Lambda sets for a `provided.al2023` function (Runtime API aside),
/// with the template's JSON log format, then the function's own variables.
fn lambda_env(name: &str, memory_mb: u32, own: &[(String, String)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_FUNCTION_NAME", name.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/11/21/[$LATEST]bench".to_owned(),
        ),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
        ("AWS_LAMBDA_LOG_LEVEL", "INFO".to_owned()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ("LAMBDA_TASK_ROOT", "/var/task".to_owned()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".to_owned()),
        ("_HANDLER", "bootstrap".to_owned()),
        ("TZ", ":UTC".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("PATH", "/usr/local/bin:/usr/bin:/bin".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    // RUST_LOG is the local stack's own log switch; Lambda's is AWS_LAMBDA_LOG_LEVEL.
    // LOCAL_AUTH is the local stack's identity switch, which plans-api refuses
    // where Lambda's variables say it runs in AWS; the events carry API
    // Gateway's authorizer context instead.
    env.extend(
        own.iter()
            .filter(|(k, _)| k != "RUST_LOG" && k != "LOCAL_AUTH")
            .cloned(),
    );
    env
}

fn summary(samples: &[Sample]) -> Value {
    let cold: Vec<f64> = samples.iter().map(|s| s.cold_ms).collect();
    let hwm: Vec<f64> = samples.iter().map(|s| s.hwm_kib as f64 / 1024.0).collect();
    let invoke: Vec<f64> = samples.iter().map(|s| s.invoke_ms).collect();
    json!({
        "runs": samples.len(),
        "cold_ms_median": quantile(&cold, 0.5),
        "cold_ms_max": quantile(&cold, 1.0),
        "hwm_mib_median": quantile(&hwm, 0.5),
        "hwm_mib_max": quantile(&hwm, 1.0),
        "invoke_ms_median": quantile(&invoke, 0.5),
        "cold_ms": cold,
    })
}

fn stack(args: &Args) -> Result<()> {
    let out = args.required("--out")?;
    let runs = args.number("--runs", 20)?;
    let gets = args.number("--gets", 200)?;
    let root = std::env::current_dir().map_err(|e| e.to_string())?;
    let bin_dir = args
        .value("--bin-dir")
        .map_or_else(|| root.join("target/release"), PathBuf::from);
    let stack = Stack::from_env()?;
    let (api_url, own) = (&stack.api_url, &stack.own);
    let plan_id = "bench-cold-start-plan";

    let rt = runtime();
    rt.block_on(bench::latency::seed_plan(api_url, plan_id))?;
    eprintln!("==> {gets} sequential GET {api_url}/plans/{plan_id}");
    let latencies = rt.block_on(bench::latency::get_latencies(api_url, plan_id, gets))?;
    let get = json!({
        "n": latencies.len(),
        "p50_ms": quantile(&latencies, 0.5),
        "p99_ms": quantile(&latencies, 0.99),
        "max_ms": quantile(&latencies, 1.0),
    });
    eprintln!("    {get}");

    let mut plans_event = api_event("GET", &format!("/plans/{plan_id}"), &[], None);
    plans_event["headers"]["x-local-principal"] = json!("bench@example.com");
    plans_event["headers"]["x-local-groups"] = json!("platform");
    let sweep: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("infra/local/events/sweep.json"))
            .map_err(|e| format!("infra/local/events/sweep.json: {e}"))?,
    )
    .map_err(|e| e.to_string())?;
    let hooks_event = bench::webhook::acknowledged_event(
        &std::env::var("PAGERDUTY_WEBHOOK_SECRET")
            .map_err(|_| "PAGERDUTY_WEBHOOK_SECRET is not set: run under infra/local/with-stack.sh")?,
    );
    let target = |name: &str, memory: u32, event: Value, check: Check| {
        Target::new(
            name,
            bin_dir.join(name),
            lambda_env(name, memory, own),
            event,
            check,
        )
    };
    // The template's memory sizes: 128 MB, the freshness check 256 MB.
    let targets = [
        target("hello-world", 128, json!({"hello": "world"}), Check::Answered),
        target("plans-api", 128, plans_event, Check::Status(200)),
        target("incident-responder", 128, sweep, Check::Answered),
        target("freshness-check", 256, json!({"dry_run": true}), Check::Answered),
        // Verified (the secret read from Secrets Manager), answered 202 and
        // ignored: an event type that is not handed off.
        target("incident-hooks", 128, hooks_event, Check::Status(202)),
    ];
    for t in &targets {
        if !t.bin.is_file() {
            return Err(format!(
                "{} is not built (cargo build --release)",
                t.bin.display()
            ));
        }
    }
    let api = RuntimeApi::start().map_err(|e| format!("the runtime API: {e}"))?;
    let log_dir = Path::new(out).parent().unwrap_or(Path::new(".")).to_path_buf();
    std::fs::create_dir_all(&log_dir).map_err(|e| e.to_string())?;
    let mut logs = Vec::new();
    for t in &targets {
        let path = log_dir.join(format!("{}.log", t.name));
        logs.push(File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    eprintln!(
        "==> cold start and peak RSS: {runs} runs each, interleaved, Runtime API on {}",
        api.addr
    );
    let mut samples: BTreeMap<&str, Vec<Sample>> = BTreeMap::new();
    for run in 0..runs {
        for (t, log) in targets.iter().zip(&logs) {
            let sample = run_once(&api, t, run as u32, log)
                .map_err(|e| format!("{e} (its output: {}/{}.log)", log_dir.display(), t.name))?;
            samples.entry(&t.name).or_default().push(sample);
        }
    }
    let mut cold = serde_json::Map::new();
    for (name, s) in &samples {
        let summary = summary(s);
        eprintln!(
            "    {name:<20} cold median {:.2} ms, max {:.2} ms; peak RSS max {:.1} MiB; invocation median {:.2} ms",
            summary["cold_ms_median"].as_f64().unwrap_or(f64::NAN),
            summary["cold_ms_max"].as_f64().unwrap_or(f64::NAN),
            summary["hwm_mib_max"].as_f64().unwrap_or(f64::NAN),
            summary["invoke_ms_median"].as_f64().unwrap_or(f64::NAN),
        );
        cold.insert((*name).to_owned(), summary);
    }

    // GET /readiness at 10 plans: the plan above and 9 more.
    for n in 1..READINESS_PLANS {
        rt.block_on(bench::latency::seed_plan(
            api_url,
            &format!("bench-readiness-{n}"),
        ))?;
    }
    let proxy = DynamoCalls::start(&stack.moto).map_err(|e| format!("the DynamoDB proxy: {e}"))?;
    let readiness = readiness(&rt, &api, &proxy, &stack, &bin_dir, gets, None, &log_dir)?;
    if readiness["plans"] != READINESS_PLANS {
        return Err(format!(
            "GET /readiness counts {} plans, not the {READINESS_PLANS} created",
            readiness["plans"]
        ));
    }
    write_json(
        out,
        &json!({"cold_start": cold, "get": get, "readiness": readiness}),
    )
}

/// The plans `bench stack` times `GET /readiness` at (SPEC §10 "readiness").
const READINESS_PLANS: usize = 10;

/// What a function spawned against the local stack gets, from the stack's
/// env (`infra/local/with-stack.sh`).
struct Stack {
    api_url: String,
    /// The functions' own variables (`functions.env`).
    own: Vec<(String, String)>,
    /// moto, where the DynamoDB proxy forwards.
    moto: String,
}

impl Stack {
    fn from_env() -> Result<Self> {
        let var = |name: &str| {
            std::env::var(name).map_err(|_| format!("{name} is not set: run under infra/local/with-stack.sh"))
        };
        let own = env_file(&Path::new(&var("LOCAL_DIR")?).join("functions.env"))?;
        let moto = own
            .iter()
            .find(|(k, _)| k == "AWS_ENDPOINT_URL")
            .map(|(_, v)| v.clone())
            .ok_or("functions.env has no AWS_ENDPOINT_URL")?;
        Ok(Self {
            api_url: var("API_URL")?,
            own,
            moto,
        })
    }

    /// `name` as Lambda would run it, its DynamoDB requests through `proxy`.
    fn target(
        &self,
        bin_dir: &Path,
        name: &str,
        memory: u32,
        event: Value,
        check: Check,
        proxy: &DynamoCalls,
    ) -> Target {
        let mut env = lambda_env(name, memory, &self.own);
        env.push(("AWS_ENDPOINT_URL_DYNAMODB".into(), proxy.url.clone()));
        Target::new(name, bin_dir.join(name), env, event, check)
    }
}

fn log_file(dir: &Path, name: &str) -> Result<File> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("{name}.log"));
    File::create(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// `GET /readiness` at the size the stack's table holds: one untimed GET
/// through `cargo lambda watch` (the first computes the snapshot where there
/// is none) saying how many plans, then up to `gets` timed (within `budget`);
/// then one GET served by the plans-api binary spawned with the DynamoDB
/// proxy: the requests one GET makes, counted outside the function.
#[allow(clippy::too_many_arguments)]
fn readiness(
    rt: &tokio::runtime::Runtime,
    api: &RuntimeApi,
    proxy: &DynamoCalls,
    stack: &Stack,
    bin_dir: &Path,
    gets: usize,
    budget: Option<std::time::Duration>,
    log_dir: &Path,
) -> Result<Value> {
    // Before GET /readiness reads one item, it reads every plan: minutes at
    // 10,000 against moto.
    let timeout = std::time::Duration::from_secs(900);
    let first = rt.block_on(bench::latency::get_json(&stack.api_url, "/readiness", timeout))?;
    let plans = first["plans"]
        .as_u64()
        .ok_or_else(|| format!("GET /readiness has no plans: {first}"))?;
    eprintln!(
        "==> up to {gets} sequential GET {}/readiness at {plans} plans",
        stack.api_url
    );
    let options = bench::latency::Gets {
        n: gets,
        warmup: 1,
        budget,
        timeout,
    };
    let timed = rt.block_on(bench::latency::timed_gets(
        &stack.api_url,
        "/readiness",
        &options,
        |text| text.contains("\"plans\""),
    ))?;
    let t = &timed.ms;
    eprintln!(
        "    {} GETs: p50 {:.2} ms, p99 {:.2} ms{}",
        t.len(),
        quantile(t, 0.5).unwrap_or(f64::NAN),
        quantile(t, 0.99).unwrap_or(f64::NAN),
        if timed.stopped_by_budget {
            " (the budget ran out)"
        } else {
            ""
        }
    );
    let mut event = api_event("GET", "/readiness", &[], None);
    event["headers"]["x-local-principal"] = json!("bench@example.com");
    let mut target = stack.target(bin_dir, "plans-api", 128, event, Check::Status(200), proxy);
    target.invoke_timeout = timeout;
    proxy.take();
    let measured = measure(api, &target, 0, &log_file(log_dir, "plans-api-readiness")?)
        .map_err(|e| format!("{e} (its output: {}/plans-api-readiness.log)", log_dir.display()))?;
    let reads = Reads::of(&proxy.take());
    let answered: Value = serde_json::from_slice(&measured.response).map_err(|e| e.to_string())?;
    let body: Value = serde_json::from_str(answered["body"].as_str().unwrap_or_default())
        .map_err(|e| format!("GET /readiness (spawned): not JSON ({e}): {answered}"))?;
    if body["plans"] != plans {
        return Err(format!(
            "GET /readiness answered {} plans through watch, {} spawned",
            plans, body["plans"]
        ));
    }
    let result = json!({
        "plans": plans,
        "n": t.len(),
        "asked": gets,
        "stopped_by_budget": timed.stopped_by_budget,
        "p50_ms": quantile(t, 0.5),
        "p99_ms": quantile(t, 0.99),
        "max_ms": quantile(t, 1.0),
        "dynamodb": reads,
    });
    eprintln!("    {result}");
    Ok(result)
}

/// After the scale example loaded the stack's table: `GET /readiness` at
/// that size, then `runs` dry runs of the freshness-check process (release
/// in the full run), each spawned fresh: its CPU time and peak RSS through
/// the invocation, its answer (the summary with `table_reads`) and the
/// DynamoDB requests it made.
fn scale(args: &Args) -> Result<()> {
    let out = args.required("--out")?;
    let gets = args.number("--gets", 200)?;
    let budget = std::time::Duration::from_secs(args.number("--budget-s", 120)? as u64);
    let runs = args.number("--runs", 3)?.max(1);
    let root = std::env::current_dir().map_err(|e| e.to_string())?;
    let bin_dir = args
        .value("--bin-dir")
        .map_or_else(|| root.join("target/release"), PathBuf::from);
    let log_dir = Path::new(out).parent().unwrap_or(Path::new(".")).to_path_buf();
    let stack = Stack::from_env()?;
    let rt = runtime();
    let api = RuntimeApi::start().map_err(|e| format!("the runtime API: {e}"))?;
    let proxy = DynamoCalls::start(&stack.moto).map_err(|e| format!("the DynamoDB proxy: {e}"))?;
    let readiness = readiness(&rt, &api, &proxy, &stack, &bin_dir, gets, Some(budget), &log_dir)?;

    // The template's 256 MB; the answer may take minutes against moto.
    let mut target = stack.target(
        &bin_dir,
        "freshness-check",
        256,
        json!({"dry_run": true}),
        Check::Answered,
        &proxy,
    );
    target.invoke_timeout = std::time::Duration::from_secs(900);
    let log = log_file(&log_dir, "freshness-check-scale")?;
    let mut samples = Vec::new();
    let mut answer = Value::Null;
    let mut reads = Reads::default();
    for run in 0..runs {
        eprintln!(
            "==> freshness-check {{\"dry_run\": true}}, the process spawned fresh: run {} of {runs}",
            run + 1
        );
        proxy.take();
        let measured = measure(&api, &target, run as u32, &log).map_err(|e| {
            format!(
                "{e} (its output: {}/freshness-check-scale.log)",
                log_dir.display()
            )
        })?;
        answer = serde_json::from_slice(&measured.response)
            .map_err(|e| format!("the freshness check's answer is not JSON: {e}"))?;
        reads = Reads::of(&proxy.take());
        eprintln!(
            "    CPU {:.0} ms (init {:.0} ms), peak RSS {:.1} MiB, {:.1} s; plans {}, table_reads {}; DynamoDB: {}",
            measured.sample.cpu_ms,
            measured.sample.init_cpu_ms,
            measured.sample.hwm_kib as f64 / 1024.0,
            measured.sample.invoke_ms / 1e3,
            answer["plans"],
            answer["table_reads"],
            reads.ops()
        );
        samples.push(measured.sample);
    }
    let cpu: Vec<f64> = samples.iter().map(|s| s.cpu_ms).collect();
    let init: Vec<f64> = samples.iter().map(|s| s.init_cpu_ms).collect();
    let hwm: Vec<f64> = samples.iter().map(|s| s.hwm_kib as f64 / 1024.0).collect();
    let wall: Vec<f64> = samples.iter().map(|s| s.invoke_ms).collect();
    let freshness = json!({
        "runs": runs,
        "plans": answer["plans"],
        "contacts": answer["contacts"],
        "table_reads": answer["table_reads"],
        "cpu_ms": cpu,
        "cpu_ms_median": quantile(&cpu, 0.5),
        "cpu_ms_max": quantile(&cpu, 1.0),
        "init_cpu_ms_median": quantile(&init, 0.5),
        "hwm_mib_median": quantile(&hwm, 0.5),
        "hwm_mib_max": quantile(&hwm, 1.0),
        "invoke_ms_median": quantile(&wall, 0.5),
        "dynamodb": reads,
    });
    write_json(out, &json!({"readiness": readiness, "freshness": freshness}))
}

/// Criterion's estimate of the mean, from its `estimates.json`, in µs.
fn criterion_mean(dir: &Path) -> Option<(f64, f64, f64)> {
    let text = std::fs::read_to_string(dir.join("new/estimates.json")).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    let mean = &v["mean"];
    Some((
        mean["point_estimate"].as_f64()? / 1e3,
        mean["confidence_interval"]["lower_bound"].as_f64()? / 1e3,
        mean["confidence_interval"]["upper_bound"].as_f64()? / 1e3,
    ))
}

fn overhead(args: &Args) -> Result<()> {
    let out = args.required("--out")?;
    let iterations = args.number("--iterations", 20_000)?;
    let rt = runtime();
    let fixture = rt.block_on(Fixture::new())?;
    let mut times = Vec::with_capacity(iterations);
    rt.block_on(async {
        for _ in 0..iterations.min(1000) {
            fixture.get_plan().await; // warm-up
        }
        for _ in 0..iterations {
            let start = Instant::now();
            std::hint::black_box(fixture.get_plan().await);
            times.push(start.elapsed().as_secs_f64() * 1e6);
        }
    });
    // POST /match at the input limits: fewer calls, each far longer.
    let match_event = rt.block_on(fixture.load_match_limits())?;
    let match_iterations = (iterations / 20).max(100);
    let mut match_times = Vec::with_capacity(match_iterations);
    rt.block_on(async {
        for _ in 0..match_iterations.min(20) {
            fixture.post_match(&match_event).await; // warm-up
        }
        for _ in 0..match_iterations {
            let start = Instant::now();
            std::hint::black_box(fixture.post_match(&match_event).await);
            match_times.push(start.elapsed().as_secs_f64() * 1e6);
        }
    });
    // POST /hooks/* over in-memory ports: a PagerDuty delivery, and a
    // generic one signed now with a fresh webhook-id (built untimed).
    let hooks = bench::webhook::WebhookFixture::new();
    let mut pagerduty_times = Vec::with_capacity(iterations);
    let mut generic_times = Vec::with_capacity(iterations);
    rt.block_on(async {
        for n in 0..iterations.min(1000) {
            hooks.pagerduty().await; // warm-up
            hooks.generic(&hooks.generic_event(n)).await;
        }
        for n in 0..iterations {
            let start = Instant::now();
            std::hint::black_box(hooks.pagerduty().await);
            pagerduty_times.push(start.elapsed().as_secs_f64() * 1e6);
            let event = hooks.generic_event(iterations + n);
            let start = Instant::now();
            std::hint::black_box(hooks.generic(&event).await);
            generic_times.push(start.elapsed().as_secs_f64() * 1e6);
        }
    });
    let body = bench::overhead::match_limits_body();
    let mut result = json!({
        "iterations": iterations,
        "p50_us": quantile(&times, 0.5),
        "p99_us": quantile(&times, 0.99),
        "max_us": quantile(&times, 1.0),
        "mean_us": times.iter().sum::<f64>() / times.len().max(1) as f64,
        "match": {
            "iterations": match_iterations,
            "p50_us": quantile(&match_times, 0.5),
            "p99_us": quantile(&match_times, 0.99),
            "max_us": quantile(&match_times, 1.0),
            "workloads": bench::overhead::LIMIT_WORKLOADS,
            "patterns": bench::overhead::LIMIT_WORKLOADS * bench::overhead::MAX_PATTERNS,
            "pattern_len": bench::overhead::PATTERN_LEN,
            "resources": body["resources"].as_array().map_or(0, Vec::len),
            "resource_len": bench::overhead::RESOURCE_LEN,
        },
        "webhooks": {
            "iterations": iterations,
            "pagerduty_p50_us": quantile(&pagerduty_times, 0.5),
            "pagerduty_p99_us": quantile(&pagerduty_times, 0.99),
            "incident_p50_us": quantile(&generic_times, 0.5),
            "incident_p99_us": quantile(&generic_times, 0.99),
        },
    });
    if let Some((mean, lo, hi)) = args
        .value("--criterion")
        .and_then(|d| criterion_mean(Path::new(d)))
    {
        result["criterion_mean_us"] = json!(mean);
        result["criterion_ci_low_us"] = json!(lo);
        result["criterion_ci_high_us"] = json!(hi);
    }
    eprintln!("    {result}");
    write_json(out, &result)
}

fn lint(args: &Args) -> Result<()> {
    let bin = PathBuf::from(args.required("--bin")?);
    let out = args.required("--out")?;
    let files = args.number("--files", 1000)?;
    let runs = args.number("--runs", 5)?;
    let root = std::env::current_dir().map_err(|e| e.to_string())?;
    let sample_path = root.join("infra/local/samples/plans/aws-business.json");
    let sample: Value = serde_json::from_str(
        &std::fs::read_to_string(&sample_path).map_err(|e| format!("{}: {e}", sample_path.display()))?,
    )
    .map_err(|e| format!("{}: {e}", sample_path.display()))?;
    let dir = root.join("target/bench/lint-files");
    let _ = std::fs::remove_dir_all(&dir);
    bench::lint::write_plans(&dir, &sample, files)?;
    eprintln!("==> support-plans lint over {files} plan files, {runs} runs");
    let times = bench::lint::time_lint(&bin, &dir, runs)?;
    let result = json!({
        "files": files,
        "runs": runs,
        "median_ms": quantile(&times, 0.5),
        "max_ms": quantile(&times, 1.0),
    });
    eprintln!("    {result}");
    write_json(out, &result)
}

fn print_table(args: &Args) -> Result<()> {
    let dir = args.required("--dir")?;
    let md_path = args.required("--markdown")?;
    let rows = table::rows(Path::new(dir));
    let md = table::markdown(&rows);
    print!("{md}");
    std::fs::write(md_path, &md).map_err(|e| format!("{md_path}: {e}"))?;
    let count = |v: table::Verdict| rows.iter().filter(|r| r.verdict == v).count();
    println!(
        "\n{} met, {} missed, {} not run (table also in {md_path})",
        count(table::Verdict::Met),
        count(table::Verdict::Missed),
        count(table::Verdict::NotRun),
    );
    Ok(())
}

fn last_json() -> Result<()> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    let value = last_json_line(&text).ok_or("the output has no JSON object line")?;
    println!("{value}");
    Ok(())
}
