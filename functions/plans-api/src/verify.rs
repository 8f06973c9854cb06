//! `GET/POST /verify/{token}`, `POST /verify/{token}/change`: one-click
//! verification from a reminder (SPEC §5), and the owner's correction of the
//! contact (issue 18).
//!
//! The signed token is the credential: these routes need no authorizer.
//! `GET` only shows what would be confirmed (mail scanners follow links); the
//! page's button `POST`s to the same URL, which records the attestation as
//! made by the plan's owner, through a link. Its "It changed" form posts the
//! contact's new values, with the plan version the page showed, to
//! `/verify/{token}/change`. A bad token gets a page that says why, with a
//! 4xx, and nothing changes: among them a link whose contact, owner or plan
//! life changed since it was issued (issue 12).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;
pub use support_plans_domain::html::escape;
use support_plans_domain::model::{Contact, ContactFields, Role, SupportPlan};
use support_plans_domain::ports::{KeysError, StoreError, VerifyKeys};
use support_plans_domain::token::{self, KeySet, TokenError, VerifyClaims};
use support_plans_domain::verification::{self, ConfirmError, Confirmed, CorrectError, Corrected, contact};
use support_plans_domain::{ValidationErrors, WireName as _};
use tokio::sync::Mutex;

use crate::AppState;
use crate::store::Keys;

/// Where `/verify` gets its keys.
#[derive(Debug, Clone, Default)]
pub enum KeySource {
    /// Not configured: `/verify` answers 503.
    #[default]
    Off,
    /// Keys at hand (tests).
    Keys(KeySet),
    /// A secret (Secrets Manager in the function), read on the first `/verify` request (not
    /// at init: the other routes never need it) and kept for the process.
    /// A failed read is not kept: the next request tries again. A token
    /// naming a key id the process does not know (a rotation since the
    /// read) reads the secret again, at most once per [`REREAD_AFTER`]: the
    /// route is unauthenticated, and made-up key ids must not turn into a
    /// read each.
    Secret(Arc<SecretKeys>),
}

/// The least time between two reads of the secret for unknown key ids.
pub const REREAD_AFTER: Duration = Duration::from_secs(60);

/// A secret's keys, read once (and again for a key id they lack).
#[derive(Debug)]
pub struct SecretKeys {
    source: Keys,
    read: Mutex<Read>,
}

#[derive(Debug, Default)]
struct Read {
    keys: Option<Arc<KeySet>>,
    /// The last read for a key id the keys lacked.
    reread_at: Option<Instant>,
}

impl KeySource {
    pub fn secret(source: impl VerifyKeys + 'static) -> Self {
        Self::Secret(Arc::new(SecretKeys {
            source: Keys::new(source),
            read: Mutex::new(Read::default()),
        }))
    }

    /// The keys to check a token naming `kid` with; `None` when
    /// verification is not configured.
    pub async fn get(&self, kid: Option<&str>) -> Result<Option<Arc<KeySet>>, KeysError> {
        match self {
            Self::Off => Ok(None),
            Self::Keys(keys) => Ok(Some(Arc::new(keys.clone()))),
            Self::Secret(s) => {
                let mut read = s.read.lock().await;
                if let Some(keys) = &read.keys {
                    let known = kid.is_none_or(|kid| keys.knows(kid));
                    let recent = read.reread_at.is_some_and(|at| at.elapsed() < REREAD_AFTER);
                    if known || recent {
                        return Ok(Some(keys.clone()));
                    }
                    read.reread_at = Some(Instant::now());
                }
                match s.source.read_keys().await {
                    Ok(keys) => {
                        let keys = Arc::new(keys);
                        read.keys = Some(keys.clone());
                        Ok(Some(keys))
                    }
                    // Keys read before still check the tokens they know.
                    Err(e) => match &read.keys {
                        Some(keys) => {
                            tracing::warn!(error = %e, "verification: the keys could not be read again");
                            Ok(Some(keys.clone()))
                        }
                        None => Err(e),
                    },
                }
            }
        }
    }
}

pub use verification::LINK_NOTE;

