//! In-memory state and the operations on it. Every operation is synchronous
//! and runs under the one state lock, so each is atomic, including the
//! clientToken check-then-act in `run`.

use std::collections::{BTreeMap, HashMap};

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::model::{
    Action, ArnInput, ChatChannel, CreateResponsePlanInput, CreateTimelineEventInput, EventIdInput,
    EventReference, Filter, IncidentTemplate, Integration, ItemIdentifier, ListIncidentRecordsInput,
    ListRelatedItemsInput, ListTimelineEventsInput, NotificationTargetItem, PageInput, RelatedItem,
    ResourceArnInput, SsmAutomation, StartIncidentInput, TagMap, TagResourceInput, UntagResourceInput,
    UpdateIncidentRecordInput, UpdateRelatedItemsInput, UpdateResponsePlanInput, UpdateTimelineEventInput,
};
use crate::protocol::{ApiError, ErrorKind, Op, Reply, ResourceType};
use crate::util::{hex_decode, hex_encode, hex32_upper, ms_to_json, seconds_to_ms, uuid};
use crate::validate::{self, V};

/// Event types a client may create (API reference of CreateTimelineEvent).
const CLIENT_EVENT_TYPES: [&str; 2] = ["Custom Event", "Note"];
/// Page size when `maxResults` is absent (the model's maximum).
const DEFAULT_PAGE: usize = 100;
/// Tags per resource (the model's TagMap maximum).
const MAX_TAGS: usize = 50;

/// Who is calling and when; the service derives ARNs and audit members from it.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub account: String,
    pub region: String,
    pub caller_arn: String,
    pub now_ms: i64,
}

impl Ctx {
    pub fn partition(&self) -> &'static str {
        partition_of(&self.region)
    }
}

pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// What StartIncident did, for the event deliveries that follow the reply.
#[derive(Debug, Clone)]
pub struct Started {
    pub incident_record_arn: String,
    /// False when the call was deduplicated into an open incident.
    pub created: bool,
    /// The plan's runbook action that takes INCIDENT_RECORD_ARN /
    /// INVOLVED_RESOURCES (the first, if several).
    pub runbook: Option<SsmAutomation>,
    pub involved_resources: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub reply: Reply,
    pub started: Option<Started>,
}

impl From<Reply> for Outcome {
    fn from(reply: Reply) -> Self {
        Outcome { reply, started: None }
    }
}

#[derive(Debug, Clone)]
struct Plan {
    arn: String,
    name: String,
    display_name: Option<String>,
    template: IncidentTemplate,
    chat_channel: Option<ChatChannel>,
    engagements: Option<Vec<String>>,
    actions: Option<Vec<Action>>,
    integrations: Option<Vec<Integration>>,
}

#[derive(Debug, Clone)]
struct Source {
    created_by: String,
    invoked_by: Option<String>,
    resource_arn: Option<String>,
    source: String,
}

#[derive(Debug, Clone)]
struct Event {
    id: String,
    seq: u64,
    time_ms: i64,
    updated_ms: i64,
    event_type: String,
    data: String,
    references: Option<Vec<EventReference>>,
}

#[derive(Debug, Clone)]
struct Item {
    seq: u64,
    item: RelatedItem,
}

#[derive(Debug, Clone)]
struct Incident {
    arn: String,
    seq: u64,
    title: String,
    impact: i64,
    summary: Option<String>,
    status: String,
    dedupe_string: String,
    chat_channel: Option<ChatChannel>,
    notification_targets: Vec<NotificationTargetItem>,
    automation_executions: Vec<String>,
    source: Source,
    creation_ms: i64,
    last_modified_ms: i64,
    last_modified_by: String,
    resolved_ms: Option<i64>,
    items: Vec<Item>,
    events: Vec<Event>,
}

#[derive(Debug, Default)]
pub struct Store {
    plans: BTreeMap<String, Plan>,
    incidents: HashMap<String, Incident>,
    tags: HashMap<String, TagMap>,
    /// (operation, clientToken) -> (request, reply) for idempotent replays.
    tokens: HashMap<(Op, String), (Value, Reply)>,
    seq: u64,
}

impl Store {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Moves an incident's creation time `minutes` into the past (the admin
    /// API's `POST /_emulator/incidents/age`), so that tests can place it
    /// outside a window. False when there is no such incident.
    pub fn age_incident(&mut self, arn: &str, minutes: i64) -> bool {
        match self.incidents.get_mut(arn) {
            Some(inc) => {
                inc.creation_ms -= minutes * 60_000;
                true
            }
            None => false,
        }
    }

    /// Runs one operation, honouring `clientToken`: a repeat of the same
    /// request returns the first reply (and does nothing); the same token
    /// with different parameters is a conflict.
    pub fn run(&mut self, op: Op, ctx: &Ctx, input: &Value) -> Result<Outcome, ApiError> {
        let token = op
            .has_client_token()
            .then(|| input.get("clientToken").and_then(Value::as_str))
            .flatten()
            .filter(|t| !t.is_empty() && t.chars().count() <= 128)
            .map(str::to_owned);
        if let Some(t) = &token
            && let Some((first, reply)) = self.tokens.get(&(op, t.clone()))
        {
            return if first == input {
                Ok(reply.clone().into())
            } else {
                Err(ApiError::conflict(
                    format!("clientToken {t} was already used with different request parameters"),
                    None,
                ))
            };
        }
        let out = self.dispatch(op, ctx, input)?;
        if let Some(t) = token {
            self.tokens.insert((op, t), (input.clone(), out.reply.clone()));
        }
        Ok(out)
    }

