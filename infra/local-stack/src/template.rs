//! Reads the `AWS::DynamoDB::Table` resource of `template.yaml` and turns it
//! into the SDK's `CreateTable` request.

use std::path::Path;

use anyhow::{Context as _, bail};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use serde::Deserialize;

/// The table's `Properties`, as CloudFormation spells them.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableDefinition {
    /// The resource's logical id in the template.
    #[serde(skip)]
    pub logical_id: String,
    /// The resource's `DeletionPolicy` (not a property, but read with them).
    #[serde(skip)]
    pub deletion_policy: Option<String>,
    pub billing_mode: Option<String>,
    pub attribute_definitions: Vec<AttrDef>,
    pub key_schema: Vec<KeyDef>,
    #[serde(default)]
    pub global_secondary_indexes: Vec<IndexDef>,
    pub time_to_live_specification: Option<TtlDef>,
    pub point_in_time_recovery_specification: Option<PitrDef>,
    pub deletion_protection_enabled: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttrDef {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyDef {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexDef {
    pub index_name: String,
    pub key_schema: Vec<KeyDef>,
    pub projection: ProjectionDef,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProjectionDef {
    pub projection_type: String,
    #[serde(default)]
    pub non_key_attributes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TtlDef {
    pub attribute_name: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PitrDef {
    pub point_in_time_recovery_enabled: bool,
}

impl TableDefinition {
    /// The one `AWS::DynamoDB::Table` of the template at `path`.
    pub fn from_template(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_template_str(&text).with_context(|| format!("in {}", path.display()))
    }

    pub fn from_template_str(text: &str) -> anyhow::Result<Self> {
        let doc: serde_yaml::Value = serde_yaml::from_str(text).context("template is not YAML")?;
        let resources = doc
            .get("Resources")
            .and_then(|r| r.as_mapping())
            .context("template has no Resources")?;
        let mut tables = resources
            .iter()
            .filter(|(_, r)| r.get("Type").and_then(|t| t.as_str()) == Some("AWS::DynamoDB::Table"));
        let Some((id, resource)) = tables.next() else {
            bail!("template defines no AWS::DynamoDB::Table");
        };
        if tables.next().is_some() {
            bail!("template defines more than one table; SPEC §7 allows one");
        }
        let props = resource
            .get("Properties")
            .context("the table has no Properties")?;
        let mut def: TableDefinition =
            serde_yaml::from_value(props.clone()).context("reading the table's Properties")?;
        def.logical_id = id.as_str().unwrap_or_default().to_owned();
        def.deletion_policy = resource
            .get("DeletionPolicy")
            .and_then(|p| p.as_str())
            .map(str::to_owned);
        Ok(def)
    }

    /// The `CreateTable` request for a table called `name`.
    pub fn create_table_request(
        &self,
        client: &Client,
        name: &str,
    ) -> anyhow::Result<CreateTableFluentBuilder> {
        let mut req = client.create_table().table_name(name);
        for a in &self.attribute_definitions {
            req = req.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(&a.attribute_name)
                    .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                    .build()?,
            );
        }
        for k in &self.key_schema {
            req = req.key_schema(key(k)?);
        }
        for i in &self.global_secondary_indexes {
            let mut projection = Projection::builder()
                .projection_type(ProjectionType::from(i.projection.projection_type.as_str()));
            for a in &i.projection.non_key_attributes {
                projection = projection.non_key_attributes(a);
            }
            let mut gsi = GlobalSecondaryIndex::builder()
                .index_name(&i.index_name)
                .projection(projection.build());
            for k in &i.key_schema {
                gsi = gsi.key_schema(key(k)?);
            }
            req = req.global_secondary_indexes(gsi.build()?);
        }
        match self.billing_mode.as_deref() {
            Some("PAY_PER_REQUEST") => req = req.billing_mode(BillingMode::PayPerRequest),
            other => bail!("the table's BillingMode must be PAY_PER_REQUEST (SPEC §7), not {other:?}"),
        }
        if let Some(p) = self.deletion_protection_enabled {
            req = req.deletion_protection_enabled(p);
        }
        Ok(req)
    }

    pub fn ttl_spec(&self) -> anyhow::Result<Option<TimeToLiveSpecification>> {
        self.time_to_live_specification
            .as_ref()
            .map(|t| {
                TimeToLiveSpecification::builder()
                    .attribute_name(&t.attribute_name)
                    .enabled(t.enabled)
                    .build()
                    .map_err(Into::into)
            })
            .transpose()
    }

    pub fn point_in_time_recovery(&self) -> bool {
        self.point_in_time_recovery_specification
            .as_ref()
            .is_some_and(|p| p.point_in_time_recovery_enabled)
    }

    /// The names of the global secondary indexes.
    pub fn index_names(&self) -> Vec<&str> {
        self.global_secondary_indexes
            .iter()
            .map(|i| i.index_name.as_str())
            .collect()
    }
}

fn key(k: &KeyDef) -> anyhow::Result<KeySchemaElement> {
    Ok(KeySchemaElement::builder()
        .attribute_name(&k.attribute_name)
        .key_type(KeyType::from(k.key_type.as_str()))
        .build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_defines_the_table_spec_7_asks_for() {
        let def = TableDefinition::from_template(&crate::template_path()).unwrap();
        assert_eq!(def.billing_mode.as_deref(), Some("PAY_PER_REQUEST"));
        assert!(def.point_in_time_recovery());
        assert_eq!(def.deletion_protection_enabled, Some(true));
        assert_eq!(def.deletion_policy.as_deref(), Some("Retain"));
        assert_eq!(
            def.time_to_live_specification
                .as_ref()
                .map(|t| t.attribute_name.as_str()),
            Some("expires_at")
        );
        assert_eq!(
            def.index_names(),
            vec!["by-kind", "by-owner-team", "by-status", "by-owner"]
        );
        // The owner index carries only the digest (SPEC §10, §15: the
        // freshness check reads what it needs, page by page).
        let owner = def
            .global_secondary_indexes
            .iter()
            .find(|i| i.index_name == "by-owner")
            .unwrap();
        assert_eq!(owner.projection.projection_type, "INCLUDE");
        assert_eq!(owner.projection.non_key_attributes, ["digest"]);
    }

    #[test]
    fn nothing_in_the_template_can_enable_the_local_identity_switch() {
        let text = std::fs::read_to_string(crate::template_path()).unwrap();
        assert!(
            !text.contains("LOCAL_AUTH"),
            "LOCAL_AUTH is for the local stack only (SPEC §3)"
        );
    }

    #[test]
    fn a_template_without_a_table_is_refused() {
        let err =
            TableDefinition::from_template_str("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n").unwrap_err();
        assert!(err.to_string().contains("no AWS::DynamoDB::Table"));
    }
}
