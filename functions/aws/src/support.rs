//! AWS Support as the responder opens an incident's case (SPEC §13, opt-in):
//! `CreateCase` once per marker, found again by `DescribeCases` when an
//! earlier try opened it, and the case's display id for its console link.
//!
//! `CreateCase` has no idempotency token, so exactly once rests on the marker
//! (the incident and the plan, added under the body): before opening, the
//! cases opened since the incident's start are read, their communications
//! with them, and a case whose messages carry the marker is given back
//! instead. `CreateCase` itself is sent once (no SDK retry): an answer lost
//! on the way back would otherwise open a second case; the caller's next
//! try finds the first by its marker.
//!
//! What this cannot cover: `DescribeCases` gives each case's five most
//! recent communications, so a case that got more than four replies before
//! a retry looked for it is not recognised; and a case is found only once
//! AWS Support lists it (a retry within a second of a lost answer might not see it).

use aws_sdk_support::Client;
use aws_sdk_support::config::retry::RetryConfig;
use aws_sdk_support::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_support::types::CaseDetails;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use jiff::{SignedDuration, Timestamp};
use support_plans_domain::case::{self, CaseOpened, CaseRequest, SupportCases};
use support_plans_domain::ports::PortError;

use crate::failure::is_permanent;

/// The Support API's one endpoint in the `aws` partition is in us-east-1.
pub const SUPPORT_REGION: &str = "us-east-1";
/// `CreateCase`'s `communicationBody` limit, in characters.
const BODY_LIMIT: usize = 8_000;
/// How far before the incident's start a case is looked for (clocks apart).
const LOOK_BEFORE: SignedDuration = SignedDuration::from_mins(5);
/// `DescribeCases`' page size (its most).
const PAGE: i32 = 100;
/// Where a case is opened by hand.
pub const CREATE_CASE_CONSOLE: &str = "https://support.console.aws.amazon.com/support/home#/case/create";

/// The Support client from the functions' SDK configuration: its HTTP
/// client, retries and timeouts, in us-east-1 whatever the stack's region
/// (the API's endpoint in the `aws` partition; the China and GovCloud
/// partitions keep their region, which the SDK's endpoint rules send to
/// their one endpoint), unless an endpoint URL is configured (the local
/// stack: moto serves Support in us-east-1 only, the local stack's region).
pub fn client(config: &aws_config::SdkConfig) -> Client {
    Client::from_conf(config_builder(config).build())
}

/// [`client`]'s configuration, to add to (an interceptor) before building.
pub fn config_builder(config: &aws_config::SdkConfig) -> aws_sdk_support::config::Builder {
    let mut builder = aws_sdk_support::config::Builder::from(config);
    let other_partition = config.region().is_some_and(|r| {
        ["cn-", "us-gov-", "us-iso"]
            .iter()
            .any(|p| r.as_ref().starts_with(p))
    });
    if config.endpoint_url().is_none() && !other_partition {
        builder = builder.region(aws_config::Region::from_static(SUPPORT_REGION));
    }
    builder
}

/// The adapter: one client, built once per process.
#[derive(Debug, Clone)]
pub struct SupportApi {
    client: Client,
}

impl SupportApi {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The case whose communications carry `marker`, among the cases opened
    /// since `after` (resolved ones included), every page read.
    async fn find(&self, marker: &str, after: Timestamp) -> Result<Option<CaseDetails>, PortError> {
        // RFC 3339 in whole seconds (UTC), as the API's own dates are written.
        let after = after
            .checked_sub(LOOK_BEFORE)
            .unwrap_or(after)
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .describe_cases()
                .after_time(&after)
                .include_resolved_cases(true)
                .include_communications(true)
                .max_results(PAGE)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| classify("DescribeCases", e))?;
            if let Some(found) = page.cases().iter().find(|c| carries(c, marker)) {
                return Ok(Some(found.clone()));
            }
            match page.next_token() {
                // A token given back as it was sent would read the same page forever.
                Some(next) if !next.is_empty() && token.as_deref() != Some(next) => {
                    token = Some(next.to_owned());
                }
                _ => return Ok(None),
            }
        }
    }

    /// The case's display id; None when it cannot be read (the case is
    /// open all the same, and its link then searches by case id).
    async fn display_id(&self, case_id: &str) -> Option<String> {
        match self
            .client
            .describe_cases()
            .case_id_list(case_id)
            .include_resolved_cases(true)
            .include_communications(false)
            .send()
            .await
        {
            Ok(out) => out
                .cases()
                .iter()
                .find(|c| c.case_id() == Some(case_id))
                .and_then(|c| c.display_id())
                .map(str::to_owned),
            Err(e) => {
                tracing::warn!(case_id, error = %DisplayErrorContext(e), "reading the new case's display id");
                None
            }
        }
    }

    async fn create(&self, request: &CaseRequest, marker: &str) -> Result<String, PortError> {
        let out = self
            .client
            .create_case()
            .subject(&request.subject)
            .service_code(&request.service_code)
            .category_code(&request.category_code)
            .severity_code(&request.severity_code)
            .communication_body(body_with_marker(&request.body, marker))
            .set_cc_email_addresses((!request.cc_emails.is_empty()).then(|| request.cc_emails.clone()))
            .language(request.language)
            .issue_type(request.issue_type)
            .customize()
            // Sent once: a retry after a lost answer would open a second case.
            .config_override(
                aws_sdk_support::config::Builder::default().retry_config(RetryConfig::disabled()),
            )
            .send()
            .await
            .map_err(|e| classify("CreateCase", e))?;
        out.case_id()
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| PortError::Retry("AWS Support CreateCase answered without a caseId".to_owned()))
    }
}

