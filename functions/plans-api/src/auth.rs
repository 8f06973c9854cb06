//! Who is calling, and what they may do (SPEC §3 "Who may do what").
//!
//! API Gateway authenticates; the identity arrives in the request context:
//! an IAM principal, or the claims of a JWT its authorizer verified. Any
//! authenticated caller may read; writes need an admin (an IAM principal
//! matching `ADMIN_PRINCIPALS`, or a member of an `ADMIN_GROUPS` group) or a
//! member of the resource's owner team (a JWT group equal to it, or an IAM
//! principal matching one of its `TEAM_PRINCIPALS` patterns).
//!
//! IAM callers are people too (SPEC §3): API Gateway names a role's caller
//! by its session, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, while an
//! operator writes the role, `arn:aws:iam::ACCOUNT:role/PATH/ROLE`. A role
//! pattern matches the role's sessions: the session ARN has no path, and
//! none is needed, since IAM role names are unique in an account whatever
//! their path; so the pattern's partition, account and role name (the part
//! after its last `/`) are matched. A pattern with a path may not have a `*`
//! in the role's name (`role/aws-reserved/*`, `role/payments/*-deployer`):
//! the path cannot be checked against a session, so it would match roles so
//! named under any path; it is refused at start, and a glob is written
//! without the path (`role/AWSReservedSSO_Payments_*`), saying what it matches.
//!
//! A JWT caller is named by its subject (`sub`, or `JWT_PRINCIPAL_CLAIM`),
//! never by a claim users set themselves, and is never matched against the
//! IAM ARN patterns. API Gateway flattens array claims into `[a b]`, which
//! cannot tell the groups `a`, `b` from the one group `a b`; so groups are
//! read from the bearer token the authorizer verified (its payload, checked
//! to be that token by `sub`, `iss`, `exp`, `iat`, `jti`), and without it only
//! a claim that reads one way counts. An e-mail names the caller in the
//! history only when the token says it is verified.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::request::RequestContext;
use serde_json::{Map, Value};
use support_plans_domain::Actor;
use support_plans_domain::matching::glob_match;

use crate::AppState;
use crate::error::ApiError;

/// How the caller was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    /// SigV4: the principal is an IAM ARN, matched against `ADMIN_PRINCIPALS`.
    Iam,
    /// A JWT: the principal is the token's subject, never matched against ARNs.
    Jwt,
    /// `LOCAL_AUTH` headers (the local stack only): stands in for either.
    Local,
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub kind: CallerKind,
    /// An IAM principal ARN, or the JWT's subject (`sub` or the configured claim).
    pub principal: String,
    /// How the history names the caller: the ARN; a JWT caller's verified
    /// e-mail, else `jwt:<subject>`.
    pub display: String,
    pub groups: Vec<String>,
}

impl Caller {
    /// An IAM principal.
    pub fn iam(arn: impl Into<String>) -> Self {
        let arn = arn.into();
        Self {
            kind: CallerKind::Iam,
            display: arn.clone(),
            principal: arn,
            groups: Vec::new(),
        }
    }

    /// The name recorded as `updated_by`, `verified_by` and `reviewed_by`.
    pub fn actor(&self) -> Result<Actor, ApiError> {
        Actor::parse(&self.display).map_err(|m| ApiError::forbidden(format!("caller identity unusable: {m}")))
    }
}

/// Claims users can set themselves: never the name a caller is known by.
const USER_SET_CLAIMS: &[&str] = &[
    "email",
    "username",
    "cognito:username",
    "preferred_username",
    "name",
    "nickname",
    "given_name",
    "family_name",
    "phone_number",
];

/// The JWT claims that hold groups.
const GROUP_CLAIMS: [&str; 2] = ["groups", "cognito:groups"];

/// Authorization settings, read from the environment once per process.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// ARN patterns (`*` globs) of admin IAM principals.
    pub admin_principals: Vec<String>,
    /// IAM principal patterns and the owner team each writes for
    /// (`TEAM_PRINCIPALS`), in the order given.
    pub team_principals: Vec<(String, String)>,
    pub admin_groups: Vec<String>,
    /// Local development only: take the caller from `x-local-principal` and
    /// `x-local-groups`. Set by the local stack; refused in AWS.
    pub local_auth: bool,
    /// The JWT claim that names the caller (`JWT_PRINCIPAL_CLAIM`, default `sub`).
    pub principal_claim: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            admin_principals: Vec::new(),
            team_principals: Vec::new(),
            admin_groups: Vec::new(),
            local_auth: false,
            principal_claim: "sub".into(),
        }
    }
}

