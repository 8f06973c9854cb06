//! The responder's configuration (SPEC §4), read and checked once at start:
//! a bad value stops the function at init, naming the variable.

use jiff::SignedDuration;
use support_plans_aws::pagerduty::{DEFAULT_URL, PagerDutyConfig};
use support_plans_domain::freshness::Policy;
use support_plans_domain::impact::PriorityImpacts;
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
    /// `PAGERDUTY_*`: PagerDuty's source and sink (SPEC §11), or why not.
    pub pagerduty: PagerDuty,
    /// `RESPONDED_KEY_SECRET_ARN`: the keys that sign the follow-ups'
    /// "vendor responded" links (SPEC §13), with `settings.responded_url`.
    pub responded_keys: Option<String>,
}

/// Whether PagerDuty incidents are answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PagerDuty {
    Configured(PagerDutyConfig),
    /// Why not: a PagerDuty hand-off is refused with this, not retried.
    NotConfigured(String),
}

impl PagerDuty {
    pub fn config(&self) -> Option<&PagerDutyConfig> {
        match self {
            Self::Configured(c) => Some(c),
            Self::NotConfigured(_) => None,
        }
    }

    /// `PAGERDUTY_URL` (default [`DEFAULT_URL`]; https, or http on the
    /// loopback for the local stand-in), `PAGERDUTY_TOKEN_SECRET_ARN`,
    /// `PAGERDUTY_FROM` (an e-mail), `PAGERDUTY_PRIORITY_IMPACTS`
    /// (`NAME=IMPACT,...`). Every value set is checked, PagerDuty used or
    /// not; PagerDuty is used when both the token's secret and `From` are set.
    /// (The stack creates the token's secret whatever its parameters, and
    /// `PagerDutyFromEmail` is empty by default: a stack without PagerDuty
    /// starts, and refuses PagerDuty hand-offs saying why.)
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |name: &str| get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let url = set("PAGERDUTY_URL").unwrap_or_else(|| DEFAULT_URL.to_owned());
        check_url(&url).map_err(|e| ConfigError(format!("PAGERDUTY_URL: {e}")))?;
        let impacts = PriorityImpacts::parse(&get("PAGERDUTY_PRIORITY_IMPACTS").unwrap_or_default())
            .map_err(|e| ConfigError(format!("PAGERDUTY_PRIORITY_IMPACTS: {e}")))?;
        let from = set("PAGERDUTY_FROM");
        if let Some(f) = &from {
            support_plans_domain::Email::parse(f).map_err(|e| {
                ConfigError(format!(
                    "PAGERDUTY_FROM {e} (the login e-mail of a PagerDuty user of the account)"
                ))
            })?;
        }
        let secret = set("PAGERDUTY_TOKEN_SECRET_ARN");
        if secret
            .as_deref()
            .is_some_and(|s| s.len() > 2048 || s.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(ConfigError(
                "PAGERDUTY_TOKEN_SECRET_ARN is not a secret's ARN or name".into(),
            ));
        }
        Ok(match (secret, from) {
            (Some(token_secret), Some(from)) => Self::Configured(PagerDutyConfig {
                url: url.trim_end_matches('/').to_owned(),
                token_secret,
                from,
                impacts,
            }),
            (None, _) => Self::NotConfigured(
                "PAGERDUTY_TOKEN_SECRET_ARN is not set (the stack's PagerDutyTokenSecret)".into(),
            ),
            (Some(_), None) => Self::NotConfigured(
                "PAGERDUTY_FROM is empty: the From e-mail PagerDuty requires with the token (template parameter PagerDutyFromEmail)".into(),
            ),
        })
    }
}

