//! `diff`, `apply` and `export` (SPEC §12): a folder of plan and workload
//! files compared with what the API holds, field by field on the
//! caller-owned parts only; the changes written with `If-Match` naming the
//! version compared against; and the API's records written back as files.
//!
//! The service is read once per resource, by listing: a listed record's
//! `version` is its ETag (`"N"`, SPEC §3), so each replace or retire names
//! the version its diff was made against, with no second read.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use support_plans_domain::model::{MatchPolicy, PlanSpec, WorkloadSpec};

use crate::client::{Client, ClientError, Etag, caller_owned};
use crate::files::{Kind, Resource};

/// What applying a file set does to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Unchanged,
    Retire,
}

/// One caller-owned field that differs: its path as the API names fields
/// (`contacts[1].phone`), the value the service holds and the file's
/// (`None`: absent on that side).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub field: String,
    pub from: Option<Value>,
    pub to: Option<Value>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} → {}", self.field, shown(&self.from), shown(&self.to))
    }
}

fn shown(v: &Option<Value>) -> String {
    match v {
        None => "(none)".into(),
        Some(v) => {
            let text = v.to_string();
            if text.chars().count() > 80 {
                format!("{}…", text.chars().take(80).collect::<String>())
            } else {
                text
            }
        }
    }
}

/// One resource's step: what it is, where its file is, what would change.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub kind: Kind,
    pub id: String,
    /// The file holding it (`None` for a retire: no file does).
    pub file: Option<PathBuf>,
    pub action: Action,
    /// For an update, the fields that change.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// Something worth knowing that changes nothing (a retired workload).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What a create or replace sends: the file's body as read.
    #[serde(skip)]
    pub body: Option<Value>,
    /// The version an update or retire was compared against.
    #[serde(skip)]
    pub etag: Option<Etag>,
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.noun())
    }
}

/// Everything `apply` would do, in the order it does it: plans (creates
/// and replaces), then workloads (whose dependencies must exist first),
/// then retires (workloads before plans).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// With `--prune`: the kinds pruned and how many active records of each
    /// the service held (for the "never everything" guard).
    pub pruned: Vec<(Kind, usize)>,
}

impl Plan {
    /// Anything to write.
    pub fn changes_anything(&self) -> bool {
        self.steps.iter().any(|s| s.action != Action::Unchanged)
    }

    pub fn count(&self, action: Action) -> usize {
        self.steps.iter().filter(|s| s.action == action).count()
    }

    pub fn retires(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.action == Action::Retire)
    }

    /// The kinds whose every active record would be retired.
    pub fn retires_all(&self) -> Vec<Kind> {
        self.pruned
            .iter()
            .filter(|&&(kind, active)| {
                active > 0 && self.retires().filter(|s| s.kind == kind).count() == active
            })
            .map(|&(kind, _)| kind)
            .collect()
    }
}

/// The kinds a `-f DIR` holds: DIR's own (`plans/`, `workloads/`), or its
/// sub-folders'. `--prune` considers only these: a folder without
/// `workloads/` leaves every workload alone.
pub fn kinds_in(dir: &Path) -> Vec<Kind> {
    let own = dir
        .file_name()
        .and_then(Kind::of_folder)
        .or_else(|| fs::canonicalize(dir).ok()?.file_name().and_then(Kind::of_folder));
    if let Some(kind) = own {
        return vec![kind];
    }
    [Kind::Plan, Kind::Workload]
        .into_iter()
        .filter(|k| dir.join(k.folder()).is_dir())
        .collect()
}

/// The ETag of a listed record: its `version`, quoted (SPEC §3).
fn listed_etag(kind: Kind, record: &Value) -> Result<Etag, String> {
    record
        .get("version")
        .and_then(Value::as_u64)
        .map(|v| Etag::from(format!("\"{v}\"").as_str()))
        .ok_or_else(|| format!("the API listed a {kind} without its version"))
}

fn is_active(record: &Value) -> bool {
    record.get("status").and_then(Value::as_str) == Some("active")
}

fn owned(kind: Kind, body: &Value, whose: &str) -> Result<Value, String> {
    caller_owned(kind, body).map_err(|e| format!("{whose}: {e}"))
}

