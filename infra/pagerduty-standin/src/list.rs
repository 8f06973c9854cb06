//! `GET /incidents` (PagerDuty REST API v2 "List incidents", operationId
//! `listIncidents`): the query string as PagerDuty reads it (`statuses[]`,
//! `service_ids[]`, `urgencies[]`, `since`, `until`, `date_range`, `limit`,
//! `offset`, `total`) checked into a [`ListQuery`], and the classic
//! pagination over the incidents it selects. SPEC §11, §13 (the follow-up
//! sweep lists the open incidents).

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan as _};

use crate::error::PdError;
use crate::store::Incident;

/// Classic pagination: "The default is 25 … cannot exceed 100".
pub const DEFAULT_LIMIT: u64 = 25;
pub const MAX_LIMIT: u64 = 100;
/// "the sum of the `offset` and `limit` parameters cannot exceed 10000".
pub const MAX_RECORDS: u64 = 10_000;
/// The default range when `since` is not given (listIncidents: "default is 1 month").
pub const DEFAULT_RANGE: SignedDuration = SignedDuration::from_hours(30 * 24);

const STATUSES: [&str; 3] = ["triggered", "acknowledged", "resolved"];

/// Documented parameters the stand-in does not serve: refused rather than
/// ignored, so a test never believes it filtered or sorted.
const NOT_SERVED: [&str; 6] = [
    "team_ids[]",
    "user_ids[]",
    "incident_key",
    "sort_by",
    "include[]",
    "time_zone",
];

/// A checked `GET /incidents` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Empty: every status.
    pub statuses: Vec<String>,
    pub service_ids: Vec<String>,
    pub urgencies: Vec<String>,
    /// `None`: `date_range=all`.
    pub range: Option<(Timestamp, Timestamp)>,
    pub limit: u64,
    pub offset: u64,
    pub total: bool,
}

impl ListQuery {
    /// The raw query string (`None`: no query), `now` for the default range.
    pub fn parse(raw: Option<&str>, now: Timestamp) -> Result<Self, PdError> {
        let mut q = ListQuery {
            statuses: Vec::new(),
            service_ids: Vec::new(),
            urgencies: Vec::new(),
            range: None,
            limit: DEFAULT_LIMIT,
            offset: 0,
            total: false,
        };
        let (mut since, mut until, mut all) = (None, None, false);
        for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (decode(k)?, decode(v)?);
            match k.as_str() {
                "statuses[]" => {
                    if !STATUSES.contains(&v.as_str()) {
                        return Err(PdError::coded(1003, "Invalid Status Provided").detail(format!(
                            "statuses[] must be triggered, acknowledged or resolved, not {v:?}"
                        )));
                    }
                    q.statuses.push(v);
                }
                "service_ids[]" => q.service_ids.push(v),
                "urgencies[]" => {
                    if v != "high" && v != "low" {
                        return Err(PdError::invalid(format!(
                            "urgencies[] must be high or low, not {v:?}"
                        )));
                    }
                    q.urgencies.push(v);
                }
                "since" => since = Some(instant("since", &v)?),
                "until" => until = Some(instant("until", &v)?),
                "date_range" if v == "all" => all = true,
                "date_range" => {
                    return Err(PdError::invalid(format!("date_range must be \"all\", not {v:?}")));
                }
                "limit" => q.limit = integer("limit", &v)?,
                "offset" => q.offset = integer("offset", &v)?,
                "total" => q.total = boolean("total", &v)?,
                k if NOT_SERVED.contains(&k) => {
                    return Err(PdError::invalid(format!(
                        "{k} is a PagerDuty parameter the stand-in does not serve"
                    )));
                }
                // PagerDuty ignores parameters it does not know.
                _ => {}
            }
        }
        if !(1..=MAX_LIMIT).contains(&q.limit) {
            return Err(PdError::invalid(format!(
                "limit must be 1 to {MAX_LIMIT}, not {}",
                q.limit
            )));
        }
        if q.offset + q.limit > MAX_RECORDS {
            return Err(PdError::invalid(format!(
                "offset + limit must not exceed {MAX_RECORDS} (offset {}, limit {})",
                q.offset, q.limit
            )));
        }
        if !all {
            let until = until.unwrap_or(now);
            let since = since.unwrap_or_else(|| until - DEFAULT_RANGE);
            let six_months = since
                .to_zoned(TimeZone::UTC)
                .checked_add(6.months())
                .map(|z| z.timestamp())
                .unwrap_or(Timestamp::MAX);
            if since > until || until > six_months {
                return Err(PdError::coded(2005, "Invalid Query Date Range").detail(format!(
                    "since ({since}) must not be after until ({until}), and the range is at most 6 months"
                )));
            }
            q.range = Some((since, until));
        }
        Ok(q)
    }

    /// Whether `i` is selected (before paging).
    pub fn selects(&self, i: &Incident) -> bool {
        let any = |set: &[String], v: &str| set.is_empty() || set.iter().any(|s| s == v);
        any(&self.statuses, &i.status)
            && any(&self.service_ids, &i.service_id)
            && any(&self.urgencies, &i.urgency)
            && self
                .range
                .is_none_or(|(since, until)| since <= i.created_at && i.created_at <= until)
    }

    /// The selected incidents, oldest first (created_at, then number), the
    /// page of them, and whether more follow.
    pub fn page<'a>(&self, incidents: impl Iterator<Item = &'a Incident>) -> Page<'a> {
        let mut selected: Vec<&Incident> = incidents.filter(|i| self.selects(i)).collect();
        selected.sort_by_key(|i| (i.created_at, i.number));
        let matched = selected.len() as u64;
        let page = selected
            .into_iter()
            .skip(self.offset as usize)
            .take(self.limit as usize)
            .collect();
        Page {
            incidents: page,
            more: self.offset + self.limit < matched,
            total: matched,
        }
    }
}

