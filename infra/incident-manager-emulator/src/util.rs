//! Ids, clocks and encodings, kept dependency-free on purpose (the emulator
//! should not grow the workspace's dependency tree for a UUID or a date).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);
static KEYS: OnceLock<RandomState> = OnceLock::new();

/// 128 unpredictable-looking bits. SipHash keyed randomly per process over a
/// counter and the clock: the counter makes each input unique, the keys make
/// ids differ between runs. Not cryptographic; ids only need to be unique.
fn random_u128() -> u128 {
    let keys = KEYS.get_or_init(RandomState::new);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let half = |salt: u8| {
        let mut h = keys.build_hasher();
        h.write_u64(n);
        h.write_u128(nanos);
        h.write_u8(salt);
        h.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

/// A UUID-formatted (version 4 layout) random id, like the service's ids.
pub fn uuid() -> String {
    let mut v = random_u128();
    v = (v & !(0xF << 76)) | (0x4 << 76); // version nibble
    v = (v & !(0x3 << 62)) | (0x2 << 62); // RFC 4122 variant
    let h = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// 32 upper-case hex digits, the suffix of a related item's `generatedId`.
pub fn hex32_upper() -> String {
    format!("{:032X}", random_u128())
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Epoch seconds (possibly fractional, as the SDKs send them) to milliseconds.
pub fn seconds_to_ms(s: f64) -> Option<i64> {
    if !s.is_finite() || s.abs() > 1.0e14 {
        return None;
    }
    // The range check above keeps the cast exact enough and in range.
    #[allow(clippy::cast_possible_truncation)]
    Some((s * 1000.0).round() as i64)
}

/// Milliseconds to the JSON number the REST-JSON protocol uses for
/// timestamps: epoch seconds with a millisecond fraction.
pub fn ms_to_json(ms: i64) -> serde_json::Value {
    #[allow(clippy::cast_precision_loss)]
    let secs = ms as f64 / 1000.0;
    serde_json::Number::from_f64(secs).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the form CloudTrail and EventBridge use.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub fn hex_encode(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

pub fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Percent-decoding for URI paths and query strings. `plus_is_space` follows
/// form encoding for query strings; the SDKs never send a bare `+` anyway.
pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let escaped = (b[i] == b'%')
            .then(|| b.get(i + 1..i + 3))
            .flatten()
            // from_str_radix would accept a sign: insist on two hex digits.
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (escaped, b[i]) {
            (Some(v), _) => {
                out.push(v);
                i += 3;
            }
            (None, b'+') if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            (None, c) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_unique_and_well_formed() {
        let a = uuid();
        let b = uuid();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_621_621_017_579), "2021-05-21T18:16:57Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn hex_round_trips() {
        let s = "v1\nscope\nkey";
        assert_eq!(hex_decode(&hex_encode(s.as_bytes())).unwrap(), s.as_bytes());
        assert!(hex_decode("zz").is_none());
        assert!(hex_decode("abc").is_none());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(
            percent_decode("arn%3Aaws%3Assm-incidents%3A%3A1%3Aresponse-plan%2Fp", false),
            "arn:aws:ssm-incidents::1:response-plan/p"
        );
        assert_eq!(percent_decode("a+b%2", true), "a b%2");
        assert_eq!(percent_decode("100%", false), "100%");
    }
}
