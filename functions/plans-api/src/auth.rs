//! Who is calling, and what they may do (SPEC §3 "Who may do what").
//!
//! API Gateway authenticates; the identity arrives in the request context
//! (an IAM principal, or a JWT's claims). Any authenticated caller may read;
//! writes need an admin (`ADMIN_PRINCIPALS` ARN patterns, `ADMIN_GROUPS`) or a
//! JWT group equal to the resource's owner team.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;
use support_plans_domain::Actor;
use support_plans_domain::matching::glob_match;

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// An IAM principal ARN, or the JWT's `email`, `username` or `sub`.
    pub principal: String,
    pub groups: Vec<String>,
}

impl Caller {
    pub fn actor(&self) -> Result<Actor, ApiError> {
        Actor::parse(&self.principal)
            .map_err(|m| ApiError::forbidden(format!("caller identity unusable: {m}")))
    }
}

/// Authorization settings, read from the environment once per process.
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    /// ARN patterns (`*` globs) of admin principals.
    pub admin_principals: Vec<String>,
    pub admin_groups: Vec<String>,
    /// Local development only: take the caller from `x-local-principal` and
    /// `x-local-groups`. Set by the local stack; `template.yaml` never sets it.
    pub local_auth: bool,
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
    pub fn from_env() -> Self {
        Self {
            admin_principals: list(std::env::var("ADMIN_PRINCIPALS").ok()),
            admin_groups: list(std::env::var("ADMIN_GROUPS").ok()),
            local_auth: std::env::var("LOCAL_AUTH").is_ok_and(|v| v == "1"),
        }
    }

    pub fn is_admin(&self, caller: &Caller) -> bool {
        self.admin_principals
            .iter()
            .any(|p| glob_match(p, &caller.principal))
            || caller.groups.iter().any(|g| self.admin_groups.contains(g))
    }

    /// May `caller` write a resource owned by `owner`? On a hand-over to
    /// `new_owner`, the caller must belong to both teams (or be an admin).
    pub fn may_write(&self, caller: &Caller, owner: &str, new_owner: Option<&str>) -> Result<(), ApiError> {
        let mut teams = vec![owner];
        teams.extend(new_owner.filter(|n| *n != owner));
        if self.is_admin(caller) || teams.iter().all(|t| caller.groups.iter().any(|g| g == t)) {
            return Ok(());
        }
        Err(ApiError::forbidden(format!(
            "only an admin or a member of the owner team ({}) may change this",
            teams.join(", ")
        )))
    }
}

/// A JWT array claim as API Gateway flattens it: `[a b c]`, or `a,b`.
fn claim_list(raw: &str) -> Vec<String> {
    raw.trim_start_matches('[')
        .trim_end_matches(']')
        .split([' ', ','])
        .map(|s| s.trim_matches('"').to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn from_context(parts: &Parts) -> Option<Caller> {
    let RequestContext::ApiGatewayV2(ctx) = parts.extensions.get::<RequestContext>()? else {
        return None;
    };
    let authorizer = ctx.authorizer.as_ref()?;
    if let Some(jwt) = &authorizer.jwt {
        let claims = &jwt.claims;
        let principal = ["email", "username", "cognito:username", "sub"]
            .iter()
            .find_map(|k| claims.get(*k).filter(|v| !v.is_empty()))?;
        let groups = ["groups", "cognito:groups"]
            .iter()
            .filter_map(|k| claims.get(*k))
            .flat_map(|v| claim_list(v))
            .collect();
        return Some(Caller {
            principal: principal.clone(),
            groups,
        });
    }
    let iam = authorizer.iam.as_ref()?;
    let principal = iam.user_arn.clone().filter(|a| !a.is_empty())?;
    Some(Caller {
        principal,
        groups: Vec::new(),
    })
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
    Some(Caller {
        principal: principal.to_owned(),
        groups: header("x-local-groups").map(claim_list).unwrap_or_default(),
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = if state.auth.local_auth {
            from_local_headers(parts)
        } else {
            from_context(parts)
        };
        caller.ok_or_else(ApiError::unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_array_claims_as_api_gateway_flattens_them() {
        assert_eq!(claim_list("[payments admins]"), vec!["payments", "admins"]);
        assert_eq!(claim_list("payments,platform"), vec!["payments", "platform"]);
        assert!(claim_list("[]").is_empty());
    }

    #[test]
    fn admins_by_principal_pattern_or_group() {
        let config = AuthConfig {
            admin_principals: vec!["arn:aws:iam::111122223333:role/PlatformAdmin*".into()],
            admin_groups: vec!["support-plans-admins".into()],
            local_auth: false,
        };
        let role = Caller {
            principal: "arn:aws:iam::111122223333:role/PlatformAdmin-ci".into(),
            groups: vec![],
        };
        assert!(config.is_admin(&role));
        let member = Caller {
            principal: "dana@example.com".into(),
            groups: vec!["payments".into()],
        };
        assert!(!config.is_admin(&member));
        assert!(config.may_write(&member, "payments", None).is_ok());
        assert!(config.may_write(&member, "payments", Some("payments")).is_ok());
        assert!(config.may_write(&member, "payments", Some("platform")).is_err());
    }
}
