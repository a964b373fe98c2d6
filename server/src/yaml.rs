//! Multi-document YAML read into JSON values as `kubectl apply -f` reads a manifest file, with
//! the line of every field kept, so a refused object is pointed at where it was written.
//!
//! Plain scalars resolve as Kubernetes' YAML library (go-yaml v2, YAML 1.1) resolves them:
//! `yes`/`no`/`on`/`off` are booleans, `0x1F` and `0755` integers, `~` null. Quoted and block
//! scalars are strings. Anchors, aliases and merge keys (`<<`) work; an alias cannot expand past
//! a node budget (no "billion laughs"). Empty documents are skipped. Duplicate keys, tags beyond
//! YAML's own, keys that are not scalars, and numbers JSON cannot carry (`.inf`, `.nan`) are
//! errors at their line.

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, StrInput, Tag};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::collections::HashMap;

/// How deeply collections may nest (a hostile `[[[[…` cannot exhaust the stack).
const MAX_DEPTH: usize = 100;
/// How many values the documents may make, aliases expanded.
const MAX_NODES: usize = 1_000_000;

/// Where YAML input is wrong: a line (1-based) and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The documents read, and where each one's fields were written.
#[derive(Debug, Default)]
pub struct Documents {
    pub values: Vec<Value>,
    lines: Vec<HashMap<String, usize>>,
}

impl Documents {
    /// The line of `field` (`metadata.name`, `spec.ports[0]`; empty for the document itself) in
    /// document `index`, or of the nearest enclosing field that was written.
    pub fn line_of(&self, index: usize, field: &str) -> Option<usize> {
        let lines = self.lines.get(index)?;
        let mut path = field;
        loop {
            if let Some(line) = lines.get(path) {
                return Some(*line);
            }
            if path.is_empty() {
                return None;
            }
            path = &path[..path.rfind(['.', '[']).unwrap_or(0)];
        }
    }
}

/// Reads every non-empty document of `text`.
pub fn parse_documents(text: &str) -> Result<Documents, YamlError> {
    let mut reader = Reader {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        nodes: 0,
        lines: HashMap::new(),
    };
    let mut documents = Documents::default();
    loop {
        let (event, span) = reader.next()?;
        match event {
            Event::StreamEnd => return Ok(documents),
            Event::DocumentStart(_) => {}
            Event::DocumentEnd | Event::StreamStart | Event::Nothing => {}
            event => {
                reader.anchors.clear();
                reader.lines.insert(String::new(), span.start.line());
                let value = reader.node(event, span, String::new(), 0)?;
                let lines = std::mem::take(&mut reader.lines);
                if !value.is_null() {
                    documents.values.push(value);
                    documents.lines.push(lines);
                }
            }
        }
    }
}

struct Reader<'a> {
    parser: Parser<'a, StrInput<'a>>,
    /// Anchored values of the current document, with how many nodes each holds.
    anchors: HashMap<usize, (Value, usize)>,
    nodes: usize,
    /// The current document's field paths and their lines.
    lines: HashMap<String, usize>,
}

fn at(span: Span, message: impl Into<String>) -> YamlError {
    YamlError {
        line: span.start.line(),
        message: message.into(),
    }
}

fn scan_error(error: ScanError) -> YamlError {
    YamlError {
        line: error.marker().line(),
        message: format!("not valid YAML: {}", error.info()),
    }
}