    fn dispatch(&mut self, op: Op, ctx: &Ctx, input: &Value) -> Result<Outcome, ApiError> {
        match op {
            Op::StartIncident => self.start_incident(ctx, parse(input)?),
            Op::GetIncidentRecord => self.get_incident_record(parse(input)?).map(Into::into),
            Op::ListIncidentRecords => self.list_incident_records(parse(input)?).map(Into::into),
            Op::UpdateIncidentRecord => self.update_incident_record(ctx, parse(input)?).map(Into::into),
            Op::DeleteIncidentRecord => self.delete_incident_record(parse(input)?).map(Into::into),
            Op::CreateTimelineEvent => self.create_timeline_event(ctx, parse(input)?).map(Into::into),
            Op::GetTimelineEvent => self.get_timeline_event(parse(input)?).map(Into::into),
            Op::ListTimelineEvents => self.list_timeline_events(parse(input)?).map(Into::into),
            Op::UpdateTimelineEvent => self.update_timeline_event(ctx, parse(input)?).map(Into::into),
            Op::DeleteTimelineEvent => self.delete_timeline_event(parse(input)?).map(Into::into),
            Op::ListRelatedItems => self.list_related_items(parse(input)?).map(Into::into),
            Op::UpdateRelatedItems => self.update_related_items(parse(input)?).map(Into::into),
            Op::CreateResponsePlan => self.create_response_plan(ctx, parse(input)?).map(Into::into),
            Op::GetResponsePlan => self.get_response_plan(parse(input)?).map(Into::into),
            Op::ListResponsePlans => self.list_response_plans(parse(input)?).map(Into::into),
            Op::UpdateResponsePlan => self.update_response_plan(parse(input)?).map(Into::into),
            Op::DeleteResponsePlan => self.delete_response_plan(parse(input)?).map(Into::into),
            Op::TagResource => self.tag_resource(parse(input)?).map(Into::into),
            Op::UntagResource => self.untag_resource(parse(input)?).map(Into::into),
            Op::ListTagsForResource => self.list_tags_for_resource(parse(input)?).map(Into::into),
            other => Err(ApiError::new(
                ErrorKind::NotImplemented,
                format!("{} is not implemented by the emulator", other.name()),
            )),
        }
    }

    // ---- incidents ----

    fn start_incident(&mut self, ctx: &Ctx, i: StartIncidentInput) -> Result<Outcome, ApiError> {
        let mut v = V::new();
        v.client_token(i.client_token.as_ref());
        v.required("responsePlanArn", i.response_plan_arn.as_ref());
        v.arn("responsePlanArn", i.response_plan_arn.as_ref());
        v.title("title", i.title.as_ref());
        v.impact("impact", i.impact);
        v.related_items("relatedItems", i.related_items.as_ref());
        if let Some(t) = &i.trigger_details {
            v.trigger_details("triggerDetails", t);
            if t.timestamp.is_some_and(|s| seconds_to_ms(s).is_none()) {
                v.custom("triggerDetails.timestamp is not a valid timestamp");
            }
        }
        v.finish()?;
        let plan_arn = required(i.response_plan_arn)?;
        let plan = self
            .plans
            .get(&plan_arn)
            .cloned()
            .ok_or_else(|| ApiError::not_found(ResourceType::ResponsePlan, &plan_arn))?;

        let automation = plan
            .actions
            .iter()
            .flatten()
            .filter_map(|a| a.ssm_automation.as_ref())
            .collect::<Vec<_>>();
        let runbook = automation
            .iter()
            .find(|s| {
                s.dynamic_parameters.iter().flatten().any(|(_, p)| {
                    matches!(
                        p.variable.as_deref(),
                        Some("INCIDENT_RECORD_ARN" | "INVOLVED_RESOURCES")
                    )
                })
            })
            .map(|s| (*s).clone());

        // Related items: duplicates (same type and value) collapse to one.
        let mut items: Vec<Item> = Vec::new();
        for item in i.related_items.unwrap_or_default() {
            let id = item.identifier.clone().unwrap_or_default();
            if items.iter().any(|x| same_identifier(&x.item, &id)) {
                continue;
            }
            let seq = self.next_seq();
            items.push(Item {
                seq,
                item: with_generated_id(item),
            });
        }
        let involved_resources: Vec<String> = items
            .iter()
            .filter_map(|x| x.item.identifier.as_ref())
            .filter(|id| id.item_type.as_deref() == Some("INVOLVED_RESOURCE"))
            .filter_map(|id| id.value.as_ref()?.arn.clone())
            .collect();

        // The template's dedupe string folds a new incident into an open one.
        if let Some(d) = plan.template.dedupe_string.as_deref().filter(|d| !d.is_empty())
            && let Some(open) = self
                .incidents
                .values()
                .filter(|x| x.status == "OPEN" && x.dedupe_string == d)
                .min_by_key(|x| x.seq)
        {
            let arn = open.arn.clone();
            return Ok(Outcome {
                reply: Reply::ok(json!({ "incidentRecordArn": arn })),
                started: Some(Started {
                    incident_record_arn: arn,
                    created: false,
                    runbook: None,
                    involved_resources,
                }),
            });
        }

        let now = ctx.now_ms;
        let arn = format!(
            "arn:{}:ssm-incidents::{}:incident-record/{}/{}",
            ctx.partition(),
            ctx.account,
            plan.name,
            uuid()
        );
        let trigger = i.trigger_details.unwrap_or_default();
        let seq = self.next_seq();
        let event_seq = self.next_seq();
        let incident = Incident {
            arn: arn.clone(),
            seq,
            title: i
                .title
                .or_else(|| plan.template.title.clone())
                .unwrap_or_default(),
            impact: i.impact.or(plan.template.impact).unwrap_or(5),
            summary: plan.template.summary.clone(),
            status: "OPEN".to_string(),
            dedupe_string: plan
                .template
                .dedupe_string
                .clone()
                .filter(|d| !d.is_empty())
                .unwrap_or_else(uuid),
            chat_channel: plan.chat_channel.clone().filter(|c| c.empty.is_none()),
            notification_targets: plan.template.notification_targets.clone().unwrap_or_default(),
            // The service starts the runbook itself; the emulator only records
            // an execution (the runbook target POST stands in for it).
            automation_executions: automation
                .iter()
                .map(|_| {
                    format!(
                        "arn:{}:ssm:{}:{}:automation-execution/{}",
                        ctx.partition(),
                        ctx.region,
                        ctx.account,
                        uuid()
                    )
                })
                .collect(),
            source: Source {
                created_by: ctx.caller_arn.clone(),
                // As in the service's own example output.
                invoked_by: Some(ctx.caller_arn.clone()),
                resource_arn: trigger.trigger_arn,
                source: trigger
                    .source
                    .unwrap_or_else(|| "aws.ssm-incidents.custom".to_string()),
            },
            creation_ms: now,
            last_modified_ms: now,
            last_modified_by: ctx.caller_arn.clone(),
            resolved_ms: None,
            items,
            // The service's own creation event: a "Custom Event" at the
            // creation second whose data is the JSON string "Incident Started".
            events: vec![Event {
                id: uuid(),
                seq: event_seq,
                time_ms: now - now.rem_euclid(1000),
                updated_ms: now,
                event_type: "Custom Event".to_string(),
                data: "\"Incident Started\"".to_string(),
                references: None,
            }],
        };
        if let Some(tags) = plan.template.incident_tags.clone().filter(|t| !t.is_empty()) {
            self.tags.insert(arn.clone(), tags);
        }
        self.incidents.insert(arn.clone(), incident);
        Ok(Outcome {
            reply: Reply::ok(json!({ "incidentRecordArn": arn })),
            started: Some(Started {
                incident_record_arn: arn,
                created: true,
                runbook,
                involved_resources,
            }),
        })
    }

