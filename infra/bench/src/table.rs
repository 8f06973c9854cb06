//! The table: one row per figure, against its bar (SPEC §10), from the JSON
//! results the parts wrote into one directory. A part that did not run
//! leaves `{"skipped": "why"}` or nothing; its rows say so.

use std::path::Path;

use serde_json::Value;

/// Every function `template.yaml` deploys: each judged on its cold start,
/// its peak RSS and its zip (SPEC §10).
pub const FUNCTIONS: [&str; 4] = [
    "plans-api",
    "incident-responder",
    "freshness-check",
    "incident-hooks",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub what: String,
    pub measured: String,
    pub bar: String,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Missed,
    NotRun,
    /// A figure for comparison, with no bar of its own.
    Reference,
}

impl Verdict {
    fn of(met: bool) -> Self {
        if met { Self::Met } else { Self::Missed }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Met => "met",
            Self::Missed => "MISSED",
            Self::NotRun => "not run",
            Self::Reference => "reference",
        }
    }
}

fn read(dir: &Path, name: &str) -> Result<Value, String> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).map_err(|_| format!("no {}", path.display()))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    match value.get("skipped").and_then(Value::as_str) {
        Some(why) => Err(why.to_owned()),
        None => Ok(value),
    }
}

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// `; each call on the path, median: Publish 61.2 ms, …`, slowest first
/// (from `{"Publish": 61.2, …}`); empty when there is none.
fn call_times(v: &Value) -> String {
    let mut calls: Vec<(&str, f64)> = v
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(op, ms)| Some((op.as_str(), ms.as_f64()?)))
        .collect();
    if calls.is_empty() {
        return String::new();
    }
    calls.sort_by(|a, b| b.1.total_cmp(&a.1));
    let list: Vec<String> = calls.iter().map(|(op, ms)| format!("{op} {ms:.1} ms")).collect();
    format!("; each call on the path, median: {}", list.join(", "))
}

fn row(what: impl Into<String>, measured: impl Into<String>, bar: &str, verdict: Verdict) -> Row {
    Row {
        what: what.into(),
        measured: measured.into(),
        bar: bar.into(),
        verdict,
    }
}

fn not_run(what: impl Into<String>, bar: &str, why: &str) -> Row {
    row(what, format!("not measured: {why}"), bar, Verdict::NotRun)
}

const COLD_BAR: &str = "init ≤ 10 ms and ≤ 3× hello-world (median)";
const RSS_BAR: &str = "≤ 24 MiB through a test invocation (max)";
const ZIP_BAR: &str = "≤ 4 MiB (release, arm64)";

/// The size the scale rows are judged at (SPEC §10).
const SCALE_PLANS: u64 = 10_000;

const READINESS_BAR: &str = "p50 ≤ 10 ms; reads one item";

fn readiness_what(plans: u64) -> String {
    format!(
        "GET /readiness at {} plans (local stack, cargo lambda watch)",
        thousands(plans)
    )
}

/// `10000` as `10,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The DynamoDB requests a spawned function made, as the proxy counted them.
fn requests(v: &Value) -> String {
    let ops: Vec<String> = v["by_op"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(op, n)| format!("{op} {n}"))
        .collect();
    format!("{} ({})", v["requests"], ops.join(", "))
}

/// `GET /readiness` at `plans` plans: timed through `cargo lambda watch`,
/// and the DynamoDB requests of one GET served by the spawned plans-api.
/// Met when p50 ≤ 10 ms and that GET made one request, a `GetItem`. At
/// another size than `plans` (the smoke run) it is not judged.
fn readiness_row(r: &Value, plans: u64) -> Row {
    let what = readiness_what(plans);
    let (Some(p50), Some(at)) = (num(r, "p50_ms"), r["plans"].as_u64()) else {
        return not_run(what, READINESS_BAR, "no readiness figure");
    };
    let db = &r["dynamodb"];
    let one_item = db["requests"] == 1 && db["by_op"]["GetItem"] == 1;
    let budget = if r["stopped_by_budget"] == true {
        format!(" (of {} asked: the time budget ran out)", r["asked"])
    } else {
        String::new()
    };
    let measured = format!(
        "p50 {p50:.2} ms, p99 {:.2} ms over {} GETs{budget} at {} plans; one GET (the plans-api process spawned, \
         requests counted by a proxy) made DynamoDB requests: {}",
        num(r, "p99_ms").unwrap_or(f64::NAN),
        r["n"],
        thousands(at),
        requests(db),
    );
    if at != plans {
        return not_run(
            what,
            READINESS_BAR,
            &format!(
                "judged at {} plans; measured at {}: {measured}",
                thousands(plans),
                thousands(at)
            ),
        );
    }
    row(
        what,
        measured,
        READINESS_BAR,
        Verdict::of(p50 <= 10.0 && one_item),
    )
}

