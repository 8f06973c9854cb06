//! Value types that can only be built through a checked `parse`.
//!
//! Each also deserializes through the same `parse` (`try_from = "String"`), so
//! a value read back from storage is held to the same rules as a request.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::validate::{Lines, check_text};

macro_rules! checked_string {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

checked_string!(
    /// `^[a-z0-9][a-z0-9-]{1,62}$`: plan ids, workload names, team names, contact ids.
    Slug
);
checked_string!(
    /// An e-mail address: `local@domain.tld`, at most 254 characters.
    Email
);
checked_string!(
    /// An E.164-style phone number: `+`, country code, 7–15 digits in all;
    /// spaces and hyphens between digit groups are allowed for readability.
    Phone
);
checked_string!(
    /// An absolute `https://` URL with a host, at most 2,000 characters.
    HttpsUrl
);

impl Slug {
    pub fn parse(s: &str) -> Result<Self, String> {
        let b = s.as_bytes();
        let ok = (2..=63).contains(&b.len())
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err("must be 2–63 characters of a-z, 0-9 and '-', starting with a letter or digit".into())
        }
    }
}

impl Email {
    pub fn parse(s: &str) -> Result<Self, String> {
        const MSG: &str = "must be an e-mail address like name@example.com";
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(MSG.into());
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(MSG.into());
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && !local.contains(['<', '>', '(', ')', '[', ']', ',', ';', ':', '\\', '"']);
        if local_ok && is_hostname(domain) && domain.contains('.') {
            Ok(Self(s.to_owned()))
        } else {
            Err(MSG.into())
        }
    }
}

impl Phone {
    pub fn parse(s: &str) -> Result<Self, String> {
        const MSG: &str = "must be an international phone number like +12065550100 (E.164)";
        let Some(rest) = s.strip_prefix('+') else {
            return Err(MSG.into());
        };
        let digits: String = rest.chars().filter(|c| c.is_ascii_digit()).collect();
        let only_separators = rest.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
        let groups_ok = !rest.starts_with([' ', '-'])
            && !rest.ends_with([' ', '-'])
            && !rest.contains("  ")
            && !rest.contains("--")
            && !rest.contains(" -")
            && !rest.contains("- ");
        if only_separators && groups_ok && (7..=15).contains(&digits.len()) && !digits.starts_with('0') {
            Ok(Self(s.to_owned()))
        } else {
            Err(MSG.into())
        }
    }

    /// The number without separators, for `tel:` links.
    pub fn e164(&self) -> String {
        self.0
            .chars()
            .filter(|c| *c == '+' || c.is_ascii_digit())
            .collect()
    }
}

impl HttpsUrl {
    pub fn parse(s: &str) -> Result<Self, String> {
        const MSG: &str = "must be an https:// URL with a host";
        if s.len() > 2000 {
            return Err("must be at most 2000 characters".into());
        }
        let Some(rest) = s.strip_prefix("https://") else {
            return Err(MSG.into());
        };
        if s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\' || c == '"' || c == '<' || c == '>')
        {
            return Err("must not contain spaces, quotes, angle brackets or control characters".into());
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err("must not carry credentials".into());
        }
        let host = match authority.rsplit_once(':') {
            Some((h, port))
                if port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p > 0) =>
            {
                h
            }
            Some(_) => return Err(MSG.into()),
            None => authority,
        };
        if is_hostname(host) {
            Ok(Self(s.to_owned()))
        } else {
            Err(MSG.into())
        }
    }
}