impl<'a> Reader<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        match self.parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => Err(scan_error(error)),
            None => Ok((Event::StreamEnd, Span::default())),
        }
    }

    /// Counts `n` more nodes against the budget.
    fn spend(&mut self, n: usize, span: Span) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            return Err(at(
                span,
                format!("the documents expand to more than {MAX_NODES} values (aliases included)"),
            ));
        }
        Ok(())
    }

    /// Reads the node `event` starts, at `path`, and remembers it if it is anchored.
    fn node(
        &mut self,
        event: Event<'a>,
        span: Span,
        path: String,
        depth: usize,
    ) -> Result<Value, YamlError> {
        if depth > MAX_DEPTH {
            return Err(at(span, format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let before = self.nodes;
        let (value, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.spend(1, span)?;
                (scalar(&text, style, tag.as_deref(), span)?, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                collection_tag(tag.as_deref(), "seq", span)?;
                self.spend(1, span)?;
                (self.sequence(&path, depth)?, anchor)
            }
            Event::MappingStart(anchor, tag) => {
                collection_tag(tag.as_deref(), "map", span)?;
                self.spend(1, span)?;
                (self.mapping(&path, depth)?, anchor)
            }
            Event::Alias(id) => {
                let (value, size) = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| at(span, "an alias to no anchor"))?;
                self.spend(size, span)?;
                (value, 0)
            }
            other => return Err(at(span, format!("unexpected {other:?}"))),
        };
        if anchor != 0 {
            let size = self.nodes - before;
            self.anchors.insert(anchor, (value.clone(), size));
        }
        Ok(value)
    }

    fn sequence(&mut self, path: &str, depth: usize) -> Result<Value, YamlError> {
        let mut items = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if event == Event::SequenceEnd {
                return Ok(Value::Array(items));
            }
            let item_path = format!("{path}[{}]", items.len());
            self.lines.insert(item_path.clone(), span.start.line());
            items.push(self.node(event, span, item_path, depth + 1)?);
        }
    }

    fn mapping(&mut self, path: &str, depth: usize) -> Result<Value, YamlError> {
        let mut map = Map::new();
        // Keys given by merge (`<<`): an explicit key overrides them, once.
        let mut merged: Vec<String> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if event == Event::MappingEnd {
                return Ok(Value::Object(map));
            }
            let key = key_text(&event, span)?;
            let (value_event, value_span) = self.next()?;
            if key == "<<" && matches!(event, Event::Scalar(_, ScalarStyle::Plain, _, _)) {
                let sources = self.node(value_event, value_span, path.to_owned(), depth + 1)?;
                merge(&mut map, &mut merged, sources, span)?;
                continue;
            }
            let field = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            let overrides_merge = merged.iter().position(|k| *k == key);
            if map.contains_key(&key) && overrides_merge.is_none() {
                return Err(at(span, format!("the key '{key}' is given twice")));
            }
            if let Some(position) = overrides_merge {
                merged.swap_remove(position);
            }
            self.lines.insert(field.clone(), span.start.line());
            let value = self.node(value_event, value_span, field, depth + 1)?;
            map.insert(key, value);
        }
    }
}

/// Adds a merge key's mapping (or mappings, earlier ones first) under keys not given yet.
fn merge(
    map: &mut Map<String, Value>,
    merged: &mut Vec<String>,
    sources: Value,
    span: Span,
) -> Result<(), YamlError> {
    let sources = match sources {
        Value::Object(source) => vec![source],
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(source) => Ok(source),
                _ => Err(at(span, "a merge key ('<<') takes mappings")),
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(at(
                span,
                "a merge key ('<<') takes a mapping or a list of them",
            ));
        }
    };
    for source in sources {
        for (key, value) in source {
            if !map.contains_key(&key) {
                merged.push(key.clone());
                map.insert(key, value);
            }
        }
    }
    Ok(())
}

/// A mapping key as JSON keeps it: scalars as written.
fn key_text(event: &Event<'_>, span: Span) -> Result<String, YamlError> {
    match event {
        Event::Scalar(text, _, _, _) => Ok(text.to_string()),
        _ => Err(at(
            span,
            "a key must be a plain value (a mapping or list as a key has no JSON form)",
        )),
    }
}

fn core_tag(tag: Option<&Tag>, span: Span) -> Result<Option<&str>, YamlError> {
    match tag {
        None => Ok(None),
        Some(tag) if tag.is_yaml_core_schema() => Ok(Some(tag.suffix.as_str())),
        Some(tag) => Err(at(
            span,
            format!(
                "the tag {tag} is not one of YAML's own (!!str, !!int, !!float, !!bool, !!null, !!map, !!seq)"
            ),
        )),
    }
}

