//! `support-plans` (SPEC §12): the command line, parsed by hand (as the other
//! binaries do: no argument-parsing crate for five subcommands), and one
//! command run. Exit status: 0 success, 1 problems or errors (a wrong
//! command line too), 2 only for `diff`'s "something would change".

use std::ffi::OsString;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

mod remote;

use support_plans::client::Auth;
use support_plans::files::Kind;
use support_plans::lint;

const HELP: &str = "\
support-plans: support plans and workloads kept as files in a repository,
reviewed like code and applied to the support-plans API.

Usage:
  support-plans lint PATH...      check files offline: every problem as `file: field: message`
  support-plans diff -f DIR       what apply would change, field by field
  support-plans apply -f DIR      create and replace what changed, with If-Match
  support-plans export -o DIR     write what the API holds as files
  support-plans readiness [--svg FILE]   the readiness figures, and a chart of them
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

/// The connection options, in the help of diff, apply and export.
macro_rules! CONNECTION {
    () => {
        "
Connection:
  --endpoint URL       the API (or SUPPORT_PLANS_URL), like https://ID.execute-api.REGION.amazonaws.com
  --token TOKEN        a bearer token (or SUPPORT_PLANS_TOKEN), for AuthMode=JWT
  --as PRINCIPAL       the local stack's identity, with --groups G1,G2 (loopback only)
                       otherwise: SigV4 with the standard AWS credential chain (AuthMode=IAM)
  --output text|json   json: one document on stdout, for machines
  -h, --help           this text
"
    };
}

const HELP_DIFF: &str = concat!(
    "\
support-plans diff -f DIR [--prune]: what `apply -f DIR` would do, per plan and
workload: create, update (with the fields that change, by path, e.g.
contacts[1].phone), unchanged, and with --prune retire. Server-owned fields
(attestations, reviews, versions, timestamps) are never part of a diff.

DIR is linted first: any problem is printed and nothing is read from the API.
The API is read once (a list per kind); each record's version is what apply
would name in If-Match.

  -f DIR       a plans repository (DIR/plans/, DIR/workloads/), or one of the two
  --prune      also list the active records of the kinds DIR holds that no file holds
",
    CONNECTION!(),
    "
Exit status: 0 nothing would change; 2 something would; 1 lint problems or an error.
"
);

