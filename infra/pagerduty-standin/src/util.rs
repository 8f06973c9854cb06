//! Ids and clocks: PagerDuty-looking ids (`P` + 6 upper-case letters and
//! digits), UUIDs for webhook ids, and the RFC 3339 instants PagerDuty writes.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;

static COUNTER: AtomicU64 = AtomicU64::new(0);
static KEYS: OnceLock<RandomState> = OnceLock::new();

/// 64 unpredictable-looking bits (SipHash, random keys per process, over a
/// counter). Not cryptographic: ids only need to be unique.
fn random_u64(salt: u8) -> u64 {
    let keys = KEYS.get_or_init(RandomState::new);
    let mut h = keys.build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u8(salt);
    h.finish()
}

/// `P` and six characters of `A-Z0-9`, the shape of PagerDuty's ids.
pub fn pd_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut v = random_u64(0);
    let mut id = String::from("P");
    for _ in 0..6 {
        id.push(char::from(ALPHABET[(v % 36) as usize]));
        v /= 36;
    }
    id
}

/// A webhook event's id: 26 characters of `A-Z0-9`, the shape of the
/// documented example (`01DEN4HPBOGPUA5ZZQJHXAVZKS`).
pub fn event_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut id = String::from("01");
    for salt in 3..6 {
        let mut v = random_u64(salt);
        for _ in 0..8 {
            id.push(char::from(ALPHABET[(v % 36) as usize]));
            v /= 36;
        }
    }
    id
}

/// A version-4-shaped UUID (`X-Webhook-Id`).
pub fn uuid() -> String {
    let v = (u128::from(random_u64(1)) << 64) | u128::from(random_u64(2));
    let v = (v & !(0xF << 76)) | (0x4 << 76);
    let v = (v & !(0x3 << 62)) | (0x2 << 62);
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

/// Now, to the second (REST resources: `2015-10-06T21:30:42Z`).
pub fn now_seconds() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Now, to the millisecond (webhook `occurred_at`: `2020-10-02T18:45:22.169Z`).
pub fn now_millis() -> Timestamp {
    Timestamp::from_millisecond(Timestamp::now().as_millisecond()).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_pagerduty_ids() {
        let a = pd_id();
        assert_eq!(a.len(), 7);
        assert!(a.starts_with('P'));
        assert!(a.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        assert_ne!(a, pd_id());
        assert_eq!(uuid().len(), 36);
        let e = event_id();
        assert_eq!(e.len(), 26);
        assert!(e.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    }

    #[test]
    fn instants_print_as_pagerduty_writes_them() {
        let t = Timestamp::from_second(1_444_167_042).unwrap();
        assert_eq!(t.to_string(), "2015-10-06T21:30:42Z");
        let t = Timestamp::from_millisecond(1_601_664_322_169).unwrap();
        assert_eq!(t.to_string(), "2020-10-02T18:45:22.169Z");
    }
}
