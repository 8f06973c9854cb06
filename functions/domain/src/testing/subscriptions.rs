//! An in-memory SNS for subscription upkeep: `email` subscriptions pending
//! until [`FakeSns::confirm`], listed as SNS lists them, every call counted.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::reminders::subscriptions::{Listed, SnsError, Subscriptions, Topic};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeSubscription {
    pub topic: Topic,
    pub arn: String,
    pub protocol: String,
    pub endpoint: String,
    pub filter_policy: Option<String>,
    pub confirmed: bool,
}

#[derive(Debug, Default)]
struct Inner {
    subs: Vec<FakeSubscription>,
    calls: BTreeMap<&'static str, usize>,
    next: usize,
    fail_list: bool,
}

/// `Clone` shares the subscriptions.
#[derive(Debug, Clone, Default)]
pub struct FakeSns {
    inner: Arc<Mutex<Inner>>,
}

impl FakeSns {
    pub fn new() -> Self {
        Self::default()
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A subscription made by hand (confirmed), as an operator would.
    pub fn by_hand(&self, topic: Topic, endpoint: &str, filter_policy: Option<&str>) -> String {
        let mut i = self.inner();
        i.next += 1;
        let arn = format!("arn:aws:sns:eu-west-1:123456789012:{topic}:hand-{}", i.next);
        i.subs.push(FakeSubscription {
            topic,
            arn: arn.clone(),
            protocol: "email".into(),
            endpoint: endpoint.into(),
            filter_policy: filter_policy.map(str::to_owned),
            confirmed: true,
        });
        arn
    }

    /// The owner follows SNS's confirmation link.
    pub fn confirm(&self, topic: Topic, endpoint: &str) {
        for s in self.inner().subs.iter_mut() {
            if s.topic == topic && s.endpoint == endpoint {
                s.confirmed = true;
            }
        }
    }

    /// SNS drops an unconfirmed subscription after three days.
    pub fn expire_pending(&self) {
        self.inner().subs.retain(|s| s.confirmed);
    }

    pub fn fail_listing(&self, fail: bool) {
        self.inner().fail_list = fail;
    }

    pub fn subscriptions(&self, topic: Topic) -> Vec<FakeSubscription> {
        self.inner()
            .subs
            .iter()
            .filter(|s| s.topic == topic)
            .cloned()
            .collect()
    }

    /// Calls by action, since the last [`FakeSns::reset_calls`].
    pub fn calls(&self) -> BTreeMap<&'static str, usize> {
        self.inner().calls.clone()
    }

    pub fn total_calls(&self) -> usize {
        self.inner().calls.values().sum()
    }

    pub fn reset_calls(&self) {
        self.inner().calls.clear();
    }
}

/// Pages of 100, like SNS.
const PAGE: usize = 100;

impl Subscriptions for FakeSns {
    async fn list(&self, topic: Topic) -> Result<(Vec<Listed>, usize), SnsError> {
        let mut i = self.inner();
        if i.fail_list {
            return Err(SnsError::Failed("throttled".into()));
        }
        let listed: Vec<Listed> = i
            .subs
            .iter()
            .filter(|s| s.topic == topic)
            .map(|s| Listed {
                arn: s.confirmed.then(|| s.arn.clone()),
                protocol: s.protocol.clone(),
                endpoint: s.endpoint.clone(),
            })
            .collect();
        let pages = listed.len().div_ceil(PAGE).max(1);
        *i.calls.entry("ListSubscriptionsByTopic").or_default() += pages;
        Ok((listed, pages))
    }

    async fn filter_policy(&self, arn: &str) -> Result<Option<String>, SnsError> {
        let mut i = self.inner();
        *i.calls.entry("GetSubscriptionAttributes").or_default() += 1;
        i.subs
            .iter()
            .find(|s| s.arn == arn)
            .map(|s| s.filter_policy.clone())
            .ok_or_else(|| SnsError::NotFound(arn.into()))
    }

    async fn subscribe(&self, topic: Topic, address: &str, filter_policy: &str) -> Result<String, SnsError> {
        let mut i = self.inner();
        *i.calls.entry("Subscribe").or_default() += 1;
        if let Some(s) = i
            .subs
            .iter()
            .find(|s| s.topic == topic && s.protocol == "email" && s.endpoint == address)
        {
            // SNS: the same attributes give the same subscription back.
            return if s.filter_policy.as_deref() == Some(filter_policy) {
                Ok(s.arn.clone())
            } else {
                Err(SnsError::Refused(
                    "Invalid parameter: Attributes Reason: Subscription already exists with different attributes"
                        .into(),
                ))
            };
        }
        i.next += 1;
        let arn = format!("arn:aws:sns:eu-west-1:123456789012:{topic}:managed-{}", i.next);
        i.subs.push(FakeSubscription {
            topic,
            arn: arn.clone(),
            protocol: "email".into(),
            endpoint: address.into(),
            filter_policy: Some(filter_policy.into()),
            confirmed: false,
        });
        Ok(arn)
    }

    async fn unsubscribe(&self, arn: &str) -> Result<(), SnsError> {
        let mut i = self.inner();
        *i.calls.entry("Unsubscribe").or_default() += 1;
        let before = i.subs.len();
        i.subs.retain(|s| s.arn != arn);
        if i.subs.len() == before {
            return Err(SnsError::NotFound(arn.into()));
        }
        Ok(())
    }
}
