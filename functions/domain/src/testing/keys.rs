//! Fixed signing keys for the tests ([`VerifyKeys`]).

use crate::ports::{KeysError, VerifyKeys};
use crate::token::{KeySet, VerifyKey};

#[derive(Debug, Clone)]
pub struct FakeKeys(pub KeySet);

impl Default for FakeKeys {
    fn default() -> Self {
        Self(KeySet::single(
            VerifyKey::new(b"test-key-test-key-test-key-test-key!".to_vec()).expect("32 bytes"),
        ))
    }
}

impl VerifyKeys for FakeKeys {
    async fn read_keys(&self) -> Result<KeySet, KeysError> {
        Ok(self.0.clone())
    }
}
