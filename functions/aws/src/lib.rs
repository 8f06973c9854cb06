//! The domain's ports on AWS. Adapters know nothing of HTTP or Lambda.

pub mod store;

pub use store::DynamoStore;
