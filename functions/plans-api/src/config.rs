//! The plans API's configuration (SPEC §3, §5), read from its environment
//! and checked once at start: a bad value stops the function with a message
//! naming the setting, before it serves anything.

use support_plans_domain::freshness::Policy;
use support_plans_domain::post::Links;
use support_plans_domain::settings;

use crate::auth::AuthConfig;

#[derive(Debug, Clone)]
pub struct Config {
    /// `TABLE_NAME` (required).
    pub table: String,
    /// `LOCAL_AUTH`, `ADMIN_PRINCIPALS`, `TEAM_PRINCIPALS`, `ADMIN_GROUPS`, `JWT_PRINCIPAL_CLAIM`.
    pub auth: AuthConfig,
    /// `REMIND_BEFORE_DAYS` (1–90, default 14).
    pub policy: Policy,
    /// `PLAN_URL` (with `{id}`) and `DIRECTORY_URL`; the API's own routes without them.
    pub links: Links,
    /// `VERIFY_KEY_SECRET_ARN`: without it, `/verify/{token}` answers 503.
    pub verify_key_secret: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        // First: LOCAL_AUTH in AWS stops the function before anything else.
        let auth = AuthConfig::from_vars(&get).map_err(ConfigError)?;
        let policy = Policy::from_settings(get(settings::REMIND_BEFORE_DAYS).as_deref())
            .map_err(|e| ConfigError(e.to_string()))?;
        Ok(Self {
            table: set("TABLE_NAME").ok_or_else(|| ConfigError("TABLE_NAME is not set".into()))?,
            auth,
            policy,
            links: Links::from_lookup(&get),
            verify_key_secret: set("VERIFY_KEY_SECRET_ARN"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_and_required() {
        let c = config(&[("TABLE_NAME", "plans")]).unwrap();
        assert_eq!(c.table, "plans");
        assert_eq!(c.policy, Policy::default());
        assert_eq!(c.links.plan("x"), "GET /plans/x on the support-plans API");
        assert_eq!(c.verify_key_secret, None);
        let e = config(&[]).unwrap_err().to_string();
        assert_eq!(e, "configuration: TABLE_NAME is not set");
    }

    #[test]
    fn a_bad_remind_before_days_stops_the_start_naming_it() {
        for bad in ["soon", "0", "91", "-3", "1.5"] {
            let e = config(&[("TABLE_NAME", "plans"), ("REMIND_BEFORE_DAYS", bad)])
                .unwrap_err()
                .to_string();
            assert!(e.contains("REMIND_BEFORE_DAYS") && e.contains(bad), "{e}");
        }
        let c = config(&[("TABLE_NAME", "plans"), ("REMIND_BEFORE_DAYS", " 21 ")]).unwrap();
        assert_eq!(c.policy.remind_before_days, 21);
    }

    #[test]
    fn local_auth_in_aws_is_refused_first() {
        let e = config(&[("LOCAL_AUTH", "1"), ("LAMBDA_TASK_ROOT", "/var/task")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("LOCAL_AUTH"), "{e}");
    }
}
