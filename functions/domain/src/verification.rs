//! One-click verification (SPEC §5): whether a valid link still confirms its
//! contact, and recording the confirmation or the owner's correction. The
//! API's `/verify/{token}` routes check the token's signature, then call
//! [`current_plan`] (the page), [`confirm`] (the button) or [`correct`] (the
//! "It changed" form).

use jiff::Timestamp;

use crate::model::{Actor, Change, ChangeError, Contact, ContactFields, SupportPlan, VerifiedVia};
use crate::ports::{PlanStore, StoreError};
use crate::token::{TokenError, VerifyClaims};
use crate::validate::ValidationErrors;

/// What the attestation's note says.
pub const LINK_NOTE: &str = "Confirmed through the one-click link of a freshness reminder.";

/// What the attestation's note says when the owner corrected the contact.
pub const CORRECTED_NOTE: &str = "Corrected through the one-click link of a freshness reminder.";

/// How many times a confirmation is tried again on a newer version of the
/// plan after losing a race with another writer.
pub const ATTEMPTS: usize = 3;

/// Why a valid token confirms nothing.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// The link no longer holds for the plan as it is (SPEC §5: a bad link
    /// changes nothing).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The plan's owner e-mail is not a valid actor to record.
    #[error("{0}")]
    Owner(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Every attempt lost a race with another writer.
    #[error("the plan kept changing while the confirmation was recorded")]
    KeptChanging,
}

/// What a confirmation did.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirmed {
    /// Verified at `at`, since the link was issued (a second click, or
    /// another way): nothing written.
    Already { plan: SupportPlan, at: Timestamp },
    /// The plan's next version, with the contact verified by its owner
    /// through the link.
    Recorded { plan: SupportPlan, by: Actor },
}

/// What the rule decides for one version of the plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Already(Timestamp),
    /// Write this version, recording this change.
    Write {
        next: Box<SupportPlan>,
        change: Change,
        by: Actor,
    },
}

/// The contact a token names, in `plan`.
pub fn contact<'a>(plan: &'a SupportPlan, claims: &VerifyClaims) -> Option<&'a Contact> {
    plan.spec.contacts.iter().find(|c| c.id == claims.contact)
}

/// The rule, for a plan the token was checked against
/// ([`VerifyClaims::check`]): a contact verified since the link was issued
/// is confirmed already; otherwise the next version records it as verified
/// now by the plan's owner, through a link.
pub fn decide(claims: &VerifyClaims, plan: &SupportPlan, now: Timestamp) -> Result<Decision, ConfirmError> {
    let c = contact(plan, claims).ok_or(TokenError::UnknownContact)?;
    if let Some(at) = c.verified_at.filter(|at| *at >= claims.issued_at()) {
        return Ok(Decision::Already(at));
    }
    let by = Actor::parse(plan.spec.owner.email.as_str()).map_err(ConfirmError::Owner)?;
    let next = plan
        .contact_verified(
            claims.contact.as_str(),
            &by,
            VerifiedVia::Link,
            Some(LINK_NOTE.to_owned()),
            now,
        )
        .map_err(|_| TokenError::UnknownContact)?;
    let change = Change::ContactVerified {
        contact: claims.contact.clone(),
    };
    Ok(Decision::Write {
        next: Box::new(next),
        change,
        by,
    })
}

/// The plan a valid token is for, as stored now, if the token still holds
/// for it (same plan and life, same owner, same contact).
pub async fn current_plan(
    store: &impl PlanStore,
    claims: &VerifyClaims,
) -> Result<SupportPlan, ConfirmError> {
    let plan = store.get_plan(&claims.plan).await?;
    claims.check(plan.as_ref())?;
    Ok(plan.expect("checked above"))
}

/// Confirms the contact a valid token names, at `now`. A lost race with
/// another writer is retried on the new version: the attestation does not
/// depend on what it replaces.
pub async fn confirm(
    store: &impl PlanStore,
    claims: &VerifyClaims,
    now: Timestamp,
) -> Result<Confirmed, ConfirmError> {
    for _ in 0..ATTEMPTS {
        let plan = current_plan(store, claims).await?;
        let (next, change, by) = match decide(claims, &plan, now)? {
            Decision::Already(at) => return Ok(Confirmed::Already { plan, at }),
            Decision::Write { next, change, by } => (next, change, by),
        };
        match store.put_plan_version(&next, change).await {
            Ok(()) => return Ok(Confirmed::Recorded { plan: *next, by }),
            Err(StoreError::Conflict { .. }) => continue,
            Err(StoreError::NotFound(_)) => return Err(TokenError::WrongPlan.into()),
            Err(e) => return Err(e.into()),
        }
    }
    Err(ConfirmError::KeptChanging)
}

