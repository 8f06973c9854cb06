//! Input constraints from service-2.json (lengths, ranges, enums, patterns,
//! required members, unions), reported the way AWS front ends do:
//! "N validation error(s) detected: Value at 'path' failed to satisfy
//! constraint: ...". Patterns are hand-written matchers for the model's
//! regular expressions (no regex engine in the dependency tree).

use std::collections::BTreeMap;

use crate::model::{
    Action, ChatChannel, EventReference, Filter, IncidentTemplate, Integration, ItemIdentifier,
    NotificationTargetItem, RelatedItem, TagMap, TriggerDetails,
};
use crate::protocol::ApiError;

pub const ITEM_TYPES: [&str; 9] = [
    "ANALYSIS",
    "INCIDENT",
    "METRIC",
    "PARENT",
    "ATTACHMENT",
    "OTHER",
    "AUTOMATION",
    "INVOLVED_RESOURCE",
    "TASK",
];

const ARN_PATTERN: &str = "^arn:aws(-cn|-us-gov)?:[a-z0-9-]*:[a-z0-9-]*:([0-9]{12})?:.+$";

#[derive(Debug, Default)]
pub struct V {
    errors: Vec<String>,
}

impl V {
    pub fn new() -> Self {
        V::default()
    }

    fn fail(&mut self, path: &str, constraint: impl AsRef<str>) {
        self.errors.push(format!(
            "Value at '{path}' failed to satisfy constraint: {}",
            constraint.as_ref()
        ));
    }

    /// A constraint that is not a model shape rule (e.g. allowed event types).
    pub fn custom(&mut self, message: impl Into<String>) {
        self.errors.push(message.into());
    }

    pub fn required<T>(&mut self, path: &str, v: Option<&T>) -> bool {
        if v.is_none() {
            self.fail(path, "Member must not be null");
        }
        v.is_some()
    }

    pub fn len(&mut self, path: &str, v: Option<&String>, min: usize, max: usize) {
        if let Some(s) = v {
            let n = s.chars().count();
            if n < min {
                self.fail(
                    path,
                    format!("Member must have length greater than or equal to {min}"),
                );
            } else if n > max {
                self.fail(
                    path,
                    format!("Member must have length less than or equal to {max}"),
                );
            }
        }
    }

    pub fn range(&mut self, path: &str, v: Option<i64>, min: i64, max: i64) {
        if let Some(n) = v {
            if n < min {
                self.fail(
                    path,
                    format!("Member must have value greater than or equal to {min}"),
                );
            } else if n > max {
                self.fail(
                    path,
                    format!("Member must have value less than or equal to {max}"),
                );
            }
        }
    }

    pub fn count(&mut self, path: &str, n: Option<usize>, min: usize, max: usize) {
        if let Some(n) = n {
            if n < min {
                self.fail(
                    path,
                    format!("Member must have length greater than or equal to {min}"),
                );
            } else if n > max {
                self.fail(
                    path,
                    format!("Member must have length less than or equal to {max}"),
                );
            }
        }
    }

    pub fn one_of(&mut self, path: &str, v: Option<&String>, allowed: &[&str]) {
        if let Some(s) = v
            && !allowed.contains(&s.as_str())
        {
            self.fail(
                path,
                format!("Member must satisfy enum value set: [{}]", allowed.join(", ")),
            );
        }
    }

    pub fn pattern(&mut self, path: &str, v: Option<&String>, ok: fn(&str) -> bool, re: &str) {
        if let Some(s) = v
            && !ok(s)
        {
            self.fail(
                path,
                format!("Member must satisfy regular expression pattern: {re}"),
            );
        }
    }

    pub fn union(&mut self, path: &str, set: usize) {
        if set != 1 {
            self.fail(path, "Member must have exactly one union member set");
        }
    }

    pub fn arn(&mut self, path: &str, v: Option<&String>) {
        self.len(path, v, 0, 1000);
        self.pattern(path, v, is_arn, ARN_PATTERN);
    }

