//! Plans and workloads as files (SPEC §12): one per YAML or JSON file, in
//! `DIR/plans/` and `DIR/workloads/`, the folder telling which. This module
//! finds and parses the files; it judges nothing but the file itself (that
//! it is UTF-8, YAML or JSON, and a mapping): `lint` checks the contents.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The extensions read, in the order `export` prefers them.
pub const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// The largest file read. The API takes a body of at most 64 KiB as JSON
/// (SPEC §3); YAML with comments may be larger, but not this large.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Which record a file holds, told by its folder (`plans/` or `workloads/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Plan,
    Workload,
}

impl Kind {
    /// The folder that holds this kind: `plans` or `workloads`.
    pub fn folder(self) -> &'static str {
        match self {
            Kind::Plan => "plans",
            Kind::Workload => "workloads",
        }
    }

    /// The field that names the record: a plan's `id`, a workload's `name`.
    pub fn id_field(self) -> &'static str {
        match self {
            Kind::Plan => "id",
            Kind::Workload => "name",
        }
    }

    /// `plan` or `workload`, for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Plan => "plan",
            Kind::Workload => "workload",
        }
    }

    /// The kind a folder named `name` holds, if it is `plans` or `workloads`.
    pub fn of_folder(name: &OsStr) -> Option<Kind> {
        match name.to_str()? {
            "plans" => Some(Kind::Plan),
            "workloads" => Some(Kind::Workload),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.noun())
    }
}

/// One plan or workload read from a file: a mapping, not yet validated.
///
/// `lint` validates `body` with the domain's own parsing; `diff`, `apply`
/// and `export` should only use resources of a set that linted clean
/// ([`crate::lint::Report::is_clean`]), whose ids are then valid and unique.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub kind: Kind,
    /// The body's `id` (plans) or `name` (workloads); empty when the body
    /// has no such string (lint reports the field).
    pub id: String,
    /// The file, as it was reached from the paths given (for messages).
    pub path: PathBuf,
    /// The file's content as JSON: always an object.
    pub body: Value,
}

/// Why one file or path could not be read as a plan or workload: one line,
/// naming the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for FileError {}

/// Everything found under the paths given, in order: folders listed by
/// file name, each file once.
#[derive(Debug, Default)]
pub struct FileSet {
    /// One entry per file (or per path that could not be read), in order.
    pub entries: Vec<Result<Resource, FileError>>,
    /// Files skipped on purpose (not `.yaml`/`.yml`/`.json`, sub-folders), one
    /// line each: worth telling, not a problem.
    pub notes: Vec<String>,
}

impl FileSet {
    /// The resources read, skipping the files that could not be.
    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.entries.iter().filter_map(|e| e.as_ref().ok())
    }
}

/// Reads every plan and workload under `paths`. A path is
/// - a folder holding `plans/` and/or `workloads/` (a plans repository),
/// - a folder named `plans` or `workloads`,
/// - or one file inside such a folder.
///
/// Inside `plans/` and `workloads/`, files other than `.yaml`, `.yml` and
/// `.json` and sub-folders are skipped with a note (a README may sit
/// there); hidden files are skipped silently. A file named on its own
/// must have one of the three extensions. Nothing here fails as a whole:
/// each path or file that cannot be read is an entry of its own.
pub fn read_paths(paths: &[PathBuf]) -> FileSet {
    let mut found: Vec<Found> = Vec::new();
    let mut set = FileSet::default();
    for path in paths {
        discover(path, &mut found, &mut set);
    }
    // Each file once, though it may be reached twice (`lint DIR DIR/plans/x.yaml`).
    let mut seen = HashSet::new();
    found.retain(|f| match f {
        Found::File(_, path) => seen.insert(fs::canonicalize(path).unwrap_or_else(|_| path.clone())),
        Found::Error(_) => true,
    });
    set.entries = found
        .into_iter()
        .map(|f| match f {
            Found::File(kind, path) => read_file(kind, &path),
            Found::Error(e) => Err(e),
        })
        .collect();
    set
}

enum Found {
    File(Kind, PathBuf),
    Error(FileError),
}

fn error(path: &Path, message: impl Into<String>) -> Found {
    Found::Error(FileError {
        path: path.to_owned(),
        message: message.into(),
    })
}

fn discover(path: &Path, found: &mut Vec<Found>, set: &mut FileSet) {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return found.push(error(path, format!("cannot read: {}", io_reason(&e)))),
    };
    if meta.is_dir() {
        if let Some(kind) = folder_kind(path) {
            return list_folder(kind, path, found, set);
        }
        let mut any = false;
        for kind in [Kind::Plan, Kind::Workload] {
            let sub = path.join(kind.folder());
            let sub = sub.strip_prefix(".").map(Path::to_path_buf).unwrap_or(sub);
            if sub.is_dir() {
                any = true;
                list_folder(kind, &sub, found, set);
            }
        }
        if !any {
            found.push(error(
                path,
                "holds neither plans/ nor workloads/: files go in DIR/plans/ and DIR/workloads/",
            ));
        }
        return;
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Some(kind) = folder_kind(parent) else {
        return found.push(error(
            path,
            "cannot tell a plan from a workload: the file must be in a folder named plans/ or workloads/",
        ));
    };
    if !has_extension(path) {
        return found.push(error(path, "not a .yaml, .yml or .json file"));
    }
    found.push(Found::File(kind, path.to_owned()));
}