fn list(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

impl AuthConfig {
    /// From the variables `get` returns. Refuses `LOCAL_AUTH` in AWS, and a
    /// `JWT_PRINCIPAL_CLAIM` users can set.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let local = get("LOCAL_AUTH").filter(|v| !v.is_empty());
        if let (Some(_), Some(signal)) = (&local, support_plans_domain::settings::aws_signal(&get)) {
            return Err(format!(
                "LOCAL_AUTH is set, but this function runs in AWS Lambda ({signal} is set): \
                 LOCAL_AUTH takes the caller from request headers and is for the local stack \
                 only (SPEC §3); remove LOCAL_AUTH from the function's environment"
            ));
        }
        let principal_claim = get("JWT_PRINCIPAL_CLAIM")
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "sub".into());
        if USER_SET_CLAIMS.contains(&principal_claim.as_str()) {
            return Err(format!(
                "JWT_PRINCIPAL_CLAIM={principal_claim} is refused: users can set that claim \
                 themselves; use sub (the default) or another claim the identity provider assigns"
            ));
        }
        let admin_principals = list(get("ADMIN_PRINCIPALS"));
        for p in &admin_principals {
            check_pattern(p).map_err(|e| format!("ADMIN_PRINCIPALS: {e}"))?;
        }
        Ok(Self {
            admin_principals,
            team_principals: team_principals(&get("TEAM_PRINCIPALS").unwrap_or_default())?,
            admin_groups: list(get("ADMIN_GROUPS")),
            local_auth: local.is_some_and(|v| v == "1"),
            principal_claim,
        })
    }

    /// Admins: IAM principals matching `ADMIN_PRINCIPALS` (a JWT caller never
    /// is matched against them, whatever its subject or e-mail), or members
    /// of an `ADMIN_GROUPS` group.
    pub fn is_admin(&self, caller: &Caller) -> bool {
        let by_principal = caller.kind != CallerKind::Jwt
            && self
                .admin_principals
                .iter()
                .any(|p| principal_matches(p, &caller.principal));
        by_principal || caller.groups.iter().any(|g| self.admin_groups.contains(g))
    }

    /// Is `caller` a member of `team`: a JWT group of that name, or an IAM
    /// principal matching one of the team's `TEAM_PRINCIPALS` patterns?
    pub fn is_member(&self, caller: &Caller, team: &str) -> bool {
        caller.groups.iter().any(|g| g == team)
            || (caller.kind != CallerKind::Jwt
                && self
                    .team_principals
                    .iter()
                    .any(|(t, p)| t == team && principal_matches(p, &caller.principal)))
    }

    /// May `caller` write a resource owned by `owner`? On a hand-over to
    /// `new_owner`, the caller must belong to both teams (or be an admin).
    pub fn may_write(&self, caller: &Caller, owner: &str, new_owner: Option<&str>) -> Result<(), ApiError> {
        let mut teams = vec![owner];
        teams.extend(new_owner.filter(|n| *n != owner));
        if self.is_admin(caller) || teams.iter().all(|t| self.is_member(caller, t)) {
            return Ok(());
        }
        Err(ApiError::forbidden(format!(
            "only an admin or a member of the owner team ({}) may change this",
            teams.join(", ")
        )))
    }
}

/// Does the IAM principal `arn` match `pattern` (`*` globs)? Directly, or,
/// for a role session `arn:P:sts::A:assumed-role/ROLE/SESSION`, when the
/// pattern is written for the role, `arn:P:iam::A:role/[PATH/]ROLE`: its
/// partition, account and role name (after the last `/`) are matched, as
/// the session ARN carries no path (IAM role names are unique in an account
/// whatever their path).
pub fn principal_matches(pattern: &str, arn: &str) -> bool {
    if glob_match(pattern, arn) {
        return true;
    }
    let (Some(session), Some(role)) = (session_role(arn), role_pattern(pattern)) else {
        return false;
    };
    glob_match(role.partition, session.partition)
        && glob_match(role.account, session.account)
        && glob_match(role.name, session.name)
}

/// A role, or a pattern for roles: partition, account and role name.
#[derive(Debug, PartialEq, Eq)]
struct RoleParts<'a> {
    partition: &'a str,
    account: &'a str,
    name: &'a str,
}

