//! `support-plans` (SPEC §12): the command line, parsed by hand (as the other
//! binaries do: no argument-parsing crate for four subcommands), and one
//! command run. Exit status: 0 success, 1 problems or errors (a wrong
//! command line too), 2 only for `diff`'s "something would change".

use std::ffi::OsString;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use support_plans::files::Kind;
use support_plans::lint;

const HELP: &str = "\
support-plans: support plans and workloads kept as files in a repository,
reviewed like code and applied to the support-plans API.

Usage:
  support-plans lint PATH...      check files offline: every problem as `file: field: message`
  support-plans diff -f DIR       what apply would change              (not yet available)
  support-plans apply -f DIR      create and replace what changed      (not yet available)
  support-plans export -o DIR     write what the API holds as files    (not yet available)
  support-plans help [COMMAND]    this text, or a command's in full

Files: one plan or workload per .yaml, .yml or .json file, the folder telling which:
  DIR/plans/<id>.yaml            a support plan, the file named after its id
  DIR/workloads/<name>.yaml      a workload, the file named after its name

Options:
  -h, --help       this text (after a command: that command's, e.g. `support-plans lint --help`)
  -V, --version    the version

Exit status: 0 success (lint: no problem; diff: nothing would change);
1 problems or errors, a wrong command line included; 2 diff: something would change.
";

const HELP_LINT: &str = "\
support-plans lint: check plan and workload files offline with the API's own
validation, and report every problem of every file. Needs no credentials and no
network: run it on every pull request of a plans repository.

Usage: support-plans lint [--output text|json] PATH...

Each PATH is one of
  a plans repository: a folder holding plans/ and/or workloads/;
  a folder named plans/ or workloads/;
  one .yaml, .yml or .json file inside a folder named plans/ or workloads/.
In plans/ and workloads/, other files (a README) and sub-folders are skipped,
with a note on stderr; hidden files silently.

What is checked:
  each file       UTF-8; YAML (.yaml, .yml) or JSON (.json); one mapping at the top
  each record     every field, as POST /plans and POST /workloads check it: the same
                  messages and field paths (e.g. contacts[1].email), all at once;
                  a step's contact must be a contact of its plan
  the set         a workload's dependencies name plans among the files; no plan id
                  or workload name in two files; a file is named after its id
                  (plans/<id>.yaml, workloads/<name>.yaml: what export writes);
                  a record fits the API's 64 KiB body limit
Left to the server at apply: whether you may write for the owner team, and
broad match rules (an admin's to write; a team may keep one an admin wrote).

Output:
  --output text   (default) one problem per line on stdout:
                    plans/aws-business.yaml: contacts[1].email: must be an e-mail address like name@example.com
                    plans/old.yaml: not YAML: ... at line 3 column 5
                  and a one-line summary on stderr
  --output json   a JSON list on stdout: [{\"file\": ..., \"field\": ..., \"message\": ...}],
                  field \"\" for a problem of the file as a whole
  -h, --help      this text

Exit status: 0 no problem; 1 any problem, or a wrong command line.

Examples:
  support-plans lint .
  support-plans lint plans/aws-business.yaml workloads/payments.yaml
  support-plans lint --output json . > problems.json
";

const HELP_DIFF: &str = "\
support-plans diff -f DIR [--prune]: what `apply -f DIR` would do, per plan and
workload: create, update (with the fields that change), unchanged, and with
--prune retire. Server-owned fields (attestations, reviews, versions,
timestamps) are never part of a diff. Exit 0 nothing would change, 2 something
would, 1 on error.

Not yet available in this build.
";

const HELP_APPLY: &str = "\
support-plans apply -f DIR [--prune [--yes] [--allow-retire-all]]: create and
replace what DIR holds, each replace carrying If-Match with the version it
compared against; a record changed since it was read is reported and the others
go on. --prune retires what the files no longer hold, after a confirmation or
--yes, and never everything unless --allow-retire-all.

Not yet available in this build.
";

const HELP_EXPORT: &str = "\
support-plans export -o DIR: every plan and workload as files, DIR/plans/<id>.yaml
and DIR/workloads/<name>.yaml, which `apply -f DIR` takes back with nothing to
change.

Not yet available in this build.
";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Text,
    Json,
}

#[derive(Debug, PartialEq)]
enum Command {
    Help(Option<String>),
    Version,
    Lint { paths: Vec<PathBuf>, output: Output },
    NotYet(&'static str),
}

fn main() -> ExitCode {
    match parse(std::env::args_os().skip(1).collect()) {
        Ok(Command::Help(topic)) => help(topic.as_deref()),
        Ok(Command::Version) => {
            println!("support-plans {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Ok(Command::Lint { paths, output }) => run_lint(&paths, output),
        Ok(Command::NotYet(command)) => {
            eprintln!("support-plans {command}: not yet available in this build; `support-plans lint` is");
            ExitCode::FAILURE
        }
        Err(usage) => {
            eprintln!("support-plans: {usage}");
            ExitCode::FAILURE
        }
    }
}

/// Parses the arguments after the program name; `Err` is a one-line usage error.
fn parse(args: Vec<OsString>) -> Result<Command, String> {
    let mut args = args.into_iter();
    let Some(first) = args.next() else {
        return Err("no command given: try `support-plans lint .`, or `support-plans --help`".into());
    };
    match first.to_str().unwrap_or_default() {
        "-h" | "--help" => Ok(Command::Help(None)),
        "help" => Ok(Command::Help(
            args.next().map(|a| a.to_string_lossy().into_owned()),
        )),
        "-V" | "--version" | "version" => Ok(Command::Version),
        "lint" => parse_lint(args),
        command @ ("diff" | "apply" | "export") => {
            let command = match command {
                "diff" => "diff",
                "apply" => "apply",
                _ => "export",
            };
            if args.any(|a| a == "-h" || a == "--help") {
                Ok(Command::Help(Some(command.into())))
            } else {
                Ok(Command::NotYet(command))
            }
        }
        _ => Err(format!(
            "unknown command '{}': the commands are lint, diff, apply and export (see `support-plans --help`)",
            first.to_string_lossy().chars().take(64).collect::<String>()
        )),
    }
}

fn parse_lint(mut args: impl Iterator<Item = OsString>) -> Result<Command, String> {
    let mut paths = Vec::new();
    let mut output = Output::Text;
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else {
            paths.push(PathBuf::from(arg));
            continue;
        };
        let value = match text {
            "--" => {
                paths.extend(args.by_ref().map(PathBuf::from));
                break;
            }
            "-h" | "--help" => return Ok(Command::Help(Some("lint".into()))),
            "--output" => Some(
                args.next()
                    .ok_or("lint: --output needs a value: text or json")?
                    .to_string_lossy()
                    .into_owned(),
            ),
            _ => text.strip_prefix("--output=").map(str::to_owned),
        };
        match value.as_deref() {
            Some("text") => output = Output::Text,
            Some("json") => output = Output::Json,
            Some(other) => return Err(format!("lint: --output is text or json, not '{other}'")),
            None if text.starts_with('-') && text != "-" => {
                return Err(format!(
                    "lint: unknown option '{text}' (see `support-plans help lint`)"
                ));
            }
            None => paths.push(PathBuf::from(arg)),
        }
    }
    if paths.is_empty() {
        return Err("lint: no PATH given: e.g. `support-plans lint .` in a plans repository".into());
    }
    Ok(Command::Lint { paths, output })
}

fn help(topic: Option<&str>) -> ExitCode {
    let text = match topic {
        None => HELP,
        Some("lint") => HELP_LINT,
        Some("diff") => HELP_DIFF,
        Some("apply") => HELP_APPLY,
        Some("export") => HELP_EXPORT,
        Some(other) => {
            eprintln!("support-plans: no help for '{other}': the commands are lint, diff, apply and export");
            return ExitCode::FAILURE;
        }
    };
    print!("{text}");
    ExitCode::SUCCESS
}

fn run_lint(paths: &[PathBuf], output: Output) -> ExitCode {
    let report = lint::lint_paths(paths);
    for note in &report.notes {
        eprintln!("note: {note}");
    }
    let mut out = BufWriter::new(io::stdout().lock());
    let written = match output {
        Output::Text => report.problems.iter().try_for_each(|p| writeln!(out, "{p}")),
        Output::Json => serde_json::to_writer(&mut out, &report.problems)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
    }
    .and_then(|()| out.flush());
    if written.is_err() {
        // stdout closed (e.g. `| head`): the problems were not all delivered.
        return ExitCode::FAILURE;
    }
    if output == Output::Text {
        eprintln!("support-plans lint: {}", summary(&report));
    }
    if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn summary(report: &lint::Report) -> String {
    let of = |kind| report.resources.iter().filter(|r| r.kind == kind).count();
    if report.is_clean() {
        format!(
            "{} ({}, {}), no problem",
            count(report.files, "file"),
            count(of(Kind::Plan), "plan"),
            count(of(Kind::Workload), "workload"),
        )
    } else {
        format!(
            "{} in {} of {}",
            count(report.problems.len(), "problem"),
            report.files_with_problems(),
            count(report.files, "file"),
        )
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(OsString::from).collect())
    }

    #[test]
    fn lint_takes_paths_and_an_output() {
        assert_eq!(
            parsed(&["lint", "--output=json", "a", "--", "--b"]),
            Ok(Command::Lint {
                paths: vec!["a".into(), "--b".into()],
                output: Output::Json
            })
        );
        assert_eq!(
            parsed(&["lint", "a", "--output", "text"]),
            Ok(Command::Lint {
                paths: vec!["a".into()],
                output: Output::Text
            })
        );
    }

    #[test]
    fn usage_errors_say_what_to_do() {
        assert!(parsed(&[]).unwrap_err().contains("support-plans lint ."));
        assert!(parsed(&["lint"]).unwrap_err().starts_with("lint: no PATH given"));
        assert!(
            parsed(&["lint", "--output"])
                .unwrap_err()
                .contains("text or json")
        );
        assert!(
            parsed(&["lint", "--output", "yaml", "."])
                .unwrap_err()
                .contains("not 'yaml'")
        );
        assert!(
            parsed(&["lint", "-x", "."])
                .unwrap_err()
                .contains("unknown option '-x'")
        );
        assert!(
            parsed(&["lnit"])
                .unwrap_err()
                .starts_with("unknown command 'lnit'")
        );
    }

    #[test]
    fn help_in_every_place() {
        assert_eq!(parsed(&["--help"]), Ok(Command::Help(None)));
        assert_eq!(parsed(&["help", "lint"]), Ok(Command::Help(Some("lint".into()))));
        assert_eq!(parsed(&["lint", "-h"]), Ok(Command::Help(Some("lint".into()))));
        assert_eq!(
            parsed(&["apply", "--help"]),
            Ok(Command::Help(Some("apply".into())))
        );
        assert_eq!(parsed(&["diff", "-f", "."]), Ok(Command::NotYet("diff")));
    }
}