    pub fn finish(self) -> Result<(), ApiError> {
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(ApiError::validation(format!(
                "1 validation error detected: {}",
                self.errors[0]
            ))),
            n => Err(ApiError::validation(format!(
                "{n} validation errors detected: {}",
                self.errors.join("; ")
            ))),
        }
    }

    // ---- shared shapes ----

    pub fn client_token(&mut self, v: Option<&String>) {
        self.len("clientToken", v, 0, 128);
    }

    pub fn page(&mut self, max_results: Option<i64>, next_token: Option<&String>) {
        self.range("maxResults", max_results, 1, 100);
        self.len("nextToken", next_token, 0, 2000);
    }

    pub fn impact(&mut self, path: &str, v: Option<i64>) {
        self.range(path, v, 1, 5);
    }

    pub fn title(&mut self, path: &str, v: Option<&String>) {
        self.len(path, v, 0, 200);
    }

    pub fn summary(&mut self, path: &str, v: Option<&String>) {
        self.len(path, v, 0, 8000);
    }

    pub fn dedupe_string(&mut self, path: &str, v: Option<&String>) {
        self.len(path, v, 0, 1000);
    }

    pub fn related_item(&mut self, path: &str, item: &RelatedItem) {
        self.len(&format!("{path}.generatedId"), item.generated_id.as_ref(), 0, 200);
        self.pattern(
            &format!("{path}.generatedId"),
            item.generated_id.as_ref(),
            is_generated_id,
            GENERATED_ID_PATTERN,
        );
        self.title(&format!("{path}.title"), item.title.as_ref());
        let ipath = format!("{path}.identifier");
        if self.required(&ipath, item.identifier.as_ref())
            && let Some(identifier) = &item.identifier
        {
            self.item_identifier(&ipath, identifier);
        }
    }

    pub fn item_identifier(&mut self, path: &str, id: &ItemIdentifier) {
        let tpath = format!("{path}.type");
        self.required(&tpath, id.item_type.as_ref());
        self.one_of(&tpath, id.item_type.as_ref(), &ITEM_TYPES);
        let vpath = format!("{path}.value");
        if self.required(&vpath, id.value.as_ref())
            && let Some(v) = &id.value
        {
            let set = [
                v.arn.is_some(),
                v.metric_definition.is_some(),
                v.pager_duty_incident_detail.is_some(),
                v.url.is_some(),
            ];
            self.union(&vpath, set.iter().filter(|s| **s).count());
            self.arn(&format!("{vpath}.arn"), v.arn.as_ref());
            self.len(&format!("{vpath}.url"), v.url.as_ref(), 0, 1000);
            self.len(
                &format!("{vpath}.metricDefinition"),
                v.metric_definition.as_ref(),
                0,
                4000,
            );
            if let Some(pd) = &v.pager_duty_incident_detail
                && !pd.get("id").is_some_and(serde_json::Value::is_string)
            {
                self.fail(
                    &format!("{vpath}.pagerDutyIncidentDetail.id"),
                    "Member must not be null",
                );
            }
        }
    }

    pub fn related_items(&mut self, path: &str, items: Option<&Vec<RelatedItem>>) {
        if let Some(items) = items {
            self.count(path, Some(items.len()), 0, 100);
            for (i, item) in items.iter().enumerate() {
                self.related_item(&format!("{path}.{}.member", i + 1), item);
            }
        }
    }

    pub fn trigger_details(&mut self, path: &str, t: &TriggerDetails) {
        self.required(&format!("{path}.source"), t.source.as_ref());
        self.len(&format!("{path}.source"), t.source.as_ref(), 0, 50);
        self.required(&format!("{path}.timestamp"), t.timestamp.as_ref());
        self.len(&format!("{path}.rawData"), t.raw_data.as_ref(), 0, 10_000);
        self.arn(&format!("{path}.triggerArn"), t.trigger_arn.as_ref());
    }

    pub fn event_references(&mut self, path: &str, refs: Option<&Vec<EventReference>>) {
        if let Some(refs) = refs {
            self.count(path, Some(refs.len()), 0, 10);
            for (i, r) in refs.iter().enumerate() {
                let p = format!("{path}.{}.member", i + 1);
                let set = usize::from(r.related_item_id.is_some()) + usize::from(r.resource.is_some());
                self.union(&p, set);
                self.arn(&format!("{p}.resource"), r.resource.as_ref());
                self.len(&format!("{p}.relatedItemId"), r.related_item_id.as_ref(), 0, 200);
                self.pattern(
                    &format!("{p}.relatedItemId"),
                    r.related_item_id.as_ref(),
                    is_generated_id,
                    GENERATED_ID_PATTERN,
                );
            }
        }
    }

    pub fn chat_channel(&mut self, path: &str, c: Option<&ChatChannel>) {
        if let Some(c) = c {
            let set = usize::from(c.chatbot_sns.is_some()) + usize::from(c.empty.is_some());
            self.union(path, set);
            if let Some(topics) = &c.chatbot_sns {
                let p = format!("{path}.chatbotSns");
                self.count(&p, Some(topics.len()), 1, 5);
                for (i, t) in topics.iter().enumerate() {
                    self.len(&format!("{p}.{}.member", i + 1), Some(t), 0, 1000);
                }
            }
            if let Some(e) = &c.empty
                && !e.is_object()
            {
                self.fail(&format!("{path}.empty"), "Member must be a structure");
            }
        }
    }

    pub fn notification_targets(&mut self, path: &str, t: Option<&Vec<NotificationTargetItem>>) {
        if let Some(t) = t {
            self.count(path, Some(t.len()), 0, 10);
            for (i, item) in t.iter().enumerate() {
                let p = format!("{path}.{}.member", i + 1);
                self.union(&p, usize::from(item.sns_topic_arn.is_some()));
                self.arn(&format!("{p}.snsTopicArn"), item.sns_topic_arn.as_ref());
            }
        }
    }

    pub fn tags(&mut self, path: &str, tags: Option<&TagMap>, min: usize) {
        if let Some(tags) = tags {
            self.count(path, Some(tags.len()), min, 50);
            for (k, v) in tags {
                let kp = format!("{path}.key");
                self.len(&kp, Some(k), 1, 128);
                self.pattern(&kp, Some(k), is_tag_key, TAG_KEY_PATTERN);
                let vp = format!("{path}.value");
                self.len(&vp, Some(v), 0, 256);
                self.pattern(&vp, Some(v), is_tag_value, TAG_VALUE_PATTERN);
            }
        }
    }

    pub fn tag_keys(&mut self, path: &str, keys: &[String]) {
        self.count(path, Some(keys.len()), 1, 50);
        for (i, k) in keys.iter().enumerate() {
            let p = format!("{path}.{}.member", i + 1);
            self.len(&p, Some(k), 1, 128);
            self.pattern(&p, Some(k), is_tag_key, TAG_KEY_PATTERN);
        }
    }

    pub fn template(&mut self, path: &str, t: &IncidentTemplate) {
        let tp = format!("{path}.title");
        self.required(&tp, t.title.as_ref());
        self.title(&tp, t.title.as_ref());
        let ip = format!("{path}.impact");
        self.required(&ip, t.impact.as_ref());
        self.impact(&ip, t.impact);
        self.summary(&format!("{path}.summary"), t.summary.as_ref());
        self.dedupe_string(&format!("{path}.dedupeString"), t.dedupe_string.as_ref());
        self.tags(&format!("{path}.incidentTags"), t.incident_tags.as_ref(), 1);
        self.notification_targets(
            &format!("{path}.notificationTargets"),
            t.notification_targets.as_ref(),
        );
    }

    pub fn engagements(&mut self, path: &str, e: Option<&Vec<String>>) {
        if let Some(e) = e {
            self.count(path, Some(e.len()), 0, 5);
            for (i, arn) in e.iter().enumerate() {
                let p = format!("{path}.{}.member", i + 1);
                self.len(&p, Some(arn), 0, 2048);
                self.pattern(&p, Some(arn), is_contacts_arn, CONTACTS_ARN_PATTERN);
            }
        }
    }

    pub fn actions(&mut self, path: &str, actions: Option<&Vec<Action>>) {
        let Some(actions) = actions else { return };
        self.count(path, Some(actions.len()), 0, 1);
        for (i, a) in actions.iter().enumerate() {
            let p = format!("{path}.{}.member", i + 1);
            self.union(&p, usize::from(a.ssm_automation.is_some()));
            let Some(s) = &a.ssm_automation else { continue };
            let sp = format!("{p}.ssmAutomation");
            let dp = format!("{sp}.documentName");
            self.required(&dp, s.document_name.as_ref());
            self.pattern(&dp, s.document_name.as_ref(), is_document_name, DOC_NAME_PATTERN);
            let rp = format!("{sp}.roleArn");
            self.required(&rp, s.role_arn.as_ref());
            self.len(&rp, s.role_arn.as_ref(), 0, 1000);
            self.pattern(&rp, s.role_arn.as_ref(), is_role_arn, ROLE_ARN_PATTERN);
            self.len(
                &format!("{sp}.documentVersion"),
                s.document_version.as_ref(),
                0,
                128,
            );
            self.one_of(
                &format!("{sp}.targetAccount"),
                s.target_account.as_ref(),
                &["RESPONSE_PLAN_OWNER_ACCOUNT", "IMPACTED_ACCOUNT"],
            );
            if let Some(params) = &s.parameters {
                let pp = format!("{sp}.parameters");
                self.map_keys(&pp, params, 200);
                for vals in params.values() {
                    self.count(&format!("{pp}.value"), Some(vals.len()), 0, 100);
                    for v in vals {
                        self.len(&format!("{pp}.value.member"), Some(v), 0, 512);
                    }
                }
            }
            if let Some(dynamic) = &s.dynamic_parameters {
                let pp = format!("{sp}.dynamicParameters");
                self.map_keys(&pp, dynamic, 200);
                for v in dynamic.values() {
                    let vp = format!("{pp}.value");
                    self.union(&vp, usize::from(v.variable.is_some()));
                    self.one_of(
                        &format!("{vp}.variable"),
                        v.variable.as_ref(),
                        &["INCIDENT_RECORD_ARN", "INVOLVED_RESOURCES"],
                    );
                }
            }
        }
    }

    fn map_keys<T>(&mut self, path: &str, m: &BTreeMap<String, T>, max: usize) {
        self.count(path, Some(m.len()), 1, max);
        for k in m.keys() {
            self.len(&format!("{path}.key"), Some(k), 1, 50);
        }
    }

    pub fn integrations(&mut self, path: &str, integrations: Option<&Vec<Integration>>) {
        let Some(list) = integrations else { return };
        self.count(path, Some(list.len()), 0, 1);
        for (i, it) in list.iter().enumerate() {
            let p = format!("{path}.{}.member", i + 1);
            self.union(&p, usize::from(it.pager_duty_configuration.is_some()));
            if let Some(pd) = &it.pager_duty_configuration {
                let pp = format!("{p}.pagerDutyConfiguration");
                for member in ["name", "secretId"] {
                    if !pd.get(member).is_some_and(serde_json::Value::is_string) {
                        self.fail(&format!("{pp}.{member}"), "Member must not be null");
                    }
                }
                if !pd
                    .pointer("/pagerDutyIncidentConfiguration/serviceId")
                    .is_some_and(serde_json::Value::is_string)
                {
                    self.fail(
                        &format!("{pp}.pagerDutyIncidentConfiguration.serviceId"),
                        "Member must not be null",
                    );
                }
            }
        }
    }

    pub fn filters(&mut self, path: &str, filters: Option<&Vec<Filter>>) {
        let Some(filters) = filters else { return };
        self.count(path, Some(filters.len()), 0, 5);
        for (i, f) in filters.iter().enumerate() {
            let p = format!("{path}.{}.member", i + 1);
            self.required(&format!("{p}.key"), f.key.as_ref());
            self.len(&format!("{p}.key"), f.key.as_ref(), 0, 50);
            let cp = format!("{p}.condition");
            if self.required(&cp, f.condition.as_ref())
                && let Some(c) = &f.condition
            {
                let set = usize::from(c.after.is_some())
                    + usize::from(c.before.is_some())
                    + usize::from(c.equals.is_some());
                self.union(&cp, set);
                if let Some(eq) = &c.equals {
                    let ep = format!("{cp}.equals");
                    let set =
                        usize::from(eq.integer_values.is_some()) + usize::from(eq.string_values.is_some());
                    self.union(&ep, set);
                    self.count(
                        &format!("{ep}.integerValues"),
                        eq.integer_values.as_ref().map(Vec::len),
                        0,
                        100,
                    );
                    if let Some(sv) = &eq.string_values {
                        self.count(&format!("{ep}.stringValues"), Some(sv.len()), 0, 100);
                        for s in sv {
                            self.len(&format!("{ep}.stringValues.member"), Some(s), 0, 1000);
                        }
                    }
                }
            }
        }
    }
}