/// Compares `files` (a set that linted clean) with the service: one list
/// per kind involved. With `prune`, the active records of `prune_kinds`
/// that no file holds are retired.
pub async fn plan(
    client: &Client,
    files: &[Resource],
    prune: bool,
    prune_kinds: &[Kind],
) -> Result<Plan, String> {
    let mut plan = Plan::default();
    let mut retires = Vec::new();
    let mut by_kind: Vec<Vec<Step>> = vec![Vec::new(), Vec::new()];
    for kind in [Kind::Plan, Kind::Workload] {
        let prunes = prune && prune_kinds.contains(&kind);
        let mine: Vec<&Resource> = files.iter().filter(|r| r.kind == kind).collect();
        if mine.is_empty() && !prunes {
            continue;
        }
        let listed = client.list(kind).await.map_err(|e| e.to_string())?;
        let server: HashMap<&str, &Value> = listed
            .iter()
            .filter_map(|r| Some((r.get(kind.id_field())?.as_str()?, r)))
            .collect();
        let steps = &mut by_kind[usize::from(kind == Kind::Workload)];
        for file in &mine {
            let mut step = Step {
                kind,
                id: file.id.clone(),
                file: Some(file.path.clone()),
                action: Action::Create,
                changes: Vec::new(),
                note: None,
                body: Some(file.body.clone()),
                etag: None,
            };
            if let Some(record) = server.get(file.id.as_str()) {
                let theirs = owned(kind, record, &format!("the API's {kind} '{}'", file.id))?;
                let ours = owned(kind, &file.body, &file.path.display().to_string())?;
                differences(&mut String::new(), Some(&theirs), Some(&ours), &mut step.changes);
                step.action = if step.changes.is_empty() {
                    Action::Unchanged
                } else {
                    Action::Update
                };
                step.etag = Some(listed_etag(kind, record)?);
                if kind == Kind::Workload && !is_active(record) {
                    step.note = Some(
                        "retired on the service: a file cannot reactivate a workload (its status is the service's)"
                            .into(),
                    );
                }
            }
            steps.push(step);
        }
        if prunes {
            let held: HashSet<&str> = mine.iter().map(|r| r.id.as_str()).collect();
            let active: Vec<&Value> = listed.iter().filter(|r| is_active(r)).collect();
            plan.pruned.push((kind, active.len()));
            for record in active {
                let Some(id) = record.get(kind.id_field()).and_then(Value::as_str) else {
                    continue;
                };
                if !held.contains(id) {
                    retires.push(Step {
                        kind,
                        id: id.to_owned(),
                        file: None,
                        action: Action::Retire,
                        changes: Vec::new(),
                        note: None,
                        body: None,
                        etag: Some(listed_etag(kind, record)?),
                    });
                }
            }
        }
    }
    retires.sort_by(|a, b| b.kind.cmp(&a.kind).then_with(|| a.id.cmp(&b.id)));
    plan.steps = by_kind.into_iter().flatten().chain(retires).collect();
    Ok(plan)
}

/// The fields where `from` (the service) and `to` (the file) differ.
/// Objects by key, lists of objects by position, anything else whole.
fn differences(path: &mut String, from: Option<&Value>, to: Option<&Value>, out: &mut Vec<Change>) {
    if from == to {
        return;
    }
    let whole = |out: &mut Vec<Change>, path: &str| {
        out.push(Change {
            field: path.to_owned(),
            from: from.cloned(),
            to: to.cloned(),
        });
    };
    match (from, to) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let keys = b.keys().chain(a.keys().filter(|k| !b.contains_key(*k)));
            for key in keys {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                differences(path, a.get(key), b.get(key), out);
                path.truncate(len);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if a.iter().chain(b).any(|v| v.is_object()) => {
            for i in 0..a.len().max(b.len()) {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                differences(path, a.get(i), b.get(i), out);
                path.truncate(len);
            }
        }
        _ => whole(out, path),
    }
}

/// How one write went.
#[derive(Debug)]
pub struct Outcome {
    /// The step's index in [`Plan::steps`].
    pub step: usize,
    pub result: Result<(), ClientError>,
}

/// Writes every step that changes something, in the plan's order: each
/// replace and retire with `If-Match` = the version compared against
/// (never read again), so a record changed since fails alone with 412 and
/// the others go on. `progress(done, total)` after each write.
pub async fn execute(client: &Client, plan: &Plan, mut progress: impl FnMut(usize, usize)) -> Vec<Outcome> {
    let todo: Vec<usize> = (0..plan.steps.len())
        .filter(|&i| plan.steps[i].action != Action::Unchanged)
        .collect();
    let mut outcomes = Vec::with_capacity(todo.len());
    for (done, &i) in todo.iter().enumerate() {
        let step = &plan.steps[i];
        let body = step.body.as_ref();
        let etag = step.etag.as_ref();
        let result = match (step.action, body, etag) {
            (Action::Create, Some(body), _) => client.create(step.kind, body).await.map(drop),
            (Action::Update, Some(body), Some(etag)) => {
                client.replace(step.kind, &step.id, body, etag).await.map(drop)
            }
            (Action::Retire, _, Some(etag)) => client.retire(step.kind, &step.id, etag).await.map(drop),
            _ => Err(ClientError::Other(0, "an incomplete step (a bug)".into())),
        };
        outcomes.push(Outcome { step: i, result });
        progress(done + 1, todo.len());
    }
    outcomes
}

/// What `export` wrote.
#[derive(Debug, Default)]
pub struct Exported {
    pub files: Vec<PathBuf>,
    /// Retired plans written because an active workload depends on them.
    pub retired_plans: usize,
}