const FRESHNESS_CPU: &str = "freshness check at 10,000 plans / 100,000 contacts: CPU of the function process";
const FRESHNESS_RSS: &str =
    "freshness check at 10,000 plans / 100,000 contacts: peak RSS of the function process";
const FRESHNESS_READS: &str = "freshness check at 10,000 plans / 100,000 contacts: table reads";
const CPU_BAR: &str = "≤ 1 s CPU (median of the runs)";
const SCALE_RSS_BAR: &str = "≤ 64 MiB (max of the runs)";
const READ_ONCE_BAR: &str = "the table read once, paginated";
const FRESHNESS_ROWS: [(&str, &str); 3] = [
    (FRESHNESS_CPU, CPU_BAR),
    (FRESHNESS_RSS, SCALE_RSS_BAR),
    (FRESHNESS_READS, READ_ONCE_BAR),
];

/// The freshness-check process's dry runs over the loaded table: CPU
/// (utime + stime through the invocation, init included), peak RSS, and
/// the plans' reads as the proxy saw them. At another size than 10,000
/// plans (the smoke run) they are not judged.
fn freshness_rows(f: &Value) -> Vec<Row> {
    let (Some(cpu), Some(hwm), Some(plans)) = (
        num(f, "cpu_ms_median"),
        num(f, "hwm_mib_max"),
        f["plans"].as_u64(),
    ) else {
        return FRESHNESS_ROWS
            .iter()
            .map(|(what, bar)| not_run(*what, bar, "no freshness figure in scale.json"))
            .collect();
    };
    let db = &f["dynamodb"];
    let passes = db["plan_passes"].as_u64().unwrap_or(0);
    let pages = db["plan_pages"].as_u64().unwrap_or(0);
    let paginated: Vec<String> = db["paginated"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(what, n)| format!("{what}: {n}"))
        .collect();
    let measured = [
        format!(
            "median {cpu:.0} ms, max {:.0} ms over {} runs of `{{\"dry_run\": true}}`, each in a fresh process, \
             its init included (the init alone {:.0} ms); {:.1} s of wall time each; {} plans / {} contacts",
            num(f, "cpu_ms_max").unwrap_or(f64::NAN),
            f["runs"],
            num(f, "init_cpu_ms_median").unwrap_or(f64::NAN),
            num(f, "invoke_ms_median").unwrap_or(f64::NAN) / 1e3,
            thousands(plans),
            f["contacts"].as_u64().map_or_else(|| "?".to_owned(), thousands),
        ),
        format!(
            "max {hwm:.1} MiB, median {:.1} MiB",
            num(f, "hwm_mib_median").unwrap_or(f64::NAN)
        ),
        format!(
            "the plans read in {passes} pass(es) of {pages} pages; `table_reads` {} in the answer; \
             DynamoDB requests seen by the proxy: {}; paginated reads: {}",
            f["table_reads"],
            requests(db),
            paginated.join("; ")
        ),
    ];
    let verdicts = [
        Verdict::of(cpu <= 1000.0),
        Verdict::of(hwm <= 64.0),
        Verdict::of(passes == 1 && pages >= 1),
    ];
    FRESHNESS_ROWS
        .iter()
        .zip(measured)
        .zip(verdicts)
        .map(|(((what, bar), measured), verdict)| {
            if plans == SCALE_PLANS {
                row(*what, measured, bar, verdict)
            } else {
                not_run(
                    *what,
                    bar,
                    &format!(
                        "judged at 10,000 plans; measured at {}: {measured}",
                        thousands(plans)
                    ),
                )
            }
        })
        .collect()
}

