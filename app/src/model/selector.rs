//! Kubernetes label selectors in their string form (`env=prod,region in (eu,us),!canary`), as
//! Azure Fleet Manager's `memberSelector.byLabel` takes them: parsed once at the edge, matched
//! against member labels. No maintained crate parses this form without pulling in the
//! Kubernetes API types (`kube-core` needs `k8s-openapi`, far too heavy for the browser's
//! bundle), so this follows the grammar of Kubernetes' `labels.Parse`:
//!
//! ```text
//! selector    := requirement ("," requirement)*
//! requirement := "!" KEY | KEY | KEY ("=" | "==" | "!=") VALUE
//!              | KEY ("in" | "notin") "(" VALUE ("," VALUE)* ")" | KEY (">" | "<") INTEGER
//! ```
//!
//! with Kubernetes' meanings: `!=` and `notin` also match members without the key.

use super::member::Labels;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The longest selector Azure accepts.
pub const MAX_SELECTOR_LEN: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Exists,
    NotExists,
    Equals(String),
    NotEquals(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    GreaterThan(i64),
    LessThan(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
}

impl Requirement {
    fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match &self.op {
            Op::Exists => value.is_some(),
            Op::NotExists => value.is_none(),
            Op::Equals(v) => value == Some(v),
            Op::NotEquals(v) => value != Some(v),
            Op::In(values) => value.is_some_and(|v| values.contains(v)),
            Op::NotIn(values) => value.is_none_or(|v| !values.contains(v)),
            Op::GreaterThan(n) => value
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v > *n),
            Op::LessThan(n) => value
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v < *n),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.key;
        match &self.op {
            Op::Exists => write!(f, "{key}"),
            Op::NotExists => write!(f, "!{key}"),
            Op::Equals(v) => write!(f, "{key}={v}"),
            Op::NotEquals(v) => write!(f, "{key}!={v}"),
            Op::In(vs) => write!(f, "{key} in ({})", vs.join(",")),
            Op::NotIn(vs) => write!(f, "{key} notin ({})", vs.join(",")),
            Op::GreaterThan(n) => write!(f, "{key}>{n}"),
            Op::LessThan(n) => write!(f, "{key}<{n}"),
        }
    }
}

/// A parsed label selector; matches a member when every requirement does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelSelector {
    text: String,
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Err("a label selector must not be empty".into());
        }
        if text.len() > MAX_SELECTOR_LEN {
            return Err(format!(
                "a label selector may be {MAX_SELECTOR_LEN} characters at most"
            ));
        }
        let requirements = Parser::new(text)
            .selector()
            .map_err(|why| format!("label selector '{text}': {why}"))?;
        Ok(Self {
            text: text.to_owned(),
            requirements,
        })
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// The selector as it was written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The selector in Kubernetes' canonical spelling.
    pub fn canonical(&self) -> String {
        self.requirements
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl Serialize for LabelSelector {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for LabelSelector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Azure's `memberSelector`: `{"byLabel": "<selector>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemberSelector {
    pub by_label: LabelSelector,
}

/// A small recursive-descent parser over the selector's characters.
struct Parser<'a> {
    text: &'a str,
    at: usize,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, at: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn skip_spaces(&mut self) {
        let trimmed = self.rest().trim_start();
        self.at = self.text.len() - trimmed.len();
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_spaces();
        if self.rest().starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    /// A word: a key, a value or an operator word.
    fn word(&mut self) -> &'a str {
        self.skip_spaces();
        let rest = self.rest();
        let end = rest
            .find(|c: char| !(is_name_char(c) || c == '/'))
            .unwrap_or(rest.len());
        self.at += end;
        &rest[..end]
    }

    fn selector(&mut self) -> Result<Vec<Requirement>, String> {
        let mut requirements = vec![self.requirement()?];
        while self.eat(",") {
            requirements.push(self.requirement()?);
        }
        self.skip_spaces();
        match self.rest().chars().next() {
            None => Ok(requirements),
            Some(c) => Err(format!("unexpected '{c}' at position {}", self.at + 1)),
        }
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        if self.eat("!") {
            let key = self.key()?;
            return Ok(Requirement {
                key,
                op: Op::NotExists,
            });
        }
        let key = self.key()?;
        let op = if self.eat("!=") {
            Op::NotEquals(self.value()?)
        } else if self.eat("==") || self.eat("=") {
            Op::Equals(self.value()?)
        } else if self.eat(">") {
            Op::GreaterThan(self.integer()?)
        } else if self.eat("<") {
            Op::LessThan(self.integer()?)
        } else {
            let before = self.at;
            match self.word() {
                "in" => Op::In(self.values()?),
                "notin" => Op::NotIn(self.values()?),
                "" => {
                    self.skip_spaces();
                    match self.rest().chars().next() {
                        None | Some(',') => Op::Exists,
                        Some(c) => {
                            return Err(format!(
                                "after key {key} expected =, ==, !=, in, notin, > or <, not '{c}'"
                            ));
                        }
                    }
                }
                other => {
                    self.at = before;
                    return Err(format!(
                        "after key {key} expected =, ==, !=, in, notin, > or <, not '{other}'"
                    ));
                }
            }
        };
        Ok(Requirement { key, op })
    }

    fn key(&mut self) -> Result<String, String> {
        let key = self.word();
        check_key(key)?;
        Ok(key.to_owned())
    }

    fn value(&mut self) -> Result<String, String> {
        let value = self.word();
        check_value(value)?;
        Ok(value.to_owned())
    }

    fn integer(&mut self) -> Result<i64, String> {
        let word = self.word();
        word.parse()
            .map_err(|_| format!("'{word}' is not a whole number"))
    }

    fn values(&mut self) -> Result<Vec<String>, String> {
        if !self.eat("(") {
            return Err("in and notin take a list in parentheses, like (eu,us)".into());
        }
        let mut values = vec![self.value()?];
        while self.eat(",") {
            values.push(self.value()?);
        }
        if !self.eat(")") {
            return Err("a value list must end with ')'".into());
        }
        Ok(values)
    }
}