    fn incident(&self, arn: &str) -> Result<&Incident, ApiError> {
        self.incidents
            .get(arn)
            .ok_or_else(|| ApiError::not_found(ResourceType::IncidentRecord, arn))
    }

    fn incident_mut(&mut self, arn: &str) -> Result<&mut Incident, ApiError> {
        self.incidents
            .get_mut(arn)
            .ok_or_else(|| ApiError::not_found(ResourceType::IncidentRecord, arn))
    }

    fn get_incident_record(&self, i: ArnInput) -> Result<Reply, ApiError> {
        let arn = required_arn("arn", i.arn)?;
        let inc = self.incident(&arn)?;
        Ok(Reply::ok(json!({ "incidentRecord": incident_json(inc) })))
    }

    fn list_incident_records(&self, i: ListIncidentRecordsInput) -> Result<Reply, ApiError> {
        let mut v = V::new();
        v.page(i.max_results, i.next_token.as_ref());
        v.filters("filters", i.filters.as_ref());
        v.finish()?;
        let preds = predicates(
            i.filters.as_deref().unwrap_or_default(),
            &[
                ("creationTime", Kind::Time),
                ("impact", Kind::Ints),
                ("status", Kind::Strings),
                ("createdBy", Kind::Strings),
            ],
        )?;
        let mut hits: Vec<&Incident> = self
            .incidents
            .values()
            .filter(|inc| {
                preds.iter().all(|(key, p)| match *key {
                    "creationTime" => p.time(inc.creation_ms),
                    "impact" => p.int(inc.impact),
                    "status" => p.string(&inc.status),
                    _ => p.string(&inc.source.created_by),
                })
            })
            .collect();
        // Newest first.
        hits.sort_by_key(|inc| std::cmp::Reverse((inc.creation_ms, inc.seq)));
        let keyed = hits
            .into_iter()
            .map(|inc| (key_int(inc.creation_ms) + &key_seq(inc.seq), inc))
            .collect();
        let (page, next) = paginate(
            keyed,
            false,
            "ListIncidentRecords",
            i.next_token.as_ref(),
            i.max_results,
        )?;
        let summaries: Vec<Value> = page
            .into_iter()
            .map(|inc| {
                json!({
                    "arn": inc.arn,
                    "creationTime": ms_to_json(inc.creation_ms),
                    "impact": inc.impact,
                    "incidentRecordSource": source_json(&inc.source),
                    "resolvedTime": inc.resolved_ms.map(ms_to_json),
                    "status": inc.status,
                    "title": inc.title,
                })
            })
            .collect();
        Ok(Reply::ok(
            json!({ "incidentRecordSummaries": summaries, "nextToken": next }),
        ))
    }

