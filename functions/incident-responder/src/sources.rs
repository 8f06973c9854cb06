//! Who may start a generic incident, and how often (SPEC §4 trigger 4): the
//! EventBridge sources of `GENERIC_SOURCES` only, each at most
//! `GENERIC_LIMIT_PER_MINUTE` chat messages a minute.

/// The per-source limit when `GENERIC_LIMIT_PER_MINUTE` is not set.
pub const DEFAULT_LIMIT_PER_MINUTE: u32 = 20;
/// The largest limit accepted (far above any chat channel's use).
pub const MAX_LIMIT_PER_MINUTE: u32 = 10_000;

/// The sources allowed to send `Incident Started` events, and their limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericSources {
    sources: Vec<String>,
    limit_per_minute: u32,
}

/// An EventBridge source as `PutEvents` takes it: 1 to 256 characters,
/// here letters, digits and `.`, `-`, `_`, `/`, `:` (no spaces, no wildcards).
fn is_source(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_/:".contains(&b))
}

impl GenericSources {
    /// Checks every source and the limit (1 to [`MAX_LIMIT_PER_MINUTE`]).
    pub fn new<S: AsRef<str>>(
        sources: impl IntoIterator<Item = S>,
        limit_per_minute: u32,
    ) -> Result<Self, String> {
        let mut list: Vec<String> = Vec::new();
        for s in sources {
            let s = s.as_ref().trim();
            if !is_source(s) {
                return Err(format!(
                    "GENERIC_SOURCES: {:?} is not an EventBridge source (1 to 256 of letters, digits, '.', '-', '_', '/', ':')",
                    support_plans_domain::validate::printable(s, 64)
                ));
            }
            if !list.iter().any(|l| l == s) {
                list.push(s.to_owned());
            }
        }
        if list.is_empty() {
            return Err("GENERIC_SOURCES names no source".into());
        }
        if !(1..=MAX_LIMIT_PER_MINUTE).contains(&limit_per_minute) {
            return Err(format!(
                "GENERIC_LIMIT_PER_MINUTE must be 1 to {MAX_LIMIT_PER_MINUTE}, not {limit_per_minute}"
            ));
        }
        Ok(Self {
            sources: list,
            limit_per_minute,
        })
    }

    /// From `GENERIC_SOURCES` (comma-separated, required) and
    /// `GENERIC_LIMIT_PER_MINUTE` (default [`DEFAULT_LIMIT_PER_MINUTE`]).
    pub fn parse(sources: Option<&str>, limit: Option<&str>) -> Result<Self, String> {
        let sources = sources.ok_or(
            "GENERIC_SOURCES is not set: the EventBridge sources whose `Incident Started` events are answered",
        )?;
        let limit = match limit.map(str::trim).filter(|l| !l.is_empty()) {
            None => DEFAULT_LIMIT_PER_MINUTE,
            Some(l) => l
                .parse()
                .map_err(|_| format!("GENERIC_LIMIT_PER_MINUTE is not a number: {l:?}"))?,
        };
        if sources.trim().is_empty() {
            return Err("GENERIC_SOURCES names no source".into());
        }
        Self::new(sources.split(','), limit)
    }

    /// Whether `source` is one of the list (exactly: case and all).
    pub fn admits(&self, source: &str) -> bool {
        self.sources.iter().any(|s| s == source)
    }

    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    pub fn limit_per_minute(&self) -> u32 {
        self.limit_per_minute
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_sources_is_read_exactly_and_a_bad_one_refused_at_start() {
        let g = GenericSources::parse(Some("support-plans.incidents, acme.pager"), None).unwrap();
        assert_eq!(g.sources(), ["support-plans.incidents", "acme.pager"]);
        assert_eq!(g.limit_per_minute(), DEFAULT_LIMIT_PER_MINUTE);
        assert!(g.admits("acme.pager"));
        for other in [
            "",
            "acme",
            "ACME.PAGER",
            "acme.pager ",
            "acme.*",
            "support-plans.incidents.x",
        ] {
            assert!(!g.admits(other), "{other:?}");
        }
        assert_eq!(
            GenericSources::parse(Some("a.b"), Some("5"))
                .unwrap()
                .limit_per_minute(),
            5
        );
        for (sources, limit) in [
            (None, None),
            (Some(""), None),
            (Some(" , "), None),
            (Some("a.b,"), None),
            (Some("a b"), None),
            (Some("acme.*"), None),
            (Some("a.b"), Some("0")),
            (Some("a.b"), Some("ten")),
            (Some("a.b"), Some("10001")),
        ] {
            assert!(
                GenericSources::parse(sources, limit).is_err(),
                "{sources:?} {limit:?}"
            );
        }
    }
}
