//! The wire names of the unit-variant enums (SPEC §2, §3): one table per
//! enum, written once in its [`wire_enum!`] declaration, from which serde,
//! `Display`, `FromStr`, the validation message and the OpenAPI schema come.

use std::fmt;

/// An enum whose variants each have one wire name.
pub trait WireName: Copy + Sized + 'static {
    /// Every variant with its wire name, in declaration order.
    const WIRE: &'static [(Self, &'static str)];
    /// The wire names alone, in the same order.
    const NAMES: &'static [&'static str];

    /// This variant's wire name.
    fn wire_name(self) -> &'static str;

    /// The variant named `s`; the error lists the names there are.
    fn from_wire(s: &str) -> Result<Self, UnknownName> {
        Self::WIRE
            .iter()
            .find(|(_, name)| *name == s)
            .map(|(v, _)| *v)
            .ok_or(UnknownName {
                expected: Self::NAMES,
            })
    }
}

/// A string that is none of an enum's wire names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub struct UnknownName {
    /// The names there are.
    pub expected: &'static [&'static str],
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "must be one of: {}", self.expected.join(", "))
    }
}

/// Declares a unit-variant enum with each variant's wire name beside it
/// (`Tier1 = "tier-1"`), and derives from that one table [`WireName`],
/// `Display`, `FromStr`, `Serialize`, `Deserialize` and, with the `openapi`
/// feature, its schema (a string enumeration, described by the enum's doc).
/// Doc comments go first, then one `#[derive(..)]`.
macro_rules! wire_enum {
    (
        $(#[doc = $doc:literal])*
        #[derive($($derive:path),* $(,)?)]
        $vis:vis enum $name:ident {
            $($(#[doc = $vdoc:literal])* $variant:ident = $wire:literal),+ $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive($($derive),*)]
        $vis enum $name {
            $($(#[doc = $vdoc])* $variant),+
        }

        impl $crate::wire::WireName for $name {
            const WIRE: &'static [(Self, &'static str)] = &[$(($name::$variant, $wire)),+];
            const NAMES: &'static [&'static str] = &[$($wire),+];

            fn wire_name(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::wire::WireName::wire_name(*self))
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::wire::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <Self as $crate::wire::WireName>::from_wire(s)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str($crate::wire::WireName::wire_name(*self))
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl ::serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        write!(
                            f,
                            "one of: {}",
                            <$name as $crate::wire::WireName>::NAMES.join(", ")
                        )
                    }
                    fn visit_str<E: ::serde::de::Error>(self, s: &str) -> Result<$name, E> {
                        <$name as $crate::wire::WireName>::from_wire(s).map_err(|_| {
                            E::unknown_variant(s, <$name as $crate::wire::WireName>::NAMES)
                        })
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }

        #[cfg(feature = "openapi")]
        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                let doc: &[&str] = &[$($doc.trim()),*];
                ::utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(::utoipa::openapi::schema::Type::String)
                    .description((!doc.is_empty()).then(|| doc.join("\n")))
                    .enum_values(Some(<$name as $crate::wire::WireName>::NAMES.iter().copied()))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl ::utoipa::ToSchema for $name {}
    };
}

pub(crate) use wire_enum;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freshness::{ContractState, State};
    use crate::model::{ChannelKind, Criticality, Role, Status, VerifiedVia};
    use crate::reminders::MessageKind;

    fn round_trips<T>()
    where
        T: WireName + fmt::Debug + PartialEq + fmt::Display + std::str::FromStr<Err = UnknownName>,
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        assert_eq!(T::WIRE.len(), T::NAMES.len());
        for &(v, name) in T::WIRE {
            assert_eq!(v.wire_name(), name);
            assert_eq!(v.to_string(), name);
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<T>(&format!("\"{name}\"")).unwrap(), v);
            assert_eq!(name.parse::<T>().unwrap(), v);
        }
        let e = "nope".parse::<T>().unwrap_err();
        assert_eq!(e.to_string(), format!("must be one of: {}", T::NAMES.join(", ")));
        let e = serde_json::from_str::<T>("\"nope\"").unwrap_err().to_string();
        assert!(e.starts_with("unknown variant `nope`, expected "), "{e}");
        assert!(T::NAMES.iter().all(|n| e.contains(&format!("`{n}`"))), "{e}");
    }

    #[test]
    fn every_name_round_trips_through_serde_display_and_from_str() {
        round_trips::<Status>();
        round_trips::<Criticality>();
        round_trips::<ChannelKind>();
        round_trips::<Role>();
        round_trips::<VerifiedVia>();
        round_trips::<State>();
        round_trips::<ContractState>();
        round_trips::<MessageKind>();
    }

    #[test]
    fn the_names_are_the_published_ones() {
        assert_eq!(Criticality::NAMES, ["tier-1", "tier-2", "tier-3"]);
        assert_eq!(Status::NAMES, ["active", "retired"]);
        assert_eq!(
            Role::NAMES,
            [
                "owner",
                "vendor-tam",
                "vendor-account-manager",
                "vendor-support",
                "internal-poc",
                "escalation-manager"
            ]
        );
        assert_eq!(ChannelKind::NAMES, ["portal", "phone", "email", "chat", "api"]);
        assert_eq!(State::NAMES, ["ok", "due-soon", "overdue"]);
        assert_eq!(ContractState::NAMES, ["current", "renewing", "lapsed"]);
        assert_eq!(VerifiedVia::NAMES, ["api", "link"]);
        assert_eq!(MessageKind::NAMES, ["reminder", "escalation"]);
    }
}