    fn update_incident_record(&mut self, ctx: &Ctx, i: UpdateIncidentRecordInput) -> Result<Reply, ApiError> {
        let mut v = V::new();
        v.client_token(i.client_token.as_ref());
        v.required("arn", i.arn.as_ref());
        v.arn("arn", i.arn.as_ref());
        v.title("title", i.title.as_ref());
        v.summary("summary", i.summary.as_ref());
        v.impact("impact", i.impact);
        v.one_of("status", i.status.as_ref(), &["OPEN", "RESOLVED"]);
        v.chat_channel("chatChannel", i.chat_channel.as_ref());
        v.notification_targets("notificationTargets", i.notification_targets.as_ref());
        v.finish()?;
        let arn = required(i.arn)?;
        let inc = self.incident_mut(&arn)?;
        if let Some(t) = i.title {
            inc.title = t;
        }
        if let Some(s) = i.summary {
            inc.summary = Some(s);
        }
        if let Some(n) = i.impact {
            inc.impact = n;
        }
        if let Some(c) = i.chat_channel {
            // `empty` removes the chat channel.
            inc.chat_channel = c.chatbot_sns.is_some().then_some(c);
        }
        if let Some(t) = i.notification_targets {
            inc.notification_targets = t;
        }
        if let Some(s) = i.status {
            match s.as_str() {
                "RESOLVED" if inc.resolved_ms.is_none() => inc.resolved_ms = Some(ctx.now_ms),
                "OPEN" => inc.resolved_ms = None,
                _ => {}
            }
            inc.status = s;
        }
        inc.last_modified_ms = ctx.now_ms;
        inc.last_modified_by = ctx.caller_arn.clone();
        Ok(Reply::no_content())
    }

    fn delete_incident_record(&mut self, i: ArnInput) -> Result<Reply, ApiError> {
        let arn = required_arn("arn", i.arn)?;
        // The model has no not-found error here: deleting is idempotent.
        self.incidents.remove(&arn);
        self.tags.remove(&arn);
        Ok(Reply::no_content())
    }

    // ---- timeline ----

    fn create_timeline_event(&mut self, ctx: &Ctx, i: CreateTimelineEventInput) -> Result<Reply, ApiError> {
        let mut v = V::new();
        v.client_token(i.client_token.as_ref());
        v.required("incidentRecordArn", i.incident_record_arn.as_ref());
        v.arn("incidentRecordArn", i.incident_record_arn.as_ref());
        v.required("eventTime", i.event_time.as_ref());
        v.required("eventType", i.event_type.as_ref());
        v.len("eventType", i.event_type.as_ref(), 0, 100);
        check_event_type(&mut v, i.event_type.as_ref());
        v.required("eventData", i.event_data.as_ref());
        v.len("eventData", i.event_data.as_ref(), 0, 12_000);
        v.event_references("eventReferences", i.event_references.as_ref());
        let time_ms = check_time(&mut v, "eventTime", i.event_time);
        v.finish()?;
        let arn = required(i.incident_record_arn)?;
        let seq = self.next_seq();
        let inc = self.incident_mut(&arn)?;
        let id = uuid();
        inc.events.push(Event {
            id: id.clone(),
            seq,
            time_ms: time_ms.unwrap_or(ctx.now_ms),
            updated_ms: ctx.now_ms,
            event_type: required(i.event_type)?,
            data: required(i.event_data)?,
            references: i.event_references,
        });
        Ok(Reply::created(json!({ "eventId": id, "incidentRecordArn": arn })))
    }

    fn get_timeline_event(&self, i: EventIdInput) -> Result<Reply, ApiError> {
        let (arn, id) = event_ids(i)?;
        let inc = self.incident(&arn)?;
        let ev = inc
            .events
            .iter()
            .find(|e| e.id == id)
            .ok_or_else(|| ApiError::not_found(ResourceType::TimelineEvent, &id))?;
        Ok(Reply::ok(json!({ "event": event_json(&arn, ev, true) })))
    }

    fn list_timeline_events(&self, i: ListTimelineEventsInput) -> Result<Reply, ApiError> {
        let mut v = V::new();
        v.required("incidentRecordArn", i.incident_record_arn.as_ref());
        v.arn("incidentRecordArn", i.incident_record_arn.as_ref());
        v.page(i.max_results, i.next_token.as_ref());
        v.filters("filters", i.filters.as_ref());
        v.one_of("sortBy", i.sort_by.as_ref(), &["EVENT_TIME"]);
        v.one_of("sortOrder", i.sort_order.as_ref(), &["ASCENDING", "DESCENDING"]);
        v.finish()?;
        let preds = predicates(
            i.filters.as_deref().unwrap_or_default(),
            &[
                ("eventTime", Kind::Time),
                ("eventType", Kind::Strings),
                ("eventReference", Kind::Strings),
            ],
        )?;
        let arn = required(i.incident_record_arn)?;
        let inc = self.incident(&arn)?;
        // Newest first unless asked otherwise, as the service lists them.
        let asc = i.sort_order.as_deref() == Some("ASCENDING");
        let mut hits: Vec<&Event> = inc
            .events
            .iter()
            .filter(|e| {
                preds.iter().all(|(key, p)| match *key {
                    "eventTime" => p.time(e.time_ms),
                    "eventType" => p.string(&e.event_type),
                    _ => e.references.iter().flatten().any(|r| {
                        r.resource.as_deref().is_some_and(|x| p.string(x))
                            || r.related_item_id.as_deref().is_some_and(|x| p.string(x))
                    }),
                })
            })
            .collect();
        hits.sort_by_key(|e| (e.time_ms, e.seq));
        if !asc {
            hits.reverse();
        }
        let keyed = hits
            .into_iter()
            .map(|e| (key_int(e.time_ms) + &key_seq(e.seq), e))
            .collect();
        let scope = format!(
            "ListTimelineEvents|{arn}|{}",
            if asc { "ASCENDING" } else { "DESCENDING" }
        );
        let (page, next) = paginate(keyed, asc, &scope, i.next_token.as_ref(), i.max_results)?;
        let summaries: Vec<Value> = page.into_iter().map(|e| event_json(&arn, e, false)).collect();
        Ok(Reply::ok(
            json!({ "eventSummaries": summaries, "nextToken": next }),
        ))
    }

