//! Names that users type: fleets, members, update groups (and, later, stages). Parsed once at the
//! edge into newtypes, so nothing deeper has to wonder whether a name is valid.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// The DNS-label shape every Drydock name shares: lower-case letters, digits and inner dashes.
pub(crate) fn is_dns_label(text: &str) -> bool {
    let bytes = text.as_bytes();
    let edge_ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) => {
            edge_ok(first) && edge_ok(last) && bytes.iter().all(|&c| edge_ok(c) || c == b'-')
        }
        _ => false,
    }
}

fn check_name(kind: &str, text: &str, max_len: usize) -> Result<(), String> {
    if text.is_empty() || text.len() > max_len {
        return Err(format!(
            "{kind} name '{text}' must be 1 to {max_len} characters long"
        ));
    }
    if !is_dns_label(text) {
        return Err(format!(
            "{kind} name '{text}' may contain only lower-case letters, digits and '-', and must \
             start and end with a letter or digit"
        ));
    }
    Ok(())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $ty:ident, $kind:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
        #[serde(transparent)]
        pub struct $ty(String);

        impl $ty {
            pub const MAX_LEN: usize = $max;

            pub fn parse(text: &str) -> Result<Self, String> {
                check_name($kind, text, $max).map(|()| Self(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

name_type!(
    /// A fleet's name, unique on one server.
    FleetName, "fleet", 63
);
name_type!(
    /// A member's name, unique within its fleet.
    MemberName, "member", 63
);
name_type!(
    /// An update group: a plain string on a member. A group exists while a member names it.
    GroupName, "group", 50
);
name_type!(
    /// An update stage's name, unique within a strategy.
    StageName, "stage", 50
);
name_type!(
    /// A stored update strategy's name, unique within a fleet.
    StrategyName, "strategy", 50
);
name_type!(
    /// An update run's name, unique within a fleet.
    RunName, "update run", 50
);
name_type!(
    /// An auto-upgrade profile's name, unique within a fleet. Shorter than a run's: the runs
    /// it generates are named after it and their upgrade.
    AutoUpgradeProfileName, "auto-upgrade profile", 30
);
name_type!(
    /// A webhook's name, unique on one server.
    WebhookName, "webhook", 63
);
name_type!(
    /// A resource bundle's name (Kubernetes manifests placed on members), unique within a fleet.
    ResourceName, "resource", 63
);
name_type!(
    /// A placement's name, unique within a fleet.
    PlacementName, "placement", 63
);
name_type!(
    /// A resource override's name, unique within a fleet.
    OverrideName, "resource override", 63
);
name_type!(
    /// A simulated cluster's name (its resource id is `sim:{name}`).
    ClusterName, "cluster", 63
);

/// How many names a message lists before it says how many more there are.
pub const NAMES_IN_BRIEF: usize = 5;

/// Names for a message: the first few, then how many more (`a, b, c, d, e and 9995 more`), so
/// a message stays short however many there are.
pub fn in_brief<T: std::fmt::Display>(items: &[T]) -> String {
    let shown: Vec<String> = items
        .iter()
        .take(NAMES_IN_BRIEF)
        .map(ToString::to_string)
        .collect();
    match items.len().saturating_sub(NAMES_IN_BRIEF) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_dns_labels() {
        for ok in ["a", "group-1a", "0", "a-b-c", &"x".repeat(50)] {
            assert!(GroupName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_what_the_seeds_forbid() {
        for bad in [
            "",
            "-a",
            "a-",
            "A",
            "a_b",
            "a.b",
            "a b",
            "é",
            &"x".repeat(51),
        ] {
            let err = GroupName::parse(bad).unwrap_err();
            assert!(err.contains("group name"), "{bad}: {err}");
        }
    }

    #[test]
    fn member_names_allow_63_characters() {
        assert!(MemberName::parse(&"m".repeat(63)).is_ok());
        assert!(MemberName::parse(&"m".repeat(64)).is_err());
    }

    #[test]
    fn long_lists_are_named_in_brief() {
        assert_eq!(in_brief(&["a", "b"]), "a, b");
        let many: Vec<String> = (0..10_000).map(|i| format!("g{i}")).collect();
        assert_eq!(in_brief(&many), "g0, g1, g2, g3, g4 and 9995 more");
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<GroupName>("\"Bad\"").is_err());
        let g: GroupName = serde_json::from_str("\"group-1a\"").unwrap();
        assert_eq!(g.as_str(), "group-1a");
    }
}
name_type!(
    /// A user's login name, unique on one server (`admin` is made on first start).
    UserName, "user", 63
);
