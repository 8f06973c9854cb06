//! Settings a function reads from its environment (SPEC §5, §7): each a
//! named whole number within bounds, parsed once at start, its error naming
//! the variable, what it must be and what it is.

use crate::freshness::Policy;

/// `REMIND_BEFORE_DAYS`: an item is due-soon this many days before it falls due.
pub const REMIND_BEFORE_DAYS: &str = "REMIND_BEFORE_DAYS";
/// The most `REMIND_BEFORE_DAYS` may be.
pub const REMIND_BEFORE_DAYS_MAX: u32 = 90;

/// A setting that is not what it must be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} must be a whole number of {unit} from {min} to {max}, not {value:?}")]
pub struct SettingError {
    /// The variable.
    pub name: &'static str,
    /// `days` or `hours`.
    pub unit: &'static str,
    pub min: u32,
    pub max: u32,
    /// What it was set to.
    pub value: String,
}

/// `value` as a whole number of days from 1 to `max`; `default` when unset.
pub fn days(name: &'static str, value: Option<&str>, default: u32, max: u32) -> Result<u32, SettingError> {
    bounded(name, "days", value, default, max)
}

/// `value` as a whole number of hours from 1 to `max`; `default` when unset.
pub fn hours(name: &'static str, value: Option<&str>, default: u32, max: u32) -> Result<u32, SettingError> {
    bounded(name, "hours", value, default, max)
}

fn bounded(
    name: &'static str,
    unit: &'static str,
    value: Option<&str>,
    default: u32,
    max: u32,
) -> Result<u32, SettingError> {
    let Some(v) = value else { return Ok(default) };
    v.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| SettingError {
            name,
            unit,
            min: 1,
            max,
            value: v.to_owned(),
        })
}

/// `value` as `true` or `false` (surrounding blanks ignored); `default`
/// when unset or empty. The error names the variable and what it was set to.
pub fn flag(name: &str, value: Option<&str>, default: bool) -> Result<bool, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(format!(
            "{name} must be true or false, not {:?}",
            crate::validate::printable(other, 20)
        )),
    }
}

impl Policy {
    /// The freshness rules with `REMIND_BEFORE_DAYS` (`remind_before`, the
    /// variable's value if set): 1 to 90 days, 14 when unset. The one parse
    /// of it for every function that evaluates freshness.
    pub fn from_settings(remind_before: Option<&str>) -> Result<Self, SettingError> {
        let default = Self::default();
        Ok(Self {
            remind_before_days: days(
                REMIND_BEFORE_DAYS,
                remind_before,
                default.remind_before_days,
                REMIND_BEFORE_DAYS_MAX,
            )?,
            ..default
        })
    }
}

/// Which variable says the process runs in AWS Lambda, if one does: Lambda
/// sets `LAMBDA_TASK_ROOT` and `AWS_LAMBDA_INITIALIZATION_TYPE` for every
/// runtime (`AWS_EXECUTION_ENV` not for the `provided` ones this project
/// uses); `cargo lambda watch` sets none of them. `LOCAL_AUTH` is refused
/// when one is set.
pub fn aws_signal(get: &impl Fn(&str) -> Option<String>) -> Option<&'static str> {
    let set = |k: &str| get(k).is_some_and(|v| !v.is_empty());
    if set("LAMBDA_TASK_ROOT") {
        Some("LAMBDA_TASK_ROOT")
    } else if set("AWS_LAMBDA_INITIALIZATION_TYPE") {
        Some("AWS_LAMBDA_INITIALIZATION_TYPE")
    } else if get("AWS_EXECUTION_ENV").is_some_and(|v| v.starts_with("AWS_Lambda_")) {
        Some("AWS_EXECUTION_ENV")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_is_the_default_and_a_number_in_bounds_is_taken() {
        assert_eq!(Policy::from_settings(None).unwrap(), Policy::default());
        assert_eq!(Policy::from_settings(None).unwrap().remind_before_days, 14);
        let p = Policy::from_settings(Some(" 30 ")).unwrap();
        assert_eq!(p.remind_before_days, 30);
        assert_eq!(p.renewal_window_days, Policy::default().renewal_window_days);
        assert_eq!(Policy::from_settings(Some("1")).unwrap().remind_before_days, 1);
        assert_eq!(Policy::from_settings(Some("90")).unwrap().remind_before_days, 90);
    }

    #[test]
    fn a_bad_value_is_refused_naming_the_variable() {
        for bad in ["", "0", "91", "-3", "two weeks", "14.5"] {
            let e = Policy::from_settings(Some(bad)).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("REMIND_BEFORE_DAYS must be a whole number of days from 1 to 90, not {bad:?}")
            );
        }
    }

    #[test]
    fn hours_and_days_name_their_unit() {
        assert_eq!(hours("SWEEP_WINDOW_HOURS", None, 24, 168), Ok(24));
        assert_eq!(hours("SWEEP_WINDOW_HOURS", Some("48"), 24, 168), Ok(48));
        assert_eq!(
            hours("SWEEP_WINDOW_HOURS", Some("169"), 24, 168)
                .unwrap_err()
                .to_string(),
            "SWEEP_WINDOW_HOURS must be a whole number of hours from 1 to 168, not \"169\""
        );
        assert_eq!(
            days("ESCALATE_AFTER_DAYS", Some("x"), 30, 365)
                .unwrap_err()
                .to_string(),
            "ESCALATE_AFTER_DAYS must be a whole number of days from 1 to 365, not \"x\""
        );
    }
}