/// A label key: `[prefix/]name`, name 1–63 characters, prefix a DNS subdomain.
fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("expected a label key".into());
    }
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let name_ok = (1..=63).contains(&name.len())
        && name.chars().all(is_name_char)
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_none_or(|p| {
        (1..=253).contains(&p.len())
            && p.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            })
    });
    match name_ok && prefix_ok && !name.contains('/') {
        true => Ok(()),
        false => Err(format!("'{key}' is not a label key")),
    }
}

/// A label value: empty, or 1–63 characters starting and ending with a letter or digit.
fn check_value(value: &str) -> Result<(), String> {
    let ok = value.is_empty()
        || ((1..=63).contains(&value.len())
            && value.chars().all(is_name_char)
            && value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value.ends_with(|c: char| c.is_ascii_alphanumeric()));
    match ok {
        true => Ok(()),
        false => Err(format!("'{value}' is not a label value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn selects(selector: &str, pairs: &[(&str, &str)]) -> bool {
        LabelSelector::parse(selector)
            .unwrap()
            .matches(&labels(pairs))
    }

    #[test]
    fn the_issues_example_reads_as_kubernetes_reads_it() {
        let s = "env=prod,region in (eu,us),!canary";
        assert!(selects(s, &[("env", "prod"), ("region", "eu")]));
        assert!(!selects(s, &[("env", "prod"), ("region", "asia")]));
        assert!(!selects(
            s,
            &[("env", "prod"), ("region", "us"), ("canary", "")]
        ));
        assert!(!selects(s, &[("region", "eu")]));
        assert_eq!(
            LabelSelector::parse(s).unwrap().canonical(),
            "env=prod,region in (eu,us),!canary"
        );
    }

    #[test]
    fn every_operator_has_kubernetes_meaning() {
        assert!(selects("tier", &[("tier", "gold")]));
        assert!(
            selects("tier=", &[("tier", "")]),
            "an empty value is a value"
        );
        assert!(!selects("tier", &[]));
        assert!(selects("tier == gold", &[("tier", "gold")]));
        assert!(
            selects("tier!=gold", &[]),
            "!= matches a member without the key"
        );
        assert!(!selects("tier != gold", &[("tier", "gold")]));
        assert!(
            selects("zone notin (a, b)", &[]),
            "notin matches a member without the key"
        );
        assert!(!selects("zone notin (a,b)", &[("zone", "b")]));
        assert!(selects("rack>3", &[("rack", "4")]));
        assert!(!selects("rack<3", &[("rack", "x")]));
        assert!(selects(
            "example.com/team=fleet",
            &[("example.com/team", "fleet")]
        ));
        assert!(selects(
            "  env = prod ,  ring in ( 1 )  ",
            &[("env", "prod"), ("ring", "1")]
        ));
    }

    #[test]
    fn broken_selectors_say_what_is_wrong_where() {
        let cases = [
            ("", "must not be empty"),
            ("env=prod=x", "unexpected '=' at position 9"),
            ("env=prod,", "expected a label key"),
            ("env in eu", "in parentheses"),
            ("env in (eu", "must end with ')'"),
            ("env ~ prod", "expected =, ==, !=, in, notin, > or <"),
            ("-env=prod", "is not a label key"),
            ("env=prod)", "unexpected ')' at position 9"),
            ("rack>three", "'three' is not a whole number"),
            ("env=-prod", "'-prod' is not a label value"),
            ("Bad.Prefix/env=x", "is not a label key"),
        ];
        for (selector, expected) in cases {
            let error = LabelSelector::parse(selector).unwrap_err();
            assert!(error.contains(expected), "{selector}: {error}");
        }
        assert!(
            LabelSelector::parse(&"a".repeat(513))
                .unwrap_err()
                .contains("512")
        );
    }

    #[test]
    fn a_member_selector_is_azures_shape() {
        let s: MemberSelector = serde_json::from_str(r#"{"byLabel": "env=prod"}"#).unwrap();
        assert!(s.by_label.matches(&labels(&[("env", "prod")])));
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"byLabel":"env=prod"}"#
        );
        assert!(serde_json::from_str::<MemberSelector>(r#"{"byLabel": "env in"}"#).is_err());
        assert!(serde_json::from_str::<MemberSelector>(r#"{"byTag": "x"}"#).is_err());
    }
}
