//! Incident Manager (`ssm-incidents`) as the responder uses it: read an
//! incident, post a note, add a related item, list recent open incidents.

use std::collections::HashMap;

use aws_sdk_ssmincidents::Client;
use aws_sdk_ssmincidents::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ssmincidents::primitives::DateTime;
use aws_sdk_ssmincidents::types::{
    AttributeValueList, ChatChannel, Condition, EventReference, Filter, IncidentRecordStatus, ItemIdentifier,
    ItemType, ItemValue, RelatedItem, RelatedItemsUpdate,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use jiff::Timestamp;
use support_plans_domain::IncidentArn;
use support_plans_domain::pipeline::{IncidentId, ReportedIncident};
use support_plans_domain::ports::{IncidentSink, IncidentSource, PortError};

use crate::failure::is_permanent;

/// Incident Manager failed, refused, or does not know the incident.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    #[error("no incident {0}")]
    NotFound(String),
    /// An answer that another try would not change (access denied, an
    /// invalid request): SPEC §4, not retried.
    #[error("Incident Manager refused: {0}")]
    Refused(String),
    /// Throttling, 5xx, a timeout: worth another try.
    #[error("Incident Manager failed: {0}")]
    Unavailable(String),
}

fn classify<E>(e: SdkError<E, HttpResponse>, arn: &str) -> IncidentError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if e.code() == Some("ResourceNotFoundException") {
        return IncidentError::NotFound(arn.to_owned());
    }
    if is_permanent(&e) {
        return IncidentError::Refused(DisplayErrorContext(e).to_string());
    }
    IncidentError::Unavailable(DisplayErrorContext(e).to_string())
}

/// What the responder needs of one incident record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentView {
    pub arn: String,
    pub title: String,
    pub impact: Option<u8>,
    pub resolved: bool,
    pub created_at: Timestamp,
    /// `incident_record_source.resource_arn`, when set.
    pub source_resource: Option<String>,
    /// `chatChannel.chatbotSns` topics.
    pub chat_topics: Vec<String>,
    /// Related items of type `INVOLVED_RESOURCE` (their ARNs).
    pub involved_resources: Vec<String>,
    /// URLs already among the related items.
    pub related_urls: Vec<String>,
    pub tags: HashMap<String, String>,
}

fn timestamp(t: &DateTime) -> Timestamp {
    Timestamp::from_second(t.secs()).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn datetime(t: Timestamp) -> DateTime {
    DateTime::from_secs(t.as_second())
}

/// The adapter: one client, built once per process.
#[derive(Debug, Clone)]
pub struct IncidentManager {
    client: Client,
}

impl IncidentManager {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The record, its related items and its tags: three independent calls, issued concurrently.
    #[tracing::instrument(skip(self))]
    pub async fn read(&self, arn: &str) -> Result<IncidentView, IncidentError> {
        let record = self.client.get_incident_record().arn(arn).send();
        let related = self.related_items(arn);
        let tags = self.client.list_tags_for_resource().resource_arn(arn).send();
        let (record, related, tags) = tokio::join!(record, related, tags);
        let record = record
            .map_err(|e| classify(e, arn))?
            .incident_record
            .ok_or_else(|| IncidentError::Unavailable("GetIncidentRecord returned no record".into()))?;
        let related = related?;
        let tags = tags.map_err(|e| classify(e, arn))?.tags;

        let mut involved = Vec::new();
        let mut urls = Vec::new();
        for item in related {
            let Some(id) = item.identifier else { continue };
            match (id.r#type, id.value) {
                (ItemType::InvolvedResource, Some(ItemValue::Arn(a))) => involved.push(a),
                (_, Some(ItemValue::Url(u))) => urls.push(u),
                _ => {}
            }
        }
        let chat_topics = match record.chat_channel {
            Some(ChatChannel::ChatbotSns(topics)) => topics,
            _ => Vec::new(),
        };
        Ok(IncidentView {
            arn: record.arn,
            title: record.title,
            impact: u8::try_from(record.impact).ok(),
            resolved: record.status == IncidentRecordStatus::Resolved,
            created_at: timestamp(&record.creation_time),
            source_resource: record.incident_record_source.and_then(|s| s.resource_arn),
            chat_topics,
            involved_resources: involved,
            related_urls: urls,
            tags,
        })
    }

    async fn related_items(&self, arn: &str) -> Result<Vec<RelatedItem>, IncidentError> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_related_items()
                .incident_record_arn(arn)
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| classify(e, arn))?;
            items.extend(out.related_items);
            match out.next_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Ok(items),
            }
        }
    }

    /// A `Note` timeline event referencing the incident itself, at `at`.
    ///
    /// `client_token` is derived from the incident and the note's part, and
    /// `at` must be the same on every try (the caller passes the incident's
    /// creation time): a retry then sends the very request Incident Manager
    /// already took, which it answers as a replay. If the request differs
    /// (the plan changed since), Incident Manager refuses the reused token
    /// with `ConflictException`: the token was used, so the note is there,
    /// and that counts as posted too.
    #[tracing::instrument(skip(self, text), fields(chars = text.len()))]
    pub async fn post_note(
        &self,
        arn: &str,
        text: &str,
        at: Timestamp,
        client_token: &str,
    ) -> Result<(), IncidentError> {
        let result = self
            .client
            .create_timeline_event()
            .incident_record_arn(arn)
            .client_token(client_token)
            .event_time(datetime(at))
            .event_type("Note")
            .event_data(text)
            .event_references(EventReference::Resource(arn.to_owned()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ConflictException") => {
                tracing::info!(
                    incident = arn,
                    client_token,
                    "note already posted with this client token"
                );
                Ok(())
            }
            Err(e) => Err(classify(e, arn)),
        }
    }

    /// A related item of type `OTHER` pointing at `url`.
    #[tracing::instrument(skip(self))]
    pub async fn add_link(
        &self,
        arn: &str,
        title: &str,
        url: &str,
        client_token: &str,
    ) -> Result<(), IncidentError> {
        let identifier = ItemIdentifier::builder()
            .r#type(ItemType::Other)
            .value(ItemValue::Url(url.to_owned()))
            .build()
            .map_err(|e| IncidentError::Unavailable(e.to_string()))?;
        let item = RelatedItem::builder().identifier(identifier).title(title).build();
        let result = self
            .client
            .update_related_items()
            .incident_record_arn(arn)
            .client_token(client_token)
            .related_items_update(RelatedItemsUpdate::ItemToAdd(item))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Someone added the same URL meanwhile: what we wanted is there.
            Err(e) if e.code() == Some("ConflictException") => Ok(()),
            Err(e) => Err(classify(e, arn)),
        }
    }

    /// ARNs of the OPEN incidents created since `since`, every page.
    #[tracing::instrument(skip(self))]
    pub async fn open_since(&self, since: Timestamp) -> Result<Vec<String>, IncidentError> {
        let open = Filter::builder()
            .key("status")
            .condition(Condition::Equals(AttributeValueList::StringValues(vec![
                "OPEN".into(),
            ])))
            .build()
            .map_err(|e| IncidentError::Unavailable(e.to_string()))?;
        let recent = Filter::builder()
            .key("creationTime")
            .condition(Condition::After(datetime(since)))
            .build()
            .map_err(|e| IncidentError::Unavailable(e.to_string()))?;
        let mut arns = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_incident_records()
                .filters(open.clone())
                .filters(recent.clone())
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| classify(e, "(list)"))?;
            arns.extend(out.incident_record_summaries.into_iter().map(|s| s.arn));
            match out.next_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Ok(arns),
            }
        }
    }
}

