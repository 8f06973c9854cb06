//! `support-plans lint` (SPEC §12): every problem of every file as
//! `file: field: message`, offline. The fields are checked by the domain's
//! own parsing (the API's messages and field paths); on top, what only a
//! set of files can tell: a workload's dependency on a plan not in the set,
//! an id used by two files, a file not named after its id.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use support_plans_domain::FieldError;
use support_plans_domain::model::{MatchPolicy, PlanSpec, WorkloadSpec};

use crate::files::{self, FileSet, Kind, Resource};

/// The largest body the API takes (SPEC §3: over 64 KiB is a 413).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// One problem: the file, the field path in it (as the API names it, e.g.
/// `contacts[1].email`; empty for the file as a whole) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub file: String,
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    /// `file: field: message`, or `file: message` for the file as a whole.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.field, self.message)
        }
    }
}

/// What `lint` found in a set of files.
#[derive(Debug, Default)]
pub struct Report {
    /// Files looked at (and paths that could not be read), skipped ones aside.
    pub files: usize,
    /// Every file that parsed to a mapping, in order, problems or not.
    pub resources: Vec<Resource>,
    /// Every problem, grouped by file in the order the files were found.
    pub problems: Vec<Problem>,
    /// Files skipped on purpose, one line each (see [`files::read_paths`]).
    pub notes: Vec<String>,
}

impl Report {
    /// No problem at all: the set may be applied.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// How many files have at least one problem.
    pub fn files_with_problems(&self) -> usize {
        self.problems
            .iter()
            .map(|p| p.file.as_str())
            .collect::<HashSet<_>>()
            .len()
    }
}

/// Reads and checks every plan and workload under `paths` (see
/// [`files::read_paths`] for what a path may be). Never fails as a whole:
/// whatever cannot be read is a problem of the report.
pub fn lint_paths(paths: &[PathBuf]) -> Report {
    lint(files::read_paths(paths))
}

/// Checks a set of files already read.
pub fn lint(set: FileSet) -> Report {
    let plan_ids: HashSet<&str> = set
        .resources()
        .filter(|r| r.kind == Kind::Plan && !r.id.is_empty())
        .map(|r| r.id.as_str())
        .collect();
    let mut first: HashMap<(Kind, &str), &Path> = HashMap::new();
    let mut problems = Vec::new();
    for entry in &set.entries {
        match entry {
            Err(e) => problems.push(Problem {
                file: e.path.display().to_string(),
                field: String::new(),
                message: e.message.clone(),
            }),
            Ok(r) => {
                let file = r.path.display().to_string();
                problems.extend(check(r, &plan_ids, &mut first).into_iter().map(|e| Problem {
                    file: file.clone(),
                    field: e.field,
                    message: e.message,
                }));
            }
        }
    }
    Report {
        files: set.entries.len(),
        problems,
        notes: set.notes,
        resources: set.entries.into_iter().filter_map(Result::ok).collect(),
    }
}

