//! Checked parsing of caller-supplied JSON.
//!
//! Requests are walked as `serde_json::Value` rather than deserialized with
//! serde's derive, so that one pass reports *every* offending field by its
//! path (`contacts[1].email`), including unknown fields and wrong types,
//! instead of stopping at the first.

use std::fmt;
use std::ops::RangeInclusive;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::wire::WireName;

/// One offending field: its path in the request and what is wrong with it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Every offending field of one request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn fields(&self) -> Vec<&str> {
        self.0.iter().map(|e| e.field.as_str()).collect()
    }

    /// The message for `field`, if that field is among the errors.
    pub fn message_for(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} invalid field(s): ", self.0.len())?;
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            let field = if e.field.is_empty() { "(body)" } else { &e.field };
            write!(f, "{field}: {}", e.message)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

/// The parsing context: where we are in the document and what went wrong so far.
#[derive(Debug, Default)]
pub struct Cx {
    path: Vec<Seg>,
    errors: Vec<FieldError>,
}

/// A JSON object whose keys were checked against the allowed set.
#[derive(Debug, Clone, Copy)]
pub struct Obj<'a>(&'a Map<String, Value>);

impl<'a> Obj<'a> {
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }
}

/// The deepest nesting a request may have; anything deeper is hostile.
const MAX_DEPTH: usize = 16;

