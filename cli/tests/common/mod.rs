//! What the tests against the local stack share: the API's URL and names no
//! other test (or run against the same stack) uses.

use std::sync::atomic::{AtomicU32, Ordering};

static IDS: AtomicU32 = AtomicU32::new(0);

/// The local stack's plans API (`API_URL`, exported by `infra/local/with-stack.sh`).
pub fn api_url() -> String {
    std::env::var("API_URL").unwrap_or_else(|_| {
        panic!(
            "API_URL is not set: these tests run inside the local stack \
             (infra/local/with-stack.sh cargo nextest run -p support-plans)"
        )
    })
}

/// A slug no other test (or run against the same stack) uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .subsec_nanos();
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        IDS.fetch_add(1, Ordering::Relaxed)
    )
}