/// `arn:P:sts::A:assumed-role/ROLE/SESSION` → `P`, `A`, `ROLE`.
fn session_role(arn: &str) -> Option<RoleParts<'_>> {
    let (partition, rest) = arn.strip_prefix("arn:")?.split_once(':')?;
    let (account, resource) = rest.strip_prefix("sts::")?.split_once(':')?;
    let (role, session) = resource.strip_prefix("assumed-role/")?.split_once('/')?;
    (!role.is_empty() && !session.is_empty()).then_some(RoleParts {
        partition,
        account,
        name: role,
    })
}

/// `arn:P:iam::A:role/[PATH/]NAME` → `P`, `A`, `NAME` (globs kept).
fn role_pattern(pattern: &str) -> Option<RoleParts<'_>> {
    let (partition, rest) = pattern.strip_prefix("arn:")?.split_once(':')?;
    let (account, resource) = rest.strip_prefix("iam::")?.split_once(':')?;
    let role = resource.strip_prefix("role/")?;
    let name = role.rsplit_once('/').map_or(role, |(_, n)| n);
    (!name.is_empty()).then_some(RoleParts {
        partition,
        account,
        name,
    })
}

/// Checks one IAM principal pattern; the error says what is wrong.
fn check_pattern(pattern: &str) -> Result<(), String> {
    let ok_shape = pattern
        .strip_prefix("arn:")
        .is_some_and(|r| r.splitn(5, ':').count() == 5);
    if !ok_shape || pattern.chars().any(char::is_whitespace) {
        return Err(format!(
            "'{}' is not an IAM principal ARN pattern like arn:aws:iam::111122223333:role/NAME",
            support_plans_domain::validate::printable(pattern, 120)
        ));
    }
    if let Some(role) = pattern.split_once(":role/").map(|(_, r)| r)
        && let Some((_path, name)) = role.rsplit_once('/')
        && name.contains('*')
    {
        // A session names its role without the path, so the path cannot be
        // checked: with a literal name that is fine (role names are unique
        // in an account), with a glob the pattern would match roles of that
        // name under any path, which is not what it says.
        return Err(format!(
            "'{pattern}' has a path and a '*' in the role's name: a session's ARN \
             (arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION) has no path, so it would match roles \
             so named under any path; write the role's full name after its path, or drop the path \
             to say what it matches, e.g. arn:aws:iam::111122223333:role/AWSReservedSSO_Payments_*"
        ));
    }
    Ok(())
}

/// `TEAM_PRINCIPALS`: `TEAM=PATTERN[,PATTERN…]` entries separated by `;`.
/// An IAM name never holds `;` or whitespace and a team slug never holds
/// `=`, so an entry splits at its first `=`; patterns are separated by `,`
/// as in `ADMIN_PRINCIPALS`. Each team is a slug, each pattern an IAM
/// principal ARN pattern; an error names the setting.
fn team_principals(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for entry in raw.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let bad = |why: String| {
            format!(
                "TEAM_PRINCIPALS: '{}' {why}; write TEAM=ARN_PATTERN[,ARN_PATTERN…] entries separated by ';', \
                 e.g. payments=arn:aws:iam::111122223333:role/payments-ci",
                support_plans_domain::validate::printable(entry, 120)
            )
        };
        let (team, patterns) = entry
            .split_once('=')
            .ok_or_else(|| bad("has no '=' between the team and its patterns".into()))?;
        let team = team.trim();
        support_plans_domain::types::Slug::parse(team)
            .map_err(|m| bad(format!("names the team '{team}', which is not a team slug: {m}")))?;
        let patterns = list(Some(patterns.to_owned()));
        if patterns.is_empty() {
            return Err(bad("gives the team no IAM principal pattern".into()));
        }
        for p in patterns {
            check_pattern(&p).map_err(&bad)?;
            out.push((team.to_owned(), p));
        }
    }
    Ok(out)
}

fn refused(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", detail)
}