    fn update_timeline_event(&mut self, ctx: &Ctx, i: UpdateTimelineEventInput) -> Result<Reply, ApiError> {
        let mut v = V::new();
        v.client_token(i.client_token.as_ref());
        v.required("incidentRecordArn", i.incident_record_arn.as_ref());
        v.arn("incidentRecordArn", i.incident_record_arn.as_ref());
        v.required("eventId", i.event_id.as_ref());
        v.len("eventId", i.event_id.as_ref(), 0, 50);
        v.len("eventType", i.event_type.as_ref(), 0, 100);
        check_event_type(&mut v, i.event_type.as_ref());
        v.len("eventData", i.event_data.as_ref(), 0, 12_000);
        v.event_references("eventReferences", i.event_references.as_ref());
        let time_ms = check_time(&mut v, "eventTime", i.event_time);
        v.finish()?;
        let arn = required(i.incident_record_arn)?;
        let id = required(i.event_id)?;
        let inc = self.incident_mut(&arn)?;
        let ev = inc
            .events
            .iter_mut()
            .find(|e| e.id == id)
            .ok_or_else(|| ApiError::not_found(ResourceType::TimelineEvent, &id))?;
        if let Some(t) = time_ms {
            ev.time_ms = t;
        }
        if let Some(t) = i.event_type {
            ev.event_type = t;
        }
        if let Some(d) = i.event_data {
            ev.data = d;
        }
        if let Some(r) = i.event_references {
            // Replaces every reference, as documented.
            ev.references = Some(r);
        }
        ev.updated_ms = ctx.now_ms;
        Ok(Reply::no_content())
    }

    fn delete_timeline_event(&mut self, i: EventIdInput) -> Result<Reply, ApiError> {
        let (arn, id) = event_ids(i)?;
        let inc = self.incident_mut(&arn)?;
        // No not-found error in the model for the event: deleting is idempotent.
        inc.events.retain(|e| e.id != id);
        Ok(Reply::no_content())
    }

    // ---- related items ----

    fn list_related_items(&self, i: ListRelatedItemsInput) -> Result<Reply, ApiError> {
        let mut v = V::new();
        v.required("incidentRecordArn", i.incident_record_arn.as_ref());
        v.arn("incidentRecordArn", i.incident_record_arn.as_ref());
        v.page(i.max_results, i.next_token.as_ref());
        v.finish()?;
        let arn = required(i.incident_record_arn)?;
        let inc = self.incident(&arn)?;
        let keyed = inc.items.iter().map(|x| (key_seq(x.seq), x)).collect();
        let scope = format!("ListRelatedItems|{arn}");
        let (page, next) = paginate(keyed, true, &scope, i.next_token.as_ref(), i.max_results)?;
        let items: Vec<Value> = page
            .into_iter()
            .map(|x| serde_json::to_value(&x.item).unwrap_or(Value::Null))
            .collect();
        Ok(Reply::ok(json!({ "relatedItems": items, "nextToken": next })))
    }

    fn update_related_items(&mut self, i: UpdateRelatedItemsInput) -> Result<Reply, ApiError> {
        let mut v = V::new();
        v.client_token(i.client_token.as_ref());
        v.required("incidentRecordArn", i.incident_record_arn.as_ref());
        v.arn("incidentRecordArn", i.incident_record_arn.as_ref());
        v.required("relatedItemsUpdate", i.related_items_update.as_ref());
        if let Some(u) = &i.related_items_update {
            let set = usize::from(u.item_to_add.is_some()) + usize::from(u.item_to_remove.is_some());
            v.union("relatedItemsUpdate", set);
            if let Some(item) = &u.item_to_add {
                v.related_item("relatedItemsUpdate.itemToAdd", item);
            }
            if let Some(id) = &u.item_to_remove {
                v.item_identifier("relatedItemsUpdate.itemToRemove", id);
            }
        }
        v.finish()?;
        let arn = required(i.incident_record_arn)?;
        let update = required(i.related_items_update)?;
        let seq = self.next_seq();
        let inc = self.incident_mut(&arn)?;
        if let Some(item) = update.item_to_add {
            let id = item.identifier.clone().unwrap_or_default();
            if inc.items.iter().any(|x| same_identifier(&x.item, &id)) {
                return Err(ApiError::conflict(
                    "A related item with the same type and value already exists",
                    Some((ResourceType::IncidentRecord, arn)),
                ));
            }
            inc.items.push(Item {
                seq,
                item: with_generated_id(item),
            });
        } else if let Some(id) = update.item_to_remove {
            let before = inc.items.len();
            inc.items.retain(|x| !same_identifier(&x.item, &id));
            if inc.items.len() == before {
                return Err(ApiError::new(
                    ErrorKind::NotFound,
                    "The related item to remove does not exist",
                ));
            }
        }
        Ok(Reply::no_content())
    }

    // ---- response plans ----

    fn create_response_plan(&mut self, ctx: &Ctx, i: CreateResponsePlanInput) -> Result<Reply, ApiError> {
        let mut v = V::new();
        v.client_token(i.client_token.as_ref());
        v.required("name", i.name.as_ref());
        v.len("name", i.name.as_ref(), 1, 200);
        v.pattern(
            "name",
            i.name.as_ref(),
            validate::is_plan_name,
            validate::PLAN_NAME_PATTERN,
        );
        v.len("displayName", i.display_name.as_ref(), 0, 200);
        if v.required("incidentTemplate", i.incident_template.as_ref())
            && let Some(t) = &i.incident_template
        {
            v.template("incidentTemplate", t);
        }
        v.chat_channel("chatChannel", i.chat_channel.as_ref());
        v.engagements("engagements", i.engagements.as_ref());
        v.actions("actions", i.actions.as_ref());
        v.integrations("integrations", i.integrations.as_ref());
        v.tags("tags", i.tags.as_ref(), 1);
        v.finish()?;
        let name = required(i.name)?;
        let arn = format!(
            "arn:{}:ssm-incidents::{}:response-plan/{}",
            ctx.partition(),
            ctx.account,
            name
        );
        if self.plans.contains_key(&arn) {
            return Err(ApiError::conflict(
                format!("Response plan {name} already exists"),
                Some((ResourceType::ResponsePlan, arn)),
            ));
        }
        self.plans.insert(
            arn.clone(),
            Plan {
                arn: arn.clone(),
                name,
                display_name: i.display_name,
                template: required(i.incident_template)?,
                chat_channel: i.chat_channel,
                engagements: i.engagements,
                actions: i.actions,
                integrations: i.integrations,
            },
        );
        if let Some(tags) = i.tags {
            self.tags.insert(arn.clone(), tags);
        }
        Ok(Reply::created(json!({ "arn": arn })))
    }