/// Every active plan and workload as `DIR/plans/<id>.yaml` and
/// `DIR/workloads/<name>.yaml`, caller-owned fields only. A retired plan is
/// written only when an active workload depends on it (with `status:
/// retired`, which apply keeps: the file set stays whole for `lint`); a
/// retired workload never (a file cannot say it is retired). Refuses to
/// overwrite a file unless `force`; then writes nothing.
pub async fn export(client: &Client, dir: &Path, force: bool) -> Result<Exported, String> {
    let plans = client.list(Kind::Plan).await.map_err(|e| e.to_string())?;
    let workloads = client.list(Kind::Workload).await.map_err(|e| e.to_string())?;
    let workloads: Vec<&Value> = workloads.iter().filter(|w| is_active(w)).collect();
    let needed: HashSet<&str> = workloads
        .iter()
        .filter_map(|w| w.get("dependencies")?.as_array())
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut out = Exported::default();
    let mut writes = Vec::new();
    for (kind, record) in plans
        .iter()
        .map(|p| (Kind::Plan, p))
        .chain(workloads.iter().map(|w| (Kind::Workload, *w)))
    {
        let id = record
            .get(kind.id_field())
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the API listed a {kind} without its {}", kind.id_field()))?;
        if kind == Kind::Plan && !is_active(record) {
            if !needed.contains(id) {
                continue;
            }
            out.retired_plans += 1;
        }
        // The domain's spec itself (what `caller_owned` is made of), so the
        // file's fields come in the spec's order: `id` first, not sorted.
        let invalid = |e: support_plans_domain::ValidationErrors| format!("the API's {kind} '{id}': {e}");
        let text = match kind {
            Kind::Plan => serde_yaml::to_string(&PlanSpec::parse(record).map_err(invalid)?),
            Kind::Workload => {
                serde_yaml::to_string(&WorkloadSpec::parse_with(record, MatchPolicy::Admin).map_err(invalid)?)
            }
        }
        .map_err(|e| format!("{kind} '{id}' as YAML: {e}"))?;
        writes.push((dir.join(kind.folder()).join(format!("{id}.yaml")), text));
    }
    if !force {
        let existing: Vec<&PathBuf> = writes.iter().map(|(p, _)| p).filter(|p| p.exists()).collect();
        if let Some(first) = existing.first() {
            return Err(format!(
                "{} already exists{}: nothing written; use --force to overwrite, or export to an empty folder",
                first.display(),
                match existing.len() {
                    1 => String::new(),
                    n => format!(" (and {} more)", n - 1),
                }
            ));
        }
    }
    for kind in [Kind::Plan, Kind::Workload] {
        let folder = dir.join(kind.folder());
        fs::create_dir_all(&folder).map_err(|e| format!("{}: cannot create: {e}", folder.display()))?;
    }
    for (path, text) in writes {
        fs::write(&path, text).map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
        out.files.push(path);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn diff(a: Value, b: Value) -> Vec<String> {
        let mut out = Vec::new();
        differences(&mut String::new(), Some(&a), Some(&b), &mut out);
        out.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn only_the_changed_fields_by_their_paths() {
        let a = json!({"tier": "Gold", "owner": {"team": "p", "email": "a@x.io"},
            "contacts": [{"id": "a", "phone": "+1 555"}, {"id": "b", "phone": "+1 556"}],
            "impacts": [1, 2]});
        let mut b = a.clone();
        b["contacts"][1]["phone"] = json!("+1 557");
        b["owner"]["email"] = json!("b@x.io");
        b["impacts"] = json!([1, 2, 3]);
        assert_eq!(
            diff(a, b),
            [
                "contacts[1].phone: \"+1 556\" → \"+1 557\"",
                "impacts: [1,2] → [1,2,3]",
                "owner.email: \"a@x.io\" → \"b@x.io\"",
            ]
        );
    }

    #[test]
    fn added_and_removed_entries_show_as_none() {
        let a = json!({"contacts": [{"id": "a"}], "old": 1});
        let b = json!({"contacts": [{"id": "a"}, {"id": "b"}]});
        assert_eq!(
            diff(a, b),
            ["contacts[1]: (none) → {\"id\":\"b\"}", "old: 1 → (none)"]
        );
    }

    #[test]
    fn everything_retired_is_caught() {
        let retire = |id: &str| Step {
            kind: Kind::Plan,
            id: id.into(),
            file: None,
            action: Action::Retire,
            changes: vec![],
            note: None,
            body: None,
            etag: None,
        };
        let plan = Plan {
            steps: vec![retire("a"), retire("b")],
            pruned: vec![(Kind::Plan, 2), (Kind::Workload, 0)],
        };
        assert_eq!(plan.retires_all(), [Kind::Plan]);
        let plan = Plan {
            pruned: vec![(Kind::Plan, 3)],
            ..plan
        };
        assert!(plan.retires_all().is_empty());
    }
}
