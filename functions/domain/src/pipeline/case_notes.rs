//! The notes that tell the incident about the vendor's case (SPEC §13): the
//! case opened (its id and console link), or why it could not be, so that
//! someone opens it by hand.

use std::fmt::Write as _;

use crate::case::{CaseOpened, CaseRequest};
use crate::post::truncate_chars;

/// The case opened for the incident.
pub fn opened(request: &CaseRequest, case: &CaseOpened, limit: usize) -> String {
    let mut s = String::new();
    let shown = case.display_id.as_deref().unwrap_or(&case.case_id);
    let _ = writeln!(s, "### AWS Support case {shown} opened for `{}`", request.plan);
    let _ = writeln!(
        s,
        "Severity **{}**, service `{}`, category `{}`; the case id is `{}`.",
        request.severity_code, request.service_code, request.category_code, case.case_id
    );
    if !request.cc_emails.is_empty() {
        let _ = writeln!(s, "CC: {}.", request.cc_emails.join(", "));
    }
    let _ = write!(s, "Open it: {}", case.url);
    truncate_chars(&s, limit)
}

/// The case could not be opened, for good: it must be opened by hand.
pub fn refused(request: &CaseRequest, reason: &str, limit: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "### AWS Support case NOT opened for `{}`: open it by hand",
        request.plan
    );
    let _ = writeln!(s, "{reason}");
    let _ = write!(
        s,
        "Open it in the AWS Support Center with severity **{}**, service `{}`, category `{}`; the plan's note above says how and whom to call.",
        request.severity_code, request.service_code, request.category_code
    );
    truncate_chars(&s, limit)
}