    fn plan(&self, arn: &str) -> Result<&Plan, ApiError> {
        self.plans
            .get(arn)
            .ok_or_else(|| ApiError::not_found(ResourceType::ResponsePlan, arn))
    }

    fn get_response_plan(&self, i: ArnInput) -> Result<Reply, ApiError> {
        let arn = required_arn("arn", i.arn)?;
        let p = self.plan(&arn)?;
        Ok(Reply::ok(json!({
            "arn": p.arn,
            "name": p.name,
            "displayName": p.display_name,
            "incidentTemplate": p.template,
            "chatChannel": p.chat_channel,
            "engagements": p.engagements,
            "actions": p.actions,
            "integrations": p.integrations,
        })))
    }

    fn list_response_plans(&self, i: PageInput) -> Result<Reply, ApiError> {
        let mut v = V::new();
        v.page(i.max_results, i.next_token.as_ref());
        v.finish()?;
        // Plans are keyed by ARN, which sorts like the name.
        let keyed = self.plans.values().map(|p| (p.name.clone(), p)).collect();
        let (page, next) = paginate(
            keyed,
            true,
            "ListResponsePlans",
            i.next_token.as_ref(),
            i.max_results,
        )?;
        let summaries: Vec<Value> = page
            .into_iter()
            .map(|p| json!({ "arn": p.arn, "name": p.name, "displayName": p.display_name }))
            .collect();
        Ok(Reply::ok(
            json!({ "responsePlanSummaries": summaries, "nextToken": next }),
        ))
    }

    fn update_response_plan(&mut self, i: UpdateResponsePlanInput) -> Result<Reply, ApiError> {
        let mut v = V::new();
        v.client_token(i.client_token.as_ref());
        v.required("arn", i.arn.as_ref());
        v.arn("arn", i.arn.as_ref());
        v.len("displayName", i.display_name.as_ref(), 0, 200);
        v.chat_channel("chatChannel", i.chat_channel.as_ref());
        v.engagements("engagements", i.engagements.as_ref());
        v.actions("actions", i.actions.as_ref());
        v.integrations("integrations", i.integrations.as_ref());
        v.title("incidentTemplateTitle", i.incident_template_title.as_ref());
        v.impact("incidentTemplateImpact", i.incident_template_impact);
        v.summary("incidentTemplateSummary", i.incident_template_summary.as_ref());
        v.dedupe_string(
            "incidentTemplateDedupeString",
            i.incident_template_dedupe_string.as_ref(),
        );
        v.notification_targets(
            "incidentTemplateNotificationTargets",
            i.incident_template_notification_targets.as_ref(),
        );
        v.tags("incidentTemplateTags", i.incident_template_tags.as_ref(), 0);
        v.finish()?;
        let arn = required(i.arn)?;
        let p = self
            .plans
            .get_mut(&arn)
            .ok_or_else(|| ApiError::not_found(ResourceType::ResponsePlan, &arn))?;
        if let Some(d) = i.display_name {
            p.display_name = Some(d);
        }
        if let Some(c) = i.chat_channel {
            p.chat_channel = c.chatbot_sns.is_some().then_some(c);
        }
        if let Some(e) = i.engagements {
            p.engagements = Some(e);
        }
        if let Some(a) = i.actions {
            p.actions = Some(a);
        }
        if let Some(x) = i.integrations {
            p.integrations = Some(x);
        }
        let t = &mut p.template;
        if let Some(x) = i.incident_template_title {
            t.title = Some(x);
        }
        if let Some(x) = i.incident_template_impact {
            t.impact = Some(x);
        }
        if let Some(x) = i.incident_template_summary {
            t.summary = Some(x);
        }
        if let Some(x) = i.incident_template_dedupe_string {
            t.dedupe_string = Some(x);
        }
        if let Some(x) = i.incident_template_notification_targets {
            t.notification_targets = Some(x);
        }
        if let Some(x) = i.incident_template_tags {
            // An empty map clears the template's tags (TagMapUpdate allows 0).
            t.incident_tags = (!x.is_empty()).then_some(x);
        }
        Ok(Reply::no_content())
    }

    fn delete_response_plan(&mut self, i: ArnInput) -> Result<Reply, ApiError> {
        let arn = required_arn("arn", i.arn)?;
        // No not-found error in the model: deleting is idempotent.
        self.plans.remove(&arn);
        self.tags.remove(&arn);
        Ok(Reply::no_content())
    }

    // ---- tags ----

    fn check_taggable(&self, arn: &str) -> Result<(), ApiError> {
        if self.plans.contains_key(arn) || self.incidents.contains_key(arn) {
            return Ok(());
        }
        let rt = if arn.contains(":response-plan/") {
            ResourceType::ResponsePlan
        } else {
            ResourceType::IncidentRecord
        };
        Err(ApiError::not_found(rt, arn))
    }

