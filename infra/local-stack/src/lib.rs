//! Local-stack tooling. The table is created from `template.yaml`'s own
//! definition, so the local schema and the deployed one cannot drift.

pub mod policy;
pub mod report;
pub mod seed;
pub mod template;

use anyhow::Context as _;
use aws_sdk_dynamodb::Client;

pub use template::TableDefinition;

/// An SDK error with its whole source chain in the message.
pub fn sdk_error(e: impl std::error::Error + Send + Sync + 'static) -> anyhow::Error {
    anyhow::anyhow!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(e))
}

/// `template.yaml` at the root of the workspace.
pub fn template_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")
}

/// Creates table `name` as `template.yaml` defines it (keys, indexes, TTL,
/// point-in-time recovery, deletion protection).
pub async fn create_table(client: &Client, def: &TableDefinition, name: &str) -> anyhow::Result<()> {
    def.create_table_request(client, name)?
        .send()
        .await
        .map_err(sdk_error)
        .with_context(|| format!("creating table {name}"))?;
    if let Some(ttl) = def.ttl_spec()? {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(sdk_error)
            .with_context(|| format!("enabling TTL on {name}"))?;
    }
    if def.point_in_time_recovery() {
        client
            .update_continuous_backups()
            .table_name(name)
            .point_in_time_recovery_specification(
                aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()?,
            )
            .send()
            .await
            .map_err(sdk_error)
            .with_context(|| format!("enabling point-in-time recovery on {name}"))?;
    }
    Ok(())
}
