//! The binary's `diff`, `apply`, `export` and `readiness` (SPEC §12): the
//! folder linted, the client made from the options, the engine
//! (`support_plans::apply`) run, and what it did told: on stdout per
//! resource (text or JSON), a summary and the failures on stderr. Exit
//! 0 / 1 / 2 as SPEC §12. `readiness` reads the figures and draws them
//! (`support_plans::readiness`).

use std::io::{self, BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support_plans::apply::{self, Action, Plan, Step};
use support_plans::client::{Auth, Client};
use support_plans::lint;
use support_plans::readiness::{self, Readiness};

use super::{Output, Remote};

/// Runs `diff`, `apply` or `export`.
pub fn run(r: Remote) -> ExitCode {
    let command = r.command;
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(command, &format!("cannot start: {e}")),
    };
    runtime.block_on(async move {
        match command {
            "export" => export(&r).await,
            "readiness" => show_readiness(&r).await,
            _ => diff_or_apply(&r).await,
        }
    })
}

fn fail(command: &str, message: &str) -> ExitCode {
    eprintln!("support-plans {command}: {message}");
    ExitCode::FAILURE
}

async fn client(r: &Remote) -> Result<Client, String> {
    let endpoint = match &r.endpoint {
        Some(e) => e.clone(),
        None => std::env::var("SUPPORT_PLANS_URL")
            .ok()
            .filter(|e| !e.trim().is_empty())
            .ok_or(
                "no endpoint: give --endpoint URL or set SUPPORT_PLANS_URL (the API's URL, with its stage)",
            )?,
    };
    let auth = match &r.auth {
        Some(a) => a.clone(),
        None => match std::env::var("SUPPORT_PLANS_TOKEN") {
            Ok(t) if !t.trim().is_empty() => Auth::Bearer(t),
            _ => Auth::Sigv4,
        },
    };
    Client::new(&endpoint, auth).await.map_err(|e| e.to_string())
}

async fn diff_or_apply(r: &Remote) -> ExitCode {
    let command = r.command;
    let report = lint::lint_paths(std::slice::from_ref(&r.dir));
    for note in &report.notes {
        eprintln!("note: {note}");
    }
    if !report.is_clean() {
        match r.output {
            Output::Text => report.problems.iter().for_each(|p| println!("{p}")),
            Output::Json => println!("{}", json!({ "problems": report.problems })),
        }
        return fail(
            command,
            &format!(
                "{} problem(s) in {}: fix them first (`support-plans lint {}`); nothing was read from or written to the API",
                report.problems.len(),
                r.dir.display(),
                r.dir.display()
            ),
        );
    }
    let client = match client(r).await {
        Ok(c) => c,
        Err(e) => return fail(command, &e),
    };
    let plan = match apply::plan(&client, &report.resources, r.prune, &apply::kinds_in(&r.dir)).await {
        Ok(p) => p,
        Err(e) => return fail(command, &e),
    };
    if command == "diff" {
        show_plan(&plan, r.output, None);
        eprintln!("support-plans diff: {}", summary(&plan));
        return if plan.changes_anything() {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    if let Err(why) = confirm_retires(r, &plan) {
        show_plan(&plan, r.output, Some(&why));
        return fail(command, &why);
    }
    let mut progress = Progress::new(r.progress || io::stderr().is_terminal());
    let outcomes = apply::execute(&client, &plan, |done, total| progress.show(done, total)).await;
    progress.clear();
    let mut results: Vec<Option<Result<(), String>>> = vec![None; plan.steps.len()];
    for o in outcomes {
        results[o.step] = Some(o.result.map_err(|e| e.to_string()));
    }
    let failed = results.iter().flatten().filter(|r| r.is_err()).count();
    match r.output {
        Output::Text => {
            for (step, result) in plan.steps.iter().zip(&results) {
                match result {
                    Some(Ok(())) => println!("{} {} {}", done_word(step.action), step.kind, step.id),
                    Some(Err(e)) => eprintln!(
                        "support-plans apply: {} {}: {e}; not {}",
                        step.kind,
                        step.id,
                        done_word(step.action)
                    ),
                    None => {}
                }
            }
        }
        Output::Json => {
            let steps: Vec<Value> = plan
                .steps
                .iter()
                .zip(&results)
                .map(|(step, result)| {
                    let mut v = serde_json::to_value(step).expect("a step serializes");
                    match result {
                        Some(Ok(())) => v["result"] = json!("ok"),
                        Some(Err(e)) => {
                            v["result"] = json!("failed");
                            v["error"] = json!(e);
                        }
                        None => v["result"] = json!("unchanged"),
                    }
                    v
                })
                .collect();
            println!("{}", json!({ "steps": steps, "failed": failed }));
        }
    }
    let written = results.iter().flatten().filter(|r| r.is_ok()).count();
    eprintln!(
        "support-plans apply: {written} written, {} unchanged, {failed} failed",
        plan.count(Action::Unchanged)
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `Err(why)` when `--prune`'s retires may not go ahead; then nothing at
/// all is written.
fn confirm_retires(r: &Remote, plan: &Plan) -> Result<(), String> {
    let n = plan.retires().count();
    if n == 0 {
        return Ok(());
    }
    let all = plan.retires_all();
    if !all.is_empty() && !r.allow_retire_all {
        let kinds: Vec<String> = all.iter().map(|k| format!("every active {k}")).collect();
        return Err(format!(
            "--prune would retire {}: nothing written; if that is meant, add --allow-retire-all",
            kinds.join(" and ")
        ));
    }
    if r.yes {
        return Ok(());
    }
    if !(io::stdin().is_terminal() && io::stderr().is_terminal()) {
        return Err(format!(
            "--prune would retire {n} record(s) (listed above) and there is no terminal to confirm on: \
             nothing written; add --yes to retire them"
        ));
    }
    for step in plan.retires() {
        eprintln!("  retire {} {}", step.kind, step.id);
    }
    eprint!("retire these {n}? type yes to go on: ");
    let mut answer = String::new();
    io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| format!("reading the answer: {e}"))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err("not confirmed: nothing written".into())
    }
}

fn action_word(a: Action) -> &'static str {
    match a {
        Action::Create => "create",
        Action::Update => "update",
        Action::Unchanged => "unchanged",
        Action::Retire => "retire",
    }
}

fn done_word(a: Action) -> &'static str {
    match a {
        Action::Create => "created",
        Action::Update => "updated",
        Action::Unchanged => "unchanged",
        Action::Retire => "retired",
    }
}

