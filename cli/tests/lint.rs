//! `support-plans lint` as a user runs it (SPEC §12): the built binary over
//! folders of files, its output, its exit status; and the 1,000-file run
//! the bench measures (its time printed here, not asserted: bars are
//! checked by `make bench`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};
use support_plans::lint;
use support_plans_domain::PlanSpec;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn lint_in(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_support-plans"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().expect("an exit status"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// An empty folder of this test's own, with `plans/` and `workloads/`.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lint").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("plans")).unwrap();
    fs::create_dir_all(dir.join("workloads")).unwrap();
    dir
}

fn sample(kind: &str, name: &str) -> Value {
    let path = workspace().join(format!("infra/local/samples/{kind}/{name}.json"));
    serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap()
}

fn write(dir: &Path, file: &str, bytes: impl AsRef<[u8]>) {
    fs::write(dir.join(file), bytes).unwrap();
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

#[test]
fn the_samples_lint_clean() {
    let run = lint_in(&workspace(), &["lint", "infra/local/samples"]);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "support-plans lint: 7 files (4 plans, 3 workloads), no problem\n"
    );
    assert_eq!(run.code, 0);
}

/// A plan with two field errors, the API's own messages for them.
fn plan_with_two_errors() -> (Value, Vec<String>) {
    let mut body = sample("plans", "aws-business");
    body["id"] = json!("two-errors");
    body["channels"][0]["value"] = json!("http://support.example.com");
    body["contacts"][1]["email"] = json!("not an address");
    let api = PlanSpec::parse(&body).unwrap_err();
    assert_eq!(api.fields(), ["channels[0].value", "contacts[1].email"]);
    let want = api
        .0
        .iter()
        .map(|e| format!("plans/two-errors.yaml: {}: {}", e.field, e.message))
        .collect();
    (body, want)
}

/// Five broken files and a good one: every problem, with file and field.
fn broken_folder(name: &str) -> (PathBuf, Vec<String>) {
    let dir = scratch(name);
    let aws = sample("plans", "aws-business");
    write(
        &dir,
        "plans/aws-business.json",
        serde_json::to_string_pretty(&aws).unwrap(),
    );
    // The same id again, in YAML.
    write(
        &dir,
        "plans/aws-business.yaml",
        serde_yaml::to_string(&aws).unwrap(),
    );
    write(
        &dir,
        "plans/broken.yaml",
        "id: broken\nvendor: [Acme\ntier: Gold\n",
    );
    write(
        &dir,
        "plans/latin1.yaml",
        b"id: latin1\nvendor: Soci\xe9t\xe9 G\n",
    );
    let (two, mut want) = plan_with_two_errors();
    write(
        &dir,
        "plans/two-errors.yaml",
        serde_yaml::to_string(&two).unwrap(),
    );
    let mut orphan = sample("workloads", "analytics");
    orphan["name"] = json!("orphan");
    orphan["dependencies"] = json!(["aws-business", "not-here"]);
    write(
        &dir,
        "workloads/orphan.yaml",
        serde_yaml::to_string(&orphan).unwrap(),
    );

    let mut all = vec![
        "plans/aws-business.yaml: id: 'aws-business' is also the id of plans/aws-business.json: one file per plan".to_owned(),
        // The YAML parser's own words, with where.
        "plans/broken.yaml: not YAML: did not find expected ',' or ']' at line 3 column 5, while parsing a flow sequence at line 2 column 9".to_owned(),
        "plans/latin1.yaml: not UTF-8: invalid byte 0xe9 at byte offset 23 (line 2); save the file as UTF-8".to_owned(),
    ];
    all.append(&mut want);
    all.push("workloads/orphan.yaml: dependencies[1]: no plan 'not-here' among the files linted (lint plans/ too, or add plans/not-here.yaml): the API refuses a dependency on a plan it does not have".to_owned());
    (dir, all)
}

#[test]
fn five_broken_files_every_problem_with_its_file_and_field() {
    let (dir, want) = broken_folder("broken");
    let run = lint_in(&dir, &["lint", "."]);
    assert_eq!(lines(&run.stdout), want);
    assert_eq!(run.stderr, "support-plans lint: 6 problems in 5 of 6 files\n");
    assert_eq!(run.code, 1);
}

