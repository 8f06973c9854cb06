//! The webhook edge's configuration (SPEC §11), read from its environment
//! and checked once at start: a missing or bad value stops the function
//! with a message naming the variable, before it serves anything.

pub const TABLE_NAME: &str = "TABLE_NAME";
pub const PAGERDUTY_WEBHOOK_SECRET_ARN: &str = "PAGERDUTY_WEBHOOK_SECRET_ARN";
pub const INCIDENT_WEBHOOK_SECRET_ARN: &str = "INCIDENT_WEBHOOK_SECRET_ARN";
pub const RESPONDER_FUNCTION: &str = "RESPONDER_FUNCTION";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `TABLE_NAME`: where the Standard Webhooks ids are remembered.
    pub table: String,
    /// `PAGERDUTY_WEBHOOK_SECRET_ARN`: the PagerDuty subscription secret(s).
    pub pagerduty_secret: String,
    /// `INCIDENT_WEBHOOK_SECRET_ARN`: the `whsec_` secret(s) of `/hooks/incident`.
    pub incident_secret: String,
    /// `RESPONDER_FUNCTION`: the incident responder's name or ARN.
    pub responder: String,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

/// A name or ARN as AWS writes them: 1 to 2,048 characters, none of them
/// whitespace or control.
fn identifier(get: &impl Fn(&str) -> Option<String>, name: &str, what: &str) -> Result<String, ConfigError> {
    let value = get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ConfigError(format!("{name} is not set: {what}")))?;
    if value.len() > 2048 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ConfigError(format!(
            "{name} is not a name or an ARN (1 to 2048 characters, no spaces): {what}"
        )));
    }
    Ok(value)
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let responder = identifier(&get, RESPONDER_FUNCTION, "the incident responder's name or ARN")?;
        // A function name or ARN: letters, digits, '-', '_', ':' (and the
        // ARN's '.'), at most 170 characters in the Invoke API.
        if responder.len() > 170
            || !responder
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.' | '$'))
        {
            return Err(ConfigError(format!(
                "{RESPONDER_FUNCTION} is not a Lambda function name or ARN"
            )));
        }
        Ok(Self {
            table: identifier(&get, TABLE_NAME, "the table the webhook ids are kept in")?,
            pagerduty_secret: identifier(
                &get,
                PAGERDUTY_WEBHOOK_SECRET_ARN,
                "the secret holding the PagerDuty subscription secret",
            )?,
            incident_secret: identifier(
                &get,
                INCIDENT_WEBHOOK_SECRET_ARN,
                "the secret holding the whsec_ secret of /hooks/incident",
            )?,
            responder,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [(&str, &str); 4] = [
        (TABLE_NAME, "support-plans"),
        (
            PAGERDUTY_WEBHOOK_SECRET_ARN,
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:pd-AbCdEf",
        ),
        (INCIDENT_WEBHOOK_SECRET_ARN, "incident-webhook"),
        (RESPONDER_FUNCTION, "support-plans-IncidentResponderFunction-1A2B"),
    ];

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn every_variable_is_read() {
        let c = config(&ALL).unwrap();
        assert_eq!(c.table, "support-plans");
        assert!(c.pagerduty_secret.ends_with(":secret:pd-AbCdEf"));
        assert_eq!(c.incident_secret, "incident-webhook");
        assert_eq!(c.responder, "support-plans-IncidentResponderFunction-1A2B");
    }

    #[test]
    fn a_missing_or_bad_variable_stops_the_start_naming_it() {
        for name in ALL.map(|(k, _)| k) {
            let without: Vec<_> = ALL.iter().copied().filter(|(k, _)| *k != name).collect();
            let e = config(&without).unwrap_err().to_string();
            assert!(e.contains(name) && e.contains("not set"), "{e}");
            let blank: Vec<_> = ALL
                .iter()
                .map(|&(k, v)| if k == name { (k, " ") } else { (k, v) })
                .collect();
            assert!(config(&blank).unwrap_err().to_string().contains(name));
            let spaced: Vec<_> = ALL
                .iter()
                .map(|&(k, v)| if k == name { (k, "a b") } else { (k, v) })
                .collect();
            assert!(config(&spaced).unwrap_err().to_string().contains(name));
        }
        let slash: Vec<_> = ALL
            .iter()
            .map(|&(k, v)| {
                if k == RESPONDER_FUNCTION {
                    (k, "a/b")
                } else {
                    (k, v)
                }
            })
            .collect();
        assert!(
            config(&slash)
                .unwrap_err()
                .to_string()
                .contains(RESPONDER_FUNCTION)
        );
    }
}