    fn tag_resource(&mut self, i: TagResourceInput) -> Result<Reply, ApiError> {
        let mut v = V::new();
        v.required("resourceArn", i.resource_arn.as_ref());
        v.required("tags", i.tags.as_ref());
        v.tags("tags", i.tags.as_ref(), 1);
        v.finish()?;
        let arn = required(i.resource_arn)?;
        self.check_taggable(&arn)?;
        let mut merged = self.tags.get(&arn).cloned().unwrap_or_default();
        merged.extend(required(i.tags)?);
        if merged.len() > MAX_TAGS {
            return Err(ApiError::quota(
                format!("A resource can have at most {MAX_TAGS} tags"),
                "tags-per-resource",
            ));
        }
        self.tags.insert(arn, merged);
        Ok(Reply::no_content())
    }

    fn untag_resource(&mut self, i: UntagResourceInput) -> Result<Reply, ApiError> {
        let mut v = V::new();
        v.required("resourceArn", i.resource_arn.as_ref());
        if v.required("tagKeys", i.tag_keys.as_ref())
            && let Some(keys) = &i.tag_keys
        {
            v.tag_keys("tagKeys", keys);
        }
        v.finish()?;
        let arn = required(i.resource_arn)?;
        self.check_taggable(&arn)?;
        if let Some(tags) = self.tags.get_mut(&arn) {
            for k in i.tag_keys.iter().flatten() {
                tags.remove(k);
            }
        }
        Ok(Reply::no_content())
    }

    fn list_tags_for_resource(&self, i: ResourceArnInput) -> Result<Reply, ApiError> {
        let mut v = V::new();
        v.required("resourceArn", i.resource_arn.as_ref());
        v.finish()?;
        let arn = required(i.resource_arn)?;
        self.check_taggable(&arn)?;
        let tags = self.tags.get(&arn).cloned().unwrap_or_default();
        Ok(Reply::ok(json!({ "tags": tags })))
    }
}

// ---- helpers ----

fn parse<T: DeserializeOwned>(input: &Value) -> Result<T, ApiError> {
    serde_json::from_value(input.clone())
        .map_err(|e| ApiError::validation(format!("Could not read the request: {e}")))
}

/// Unwraps a member the validator already required.
fn required<T>(v: Option<T>) -> Result<T, ApiError> {
    v.ok_or_else(|| ApiError::validation("A required member is missing"))
}

fn required_arn(name: &str, v: Option<String>) -> Result<String, ApiError> {
    let mut val = V::new();
    val.required(name, v.as_ref());
    val.arn(name, v.as_ref());
    val.finish()?;
    required(v)
}

fn event_ids(i: EventIdInput) -> Result<(String, String), ApiError> {
    let mut v = V::new();
    v.required("incidentRecordArn", i.incident_record_arn.as_ref());
    v.arn("incidentRecordArn", i.incident_record_arn.as_ref());
    v.required("eventId", i.event_id.as_ref());
    v.len("eventId", i.event_id.as_ref(), 0, 50);
    v.finish()?;
    Ok((required(i.incident_record_arn)?, required(i.event_id)?))
}

fn check_event_type(v: &mut V, t: Option<&String>) {
    if let Some(t) = t
        && !CLIENT_EVENT_TYPES.contains(&t.as_str())
    {
        v.custom(format!(
            "eventType '{t}' is not supported: timeline events can be of type Custom Event or Note"
        ));
    }
}

fn check_time(v: &mut V, path: &str, t: Option<f64>) -> Option<i64> {
    let t = t?;
    let ms = seconds_to_ms(t);
    if ms.is_none() {
        v.custom(format!("{path} is not a valid timestamp"));
    }
    ms
}

fn with_generated_id(mut item: RelatedItem) -> RelatedItem {
    let t = item
        .identifier
        .as_ref()
        .and_then(|i| i.item_type.clone())
        .unwrap_or_else(|| "OTHER".to_string());
    // Assigned by the service; a caller-supplied one is not kept.
    item.generated_id = Some(format!("related-item/{t}/{}", hex32_upper()));
    item
}

fn same_identifier(item: &RelatedItem, id: &ItemIdentifier) -> bool {
    item.identifier.as_ref().is_some_and(|x| x == id)
}

fn source_json(s: &Source) -> Value {
    json!({
        "createdBy": s.created_by,
        "invokedBy": s.invoked_by,
        "resourceArn": s.resource_arn,
        "source": s.source,
    })
}

fn incident_json(inc: &Incident) -> Value {
    let executions: Vec<Value> = inc
        .automation_executions
        .iter()
        .map(|a| json!({ "ssmExecutionArn": a }))
        .collect();
    json!({
        "arn": inc.arn,
        "automationExecutions": executions,
        "chatChannel": inc.chat_channel,
        "creationTime": ms_to_json(inc.creation_ms),
        "dedupeString": inc.dedupe_string,
        "impact": inc.impact,
        "incidentRecordSource": source_json(&inc.source),
        "lastModifiedBy": inc.last_modified_by,
        "lastModifiedTime": ms_to_json(inc.last_modified_ms),
        "notificationTargets": inc.notification_targets,
        "resolvedTime": inc.resolved_ms.map(ms_to_json),
        "status": inc.status,
        "summary": inc.summary,
        "title": inc.title,
    })
}

fn event_json(arn: &str, e: &Event, with_data: bool) -> Value {
    json!({
        "eventId": e.id,
        "eventTime": ms_to_json(e.time_ms),
        "eventType": e.event_type,
        "eventUpdatedTime": ms_to_json(e.updated_ms),
        "incidentRecordArn": arn,
        "eventReferences": e.references,
        "eventData": with_data.then_some(&e.data),
    })
}

