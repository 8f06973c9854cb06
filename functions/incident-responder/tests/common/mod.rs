//! The responder against moto (DynamoDB, SNS, SQS) and the Incident Manager
//! emulator, each test with its own table, topics, queues and emulator.

#![allow(dead_code)]

use std::time::Duration;

use aws_sdk_ssmincidents::types::{
    ChatChannel, IncidentTemplate, ItemIdentifier, ItemType, ItemValue, RelatedItem, TimelineEvent,
};
use incident_responder::sources::GenericSources;
use incident_responder::{Config, Responder};
use jiff::Timestamp;
use serde_json::{Value, json};
use support_plans_aws::calls::CallLog;
use support_plans_aws::incidents::IncidentManager;
use support_plans_domain::ports::{PlanStore as _, WorkloadStore as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

pub const RDS: &str = "arn:aws:rds:us-east-1:111122223333:db:payments-main";

/// The sample plans the payments workload relies on: one note each.
pub const PAYMENTS_PLANS: usize = 4;

/// The runbook's call for the incident `arn`, naming the payments database.
pub fn runbook(arn: &str) -> Value {
    json!({"incident_record_arn": arn, "involved_resources": [RDS]})
}

/// EventBridge's CloudTrail event for `StartIncident` of `arn` with the response plan `plan`.
pub fn cloudtrail(arn: &str, plan: &str) -> Value {
    json!({
        "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "AWS API Call via CloudTrail", "source": "aws.ssm-incidents",
        "account": "111122223333", "time": "2026-11-21T10:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {"eventSource": "ssm-incidents.amazonaws.com", "eventName": "StartIncident",
                   "requestParameters": {"responsePlanArn": plan}, "responseElements": {"incidentRecordArn": arn}}
    })
}

pub struct World {
    pub responder: Responder,
    pub im: aws_sdk_ssmincidents::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub emulator: incident_manager_emulator::Running,
    /// The response plan's chat topic and the queue subscribed to it.
    pub chat_topic: String,
    pub chat_queue: String,
    /// `INCIDENT_TOPIC_ARN` and its queue.
    pub incident_topic: String,
    pub incident_queue: String,
    pub response_plan_arn: String,
    /// Every SDK call the responder made (not the test's own).
    pub calls: CallLog,
    /// With [`World::with_latency`]: the proxies between the responder and the stack.
    proxies: Vec<support_plans_tests::proxy::ProxyHandle>,
}

impl World {
    /// The samples loaded (aged as seed.json says), a response plan
    /// `payments-critical` chatting to a topic, and a responder wired to it all.
    pub async fn new() -> Self {
        Self::build(None).await
    }

    /// As [`World::new`], with every request of the responder (to moto and
    /// to the emulator) held `delay` on its way: each round trip costs at
    /// least `delay`, so the calls' overlaps show which waited for which.
    pub async fn with_latency(delay: Duration) -> Self {
        Self::build(Some(delay)).await
    }