/// Every row, in the order of SPEC §10.
pub fn rows(dir: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    match read(dir, "stack.json") {
        Ok(stack) => {
            let cold = &stack["cold_start"];
            let hello = num(&cold["hello-world"], "cold_ms_median");
            if let Some(h) = hello {
                rows.push(row(
                    "cold start: hello-world (baseline)",
                    format!(
                        "median {h:.1} ms, max {:.1} ms, peak RSS {:.1} MiB ({} runs)",
                        num(&cold["hello-world"], "cold_ms_max").unwrap_or(f64::NAN),
                        num(&cold["hello-world"], "hwm_mib_max").unwrap_or(f64::NAN),
                        cold["hello-world"]["runs"]
                    ),
                    "(reference)",
                    Verdict::Reference,
                ));
            }
            for f in FUNCTIONS {
                let c = &cold[f];
                match (num(c, "cold_ms_median"), num(c, "cold_ms_max"), hello) {
                    (Some(med), Some(max), Some(h)) => {
                        let ratio = med / h;
                        rows.push(row(
                            format!("cold start: {f}"),
                            format!(
                                "median {med:.1} ms ({ratio:.2}× hello-world), max {max:.1} ms ({} runs)",
                                c["runs"]
                            ),
                            COLD_BAR,
                            Verdict::of(med <= 10.0 && ratio <= 3.0),
                        ));
                    }
                    _ => rows.push(not_run(
                        format!("cold start: {f}"),
                        COLD_BAR,
                        "no figure in stack.json",
                    )),
                }
                match (num(c, "hwm_mib_max"), num(c, "hwm_mib_median")) {
                    (Some(max), Some(med)) => rows.push(row(
                        format!("peak RSS: {f}"),
                        format!("max {max:.1} MiB, median {med:.1} MiB"),
                        RSS_BAR,
                        Verdict::of(max <= 24.0),
                    )),
                    _ => rows.push(not_run(
                        format!("peak RSS: {f}"),
                        RSS_BAR,
                        "no figure in stack.json",
                    )),
                }
            }
        }
        Err(why) => {
            for f in FUNCTIONS {
                rows.push(not_run(format!("cold start: {f}"), COLD_BAR, &why));
                rows.push(not_run(format!("peak RSS: {f}"), RSS_BAR, &why));
            }
        }
    }
    let zips = read(dir, "zip.json");
    for f in FUNCTIONS {
        let what = format!("deployment zip: {f}");
        match zips.as_ref().map(|z| z[f].as_u64()) {
            Ok(Some(bytes)) => {
                let mib = bytes as f64 / 1024.0 / 1024.0;
                rows.push(row(
                    what,
                    format!("{mib:.2} MiB ({bytes} bytes)"),
                    ZIP_BAR,
                    Verdict::of(mib <= 4.0),
                ));
            }
            Ok(None) => rows.push(not_run(what, ZIP_BAR, "no size in zip.json")),
            Err(why) => rows.push(not_run(what, ZIP_BAR, why)),
        }
    }
    const TRIPS_BAR: &str = "≤ 3 sequential round trips";
    const E2E_BAR: &str = "≤ 50 ms end to end (p50)";
    match read(dir, "responder.json") {
        Ok(r) => {
            match r["round_trips"].as_u64() {
                Some(n) => {
                    let path: Vec<String> = r["critical_path"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_owned))
                        .collect();
                    rows.push(row(
                        "responder: critical path",
                        format!("{n} round trips: {}", path.join(" → ")),
                        TRIPS_BAR,
                        Verdict::of(n <= 3),
                    ));
                }
                None => rows.push(not_run("responder: critical path", TRIPS_BAR, "no round_trips")),
            }
            match (num(&r, "responder_e2e_ms_p50"), num(&r, "responder_e2e_ms_p99")) {
                (Some(p50), Some(p99)) => rows.push(row(
                    "responder: end to end (local stack)",
                    format!(
                        "p50 {p50:.1} ms, p99 {p99:.1} ms{}",
                        call_times(&r["call_ms_p50"])
                    ),
                    E2E_BAR,
                    Verdict::of(p50 <= 50.0),
                )),
                _ => rows.push(not_run(
                    "responder: end to end (local stack)",
                    E2E_BAR,
                    "no responder_e2e_ms_p50/p99",
                )),
            }
        }
        Err(why) => {
            rows.push(not_run("responder: critical path", TRIPS_BAR, &why));
            rows.push(not_run("responder: end to end (local stack)", E2E_BAR, &why));
        }
    }
    const FOLLOW_BAR: &str = "each step note within one sweep interval of its time, never twice across overlapping sweeps and retries";
    const FOLLOW_WHAT: &str = "follow-through: aged incidents, two overlapping sweeps and a retry";
    match read(dir, "follow_up.json") {
        Ok(r) => match (
            r["followup_notes"].as_u64(),
            r["followup_expected"].as_u64(),
            r["followup_duplicates"].as_u64(),
            num(&r, "followup_sweep_ms"),
            r["followup_interval_s"].as_u64(),
        ) {
            (Some(notes), Some(expected), Some(dups), Some(ms), Some(interval)) => rows.push(row(
                FOLLOW_WHAT,
                format!(
                    "{} incidents: {notes} follow-up notes of {expected} due, {dups} twice; the overlapping sweeps took {ms:.0} ms (FollowUpSchedule every {interval} s)",
                    r["followup_incidents"]
                ),
                FOLLOW_BAR,
                Verdict::of(notes == expected && dups == 0 && ms < interval as f64 * 1000.0),
            )),
            _ => rows.push(not_run(FOLLOW_WHAT, FOLLOW_BAR, "no followup_* figures")),
        },
        Err(why) => rows.push(not_run(FOLLOW_WHAT, FOLLOW_BAR, &why)),
    }
    const OVERHEAD_BAR: &str = "p99 ≤ 1 ms (store excluded)";
    match read(dir, "overhead.json") {
        Ok(o) => match num(&o, "p99_us") {
            Some(p99) => {
                let criterion = match (
                    num(&o, "criterion_mean_us"),
                    num(&o, "criterion_ci_low_us"),
                    num(&o, "criterion_ci_high_us"),
                ) {
                    (Some(m), Some(lo), Some(hi)) => format!("; criterion mean {m:.1} µs [{lo:.1}, {hi:.1}]"),
                    _ => "; criterion not run".to_owned(),
                };
                rows.push(row(
                    "API handler overhead (GET /plans/{id}, store faked)",
                    format!(
                        "p50 {:.1} µs, p99 {p99:.1} µs over {} calls{criterion}",
                        num(&o, "p50_us").unwrap_or(f64::NAN),
                        o["iterations"]
                    ),
                    OVERHEAD_BAR,
                    Verdict::of(p99 <= 1000.0),
                ));
            }
            None => rows.push(not_run("API handler overhead", OVERHEAD_BAR, "no p99_us")),
        },
        Err(why) => rows.push(not_run("API handler overhead", OVERHEAD_BAR, &why)),
    }
    const WEBHOOK_BAR: &str = "p99 ≤ 5 ms of handler time (store excluded)";
    let what = "webhook handler (POST /hooks/*, ports in memory)";
    match read(dir, "overhead.json").map(|o| o["webhooks"].clone()) {
        Ok(w) => match (num(&w, "pagerduty_p99_us"), num(&w, "incident_p99_us")) {
            (Some(pd), Some(generic)) => rows.push(row(
                what,
                format!(
                    "/hooks/pagerduty p50 {:.1} µs, p99 {pd:.1} µs; /hooks/incident p50 {:.1} µs, p99 {generic:.1} µs; {} calls each",
                    num(&w, "pagerduty_p50_us").unwrap_or(f64::NAN),
                    num(&w, "incident_p50_us").unwrap_or(f64::NAN),
                    w["iterations"]
                ),
                WEBHOOK_BAR,
                Verdict::of(pd.max(generic) <= 5000.0),
            )),
            _ => rows.push(not_run(what, WEBHOOK_BAR, "no webhooks.*_p99_us in overhead.json")),
        },
        Err(why) => rows.push(not_run(what, WEBHOOK_BAR, &why)),
    }
    const LINT_BAR: &str = "≤ 1 s (release)";
    let what = "plans as code: lint of 1,000 plan files";
    match read(dir, "lint.json") {
        Ok(l) => match num(&l, "max_ms") {
            Some(max) => rows.push(row(
                what,
                format!(
                    "median {:.0} ms, max {max:.0} ms over {} runs of `support-plans lint` on {} files (half YAML, half JSON)",
                    num(&l, "median_ms").unwrap_or(f64::NAN),
                    l["runs"],
                    l["files"]
                ),
                LINT_BAR,
                Verdict::of(max <= 1000.0),
            )),
            None => rows.push(not_run(what, LINT_BAR, "no max_ms in lint.json")),
        },
        Err(why) => rows.push(not_run(what, LINT_BAR, &why)),
    }
    const MATCH_BAR: &str = "well under 10 ms CPU (p99)";
    let what = "/match at the input limits (store faked)";
    match read(dir, "overhead.json").map(|o| o["match"].clone()) {
        Ok(m) if num(&m, "p99_us").is_some() => {
            let p99 = num(&m, "p99_us").unwrap_or(f64::NAN);
            rows.push(row(
                what,
                format!(
                    "p50 {:.2} ms, p99 {:.2} ms over {} calls: {} workload(s) × {} patterns of {} bytes, {} resources of {} bytes, 20 keywords each, a 200-character title",
                    num(&m, "p50_us").unwrap_or(f64::NAN) / 1e3,
                    p99 / 1e3,
                    m["iterations"],
                    m["workloads"],
                    num(&m, "patterns").unwrap_or(f64::NAN) / num(&m, "workloads").unwrap_or(f64::NAN),
                    m["pattern_len"],
                    m["resources"],
                    m["resource_len"],
                ),
                MATCH_BAR,
                // "Well under": half the bar.
                Verdict::of(p99 <= 5_000.0),
            ));
        }
        Ok(_) => rows.push(not_run(what, MATCH_BAR, "no match.p99_us in overhead.json")),
        Err(why) => rows.push(not_run(what, MATCH_BAR, &why)),
    }
    const GET_BAR: &str = "p50 ≤ 10 ms";
    match read(dir, "stack.json").map(|s| s["get"].clone()) {
        Ok(g) if num(&g, "p50_ms").is_some() => {
            let p50 = num(&g, "p50_ms").unwrap_or(f64::NAN);
            rows.push(row(
                "GET /plans/{id} (local stack, cargo lambda watch)",
                format!(
                    "p50 {p50:.2} ms, p99 {:.2} ms over {} GETs",
                    num(&g, "p99_ms").unwrap_or(f64::NAN),
                    g["n"]
                ),
                GET_BAR,
                Verdict::of(p50 <= 10.0),
            ));
        }
        Ok(_) => rows.push(not_run(
            "GET /plans/{id} (local stack)",
            GET_BAR,
            "no get figure in stack.json",
        )),
        Err(why) => rows.push(not_run("GET /plans/{id} (local stack)", GET_BAR, &why)),
    }
    match read(dir, "stack.json").map(|s| s["readiness"].clone()) {
        Ok(r) => rows.push(readiness_row(&r, 10)),
        Err(why) => rows.push(not_run(readiness_what(10), READINESS_BAR, &why)),
    }
    let scale = read(dir, "scale.json");
    match &scale {
        Ok(s) => rows.push(readiness_row(&s["readiness"], SCALE_PLANS)),
        Err(why) => rows.push(not_run(readiness_what(SCALE_PLANS), READINESS_BAR, why)),
    }
    match &scale {
        Ok(s) => rows.extend(freshness_rows(&s["freshness"])),
        Err(why) => {
            for (what, bar) in FRESHNESS_ROWS {
                rows.push(not_run(what, bar, why));
            }
        }
    }
    const PHASES_WHAT: &str = "freshness, in process (the scale example): 10,000 plans / 100,000 contacts";
    const PHASES_BAR: &str = "(reference: the bar is judged on the function process)";
    match read(dir, "freshness.json") {
        Ok(f) => match (num(&f, "total_cpu_ms"), f["table_reads"].as_u64()) {
            (Some(total), Some(reads)) => rows.push(row(
                PHASES_WHAT,
                format!(
                    "{total:.0} ms CPU for the whole dry run in one process with the harness; whole plans read through \
                     the status index alone {:.0} ms, in {} pages; their evaluation alone {:.0} ms; \
                     {reads} requests in the dry run; {} plans / {} contacts",
                    num(&f, "read_cpu_ms").unwrap_or(f64::NAN),
                    f["pages"],
                    num(&f, "eval_cpu_ms").unwrap_or(f64::NAN),
                    f["plans"],
                    f["contacts"]
                ),
                PHASES_BAR,
                Verdict::Reference,
            )),
            _ => rows.push(not_run(PHASES_WHAT, PHASES_BAR, "no total_cpu_ms/table_reads")),
        },
        Err(why) => rows.push(not_run(PHASES_WHAT, PHASES_BAR, &why)),
    }
    rows
}

