//! The runbook a response plan starts (SPEC §4 trigger 1, "The runbook's
//! payload"), rendered from `template.yaml` as SSM Automation would: the
//! `AWS::SSM::Document` resource's one `aws:invokeLambdaFunction` step, its
//! `InputPayload` (or legacy `Payload`) with the `{{ PARAMETER }}` references
//! replaced by the values Incident Manager starts the automation with.
//!
//! The substitution rules (AWS Systems Manager User Guide, "Automation
//! system variables" and "aws:invokeLambdaFunction"):
//! - a value that is exactly one reference takes the parameter's typed value:
//!   a String is a string, a StringList a list, and so on;
//! - a reference inside a longer string is a basic string replace; that is
//!   defined for String (and Integer, Boolean) parameters only. How SSM writes
//!   a StringList into a string is not documented, so the emulator refuses
//!   such a document rather than guess;
//! - `InputPayload` (a StringMap) takes precedence over `Payload` (a JSON
//!   string), which must render to valid JSON.
//!
//! Everything that cannot be rendered is refused when the document is loaded
//! (at the emulator's start), never papered over at delivery time.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};
use serde_yaml::Value as Yaml;

/// The resource read by default: the runbook `template.yaml` ships.
pub const DEFAULT_RESOURCE: &str = "ResponderRunbook";

/// A loaded runbook: its parameters and its Lambda step's payload template.
#[derive(Debug, Clone)]
pub struct Runbook {
    /// `template.yaml#ResponderRunbook`, for messages.
    pub source: String,
    /// The step's name and its `FunctionName` as written (a `!Ref` stays one).
    pub step: String,
    pub function: String,
    params: BTreeMap<String, Param>,
    payload: Payload,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    StringList,
    Boolean,
    Integer,
    StringMap,
    MapList,
}

#[derive(Debug, Clone)]
struct Param {
    kind: Kind,
    /// `None`: required. `Some(Err(tag))`: a CloudFormation intrinsic the
    /// emulator cannot resolve (fine unless the payload references it).
    default: Option<Result<Value, String>>,
}

#[derive(Debug, Clone)]
enum Payload {
    /// `InputPayload`: a map whose values may be whole references.
    Input(Value),
    /// `Payload`: a JSON string, references interpolated.
    Legacy(String),
}

/// One `{{ NAME }}` reference found in a string.
struct Ref<'a> {
    start: usize,
    end: usize,
    name: &'a str,
}

fn refs(s: &str) -> Vec<Ref<'_>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = s[from..].find("{{").map(|i| i + from) {
        let Some(close) = s[open..].find("}}").map(|i| i + open) else {
            break;
        };
        out.push(Ref {
            start: open,
            end: close + 2,
            name: s[open + 2..close].trim(),
        });
        from = close + 2;
    }
    out
}

fn kind(s: &str) -> Option<Kind> {
    Some(match s {
        "String" => Kind::String,
        "StringList" => Kind::StringList,
        "Boolean" => Kind::Boolean,
        "Integer" => Kind::Integer,
        "StringMap" => Kind::StringMap,
        "MapList" => Kind::MapList,
        _ => return None,
    })
}

fn tag_name(t: &serde_yaml::value::TaggedValue) -> String {
    format!("!{}", t.tag.to_string().trim_start_matches('!'))
}

/// YAML to JSON; a CloudFormation tag (`!Ref`, `!Sub`, ...) is an error
/// naming it, since only CloudFormation can resolve it.
fn to_json(v: &Yaml, at: &str) -> Result<Value, String> {
    Ok(match v {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(*b),
        Yaml::Number(n) => serde_json::to_value(n).map_err(|e| format!("{at}: {e}"))?,
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| to_json(x, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Mapping(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                let k = k
                    .as_str()
                    .ok_or_else(|| format!("{at}: a key that is not a string"))?;
                out.insert(k.to_owned(), to_json(x, &format!("{at}.{k}"))?);
            }
            Value::Object(out)
        }
        Yaml::Tagged(t) => {
            return Err(format!(
                "{at} is a CloudFormation {} value, which only a deployment resolves",
                tag_name(t)
            ));
        }
    })
}

fn written(v: &Yaml) -> String {
    match v {
        Yaml::String(s) => s.clone(),
        Yaml::Tagged(t) => format!("{} {}", tag_name(t), written(&t.value)),
        other => serde_yaml::to_string(other).unwrap_or_default().trim().to_owned(),
    }
}

