//! The notifier on SNS: one `Publish` per message, with its subject and its
//! attributes (`String` and `String.Array`) for subscription filter policies.

use aws_sdk_sns::Client;
use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::MessageAttributeValue;
use support_plans_domain::reminders::{Message, Notifier, NotifyError};

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
