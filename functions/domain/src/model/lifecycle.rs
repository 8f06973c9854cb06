//! A support plan's lifecycle (SPEC §2): create, replace, retire, verify a
//! contact, correct one contact, review.

use jiff::Timestamp;

use super::{Actor, Contact, Meta, PlanSpec, Status, SupportPlan, VerifiedVia};
use crate::types::Slug;
use crate::validate::{FieldError, Lines, ValidationErrors, check_text};

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

    /// The next version with `spec` (one contact corrected: [`PlanSpec::with_contact`])
    /// and that contact attested as verified now by `actor`, in one version:
    /// whoever corrects a contact vouches for the new values.
    pub fn contact_corrected(
        &self,
        spec: PlanSpec,
        contact: &str,
        actor: &Actor,
        via: VerifiedVia,
        note: Option<String>,
        now: Timestamp,
    ) -> Result<Self, ChangeError> {
        self.replaced(spec, actor, now)?
            .with_attestation(contact, actor, via, note, now)
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
        let mut next = self.clone().with_attestation(contact, actor, via, note, now)?;
        next.meta = self.meta.next(actor, now);
        Ok(next)
    }

    /// This version with `contact` attested by `actor` (its meta unchanged).
    fn with_attestation(
        mut self,
        contact: &str,
        actor: &Actor,
        via: VerifiedVia,
        note: Option<String>,
        now: Timestamp,
    ) -> Result<Self, ChangeError> {
        let c = self
            .spec
            .contacts
            .iter_mut()
            .find(|c| c.id.as_str() == contact)
            .ok_or_else(|| ChangeError::UnknownContact(contact.to_owned()))?;
        attest(c, actor, via, note, now)?;
        Ok(self)
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

fn attest(
    c: &mut Contact,
    actor: &Actor,
    via: VerifiedVia,
    note: Option<String>,
    now: Timestamp,
) -> Result<(), ChangeError> {
    if let Some(note) = &note {
        check_text(note, 0..=500, Lines::Multi).map_err(|m| ValidationErrors::single("note", m))?;
    }
    c.verified_at = Some(now);
    c.verified_by = Some(actor.clone());
    c.verified_via = Some(via);
    c.verified_note = note.filter(|n| !n.is_empty());
    Ok(())
}

/// One contact's name, e-mail, phone and role as a person typed them (the
/// verification page's "It changed" form); blank e-mail or phone means none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactFields {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub role: String,
}

impl PlanSpec {
    /// This spec with contact `id`'s name, e-mail, phone and role replaced
    /// by `fields` (trimmed), checked as a `PUT` of the whole spec is
    /// ([`PlanSpec::parse`]). An error about the contact is named by its
    /// field (`email`), any other by its path in the plan.
    pub fn with_contact(&self, id: &Slug, fields: &ContactFields) -> Result<PlanSpec, ChangeError> {
        let index = self
            .contacts
            .iter()
            .position(|c| &c.id == id)
            .ok_or_else(|| ChangeError::UnknownContact(id.to_string()))?;
        let mut body = serde_json::to_value(self).expect("a plan serializes");
        let contact = body["contacts"][index]
            .as_object_mut()
            .expect("a contact is an object");
        for (key, value) in [
            ("name", &fields.name),
            ("role", &fields.role),
            ("email", &fields.email),
            ("phone", &fields.phone),
        ] {
            let value = value.trim();
            if value.is_empty() && (key == "email" || key == "phone") {
                contact.remove(key);
            } else {
                contact.insert(key.to_owned(), value.into());
            }
        }
        let prefix = format!("contacts[{index}].");
        PlanSpec::parse(&body).map_err(|e| {
            let named = e.0.into_iter().map(|FieldError { field, message }| FieldError {
                field: field.strip_prefix(&prefix).map(str::to_owned).unwrap_or(field),
                message,
            });
            ValidationErrors(named.collect()).into()
        })
    }
}
