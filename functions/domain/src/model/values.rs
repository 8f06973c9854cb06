//! The value parsers the records' checked parsing shares (SPEC §2).

use jiff::civil::Date;
use serde_json::Value;

use crate::types::{Email, HttpsUrl, Slug};
use crate::validate::{Cx, int, parsed};

pub(super) fn slug(v: &Value, cx: &mut Cx) -> Option<Slug> {
    parsed(v, cx, Slug::parse)
}

pub(super) fn email(v: &Value, cx: &mut Cx) -> Option<Email> {
    parsed(v, cx, Email::parse)
}

pub(super) fn https_url(v: &Value, cx: &mut Cx) -> Option<HttpsUrl> {
    parsed(v, cx, HttpsUrl::parse)
}

pub(super) fn days(v: &Value, cx: &mut Cx, range: std::ops::RangeInclusive<u32>) -> Option<u16> {
    int(v, cx, range).and_then(|n| u16::try_from(n).ok())
}

pub(super) fn date(v: &Value, cx: &mut Cx) -> Option<Date> {
    parsed(v, cx, |s| {
        let shaped = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
        match s.parse::<Date>() {
            Ok(d) if shaped => Ok(d),
            _ => Err("must be a date as YYYY-MM-DD".into()),
        }
    })
}