/// The rows as a Markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from("| figure | measured | bar | verdict |\n|---|---|---|---|\n");
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.what,
            r.measured.replace('|', "\\|"),
            r.bar,
            r.verdict.label()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> std::path::PathBuf {
        // Tests run in parallel: one directory each call.
        static DIRS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = DIRS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("bench-table-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn match_at_the_limits_is_met_well_under_10_ms() {
        let measured = |p99: f64| {
            let text = format!(
                r#"{{"p50_us": 100.0, "p99_us": 200.0, "iterations": 10, "match": {{"iterations": 100, "p50_us": 1000.0, "p99_us": {p99}, "workloads": 10, "patterns": 500, "pattern_len": 1024, "resources": 31, "resource_len": 2048}}}}"#
            );
            let dir = dir_with(&[("overhead.json", &text)]);
            let rows = rows(&dir);
            std::fs::remove_dir_all(dir).unwrap();
            rows.into_iter()
                .find(|r| r.what == "/match at the input limits (store faked)")
                .unwrap()
        };
        let met = measured(3000.0);
        assert_eq!(met.verdict, Verdict::Met);
        assert!(met.measured.contains("p99 3.00 ms over 100 calls: 10 workload(s) × 50 patterns of 1024 bytes, 31 resources of 2048 bytes"), "{}", met.measured);
        assert_eq!(measured(7000.0).verdict, Verdict::Missed);
    }

    /// A function the template deploys and the bench does not measure would
    /// escape the bars (the 4 MiB zip, cold start, peak RSS).
    #[test]
    fn every_function_the_template_deploys_is_measured() {
        let template = local_stack::policy::Template::read(&local_stack::template_path()).unwrap();
        let mut deployed = template.function_binaries().unwrap();
        deployed.sort();
        let mut measured = FUNCTIONS.to_vec();
        measured.sort_unstable();
        assert_eq!(measured, deployed);
        // run.sh builds, zips and measures the same list.
        let run = include_str!("../run.sh");
        let functions = format!("FUNCTIONS=({})", FUNCTIONS.join(" "));
        assert!(
            run.lines().any(|l| l == functions),
            "run.sh has no line {functions}"
        );
        let release = format!(
            "    timed \"release build\" cargo build --release{}",
            FUNCTIONS.iter().map(|f| format!(" -p {f}")).collect::<String>()
        );
        assert!(run.lines().any(|l| l == release), "run.sh has no line {release}");
    }

    #[test]
    fn verdicts_follow_the_bars() {
        let dir = dir_with(&[
            (
                "stack.json",
                r#"{"cold_start": {
                "hello-world": {"runs": 3, "cold_ms_median": 2.0, "cold_ms_max": 3.0, "hwm_mib_median": 3.0, "hwm_mib_max": 3.0},
                "plans-api": {"runs": 3, "cold_ms_median": 5.0, "cold_ms_max": 7.0, "hwm_mib_median": 10.0, "hwm_mib_max": 11.0},
                "incident-responder": {"runs": 3, "cold_ms_median": 7.0, "cold_ms_max": 8.0, "hwm_mib_median": 20.0, "hwm_mib_max": 25.0}},
              "get": {"n": 200, "p50_ms": 4.0, "p99_ms": 9.0}}"#,
            ),
            (
                "zip.json",
                r#"{"plans-api": 3000000, "incident-responder": 5000000, "freshness-check": 1000}"#,
            ),
            (
                "responder.json",
                r#"{"responder_e2e_ms_p50": 20.0, "responder_e2e_ms_p99": 60.0, "call_ms_p50": {"GetItem": 1.5, "Publish": 12.3}, "round_trips": 3, "critical_path": ["GetItem", "CreateTimelineEvent", "PutItem"]}"#,
            ),
            ("freshness.json", r#"{"skipped": "BENCH_SMOKE=1"}"#),
            (
                "follow_up.json",
                r#"{"followup_incidents": 25, "followup_notes": 299, "followup_expected": 300, "followup_duplicates": 0, "followup_sweep_ms": 900.0, "followup_interval_s": 300}"#,
            ),
        ]);
        let rows = rows(&dir);
        let verdict = |what: &str| rows.iter().find(|r| r.what == what).map(|r| r.verdict).unwrap();
        assert_eq!(verdict("cold start: plans-api"), Verdict::Met);
        // 7 ms is under 10 ms but 3.5× the baseline.
        assert_eq!(verdict("cold start: incident-responder"), Verdict::Missed);
        assert_eq!(verdict("cold start: freshness-check"), Verdict::NotRun);
        assert_eq!(verdict("peak RSS: plans-api"), Verdict::Met);
        assert_eq!(verdict("peak RSS: incident-responder"), Verdict::Missed);
        assert_eq!(verdict("deployment zip: plans-api"), Verdict::Met);
        assert_eq!(verdict("deployment zip: incident-responder"), Verdict::Missed);
        assert_eq!(verdict("deployment zip: incident-hooks"), Verdict::NotRun);
        assert_eq!(verdict("responder: critical path"), Verdict::Met);
        assert_eq!(verdict("responder: end to end (local stack)"), Verdict::Met);
        assert_eq!(verdict("API handler overhead"), Verdict::NotRun);
        assert_eq!(
            verdict("/match at the input limits (store faked)"),
            Verdict::NotRun
        );
        assert_eq!(
            verdict("GET /plans/{id} (local stack, cargo lambda watch)"),
            Verdict::Met
        );
        assert_eq!(
            verdict("follow-through: aged incidents, two overlapping sweeps and a retry"),
            Verdict::Missed,
            "a note not posted misses the bar"
        );
        let fresh = rows
            .iter()
            .find(|r| r.what.starts_with("freshness, in process"))
            .unwrap();
        assert_eq!(fresh.verdict, Verdict::NotRun);
        assert!(fresh.measured.contains("BENCH_SMOKE=1"), "{}", fresh.measured);
        let md = markdown(&rows);
        assert!(md.contains("| deployment zip: incident-responder | 4.77 MiB (5000000 bytes) | ≤ 4 MiB (release, arm64) | MISSED |"), "{md}");
        assert!(
            md.contains(
                "| p50 20.0 ms, p99 60.0 ms; each call on the path, median: Publish 12.3 ms, GetItem 1.5 ms |"
            ),
            "{md}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn readiness_json(plans: u64, p50: f64, requests: &str) -> String {
        format!(
            r#"{{"plans": {plans}, "n": 200, "asked": 200, "stopped_by_budget": false, "p50_ms": {p50}, "p99_ms": 12.0,
                "dynamodb": {requests}}}"#
        )
    }

    const ONE_GET: &str =
        r#"{"requests": 1, "by_op": {"GetItem": 1}, "plan_passes": 0, "plan_pages": 0, "paginated": {}}"#;
    const FULL_READ: &str = r#"{"requests": 5, "by_op": {"Query": 4, "BatchGetItem": 1}, "plan_passes": 1, "plan_pages": 3, "paginated": {"Query by-status PLAN#active": 3}}"#;

    fn scale_json(plans: u64, readiness: &str, cpu: f64, hwm: f64, db: &str) -> String {
        format!(
            r#"{{"readiness": {readiness},
                "freshness": {{"runs": 3, "plans": {plans}, "contacts": {}, "table_reads": 36, "cpu_ms": [{cpu}],
                  "cpu_ms_median": {cpu}, "cpu_ms_max": {cpu}, "init_cpu_ms_median": 10.0,
                  "hwm_mib_median": {hwm}, "hwm_mib_max": {hwm}, "invoke_ms_median": 4200.0, "dynamodb": {db}}}}}"#,
            plans * 10
        )
    }

    fn find<'a>(rows: &'a [Row], prefix: &str) -> &'a Row {
        rows.iter()
            .find(|r| r.what.starts_with(prefix))
            .unwrap_or_else(|| panic!("no row {prefix}"))
    }

    #[test]
    fn readiness_is_met_at_both_sizes_only_fast_and_from_one_item() {
        let stack = format!(r#"{{"readiness": {}}}"#, readiness_json(10, 4.2, ONE_GET));
        let scale = scale_json(
            10_000,
            &readiness_json(10_000, 6.5, ONE_GET),
            800.0,
            40.0,
            FULL_READ,
        );
        let dir = dir_with(&[("stack.json", &stack), ("scale.json", &scale)]);
        let rows = rows(&dir);
        std::fs::remove_dir_all(dir).unwrap();
        let at10 = find(&rows, "GET /readiness at 10 plans");
        assert_eq!(at10.verdict, Verdict::Met, "{at10:?}");
        assert!(
            at10.measured
                .starts_with("p50 4.20 ms, p99 12.00 ms over 200 GETs at 10 plans;"),
            "{}",
            at10.measured
        );
        assert!(
            at10.measured.ends_with("made DynamoDB requests: 1 (GetItem 1)"),
            "{}",
            at10.measured
        );
        assert_eq!(
            find(&rows, "GET /readiness at 10,000 plans").verdict,
            Verdict::Met
        );

        // Fast, but by reading the plans: missed. One item, but slow: missed.
        let full = readiness_json(10_000, 6.5, FULL_READ);
        let slow = readiness_json(10, 11.0, ONE_GET);
        let dir = dir_with(&[
            ("stack.json", &format!(r#"{{"readiness": {slow}}}"#)),
            ("scale.json", &scale_json(10_000, &full, 800.0, 40.0, FULL_READ)),
        ]);
        let missed = super::rows(&dir);
        std::fs::remove_dir_all(dir).unwrap();
        assert_eq!(
            find(&missed, "GET /readiness at 10 plans").verdict,
            Verdict::Missed
        );
        let big = find(&missed, "GET /readiness at 10,000 plans");
        assert_eq!(big.verdict, Verdict::Missed);
        assert!(
            big.measured.contains("5 (BatchGetItem 1, Query 4)"),
            "{}",
            big.measured
        );
    }

    #[test]
    fn the_freshness_process_is_judged_on_cpu_rss_and_one_read_at_10_000_plans() {
        let readiness = readiness_json(10_000, 6.5, ONE_GET);
        let verdicts = |cpu: f64, hwm: f64, db: &str| {
            let dir = dir_with(&[("scale.json", &scale_json(10_000, &readiness, cpu, hwm, db))]);
            let rows = rows(&dir);
            std::fs::remove_dir_all(dir).unwrap();
            [
                find(&rows, FRESHNESS_CPU).clone(),
                find(&rows, FRESHNESS_RSS).clone(),
                find(&rows, FRESHNESS_READS).clone(),
            ]
        };
        let [cpu, rss, reads] = verdicts(800.0, 40.0, FULL_READ);
        assert_eq!(
            [cpu.verdict, rss.verdict, reads.verdict],
            [Verdict::Met, Verdict::Met, Verdict::Met]
        );
        assert!(
            cpu.measured.starts_with("median 800 ms, max 800 ms over 3 runs"),
            "{}",
            cpu.measured
        );
        assert!(
            cpu.measured.ends_with("10,000 plans / 100,000 contacts"),
            "{}",
            cpu.measured
        );
        assert!(
            reads
                .measured
                .starts_with("the plans read in 1 pass(es) of 3 pages; `table_reads` 36"),
            "{}",
            reads.measured
        );
        let [cpu, rss, reads] = verdicts(
            1900.0,
            300.0,
            &FULL_READ.replace(r#""plan_passes": 1"#, r#""plan_passes": 2"#),
        );
        assert_eq!(
            [cpu.verdict, rss.verdict, reads.verdict],
            [Verdict::Missed, Verdict::Missed, Verdict::Missed]
        );
    }

    /// The smoke run goes through the same paths at 10 plans: no verdict.
    #[test]
    fn scale_figures_at_another_size_are_not_judged() {
        let scale = scale_json(10, &readiness_json(10, 3.0, ONE_GET), 50.0, 12.0, FULL_READ);
        let dir = dir_with(&[("scale.json", &scale)]);
        let rows = rows(&dir);
        std::fs::remove_dir_all(dir).unwrap();
        for prefix in [
            "GET /readiness at 10,000 plans",
            FRESHNESS_CPU,
            FRESHNESS_RSS,
            FRESHNESS_READS,
        ] {
            let r = find(&rows, prefix);
            assert_eq!(r.verdict, Verdict::NotRun, "{r:?}");
            assert!(
                r.measured.contains("judged at 10,000 plans; measured at 10:"),
                "{}",
                r.measured
            );
        }
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(999), "999");
    }
}