/// Every problem of one resource: the domain's, then the set's.
fn check<'a>(
    r: &'a Resource,
    plan_ids: &HashSet<&str>,
    first: &mut HashMap<(Kind, &'a str), &'a Path>,
) -> Vec<FieldError> {
    let mut errors = match r.kind {
        Kind::Plan => PlanSpec::parse(&r.body).err(),
        // Broad match rules are allowed here: who may write one is the
        // server's call (an admin, or a team keeping an admin's rule), and
        // a repository exported from the server must lint clean.
        Kind::Workload => WorkloadSpec::parse_with(&r.body, MatchPolicy::Admin).err(),
    }
    .map(|e| e.0)
    .unwrap_or_default();
    let flagged = |errors: &[FieldError], field: &str| errors.iter().any(|e| e.field == field);

    let size = serde_json::to_vec(&r.body).map_or(0, |b| b.len());
    if size > MAX_BODY_BYTES {
        errors.push(FieldError {
            field: String::new(),
            message: format!("is {size} bytes as JSON; the API takes at most {MAX_BODY_BYTES} (64 KiB)"),
        });
    }

    let id_field = r.kind.id_field();
    let id = r.id.as_str();
    if !id.is_empty() && !flagged(&errors, id_field) {
        let stem = r.path.file_stem().map(|s| s.to_string_lossy());
        if stem.as_deref() != Some(id) {
            errors.push(FieldError {
                field: id_field.into(),
                message: format!(
                    "'{id}' is not the file's name: a {kind}'s file is named after its {id_field} ({id}.yaml, as export writes it)",
                    kind = r.kind,
                ),
            });
        }
        match first.get(&(r.kind, id)) {
            Some(other) => errors.push(FieldError {
                field: id_field.into(),
                message: format!(
                    "'{id}' is also the {id_field} of {}: one file per {}",
                    other.display(),
                    r.kind
                ),
            }),
            None => {
                first.insert((r.kind, id), &r.path);
            }
        }
    }

    if r.kind == Kind::Workload
        && let Some(Value::Array(deps)) = r.body.get("dependencies")
    {
        for (i, dep) in deps.iter().enumerate() {
            let field = format!("dependencies[{i}]");
            if let Some(dep) = dep.as_str()
                && !plan_ids.contains(dep)
                && !flagged(&errors, &field)
            {
                errors.push(FieldError {
                    field,
                    message: format!(
                        "no plan '{dep}' among the files linted (lint plans/ too, or add plans/{dep}.yaml): the API refuses a dependency on a plan it does not have"
                    ),
                });
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::files::FileError;

    fn plan(id: &str) -> Value {
        json!({
            "id": id, "vendor": "Acme", "tier": "Gold",
            "owner": {"team": "platform", "email": "platform@example.com"},
            "channels": [{"kind": "portal", "value": "https://support.example.com", "hours": "24x7"}],
            "escalation_steps": [{"title": "Open a case"}],
        })
    }

    fn workload(name: &str, deps: &[&str]) -> Value {
        json!({
            "name": name,
            "owner": {"team": "payments", "email": "payments@example.com"},
            "dependencies": deps,
        })
    }

    fn resource(kind: Kind, file: &str, body: Value) -> Result<Resource, FileError> {
        let id = body[kind.id_field()].as_str().unwrap_or_default().to_owned();
        Ok(Resource {
            kind,
            id,
            path: PathBuf::from(format!("{}/{file}", kind.folder())),
            body,
        })
    }

    fn lines(entries: Vec<Result<Resource, FileError>>) -> Vec<String> {
        let report = lint(FileSet {
            entries,
            notes: Vec::new(),
        });
        report.problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_consistent_set_is_clean() {
        let report = lint(FileSet {
            entries: vec![
                resource(Kind::Plan, "acme-gold.yaml", plan("acme-gold")),
                resource(Kind::Workload, "shop.json", workload("shop", &["acme-gold"])),
            ],
            notes: Vec::new(),
        });
        assert!(report.is_clean(), "{:?}", report.problems);
        assert_eq!(report.resources.len(), 2);
    }

    #[test]
    fn domain_errors_keep_the_api_field_paths() {
        let mut body = plan("acme-gold");
        body["channels"][0]["value"] = json!("http://insecure.example.com");
        body["colour"] = json!("blue");
        let got = lines(vec![resource(Kind::Plan, "acme-gold.yaml", body.clone())]);
        let api = PlanSpec::parse(&body).unwrap_err();
        let want: Vec<String> = api
            .0
            .iter()
            .map(|e| format!("plans/acme-gold.yaml: {}: {}", e.field, e.message))
            .collect();
        assert_eq!(got, want);
        assert_eq!(api.fields(), ["colour", "channels[0].value"]);
    }

    #[test]
    fn a_dependency_outside_the_set_is_a_problem() {
        let got = lines(vec![
            resource(Kind::Plan, "acme-gold.yaml", plan("acme-gold")),
            resource(
                Kind::Workload,
                "shop.yaml",
                workload("shop", &["acme-gold", "nowhere"]),
            ),
        ]);
        assert_eq!(
            got,
            [
                "workloads/shop.yaml: dependencies[1]: no plan 'nowhere' among the files linted (lint plans/ too, or add plans/nowhere.yaml): the API refuses a dependency on a plan it does not have"
            ]
        );
    }

    #[test]
    fn an_invalid_dependency_is_reported_once_by_the_domain() {
        let got = lines(vec![resource(
            Kind::Workload,
            "shop.yaml",
            workload("shop", &["Not A Slug"]),
        )]);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with("workloads/shop.yaml: dependencies[0]: must be"),
            "{got:?}"
        );
    }

    #[test]
    fn a_step_contact_is_checked_by_the_domain_once() {
        let mut body = plan("acme-gold");
        body["escalation_steps"][0]["contact"] = json!("nobody");
        let got = lines(vec![resource(Kind::Plan, "acme-gold.yaml", body)]);
        assert_eq!(
            got,
            ["plans/acme-gold.yaml: escalation_steps[0].contact: 'nobody' is not a contact of this plan"]
        );
    }

    #[test]
    fn duplicate_ids_and_file_names() {
        let got = lines(vec![
            resource(Kind::Plan, "acme-gold.json", plan("acme-gold")),
            resource(Kind::Plan, "acme-gold.yaml", plan("acme-gold")),
            resource(Kind::Plan, "acme.yaml", plan("acme-silver")),
            // A workload may share a plan's id: the two are named apart.
            resource(Kind::Workload, "acme-gold.yaml", workload("acme-gold", &[])),
        ]);
        assert_eq!(
            got,
            [
                "plans/acme-gold.yaml: id: 'acme-gold' is also the id of plans/acme-gold.json: one file per plan",
                "plans/acme.yaml: id: 'acme-silver' is not the file's name: a plan's file is named after its id (acme-silver.yaml, as export writes it)",
            ]
        );
    }

    #[test]
    fn an_invalid_id_is_reported_once_by_the_domain() {
        let got = lines(vec![resource(Kind::Plan, "x.yaml", plan("X"))]);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].starts_with("plans/x.yaml: id: must be"), "{got:?}");
    }

    #[test]
    fn a_body_too_large_for_the_api() {
        let mut body = plan("acme-gold");
        body["escalation_steps"] = json!(vec![json!({"title": "t", "instructions": "é".repeat(2000)}); 20]);
        body["channels"] = json!(vec![
            json!({"kind": "portal", "value": "https://a.example.com", "hours": "24x7", "notes": "n".repeat(500)});
            10
        ]);
        body["contacts"] = json!((0..50).map(|i| json!({"id": format!("c{i}"), "name": "n".repeat(200), "role": "vendor-support", "email": "a@example.com"})).collect::<Vec<_>>());
        let got = lines(vec![resource(Kind::Plan, "acme-gold.yaml", body)]);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].starts_with("plans/acme-gold.yaml: is "), "{got:?}");
        assert!(
            got[0].ends_with("bytes as JSON; the API takes at most 65536 (64 KiB)"),
            "{got:?}"
        );
    }

    #[test]
    fn broad_match_rules_are_the_servers_call() {
        let mut body = workload("shop", &[]);
        body["match"] = json!({"resource_patterns": ["arn:aws:*:*:*:*"], "title_keywords": ["db"]});
        assert!(WorkloadSpec::parse(&body).is_err(), "a team's write refuses them");
        assert!(lines(vec![resource(Kind::Workload, "shop.yaml", body)]).is_empty());
    }

    #[test]
    fn unreadable_files_are_problems_of_the_file() {
        let got = lines(vec![Err(FileError {
            path: PathBuf::from("plans/x.yaml"),
            message: "not YAML: oops".into(),
        })]);
        assert_eq!(got, ["plans/x.yaml: not YAML: oops"]);
    }
}