/// A claim as API Gateway's HTTP API passes it: a string, numbers and
/// booleans as their JSON text.
fn claim_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The payload of the compact JWT in an `Authorization` header (`Bearer `
/// optional, as API Gateway takes it). Its signature is API Gateway's to
/// check; this only reads it.
fn token_payload(header: &str) -> Option<Map<String, Value>> {
    let token = header.trim();
    let token = match token.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => token,
    };
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Is `payload` the token whose claims the authorizer passed? Not a
/// verification (API Gateway verified the token): a guard against reading
/// groups from any other token than that one.
fn same_token(
    payload: &Map<String, Value>,
    claims: &HashMap<String, String>,
    principal_claim: &str,
) -> Result<(), ApiError> {
    let text = |k: &str| payload.get(k).and_then(claim_text);
    for k in ["sub", "iss", "exp", principal_claim] {
        if text(k).is_none() || text(k).as_ref() != claims.get(k) {
            return Err(refused(format!(
                "the bearer token is not the one API Gateway verified (its '{k}' differs)"
            )));
        }
    }
    for k in ["iat", "jti"] {
        if text(k).as_ref() != claims.get(k) {
            return Err(refused(format!(
                "the bearer token is not the one API Gateway verified (its '{k}' differs)"
            )));
        }
    }
    Ok(())
}

/// Groups from a token's payload, exactly: each string of an array claim,
/// or a string claim as one group.
fn payload_groups(payload: &Map<String, Value>) -> Vec<String> {
    GROUP_CLAIMS
        .iter()
        .filter_map(|k| payload.get(*k))
        .flat_map(|v| match v {
            Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            Value::String(s) => vec![s.clone()],
            _ => Vec::new(),
        })
        .filter(|g| !g.is_empty())
        .collect()
}

/// A group claim as API Gateway flattens it, read only where it reads one
/// way: `[a]` is the group `a`, a claim without brackets is one group; `[a b]`
/// could be two groups or one and gives none.
fn flattened_groups(raw: &str) -> Option<String> {
    match raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(inner) if inner.is_empty() || inner.chars().any(char::is_whitespace) => None,
        Some(inner) => Some(inner.to_owned()),
        None => Some(raw.to_owned()).filter(|g| !g.is_empty()),
    }
}

fn from_jwt(
    config: &AuthConfig,
    claims: &HashMap<String, String>,
    authorization: Option<&str>,
) -> Result<Caller, ApiError> {
    let claim = &config.principal_claim;
    let principal = claims
        .get(claim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| refused(format!("the token has no '{claim}' claim to name the caller")))?;
    let groups = match authorization {
        Some(header) => {
            let payload = token_payload(header)
                .ok_or_else(|| refused("the Authorization header does not hold a readable JWT"))?;
            same_token(&payload, claims, claim)?;
            payload_groups(&payload)
        }
        None => {
            let mut groups = Vec::new();
            for k in GROUP_CLAIMS {
                let Some(raw) = claims.get(k) else { continue };
                match flattened_groups(raw) {
                    Some(g) => groups.push(g),
                    None if raw != "[]" => tracing::warn!(
                        claim = k,
                        "a flattened group claim reads more than one way and no token to read it from: no groups taken"
                    ),
                    None => {}
                }
            }
            groups
        }
    };
    let verified_email = claims
        .get("email")
        .filter(|e| !e.is_empty() && claims.get("email_verified").is_some_and(|v| v == "true"));
    Ok(Caller {
        kind: CallerKind::Jwt,
        principal: principal.clone(),
        display: verified_email.map_or_else(|| format!("jwt:{principal}"), Clone::clone),
        groups,
    })
}

fn from_context(config: &AuthConfig, parts: &Parts) -> Result<Caller, ApiError> {
    let Some(RequestContext::ApiGatewayV2(ctx)) = parts.extensions.get::<RequestContext>() else {
        return Err(ApiError::unauthenticated());
    };
    let authorizer = ctx.authorizer.as_ref().ok_or_else(ApiError::unauthenticated)?;
    if let Some(jwt) = &authorizer.jwt {
        let authorization = parts
            .headers
            .get(AUTHORIZATION)
            .map(|v| {
                v.to_str()
                    .map_err(|_| refused("the Authorization header is not text"))
            })
            .transpose()?;
        return from_jwt(config, &jwt.claims, authorization);
    }
    let iam = authorizer.iam.as_ref().ok_or_else(ApiError::unauthenticated)?;
    let arn = iam
        .user_arn
        .clone()
        .filter(|a| !a.is_empty())
        .ok_or_else(ApiError::unauthenticated)?;
    Ok(Caller::iam(arn))
}

