//! Reads the trust boundaries `template.yaml` draws that the local stack
//! cannot enforce (moto ignores IAM conditions; there is no API Gateway
//! locally): which partition keys a function may write (its
//! `dynamodb:LeadingKeys` condition), what else its role may do, which
//! function may read which secret, which routes need no authorizer, which
//! function each route reaches and how the HTTP API throttles them
//! (SPEC §3, §7, §8, §11); who may put AWS Config evaluations and invoke
//! the rule's function, and which metrics the dashboard draws (SPEC §15).
//! Tests hold the template to them, and the plans API's tests check what
//! it really writes against them.

use std::collections::{BTreeMap, BTreeSet};
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

/// `v` as written, for comparing and messages: `!Ref X`, `!GetAtt X.Arn`,
/// `!Sub "…"`, a plain string as it is, anything else as YAML.
pub fn render(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Tagged(t) => format!(
            "!{} {}",
            t.tag.to_string().trim_start_matches('!'),
            render(&t.value)
        ),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim_end()
            .replace('\n', " "),
    }
}

/// A string, or each string of a list.
fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Sequence(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// One statement of a function's inline policy.
#[derive(Debug, Clone)]
pub struct Statement {
    pub effect: String,
    pub actions: Vec<String>,
    /// Each resource, rendered ([`render`]).
    pub resources: Vec<String>,
    /// The resources as written.
    pub resource_values: Vec<Value>,
    pub condition: Option<Value>,
}

/// A statement as it is, or both branches of a `!If [condition, then,
/// else]` statement (`!Ref AWS::NoValue` is no statement): what a role may
/// be granted under some parameter is held to the same checks.
fn if_branches(st: &Value) -> Vec<&Value> {
    match st {
        Value::Tagged(t) if tag_is(&t.tag, "If") => t
            .value
            .as_sequence()
            .map(|v| v.iter().skip(1).filter(|b| b.is_mapping()).collect())
            .unwrap_or_default(),
        other => vec![other],
    }
}

/// The condition names under which function `id`'s `!If` statements grant
/// each action: `(condition, action)`, sorted.
pub fn conditional_actions(t: &Template, id: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for policy in t
        .properties(id)?
        .get("Policies")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        for st in policy
            .get("Statement")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            if let Value::Tagged(tagged) = st
                && tag_is(&tagged.tag, "If")
                && let Some([cond, then, ..]) = tagged.value.as_sequence().map(Vec::as_slice)
            {
                for a in strings(then.get("Action")) {
                    out.push((cond.as_str().unwrap_or_default().to_owned(), a.to_owned()));
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Every condition name the template uses: the first item of each `!If`
/// (or `Fn::If`), and each resource's or output's `Condition`, anywhere.
fn used_conditions(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Tagged(t) => {
            if tag_is(&t.tag, "If")
                && let Some(Value::String(c)) = t.value.as_sequence().and_then(|s| s.first())
            {
                out.insert(c.clone());
            }
            used_conditions(&t.value, out);
        }
        Value::Mapping(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    (Some("Fn::If"), Value::Sequence(s)) => {
                        if let Some(c) = s.first().and_then(Value::as_str) {
                            out.insert(c.to_owned());
                        }
                    }
                    (Some("Condition"), Value::String(c)) => {
                        out.insert(c.clone());
                    }
                    _ => {}
                }
                used_conditions(v, out);
            }
        }
        Value::Sequence(s) => s.iter().for_each(|v| used_conditions(v, out)),
        _ => {}
    }
}

fn tag_is(tag: &serde_yaml::value::Tag, name: &str) -> bool {
    tag.to_string().trim_start_matches('!') == name
}

impl Template {
    /// The conditions `Resources` and `Outputs` use that `Conditions` does
    /// not define: CloudFormation refuses such a template at deploy, and
    /// cfn-lint does not see one inside a SAM function's `Policies`.
    pub fn undefined_conditions(&self) -> Vec<String> {
        let mut used = BTreeSet::new();
        for section in ["Resources", "Outputs"] {
            if let Some(v) = self.0.get(section) {
                used_conditions(v, &mut used);
            }
        }
        let defined = self.0.get("Conditions").and_then(Value::as_mapping);
        used.into_iter()
            .filter(|c| !defined.is_some_and(|d| d.contains_key(c.as_str())))
            .collect()
    }

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

    fn properties(&self, id: &str) -> anyhow::Result<&Value> {
        self.resource(id)?
            .get("Properties")
            .with_context(|| format!("{id} has no Properties"))
    }

    /// The inline policy statements of function `id` (its `Policies`) or
    /// role `id` (its `Policies`' `PolicyDocument`s), in the order written.
    /// An error if a function has a role of its own (`Role`), a role has
    /// managed policies, or a policy is not an inline statement list (a
    /// managed policy or a SAM policy template): what those grant cannot be
    /// read here.
    pub fn statements(&self, id: &str) -> anyhow::Result<Vec<Statement>> {
        let is_role = self.resource(id)?.get("Type").and_then(Value::as_str) == Some("AWS::IAM::Role");
        let props = self.properties(id)?;
        if props.get("Role").is_some() {
            bail!("{id} has a Role of its own: its policies are not in this template");
        }
        if props.get("ManagedPolicyArns").is_some() {
            bail!("{id} has managed policies: what they grant is not in this template");
        }
        let Some(policies) = props.get("Policies").and_then(Value::as_sequence) else {
            return if is_role {
                Ok(Vec::new())
            } else {
                bail!("{id} has no Policies")
            };
        };
        let mut out = Vec::new();
        for policy in policies {
            let document = if is_role {
                policy.get("PolicyDocument")
            } else {
                Some(policy)
            };
            let statements = document
                .and_then(|d| d.get("Statement"))
                .and_then(Value::as_sequence)
                .with_context(|| {
                    format!(
                        "{id} has a policy that is not an inline Statement list: {}",
                        render(policy)
                    )
                })?;
            for st in statements.iter().flat_map(if_branches) {
                let resource_values: Vec<Value> = match st.get("Resource") {
                    Some(Value::Sequence(r)) => r.clone(),
                    Some(r) => vec![r.clone()],
                    None => Vec::new(),
                };
                out.push(Statement {
                    effect: st
                        .get("Effect")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    actions: strings(st.get("Action")).into_iter().map(str::to_owned).collect(),
                    resources: resource_values.iter().map(render).collect(),
                    resource_values,
                    condition: st.get("Condition").cloned(),
                });
            }
        }
        Ok(out)
    }

    /// What function `id` is allowed: one `(action, resource)` pair for each
    /// action and resource of its `Allow` statements, sorted, without repeats.
    pub fn grants(&self, id: &str) -> anyhow::Result<Vec<(String, String)>> {
        let mut out: Vec<(String, String)> = Vec::new();
        for st in self.statements(id)? {
            if st.effect != "Allow" {
                continue;
            }
            for a in &st.actions {
                for r in &st.resources {
                    out.push((a.clone(), r.clone()));
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Which functions (and roles) may read which secret: secret logical id
    /// → the functions and roles (sorted) whose policy allows
    /// `secretsmanager:GetSecretValue` (or `secretsmanager:*`, or `*`) on
    /// it. An error if one allows it on anything but a `!Ref` to a secret of
    /// this template (`*`, an ARN pattern, a secret made elsewhere).
    pub fn secret_readers(&self) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let functions: Vec<&str> = self
            .resources_of_type("AWS::Serverless::Function")
            .chain(self.resources_of_type("AWS::IAM::Role"))
            .map(|(id, _)| id)
            .collect();
        for function in functions {
            for st in self.statements(function)? {
                let reads = st.actions.iter().any(|a| {
                    matches!(
                        a.as_str(),
                        "secretsmanager:GetSecretValue" | "secretsmanager:*" | "*"
                    )
                });
                if st.effect != "Allow" || !reads {
                    continue;
                }
                for r in &st.resource_values {
                    let secret = match r {
                        Value::Tagged(t) if tag_is(&t.tag, "Ref") => t.value.as_str().unwrap_or_default(),
                        _ => "",
                    };
                    let is_secret = self
                        .resource(secret)
                        .ok()
                        .and_then(|s| s.get("Type"))
                        .and_then(Value::as_str)
                        == Some("AWS::SecretsManager::Secret");
                    if !is_secret {
                        bail!(
                            "{function} may read secret values on {}: not a !Ref to one secret of this template",
                            render(r)
                        );
                    }
                    let readers = out.entry(secret.to_owned()).or_default();
                    if !readers.iter().any(|f| f == function) {
                        readers.push(function.to_owned());
                        readers.sort();
                    }
                }
            }
        }
        Ok(out)
    }

    /// Does the template give secret `id` a value (`SecretString` or
    /// `GenerateSecretString`)?
    pub fn secret_value_given(&self, id: &str) -> anyhow::Result<bool> {
        let props = self.properties(id)?;
        Ok(props.get("SecretString").is_some() || props.get("GenerateSecretString").is_some())
    }

    /// Secret `id`'s `Description`.
    pub fn secret_description(&self, id: &str) -> anyhow::Result<String> {
        self.properties(id)?
            .get("Description")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("{id} has no Description"))
    }

    /// Every route of the HTTP API and the function it reaches: route key →
    /// the logical id of the function its integration calls.
    pub fn route_functions(&self) -> anyhow::Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for (id, route) in self.resources_of_type("AWS::ApiGatewayV2::Route") {
            let props = route
                .get("Properties")
                .with_context(|| format!("{id} has no Properties"))?;
            let key = props
                .get("RouteKey")
                .and_then(Value::as_str)
                .with_context(|| format!("{id} has no RouteKey"))?;
            let target = props.get("Target").map(render).unwrap_or_default();
            let integration = target
                .strip_prefix("!Sub integrations/${")
                .and_then(|t| t.strip_suffix('}'))
                .with_context(|| {
                    format!("{id}: a Target that is not !Sub integrations/${{Integration}}: {target}")
                })?;
            let uri = self
                .properties(integration)?
                .get("IntegrationUri")
                .map(render)
                .unwrap_or_default();
            let function = uri
                .strip_prefix("!GetAtt ")
                .and_then(|u| u.strip_suffix(".Arn"))
                .with_context(|| {
                    format!("{integration}: an IntegrationUri that is not !GetAtt Function.Arn: {uri}")
                })?;
            out.insert(key.to_owned(), function.to_owned());
        }
        Ok(out)
    }

    /// The source ARNs (rendered) from which function `id` may be invoked
    /// by API Gateway (its `AWS::Lambda::Permission`s).
    pub fn api_invoke_sources(&self, id: &str) -> Vec<String> {
        self.resources_of_type("AWS::Lambda::Permission")
            .filter_map(|(_, p)| p.get("Properties"))
            .filter(|p| p.get("FunctionName").map(render) == Some(format!("!Ref {id}")))
            .filter(|p| p.get("Principal").and_then(Value::as_str) == Some("apigateway.amazonaws.com"))
            .map(|p| p.get("SourceArn").map(render).unwrap_or_else(|| "(any)".into()))
            .collect()
    }

    /// Function `id`'s `EventInvokeConfig` retries and whether it has a
    /// dead-letter queue (asynchronous invocations).
    pub fn async_retries(&self, id: &str) -> anyhow::Result<(u64, bool)> {
        let props = self.properties(id)?;
        let retries = props
            .get("EventInvokeConfig")
            .and_then(|c| c.get("MaximumRetryAttempts"))
            .and_then(Value::as_u64)
            .with_context(|| format!("{id} has no EventInvokeConfig.MaximumRetryAttempts"))?;
        Ok((retries, props.get("DeadLetterQueue").is_some()))
    }

    /// The binaries of the template's functions (their rust-cargolambda
    /// `BuildProperties.Binary`), in the order written; an error for a
    /// function without one.
    pub fn function_binaries(&self) -> anyhow::Result<Vec<String>> {
        self.resources_of_type("AWS::Serverless::Function")
            .map(|(id, f)| {
                f.get("Metadata")
                    .and_then(|m| m.get("BuildProperties"))
                    .and_then(|b| b.get("Binary"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .with_context(|| format!("{id} has no Metadata.BuildProperties.Binary"))
            })
            .collect()
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

    /// SPEC §13: the responder may open AWS Support cases only when the
    /// stack's OpenSupportCases says so, and nothing else of the Support API.
    #[test]
    fn the_responder_may_open_and_read_support_cases_only_when_opted_in() {
        let t = template();
        let support: Vec<(String, String)> = t
            .grants("IncidentResponderFunction")
            .unwrap()
            .into_iter()
            .filter(|(a, _)| a.starts_with("support:"))
            .collect();
        assert_eq!(
            support,
            [
                ("support:CreateCase".to_owned(), "*".to_owned()),
                ("support:DescribeCases".to_owned(), "*".to_owned())
            ]
        );
        assert_eq!(
            conditional_actions(&t, "IncidentResponderFunction").unwrap(),
            [
                ("OpensSupportCases".to_owned(), "support:CreateCase".to_owned()),
                ("OpensSupportCases".to_owned(), "support:DescribeCases".to_owned())
            ]
        );
        assert_eq!(
            render(
                t.function_env("IncidentResponderFunction", "OPEN_SUPPORT_CASES")
                    .unwrap()
            ),
            "!Ref OpenSupportCases"
        );
        for f in [
            "PlansApiFunction",
            "FreshnessCheckFunction",
            "IncidentHooksFunction",
        ] {
            assert!(
                t.grants(f)
                    .unwrap()
                    .iter()
                    .all(|(a, _)| !a.starts_with("support:")),
                "{f} may not call the Support API"
            );
        }
    }

    /// A `!If` on a condition that `Conditions` lacks fails the deploy
    /// ("Template format error: Unresolved dependencies"), not the lint.
    #[test]
    fn every_condition_the_template_uses_is_defined() {
        assert_eq!(template().undefined_conditions(), Vec::<String>::new());
        let t = Template::parse(
            "Conditions:\n  A: !Equals [a, a]\nResources:\n  F:\n    Type: T\n    Condition: B\n    Properties:\n      P: !If [A, 1, 2]\n      Q: {'Fn::If': [C, 1, 2]}\n",
        )
        .unwrap();
        assert_eq!(t.undefined_conditions(), ["B", "C"]);
    }

    /// The `(condition, action)` pairs of function `id`'s `!If` statements
    /// whose action starts with `prefix`.
    fn conditional_of(t: &Template, id: &str, prefix: &str) -> Vec<(String, String)> {
        conditional_actions(t, id)
            .unwrap()
            .into_iter()
            .filter(|(_, a)| a.starts_with(prefix))
            .collect()
    }

    /// SPEC §14: the freshness check lists the two topics' subscriptions
    /// and reads a hand-made one's filter policy; it may subscribe and
    /// unsubscribe on those two topics only, and only when the stack's
    /// ManageSubscriptions says so. No other function may.
    #[test]
    fn only_the_freshness_check_keeps_subscriptions_and_only_on_its_two_topics() {
        let t = template();
        let sns: Vec<(String, String)> = t
            .grants("FreshnessCheckFunction")
            .unwrap()
            .into_iter()
            .filter(|(a, _)| a.starts_with("sns:") && a != "sns:Publish")
            .collect();
        let topics = ["!Ref ReminderTopic", "!Ref EscalationTopic"];
        let subscriptions = ["!Sub ${ReminderTopic}:*", "!Sub ${EscalationTopic}:*"];
        let mut expected = Vec::new();
        for (action, on) in [
            ("sns:ListSubscriptionsByTopic", topics),
            ("sns:GetSubscriptionAttributes", subscriptions),
            ("sns:Subscribe", topics),
            ("sns:Unsubscribe", subscriptions),
        ] {
            expected.extend(on.iter().map(|r| (action.to_owned(), (*r).to_owned())));
        }
        assert_eq!(
            sns,
            pairs(
                &expected
                    .iter()
                    .map(|(a, r)| (a.as_str(), r.as_str()))
                    .collect::<Vec<_>>()
            )
        );
        assert_eq!(
            conditional_of(&t, "FreshnessCheckFunction", "sns:"),
            [
                ("ManagesSubscriptions".to_owned(), "sns:Subscribe".to_owned()),
                ("ManagesSubscriptions".to_owned(), "sns:Unsubscribe".to_owned())
            ]
        );
        assert_eq!(
            render(
                t.function_env("FreshnessCheckFunction", "MANAGE_SUBSCRIPTIONS")
                    .unwrap()
            ),
            "!Ref ManageSubscriptions"
        );
        for f in [
            "PlansApiFunction",
            "IncidentResponderFunction",
            "IncidentHooksFunction",
        ] {
            assert!(
                t.grants(f).unwrap().iter().all(|(a, _)| !a.contains("Subscri")),
                "{f} may not touch subscriptions"
            );
        }
    }

    // ---- readiness where the organisation looks (SPEC §15)

    /// Every function and role of the template.
    fn principals(t: &Template) -> Vec<&str> {
        t.resources_of_type("AWS::Serverless::Function")
            .chain(t.resources_of_type("AWS::IAM::Role"))
            .map(|(id, _)| id)
            .collect()
    }

    /// Only the freshness check may put Config evaluations, only when the
    /// stack adds the rule, and it may do nothing else with Config; it reads
    /// the readiness snapshot, one partition. No other function or role has
    /// any Config action.
    #[test]
    fn only_the_freshness_check_puts_config_evaluations_and_nothing_more_of_config() {
        let t = template();
        let config = |f: &str| -> Vec<(String, String)> {
            t.grants(f)
                .unwrap()
                .into_iter()
                .filter(|(a, _)| a.starts_with("config:") || a == "*")
                .collect()
        };
        assert_eq!(
            config("FreshnessCheckFunction"),
            pairs(&[("config:PutEvaluations", "*")])
        );
        assert_eq!(
            conditional_of(&t, "FreshnessCheckFunction", "config:"),
            [("AddsConfigRule".to_owned(), "config:PutEvaluations".to_owned())]
        );
        let snapshot_reads: Vec<String> = t
            .statements("FreshnessCheckFunction")
            .unwrap()
            .into_iter()
            .filter(|st| st.actions.iter().any(|a| a == "dynamodb:GetItem"))
            .map(|st| {
                st.condition
                    .as_ref()
                    .and_then(|c| c.get("ForAllValues:StringLike"))
                    .and_then(|c| c.get("dynamodb:LeadingKeys"))
                    .map(render)
                    .unwrap_or_default()
            })
            .collect();
        assert!(
            snapshot_reads.contains(&"- READINESS".to_owned()),
            "the rule reads the snapshot: {snapshot_reads:?}"
        );
        for f in principals(&t) {
            if f != "FreshnessCheckFunction" {
                assert_eq!(config(f), [], "{f} may not call AWS Config");
            }
        }
    }

    /// The rule is the freshness check's, periodic, with the frequency a
    /// parameter; Config may invoke the function for this account only, and
    /// the rule waits for that permission (Config checks it at creation).
    /// Both only when the stack adds the rule, which it does not by default.
    #[test]
    fn the_config_rule_invokes_the_freshness_check_with_permission_from_this_account() {
        let t = template();
        let params = t.0.get("Parameters").unwrap();
        assert_eq!(render(&params["AddConfigRule"]["Default"]), "false");
        assert_eq!(
            render(&params["ConfigRuleFrequency"]["Default"]),
            "TwentyFour_Hours"
        );
        let rules: Vec<&str> = t
            .resources_of_type("AWS::Config::ConfigRule")
            .map(|(id, _)| id)
            .collect();
        assert_eq!(rules, ["ReadinessConfigRule"]);
        let rule = t.resource("ReadinessConfigRule").unwrap();
        assert_eq!(render(&rule["Condition"]), "AddsConfigRule");
        assert_eq!(render(&rule["DependsOn"]), "FreshnessCheckConfigPermission");
        let source = &rule["Properties"]["Source"];
        assert_eq!(render(&source["Owner"]), "CUSTOM_LAMBDA");
        assert_eq!(
            render(&source["SourceIdentifier"]),
            "!GetAtt FreshnessCheckFunction.Arn"
        );
        let details = source["SourceDetails"].as_sequence().unwrap();
        assert_eq!(details.len(), 1);
        assert_eq!(render(&details[0]["EventSource"]), "aws.config");
        assert_eq!(
            render(&details[0]["MessageType"]),
            freshness_check::config_rule::MESSAGE_TYPE
        );
        assert_eq!(
            render(&details[0]["MaximumExecutionFrequency"]),
            "!Ref ConfigRuleFrequency"
        );

        let config_permissions: Vec<&Value> = t
            .resources_of_type("AWS::Lambda::Permission")
            .filter(|(_, p)| {
                p.get("Properties").and_then(|p| p.get("Principal")).map(render)
                    == Some("config.amazonaws.com".into())
            })
            .map(|(_, p)| p)
            .collect();
        assert_eq!(config_permissions.len(), 1);
        let permission = t.resource("FreshnessCheckConfigPermission").unwrap();
        assert_eq!(render(&permission["Condition"]), "AddsConfigRule");
        let p = &permission["Properties"];
        assert_eq!(render(&p["Action"]), "lambda:InvokeFunction");
        assert_eq!(render(&p["FunctionName"]), "!Ref FreshnessCheckFunction");
        assert_eq!(render(&p["SourceAccount"]), "!Ref AWS::AccountId");
    }

    /// The dashboard's body with `${AWS::Region}` given.
    fn dashboard_body(t: &Template) -> serde_json::Value {
        let (_, dashboard) = t
            .resources_of_type("AWS::CloudWatch::Dashboard")
            .next()
            .expect("a dashboard");
        let body = match &dashboard["Properties"]["DashboardBody"] {
            Value::Tagged(s) if tag_is(&s.tag, "Sub") => s.value.as_str().unwrap().to_owned(),
            other => panic!("a DashboardBody that is not !Sub \"...\": {}", render(other)),
        };
        let body = body.replace("${AWS::Region}", "eu-west-1");
        assert!(!body.contains("${"), "an unresolved ${{...}} in the body");
        serde_json::from_str(&body).expect("the DashboardBody is JSON")
    }

    /// The names, unit-less, of the freshness check's Embedded Metric
    /// Format line, and its namespace and dimensions.
    fn emitted() -> (String, Vec<Vec<String>>, String, BTreeSet<String>) {
        use support_plans_domain::readiness::{Activity, figures};
        let now = "2026-11-21T08:00:00Z".parse().unwrap();
        let mut r = figures(&[], &[], &[], Activity::default(), 0, now);
        r.contacts_fresh_percent = Some(72.2);
        let line: serde_json::Value = serde_json::from_str(&freshness_check::emf_line(
            &r,
            &support_plans_domain::reminders::Summary::default(),
            now,
        ))
        .unwrap();
        let m = &line["_aws"]["CloudWatchMetrics"][0];
        let names = m["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["Name"].as_str().unwrap().to_owned())
            .collect();
        (
            m["Namespace"].as_str().unwrap().to_owned(),
            serde_json::from_value(m["Dimensions"].clone()).unwrap(),
            line["Service"].as_str().unwrap().to_owned(),
            names,
        )
    }

    /// The metric of each metric widget: `[namespace, name, dimension,
    /// value]`; a widget with other than one metric, or not over time, fails.
    fn widget_metrics(body: &serde_json::Value) -> Vec<[String; 4]> {
        let mut out = Vec::new();
        for w in body["widgets"].as_array().unwrap() {
            if w["type"] != "metric" {
                continue;
            }
            let p = &w["properties"];
            assert_eq!(p["region"], "eu-west-1", "{w}");
            assert_eq!(p["view"], "timeSeries", "{w}: over time");
            let metrics = p["metrics"].as_array().unwrap();
            assert_eq!(metrics.len(), 1, "one figure a widget: {w}");
            let m = metrics[0].as_array().unwrap();
            out.push(std::array::from_fn(|i| {
                m[i].as_str().unwrap_or_default().to_owned()
            }));
        }
        out
    }

    /// What `body` draws that the freshness check does not emit, as written.
    fn not_emitted(body: &serde_json::Value) -> Vec<String> {
        let (namespace, _, service, names) = emitted();
        widget_metrics(body)
            .into_iter()
            .filter(|[ns, name, dim, value]| {
                *ns != namespace || !names.contains(name) || dim != "Service" || *value != service
            })
            .map(|m| m.join(" "))
            .collect()
    }

    /// SPEC §15: a widget per figure, over time, each naming a metric the
    /// freshness check emits as it emits it (namespace, dimension and its
    /// value): a misspelt name would draw an empty graph, and fails here.
    #[test]
    fn the_dashboard_draws_each_figure_from_a_metric_the_freshness_check_emits() {
        let t = template();
        let (_, dimensions, _, _) = emitted();
        assert_eq!(dimensions, [vec!["Service".to_owned()]]);
        let body = dashboard_body(&t);
        assert_eq!(not_emitted(&body), Vec::<String>::new());
        let mut drawn: Vec<String> = widget_metrics(&body).into_iter().map(|[_, n, _, _]| n).collect();
        drawn.sort();
        let mut expected = vec![
            "ContactsFreshPercent",
            "ContactsOverdue",
            "WorkloadsWithoutActivePlan",
            "Tier1WorkloadsWithout24x7",
            "RemindersSent",
            "EscalationsSent",
            "IncidentsMatched30Days",
            "IncidentsUnmatched30Days",
            "OwnersUnreachable",
        ];
        expected.sort_unstable();
        assert_eq!(drawn, expected);

        // A misspelt name, or another service's dimension, is found.
        let mut wrong = body.clone();
        wrong["widgets"][1]["properties"]["metrics"][0][1] = "ContactFreshPercent".into();
        wrong["widgets"][2]["properties"]["metrics"][0][3] = "incident-responder".into();
        assert_eq!(
            not_emitted(&wrong),
            [
                "SupportPlans ContactFreshPercent Service freshness-check",
                "SupportPlans ContactsOverdue Service incident-responder"
            ]
        );

        // Its URL is an output.
        let url = t.0["Outputs"]["ReadinessDashboardUrl"]["Value"].clone();
        assert_eq!(
            render(&url),
            "!Sub https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}#dashboards:name=${ReadinessDashboard}"
        );
    }

    #[test]
    fn the_plans_api_may_write_only_plans_and_workloads() {
        // functions/aws/src/store.rs: PLAN#<id> and WORKLOAD#<name>, current
        // item and versions, and the readiness snapshot each write keeps
        // current (functions/aws/src/snapshot.rs); nothing else of the table.
        assert_eq!(
            template().write_prefixes("PlansApiFunction").unwrap(),
            ["PLAN#*", "WORKLOAD#*", support_plans_aws::snapshot::READINESS_PK]
        );
    }

    #[test]
    fn the_other_functions_write_only_their_own_keys() {
        let t = template();
        assert_eq!(
            t.write_prefixes("FreshnessCheckFunction").unwrap(),
            ["READINESS", "REMINDER#*", "ACTIVITY", "SUBSCRIPTIONS"]
        );
        assert_eq!(
            t.write_prefixes("IncidentResponderFunction").unwrap(),
            ["CLAIM#*", "ACTIVITY", "READINESS", "RATE#*"]
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
        for route in [
            "GET /verify/{token}",
            "POST /verify/{token}",
            "POST /verify/{token}/change",
            "POST /hooks/pagerduty",
            "POST /hooks/incident",
            "GET /responded/{token}",
            "POST /responded/{token}",
        ] {
            assert!(open.contains(&route.to_owned()), "{route} is not among {open:?}");
        }
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

    // ---- the incident webhooks (SPEC §11)

    const HOOKS: &str = "IncidentHooksFunction";

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<_> = p
            .iter()
            .map(|(a, r)| ((*a).to_owned(), (*r).to_owned()))
            .collect();
        v.sort();
        v
    }

    /// The unauthenticated routes run with a role that reads the two webhook
    /// secrets and the responded links' key, writes the replay store and the
    /// "vendor responded" marks, reads the claim items and invokes the
    /// responder: nothing more, on nothing else (no plan, no index, no other
    /// function).
    #[test]
    fn the_webhook_function_may_read_its_secrets_write_webhook_ids_and_marks_and_invoke_the_responder_only() {
        let t = template();
        assert_eq!(
            t.grants(HOOKS).unwrap(),
            pairs(&[
                ("secretsmanager:GetSecretValue", "!Ref PagerDutyWebhookSecret"),
                ("secretsmanager:GetSecretValue", "!Ref IncidentWebhookSecret"),
                ("secretsmanager:GetSecretValue", "!Ref RespondedLinkKeySecret"),
                ("dynamodb:GetItem", "!GetAtt PlansTable.Arn"),
                ("dynamodb:PutItem", "!GetAtt PlansTable.Arn"),
                ("lambda:InvokeFunction", "!GetAtt IncidentResponderFunction.Arn"),
            ])
        );
        // ...its writes only to WEBHOOK#<webhook-id> and CLAIM#<incident> items...
        assert_eq!(t.write_prefixes(HOOKS).unwrap(), ["WEBHOOK#*", "CLAIM#*"]);
        // ...no deletes, and its reads only of the replay store's and of
        // the claim items (the marks beside them): never a plan.
        for st in t.statements(HOOKS).unwrap() {
            assert!(
                !st.actions.iter().any(|a| a == "dynamodb:DeleteItem"),
                "{:?}",
                st.actions
            );
            let keys = st
                .condition
                .as_ref()
                .and_then(|c| c.get("ForAllValues:StringLike"))
                .and_then(|c| c.get("dynamodb:LeadingKeys"))
                .map(render)
                .unwrap_or_default();
            if st.actions.iter().any(|a| a == "dynamodb:GetItem") {
                assert!(
                    ["- CLAIM#*", "- WEBHOOK#*"].contains(&keys.trim()),
                    "{keys} {:?}",
                    st.actions
                );
            }
        }
    }

    /// Each secret is read by the function that needs it, and by no other.
    #[test]
    fn each_secret_is_read_only_by_the_functions_that_need_it() {
        let readers = template().secret_readers().unwrap();
        let expected: BTreeMap<String, Vec<String>> = [
            ("IncidentWebhookSecret", vec![HOOKS]),
            ("PagerDutyTokenSecret", vec!["IncidentResponderFunction"]),
            ("PagerDutyWebhookSecret", vec![HOOKS]),
            ("RespondedLinkKeySecret", vec![HOOKS, "IncidentResponderFunction"]),
            (
                "VerifyKeySecret",
                vec!["FreshnessCheckFunction", "PlansApiFunction"],
            ),
        ]
        .into_iter()
        .map(|(s, f)| (s.to_owned(), f.into_iter().map(str::to_owned).collect()))
        .collect();
        assert_eq!(readers, expected);
    }

    #[test]
    fn a_secret_read_on_every_secret_is_found() {
        let t = Template::parse(
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - Statement:\n            - Effect: Allow\n              Action: secretsmanager:GetSecretValue\n              Resource: '*'\n",
        )
        .unwrap();
        let err = t.secret_readers().unwrap_err().to_string();
        assert!(err.contains("F may read secret values on *"), "{err}");
    }

    #[test]
    fn a_role_that_reads_a_secret_is_found() {
        let t = Template::parse(
            "Resources:\n  S:\n    Type: AWS::SecretsManager::Secret\n    Properties: {}\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      Policies:\n        - PolicyName: p\n          PolicyDocument:\n            Statement:\n              - Effect: Allow\n                Action: secretsmanager:*\n                Resource: !Ref S\n",
        )
        .unwrap();
        let readers = t.secret_readers().unwrap();
        assert_eq!(readers["S"], ["R"]);
    }

    #[test]
    fn a_sam_policy_template_is_not_taken_for_least_privilege() {
        let t = Template::parse(
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - DynamoDBCrudPolicy: {TableName: T}\n",
        )
        .unwrap();
        let err = t.grants("F").unwrap_err().to_string();
        assert!(err.contains("not an inline Statement list"), "{err}");
    }

    /// No authorizer on the webhook routes (the signature is the credential)
    /// nor on the responded link's (the token is), and they reach the
    /// webhook function only; nothing else is open: the portals' responded
    /// route has the API's authorizer, and every other route reaches the
    /// plans API behind it.
    #[test]
    fn the_webhook_routes_are_open_and_reach_only_the_webhook_function() {
        let t = template();
        let mut open = t.unauthenticated_routes();
        open.sort();
        assert_eq!(
            open,
            [
                "GET /responded/{token}",
                "GET /verify/{token}",
                "POST /hooks/incident",
                "POST /hooks/pagerduty",
                "POST /responded/{token}",
                "POST /verify/{token}",
                "POST /verify/{token}/change"
            ],
            "the routes without an authorizer"
        );
        let routes = t.route_functions().unwrap();
        let expected: BTreeMap<String, String> = [
            ("$default", "PlansApiFunction"),
            ("GET /verify/{token}", "PlansApiFunction"),
            ("POST /verify/{token}", "PlansApiFunction"),
            ("POST /verify/{token}/change", "PlansApiFunction"),
            ("POST /hooks/pagerduty", HOOKS),
            ("POST /hooks/incident", HOOKS),
            ("GET /responded/{token}", HOOKS),
            ("POST /responded/{token}", HOOKS),
            ("POST /incidents/{incident}/plans/{plan}/responded", HOOKS),
        ]
        .into_iter()
        .map(|(k, f)| (k.to_owned(), f.to_owned()))
        .collect();
        assert_eq!(routes, expected);
        // The portals' route has the API's authorizer, as $default has.
        let portal = t
            .resources_of_type("AWS::ApiGatewayV2::Route")
            .find(|(_, r)| {
                r.get("Properties")
                    .and_then(|p| p.get("RouteKey"))
                    .and_then(Value::as_str)
                    == Some("POST /incidents/{incident}/plans/{plan}/responded")
            })
            .map(|(_, r)| &r["Properties"])
            .expect("the portals' responded route");
        assert_eq!(
            render(&portal["AuthorizationType"]),
            "!If - UseJwt - JWT - AWS_IAM"
        );
        // API Gateway may invoke the webhook function for those routes only.
        let mut sources = t.api_invoke_sources(HOOKS);
        sources.sort();
        assert_eq!(sources.len(), 3, "{sources:?}");
        assert!(sources[0].ends_with("${HttpApi}/*/*/responded/*"), "{sources:?}");
        assert!(sources[1].ends_with("${HttpApi}/*/POST/hooks/*"), "{sources:?}");
        assert!(
            sources[2].ends_with("${HttpApi}/*/POST/incidents/*/plans/*/responded"),
            "{sources:?}"
        );
        for route in [
            "POST /hooks/pagerduty",
            "POST /hooks/incident",
            "GET /responded/{token}",
            "POST /responded/{token}",
        ] {
            let own = t.route_throttle(route).unwrap().expect("a throttle of its own");
            assert!(own.rate >= 1.0 && own.burst >= 1.0, "{route}: {own:?}");
        }
    }

    /// The secrets the operator fills are created empty: a value in the
    /// template would be a credential in the repository (or a generated one
    /// nobody can give to PagerDuty), and a stack update would overwrite the
    /// operator's. Each says how to fill it.
    #[test]
    fn the_secrets_the_operator_fills_get_no_value_from_the_stack() {
        let t = template();
        for secret in [
            "PagerDutyWebhookSecret",
            "IncidentWebhookSecret",
            "PagerDutyTokenSecret",
        ] {
            assert!(
                !t.secret_value_given(secret).unwrap(),
                "{secret} is given a value"
            );
            let description = t.secret_description(secret).unwrap();
            assert!(
                description.contains("aws secretsmanager put-secret-value --secret-id"),
                "{secret}: {description}"
            );
        }
    }

    /// Each function is told the resources its policy lets it use.
    #[test]
    fn the_webhook_function_and_the_responder_are_told_their_secrets_and_settings() {
        let t = template();
        let env = |f: &str, name: &str| {
            render(
                t.function_env(f, name)
                    .unwrap_or_else(|| panic!("{f} has no environment variable {name}")),
            )
        };
        assert_eq!(env(HOOKS, "TABLE_NAME"), "!Ref PlansTable");
        assert_eq!(
            env(HOOKS, "PAGERDUTY_WEBHOOK_SECRET_ARN"),
            "!Ref PagerDutyWebhookSecret"
        );
        assert_eq!(
            env(HOOKS, "INCIDENT_WEBHOOK_SECRET_ARN"),
            "!Ref IncidentWebhookSecret"
        );
        assert_eq!(
            env(HOOKS, "RESPONDER_FUNCTION"),
            "!GetAtt IncidentResponderFunction.Arn"
        );
        assert_eq!(
            env(HOOKS, "RESPONDED_KEY_SECRET_ARN"),
            "!Ref RespondedLinkKeySecret"
        );
        // The links' key is the stack's own, generated like the verification key.
        assert!(t.secret_value_given("RespondedLinkKeySecret").unwrap());
        assert!(!env(HOOKS, "RUST_LOG").is_empty());
        let responder = "IncidentResponderFunction";
        assert_eq!(
            env(responder, "PAGERDUTY_TOKEN_SECRET_ARN"),
            "!Ref PagerDutyTokenSecret"
        );
        assert_eq!(env(responder, "PAGERDUTY_URL"), "!Ref PagerDutyApiUrl");
        assert_eq!(
            env(responder, "RESPONDED_KEY_SECRET_ARN"),
            "!Ref RespondedLinkKeySecret"
        );
        assert!(
            env(responder, "RESPONDED_URL").ends_with(".${AWS::URLSuffix}/responded/"),
            "{}",
            env(responder, "RESPONDED_URL")
        );
        assert_eq!(env(responder, "PAGERDUTY_FROM"), "!Ref PagerDutyFromEmail");
        assert_eq!(
            env(responder, "PAGERDUTY_PRIORITY_IMPACTS"),
            "!Ref PagerDutyPriorityImpacts"
        );
        // The webhook's generic incidents are the responder's generic events
        // from source support-plans.webhook, which it must accept.
        let sources = env(responder, "GENERIC_SOURCES");
        assert!(sources.contains("support-plans.webhook"), "{sources}");
        assert!(sources.contains("GenericIncidentSources"), "{sources}");
    }

    /// A hand-off that fails in the responder is retried by Lambda, then
    /// kept in the dead-letter queue (alarmed), not lost.
    #[test]
    fn a_failed_hand_off_is_retried_then_dead_lettered() {
        let (retries, dlq) = template().async_retries("IncidentResponderFunction").unwrap();
        assert_eq!(retries, 2);
        assert!(dlq, "the responder has no DeadLetterQueue");
    }

    /// SPEC §11, §13: every call of the webhook edge at its deadline (a
    /// delivery's within PagerDuty's 5 s, a mark's longer) ends before Lambda
    /// stops the function and before API Gateway's 29 s, only if the template
    /// says the timeout the code derives them from (`deadlines.rs` tests the sums).
    #[test]
    fn the_webhook_edges_timeout_is_the_one_its_deadlines_are_derived_from() {
        let timeout = template().function_timeout(HOOKS).unwrap();
        assert_eq!(
            timeout,
            support_plans_aws::deadlines::HOOKS_TIMEOUT.as_secs(),
            "template.yaml's IncidentHooksFunction Timeout is not functions/aws/src/deadlines.rs HOOKS_TIMEOUT"
        );
        assert!(timeout < 29, "{timeout} s: API Gateway gives up at 29 s");
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
