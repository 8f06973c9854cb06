//! The notifier on SNS: one `Publish` per message, with its subject and its
//! attributes (`String` and `String.Array`) for subscription filter policies;
//! and the responder's chat messages (SPEC §4), whose permanent failures
//! are told from the ones worth another try.

use aws_sdk_sns::Client;
use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::MessageAttributeValue;
use support_plans_domain::ports::{ChatPublisher, PortError};
use support_plans_domain::reminders::{Message, Notifier, NotifyError};

use crate::failure::is_permanent;

/// A chat message not published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The topic refuses it and will again (it does not exist, the function
    /// may not publish to it, the message is invalid for it): not retried.
    #[error("SNS Publish to {topic} refused: {reason}")]
    Refused { topic: String, reason: String },
    /// Throttling, 5xx, a timeout: worth another try.
    #[error("SNS Publish to {topic} failed: {reason}")]
    Failed { topic: String, reason: String },
}

/// Publishes one chat message (AWS Chatbot custom notification) to `topic`.
#[tracing::instrument(skip(client, message), fields(chars = message.len()))]
pub async fn publish_chat(client: &Client, topic: &str, message: &str) -> Result<(), PublishError> {
    match client.publish().topic_arn(topic).message(message).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let permanent = is_permanent(&e);
            let reason = DisplayErrorContext(e).to_string();
            let topic = topic.to_owned();
            Err(if permanent {
                PublishError::Refused { topic, reason }
            } else {
                PublishError::Failed { topic, reason }
            })
        }
    }
}

/// The responder's chat messages on SNS.
#[derive(Debug, Clone)]
pub struct SnsChat {
    client: Client,
}

impl SnsChat {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl ChatPublisher for SnsChat {
    async fn publish(&self, topic: &str, message: &str) -> Result<(), PortError> {
        publish_chat(&self.client, topic, message)
            .await
            .map_err(|e| match e {
                PublishError::Refused { .. } => PortError::Refused(e.to_string()),
                PublishError::Failed { .. } => PortError::Retry(e.to_string()),
            })
    }
}

#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: Client,
}

impl SnsNotifier {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl Notifier for SnsNotifier {
    async fn publish(&self, topic: &str, message: &Message) -> Result<(), NotifyError> {
        let mut req = self
            .client
            .publish()
            .topic_arn(topic)
            .subject(&message.subject)
            .message(&message.body);
        for (name, value) in &message.attributes {
            let attr = MessageAttributeValue::builder()
                .data_type(value.data_type())
                .string_value(value.value())
                .build()
                .map_err(|e| NotifyError(e.to_string()))?;
            req = req.message_attributes(*name, attr);
        }
        req.send()
            .await
            .map_err(|e| NotifyError(format!("SNS Publish to {topic}: {}", DisplayErrorContext(e))))?;
        Ok(())
    }
}
