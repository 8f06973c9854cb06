//! The one-click verification keys (SPEC §5), read from their Secrets Manager
//! secret: one plain key (as the stack generates it), or
//! `{"keys": [{"kid", "key", "not_after"?}]}` during and after a rotation
//! (the format is the domain's: [`KeySet::parse`]). Implements the domain's
//! [`VerifyKeys`] port.

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use support_plans_domain::ports::{KeysError, SecretText, VerifyKeys};
use support_plans_domain::token::KeySet;

/// Why the keys could not be had (the port's error, under its old name here).
pub type SecretError = KeysError;

/// The secret's keys: the one that signs, and every one that verifies.
pub async fn verify_keys(client: &Client, secret_id: &str) -> Result<KeySet, SecretError> {
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| SecretError::Read {
            id: secret_id.to_owned(),
            detail: DisplayErrorContext(e).to_string(),
        })?;
    let value = out.secret_string().ok_or_else(|| SecretError::Invalid {
        id: secret_id.to_owned(),
        detail: "it holds no string".into(),
    })?;
    KeySet::parse(value).map_err(|detail| SecretError::Invalid {
        id: secret_id.to_owned(),
        detail,
    })
}

/// One secret's keys, read through a client built once per process.
#[derive(Debug, Clone)]
pub struct SecretsManagerKeys {
    client: Client,
    secret_id: String,
}

impl SecretsManagerKeys {
    pub fn new(client: Client, secret_id: impl Into<String>) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
        }
    }

    /// A client from `sdk` for the secret `secret_id`.
    pub fn from_sdk(sdk: &aws_config::SdkConfig, secret_id: impl Into<String>) -> Self {
        Self::new(Client::new(sdk), secret_id)
    }
}

impl VerifyKeys for SecretsManagerKeys {
    async fn read_keys(&self) -> Result<KeySet, KeysError> {
        verify_keys(&self.client, &self.secret_id).await
    }
}

/// One secret's current text (the webhook secrets of SPEC §11): the
/// domain's [`SecretText`] port. The value is returned, never logged nor
/// put in an error; a secret without a value yet (created empty, no
/// version) is a read error naming the secret.
#[derive(Debug, Clone)]
pub struct SecretsManagerText {
    client: Client,
    secret_id: String,
}

impl SecretsManagerText {
    pub fn new(client: Client, secret_id: impl Into<String>) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
        }
    }
}

impl SecretText for SecretsManagerText {
    async fn read_text(&self) -> Result<String, KeysError> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| KeysError::Read {
                id: self.secret_id.clone(),
                detail: DisplayErrorContext(e).to_string(),
            })?;
        Ok(out.secret_string().unwrap_or_default().to_owned())
    }
}