const HELP_APPLY: &str = concat!(
    "\
support-plans apply -f DIR [--prune [--yes] [--allow-retire-all]]: create and
replace what DIR holds, each replace carrying If-Match with the version it
compared against (never read again); a record changed since it was read is
reported (\"changed since read\") and the others go on. Plans are written before
workloads (a workload's dependencies must exist).

  -f DIR               as for diff; linted first, nothing written on any problem
  --prune              retire the active records of the kinds DIR holds that no file
                       holds: only with --yes, or a typed \"yes\" on a terminal; without
                       either, nothing at all is written and the retires are listed
  --yes                confirm the retires of --prune
  --allow-retire-all   let --prune retire every active record of a kind
  --progress           a progress line on stderr on long runs even when stderr is
                       not a terminal
",
    CONNECTION!(),
    "
Exit status: 0 everything written (or nothing to write); 1 lint problems, an
error, or any write that failed.
"
);

const HELP_EXPORT: &str = concat!(
    "\
support-plans export -o DIR [--force]: every active plan and workload as files,
DIR/plans/<id>.yaml and DIR/workloads/<name>.yaml, caller-owned fields only,
which `lint` finds clean and `apply -f DIR` takes back with nothing to change.
Retired workloads are not written (a file cannot keep a workload retired); a
retired plan only when an active workload depends on it, as `status: retired`.

  -o DIR       the folder to write (created if need be)
  --force      overwrite existing files (otherwise nothing is written if any exists)
",
    CONNECTION!(),
    "
Exit status: 0 written; 1 an error.
"
);

const HELP_READINESS: &str = concat!(
    "\
support-plans readiness [--svg FILE]: the readiness figures (SPEC §6) as GET
/readiness answers them: workloads, plans and contacts; the gaps (workloads
without an active plan, tier-1 workloads without a 24x7 channel, contacts
overdue, owners reminders do not reach, reviews due, contracts lapsed or
renewing); and the activity of the last 30 days. Each gap is marked `gap`
when it is not zero, `ok` when it is.

  --svg FILE   also draw them as a chart, an SVG a browser opens (960 × 810):
               a bar per figure, red for a gap, amber for what is coming due,
               green for none; the folder is created if need be
",
    CONNECTION!(),
    "
Exit status: 0 the figures were read (whatever they say); 1 an error.
"
);

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
    Remote(Remote),
}

/// `diff`, `apply`, `export` or `readiness` and their options.
#[derive(Debug, PartialEq)]
struct Remote {
    command: &'static str,
    /// `-f DIR` (diff, apply) or `-o DIR` (export); empty for readiness.
    dir: PathBuf,
    /// readiness: `--svg FILE`.
    svg: Option<PathBuf>,
    endpoint: Option<String>,
    /// From `--token` or `--as`/`--groups`; `None`: SUPPORT_PLANS_TOKEN, else SigV4.
    auth: Option<Auth>,
    output: Output,
    prune: bool,
    yes: bool,
    allow_retire_all: bool,
    progress: bool,
    force: bool,
}

fn main() -> ExitCode {
    match parse(std::env::args_os().skip(1).collect()) {
        Ok(Command::Help(topic)) => help(topic.as_deref()),
        Ok(Command::Version) => {
            println!("support-plans {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Ok(Command::Lint { paths, output }) => run_lint(&paths, output),
        Ok(Command::Remote(remote)) => remote::run(remote),
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
        "diff" => parse_remote("diff", args),
        "apply" => parse_remote("apply", args),
        "export" => parse_remote("export", args),
        "readiness" => parse_remote("readiness", args),
        _ => Err(format!(
            "unknown command '{}': the commands are lint, diff, apply, export and readiness (see `support-plans --help`)",
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

fn parse_remote(command: &'static str, mut args: impl Iterator<Item = OsString>) -> Result<Command, String> {
    let mut dir = None;
    let mut endpoint = None;
    let mut token = None;
    let mut principal = None;
    let mut groups: Option<Vec<String>> = None;
    let mut r = Remote {
        command,
        dir: PathBuf::new(),
        svg: None,
        endpoint: None,
        auth: None,
        output: Output::Text,
        prune: false,
        yes: false,
        allow_retire_all: false,
        progress: false,
        force: false,
    };
    let dir_flag = if command == "export" { "-o" } else { "-f" };
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy().into_owned();
        let (name, inline) = match text.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (text.clone(), None),
        };
        let mut value = |what: &str| -> Result<OsString, String> {
            match &inline {
                Some(v) => Ok(v.into()),
                None => args
                    .next()
                    .ok_or_else(|| format!("{command}: {name} needs {what}")),
            }
        };
        let applies = |ok: bool| -> Result<(), String> {
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "{command}: {name} is not an option of {command} (see `support-plans help {command}`)"
                ))
            }
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help(Some(command.into()))),
            "-f" | "--file" | "--files" => {
                applies(command == "diff" || command == "apply")?;
                dir = Some(PathBuf::from(value("a folder")?));
            }
            "-o" | "--out" => {
                applies(command == "export")?;
                dir = Some(PathBuf::from(value("a folder")?));
            }
            "--endpoint" => endpoint = Some(value("a URL")?.to_string_lossy().into_owned()),
            "--token" => token = Some(value("a token")?.to_string_lossy().into_owned()),
            "--as" => principal = Some(value("a principal")?.to_string_lossy().into_owned()),
            "--groups" => {
                groups = Some(
                    value("a comma-separated list of groups")?
                        .to_string_lossy()
                        .split(',')
                        .map(|g| g.trim().to_owned())
                        .filter(|g| !g.is_empty())
                        .collect(),
                );
            }
            "--output" => {
                r.output = match value("text or json")?.to_str() {
                    Some("text") => Output::Text,
                    Some("json") => Output::Json,
                    other => {
                        return Err(format!(
                            "{command}: --output is text or json, not '{}'",
                            other.unwrap_or("?")
                        ));
                    }
                };
            }
            "--prune" => {
                applies(command == "diff" || command == "apply")?;
                r.prune = true;
            }
            "--yes" | "-y" => {
                applies(command == "apply")?;
                r.yes = true;
            }
            "--allow-retire-all" => {
                applies(command == "apply")?;
                r.allow_retire_all = true;
            }
            "--progress" => {
                applies(command == "apply")?;
                r.progress = true;
            }
            "--force" => {
                applies(command == "export")?;
                r.force = true;
            }
            "--svg" => {
                applies(command == "readiness")?;
                r.svg = Some(PathBuf::from(value("a file")?));
            }
            _ if text.starts_with('-') => {
                return Err(format!(
                    "{command}: unknown option '{text}' (see `support-plans help {command}`)"
                ));
            }
            _ if command == "readiness" => {
                return Err(format!(
                    "readiness: unexpected '{text}': it takes options only (see `support-plans help readiness`)"
                ));
            }
            _ => {
                return Err(format!(
                    "{command}: unexpected '{text}': give the folder with {dir_flag} DIR"
                ));
            }
        }
    }
    if command != "readiness" {
        r.dir = dir.ok_or_else(|| {
            format!("{command}: no folder given: {dir_flag} DIR, e.g. `support-plans {command} {dir_flag} .`")
        })?;
    }
    r.endpoint = endpoint;
    r.auth = match (token, principal, groups) {
        (Some(_), Some(_), _) => {
            return Err(format!(
                "{command}: --token and --as are two identities: give one"
            ));
        }
        (Some(token), None, None) => Some(Auth::Bearer(token)),
        (_, None, Some(_)) => {
            return Err(format!(
                "{command}: --groups goes with --as PRINCIPAL (the local stack's identity)"
            ));
        }
        (None, Some(principal), groups) => Some(Auth::Local {
            principal,
            groups: groups.unwrap_or_default(),
        }),
        (None, None, None) => None,
    };
    if (r.yes || r.allow_retire_all) && !r.prune {
        return Err(format!(
            "{command}: --yes and --allow-retire-all confirm --prune's retires: add --prune"
        ));
    }
    Ok(Command::Remote(r))
}

fn help(topic: Option<&str>) -> ExitCode {
    let text = match topic {
        None => HELP,
        Some("lint") => HELP_LINT,
        Some("diff") => HELP_DIFF,
        Some("apply") => HELP_APPLY,
        Some("export") => HELP_EXPORT,
        Some("readiness") => HELP_READINESS,
        Some(other) => {
            eprintln!(
                "support-plans: no help for '{other}': the commands are lint, diff, apply, export and readiness"
            );
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
    fn readiness_takes_the_connection_and_an_svg_file() {
        let Ok(Command::Remote(r)) = parsed(&[
            "readiness",
            "--endpoint",
            "http://127.0.0.1:9000",
            "--as",
            "dana",
            "--svg=out/readiness.svg",
        ]) else {
            panic!("parsed");
        };
        assert_eq!(r.command, "readiness");
        assert_eq!(r.svg, Some(PathBuf::from("out/readiness.svg")));
        assert_eq!(r.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(r.dir, PathBuf::new());
        assert!(
            parsed(&["readiness", "extra"])
                .unwrap_err()
                .contains("takes options only")
        );
        assert!(
            parsed(&["readiness", "-f", "."])
                .unwrap_err()
                .contains("-f is not an option of readiness")
        );
        assert!(
            parsed(&["diff", "-f", ".", "--svg", "x.svg"])
                .unwrap_err()
                .contains("--svg is not an option of diff")
        );
        assert_eq!(
            parsed(&["readiness", "--help"]),
            Ok(Command::Help(Some("readiness".into())))
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
        assert_eq!(
            parsed(&["diff", "--help"]),
            Ok(Command::Help(Some("diff".into())))
        );
    }
}
