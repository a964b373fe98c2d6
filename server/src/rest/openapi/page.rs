//! The OpenAPI document rendered as one plain HTML page (no script): every operation by tag
//! with its parameters, body and answers, then every schema, each linked from where it is used.

use serde_json::Value;
use std::fmt::Write;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;\
padding:0 1rem;color:#1b1f24}code,pre{font-family:ui-monospace,monospace;font-size:.85rem}\
pre{background:#f4f6f8;padding:.75rem;overflow:auto}table{border-collapse:collapse;width:100%}\
td,th{border-bottom:1px solid #d8dee4;padding:.4rem;text-align:left;vertical-align:top}\
.method{font-weight:700;text-transform:uppercase}";

/// The page for `document`.
pub fn render(document: &Value) -> String {
    let mut html = String::new();
    let title = text(&document["info"]["title"]);
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title} REST API</title><style>{STYLE}</style></head><body>\
         <h1>{title} REST API <small>{}</small></h1><p>{}</p>\
         <p>The machine-readable document: <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a> \
         (OpenAPI {}). Every path below is under <code>/api/v1</code>.</p>",
        text(&document["info"]["version"]),
        text(&document["info"]["description"]),
        text(&document["openapi"]),
    );
    for tag in document["tags"].as_array().into_iter().flatten() {
        operations_of(&mut html, document, &text(&tag["name"]));
    }
    schemas(&mut html, document);
    html.push_str("</body></html>");
    html
}

fn operations_of(html: &mut String, document: &Value, tag: &str) {
    let _ = write!(
        html,
        "<h2>{tag}</h2><table><tr><th>Method</th><th>Path</th><th>What it does</th>\
         <th>Takes</th><th>Answers</th></tr>"
    );
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            if op["tags"][0].as_str() != Some(tag) {
                continue;
            }
            let _ = write!(
                html,
                "<tr id=\"{}\"><td class=\"method\">{method}</td><td><code>{}</code></td>\
                 <td>{}</td><td>{}</td><td>{}</td></tr>",
                text(&op["operationId"]),
                escape(path),
                text(&op["summary"]),
                takes(op),
                answers(op),
            );
        }
    }
    html.push_str("</table>");
}

fn takes(op: &Value) -> String {
    let mut parts: Vec<String> = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] != "path")
        .map(|p| format!("<code>{}</code> ({})", text(&p["name"]), text(&p["in"])))
        .collect();
    if let Some(schema) = op["requestBody"]["content"]["application/json"].get("schema") {
        parts.push(format!("body: {}", schema_link(schema)));
    }
    parts.join("<br>")
}

fn answers(op: &Value) -> String {
    op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(status, _)| *status != "default")
        .map(|(status, response)| {
            let body = response["content"]
                .as_object()
                .and_then(|content| content.values().next())
                .map(|media| format!(": {}", schema_link(&media["schema"])))
                .unwrap_or_default();
            format!("{status} {}{body}", text(&response["description"]))
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

/// A schema reference as a link to the schema on this page; anything else as its JSON.
fn schema_link(schema: &Value) -> String {
    match schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        Some(name) => format!("<a href=\"#schema-{0}\">{0}</a>", escape(name)),
        None => format!("<code>{}</code>", escape(&schema.to_string())),
    }
}

fn schemas(html: &mut String, document: &Value) {
    html.push_str("<h2>Schemas</h2>");
    for (name, schema) in document["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let pretty = serde_json::to_string_pretty(schema).unwrap_or_default();
        let _ = write!(
            html,
            "<details id=\"schema-{0}\"><summary><code>{0}</code></summary><pre>{1}</pre></details>",
            escape(name),
            escape(&pretty)
        );
    }
}

fn text(value: &Value) -> String {
    escape(value.as_str().unwrap_or_default())
}

fn escape(raw: &str) -> String {
    raw.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