impl From<IncidentError> for PortError {
    fn from(e: IncidentError) -> Self {
        match e {
            IncidentError::Refused(_) => PortError::Refused(e.to_string()),
            IncidentError::NotFound(_) | IncidentError::Unavailable(_) => PortError::Retry(e.to_string()),
        }
    }
}

/// The incident record an id names: Incident Manager knows no other.
fn record(id: &IncidentId) -> Result<&IncidentArn, PortError> {
    id.arn()
        .ok_or_else(|| PortError::Refused(format!("{id} is not an Incident Manager incident")))
}

impl From<IncidentView> for ReportedIncident {
    fn from(v: IncidentView) -> Self {
        let mut resources = v.involved_resources;
        resources.extend(v.source_resource);
        let id = match IncidentArn::parse(&v.arn) {
            Ok(arn) => IncidentId::Record(arn),
            // Incident Manager's own ARNs always parse; kept whole if one does not.
            Err(_) => IncidentId::External {
                kind: "ssm-incidents",
                id: v.arn,
            },
        };
        Self {
            id,
            title: v.title,
            impact: v.impact,
            started_at: v.created_at,
            resolved: v.resolved,
            resources,
            tags: v.tags.into_iter().collect(),
            related_urls: v.related_urls,
            chat_topics: v.chat_topics,
            pagerduty_service: None,
        }
    }
}

impl IncidentSource for IncidentManager {
    async fn read(&self, id: &IncidentId) -> Result<Option<ReportedIncident>, PortError> {
        match IncidentManager::read(self, record(id)?.as_str()).await {
            Ok(view) => Ok(Some(view.into())),
            Err(IncidentError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn open_since(&self, since: Timestamp) -> Result<Vec<IncidentId>, PortError> {
        let arns = IncidentManager::open_since(self, since).await?;
        Ok(arns
            .into_iter()
            .filter_map(|a| match IncidentArn::parse(&a) {
                Ok(arn) => Some(IncidentId::Record(arn)),
                Err(e) => {
                    tracing::warn!(incident = %a, error = %e, "listed incident skipped");
                    None
                }
            })
            .collect())
    }
}

impl IncidentSink for IncidentManager {
    async fn note(
        &self,
        id: &IncidentId,
        text: &str,
        at: Timestamp,
        client_token: &str,
    ) -> Result<(), PortError> {
        Ok(self
            .post_note(record(id)?.as_str(), text, at, client_token)
            .await?)
    }

    async fn link(
        &self,
        id: &IncidentId,
        title: &str,
        url: &str,
        client_token: &str,
    ) -> Result<(), PortError> {
        Ok(self
            .add_link(record(id)?.as_str(), title, url, client_token)
            .await?)
    }
}