fn from_local_headers(parts: &Parts) -> Option<Caller> {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let principal = header("x-local-principal").filter(|p| !p.is_empty())?;
    let groups = header("x-local-groups")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect();
    Some(Caller {
        kind: CallerKind::Local,
        principal: principal.to_owned(),
        display: principal.to_owned(),
        groups,
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if state.auth.local_auth {
            from_local_headers(parts).ok_or_else(ApiError::unauthenticated)
        } else {
            from_context(&state.auth, parts)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattened_group_claims_count_only_where_they_read_one_way() {
        assert_eq!(flattened_groups("[payments]").as_deref(), Some("payments"));
        assert_eq!(flattened_groups("payments").as_deref(), Some("payments"));
        assert_eq!(flattened_groups("[[admins]]").as_deref(), Some("[admins]"));
        assert_eq!(flattened_groups("[x admins]"), None);
        assert_eq!(flattened_groups("[payments\tadmins]"), None);
        assert_eq!(flattened_groups("[]"), None);
        assert_eq!(flattened_groups(""), None);
    }

    #[test]
    fn groups_from_the_token_are_exact() {
        let payload: Map<String, Value> =
            serde_json::from_str(r#"{"groups": ["x admins", "payments", 7], "cognito:groups": "a,b"}"#)
                .unwrap();
        assert_eq!(payload_groups(&payload), vec!["x admins", "payments", "a,b"]);
    }

    #[test]
    fn the_payload_of_a_bearer_token() {
        let body = URL_SAFE_NO_PAD.encode(r#"{"sub":"u-1","exp":17}"#);
        for header in [
            format!("Bearer h.{body}.s"),
            format!("bearer  h.{body}.s"),
            format!("h.{body}.s"),
        ] {
            let p = token_payload(&header).unwrap();
            assert_eq!(p["sub"], "u-1");
        }
        assert!(token_payload(&format!("Bearer h.{body}")).is_none());
        assert!(token_payload(&format!("Bearer h.{body}.s.x")).is_none());
        assert!(token_payload("Bearer h.!!.s").is_none());
    }

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn local_auth_is_refused_in_aws_only() {
        let err = AuthConfig::from_vars(vars(&[("LOCAL_AUTH", "1"), ("LAMBDA_TASK_ROOT", "/var/task")]))
            .unwrap_err();
        assert!(
            err.contains("LOCAL_AUTH") && err.contains("LAMBDA_TASK_ROOT"),
            "{err}"
        );
        // cargo lambda watch sets these, and they say nothing about AWS.
        let local = AuthConfig::from_vars(vars(&[
            ("LOCAL_AUTH", "1"),
            ("AWS_LAMBDA_FUNCTION_NAME", "plans-api"),
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9000"),
            ("AWS_EXECUTION_ENV", "local"),
        ]))
        .unwrap();
        assert!(local.local_auth);
        let aws = AuthConfig::from_vars(vars(&[("LAMBDA_TASK_ROOT", "/var/task")])).unwrap();
        assert!(!aws.local_auth);
        assert_eq!(aws.principal_claim, "sub");
    }

    #[test]
    fn a_principal_claim_users_can_set_is_refused() {
        for claim in ["email", "username", "cognito:username", "preferred_username"] {
            let err = AuthConfig::from_vars(vars(&[("JWT_PRINCIPAL_CLAIM", claim)])).unwrap_err();
            assert!(err.contains("JWT_PRINCIPAL_CLAIM"), "{err}");
        }
        let oid = AuthConfig::from_vars(vars(&[("JWT_PRINCIPAL_CLAIM", "oid")])).unwrap();
        assert_eq!(oid.principal_claim, "oid");
    }

    #[test]
    fn a_role_pattern_matches_the_roles_sessions_only() {
        let session = "arn:aws:sts::111122223333:assumed-role/payments-ci/github-1";
        for pattern in [
            "arn:aws:iam::111122223333:role/payments-ci",
            "arn:aws:iam::111122223333:role/pipelines/payments-ci",
            "arn:aws:iam::111122223333:role/payments-*",
            "arn:aws:iam::*:role/payments-ci",
            "arn:aws:sts::111122223333:assumed-role/payments-ci/*",
        ] {
            assert!(principal_matches(pattern, session), "{pattern}");
        }
        for pattern in [
            "arn:aws:iam::111122223333:role/payments-c",
            "arn:aws:iam::111122223333:role/payments-ci2",
            "arn:aws:iam::444455556666:role/payments-ci",
            "arn:aws-cn:iam::111122223333:role/payments-ci",
            "arn:aws:iam::111122223333:user/payments-ci",
        ] {
            assert!(!principal_matches(pattern, session), "{pattern}");
        }
        let sso = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Payments_0a1b2c3d4e5f6789/dana@example.com";
        assert!(principal_matches(
            "arn:aws:iam::111122223333:role/AWSReservedSSO_Payments_*",
            sso
        ));
        assert!(principal_matches(
            "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Payments_0a1b2c3d4e5f6789",
            sso
        ));
        assert!(!principal_matches(
            "arn:aws:iam::111122223333:role/AWSReservedSSO_Pay_*",
            sso
        ));
        // Not sessions: only the pattern itself.
        assert!(!principal_matches(
            "arn:aws:iam::111122223333:role/payments-ci",
            "arn:aws:sts::111122223333:federated-user/payments-ci"
        ));
    }

    #[test]
    fn team_principals_read_one_way_and_refuse_what_is_unclear() {
        let teams = team_principals(
            " payments = arn:aws:iam::1:role/payments-ci, arn:aws:iam::1:role/Pay_* ;platform=arn:aws:iam::1:role/p;",
        )
        .unwrap();
        assert_eq!(
            teams,
            vec![
                ("payments".into(), "arn:aws:iam::1:role/payments-ci".into()),
                ("payments".into(), "arn:aws:iam::1:role/Pay_*".into()),
                ("platform".into(), "arn:aws:iam::1:role/p".into()),
            ]
        );
        assert!(team_principals("").unwrap().is_empty());
        for bad in [
            "payments",
            "payments=",
            "Payments Team=arn:aws:iam::1:role/p",
            "payments=role/p",
            "payments=arn:aws:iam::1:role/p arn:aws:iam::1:role/q",
            "payments=arn:aws:iam::1:role/aws-reserved/*",
        ] {
            let err = team_principals(bad).unwrap_err();
            assert!(err.starts_with("TEAM_PRINCIPALS"), "{bad}: {err}");
        }
        let err =
            AuthConfig::from_vars(vars(&[("ADMIN_PRINCIPALS", "arn:aws:iam::1:role/x/*")])).unwrap_err();
        assert!(err.contains("ADMIN_PRINCIPALS"), "{err}");
        assert!(AuthConfig::from_vars(vars(&[("ADMIN_PRINCIPALS", "arn:aws:iam::1:role/*")])).is_ok());
    }

    #[test]
    fn a_role_pattern_with_a_path_may_not_glob_the_role_s_name() {
        // A session carries no path: `role/payments/*-deployer` would match
        // the sessions of `role/platform/x-deployer` too, so it is refused;
        // written without the path, the pattern says what it matches.
        for (var, value) in [
            (
                "TEAM_PRINCIPALS",
                "payments=arn:aws:iam::1:role/payments/*-deployer",
            ),
            (
                "ADMIN_PRINCIPALS",
                "arn:aws:iam::1:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_*",
            ),
        ] {
            let err = AuthConfig::from_vars(vars(&[(var, value)])).unwrap_err();
            assert!(err.contains(var) && err.contains("path"), "{value}: {err}");
        }
        for (var, value) in [
            (
                "TEAM_PRINCIPALS",
                "payments=arn:aws:iam::1:role/AWSReservedSSO_Payments_*",
            ),
            ("ADMIN_PRINCIPALS", "arn:aws:iam::1:role/pipelines/platform-ci"),
        ] {
            assert!(AuthConfig::from_vars(vars(&[(var, value)])).is_ok(), "{value}");
        }
    }

    #[test]
    fn admins_by_iam_principal_pattern_or_group() {
        let config = AuthConfig {
            admin_principals: vec!["arn:aws:iam::111122223333:role/PlatformAdmin*".into()],
            admin_groups: vec!["support-plans-admins".into()],
            ..AuthConfig::default()
        };
        let role = Caller::iam("arn:aws:iam::111122223333:role/PlatformAdmin-ci");
        assert!(config.is_admin(&role));
        let lookalike = Caller {
            kind: CallerKind::Jwt,
            principal: "arn:aws:iam::111122223333:role/PlatformAdmin-ci".into(),
            display: "jwt:arn:aws:iam::111122223333:role/PlatformAdmin-ci".into(),
            groups: vec![],
        };
        assert!(!config.is_admin(&lookalike));
        let member = Caller {
            kind: CallerKind::Jwt,
            principal: "u-dana".into(),
            display: "dana@example.com".into(),
            groups: vec!["payments".into()],
        };
        assert!(!config.is_admin(&member));
        assert!(config.may_write(&member, "payments", None).is_ok());
        assert!(config.may_write(&member, "payments", Some("payments")).is_ok());
        assert!(config.may_write(&member, "payments", Some("platform")).is_err());
    }
}