// ---- pattern matchers ----

fn is_partition(p: &str) -> bool {
    matches!(p, "aws" | "aws-cn" | "aws-us-gov")
}

fn is_lower_alnum_dash(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `^arn:aws(-cn|-us-gov)?:[a-z0-9-]*:[a-z0-9-]*:([0-9]{12})?:.+$`
pub fn is_arn(s: &str) -> bool {
    let p: Vec<&str> = s.splitn(6, ':').collect();
    p.len() == 6
        && p[0] == "arn"
        && is_partition(p[1])
        && is_lower_alnum_dash(p[2])
        && is_lower_alnum_dash(p[3])
        && (p[4].is_empty() || is_account(p[4]))
        && !p[5].is_empty()
        && !p[5].contains(['\n', '\r'])
}

const ROLE_ARN_PATTERN: &str = "^arn:aws(-cn|-us-gov)?:iam::([0-9]{12})?:role/.+$";

fn is_role_arn(s: &str) -> bool {
    let p: Vec<&str> = s.splitn(6, ':').collect();
    p.len() == 6
        && p[0] == "arn"
        && is_partition(p[1])
        && p[2] == "iam"
        && p[3].is_empty()
        && (p[4].is_empty() || is_account(p[4]))
        && p[5].strip_prefix("role/").is_some_and(|r| !r.is_empty())
}

const CONTACTS_ARN_PATTERN: &str =
    "^arn:aws(-cn|-us-gov)?:ssm-contacts:[a-z0-9-]*:([0-9]{12}):contact/[a-z0-9_-]+$";

fn is_contacts_arn(s: &str) -> bool {
    let p: Vec<&str> = s.splitn(6, ':').collect();
    p.len() == 6
        && p[0] == "arn"
        && is_partition(p[1])
        && p[2] == "ssm-contacts"
        && is_lower_alnum_dash(p[3])
        && is_account(p[4])
        && p[5].strip_prefix("contact/").is_some_and(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        })
}

