//! The webhook edge's configuration (SPEC §11, §13), read from its environment
//! and checked once at start: a missing or bad value stops the function
//! with a message naming the variable, before it serves anything.

pub const TABLE_NAME: &str = "TABLE_NAME";
pub const PAGERDUTY_WEBHOOK_SECRET_ARN: &str = "PAGERDUTY_WEBHOOK_SECRET_ARN";
pub const INCIDENT_WEBHOOK_SECRET_ARN: &str = "INCIDENT_WEBHOOK_SECRET_ARN";
pub const RESPONDER_FUNCTION: &str = "RESPONDER_FUNCTION";
pub const RESPONDED_KEY_SECRET_ARN: &str = "RESPONDED_KEY_SECRET_ARN";
pub const LOCAL_AUTH: &str = "LOCAL_AUTH";

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
    /// `RESPONDED_KEY_SECRET_ARN`: the keys of the "vendor responded" links.
    pub responded_key: String,
    /// `LOCAL_AUTH=1` (the local stack only; refused in AWS): the portals'
    /// route takes its caller from the `x-local-principal` header.
    pub local_auth: bool,
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
            responded_key: identifier(
                &get,
                RESPONDED_KEY_SECRET_ARN,
                "the secret holding the keys of the vendor-responded links",
            )?,
            local_auth: local_auth(&get)?,
        })
    }
}

/// `LOCAL_AUTH`: set by the local stack only; refused where Lambda runs it.
pub fn local_auth(get: &impl Fn(&str) -> Option<String>) -> Result<bool, ConfigError> {
    let local = get(LOCAL_AUTH).filter(|v| !v.is_empty());
    if let (Some(_), Some(signal)) = (&local, support_plans_domain::settings::aws_signal(get)) {
        return Err(ConfigError(format!(
            "{LOCAL_AUTH} is set, but this function runs in AWS Lambda ({signal} is set): \
             {LOCAL_AUTH} takes the caller from request headers and is for the local stack \
             only (SPEC §3); remove {LOCAL_AUTH} from the function's environment"
        )));
    }
    Ok(local.is_some_and(|v| v == "1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [(&str, &str); 5] = [
        (TABLE_NAME, "support-plans"),
        (
            PAGERDUTY_WEBHOOK_SECRET_ARN,
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:pd-AbCdEf",
        ),
        (INCIDENT_WEBHOOK_SECRET_ARN, "incident-webhook"),
        (RESPONDER_FUNCTION, "support-plans-IncidentResponderFunction-1A2B"),
        (
            RESPONDED_KEY_SECRET_ARN,
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:responded-AbCdEf",
        ),
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
        assert!(c.responded_key.ends_with(":secret:responded-AbCdEf"));
        assert!(!c.local_auth);
    }

    #[test]
    fn local_auth_is_taken_locally_and_refused_in_aws() {
        let mut local = ALL.to_vec();
        local.push((LOCAL_AUTH, "1"));
        assert!(config(&local).unwrap().local_auth);
        local.push(("LAMBDA_TASK_ROOT", "/var/task"));
        let e = config(&local).unwrap_err().to_string();
        assert!(e.contains(LOCAL_AUTH) && e.contains("LAMBDA_TASK_ROOT"), "{e}");
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
