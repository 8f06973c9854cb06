//! An incident's impact from what PagerDuty says of it (SPEC §11): its
//! priority (`P1`…`P5` → 1…5, the map overridable by configuration) or,
//! without a known one, its urgency (`high` → 2, `low` → 4). A pure function.

use std::collections::BTreeMap;

/// The longest priority name in the map, in characters (as a PagerDuty
/// service name in `match.pagerduty_services`).
pub const MAX_PRIORITY_CHARS: usize = 255;

/// Priority names (compared whatever their case) → impact 1 (critical) … 5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityImpacts {
    /// Keyed by the lower-cased name.
    impacts: BTreeMap<String, u8>,
}

impl Default for PriorityImpacts {
    /// PagerDuty's standard priorities: `P1` → 1 … `P5` → 5.
    fn default() -> Self {
        Self {
            impacts: (1..=5u8).map(|n| (format!("p{n}"), n)).collect(),
        }
    }
}

/// A priority map entry that is not `NAME=IMPACT`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "priority map entry {position} `{entry}`: {problem} (the map is comma-separated NAME=IMPACT entries, like P1=1,P2=2,SEV-1=1)"
)]
pub struct PriorityMapError {
    /// 1-based, counting the entries between commas.
    pub position: usize,
    /// The entry as written, trimmed.
    pub entry: String,
    pub problem: String,
}

impl PriorityImpacts {
    /// Parses a configuration value like `P1=1,P2=2,SEV-1=1`: entries
    /// separated by commas, each a priority name, `=`, and an impact 1–5;
    /// blanks around names and impacts and empty entries (a trailing comma)
    /// are ignored; an empty value is the defaults. The entries are laid over
    /// the defaults: `P3=2` changes P3 only, `SEV-1=1` adds a name. A name
    /// given twice (whatever its case) is refused.
    pub fn parse(value: &str) -> Result<Self, PriorityMapError> {
        let mut map = Self::default();
        let mut given: BTreeMap<String, usize> = BTreeMap::new();
        for (i, raw) in value.split(',').enumerate() {
            let entry = raw.trim();
            if entry.is_empty() {
                continue;
            }
            let error = |problem: String| PriorityMapError {
                position: i + 1,
                entry: entry.to_owned(),
                problem,
            };
            let Some((name, impact)) = entry.split_once('=') else {
                return Err(error("must be NAME=IMPACT".into()));
            };
            let (name, impact) = (name.trim(), impact.trim());
            if name.is_empty() {
                return Err(error("must start with a priority name".into()));
            }
            if name.chars().count() > MAX_PRIORITY_CHARS {
                return Err(error(format!(
                    "the priority name must be at most {MAX_PRIORITY_CHARS} characters"
                )));
            }
            if name.chars().any(char::is_control) {
                return Err(error("the priority name must be printable".into()));
            }
            let impact = impact
                .parse::<u8>()
                .ok()
                .filter(|n| (1..=5).contains(n))
                .ok_or_else(|| {
                    error(format!(
                        "the impact must be a whole number 1 to 5, not `{impact}`"
                    ))
                })?;
            let key = name.to_lowercase();
            if let Some(first) = given.insert(key.clone(), i + 1) {
                return Err(error(format!(
                    "priority `{name}` is already mapped by entry {first} (names match whatever their case)"
                )));
            }
            map.impacts.insert(key, impact);
        }
        Ok(map)
    }

    /// The impact of a priority name, if the map has it.
    pub fn get(&self, priority: &str) -> Option<u8> {
        self.impacts.get(&priority.trim().to_lowercase()).copied()
    }
}

/// The impact of a PagerDuty incident: its priority's, if the map knows the
/// priority; else its urgency's (`high` → 2, `low` → 4); else unknown
/// (`None`). Unknown is what the responder already handles for an incident
/// without an impact: the note lists every severity of the plan and lets the
/// responder choose, rather than guess one that may be too low or too high.
pub fn pagerduty_impact(priority: Option<&str>, urgency: Option<&str>, map: &PriorityImpacts) -> Option<u8> {
    if let Some(impact) = priority.and_then(|p| map.get(p)) {
        return Some(impact);
    }
    match urgency.map(str::trim) {
        Some(u) if u.eq_ignore_ascii_case("high") => Some(2),
        Some(u) if u.eq_ignore_ascii_case("low") => Some(4),
        _ => None,
    }
}