/// A small self-contained page. `body` is HTML already escaped by the caller.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title} - support-plans</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}\
         button{{font-size:1.1rem;padding:.6rem 1.2rem;cursor:pointer}}dt{{font-weight:600}}dd{{margin:0 0 .5rem 0}}\
         input,select{{font-size:1rem;padding:.3rem;width:100%;box-sizing:border-box}}.error{{color:#b00020;font-weight:600}}</style>\
         </head><body><h1>{title}</h1>\n{body}\n</body></html>\n",
        title = escape(title)
    );
    let mut response = (status, html).into_response();
    let h = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        // The URL carries the credential: no caching, no referrer, no framing.
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn refused(e: TokenError) -> Response {
    let (status, title, advice) = match e {
        TokenError::Malformed => (
            StatusCode::BAD_REQUEST,
            "This link is incomplete",
            "It may have been cut or wrapped by your mail program. Open the whole link from the reminder, or \
             copy it into the address bar in one piece.",
        ),
        TokenError::BadSignature => (
            StatusCode::FORBIDDEN,
            "This link is not valid",
            "It was not issued by support-plans, or it was altered. Use the link from your latest reminder.",
        ),
        TokenError::TooLong => (
            StatusCode::FORBIDDEN,
            "This link is not valid",
            "No link works for more than 14 days, whatever it says. Use the link from your latest reminder.",
        ),
        TokenError::Expired => (
            StatusCode::GONE,
            "This link has expired",
            "Links work for 14 days. The next reminder brings a fresh one, or verify the contact through the API.",
        ),
        TokenError::RetiredKey => (
            StatusCode::GONE,
            "This link has expired",
            "The key it was signed with has been replaced since. Use the link in your newest reminder, or verify \
             the contact through the API.",
        ),
        TokenError::OldFormat => (
            StatusCode::GONE,
            "This link is out of date",
            "Links are now bound to the contact and the plan's owner as they were when the reminder was sent. \
             Please use the link in your newest reminder, or verify the contact through the API.",
        ),
        TokenError::EarlierLife => (
            StatusCode::GONE,
            "This plan was retired since",
            "The plan was retired and made active again after the reminder was sent. Use the link in your newest \
             reminder, or verify the contact through the API.",
        ),
        TokenError::OwnerChanged => (
            StatusCode::GONE,
            "This plan has a new owner",
            "Confirmations are recorded as made by the plan's owner, and the owner changed after the reminder \
             was sent. The new owner's next reminder brings a fresh link.",
        ),
        TokenError::ContactChanged => (
            StatusCode::GONE,
            "This contact was changed",
            "Its name, e-mail or phone changed after the reminder was sent, so what the link asked about is no \
             longer what the plan says. A change made through this page is recorded as verified; any other \
             leaves the contact due again, and the next reminder asks about it as it is now.",
        ),
        TokenError::WrongPlan => (
            StatusCode::NOT_FOUND,
            "This plan is no longer there",
            "The plan this link is for was deleted or retired, so there is nothing to verify.",
        ),
        TokenError::UnknownContact => (
            StatusCode::NOT_FOUND,
            "This contact is no longer in the plan",
            "The plan was changed since the reminder was sent and no longer has this contact.",
        ),
    };
    page(
        status,
        title,
        &format!(
            "<p>{}</p>\n<p>{}</p>\n<p>Nothing was changed.</p>",
            escape(&e.to_string()),
            escape(advice)
        ),
    )
}

fn unavailable(detail: &str) -> Response {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again in a moment",
        &format!("<p>{}</p>\n<p>Nothing was changed.</p>", escape(detail)),
    )
}

fn day(t: Timestamp) -> String {
    jiff::tz::Offset::UTC.to_datetime(t).date().to_string()
}

fn contact_html(plan: &SupportPlan, c: &Contact) -> String {
    let s = &plan.spec;
    let reach: Vec<String> = [
        c.email.as_ref().map(|e| escape(e.as_str())),
        c.phone.as_ref().map(|p| escape(p.as_str())),
    ]
    .into_iter()
    .flatten()
    .collect();
    let verified = match (&c.verified_at, &c.verified_by) {
        (Some(at), Some(by)) => format!("{} by {}", day(*at), escape(by.as_str())),
        (Some(at), None) => day(*at),
        _ => "never".to_owned(),
    };
    let role = serde_json::to_value(c.role)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!(
        "<dl>\n<dt>Plan</dt><dd>{vendor}{product} ({tier}), <code>{id}</code></dd>\n\
         <dt>Contact</dt><dd>{name} ({role})</dd>\n<dt>Reach</dt><dd>{reach}</dd>\n\
         <dt>Last verified</dt><dd>{verified}</dd>\n</dl>",
        vendor = escape(&s.vendor),
        product = if s.product.is_empty() || s.product == s.vendor {
            String::new()
        } else {
            format!(", {}", escape(&s.product))
        },
        tier = escape(&s.tier),
        id = escape(s.id.as_str()),
        name = escape(&c.name),
        role = escape(&role),
        reach = reach.join(", "),
    )
}

