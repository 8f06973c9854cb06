//! Reminders (SPEC §5): one SNS message, and the packing of items into
//! messages that fit SNS's limit.

use super::{SNS_MAX_BYTES, SUBJECT_MAX_CHARS};
use crate::types::Slug;
use crate::wire::wire_enum;

wire_enum! {
    /// What a message is: its `kind` attribute, which subscriptions filter on.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum MessageKind {
        Reminder = "reminder",
        Escalation = "escalation",
    }
}

/// An SNS message attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    String(String),
    /// Sent as `String.Array`: a JSON array, which subscription filter policies match per element.
    StringArray(Vec<String>),
}

impl AttrValue {
    pub fn data_type(&self) -> &'static str {
        match self {
            AttrValue::String(_) => "String",
            AttrValue::StringArray(_) => "String.Array",
        }
    }

    /// The value as SNS carries it.
    pub fn value(&self) -> String {
        match self {
            AttrValue::String(s) => s.clone(),
            AttrValue::StringArray(v) => serde_json::to_string(v).expect("strings serialize"),
        }
    }
}

/// One SNS message: a subject, a plain-text body and attributes to filter on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub body: String,
    pub attributes: Vec<(&'static str, AttrValue)>,
}

impl Message {
    /// The size SNS counts against its limit: the body, and each attribute's
    /// name, type and value; the subject is counted too, to be safe.
    pub fn size(&self) -> usize {
        self.body.len()
            + self.subject.len()
            + self
                .attributes
                .iter()
                .map(|(name, v)| name.len() + v.data_type().len() + v.value().len())
                .sum::<usize>()
    }

    pub fn attribute(&self, name: &str) -> Option<&AttrValue> {
        self.attributes.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

/// Cuts to `max` characters; SNS subjects are ASCII, one line.
pub(super) fn subject_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_graphic() { c } else { ' ' })
        .take(SUBJECT_MAX_CHARS)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

/// One item's text and the plan it belongs to, ready to be packed into messages.
pub(super) struct Entry<'a> {
    pub(super) plan: &'a Slug,
    pub(super) plan_title: &'a str,
    pub(super) text: String,
}

pub(super) fn plan_header(plan: &Slug, title: &str, continued: bool) -> String {
    let more = if continued { " (continued)" } else { "" };
    format!("== {plan}: {title}{more} ==\n\n")
}

/// Which part of an owner's message this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Part {
    pub(super) n: usize,
    pub(super) of: usize,
}

/// Packs entries into as few messages as fit SNS's limit, each complete:
/// `make(part, items_text, plan_ids)` wraps the items in a whole message.
pub(super) fn pack(entries: &[Entry<'_>], make: &dyn Fn(Part, &str, Vec<String>) -> Message) -> Vec<Message> {
    let render = |chunk: &[Entry<'_>], continued_from: Option<&Slug>| {
        let mut body = String::new();
        let mut plans: Vec<String> = Vec::new();
        let mut last: Option<&Slug> = None;
        for e in chunk {
            if last != Some(e.plan) {
                let continued = last.is_none() && continued_from == Some(e.plan);
                body.push_str(&plan_header(e.plan, e.plan_title, continued));
                plans.push(e.plan.to_string());
                last = Some(e.plan);
            }
            body.push_str(&e.text);
        }
        (body, plans)
    };
    let (body, plans) = render(entries, None);
    let whole = make(Part { n: 1, of: 1 }, &body, plans);
    if whole.size() <= SNS_MAX_BYTES {
        return vec![whole];
    }
    // Too long: greedy parts. The fixed part of a message is measured with
    // the widest part numbers; each entry costs its text, and its plan's
    // header and id when the plan starts (or continues) in this part.
    let overhead = make(Part { n: 9999, of: 9999 }, "", Vec::new()).size();
    let budget = SNS_MAX_BYTES.saturating_sub(overhead + 256);
    let mut chunks: Vec<&[Entry<'_>]> = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, e) in entries.iter().enumerate() {
        let new_plan = i == start || entries[i - 1].plan != e.plan;
        let cost = e.text.len()
            + if new_plan {
                plan_header(e.plan, e.plan_title, true).len() + e.plan.as_str().len() + 3
            } else {
                0
            };
        if i > start && used + cost > budget {
            chunks.push(&entries[start..i]);
            start = i;
            used = plan_header(e.plan, e.plan_title, true).len() + e.plan.as_str().len() + 3 + e.text.len();
        } else {
            used += cost;
        }
    }
    chunks.push(&entries[start..]);
    let of = chunks.len();
    let mut prev_last: Option<&Slug> = None;
    chunks
        .into_iter()
        .enumerate()
        .map(|(n, chunk)| {
            let (body, plans) = render(chunk, prev_last);
            prev_last = chunk.last().map(|e| e.plan);
            let m = make(Part { n: n + 1, of }, &body, plans);
            debug_assert!(m.size() <= SNS_MAX_BYTES, "part of {} bytes", m.size());
            m
        })
        .collect()
}

pub(super) fn part_tag(part: Part) -> String {
    if part.of > 1 {
        format!(" {}/{}", part.n, part.of)
    } else {
        String::new()
    }
}