impl Cx {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` on the whole document and returns its value or every error.
    pub fn run<T>(f: impl FnOnce(&mut Cx) -> Option<T>) -> Result<T, ValidationErrors> {
        let mut cx = Cx::new();
        let out = f(&mut cx);
        match out {
            Some(v) if cx.errors.is_empty() => Ok(v),
            _ => {
                if cx.errors.is_empty() {
                    cx.errors.push(FieldError {
                        field: String::new(),
                        message: "invalid".into(),
                    });
                }
                Err(ValidationErrors(cx.errors))
            }
        }
    }

    pub fn path(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Index(i) => {
                    s.push('[');
                    s.push_str(&i.to_string());
                    s.push(']');
                }
            }
        }
        s
    }

    /// Records an error at the current path.
    pub fn error(&mut self, message: impl Into<String>) {
        let field = self.path();
        self.errors.push(FieldError {
            field,
            message: message.into(),
        });
    }

    pub fn error_count(&self) -> usize {
        self.errors.len()
    }

    /// Runs `f` one key deeper.
    pub fn at<T>(&mut self, key: &str, f: impl FnOnce(&mut Cx) -> T) -> T {
        self.path.push(Seg::Key(key.to_owned()));
        let out = f(self);
        self.path.pop();
        out
    }

    /// Runs `f` one list index deeper.
    pub fn at_index<T>(&mut self, index: usize, f: impl FnOnce(&mut Cx) -> T) -> T {
        self.path.push(Seg::Index(index));
        let out = f(self);
        self.path.pop();
        out
    }

    /// Checks that `v` is an object with only `allowed` (or `ignored`) keys.
    /// `ignored` keys are accepted and dropped: the server owns them.
    pub fn object<'a>(&mut self, v: &'a Value, allowed: &[&str], ignored: &[&str]) -> Option<Obj<'a>> {
        if self.path.len() > MAX_DEPTH {
            self.error("nested too deeply");
            return None;
        }
        let Value::Object(map) = v else {
            self.error(format!("must be an object, not {}", kind_of(v)));
            return None;
        };
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) && !ignored.contains(&key.as_str()) {
                let shown = printable(key, 64);
                self.path.push(Seg::Key(shown));
                self.error("unknown field");
                self.path.pop();
            }
        }
        Some(Obj(map))
    }

    /// A required field: missing or null is an error.
    pub fn req<T>(
        &mut self,
        o: Obj<'_>,
        key: &str,
        f: impl FnOnce(&Value, &mut Cx) -> Option<T>,
    ) -> Option<T> {
        self.at(key, |cx| match o.get(key) {
            Some(v) => f(v, cx),
            None => {
                cx.error("is required");
                None
            }
        })
    }

    /// An optional field: `Some(None)` when absent or null, `None` when invalid.
    pub fn opt<T>(
        &mut self,
        o: Obj<'_>,
        key: &str,
        f: impl FnOnce(&Value, &mut Cx) -> Option<T>,
    ) -> Option<Option<T>> {
        self.at(key, |cx| match o.get(key) {
            Some(v) => f(v, cx).map(Some),
            None => Some(None),
        })
    }

    /// An optional field with a default.
    pub fn or<T>(
        &mut self,
        o: Obj<'_>,
        key: &str,
        default: T,
        f: impl FnOnce(&Value, &mut Cx) -> Option<T>,
    ) -> Option<T> {
        self.opt(o, key, f).map(|v| v.unwrap_or(default))
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A caller's text shortened and stripped of control characters, safe to echo back.
pub fn printable(s: &str, max_chars: usize) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(max_chars).collect();
    if s.chars().count() > max_chars {
        out.push('…');
    }
    out
}

/// A list of `items` elements, each parsed by `f` at its index.
pub fn list<T>(
    v: &Value,
    cx: &mut Cx,
    items: RangeInclusive<usize>,
    mut f: impl FnMut(&Value, &mut Cx) -> Option<T>,
) -> Option<Vec<T>> {
    let Value::Array(values) = v else {
        cx.error(format!("must be a list, not {}", kind_of(v)));
        return None;
    };
    if !items.contains(&values.len()) {
        cx.error(count_message(&items, values.len()));
        return None;
    }
    let before = cx.error_count();
    let mut out = Vec::with_capacity(values.len());
    for (i, item) in values.iter().enumerate() {
        if let Some(parsed) = cx.at_index(i, |cx| f(item, cx)) {
            out.push(parsed);
        }
    }
    (cx.error_count() == before && out.len() == values.len()).then_some(out)
}

fn count_message(items: &RangeInclusive<usize>, got: usize) -> String {
    let (lo, hi) = (*items.start(), *items.end());
    if lo == 0 {
        format!("must have at most {hi} items, has {got}")
    } else if lo == hi {
        format!("must have exactly {lo} items, has {got}")
    } else {
        format!("must have {lo} to {hi} items, has {got}")
    }
}

/// Whether text is single-line (names, titles) or may hold line breaks (notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    Single,
    Multi,
}

/// Checks a text value: its length in characters and its characters.
pub fn check_text(s: &str, chars: RangeInclusive<usize>, lines: Lines) -> Result<(), String> {
    let n = s.chars().count();
    if n < *chars.start() {
        return Err(if *chars.start() == 1 {
            "must not be empty".into()
        } else {
            format!("must be at least {} characters", chars.start())
        });
    }
    if n > *chars.end() {
        return Err(format!("must be at most {} characters, has {n}", chars.end()));
    }
    if *chars.start() > 0 && s.trim().is_empty() {
        return Err("must not be blank".into());
    }
    let allowed = |c: char| match lines {
        Lines::Single => false,
        Lines::Multi => c == '\n' || c == '\t' || c == '\r',
    };
    if s.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(match lines {
            Lines::Single => "must not contain control characters or line breaks".into(),
            Lines::Multi => "must not contain control characters".into(),
        });
    }
    if s.chars().any(is_invisible_format) {
        return Err("must not contain invisible formatting characters".into());
    }
    Ok(())
}

/// Bidirectional overrides and zero-width characters hide what text says.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// A string value of `chars` characters.
pub fn text(v: &Value, cx: &mut Cx, chars: RangeInclusive<usize>, lines: Lines) -> Option<String> {
    let s = string(v, cx)?;
    match check_text(s, chars, lines) {
        Ok(()) => Some(s.to_owned()),
        Err(m) => {
            cx.error(m);
            None
        }
    }
}

/// Any string value, unchecked beyond its type.
pub fn string<'a>(v: &'a Value, cx: &mut Cx) -> Option<&'a str> {
    match v {
        Value::String(s) => Some(s),
        other => {
            cx.error(format!("must be a string, not {}", kind_of(other)));
            None
        }
    }
}

/// A whole number in `range`.
pub fn int(v: &Value, cx: &mut Cx, range: RangeInclusive<u32>) -> Option<u32> {
    let fail = |cx: &mut Cx| {
        cx.error(format!(
            "must be a whole number from {} to {}",
            range.start(),
            range.end()
        ));
        None
    };
    let Value::Number(n) = v else {
        return fail(cx);
    };
    match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
        Some(n) if range.contains(&n) => Some(n),
        _ => fail(cx),
    }
}

/// A value checked by a newtype's own `parse`.
pub fn parsed<T>(v: &Value, cx: &mut Cx, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
    let s = string(v, cx)?;
    match parse(s) {
        Ok(t) => Some(t),
        Err(m) => {
            cx.error(m);
            None
        }
    }
}

/// One of the wire names of a unit-variant enum.
pub fn one_of<T: WireName>(v: &Value, cx: &mut Cx) -> Option<T> {
    parsed(v, cx, |s| T::from_wire(s).map_err(|e| e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_name_keys_and_indexes() {
        let doc = json!({"a": [{"b": 1}, {"b": "x"}]});
        let err = Cx::run(|cx| {
            let o = cx.object(&doc, &["a"], &[])?;
            cx.req(o, "a", |v, cx| {
                list(v, cx, 0..=5, |v, cx| {
                    let o = cx.object(v, &["b"], &[])?;
                    cx.req(o, "b", |v, cx| int(v, cx, 0..=10))
                })
            })
        })
        .unwrap_err();
        assert_eq!(err.fields(), vec!["a[1].b"]);
    }

    #[test]
    fn unknown_fields_are_all_named() {
        let doc = json!({"a": 1, "zzz": 2, "yyy": 3, "ignored": 4});
        let err = Cx::run(|cx| {
            let o = cx.object(&doc, &["a"], &["ignored"])?;
            cx.req(o, "a", |v, cx| int(v, cx, 0..=10))
        })
        .unwrap_err();
        assert_eq!(err.fields(), vec!["yyy", "zzz"]);
        assert_eq!(err.message_for("zzz"), Some("unknown field"));
    }

    #[test]
    fn numbers_out_of_range_and_fractions_are_refused() {
        for bad in [json!(-1), json!(1.5), json!(1e300), json!(11), json!("5")] {
            let r = Cx::run(|cx| int(&bad, cx, 0..=10));
            assert!(r.is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn text_refuses_control_and_invisible_characters() {
        assert!(check_text("ok\nok", 1..=10, Lines::Multi).is_ok());
        assert!(check_text("ok\nok", 1..=10, Lines::Single).is_err());
        assert!(check_text("a\u{0}b", 1..=10, Lines::Multi).is_err());
        assert!(check_text("a\u{202E}b", 1..=10, Lines::Single).is_err());
        assert!(check_text("   ", 1..=10, Lines::Single).is_err());
        assert!(check_text("", 0..=10, Lines::Single).is_ok());
    }
}
