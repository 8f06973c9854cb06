//! The responder's configuration (SPEC §4), read and checked once at start:
//! a bad value stops the function at init, naming the variable.

use jiff::SignedDuration;
use support_plans_domain::freshness::Policy;
use support_plans_domain::pipeline::Settings;
use support_plans_domain::post::Links;
use support_plans_domain::settings;

use crate::sources::GenericSources;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table: String,
    pub settings: Settings,
    /// `GENERIC_SOURCES`, `GENERIC_LIMIT_PER_MINUTE`: who may send generic
    /// incidents, and how many a minute each.
    pub generic: GenericSources,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

/// `SWEEP_WINDOW_HOURS`: how far back the sweep looks (default 24, 1 to 168).
const SWEEP_WINDOW_MAX_HOURS: u32 = 168;

/// A comma-separated list of topic ARNs, blanks dropped.
fn topic_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// `TABLE_NAME`, `GENERIC_SOURCES` (required); `INCIDENT_TOPIC_ARN`,
    /// `CHAT_TOPIC_ARNS` (comma-separated; set but empty: none but
    /// `INCIDENT_TOPIC_ARN`), `PLAN_URL`, `DIRECTORY_URL`,
    /// `REMIND_BEFORE_DAYS` (14), `SWEEP_WINDOW_HOURS` (24),
    /// `GENERIC_LIMIT_PER_MINUTE` (20).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let table = get("TABLE_NAME")
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| ConfigError("TABLE_NAME is not set".into()))?;
        let generic = GenericSources::parse(
            get("GENERIC_SOURCES").as_deref(),
            get("GENERIC_LIMIT_PER_MINUTE").as_deref(),
        )
        .map_err(ConfigError)?;
        let policy = Policy::from_settings(get(settings::REMIND_BEFORE_DAYS).as_deref())
            .map_err(|e| ConfigError(e.to_string()))?;
        let hours = settings::hours(
            "SWEEP_WINDOW_HOURS",
            get("SWEEP_WINDOW_HOURS").as_deref(),
            24,
            SWEEP_WINDOW_MAX_HOURS,
        )
        .map_err(|e| ConfigError(e.to_string()))?;
        Ok(Self {
            table,
            settings: Settings {
                incident_topic: get("INCIDENT_TOPIC_ARN").filter(|t| !t.is_empty()),
                chat_topics: get("CHAT_TOPIC_ARNS").map(|v| topic_list(&v)),
                links: Links::from_lookup(&get),
                policy,
                sweep_window: SignedDuration::from_hours(i64::from(hours)),
                limit_per_minute: generic.limit_per_minute(),
            },
            generic,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn the_configuration_is_read_once_and_a_bad_value_is_named_at_start() {
        let base = [("TABLE_NAME", "t"), ("GENERIC_SOURCES", "a.b")];
        let c = Config::from_lookup(env(&base)).unwrap();
        assert_eq!(c.settings.policy.remind_before_days, 14);
        assert_eq!(c.settings.sweep_window, SignedDuration::from_hours(24));
        assert_eq!(c.settings.chat_topics, None);
        let c = Config::from_lookup(env(&[
            ("TABLE_NAME", "t"),
            ("GENERIC_SOURCES", "a.b"),
            ("REMIND_BEFORE_DAYS", "30"),
            ("CHAT_TOPIC_ARNS", ""),
            ("PLAN_URL", "https://p/{id}"),
        ]))
        .unwrap();
        assert_eq!(c.settings.policy.remind_before_days, 30);
        assert_eq!(c.settings.chat_topics, Some(vec![]));
        assert_eq!(c.settings.links.plan("x"), "https://p/x");
        for (name, value) in [
            ("REMIND_BEFORE_DAYS", "soon"),
            ("REMIND_BEFORE_DAYS", "0"),
            ("SWEEP_WINDOW_HOURS", "-1"),
        ] {
            let e = Config::from_lookup(env(&[base[0], base[1], (name, value)])).unwrap_err();
            assert!(e.to_string().contains(name), "{e}");
        }
        assert!(
            Config::from_lookup(env(&[base[1]]))
                .unwrap_err()
                .to_string()
                .contains("TABLE_NAME")
        );
    }
}