/// The token's claims and the current plan, or the page that says why not.
async fn checked(st: &AppState, raw: &str) -> Result<(VerifyClaims, SupportPlan), Response> {
    let claims = claims(st, raw).await?;
    let plan = verification::current_plan(&st.store, &claims)
        .await
        .map_err(confirm_failed)?;
    Ok((claims, plan))
}

/// The token's claims, if it is one this service signed and still valid.
async fn claims(st: &AppState, raw: &str) -> Result<VerifyClaims, Response> {
    let kid = token::kid_of(raw);
    let keys = match st.verify_key.get(kid.as_deref()).await {
        Ok(Some(keys)) => keys,
        Ok(None) => {
            return Err(unavailable(
                "One-click verification is not configured on this service.",
            ));
        }
        Err(e) => {
            tracing::error!(error = %e, "verification: the key could not be read");
            return Err(unavailable("The service could not read its verification key."));
        }
    };
    token::verify(&keys, raw, st.now()).map_err(refused)
}

fn confirm_failed(e: ConfirmError) -> Response {
    match e {
        ConfirmError::Token(e) => refused(e),
        ConfirmError::Owner(e) => unavailable(&e),
        ConfirmError::Store(e) => store_failed(e),
        ConfirmError::KeptChanging => page(
            StatusCode::CONFLICT,
            "Please try again",
            "<p>The plan kept changing while this was recorded. Nothing was changed; use the link again.</p>",
        ),
    }
}

fn store_failed(e: StoreError) -> Response {
    tracing::error!(error = %e, "verification: storage failed");
    unavailable("The service could not reach its storage.")
}

#[utoipa::path(get, path = "/verify/{token}", tag = "verification",
    params(("token" = String, Path, description = "the token of a reminder's link")),
    responses(
        (status = 200, description = "the plan and contact, with a button that confirms (POST to the same URL); nothing changes", content_type = "text/html", body = String),
        (status = 400, description = "the link is incomplete or damaged", content_type = "text/html", body = String),
        (status = 403, description = "the link was not issued by this service, was altered, names a key no longer listed, or claims to work for more than 14 days", content_type = "text/html", body = String),
        (status = 404, description = "the plan or the contact is no longer there", content_type = "text/html", body = String),
        (status = 410, description = "the link has expired (14 days) or its key was retired, it predates bound links (v1), or the contact (name, e-mail, phone), the plan's owner or the plan's life (retired, then reactivated) changed since it was issued", content_type = "text/html", body = String),
        (status = 503, description = "verification is not configured, or storage is unreachable", content_type = "text/html", body = String),
    ))]
pub async fn verify_page(State(st): State<AppState>, Path(raw): Path<String>) -> Response {
    let (claims, plan) = match checked(&st, &raw).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let c = contact(&plan, &claims).expect("checked");
    page(
        StatusCode::OK,
        "Is this contact still right?",
        &format!(
            "{}\n<p>Confirm only once you have checked that this person or line still answers for this \
             vendor. The confirmation is recorded as made by {} and kept in the plan's history.</p>\n\
             <form method=\"post\"><button type=\"submit\">Yes, still right: confirm</button></form>\n{}",
            contact_html(&plan, c),
            escape(plan.spec.owner.email.as_str()),
            change_form(
                // Relative to /verify/{token}, wherever the API is mounted.
                Some(&format!("{raw}/change")),
                plan.meta.version,
                &fields_of(c),
                None
            ),
        ),
    )
}

/// The contact's values as the form shows them.
fn fields_of(c: &Contact) -> ContactFields {
    ContactFields {
        name: c.name.clone(),
        email: c
            .email
            .as_ref()
            .map(|e| e.as_str().to_owned())
            .unwrap_or_default(),
        phone: c
            .phone
            .as_ref()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        role: c.role.wire_name().to_owned(),
    }
}

