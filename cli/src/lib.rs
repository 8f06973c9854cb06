//! The `support-plans` command (SPEC §12): plans and workloads kept as files,
//! checked offline by the domain's own validation, and applied to the HTTP
//! API. `files` reads a folder, `lint` checks it, `client` speaks the API,
//! `readiness` shows the readiness figures (SPEC §6) as lines and a chart.

pub mod apply;
pub mod client;
pub mod files;
pub mod lint;
pub mod readiness;