impl SupportCases for SupportApi {
    #[tracing::instrument(skip(self, request, marker), fields(plan = %request.plan, service = %request.service_code))]
    async fn open_case(&self, request: &CaseRequest, marker: &str) -> Result<CaseOpened, PortError> {
        if let Some(found) = self.find(marker, request.opened_after).await? {
            let case_id = found.case_id().unwrap_or_default().to_owned();
            let display_id = found.display_id().map(str::to_owned);
            return Ok(opened(case_id, display_id, true));
        }
        let case_id = self.create(request, marker).await?;
        let display_id = self.display_id(&case_id).await;
        Ok(opened(case_id, display_id, false))
    }
}

fn opened(case_id: String, display_id: Option<String>, found: bool) -> CaseOpened {
    let url = case::console_url(display_id.as_deref().unwrap_or(&case_id));
    CaseOpened {
        case_id,
        display_id,
        url,
        found,
    }
}

/// Whether one of the case's communications carries the marker.
fn carries(case: &CaseDetails, marker: &str) -> bool {
    case.recent_communications()
        .map(|r| r.communications())
        .unwrap_or_default()
        .iter()
        .any(|c| c.body().is_some_and(|b| b.contains(marker)))
}

/// The body, cut (at a character) so that it and the marker fit `CreateCase`'s limit.
fn body_with_marker(body: &str, marker: &str) -> String {
    const SEPARATOR: &str = "\n\n";
    let room = BODY_LIMIT.saturating_sub(marker.chars().count() + SEPARATOR.len());
    let kept: String = body.chars().take(room).collect();
    format!("{kept}{SEPARATOR}{marker}")
}

/// The message of a refused call for lack of a support plan.
pub fn subscription_required(operation: &str) -> String {
    format!(
        "AWS Support refused {operation} (SubscriptionRequiredException): the account needs \
         Business, Enterprise On-Ramp or Enterprise Support to open cases through the AWS \
         Support API; open the case by hand: {CREATE_CASE_CONSOLE}"
    )
}

/// SubscriptionRequiredException, access denied, the case creation limit,
/// an invalid parameter: refused (the same on every try); throttling, 5xx,
/// timeouts and connection failures: worth another try.
fn classify<E>(operation: &str, e: SdkError<E, HttpResponse>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if e.code() == Some("SubscriptionRequiredException") {
        return PortError::Refused(subscription_required(operation));
    }
    if is_permanent(&e) {
        let code = e.code().unwrap_or("an error").to_owned();
        let message = e.message().unwrap_or_default().to_owned();
        return PortError::Refused(format!("AWS Support refused {operation} ({code}): {message}"));
    }
    PortError::Retry(format!(
        "AWS Support {operation} failed: {}",
        DisplayErrorContext(e)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn config(region: &str, endpoint: Option<&str>) -> aws_config::SdkConfig {
        let mut loader = crate::sdk::loader()
            .region(aws_config::Region::new(region.to_owned()))
            .credentials_provider(aws_sdk_support::config::Credentials::for_tests());
        if let Some(url) = endpoint {
            loader = loader.endpoint_url(url);
        }
        loader.load().await
    }

    fn region(client: &Client) -> String {
        client
            .config()
            .region()
            .map(|r| r.to_string())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn the_client_calls_us_east_1_from_any_region_of_the_aws_partition() {
        // Built without the environment, which names the local stack's
        // endpoint when the tests run inside it (AWS_ENDPOINT_URL).
        let deployed = |r: &str| {
            aws_config::SdkConfig::builder()
                .region(aws_config::Region::new(r.to_owned()))
                .behavior_version(aws_config::BehaviorVersion::latest())
                .build()
        };
        assert_eq!(region(&client(&deployed("eu-west-1"))), "us-east-1");
        assert_eq!(region(&client(&deployed("us-east-1"))), "us-east-1");
        // Other partitions have their own endpoint, which their region reaches.
        assert_eq!(region(&client(&deployed("cn-northwest-1"))), "cn-northwest-1");
        assert_eq!(region(&client(&deployed("us-gov-east-1"))), "us-gov-east-1");
    }

    #[tokio::test]
    async fn a_configured_endpoint_keeps_the_region_and_the_settings() {
        let sdk = config("eu-west-1", Some("http://127.0.0.1:4566")).await;
        let c = client(&sdk);
        assert_eq!(region(&c), "eu-west-1");
        let timeouts = c.config().timeout_config().expect("the functions' timeouts");
        assert_eq!(
            timeouts.operation_attempt_timeout(),
            Some(crate::sdk::ATTEMPT_TIMEOUT)
        );
        assert_eq!(
            c.config().retry_config().map(|r| r.max_attempts()),
            Some(crate::sdk::MAX_ATTEMPTS)
        );
    }

    #[test]
    fn the_marker_survives_a_body_at_the_limit() {
        let marker = "support-plans: incident x, plan aws";
        let long = "é".repeat(BODY_LIMIT);
        let body = body_with_marker(&long, marker);
        assert_eq!(body.chars().count(), BODY_LIMIT);
        assert!(body.ends_with(&format!("\n\n{marker}")));
        assert_eq!(body_with_marker("short", marker), format!("short\n\n{marker}"));
    }

    #[test]
    fn the_subscription_message_says_what_the_account_needs_and_what_to_do() {
        let m = subscription_required("CreateCase");
        assert!(
            m.contains("Business, Enterprise On-Ramp or Enterprise Support"),
            "{m}"
        );
        assert!(m.contains("by hand"), "{m}");
        assert!(m.contains(CREATE_CASE_CONSOLE), "{m}");
    }
}