pub const PLAN_NAME_PATTERN: &str = "^[a-zA-Z0-9-_]*$";

pub fn is_plan_name(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

const DOC_NAME_PATTERN: &str = "^[a-zA-Z0-9_\\-.:/]{3,128}$";

fn is_document_name(s: &str) -> bool {
    (3..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'/'))
}

const TAG_KEY_PATTERN: &str = "^(?!aws:)[A-Za-z0-9 _=@:.+-/]+$";
const TAG_VALUE_PATTERN: &str = "^[A-Za-z0-9 _=@:.+-/]*$";

/// The class `[A-Za-z0-9 _=@:.+-/]`: note `+-/` is a range (`+ , - . /`).
fn is_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '=' | '@' | ':' | '.' | '+'..='/')
}

fn is_tag_key(s: &str) -> bool {
    !s.is_empty() && !s.starts_with("aws:") && s.chars().all(is_tag_char)
}

fn is_tag_value(s: &str) -> bool {
    s.chars().all(is_tag_char)
}

const GENERATED_ID_PATTERN: &str = "^related-item/(ANALYSIS|INCIDENT|METRIC|PARENT|ATTACHMENT|OTHER|AUTOMATION|INVOLVED_RESOURCE|TASK)/([0-9]|[A-F]){32}$";