/// The kind a folder holds by its name as given (`plans`, a link named
/// so), else by its real name (`.` inside `plans/`).
fn folder_kind(dir: &Path) -> Option<Kind> {
    dir.file_name()
        .and_then(Kind::of_folder)
        .or_else(|| fs::canonicalize(dir).ok()?.file_name().and_then(Kind::of_folder))
}

fn list_folder(kind: Kind, dir: &Path, found: &mut Vec<Found>, set: &mut FileSet) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return found.push(error(dir, format!("cannot read: {}", io_reason(&e)))),
    };
    let mut names: Vec<_> = entries.filter_map(Result::ok).map(|e| e.file_name()).collect();
    names.sort();
    for name in names {
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        // `lint .` shows `plans/x.yaml`, not `./plans/x.yaml`.
        let path = dir.join(&name);
        let path = path.strip_prefix(".").map(Path::to_path_buf).unwrap_or(path);
        if path.is_dir() {
            set.notes.push(format!(
                "{}: skipped: a folder ({}/ is not read recursively)",
                path.display(),
                kind.folder()
            ));
        } else if has_extension(&path) {
            found.push(Found::File(kind, path));
        } else {
            set.notes.push(format!(
                "{}: skipped: not a .yaml, .yml or .json file",
                path.display()
            ));
        }
    }
}

fn has_extension(path: &Path) -> bool {
    path.extension()
        .and_then(OsStr::to_str)
        .is_some_and(|e| EXTENSIONS.contains(&e))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Reads one file of `kind`: UTF-8, then YAML (`.yaml`, `.yml`) or JSON
/// (`.json`), then a mapping at the top.
pub fn read_file(kind: Kind, path: &Path) -> Result<Resource, FileError> {
    let fail = |message: String| FileError {
        path: path.to_owned(),
        message,
    };
    let size = fs::metadata(path)
        .map_err(|e| fail(format!("cannot read: {}", io_reason(&e))))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(fail(format!(
            "is {size} bytes; a plan or workload file is at most {MAX_FILE_BYTES} (the API takes 64 KiB of JSON)"
        )));
    }
    let bytes = fs::read(path).map_err(|e| fail(format!("cannot read: {}", io_reason(&e))))?;
    let json = path.extension().is_some_and(|e| e == "json");
    let body = parse(&bytes, json).map_err(fail)?;
    let id = body
        .get(kind.id_field())
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok(Resource {
        kind,
        id,
        path: path.to_owned(),
        body,
    })
}

/// Parses a file's bytes as JSON (`json`) or YAML into a JSON object, or
/// says in one line why not.
pub fn parse(bytes: &[u8], json: bool) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        format!(
            "not UTF-8: invalid byte 0x{:02x} at byte offset {at} (line {line}); save the file as UTF-8",
            bytes[at]
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let body: Value = if json {
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?
    } else {
        serde_yaml::from_str(text).map_err(|e| format!("not YAML: {e}"))?
    };
    match body {
        Value::Object(_) => Ok(body),
        Value::Null => Err("is empty: a file holds one plan or workload, as a mapping of its fields".into()),
        other => Err(format!(
            "not a mapping at the top but {}: a file holds one plan or workload, as a mapping of its fields",
            match other {
                Value::Array(_) => "a list",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                _ => "a boolean",
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_utf8_names_the_byte_offset_and_line() {
        let err = parse(b"id: a\nvendor: caf\xe9\n", false).unwrap_err();
        assert_eq!(
            err,
            "not UTF-8: invalid byte 0xe9 at byte offset 17 (line 2); save the file as UTF-8"
        );
    }

    #[test]
    fn not_yaml_names_line_and_column() {
        let err = parse(b"id: a\nvendor: [unclosed\n", false).unwrap_err();
        assert!(err.starts_with("not YAML: "), "{err}");
        assert!(err.contains("line 3 column 1"), "{err}");
    }

    #[test]
    fn not_json_names_line_and_column() {
        let err = parse(b"{\"id\": \"a\",\n}", true).unwrap_err();
        assert!(err.starts_with("not JSON: "), "{err}");
        assert!(err.contains("line 2 column 1"), "{err}");
    }

    #[test]
    fn the_top_must_be_a_mapping() {
        assert!(
            parse(b"- id: a\n", false)
                .unwrap_err()
                .starts_with("not a mapping at the top but a list")
        );
        assert!(
            parse(b"\"a\"", true)
                .unwrap_err()
                .starts_with("not a mapping at the top but a string")
        );
        assert!(parse(b"# nothing\n", false).unwrap_err().starts_with("is empty"));
    }

    #[test]
    fn yaml_and_json_read_the_same() {
        let yaml = parse(
            "\u{feff}id: a1\nimpacts: [1, 2]\nok: true\nn: null\n".as_bytes(),
            false,
        )
        .unwrap();
        let json = parse(br#"{"id": "a1", "impacts": [1, 2], "ok": true, "n": null}"#, true).unwrap();
        assert_eq!(yaml, json);
    }

    #[test]
    fn folders_name_the_kind() {
        assert_eq!(Kind::of_folder(OsStr::new("plans")), Some(Kind::Plan));
        assert_eq!(Kind::of_folder(OsStr::new("workloads")), Some(Kind::Workload));
        assert_eq!(Kind::of_folder(OsStr::new("plan")), None);
    }
}