pub struct Page<'a> {
    pub incidents: Vec<&'a Incident>,
    pub more: bool,
    pub total: u64,
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte.
fn decode(s: &str) -> Result<String, PdError> {
    let bad = || PdError::invalid(format!("the query string is not valid: {s:?}"));
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
                let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// An ISO 8601 instant as PagerDuty's "Types" page shows them: with an
/// offset (`2011-05-06T17:00Z`, `2011-05-06T03:30-07`), without one, or a
/// date alone; without an offset in the account's time zone (the stand-in's
/// account is in UTC).
fn instant(name: &str, v: &str) -> Result<Timestamp, PdError> {
    let v = v.trim();
    v.parse::<Timestamp>()
        .ok()
        .or_else(|| {
            v.parse::<DateTime>()
                .ok()
                .and_then(|d| d.to_zoned(TimeZone::UTC).ok())
                .map(|z| z.timestamp())
        })
        .or_else(|| {
            v.parse::<Date>()
                .ok()
                .and_then(|d| d.to_zoned(TimeZone::UTC).ok())
                .map(|z| z.timestamp())
        })
        .ok_or_else(|| {
            PdError::coded(2004, "Invalid time values in 'since' and/or 'until' parameters")
                .detail(format!("{name} {v:?} is not an ISO 8601 date or time"))
        })
}

fn integer(name: &str, v: &str) -> Result<u64, PdError> {
    v.parse()
        .map_err(|_| PdError::invalid(format!("{name} must be a whole number, not {v:?}")))
}

/// Booleans in query strings: `true`/`1`, `false`/`0` ("Types").
fn boolean(name: &str, v: &str) -> Result<bool, PdError> {
    match v {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(PdError::invalid(format!(
            "{name} must be true or false, not {v:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    fn parse(q: &str) -> Result<ListQuery, PdError> {
        ListQuery::parse(Some(q), now())
    }

    #[test]
    fn defaults_are_25_from_0_over_the_last_30_days() {
        let q = ListQuery::parse(None, now()).unwrap();
        assert_eq!((q.limit, q.offset, q.total), (25, 0, false));
        assert_eq!(q.range, Some(("2026-01-30T12:00:00Z".parse().unwrap(), now())));
        assert_eq!(parse("date_range=all&since=2020-01-01").unwrap().range, None);
    }

    #[test]
    fn statuses_repeat_and_brackets_may_be_encoded() {
        let q = parse("statuses%5B%5D=triggered&statuses[]=acknowledged").unwrap();
        assert_eq!(q.statuses, ["triggered", "acknowledged"]);
        assert_eq!(parse("statuses[]=open").unwrap_err().code, 1003);
    }

    #[test]
    fn instants_take_the_documented_iso_8601_forms() {
        for (v, want) in [
            ("2011-05-06T17:00Z", "2011-05-06T17:00:00Z"),
            ("2011-05-06T03:30-07", "2011-05-06T10:30:00Z"),
            ("2011-05-06T03:30%2B02:00", "2011-05-06T01:30:00Z"),
            ("2011-05-06", "2011-05-06T00:00:00Z"),
            ("2011-05-06T17:00:00.250Z", "2011-05-06T17:00:00.25Z"),
        ] {
            let q = parse(&format!("since={v}&until=2011-06-01")).unwrap();
            assert_eq!(q.range.unwrap().0.to_string(), want, "{v}");
        }
        assert_eq!(parse("since=yesterday").unwrap_err().code, 2004);
    }

    #[test]
    fn bad_ranges_and_pages_are_refused() {
        assert_eq!(parse("since=2026-02-01&until=2026-01-01").unwrap_err().code, 2005);
        assert_eq!(parse("since=2025-01-01&until=2026-01-01").unwrap_err().code, 2005);
        assert!(parse("since=2025-07-01&until=2026-01-01").is_ok());
        for bad in [
            "limit=0",
            "limit=101",
            "limit=x",
            "offset=-1",
            "offset=9950&limit=51",
            "total=yes",
            "date_range=some",
            "sort_by=created_at",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!((e.status.as_u16(), e.code), (400, 2001), "{bad}");
        }
        assert!(parse("offset=9900&limit=100&total=1").is_ok());
    }
}
