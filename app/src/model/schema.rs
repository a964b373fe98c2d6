//! JSON Schemas for the types serde reads and writes as text by hand (versions, times, limits,
//! selectors): what the REST API's OpenAPI document says about them. Server side only; every
//! other model type derives its schema from the same serde attributes that shape its JSON.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use std::borrow::Cow;

/// A text-shaped type: its schema is a string with a description, an example and, where one
/// exists, a format or pattern.
macro_rules! text_schema {
    ($ty:ty, $name:literal, $schema:tt) => {
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
        }
    };
}

text_schema!(super::time::Timestamp, "Timestamp", {
    "type": "string",
    "format": "date-time",
    "description": "An RFC 3339 time in UTC, on the fleet clock.",
    "examples": ["2026-12-01T08:00:00Z"]
});

text_schema!(super::version::KubernetesVersion, "KubernetesVersion", {
    "type": "string",
    "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$",
    "description": "A Kubernetes version: major.minor.patch.",
    "examples": ["1.30.4"]
});

text_schema!(super::auto_upgrade::MinorVersion, "MinorVersion", {
    "type": "string",
    "pattern": "^[0-9]+\\.[0-9]+$",
    "description": "A Kubernetes minor version: major.minor.",
    "examples": ["1.30"]
});

text_schema!(super::version::ImageFamily, "ImageFamily", {
    "type": "string",
    "description": "A node image family, the part of a node image version before its release.",
    "examples": ["AKSUbuntu-2204gen2containerd"]
});

text_schema!(super::version::ImageRelease, "ImageRelease", {
    "type": "string",
    "description": "A node image release, the dated part of a node image version.",
    "examples": ["202409.01.0"]
});

text_schema!(super::version::NodeImageVersion, "NodeImageVersion", {
    "type": "string",
    "description": "A node image version: family, then release.",
    "examples": ["AKSUbuntu-2204gen2containerd-202409.01.0"]
});

text_schema!(super::selector::LabelSelector, "LabelSelector", {
    "type": "string",
    "description": "A Kubernetes label selector in its text form: key=value, key!=value, key in (a,b), key notin (a,b), key, !key, key>N, key<N; comma-separated requirements all hold.",
    "examples": ["env=prod,region in (eastus,westus)"]
});

text_schema!(super::limits::MaxConcurrency, "MaxConcurrency", {
    "type": ["string", "integer"],
    "description": "How many members of a group upgrade at once: a count (at least 1) or a percentage of the group's members, rounded up.",
    "examples": ["3", "25%"]
});

text_schema!(super::limits::RolloutAmount, "RolloutAmount", {
    "type": ["string", "integer"],
    "description": "A count of members or a percentage of the picked ones.",
    "examples": [1, "25%"]
});

text_schema!(super::limits::MaxAllowedFailures, "MaxAllowedFailures", {
    "type": ["string", "integer"],
    "description": "How many members may fail before the run fails: a count or a percentage of the members, rounded up.",
    "examples": ["0", "10%"]
});