/// The "It changed" form: the contact's four fields, each with its error
/// when there is one, and the plan version the page was shown for. Without
/// `action` it posts to the page's own URL (the form shown again).
fn change_form(
    action: Option<&str>,
    version: u64,
    f: &ContactFields,
    errors: Option<&ValidationErrors>,
) -> String {
    const FIELDS: [&str; 4] = ["name", "email", "phone", "role"];
    let error = |field: &str| errors.and_then(|e| e.message_for(field));
    let others: String = errors
        .map(|e| &e.0[..])
        .unwrap_or_default()
        .iter()
        .filter(|e| !FIELDS.contains(&e.field.as_str()))
        .map(|e| format!("<li>{}: {}</li>", escape(&e.field), escape(&e.message)))
        .collect();
    let mut html = format!(
        "<h2>It changed</h2>\n<p>Correct what changed: the plan gets a new version with these values, recorded as \
         verified by the plan's owner through this link, and its history keeps the old ones. Leave the e-mail or \
         the phone blank if there is none (a contact needs one of the two).</p>\n{}\
         <form method=\"post\"{} novalidate>\n<input type=\"hidden\" name=\"version\" value=\"{version}\">\n",
        if others.is_empty() {
            String::new()
        } else {
            format!("<ul class=\"error\">{others}</ul>\n")
        },
        action
            .map(|a| format!(" action=\"{}\"", escape(a)))
            .unwrap_or_default(),
    );
    for (name, label, kind, value) in [
        ("name", "Name", "text", &f.name),
        ("email", "E-mail", "email", &f.email),
        (
            "phone",
            "Phone (international, like +12065550100)",
            "tel",
            &f.phone,
        ),
        ("role", "Role", "", &f.role),
    ] {
        let (invalid, message) = match error(name) {
            Some(m) => (
                format!(" aria-invalid=\"true\" aria-describedby=\"{name}-error\""),
                format!(
                    "<br><span class=\"error\" id=\"{name}-error\">{}</span>",
                    escape(m)
                ),
            ),
            None => (String::new(), String::new()),
        };
        let input = if name == "role" {
            let options: String = Role::WIRE
                .iter()
                .map(|(role, wire)| {
                    let selected = if value == wire { " selected" } else { "" };
                    format!(
                        "<option value=\"{wire}\"{selected}>{}</option>",
                        escape(role.label())
                    )
                })
                .collect();
            format!("<select id=\"role\" name=\"role\"{invalid}>{options}</select>")
        } else {
            format!(
                "<input type=\"{kind}\" id=\"{name}\" name=\"{name}\" value=\"{}\" autocomplete=\"off\"{invalid}>",
                escape(value)
            )
        };
        html.push_str(&format!(
            "<p><label for=\"{name}\">{label}</label><br>{input}{message}</p>\n"
        ));
    }
    html.push_str("<button type=\"submit\">Save the change</button>\n</form>");
    html
}

#[utoipa::path(post, path = "/verify/{token}", tag = "verification",
    params(("token" = String, Path, description = "the token of a reminder's link")),
    responses(
        (status = 200, description = "recorded (verified_via link, by the plan's owner), or already confirmed since the reminder", content_type = "text/html", body = String),
        (status = 400, description = "the link is incomplete or damaged", content_type = "text/html", body = String),
        (status = 403, description = "the link was not issued by this service, was altered, names a key no longer listed, or claims to work for more than 14 days", content_type = "text/html", body = String),
        (status = 404, description = "the plan or the contact is no longer there", content_type = "text/html", body = String),
        (status = 409, description = "the plan kept changing while this was recorded", content_type = "text/html", body = String),
        (status = 410, description = "the link has expired (14 days) or its key was retired, it predates bound links (v1), or the contact (name, e-mail, phone), the plan's owner or the plan's life (retired, then reactivated) changed since it was issued", content_type = "text/html", body = String),
        (status = 503, description = "verification is not configured, or storage is unreachable", content_type = "text/html", body = String),
    ))]
pub async fn verify_confirm(State(st): State<AppState>, Path(raw): Path<String>) -> Response {
    let claims = match claims(&st, &raw).await {
        Ok(claims) => claims,
        Err(page) => return page,
    };
    match verification::confirm(&st.store, &claims, st.now()).await {
        Ok(Confirmed::Already { plan, at }) => page(
            StatusCode::OK,
            "Already confirmed",
            &format!(
                "{}\n<p>This contact was confirmed on {} since the reminder was sent. Nothing more to do.</p>",
                contact_html(&plan, contact(&plan, &claims).expect("checked")),
                day(at)
            ),
        ),
        Ok(Confirmed::Recorded { plan, by }) => page(
            StatusCode::OK,
            "Thank you: confirmed",
            &format!(
                "{}\n<p>Recorded as verified by {} through this link. The next reminder will not ask \
                 about this contact until it is due again.</p>",
                contact_html(&plan, contact(&plan, &claims).expect("still there")),
                escape(by.as_str())
            ),
        ),
        Err(e) => confirm_failed(e),
    }
}