/// Why a valid token's form changes nothing.
#[derive(Debug, thiserror::Error)]
pub enum CorrectError {
    /// As for a confirmation: the link, the owner or the store.
    #[error(transparent)]
    Refused(#[from] ConfirmError),
    /// The values fail the plan's validation; each error named by the
    /// form's field (`email`) when it is about the contact.
    #[error(transparent)]
    Invalid(ValidationErrors),
    /// The plan is no longer the version the form was shown for.
    #[error("the plan changed since the form was shown (version {shown})")]
    Conflict { shown: u64 },
}

impl From<TokenError> for CorrectError {
    fn from(e: TokenError) -> Self {
        Self::Refused(e.into())
    }
}

impl From<StoreError> for CorrectError {
    fn from(e: StoreError) -> Self {
        Self::Refused(e.into())
    }
}

/// What a correction did.
#[derive(Debug, Clone, PartialEq)]
pub enum Corrected {
    /// The contact has these values already (a second submit of the form, or
    /// nothing changed): nothing written. `recorded`: when they were verified
    /// through a link since this one was issued, if they were.
    Already {
        plan: SupportPlan,
        recorded: Option<Timestamp>,
    },
    /// The plan's next version, with the contact's new values verified by
    /// its owner through the link; the history keeps the old ones.
    Recorded { plan: SupportPlan, by: Actor },
}

/// Corrects the contact a valid token names to `fields`, on version `shown`
/// of the plan (the one the form was shown for), at `now`.
///
/// The link must still hold for the plan, its life and its owner. Its
/// contact digest binds the values the reminder asked about, which a first
/// correction replaces: so a form whose values the contact already has
/// answers [`Corrected::Already`] whatever the digest says (it writes
/// nothing), and only a write needs the contact as the link saw it. A lost
/// race is a conflict, never retried: the form was filled in against what
/// the page showed.
pub async fn correct(
    store: &impl PlanStore,
    claims: &VerifyClaims,
    fields: &ContactFields,
    shown: u64,
    now: Timestamp,
) -> Result<Corrected, CorrectError> {
    let plan = store.get_plan(&claims.plan).await?;
    match claims.check(plan.as_ref()) {
        Ok(()) | Err(TokenError::ContactChanged) => {}
        Err(e) => return Err(e.into()),
    }
    let plan = plan.expect("checked above");
    let current = contact(&plan, claims).expect("checked above");
    let spec = plan
        .spec
        .with_contact(&claims.contact, fields)
        .map_err(|e| match e {
            ChangeError::Invalid(e) => CorrectError::Invalid(e),
            ChangeError::UnknownContact(_) => TokenError::UnknownContact.into(),
        })?;
    let wanted = spec
        .contacts
        .iter()
        .find(|c| c.id == claims.contact)
        .expect("replaced, not removed");
    if wanted.same_person(current) && wanted.role == current.role {
        let recorded = current
            .verified_at
            .filter(|at| *at >= claims.issued_at() && current.verified_via == Some(VerifiedVia::Link));
        return Ok(Corrected::Already { plan, recorded });
    }
    if plan.meta.version != shown {
        return Err(CorrectError::Conflict { shown });
    }
    claims.check(Some(&plan))?;
    let by = Actor::parse(plan.spec.owner.email.as_str()).map_err(ConfirmError::Owner)?;
    let next = plan
        .contact_corrected(
            spec,
            claims.contact.as_str(),
            &by,
            VerifiedVia::Link,
            Some(CORRECTED_NOTE.to_owned()),
            now,
        )
        .map_err(|_| TokenError::UnknownContact)?;
    let change = Change::ContactCorrected {
        contact: claims.contact.clone(),
    };
    match store.put_plan_version(&next, change).await {
        Ok(()) => Ok(Corrected::Recorded { plan: next, by }),
        Err(StoreError::Conflict { .. }) => Err(CorrectError::Conflict { shown }),
        Err(StoreError::NotFound(_)) => Err(TokenError::WrongPlan.into()),
        Err(e) => Err(e.into()),
    }
}
