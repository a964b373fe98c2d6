//! Checks a JSON value against a JSON Schema (2020-12) of the kinds the OpenAPI document uses:
//! `$ref`, `type`, `properties`, `patternProperties`, `required`, `additionalProperties`, `items`,
//! `enum`, `const`,
//! `oneOf`, `anyOf`, `allOf`, `minimum`, `maximum`. Formats and string patterns are not checked. Enough
//! to tell whether an answer has the shape the document promises; not a general validator.

use serde_json::Value;

/// Every way `value` breaks `schema` (empty: it fits), each with where in the value.
pub fn violations(document: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    check(document, schema, value, "$", &mut found);
    found
}

fn check(document: &Value, schema: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        if schema == &Value::Bool(false) {
            found.push(format!("{at}: nothing is allowed here"));
        }
        return;
    };
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        match resolve(document, reference) {
            Some(target) => check(document, target, value, at, found),
            None => found.push(format!("{at}: {reference} does not resolve")),
        }
    }
    if let Some(kinds) = schema.get("type") {
        let allowed: Vec<&str> = match kinds {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !allowed.iter().any(|kind| is(kind, value)) {
            found.push(format!("{at}: {value} is not {allowed:?}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        found.push(format!("{at}: {value} is none of {options:?}"));
    }
    if let Some(expected) = schema.get("const")
        && expected != value
    {
        found.push(format!("{at}: {value} is not {expected}"));
    }
    bounds(schema, value, at, found);
    combinations(document, schema, value, at, found);
    if let Some(object) = value.as_object() {
        properties(document, schema, object, at, found);
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            check(document, items, item, &format!("{at}[{i}]"), found);
        }
    }
}

fn bounds(
    schema: &serde_json::Map<String, Value>,
    value: &Value,
    at: &str,
    found: &mut Vec<String>,
) {
    let Some(number) = value.as_f64() else {
        return;
    };
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
        && number < min
    {
        found.push(format!("{at}: {number} is below {min}"));
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
        && number > max
    {
        found.push(format!("{at}: {number} is above {max}"));
    }
}

fn combinations(
    document: &Value,
    schema: &serde_json::Map<String, Value>,
    value: &Value,
    at: &str,
    found: &mut Vec<String>,
) {
    let fits = |option: &Value| violations_at(document, option, value, at).is_empty();
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for option in all {
            check(document, option, value, at, found);
        }
    }
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(fits)
    {
        found.push(format!("{at}: {value} fits none of anyOf"));
    }
    if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
        let fitting = one.iter().filter(|option| fits(option)).count();
        if fitting != 1 {
            found.push(format!(
                "{at}: {value} fits {fitting} of oneOf, not exactly one"
            ));
        }
    }
}

fn violations_at(document: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let mut found = Vec::new();
    check(document, schema, value, at, &mut found);
    found
}

fn properties(
    document: &Value,
    schema: &serde_json::Map<String, Value>,
    object: &serde_json::Map<String, Value>,
    at: &str,
    found: &mut Vec<String>,
) {
    let declared = schema.get("properties").and_then(Value::as_object);
    for name in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !object.contains_key(name) {
            found.push(format!("{at}: {name} is required"));
        }
    }
    let patterns = schema.get("patternProperties").and_then(Value::as_object);
    for (name, value) in object {
        let here = format!("{at}.{name}");
        let by_pattern = patterns
            .into_iter()
            .flatten()
            .find(|(pattern, _)| regex::Regex::new(pattern).is_ok_and(|r| r.is_match(name)));
        match (declared.and_then(|d| d.get(name)), by_pattern) {
            (Some(property), _) | (None, Some((_, property))) => {
                check(document, property, value, &here, found)
            }
            (None, None) => match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => found.push(format!("{here} is not in the schema")),
                Some(other) => check(document, other, value, &here, found),
                None => {}
            },
        }
    }
}

fn is(kind: &str, value: &Value) -> bool {
    match kind {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

/// The schema a local reference (`#/components/schemas/Name`) points at.
pub fn resolve<'a>(document: &'a Value, reference: &str) -> Option<&'a Value> {
    document.pointer(reference.strip_prefix('#')?)
}

#[cfg(test)]
mod tests {
    use super::violations;
    use serde_json::json;

    #[test]
    fn what_breaks_a_schema_is_found() {
        let document = json!({"components": {"schemas": {"Name": {"type": "string"}}}});
        let schema = json!({"type": "object", "required": ["name"], "additionalProperties": false,
            "properties": {"name": {"$ref": "#/components/schemas/Name"},
                "count": {"type": ["integer", "null"], "minimum": 0},
                "kind": {"oneOf": [{"const": "a"}, {"enum": ["b", "c"]}]}}});
        let fits = json!({"name": "x", "count": null, "kind": "c"});
        assert!(violations(&document, &schema, &fits).is_empty());
        for broken in [
            json!({"count": 1}),
            json!({"name": 5}),
            json!({"name": "x", "count": -1}),
            json!({"name": "x", "kind": "d"}),
            json!({"name": "x", "extra": true}),
            json!([1]),
        ] {
            assert!(
                !violations(&document, &schema, &broken).is_empty(),
                "{broken}"
            );
        }
    }
}