#[test]
fn output_json_is_a_list_of_file_field_message() {
    let (dir, want) = broken_folder("broken-json");
    let run = lint_in(&dir, &["lint", "--output", "json", "."]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr, "", "no summary in JSON mode");
    let problems: Vec<Value> = serde_json::from_str(&run.stdout).expect("a JSON list");
    assert_eq!(problems.len(), want.len());
    for p in &problems {
        let keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 3, "{p}");
        for key in ["file", "field", "message"] {
            assert!(p[key].is_string(), "{key} in {p}");
        }
    }
    assert_eq!(
        problems[2],
        json!({"file": "plans/latin1.yaml", "field": "", "message": "not UTF-8: invalid byte 0xe9 at byte offset 23 (line 2); save the file as UTF-8"})
    );
    assert_eq!(problems[3]["field"], "channels[0].value");
    assert_eq!(problems[4]["field"], "contacts[1].email");

    let clean = lint_in(&workspace(), &["lint", "--output=json", "infra/local/samples"]);
    assert_eq!((clean.code, clean.stdout.as_str()), (0, "[]\n"));
}

#[test]
fn yaml_and_json_give_the_same_problems() {
    let (plan, _) = plan_with_two_errors();
    let mut workload = sample("workloads", "payments");
    workload["name"] = json!("Payments");
    workload["criticality"] = json!("tier-0");
    workload["dependencies"] = json!(["two-errors", "missing"]);
    let yaml = scratch("same-yaml");
    let json_dir = scratch("same-json");
    write(
        &yaml,
        "plans/two-errors.yml",
        serde_yaml::to_string(&plan).unwrap(),
    );
    write(
        &yaml,
        "workloads/payments.yaml",
        serde_yaml::to_string(&workload).unwrap(),
    );
    write(
        &json_dir,
        "plans/two-errors.json",
        serde_json::to_string(&plan).unwrap(),
    );
    write(
        &json_dir,
        "workloads/payments.json",
        serde_json::to_string_pretty(&workload).unwrap(),
    );
    let from_yaml = lint_in(&yaml, &["lint", "."]);
    let from_json = lint_in(&json_dir, &["lint", "."]);
    assert_eq!(from_yaml.code, 1);
    assert_eq!(lines(&from_yaml.stdout).len(), 5, "{}", from_yaml.stdout);
    assert_eq!(
        from_yaml.stdout.replace(".yml:", ":").replace(".yaml:", ":"),
        from_json.stdout.replace(".json:", ":")
    );
}

#[test]
fn one_file_takes_its_kind_from_its_folder() {
    let dir = scratch("single");
    fs::create_dir_all(dir.join("notes")).unwrap();
    write(
        &dir,
        "plans/aws-business.json",
        sample("plans", "aws-business").to_string(),
    );
    write(
        &dir,
        "notes/aws-business.json",
        sample("plans", "aws-business").to_string(),
    );
    write(&dir, "plans/aws-business.txt", "id: aws-business\n");

    let ok = lint_in(&dir, &["lint", "plans/aws-business.json"]);
    assert_eq!((ok.code, ok.stdout.as_str()), (0, ""));
    // `lint .` inside plans/: the folder's real name tells.
    let inside = lint_in(&dir.join("plans"), &["lint", "."]);
    assert_eq!(inside.code, 0, "{}{}", inside.stdout, inside.stderr);
    assert!(
        inside.stderr.contains("1 file (1 plan, 0 workloads)"),
        "{}",
        inside.stderr
    );

    // A link named plans/ to a folder named otherwise: the name given tells.
    fs::create_dir_all(dir.join("repo")).unwrap();
    fs::create_dir_all(dir.join("elsewhere")).unwrap();
    write(
        &dir,
        "elsewhere/aws-business.json",
        sample("plans", "aws-business").to_string(),
    );
    std::os::unix::fs::symlink(dir.join("elsewhere"), dir.join("repo/plans")).unwrap();
    let linked = lint_in(&dir, &["lint", "repo/plans", "repo/plans/aws-business.json"]);
    assert_eq!((linked.code, linked.stdout.as_str()), (0, ""));
    assert!(
        linked
            .stderr
            .ends_with("1 file (1 plan, 0 workloads), no problem\n"),
        "{}",
        linked.stderr
    );

    let run = lint_in(
        &dir,
        &[
            "lint",
            "notes/aws-business.json",
            "plans/aws-business.txt",
            "nowhere",
        ],
    );
    assert_eq!(
        lines(&run.stdout),
        [
            "notes/aws-business.json: cannot tell a plan from a workload: the file must be in a folder named plans/ or workloads/",
            "plans/aws-business.txt: not a .yaml, .yml or .json file",
            "nowhere: cannot read: no such file or folder",
        ]
    );
    assert_eq!(run.code, 1);
    let notes = lint_in(&dir, &["lint", "notes"]);
    assert_eq!(
        notes.stdout,
        "notes: holds neither plans/ nor workloads/: files go in DIR/plans/ and DIR/workloads/\n"
    );
}

