//! Reads the trust boundaries `template.yaml` draws that the local stack
//! cannot enforce (moto ignores IAM conditions; there is no API Gateway
//! locally): which partition keys a function may write (its
//! `dynamodb:LeadingKeys` condition), and how the HTTP API throttles its
//! routes (SPEC §3, §7). Tests hold the template to them, and the plans
//! API's tests check what it really writes against them.

use std::path::Path;

use anyhow::{Context as _, bail};
use serde_yaml::Value;

/// The DynamoDB actions that write an item.
pub const WRITE_ACTIONS: [&str; 6] = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:PartiQLInsert",
];

/// `template.yaml`, parsed.
#[derive(Debug, Clone)]
pub struct Template(Value);

/// A throttle: requests per second, and the burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle {
    pub rate: f64,
    pub burst: f64,
}

fn tag_is(tag: &serde_yaml::value::Tag, name: &str) -> bool {
    tag.to_string().trim_start_matches('!') == name
}

impl Template {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        Ok(Self(serde_yaml::from_str(text).context("template is not YAML")?))
    }

    fn resource(&self, id: &str) -> anyhow::Result<&Value> {
        self.0
            .get("Resources")
            .and_then(|r| r.get(id))
            .with_context(|| format!("no resource {id}"))
    }

    fn resources_of_type<'a>(&'a self, ty: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        self.0
            .get("Resources")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter(move |(_, r)| r.get("Type").and_then(Value::as_str) == Some(ty))
            .map(|(id, r)| (id.as_str().unwrap_or_default(), r))
    }

    /// The partition-key patterns function `id` may write: the
    /// `ForAllValues:StringLike` `dynamodb:LeadingKeys` of the statements
    /// that grant a write action, together, in the order written. An error
    /// if a statement grants one without that condition.
    pub fn write_prefixes(&self, id: &str) -> anyhow::Result<Vec<String>> {
        let policies = self
            .resource(id)?
            .get("Properties")
            .and_then(|p| p.get("Policies"))
            .and_then(Value::as_sequence)
            .with_context(|| format!("{id} has no Policies"))?;
        let mut found: Vec<String> = Vec::new();
        let mut any = false;
        let statements = policies
            .iter()
            .filter_map(|p| p.get("Statement").and_then(Value::as_sequence))
            .flatten();
        for statement in statements {
            let actions: Vec<&str> = match statement.get("Action") {
                Some(Value::String(a)) => vec![a.as_str()],
                Some(Value::Sequence(a)) => a.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let writes: Vec<&str> = actions
                .iter()
                .copied()
                .filter(|a| WRITE_ACTIONS.contains(a) || *a == "dynamodb:*" || *a == "*")
                .collect();
            if writes.is_empty() || statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
                continue;
            }
            let keys: Vec<String> = statement
                .get("Condition")
                .and_then(|c| c.get("ForAllValues:StringLike"))
                .and_then(|c| c.get("dynamodb:LeadingKeys"))
                .and_then(Value::as_sequence)
                .with_context(|| {
                    format!(
                        "{id} may {writes:?} without a ForAllValues:StringLike dynamodb:LeadingKeys condition"
                    )
                })?
                .iter()
                .map(|k| {
                    k.as_str()
                        .map(str::to_owned)
                        .context("a LeadingKeys pattern is not a string")
                })
                .collect::<anyhow::Result<_>>()?;
            any = true;
            for k in keys {
                if !found.contains(&k) {
                    found.push(k);
                }
            }
        }
        if !any {
            bail!("{id} may write nothing");
        }
        Ok(found)
    }

    /// Function `id`'s `Timeout` in seconds: its own, else the `Globals`'.
    pub fn function_timeout(&self, id: &str) -> anyhow::Result<u64> {
        let own = self
            .resource(id)?
            .get("Properties")
            .and_then(|p| p.get("Timeout"));
        let global = self
            .0
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(|f| f.get("Timeout"));
        own.or(global)
            .and_then(Value::as_u64)
            .with_context(|| format!("{id} has no Timeout in seconds"))
    }

    /// Function `id`'s environment variable `name`, as written (YAML).
    pub fn function_env(&self, id: &str, name: &str) -> Option<&Value> {
        self.resource(id)
            .ok()?
            .get("Properties")?
            .get("Environment")?
            .get("Variables")?
            .get(name)
    }

    /// A number in a throttle setting: a literal, or a `!Ref` to a parameter
    /// (its `MaxValue`, the most a deployment may set, else its `Default`).
    fn number(&self, v: &Value) -> anyhow::Result<f64> {
        match v {
            Value::Number(n) => n.as_f64().context("not a number"),
            Value::Tagged(t) if tag_is(&t.tag, "Ref") => {
                let name = t.value.as_str().context("a !Ref that is not a name")?;
                let param = self
                    .0
                    .get("Parameters")
                    .and_then(|p| p.get(name))
                    .with_context(|| format!("no parameter {name}"))?;
                let bound = param.get("MaxValue").with_context(|| {
                    format!("parameter {name} has no MaxValue: a deployment could set any throttle")
                })?;
                self.number(bound)
            }
            other => bail!("a throttle setting that is not a number or a !Ref: {other:?}"),
        }
    }

    fn throttle(&self, settings: &Value) -> anyhow::Result<Throttle> {
        let field = |k: &str| settings.get(k).with_context(|| format!("no {k}"));
        Ok(Throttle {
            rate: self.number(field("ThrottlingRateLimit")?)?,
            burst: self.number(field("ThrottlingBurstLimit")?)?,
        })
    }

    /// The HTTP API stage's default throttle.
    pub fn default_throttle(&self) -> anyhow::Result<Throttle> {
        let (_, stage) = self
            .resources_of_type("AWS::ApiGatewayV2::Stage")
            .next()
            .context("no AWS::ApiGatewayV2::Stage")?;
        self.throttle(
            stage
                .get("Properties")
                .and_then(|p| p.get("DefaultRouteSettings"))
                .context("the stage has no DefaultRouteSettings")?,
        )
    }

    /// The route keys of the routes that need no authorization.
    pub fn unauthenticated_routes(&self) -> Vec<String> {
        self.resources_of_type("AWS::ApiGatewayV2::Route")
            .filter_map(|(_, r)| r.get("Properties"))
            .filter(|p| p.get("AuthorizationType").and_then(Value::as_str) == Some("NONE"))
            .filter_map(|p| p.get("RouteKey").and_then(Value::as_str).map(str::to_owned))
            .collect()
    }

    /// The stage's own throttle for `route_key` (the most a deployment may
    /// set), if it has one.
    pub fn route_throttle(&self, route_key: &str) -> anyhow::Result<Option<Throttle>> {
        let (_, stage) = self
            .resources_of_type("AWS::ApiGatewayV2::Stage")
            .next()
            .context("no AWS::ApiGatewayV2::Stage")?;
        stage
            .get("Properties")
            .and_then(|p| p.get("RouteSettings"))
            .and_then(|s| s.get(route_key))
            .map(|s| {
                self.throttle(s)
                    .with_context(|| format!("the throttle of {route_key}"))
            })
            .transpose()
    }

    /// Does the stage wait for route `route_key` (a route setting needs its
    /// route to exist)?
    pub fn stage_depends_on_route(&self, route_key: &str) -> bool {
        let Some((_, stage)) = self.resources_of_type("AWS::ApiGatewayV2::Stage").next() else {
            return false;
        };
        let depends: Vec<&str> = match stage.get("DependsOn") {
            Some(Value::String(d)) => vec![d.as_str()],
            Some(Value::Sequence(d)) => d.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        self.resources_of_type("AWS::ApiGatewayV2::Route")
            .filter(|(_, r)| {
                r.get("Properties")
                    .and_then(|p| p.get("RouteKey"))
                    .and_then(Value::as_str)
                    == Some(route_key)
            })
            .any(|(id, _)| depends.contains(&id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        Template::read(&crate::template_path()).unwrap()
    }

    #[test]
    fn the_plans_api_may_write_only_plans_and_workloads() {
        // functions/aws/src/store.rs: PLAN#<id> and WORKLOAD#<name>, current
        // item and versions; nothing else of the table is the API's.
        assert_eq!(
            template().write_prefixes("PlansApiFunction").unwrap(),
            ["PLAN#*", "WORKLOAD#*"]
        );
    }

    #[test]
    fn the_other_functions_write_only_their_own_keys() {
        let t = template();
        assert_eq!(
            t.write_prefixes("FreshnessCheckFunction").unwrap(),
            ["REMINDER#*", "ACTIVITY"]
        );
        assert_eq!(
            t.write_prefixes("IncidentResponderFunction").unwrap(),
            ["CLAIM#*", "ACTIVITY", "RATE#*"]
        );
    }

    /// SPEC §4 "Exactly once": the claims' lease outlives the responder's
    /// timeout only if the template says the timeout the code assumes.
    #[test]
    fn the_responder_timeout_is_the_one_its_deadlines_and_lease_are_derived_from() {
        use support_plans_aws::deadlines::{LEASE, RESPONDER_TIMEOUT};
        let timeout = template().function_timeout("IncidentResponderFunction").unwrap();
        assert_eq!(
            timeout,
            RESPONDER_TIMEOUT.as_secs(),
            "template.yaml's IncidentResponderFunction Timeout is not functions/aws/src/deadlines.rs RESPONDER_TIMEOUT"
        );
        assert!(LEASE.as_secs() > timeout);
    }

    /// SPEC §4 "Permanent failures are not retried": the responder refuses
    /// before the call the topics its IAM policy would refuse.
    #[test]
    fn the_responder_is_told_the_chat_topics_its_policy_lets_it_publish_to() {
        let t = template();
        let env =
            |name| serde_yaml::to_string(t.function_env("IncidentResponderFunction", name).unwrap()).unwrap();
        assert!(
            env("CHAT_TOPIC_ARNS").contains("ChatbotTopicArns"),
            "{}",
            env("CHAT_TOPIC_ARNS")
        );
        assert!(env("INCIDENT_TOPIC_ARN").contains("IncidentTopic"));
    }

    #[test]
    fn a_write_without_a_leading_keys_condition_is_found() {
        let t = Template::parse(
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - Statement:\n            - Effect: Allow\n              Action: [dynamodb:GetItem, dynamodb:PutItem]\n              Resource: '*'\n",
        )
        .unwrap();
        let err = t.write_prefixes("F").unwrap_err().to_string();
        assert!(err.contains("dynamodb:PutItem"), "{err}");
    }

    #[test]
    fn unauthenticated_routes_have_their_own_lower_throttle() {
        let t = template();
        let default = t.default_throttle().unwrap();
        let open = t.unauthenticated_routes();
        assert!(
            open.contains(&"GET /verify/{token}".to_owned())
                && open.contains(&"POST /verify/{token}".to_owned()),
            "{open:?}"
        );
        for route in &open {
            let own = t.route_throttle(route).unwrap().unwrap_or_else(|| {
                panic!("{route} has no throttle of its own: it shares the portals' budget")
            });
            assert!(
                own.rate < default.rate && own.burst < default.burst,
                "{route}: {own:?} is not below the stage default {default:?}"
            );
            assert!(t.stage_depends_on_route(route), "the stage must wait for {route}");
        }
    }

    #[test]
    fn a_throttle_parameter_without_a_bound_is_found() {
        let t = Template::parse(
            "Parameters:\n  R:\n    Type: Number\n    Default: 1\nResources:\n  S:\n    Type: AWS::ApiGatewayV2::Stage\n    Properties:\n      DefaultRouteSettings: {ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100}\n      RouteSettings:\n        GET /x: {ThrottlingRateLimit: !Ref R, ThrottlingBurstLimit: 5}\n",
        )
        .unwrap();
        let err = format!("{:#}", t.route_throttle("GET /x").unwrap_err());
        assert!(err.contains("MaxValue"), "{err}");
    }
}
