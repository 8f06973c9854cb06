//! A support plan's lifecycle (SPEC §2): create, replace, retire, verify a
//! contact, review.

use jiff::Timestamp;

use super::{Actor, Meta, PlanSpec, Status, SupportPlan, VerifiedVia};
use crate::types::Slug;
use crate::validate::{Lines, ValidationErrors, check_text};

/// Errors of the lifecycle operations on a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error("no contact '{0}' in this plan")]
    UnknownContact(String),
}

impl SupportPlan {
    /// A new plan, version 1, created by `actor` at `now`.
    pub fn create(spec: PlanSpec, actor: &Actor, now: Timestamp) -> Self {
        Self {
            spec,
            reviewed_at: None,
            reviewed_by: None,
            reactivated_at: None,
            meta: Meta::first(actor, now),
        }
    }

    pub fn id(&self) -> &Slug {
        &self.spec.id
    }

    /// The next version with the caller's new spec. Server-owned fields are
    /// kept: each contact keeps its attestation when its `id`, name, e-mail
    /// and phone are unchanged (the same plan re-applied keeps them all); a
    /// contact that reaches someone else is due again (the history keeps the
    /// old attestation). A retired plan made active again starts a new life.
    pub fn replaced(&self, mut spec: PlanSpec, actor: &Actor, now: Timestamp) -> Result<Self, ChangeError> {
        if spec.id != self.spec.id {
            return Err(ValidationErrors::single(
                "id",
                format!("is immutable: this plan is '{}'", self.spec.id),
            )
            .into());
        }
        for contact in &mut spec.contacts {
            if let Some(prev) = self.spec.contacts.iter().find(|c| c.id == contact.id)
                && prev.same_person(contact)
            {
                contact.verified_at = prev.verified_at;
                contact.verified_by.clone_from(&prev.verified_by);
                contact.verified_via = prev.verified_via;
                contact.verified_note.clone_from(&prev.verified_note);
            }
        }
        let reactivated_at = if !self.is_active() && spec.status == Status::Active {
            Some(now)
        } else {
            self.reactivated_at
        };
        Ok(Self {
            spec,
            reviewed_at: self.reviewed_at,
            reviewed_by: self.reviewed_by.clone(),
            reactivated_at,
            meta: self.meta.next(actor, now),
        })
    }

    /// The next version with status `retired`.
    pub fn retired(&self, actor: &Actor, now: Timestamp) -> Self {
        let mut next = self.clone();
        next.spec.status = Status::Retired;
        next.meta = self.meta.next(actor, now);
        next
    }

    /// The next version with one contact attested as verified now by `actor`.
    pub fn contact_verified(
        &self,
        contact: &str,
        actor: &Actor,
        via: VerifiedVia,
        note: Option<String>,
        now: Timestamp,
    ) -> Result<Self, ChangeError> {
        if let Some(note) = &note {
            check_text(note, 0..=500, Lines::Multi).map_err(|m| ValidationErrors::single("note", m))?;
        }
        let mut next = self.clone();
        let c = next
            .spec
            .contacts
            .iter_mut()
            .find(|c| c.id.as_str() == contact)
            .ok_or_else(|| ChangeError::UnknownContact(contact.to_owned()))?;
        c.verified_at = Some(now);
        c.verified_by = Some(actor.clone());
        c.verified_via = Some(via);
        c.verified_note = note.filter(|n| !n.is_empty());
        next.meta = self.meta.next(actor, now);
        Ok(next)
    }

    /// The next version, marked reviewed now by `actor`.
    pub fn reviewed(&self, actor: &Actor, now: Timestamp) -> Self {
        let mut next = self.clone();
        next.reviewed_at = Some(now);
        next.reviewed_by = Some(actor.clone());
        next.meta = self.meta.next(actor, now);
        next
    }

    pub fn is_active(&self) -> bool {
        self.spec.status == Status::Active
    }

    /// When the plan's current life began: its creation, or its last
    /// reactivation. One-click links are bound to it.
    pub fn life(&self) -> Timestamp {
        self.reactivated_at.unwrap_or(self.meta.created_at)
    }
}