#[test]
fn other_files_in_the_folders_are_skipped_with_a_note() {
    let dir = scratch("skipped");
    write(
        &dir,
        "plans/aws-business.json",
        sample("plans", "aws-business").to_string(),
    );
    write(&dir, "plans/README.md", "# our plans\n");
    write(&dir, "plans/.gitkeep", "");
    fs::create_dir_all(dir.join("workloads/old")).unwrap();
    // The same file reached twice is read once.
    let run = lint_in(&dir, &["lint", ".", "plans/aws-business.json"]);
    assert_eq!(run.stdout, "");
    assert_eq!(
        lines(&run.stderr),
        [
            "note: plans/README.md: skipped: not a .yaml, .yml or .json file",
            "note: workloads/old: skipped: a folder (workloads/ is not read recursively)",
            "support-plans lint: 1 file (1 plan, 0 workloads), no problem",
        ]
    );
    assert_eq!(run.code, 0);
}

#[test]
fn help_texts_and_usage_errors() {
    let dir = workspace();
    let help = lint_in(&dir, &["--help"]);
    assert_eq!(help.code, 0);
    for line in ["support-plans lint PATH...", "DIR/plans/<id>.yaml", "Exit status"] {
        assert!(help.stdout.contains(line), "{line}");
    }
    let lint_help = lint_in(&dir, &["help", "lint"]);
    assert_eq!(lint_help.code, 0);
    assert!(lint_help.stdout.contains("--output json"));
    assert_eq!(lint_in(&dir, &["lint", "--help"]).stdout, lint_help.stdout);

    // diff and apply lint first: a folder that is not a plans folder is an
    // error before any call; export takes -o, not -f.
    for cmd in ["diff", "apply"] {
        let run = lint_in(&dir, &[cmd, "-f", "."]);
        assert_eq!(run.code, 1, "{cmd}");
        assert!(
            run.stderr.contains("nothing was read from or written to the API"),
            "{}",
            run.stderr
        );
        assert!(help.stdout.contains(&format!("support-plans {cmd} ")), "{cmd}");
    }
    let export = lint_in(&dir, &["export", "-f", "."]);
    assert_eq!(export.code, 1);
    assert!(
        export.stderr.contains("-f is not an option of export"),
        "{}",
        export.stderr
    );
    assert!(help.stdout.contains("support-plans export "));
    for args in [
        &[][..],
        &["lint"],
        &["lint", "--output", "xml", "."],
        &["frobnicate"],
    ] {
        let run = lint_in(&dir, args);
        assert_eq!(run.code, 1, "{args:?}");
        assert!(run.stderr.starts_with("support-plans: "), "{}", run.stderr);
        assert_eq!(run.stdout, "");
    }
}

/// What `make bench` measures: `lint` of 1,000 plan files. Printed only.
#[test]
fn lint_of_1000_plan_files_reports_its_time() {
    let dir = scratch("thousand");
    let aws = sample("plans", "aws-business");
    for i in 0..1000 {
        let mut body = aws.clone();
        let id = format!("plan-{i:04}");
        body["id"] = json!(id);
        let text = if i % 2 == 0 {
            serde_yaml::to_string(&body).unwrap()
        } else {
            serde_json::to_string_pretty(&body).unwrap()
        };
        let ext = if i % 2 == 0 { "yaml" } else { "json" };
        write(&dir, &format!("plans/{id}.{ext}"), text);
    }
    let start = Instant::now();
    let report = lint::lint_paths(std::slice::from_ref(&dir));
    let in_process = start.elapsed();
    assert!(report.is_clean(), "{:?}", report.problems.first());
    assert_eq!(report.files, 1000);

    let start = Instant::now();
    let run = lint_in(&dir, &["lint", "."]);
    let binary = start.elapsed();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    eprintln!("lint of 1,000 plan files ({profile} build): lint_paths {in_process:?}, the binary {binary:?}");
}