// ---- filters ----

#[derive(Debug, Clone, Copy)]
enum Kind {
    Time,
    Ints,
    Strings,
}

#[derive(Debug)]
enum Pred {
    After(i64),
    Before(i64),
    Ints(Vec<i64>),
    Strings(Vec<String>),
}

impl Pred {
    fn time(&self, ms: i64) -> bool {
        match self {
            Pred::After(t) => ms > *t,
            Pred::Before(t) => ms < *t,
            _ => false,
        }
    }

    fn int(&self, n: i64) -> bool {
        matches!(self, Pred::Ints(v) if v.contains(&n))
    }

    fn string(&self, s: &str) -> bool {
        matches!(self, Pred::Strings(v) if v.iter().any(|x| x == s))
    }
}

/// Turns the (already shape-checked) filters into predicates, checking each
/// key is supported and its condition fits the key's type.
fn predicates(
    filters: &[Filter],
    keys: &[(&'static str, Kind)],
) -> Result<Vec<(&'static str, Pred)>, ApiError> {
    let supported = keys.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ");
    filters
        .iter()
        .map(|f| {
            let key = f.key.as_deref().unwrap_or_default();
            let (name, kind) = keys.iter().find(|(k, _)| *k == key).ok_or_else(|| {
                ApiError::validation(format!(
                    "Filter key '{key}' is not supported; supported keys: {supported}"
                ))
            })?;
            let c = f.condition.clone().unwrap_or_default();
            let eq = c.equals.unwrap_or_default();
            let bad = || {
                let want = match kind {
                    Kind::Time => "a before or after condition",
                    Kind::Ints => "an equals condition with integerValues",
                    Kind::Strings => "an equals condition with stringValues",
                };
                ApiError::validation(format!("Filter key '{key}' takes {want}"))
            };
            let to_ms = |s: f64| {
                seconds_to_ms(s)
                    .ok_or_else(|| ApiError::validation(format!("Filter '{key}' has a bad timestamp")))
            };
            let pred = match kind {
                Kind::Time => match (c.after, c.before) {
                    (Some(a), None) => Pred::After(to_ms(a)?),
                    (None, Some(b)) => Pred::Before(to_ms(b)?),
                    _ => return Err(bad()),
                },
                Kind::Ints => Pred::Ints(eq.integer_values.ok_or_else(bad)?),
                Kind::Strings => Pred::Strings(eq.string_values.ok_or_else(bad)?),
            };
            Ok((*name, pred))
        })
        .collect()
}

// ---- pagination ----

/// Sort keys as strings whose byte order is the tuple order, so one cursor
/// type serves every list.
fn key_int(v: i64) -> String {
    format!("{:020}", i128::from(v) - i128::from(i64::MIN))
}

fn key_seq(s: u64) -> String {
    format!("{s:020}")
}

/// One page of `items` (already in output order, keyed by their sort key).
/// The token names the list it belongs to and the last key returned, so the
/// next page starts after it even if items were added or removed meanwhile.
fn paginate<T>(
    items: Vec<(String, T)>,
    asc: bool,
    scope: &str,
    token: Option<&String>,
    max_results: Option<i64>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let max = max_results
        .and_then(|m| usize::try_from(m).ok())
        .unwrap_or(DEFAULT_PAGE);
    let start = match token {
        None => 0,
        Some(t) => {
            let bad = || ApiError::validation("The nextToken is not valid");
            let raw = hex_decode(t).ok_or_else(bad)?;
            let raw = String::from_utf8(raw).map_err(|_| bad())?;
            let mut parts = raw.splitn(3, '\n');
            let (Some("v1"), Some(s), Some(cursor)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(bad());
            };
            if s != scope {
                return Err(bad());
            }
            items
                .iter()
                .position(|(k, _)| {
                    if asc {
                        k.as_str() > cursor
                    } else {
                        k.as_str() < cursor
                    }
                })
                .unwrap_or(items.len())
        }
    };
    let total = items.len();
    let page: Vec<(String, T)> = items.into_iter().skip(start).take(max).collect();
    let next = (start + page.len() < total)
        .then(|| {
            page.last()
                .map(|(k, _)| hex_encode(format!("v1\n{scope}\n{k}").as_bytes()))
        })
        .flatten();
    Ok((page.into_iter().map(|(_, t)| t).collect(), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_keys_sort_like_numbers() {
        let mut v = [5_i64, -3, 0, i64::MAX, i64::MIN, 1_700_000_000_000];
        let mut keys: Vec<String> = v.iter().map(|n| key_int(*n)).collect();
        keys.sort();
        v.sort_unstable();
        assert_eq!(keys, v.iter().map(|n| key_int(*n)).collect::<Vec<_>>());
    }

    #[test]
    fn paginate_walks_every_item_once_and_rejects_foreign_tokens() {
        let items = |n: u64| (1..=n).map(|i| (key_seq(i), i)).collect::<Vec<_>>();
        let mut seen = Vec::new();
        let mut token = None;
        loop {
            let (page, next) = paginate(items(7), true, "s", token.as_ref(), Some(3)).unwrap();
            seen.extend(page);
            match next {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        assert_eq!(seen, (1..=7).collect::<Vec<_>>());
        let (_, next) = paginate(items(7), true, "s", None, Some(3)).unwrap();
        assert!(paginate(items(7), true, "other", next.as_ref(), Some(3)).is_err());
        assert!(paginate(items(7), true, "s", Some(&"zz".to_string()), None).is_err());
    }
}