fn is_generated_id(s: &str) -> bool {
    let mut parts = s.split('/');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("related-item"), Some(t), Some(h), None)
            if ITEM_TYPES.contains(&t)
                && h.len() == 32
                && h.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_pattern() {
        assert!(is_arn("arn:aws:ssm-incidents::111122223333:response-plan/p"));
        assert!(is_arn("arn:aws-cn:sns:cn-north-1:111122223333:topic"));
        assert!(!is_arn("arn:aws:ssm-incidents::1111:response-plan/p"));
        assert!(!is_arn("arn:azure:x:y:111122223333:z"));
        assert!(!is_arn("arn:aws:S3:::bucket"));
        assert!(!is_arn("arn:aws:s3:::"));
        assert!(!is_arn("not-an-arn"));
    }

    #[test]
    fn other_patterns() {
        assert!(is_role_arn("arn:aws:iam::111122223333:role/r"));
        assert!(!is_role_arn("arn:aws:iam::111122223333:user/r"));
        assert!(is_contacts_arn(
            "arn:aws:ssm-contacts:us-east-1:111122223333:contact/on-call_1"
        ));
        assert!(!is_contacts_arn(
            "arn:aws:ssm-contacts:us-east-1:111122223333:contact/Upper"
        ));
        assert!(is_tag_key("team/owner.name+x,y-z"));
        assert!(!is_tag_key("aws:reserved"));
        assert!(!is_tag_key("bad*char"));
        assert!(is_generated_id(&format!(
            "related-item/OTHER/{}",
            "A1".repeat(16)
        )));
        assert!(!is_generated_id(&format!(
            "related-item/OTHER/{}",
            "a1".repeat(16)
        )));
        assert!(is_document_name("AWS-Incident-Runbook"));
        assert!(!is_document_name("ab"));
        assert!(is_plan_name("plan_1-x"));
        assert!(!is_plan_name("plan 1"));
    }

    #[test]
    fn messages_count_errors() {
        let mut v = V::new();
        v.len("title", Some(&"x".repeat(201)), 0, 200);
        v.range("impact", Some(6), 1, 5);
        let e = v.finish().unwrap_err();
        assert!(
            e.message.starts_with("2 validation errors detected"),
            "{}",
            e.message
        );
        assert!(e.message.contains("less than or equal to 200"));
    }
}