fn collection_tag(tag: Option<&Tag>, want: &str, span: Span) -> Result<(), YamlError> {
    match core_tag(tag, span)? {
        None => Ok(()),
        Some(suffix) if suffix == want => Ok(()),
        Some(suffix) => Err(at(span, format!("the tag !!{suffix} does not fit here"))),
    }
}

/// A scalar's JSON value: quoted and block scalars are strings; plain ones resolve.
fn scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    span: Span,
) -> Result<Value, YamlError> {
    let resolved = match core_tag(tag, span)? {
        Some("str" | "binary") => return Ok(Value::String(text.to_owned())),
        Some(suffix @ ("int" | "float" | "bool" | "null")) => {
            let value = resolve_plain(text, span)?;
            let fits = match suffix {
                "int" => value.is_i64() || value.is_u64(),
                "float" => value.is_number(),
                "bool" => value.is_boolean(),
                _ => value.is_null(),
            };
            if !fits {
                return Err(at(span, format!("'{text}' is not a !!{suffix}")));
            }
            value
        }
        Some(other) => return Err(at(span, format!("the tag !!{other} does not fit a scalar"))),
        None if style == ScalarStyle::Plain => resolve_plain(text, span)?,
        None => Value::String(text.to_owned()),
    };
    Ok(resolved)
}

/// A plain scalar as YAML 1.1 (go-yaml v2) resolves it.
fn resolve_plain(text: &str, span: Span) -> Result<Value, YamlError> {
    Ok(match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            Value::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            Value::Bool(false)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => {
            return Err(at(
                span,
                format!("'{text}' is a number JSON cannot carry; quote it for the text"),
            ));
        }
        _ => number(text).map_or_else(|| Value::String(text.to_owned()), Value::Number),
    })
}

/// Integers (decimal, `0x`, `0o`, `0b`, a leading `0` for octal, `_` between digits) and
/// decimal floats, or `None` for text.
fn number(text: &str) -> Option<Number> {
    let cleaned: Cow<str> = if text.contains('_') {
        Cow::Owned(text.replace('_', ""))
    } else {
        Cow::Borrowed(text)
    };
    let (negative, digits) = match cleaned.as_bytes().first()? {
        b'-' => (true, &cleaned[1..]),
        b'+' => (false, &cleaned[1..]),
        _ => (false, &cleaned[..]),
    };
    if let Some(magnitude) = integer(digits) {
        return if negative {
            i64::try_from(magnitude)
                .ok()
                .map(|m| Number::from(-m))
                .or_else(|| (magnitude == 1 << 63).then(|| Number::from(i64::MIN)))
        } else {
            Some(Number::from(magnitude))
        };
    }
    is_float(digits)
        .then(|| cleaned.parse::<f64>().ok())
        .flatten()
        .and_then(Number::from_f64)
}

fn integer(digits: &str) -> Option<u64> {
    let (radix, rest) = if let Some(rest) = digits.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = digits.strip_prefix("0o") {
        (8, rest)
    } else if let Some(rest) = digits.strip_prefix("0b") {
        (2, rest)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if rest.is_empty() || !rest.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(rest, radix).ok()
}

/// `1.5`, `.5`, `2.`, `1e3`, `6.02e+23` (digits required around the parts YAML requires).
fn is_float(digits: &str) -> bool {
    let (mantissa, exponent) = match digits.find(['e', 'E']) {
        Some(at) => (&digits[..at], Some(&digits[at + 1..])),
        None => (digits, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok =
        all_digits(whole) && all_digits(fraction) && (!whole.is_empty() || !fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    mantissa_ok && exponent_ok && (mantissa.contains('.') || exponent.is_some())
}

#[cfg(test)]
#[path = "yaml_tests.rs"]
mod tests;
