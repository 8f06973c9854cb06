//! The one-click verification keys (SPEC §5), read from their Secrets Manager
//! secret: one plain key (as the stack generates it), or
//! `{"keys": [{"kid", "key", "not_after"?}]}` during and after a rotation
//! (the format is the domain's: [`KeySet::parse`]).

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use support_plans_domain::token::KeySet;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("reading the secret {id}: {detail}")]
    Read { id: String, detail: String },
    #[error("the secret {id} is unusable: {detail}")]
    Invalid { id: String, detail: String },
}

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
