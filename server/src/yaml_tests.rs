use super::*;
use serde_json::json;

fn values(text: &str) -> Vec<Value> {
    parse_documents(text).expect("valid YAML").values
}

fn error(text: &str) -> YamlError {
    parse_documents(text).expect_err("refused")
}

#[test]
fn documents_are_split_on_separators_and_empty_ones_skipped() {
    let text = "---\n# only a comment\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n---\n---\nkind: ConfigMap\n...\n";
    assert_eq!(
        values(text),
        vec![
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}}),
            json!({"kind": "ConfigMap"}),
        ]
    );
}

#[test]
fn plain_scalars_resolve_as_kubernetes_yaml_does() {
    let text = "a: yes\nb: Off\nc: ~\nd: 0x1F\ne: 0755\nf: -12\ng: 1.5\nh: 6.02e+23\ni: 1_000\nj: 08\nk: 1.2.3\nl: 'yes'\nm: \"7\"\nn: !!str 7\no:\np: 18446744073709551615\nq: -9223372036854775808\n";
    assert_eq!(
        values(text)[0],
        json!({
            "a": true, "b": false, "c": null, "d": 31, "e": 493, "f": -12, "g": 1.5,
            "h": 6.02e23, "i": 1000, "j": "08", "k": "1.2.3", "l": "yes", "m": "7", "n": "7",
            "o": null, "p": 18446744073709551615u64, "q": i64::MIN
        })
    );
}

#[test]
fn block_scalars_are_text() {
    let text = "data:\n  script: |\n    echo yes\n    exit 0\n  folded: >\n    one\n    two\n";
    assert_eq!(
        values(text)[0],
        json!({"data": {"script": "echo yes\nexit 0\n", "folded": "one two\n"}})
    );
}

#[test]
fn anchors_aliases_and_merge_keys_expand() {
    let text = "base: &labels\n  app: web\n  tier: front\nmerged:\n  <<: *labels\n  tier: back\ncopy: *labels\n";
    assert_eq!(
        values(text)[0],
        json!({
            "base": {"app": "web", "tier": "front"},
            "merged": {"app": "web", "tier": "back"},
            "copy": {"app": "web", "tier": "front"}
        })
    );
}

#[test]
fn every_field_keeps_its_line() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: two\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: nginx\n";
    let documents = parse_documents(text).unwrap();
    assert_eq!(documents.line_of(0, "metadata.name"), Some(4));
    assert_eq!(documents.line_of(1, ""), Some(6));
    assert_eq!(documents.line_of(1, "metadata.name"), Some(9));
    assert_eq!(
        documents.line_of(1, "spec.template.spec.containers[0].image"),
        Some(15)
    );
    // A field that was not written points at the nearest one that was.
    assert_eq!(documents.line_of(1, "metadata.namespace"), Some(8));
    assert_eq!(documents.line_of(2, "metadata"), None);
}

#[test]
fn broken_yaml_is_refused_at_its_line() {
    let refused = error("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [one\n");
    assert!(refused.line >= 4, "{refused}");
    assert!(refused.message.starts_with("not valid YAML"), "{refused}");
}

#[test]
fn what_json_cannot_say_is_refused_at_its_line() {
    let cases = [
        ("a: 1\na: 2\n", 2, "the key 'a' is given twice"),
        ("a: 1\nb: .inf\n", 2, "'.inf' is a number JSON cannot carry"),
        (
            "a: 1\nb: !custom x\n",
            2,
            "the tag !custom is not one of YAML's own",
        ),
        ("a:\n  ? [x]\n  : 1\n", 2, "a key must be a plain value"),
        ("a: !!int x\n", 1, "'x' is not a !!int"),
        ("a: *nothing\n", 1, "not valid YAML"),
    ];
    for (text, line, message) in cases {
        let refused = error(text);
        assert_eq!(refused.line, line, "{text:?}: {refused}");
        assert!(refused.message.contains(message), "{text:?}: {refused}");
    }
}

#[test]
fn alias_bombs_and_deep_nesting_are_refused() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..12 {
        let previous = level - 1;
        bomb.push_str(&format!(
            "l{level}: &l{level} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n",
            p = if previous == 0 {
                "a".to_owned()
            } else {
                format!("l{previous}")
            }
        ));
    }
    assert!(error(&bomb).message.contains("expand to more than"));
    let flow = format!("a: {}{}\n", "[".repeat(5000), "]".repeat(5000));
    error(&flow);
    let block: String = (0..150)
        .map(|level| format!("{}k{level}:\n", " ".repeat(level)))
        .collect();
    let refused = error(&block);
    assert!(refused.message.contains("nested deeper"), "{refused}");
}