    async fn build(delay: Option<Duration>) -> Self {
        let store = support_plans_tests::fresh_store().await;
        let samples = local_stack::seed::load(&local_stack::seed::samples_dir(), Timestamp::now()).unwrap();
        for p in &samples.plans {
            store.create_plan(p).await.unwrap();
        }
        for w in &samples.workloads {
            store.create_workload(w).await.unwrap();
        }
        let config = support_plans_tests::local_config().await;
        let sns = aws_sdk_sns::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        let unique = store.table().to_owned();
        let (chat_topic, chat_queue) =
            support_plans_tests::topic_with_queue(&sns, &sqs, &format!("{unique}-chat")).await;
        let (incident_topic, incident_queue) =
            support_plans_tests::topic_with_queue(&sns, &sqs, &format!("{unique}-incidents")).await;

        let emulator = incident_manager_emulator::spawn(Default::default())
            .await
            .unwrap();
        let retry = aws_config::retry::RetryConfig::standard()
            .with_max_attempts(5)
            .with_initial_backoff(Duration::from_millis(20));
        let im_config = support_plans_aws::sdk::loader()
            .endpoint_url(emulator.endpoint_url())
            .retry_config(retry)
            .load()
            .await;
        let im = aws_sdk_ssmincidents::Client::new(&im_config);
        let template = IncidentTemplate::builder()
            .title("Payments incident")
            .impact(1)
            .build()
            .unwrap();
        let plan = im
            .create_response_plan()
            .name("payments-critical")
            .incident_template(template)
            .chat_channel(ChatChannel::ChatbotSns(vec![chat_topic.clone()]))
            .send()
            .await
            .unwrap();

        let mut proxies = Vec::new();
        let mut responder_config = config.clone();
        let mut responder_im_config = im_config.clone();
        if let Some(delay) = delay {
            let moto = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL is set");
            let (url, proxy) = support_plans_tests::proxy::latency_proxy(&moto, delay).await;
            proxies.push(proxy);
            // Loaded again: an endpoint set on the loader wins over AWS_ENDPOINT_URL.
            responder_config = support_plans_aws::sdk::loader().endpoint_url(url).load().await;
            let (url, proxy) =
                support_plans_tests::proxy::latency_proxy(&emulator.endpoint_url(), delay).await;
            proxies.push(proxy);
            responder_im_config = im_config.to_builder().endpoint_url(url).build();
        }

        let calls = CallLog::default();
        let options = Config {
            table: store.table().to_owned(),
            settings: support_plans_domain::pipeline::Settings {
                // No responded-link key in these tests' stack.
                responded_url: None,
                ..support_plans_domain::testing::settings(&incident_topic)
            },
            responded_keys: None,
            // tests/sources.rs relies on these: two sources, 20 a minute each.
            generic: GenericSources::new(["support-plans.incidents", "acme.pager"], 20).unwrap(),
            pagerduty: incident_responder::config::PagerDuty::NotConfigured("not in these tests".into()),
        };
        let mut responder = Responder::from_config(&responder_config, Some(&calls), options);
        // The emulator is not the configured endpoint: its client is built here.
        let im_recorded = aws_sdk_ssmincidents::config::Builder::from(&responder_im_config)
            .interceptor(calls.interceptor())
            .build();
        let im_adapter = IncidentManager::new(aws_sdk_ssmincidents::Client::from_conf(im_recorded));
        responder.pipeline.source.manager = im_adapter.clone();
        responder.pipeline.sink.manager = im_adapter;
        Self {
            responder,
            im,
            sqs,
            emulator,
            chat_topic,
            chat_queue,
            incident_topic,
            incident_queue,
            response_plan_arn: plan.arn,
            calls,
            proxies,
        }
    }

    /// Starts an incident with the AWS SDK; returns its ARN.
    pub async fn start_incident(&self, title: &str, impact: i32, resources: &[&str]) -> String {
        let mut req = self
            .im
            .start_incident()
            .response_plan_arn(&self.response_plan_arn)
            .title(title)
            .impact(impact);
        for r in resources {
            let id = ItemIdentifier::builder()
                .r#type(ItemType::InvolvedResource)
                .value(ItemValue::Arn((*r).to_owned()))
                .build()
                .unwrap();
            req = req.related_items(RelatedItem::builder().identifier(id).build());
        }
        req.send().await.unwrap().incident_record_arn
    }

    pub async fn handle(&self, event: &Value) -> Result<Value, String> {
        self.responder
            .handle(event, Timestamp::now())
            .await
            .map_err(|e| e.to_string())
    }

    /// The incident's `Note` timeline events.
    pub async fn notes(&self, arn: &str) -> Vec<TimelineEvent> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .im
                .list_timeline_events()
                .incident_record_arn(arn)
                .max_results(100)
                .set_next_token(token)
                .send()
                .await
                .unwrap();
            out.extend(
                page.event_summaries
                    .into_iter()
                    .filter(|e| e.event_type == "Note")
                    .map(|e| e.event_id),
            );
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        let mut events = Vec::new();
        for id in out {
            let e = self
                .im
                .get_timeline_event()
                .incident_record_arn(arn)
                .event_id(id)
                .send()
                .await
                .unwrap();
            events.push(e.event.unwrap());
        }
        events
    }

    /// URLs of the incident's related items of type OTHER.
    pub async fn links(&self, arn: &str) -> Vec<(String, String)> {
        let out = self
            .im
            .list_related_items()
            .incident_record_arn(arn)
            .send()
            .await
            .unwrap();
        out.related_items
            .into_iter()
            .filter_map(|i| {
                let id = i.identifier?;
                match (id.r#type, id.value) {
                    (ItemType::Other, Some(ItemValue::Url(u))) => Some((i.title.unwrap_or_default(), u)),
                    _ => None,
                }
            })
            .collect()
    }

    /// Every message delivered to a queue so far (the SNS envelopes' `Message`).
    pub async fn drain(&self, queue: &str) -> Vec<Value> {
        let mut messages = Vec::new();
        loop {
            let out = self
                .sqs
                .receive_message()
                .queue_url(queue)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap();
            let batch = out.messages.unwrap_or_default();
            if batch.is_empty() {
                return messages;
            }
            for m in batch {
                let envelope: Value = serde_json::from_str(m.body().unwrap()).unwrap();
                messages.push(serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap());
                self.sqs
                    .delete_message()
                    .queue_url(queue)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    /// Calls the emulator's admin API.
    pub async fn admin(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(self.emulator.addr())
            .await
            .unwrap();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }
}