/// `https://host[:port][/path]`, or `http://` on the loopback (the local stand-in).
fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| {
            url.strip_prefix("http://").filter(|r| {
                ["127.0.0.1", "localhost", "[::1]"].iter().any(|h| {
                    r.strip_prefix(h)
                        .is_some_and(|after| after.is_empty() || after.starts_with([':', '/']))
                })
            })
        })
        .ok_or_else(|| {
            format!(
                "{:?} must be an https URL like {DEFAULT_URL} (http only on 127.0.0.1 or localhost)",
                support_plans_domain::validate::printable(url, 100)
            )
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty()
        || url.len() > 1000
        || url.contains(['?', '#', '@'])
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "{:?} must be a plain base URL like {DEFAULT_URL}",
            support_plans_domain::validate::printable(url, 100)
        ));
    }
    Ok(())
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
    /// `GENERIC_LIMIT_PER_MINUTE` (20); the `PAGERDUTY_*` of [`PagerDuty`];
    /// `RESPONDED_URL` (the follow-ups' "vendor responded" links, with
    /// `RESPONDED_KEY_SECRET_ARN`: both or neither) and
    /// `OPEN_SUPPORT_CASES` (`true` or `false`, default `false`).
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
        let pagerduty = PagerDuty::from_lookup(&get)?;
        let responded_url = get("RESPONDED_URL").filter(|v| !v.trim().is_empty());
        let responded_keys = get("RESPONDED_KEY_SECRET_ARN").filter(|v| !v.trim().is_empty());
        match (&responded_url, &responded_keys) {
            (Some(url), Some(_))
                if !url.starts_with("https://")
                    && !url.starts_with("http://127.0.0.1")
                    && !url.starts_with("http://localhost") =>
            {
                return Err(ConfigError(format!(
                    "RESPONDED_URL must be an https URL, not {url:?}"
                )));
            }
            (Some(url), Some(_)) if !url.ends_with("/responded/") => {
                return Err(ConfigError(format!(
                    "RESPONDED_URL must end with /responded/, not {url:?}"
                )));
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(ConfigError(
                    "RESPONDED_URL and RESPONDED_KEY_SECRET_ARN are set together or not at all".into(),
                ));
            }
            _ => {}
        }
        let open_cases = settings::flag("OPEN_SUPPORT_CASES", get("OPEN_SUPPORT_CASES").as_deref(), false)
            .map_err(ConfigError)?;
        Ok(Self {
            pagerduty,
            table,
            settings: Settings {
                incident_topic: get("INCIDENT_TOPIC_ARN").filter(|t| !t.is_empty()),
                chat_topics: get("CHAT_TOPIC_ARNS").map(|v| topic_list(&v)),
                links: Links::from_lookup(&get),
                policy,
                sweep_window: SignedDuration::from_hours(i64::from(hours)),
                limit_per_minute: generic.limit_per_minute(),
                responded_url,
                open_cases,
            },
            responded_keys,
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
    fn the_responded_links_and_case_opening_are_checked() {
        let base = [("TABLE_NAME", "t"), ("GENERIC_SOURCES", "a.b")];
        let c = |extra: &[(&'static str, &'static str)]| {
            let vars: Vec<(&str, &str)> = base.iter().chain(extra).copied().collect();
            Config::from_lookup(env(&vars))
        };
        let off = c(&[]).unwrap();
        assert!(
            off.settings.responded_url.is_none() && off.responded_keys.is_none() && !off.settings.open_cases
        );
        let on = c(&[
            ("RESPONDED_URL", "https://api.example.com/responded/"),
            (
                "RESPONDED_KEY_SECRET_ARN",
                "arn:aws:secretsmanager:us-east-1:1:secret:k",
            ),
            ("OPEN_SUPPORT_CASES", "true"),
        ])
        .unwrap();
        assert_eq!(
            on.settings.responded_url.as_deref(),
            Some("https://api.example.com/responded/")
        );
        assert!(on.settings.open_cases);
        for bad in [
            vec![("RESPONDED_URL", "https://api.example.com/responded/")],
            vec![(
                "RESPONDED_KEY_SECRET_ARN",
                "arn:aws:secretsmanager:us-east-1:1:secret:k",
            )],
            vec![
                ("RESPONDED_URL", "http://api.example.com/responded/"),
                ("RESPONDED_KEY_SECRET_ARN", "k"),
            ],
            vec![
                ("RESPONDED_URL", "https://api.example.com/"),
                ("RESPONDED_KEY_SECRET_ARN", "k"),
            ],
            vec![("OPEN_SUPPORT_CASES", "yes")],
        ] {
            let err = c(&bad).unwrap_err().to_string();
            assert!(
                err.contains("RESPONDED") || err.contains("OPEN_SUPPORT_CASES"),
                "{err}"
            );
        }
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

    #[test]
    fn pagerduty_is_used_with_a_token_secret_and_a_from_and_a_bad_value_stops_the_start() {
        let base = [("TABLE_NAME", "t"), ("GENERIC_SOURCES", "a.b")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut vars = base.to_vec();
            vars.extend_from_slice(extra);
            Config::from_lookup(env(&vars))
        };
        let c = with(&[]).unwrap();
        assert!(
            matches!(c.pagerduty, PagerDuty::NotConfigured(ref why) if why.contains("PAGERDUTY_TOKEN_SECRET_ARN"))
        );
        // The stack's default: the secret exists, no From yet.
        let c = with(&[
            (
                "PAGERDUTY_TOKEN_SECRET_ARN",
                "arn:aws:secretsmanager:us-east-1:111122223333:secret:pd-AbCdEf",
            ),
            ("PAGERDUTY_FROM", ""),
        ])
        .unwrap();
        assert!(matches!(c.pagerduty, PagerDuty::NotConfigured(ref why) if why.contains("PAGERDUTY_FROM")));
        let c = with(&[
            ("PAGERDUTY_TOKEN_SECRET_ARN", "pd-token"),
            ("PAGERDUTY_FROM", "oncall@example.com"),
            ("PAGERDUTY_PRIORITY_IMPACTS", "SEV-1=1"),
            ("PAGERDUTY_URL", "http://127.0.0.1:8123/"),
        ])
        .unwrap();
        let pd = c.pagerduty.config().expect("configured");
        assert_eq!(pd.url, "http://127.0.0.1:8123");
        assert_eq!(pd.impacts.get("sev-1"), Some(1));
        assert_eq!(pd.from, "oncall@example.com");
        let c = with(&[
            ("PAGERDUTY_TOKEN_SECRET_ARN", "pd-token"),
            ("PAGERDUTY_FROM", "oncall@example.com"),
        ])
        .unwrap();
        assert_eq!(c.pagerduty.config().unwrap().url, "https://api.pagerduty.com");
        for (name, value) in [
            ("PAGERDUTY_FROM", "on call"),
            ("PAGERDUTY_FROM", "oncall"),
            ("PAGERDUTY_URL", "http://api.pagerduty.com"),
            ("PAGERDUTY_URL", "ftp://x"),
            ("PAGERDUTY_URL", "https://"),
            ("PAGERDUTY_URL", "https://user@api.pagerduty.com"),
            ("PAGERDUTY_URL", "http://127.0.0.1.evil.example"),
            ("PAGERDUTY_PRIORITY_IMPACTS", "P1=9"),
            ("PAGERDUTY_TOKEN_SECRET_ARN", "a b"),
        ] {
            let e = with(&[(name, value)]).unwrap_err();
            assert!(e.to_string().contains(name), "{name}={value}: {e}");
        }
    }
}