/// What the "It changed" form sends.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChangeForm {
    /// The plan version the page was shown for: the change applies to it only.
    pub version: u64,
    #[serde(default)]
    pub name: String,
    /// Blank: none.
    #[serde(default)]
    pub email: String,
    /// Blank: none.
    #[serde(default)]
    pub phone: String,
    /// A contact role's wire name (`vendor-tam`).
    #[serde(default)]
    pub role: String,
}

#[utoipa::path(post, path = "/verify/{token}/change", tag = "verification",
    params(("token" = String, Path, description = "the token of a reminder's link")),
    request_body(content = ChangeForm, content_type = "application/x-www-form-urlencoded",
        description = "the verification page's \"It changed\" form"),
    responses(
        (status = 200, description = "recorded: the plan's next version carries the new values, verified by the plan's owner through the link (verified_via link), its history the old ones; or the contact already has these values (a second submit) and nothing changed", content_type = "text/html", body = String),
        (status = 400, description = "the link is incomplete or damaged, the form is, or a value is invalid (the form shown again with the error next to the field and the values kept)", content_type = "text/html", body = String),
        (status = 403, description = "the link was not issued by this service, was altered, names a key no longer listed, or claims to work for more than 14 days", content_type = "text/html", body = String),
        (status = 404, description = "the plan or the contact is no longer there", content_type = "text/html", body = String),
        (status = 409, description = "the plan changed since the page was shown (the form's version): nothing changed", content_type = "text/html", body = String),
        (status = 410, description = "the link has expired (14 days) or its key was retired, it predates bound links (v1), or the plan's owner or life changed since it was issued, or the contact changed otherwise than to these values", content_type = "text/html", body = String),
        (status = 503, description = "verification is not configured, or storage is unreachable", content_type = "text/html", body = String),
    ))]
pub async fn verify_change(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    form: Result<Form<ChangeForm>, FormRejection>,
) -> Response {
    let claims = match claims(&st, &raw).await {
        Ok(claims) => claims,
        Err(page) => return page,
    };
    let Ok(Form(form)) = form else {
        return page(
            StatusCode::BAD_REQUEST,
            "This form is incomplete",
            "<p>What was sent is not the page's form. Open the link from the reminder again and use the form \
             there.</p>\n<p>Nothing was changed.</p>",
        );
    };
    let fields = ContactFields {
        name: form.name,
        email: form.email,
        phone: form.phone,
        role: form.role,
    };
    match verification::correct(&st.store, &claims, &fields, form.version, st.now()).await {
        Ok(Corrected::Recorded { plan, by }) => page(
            StatusCode::OK,
            "Thank you: changed",
            &format!(
                "{}\n<p>Recorded as a new version of the plan, verified by {} through this link. The old values \
                 are kept in the plan's history.</p>",
                contact_html(&plan, contact(&plan, &claims).expect("corrected")),
                escape(by.as_str())
            ),
        ),
        Ok(Corrected::Already { plan, recorded }) => page(
            StatusCode::OK,
            "Already recorded",
            &format!(
                "{}\n<p>{} Nothing was changed.</p>",
                contact_html(&plan, contact(&plan, &claims).expect("checked")),
                match recorded {
                    Some(at) => format!("The contact was recorded with these values on {}.", day(at)),
                    None => "The plan already has these values for this contact.".to_owned(),
                }
            ),
        ),
        Err(CorrectError::Invalid(errors)) => page(
            StatusCode::BAD_REQUEST,
            "Please check the form",
            &format!(
                "<p>Some values are not valid; each is marked below. Nothing was changed.</p>\n{}",
                change_form(None, form.version, &fields, Some(&errors))
            ),
        ),
        Err(CorrectError::Conflict { .. }) => page(
            StatusCode::CONFLICT,
            "This plan changed since the page was shown",
            "<p>Someone changed the plan after this page was opened, so the form was filled in against an older \
             version.</p>\n<p>Nothing was changed. Open the link from the reminder again to see the plan as it is \
             now.</p>",
        ),
        Err(CorrectError::Refused(e)) => confirm_failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_interpolated_is_escaped() {
        assert_eq!(
            escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }
}