fn is_hostname(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Checks a plan's `account_ref`: a reference, never a credential.
pub fn check_account_ref(s: &str) -> Result<(), String> {
    check_text(s, 0..=200, Lines::Single)?;
    if looks_like_secret(s) {
        return Err("looks like a secret (PIN, password, token or key); store only a customer, contract or account number here and keep secrets in a secret store".into());
    }
    Ok(())
}

const SECRET_WORDS: &[&str] = &[
    "pin",
    "pins",
    "password",
    "passwd",
    "passcode",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api-key",
    "api_key",
    "otp",
    "credential",
    "credentials",
];

fn looks_like_secret(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    // A secret word alone ("PIN 5678", "token=…") or glued to its value ("PIN5678").
    let keyword = lower.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
        SECRET_WORDS.iter().any(|k| {
            w.strip_prefix(k)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_digit()))
        })
    }) || lower.contains("api key")
        || lower.contains("api-key")
        || lower.contains("api_key");
    // Long random-looking runs of letters and digits: access keys, bearer tokens.
    // Separators end a run, so "ENT-2024-00042-EMEA" is four short runs.
    let random_run = s.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
        let has = |f: fn(&u8) -> bool| w.as_bytes().iter().any(f);
        w.len() >= 20
            && has(u8::is_ascii_digit)
            && has(u8::is_ascii_alphabetic)
            && ((has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase)) || w.len() >= 32)
    });
    keyword || random_run || s.contains("AKIA")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["aws-business", "a1", "0-team", "x".repeat(63).as_str()] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["a", "-a", "Aws", "a_b", "a b", "", "x".repeat(64).as_str(), "é1"] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert!(Email::parse("oncall@example.com").is_ok());
        for bad in [
            "oncall",
            "a@b",
            "@example.com",
            "a b@example.com",
            "a@-x.com",
            "a@x..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones() {
        for ok in ["+12065550100", "+1 206 555 0100", "+44-20-7946-0000"] {
            assert!(Phone::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "2065550100",
            "+1",
            "+0123456789",
            "+1 (206) 555",
            "+1206555010012345",
            "+1--2065550100",
            "+1 -206 555 0100",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Phone::parse("+1 206 555 0100").map(|p| p.e164()),
            Ok("+12065550100".into())
        );
    }

    #[test]
    fn https_urls() {
        for ok in [
            "https://console.aws.amazon.com/support/home",
            "https://x.example:8443/a?b=c#d",
        ] {
            assert!(HttpsUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com",
            "javascript:alert(1)",
            "https://",
            "https://exa mple.com",
            "https://user:pw@example.com/",
            "https://example.com/\"><script>",
            "HTTPS://example.com",
        ] {
            assert!(HttpsUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn account_refs_refuse_secrets() {
        for ok in [
            "Account 123456789012",
            "Customer #AC-55821",
            "Contract 2024-ENT-0042",
            "",
        ] {
            assert!(check_account_ref(ok).is_ok(), "{ok}");
        }
        for bad in [
            "Customer 1234, PIN 5678",
            "password: hunter2",
            "api key abc",
            "token=xyz",
            "AKIAIOSFODNN7EXAMPLE",
            "acct 42 sk_live_51H8aBcDeFgHiJkLmNoPqRsTu",
        ] {
            assert!(check_account_ref(bad).is_err(), "{bad}");
        }
    }
}

/// An Incident Manager incident record's ARN, checked once where it enters
/// (a trigger, the sweep's list): `arn:<aws…>:ssm-incidents:<region>:<account>:incident-record/<response-plan>/<id>`.
/// Its parts (the id, the response plan) are read from here only (SPEC §2
/// "Incident match", §4 triggers).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IncidentArn(String);

impl IncidentArn {
    pub fn parse(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let ok = parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "ssm-incidents"
            && parts[4].len() == 12
            && parts[4].bytes().all(|b| b.is_ascii_digit())
            && parts[5].starts_with("incident-record/")
            && s.len() <= 1000
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err("not an Incident Manager incident ARN".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The record's own id: the last segment.
    pub fn id(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The response plan's name: the segment after `incident-record/`.
    pub fn response_plan(&self) -> Option<&str> {
        plan_segment(&self.0)
    }

    /// [`IncidentArn::response_plan`] of `s` when `s` is an incident ARN,
    /// borrowed from `s`.
    pub fn response_plan_in(s: &str) -> Option<&str> {
        Self::parse(s).ok()?;
        plan_segment(s)
    }

    /// The response plan's ARN: same partition, Region and account.
    pub fn response_plan_arn(&self) -> Option<String> {
        let (prefix, _) = self.0.split_once(":incident-record/")?;
        Some(format!("{prefix}:response-plan/{}", self.response_plan()?))
    }
}

/// The segment after `incident-record/` of an ARN already checked.
fn plan_segment(s: &str) -> Option<&str> {
    let (_, rest) = s.split_once(":incident-record/")?;
    let name = rest.split('/').next()?;
    (!name.is_empty()).then_some(name)
}

impl fmt::Display for IncidentArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod incident_arn_tests {
    use super::IncidentArn;

    #[test]
    fn an_incident_arn_is_checked_once_and_read_in_parts() {
        let arn = IncidentArn::parse(
            "arn:aws:ssm-incidents::111122223333:incident-record/payments-critical/6ac3b7d0",
        )
        .unwrap();
        assert_eq!(arn.id(), "6ac3b7d0");
        assert_eq!(arn.response_plan(), Some("payments-critical"));
        assert_eq!(
            arn.response_plan_arn().as_deref(),
            Some("arn:aws:ssm-incidents::111122223333:response-plan/payments-critical")
        );
        for bad in [
            "arn:aws:s3:::bucket",
            "arn:aws:ssm-incidents::1:incident-record/p/x",
            "arn:aws:ssm-incidents::111122223333:response-plan/p",
            "arn:aws:ssm-incidents::111122223333:incident-record/p/x y",
        ] {
            assert!(IncidentArn::parse(bad).is_err(), "{bad}");
        }
    }
}