impl Runbook {
    /// The runbook resource `resource` of the template at `path`.
    pub fn from_template(path: &Path, resource: &str) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        Self::from_template_str(&text, resource)
            .map_err(|e| format!("{}#{resource}: {e}", path.display()))
            .map(|mut r| {
                r.source = format!("{}#{resource}", path.display());
                r
            })
    }

    pub fn from_template_str(text: &str, resource: &str) -> Result<Self, String> {
        let doc: Yaml = serde_yaml::from_str(text).map_err(|e| format!("the template is not YAML: {e}"))?;
        let res = doc
            .get("Resources")
            .and_then(|r| r.get(resource))
            .ok_or_else(|| format!("the template has no resource {resource}"))?;
        let ty = res.get("Type").and_then(Yaml::as_str);
        if ty != Some("AWS::SSM::Document") {
            return Err(format!("Type is {ty:?}, not AWS::SSM::Document"));
        }
        let props = res.get("Properties").ok_or("it has no Properties")?;
        let doc_type = props.get("DocumentType").and_then(Yaml::as_str);
        if doc_type != Some("Automation") {
            return Err(format!("DocumentType is {doc_type:?}, not Automation"));
        }
        let content = match props.get("Content") {
            Some(Yaml::String(s)) => {
                serde_yaml::from_str(s).map_err(|e| format!("Content is not YAML or JSON: {e}"))?
            }
            Some(c @ Yaml::Mapping(_)) => c.clone(),
            _ => return Err("Content is not a document".into()),
        };
        let schema = content.get("schemaVersion").map(written);
        if schema.as_deref() != Some("0.3") {
            return Err(format!(
                "schemaVersion is {schema:?}; Automation runbooks use \"0.3\""
            ));
        }

        let mut params = BTreeMap::new();
        if let Some(ps) = content.get("parameters") {
            let ps = ps.as_mapping().ok_or("parameters is not a map")?;
            for (name, p) in ps {
                let name = name.as_str().ok_or("a parameter name is not a string")?;
                let t = p.get("type").and_then(Yaml::as_str).unwrap_or_default();
                let kind = kind(t).ok_or_else(|| format!("parameter {name}: unknown type {t:?}"))?;
                let default = match p.get("default") {
                    None => None,
                    Some(Yaml::Tagged(t)) => Some(Err(tag_name(t))),
                    Some(d) => {
                        let v = to_json(d, &format!("parameter {name}'s default"))?;
                        check_value(kind, &v).map_err(|e| format!("parameter {name}'s default: {e}"))?;
                        Some(Ok(v))
                    }
                };
                params.insert(name.to_owned(), Param { kind, default });
            }
        }

        let steps = content
            .get("mainSteps")
            .and_then(Yaml::as_sequence)
            .ok_or("the document has no mainSteps")?;
        // The emulator runs nothing else: a step it would skip is refused.
        if let Some(other) = steps
            .iter()
            .find(|s| s.get("action").and_then(Yaml::as_str) != Some("aws:invokeLambdaFunction"))
        {
            return Err(format!(
                "step {:?} has action {:?}; the emulator renders aws:invokeLambdaFunction steps only",
                other.get("name").map(written).unwrap_or_default(),
                other.get("action").map(written).unwrap_or_default()
            ));
        }
        let [step] = steps.as_slice() else {
            return Err(format!(
                "{} aws:invokeLambdaFunction steps; the emulator renders exactly one",
                steps.len()
            ));
        };
        let step_name = step.get("name").map(written).unwrap_or_default();
        let inputs = step
            .get("inputs")
            .ok_or_else(|| format!("step {step_name:?} has no inputs"))?;
        let function = inputs
            .get("FunctionName")
            .map(written)
            .ok_or_else(|| format!("step {step_name:?} has no FunctionName"))?;
        let payload = match (inputs.get("InputPayload"), inputs.get("Payload")) {
            // SSM: InputPayload takes precedence; Payload is then not used.
            (Some(p), _) => {
                let v = to_json(p, "InputPayload")?;
                if !v.is_object() {
                    return Err("InputPayload is not a map (a StringMap)".into());
                }
                Payload::Input(v)
            }
            (None, Some(Yaml::String(s))) => Payload::Legacy(s.clone()),
            (None, Some(other)) => return Err(format!("Payload is not a string: {}", written(other))),
            (None, None) => Payload::Input(Value::Object(Map::new())),
        };
        let runbook = Runbook {
            source: format!("template.yaml#{resource}"),
            step: step_name,
            function,
            params,
            payload,
        };
        runbook.check()?;
        Ok(runbook)
    }

    /// Every reference names a declared parameter, is used in a way SSM
    /// defines, and (legacy Payload) the result is JSON.
    fn check(&self) -> Result<(), String> {
        match &self.payload {
            Payload::Input(v) => self.check_value(v, "InputPayload"),
            Payload::Legacy(s) => {
                self.check_string(s, "Payload")?;
                // Rendered with placeholders of each type, the JSON must parse.
                let sample = self.interpolate(s, &|_: &str, k: Kind| Ok(sample_text(k)))?;
                serde_json::from_str::<Value>(&sample)
                    .map(drop)
                    .map_err(|e| format!("Payload does not render to JSON ({e}): {sample}"))
            }
        }
    }

    fn check_value(&self, v: &Value, at: &str) -> Result<(), String> {
        match v {
            Value::String(s) => self.check_string(s, at),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .try_for_each(|(i, x)| self.check_value(x, &format!("{at}[{i}]"))),
            Value::Object(m) => m
                .iter()
                .try_for_each(|(k, x)| self.check_value(x, &format!("{at}.{k}"))),
            _ => Ok(()),
        }
    }

    fn check_string(&self, s: &str, at: &str) -> Result<(), String> {
        let found = refs(s);
        let whole = found.len() == 1 && found[0].start == 0 && found[0].end == s.len();
        for r in &found {
            let p = self.params.get(r.name).ok_or_else(|| {
                format!(
                    "{at} references {{{{ {} }}}}, which is not a parameter of the document (declared: {})",
                    r.name,
                    self.params.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            })?;
            if !whole && matches!(p.kind, Kind::StringList | Kind::StringMap | Kind::MapList) {
                return Err(format!(
                    "{at} pastes the {:?} parameter {} into a longer string; SSM does not document how it writes a {:?} there, so the emulator will not guess: make the value exactly \"{{{{ {} }}}}\"",
                    p.kind, r.name, p.kind, r.name
                ));
            }
        }
        Ok(())
    }

    /// Replaces each reference in `s` by the text `value` gives for it.
    fn interpolate(
        &self,
        s: &str,
        value: &dyn Fn(&str, Kind) -> Result<String, String>,
    ) -> Result<String, String> {
        let mut out = String::new();
        let mut last = 0;
        for r in refs(s) {
            out.push_str(&s[last..r.start]);
            let kind = self.params.get(r.name).map_or(Kind::String, |p| p.kind);
            out.push_str(&value(r.name, kind)?);
            last = r.end;
        }
        out.push_str(&s[last..]);
        Ok(out)
    }

    /// The payload the step sends when the automation starts with
    /// `supplied` (parameter name -> values, as StartAutomationExecution
    /// takes them); unsupplied parameters take their defaults.
    pub fn render(&self, supplied: &BTreeMap<String, Vec<String>>) -> Result<Value, String> {
        if let Some(name) = supplied.keys().find(|n| !self.params.contains_key(*n)) {
            return Err(format!(
                "parameter {name} is not defined in the document {}",
                self.source
            ));
        }
        let mut values = BTreeMap::new();
        for (name, p) in &self.params {
            let v = match (supplied.get(name), &p.default) {
                (Some(given), _) => typed(p.kind, given).map_err(|e| format!("parameter {name}: {e}"))?,
                (None, Some(Ok(d))) => d.clone(),
                (None, Some(Err(tag))) if self.payload_uses(name) => {
                    return Err(format!(
                        "parameter {name} is not given and its default is a CloudFormation {tag} value the emulator cannot resolve"
                    ));
                }
                // Unresolvable, and unused by the payload: never rendered.
                (None, Some(Err(_))) => continue,
                (None, None) => return Err(format!("parameter {name} is required and was not given")),
            };
            values.insert(name.clone(), v);
        }
        let text = |name: &str, _: Kind| -> Result<String, String> {
            let v = values
                .get(name)
                .ok_or_else(|| format!("parameter {name} has no value"))?;
            Ok(match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        };
        match &self.payload {
            Payload::Input(v) => Ok(self.substitute(v, &values, &text)?),
            Payload::Legacy(s) => {
                let rendered = self.interpolate(s, &text)?;
                serde_json::from_str(&rendered)
                    .map_err(|e| format!("Payload renders to invalid JSON ({e}): {rendered}"))
            }
        }
    }

    fn payload_uses(&self, name: &str) -> bool {
        let text = match &self.payload {
            Payload::Input(v) => v.to_string(),
            Payload::Legacy(s) => s.clone(),
        };
        refs(&text).iter().any(|r| r.name == name)
    }

    fn substitute(
        &self,
        v: &Value,
        values: &BTreeMap<String, Value>,
        text: &dyn Fn(&str, Kind) -> Result<String, String>,
    ) -> Result<Value, String> {
        Ok(match v {
            Value::String(s) => {
                let found = refs(s);
                match found.as_slice() {
                    [r] if r.start == 0 && r.end == s.len() => values
                        .get(r.name)
                        .cloned()
                        .ok_or_else(|| format!("parameter {} has no value", r.name))?,
                    [] => v.clone(),
                    _ => Value::String(self.interpolate(s, text)?),
                }
            }
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|x| self.substitute(x, values, text))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    out.insert(k.clone(), self.substitute(x, values, text)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    /// One line for the emulator's start message.
    pub fn describe(&self) -> String {
        let kind = match self.payload {
            Payload::Input(_) => "InputPayload",
            Payload::Legacy(_) => "Payload",
        };
        format!(
            "{} (step {}, {kind}, FunctionName {})",
            self.source, self.step, self.function
        )
    }
}

fn sample_text(k: Kind) -> String {
    match k {
        Kind::Integer => "1".into(),
        Kind::Boolean => "true".into(),
        _ => "x".into(),
    }
}

fn check_value(kind: Kind, v: &Value) -> Result<(), String> {
    let ok = match kind {
        Kind::String => v.is_string(),
        Kind::StringList => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        Kind::Boolean => v.is_boolean(),
        Kind::Integer => v.is_i64() || v.is_u64(),
        Kind::StringMap => v.is_object(),
        Kind::MapList => v.as_array().is_some_and(|a| a.iter().all(Value::is_object)),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{v} is not a {kind:?}"))
    }
}

/// A value given as StartAutomationExecution's list of strings, typed.
fn typed(kind: Kind, given: &[String]) -> Result<Value, String> {
    let one = || match given {
        [v] => Ok(v.as_str()),
        _ => Err(format!("a {kind:?} takes one value, not {}", given.len())),
    };
    Ok(match kind {
        Kind::String => Value::String(one()?.to_owned()),
        Kind::StringList => Value::Array(given.iter().cloned().map(Value::String).collect()),
        Kind::Boolean => Value::Bool(
            one()?
                .parse()
                .map_err(|_| format!("{:?} is not true or false", given))?,
        ),
        Kind::Integer => Value::from(
            one()?
                .parse::<i64>()
                .map_err(|_| format!("{given:?} is not an integer"))?,
        ),
        Kind::StringMap | Kind::MapList => {
            return Err(format!(
                "a {kind:?} given by a response plan is not rendered by the emulator"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:ssm-incidents::111122223333:incident-record/p/abc";
    const DB: &str = "arn:aws:rds:us-east-1:111122223333:db:payments";
    const QUEUE: &str = "arn:aws:sqs:us-east-1:111122223333:orders";

    fn project_template() -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
        std::fs::read_to_string(path).expect("template.yaml")
    }

    fn incident_inputs(resources: &[&str]) -> BTreeMap<String, Vec<String>> {
        BTreeMap::from([
            ("INCIDENT_RECORD_ARN".to_owned(), vec![ARN.to_owned()]),
            (
                "INVOLVED_RESOURCES".to_owned(),
                resources.iter().map(|r| (*r).to_owned()).collect(),
            ),
        ])
    }

    /// A document with `inputs` as its Lambda step's inputs.
    fn doc(inputs: &str) -> String {
        format!(
            "Resources:
  R:
    Type: AWS::SSM::Document
    Properties:
      DocumentType: Automation
      Content:
        schemaVersion: '0.3'
        assumeRole: '{{{{ Role }}}}'
        parameters:
          A: {{type: String}}
          L: {{type: StringList, default: []}}
          N: {{type: Integer, default: 3}}
          Role: {{type: String, default: !GetAtt Role.Arn}}
        mainSteps:
          - name: s
            action: aws:invokeLambdaFunction
            inputs:
              FunctionName: !Ref F
{inputs}"
        )
    }

    fn load(inputs: &str) -> Result<Runbook, String> {
        Runbook::from_template_str(&doc(inputs), "R")
    }

    #[test]
    fn the_template_runbook_sends_involved_resources_as_a_json_list() {
        let runbook = Runbook::from_template_str(&project_template(), DEFAULT_RESOURCE)
            .unwrap_or_else(|e| panic!("template.yaml's runbook cannot be rendered: {e}"));
        let payload = runbook.render(&incident_inputs(&[DB, QUEUE])).expect("rendered");
        assert_eq!(payload["incident_record_arn"], ARN);
        assert_eq!(
            payload["involved_resources"],
            serde_json::json!([DB, QUEUE]),
            "a JSON list of the incident's resources: {payload}"
        );
        // No resources: still a list, never a string.
        let payload = runbook.render(&incident_inputs(&[])).expect("rendered");
        assert_eq!(payload["involved_resources"], serde_json::json!([]));
    }

    #[test]
    fn whole_references_keep_their_type_and_embedded_strings_interpolate() {
        let r = load(
            "              InputPayload:
                arn: '{{ A }}'
                list: '{{L}}'
                n: '{{ N }}'
                text: 'incident {{ A }} (n={{ N }})'
                nested: {deep: ['{{ L }}']}
                plain: 7",
        )
        .expect("loads");
        let p = r
            .render(&BTreeMap::from([
                ("A".into(), vec!["a1".into()]),
                ("L".into(), vec!["x".into(), "y".into()]),
            ]))
            .expect("renders");
        assert_eq!(
            p,
            serde_json::json!({"arn": "a1", "list": ["x", "y"], "n": 3, "text": "incident a1 (n=3)", "nested": {"deep": [["x", "y"]]}, "plain": 7})
        );
    }

    #[test]
    fn a_string_list_pasted_into_a_string_is_refused_at_load() {
        // What the template shipped before: a StringList inside a JSON string.
        let e = load(
            r#"              Payload: '{"incident_record_arn": "{{ A }}", "involved_resources": "{{ L }}"}'"#,
        )
        .expect_err("refused");
        assert!(e.contains("StringList parameter L into a longer string"), "{e}");
        let e = load("              InputPayload: {r: 'resources: {{ L }}'}").expect_err("refused");
        assert!(e.contains("InputPayload.r"), "{e}");
    }

    #[test]
    fn legacy_payload_of_strings_renders_and_must_be_json() {
        let r = load(r#"              Payload: '{"arn": "{{ A }}", "n": {{ N }}}'"#).expect("loads");
        let p = r
            .render(&BTreeMap::from([("A".into(), vec!["a1".into()])]))
            .expect("renders");
        assert_eq!(p, serde_json::json!({"arn": "a1", "n": 3}));
        let e = load(r#"              Payload: '{"arn": {{ A }}}'"#).expect_err("not JSON");
        assert!(e.contains("does not render to JSON"), "{e}");
    }

    #[test]
    fn unknown_parameters_bad_shapes_and_missing_values_are_named() {
        let e = load("              InputPayload: {x: '{{ NOPE }}'}").expect_err("unknown");
        assert!(
            e.contains("{{ NOPE }}") && e.contains("declared: A, L, N, Role"),
            "{e}"
        );
        let e = load("              InputPayload: '{{ A }}'").expect_err("not a map");
        assert!(e.contains("not a map"), "{e}");
        let e = load("              InputPayload: {x: !Sub '${F}'}").expect_err("tag");
        assert!(e.contains("!Sub"), "{e}");
        let e = Runbook::from_template_str(&doc("").replace("aws:invokeLambdaFunction", "aws:sleep"), "R")
            .expect_err("other action");
        assert!(e.contains("aws:sleep"), "{e}");
        let e = Runbook::from_template_str(&doc(""), "Missing").expect_err("no resource");
        assert!(e.contains("no resource Missing"), "{e}");

        let r = load("              InputPayload: {a: '{{ A }}', role: '{{ Role }}'}").expect("loads");
        let e = r.render(&BTreeMap::new()).expect_err("A required");
        assert!(e.contains("parameter A is required"), "{e}");
        let e = r
            .render(&BTreeMap::from([("A".into(), vec!["a".into()])]))
            .expect_err("Role unresolvable");
        assert!(e.contains("!GetAtt"), "{e}");
        let e = r
            .render(&BTreeMap::from([
                ("A".into(), vec!["a".into()]),
                ("Role".into(), vec!["r".into()]),
                ("Extra".into(), vec![]),
            ]))
            .expect_err("undeclared");
        assert!(e.contains("Extra is not defined"), "{e}");
        let e = r
            .render(&BTreeMap::from([("A".into(), vec!["a".into(), "b".into()])]))
            .expect_err("two values");
        assert!(e.contains("takes one value"), "{e}");
    }
}
