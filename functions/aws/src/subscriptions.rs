//! The reminder and escalation topics' subscriptions on SNS (SPEC §14): the
//! domain's [`Subscriptions`] port, with the two topics' ARNs bound in.
//!
//! - `list`: `ListSubscriptionsByTopic`, every page (SNS gives 100 a page),
//!   one call counted per page. SNS lists a subscription still waiting for
//!   its owner's confirmation as `PendingConfirmation` (no ARN), and one its
//!   owner left through the e-mail's unsubscribe link as `Deleted` for a
//!   while; the first is listed with no ARN, the second not at all (it
//!   delivers nothing).
//! - `filter_policy`: `GetSubscriptionAttributes`' `FilterPolicy`.
//! - `subscribe`: protocol `email`, the attribute `FilterPolicy` (its scope
//!   left at SNS's default, the message attributes), `ReturnSubscriptionArn`
//!   so the ARN comes back while the subscription is pending. SNS gives the
//!   existing subscription back when one with the same attributes exists,
//!   and refuses (`InvalidParameter`) when its attributes differ.
//! - `unsubscribe`: `Unsubscribe`; `NotFound` is [`SnsError::NotFound`]
//!   (SNS answers success for an ARN it no longer has, but lists `NotFound`).
//!
//! Failures that will repeat (no permission, a topic that does not exist,
//! invalid parameters: a 4xx that is not throttling) are
//! [`SnsError::Refused`]; throttling, 5xx and timeouts [`SnsError::Failed`].

use aws_sdk_sns::Client;
use aws_sdk_sns::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sns::types::Subscription;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use support_plans_domain::reminders::subscriptions::{Listed, SnsError, Subscriptions, Topic};

use crate::failure::is_permanent;

/// How SNS lists a subscription waiting for its owner's confirmation.
const PENDING: &str = "PendingConfirmation";

/// The adapter: one client, built once per process, and the two topics.
#[derive(Debug, Clone)]
pub struct SnsSubscriptions {
    pub client: Client,
    pub reminder_topic_arn: String,
    pub escalation_topic_arn: String,
}

impl SnsSubscriptions {
    pub fn new(
        client: Client,
        reminder_topic_arn: impl Into<String>,
        escalation_topic_arn: impl Into<String>,
    ) -> Self {
        Self {
            client,
            reminder_topic_arn: reminder_topic_arn.into(),
            escalation_topic_arn: escalation_topic_arn.into(),
        }
    }

    pub fn topic_arn(&self, topic: Topic) -> &str {
        match topic {
            Topic::Reminder => &self.reminder_topic_arn,
            Topic::Escalation => &self.escalation_topic_arn,
        }
    }
}

/// A failed call: `NotFound` as such where `not_found` allows (the
/// subscription is gone), otherwise refused or failed.
fn sns_error<E: ProvideErrorMetadata + std::error::Error + 'static>(
    what: &str,
    e: SdkError<E, HttpResponse>,
    not_found: bool,
) -> SnsError {
    let permanent = is_permanent(&e);
    let code = e.code().map(str::to_owned);
    let reason = format!("SNS {what}: {}", DisplayErrorContext(e));
    if not_found && code.as_deref() == Some("NotFound") {
        SnsError::NotFound(reason)
    } else if permanent {
        SnsError::Refused(reason)
    } else {
        SnsError::Failed(reason)
    }
}

/// One subscription as listed; `None` for one SNS has deleted but still lists.
fn listed(s: &Subscription) -> Option<Listed> {
    let arn = match s.subscription_arn().unwrap_or_default() {
        PENDING => None,
        arn if arn.starts_with("arn:") => Some(arn.to_owned()),
        // `Deleted`: its owner unsubscribed from the e-mail's link.
        _ => return None,
    };
    Some(Listed {
        arn,
        protocol: s.protocol().unwrap_or_default().to_owned(),
        endpoint: s.endpoint().unwrap_or_default().to_owned(),
    })
}

impl Subscriptions for SnsSubscriptions {
    async fn list(&self, topic: Topic) -> Result<(Vec<Listed>, usize), SnsError> {
        let arn = self.topic_arn(topic);
        let mut out = Vec::new();
        let mut calls = 0;
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_subscriptions_by_topic()
                .topic_arn(arn)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| sns_error(&format!("ListSubscriptionsByTopic {arn}"), e, false))?;
            calls += 1;
            out.extend(page.subscriptions().iter().filter_map(listed));
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok((out, calls)),
            }
        }
    }

    async fn filter_policy(&self, arn: &str) -> Result<Option<String>, SnsError> {
        let out = self
            .client
            .get_subscription_attributes()
            .subscription_arn(arn)
            .send()
            .await
            .map_err(|e| sns_error(&format!("GetSubscriptionAttributes {arn}"), e, true))?;
        Ok(out
            .attributes()
            .and_then(|a| a.get("FilterPolicy"))
            .filter(|p| !p.trim().is_empty())
            .cloned())
    }

    async fn subscribe(&self, topic: Topic, address: &str, filter_policy: &str) -> Result<String, SnsError> {
        let arn = self.topic_arn(topic);
        let what = format!("Subscribe to {arn}");
        let out = self
            .client
            .subscribe()
            .topic_arn(arn)
            .protocol("email")
            .endpoint(address)
            .attributes("FilterPolicy", filter_policy)
            .return_subscription_arn(true)
            .send()
            .await
            .map_err(|e| sns_error(&what, e, false))?;
        match out.subscription_arn() {
            Some(a) if a.starts_with("arn:") => Ok(a.to_owned()),
            other => Err(SnsError::Failed(format!(
                "SNS {what}: no subscription ARN in the answer ({other:?})"
            ))),
        }
    }

    async fn unsubscribe(&self, arn: &str) -> Result<(), SnsError> {
        self.client
            .unsubscribe()
            .subscription_arn(arn)
            .send()
            .await
            .map_err(|e| sns_error(&format!("Unsubscribe {arn}"), e, true))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(arn: &str) -> Subscription {
        Subscription::builder()
            .subscription_arn(arn)
            .protocol("email")
            .endpoint("team@example.com")
            .topic_arn("arn:aws:sns:us-east-1:111122223333:reminders")
            .build()
    }

    #[test]
    fn pending_is_listed_without_an_arn_and_deleted_not_at_all() {
        let pending = listed(&sub("PendingConfirmation")).expect("listed");
        assert_eq!(pending.arn, None);
        assert_eq!(pending.endpoint, "team@example.com");
        assert_eq!(pending.protocol, "email");
        let arn = "arn:aws:sns:us-east-1:111122223333:reminders:5f1c0c2e";
        assert_eq!(listed(&sub(arn)).and_then(|l| l.arn).as_deref(), Some(arn));
        assert_eq!(listed(&sub("Deleted")), None);
    }
}
