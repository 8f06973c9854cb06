//! The one-click verification key, read from Secrets Manager once per cold start.

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use support_plans_domain::token::VerifyKey;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("reading the secret {id}: {detail}")]
    Read { id: String, detail: String },
    #[error("the secret {id} is unusable: {detail}")]
    Invalid { id: String, detail: String },
}

/// The HMAC key held as the secret's string (the stack generates 64 characters).
pub async fn verify_key(client: &Client, secret_id: &str) -> Result<VerifyKey, SecretError> {
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
    VerifyKey::new(value.as_bytes().to_vec()).map_err(|detail| SecretError::Invalid {
        id: secret_id.to_owned(),
        detail,
    })
}