/// The plan per resource on stdout; in JSON with `error` when refused.
fn show_plan(plan: &Plan, output: Output, error: Option<&str>) {
    match output {
        Output::Text => {
            let mut out = io::stdout().lock();
            for step in &plan.steps {
                let _ = writeln!(out, "{}", line(step));
                for change in &step.changes {
                    let _ = writeln!(out, "    {change}");
                }
                if let Some(note) = &step.note {
                    let _ = writeln!(out, "    note: {note}");
                }
            }
        }
        Output::Json => {
            let mut doc = json!({
                "steps": plan.steps,
                "summary": {
                    "create": plan.count(Action::Create),
                    "update": plan.count(Action::Update),
                    "unchanged": plan.count(Action::Unchanged),
                    "retire": plan.count(Action::Retire),
                },
            });
            if let Some(e) = error {
                doc["error"] = json!(e);
            }
            println!("{doc}");
        }
    }
}

fn line(step: &Step) -> String {
    let whence = match &step.file {
        Some(f) => format!("  ({})", f.display()),
        None => "  (no file holds it)".into(),
    };
    format!(
        "{:<9} {} {}{whence}",
        action_word(step.action),
        step.kind,
        step.id
    )
}

fn summary(plan: &Plan) -> String {
    format!(
        "{} to create, {} to update, {} unchanged, {} to retire",
        plan.count(Action::Create),
        plan.count(Action::Update),
        plan.count(Action::Unchanged),
        plan.count(Action::Retire)
    )
}

/// `applied N/M…` on stderr, once a run has taken more than a second.
struct Progress {
    enabled: bool,
    start: Instant,
    shown: bool,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        Self {
            enabled,
            start: Instant::now(),
            shown: false,
        }
    }

    fn show(&mut self, done: usize, total: usize) {
        if self.enabled && self.start.elapsed() > Duration::from_secs(1) {
            eprint!("\rapplied {done}/{total}…");
            self.shown = true;
        }
    }

    fn clear(&self) {
        if self.shown {
            eprintln!();
        }
    }
}

async fn export(r: &Remote) -> ExitCode {
    let client = match client(r).await {
        Ok(c) => c,
        Err(e) => return fail("export", &e),
    };
    match apply::export(&client, &r.dir, r.force).await {
        Ok(done) => {
            match r.output {
                Output::Text => done.files.iter().for_each(|f| println!("{}", f.display())),
                Output::Json => println!("{}", json!({ "files": done.files })),
            }
            eprintln!(
                "support-plans export: {} file(s) written to {}{}",
                done.files.len(),
                r.dir.display(),
                match done.retired_plans {
                    0 => String::new(),
                    n => format!(" ({n} retired plan(s) that active workloads depend on)"),
                }
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail("export", &e),
    }
}

async fn show_readiness(r: &Remote) -> ExitCode {
    let client = match client(r).await {
        Ok(c) => c,
        Err(e) => return fail("readiness", &e),
    };
    let answer = match client.readiness().await {
        Ok(v) => v,
        Err(e) => return fail("readiness", &e.to_string()),
    };
    let figures = match Readiness::from_json(&answer) {
        Ok(f) => f,
        Err(e) => return fail("readiness", &e),
    };
    match r.output {
        Output::Text => print!("{}", readiness::text(&figures)),
        Output::Json => println!("{answer}"),
    }
    if let Some(path) = &r.svg {
        let chart = readiness::svg(&figures, &format!("GET {}/readiness", client.endpoint()));
        let written = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(path, chart));
        if let Err(e) = written {
            return fail("readiness", &format!("cannot write {}: {e}", path.display()));
        }
        eprintln!(
            "support-plans readiness: chart written to {} ({} × {} SVG; {} gap figure(s))",
            path.display(),
            readiness::WIDTH,
            readiness::HEIGHT,
            figures.gap_count()
        );
    }
    ExitCode::SUCCESS
}
