//! Checks a provider request (or answer) against the provider's published API description.
//!
//! Three formats, one module each: OpenAPI 3 (Stripe, [`openapi`]), Google discovery documents
//! (Gmail and Calendar, [`discovery`]) and Swagger 2 (Slack's Web API, [`swagger`]). Each
//! `check` finds the operation with the request's method and path template, then reports every
//! problem in words: a required parameter missing, a parameter the operation does not know, a
//! value of the wrong type or outside the enum.
//!
//! Hand-written over `serde_json` on purpose: the general JSON Schema crates validate answers
//! against one schema but know nothing of OpenAPI's path templates, `deepObject` form keys or
//! `nullable`, nor of Google's discovery `parameters` / `annotations.required`, and would pull a
//! regex engine and an HTTP resolver into the test build; the subsets use only a handful of
//! keywords (`type`, `properties`, `required`, `items`, `anyOf`, `enum`, `$ref`, `nullable`,
//! `additionalProperties`, `maxLength`), which are walked here.

#![allow(dead_code)]

pub mod discovery;
pub mod openapi;
pub mod swagger;

use std::path::PathBuf;

use serde_json::Value;

/// A provider request as it leaves the gateway: absolute URL path pieces and its parameters.
#[derive(Debug, Clone)]
pub struct Sent<'a> {
    pub method: &'a str,
    /// Absolute URL without the query, e.g. `https://api.stripe.com/v1/customers`.
    pub url: String,
    pub query: &'a [(String, String)],
    pub form: Option<&'a [(String, String)]>,
    pub json: Option<&'a Value>,
}

/// Where the copied spec files live inside the repository.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/specs")
        .join(rel)
}

pub fn load(rel: &str) -> Value {
    let path = fixture(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the spec copy {} cannot be read: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the spec copy {} is not JSON: {e}", path.display()))
}

/// Matches `path` (no query, percent-encoded as sent) against a template with `{name}` (one
/// segment) or `{+name}` (the rest) placeholders; the captured values, percent-decoded.
pub fn match_template(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut captured = Vec::new();
    for (i, seg) in t.iter().enumerate() {
        if let Some(name) = seg.strip_prefix("{+").and_then(|s| s.strip_suffix('}')) {
            let rest = p.get(i..)?.join("/");
            captured.push((name.to_string(), decode(&rest)));
            return (!rest.is_empty()).then_some(captured);
        }
        let actual = p.get(i)?;
        match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) if !actual.is_empty() => captured.push((name.to_string(), decode(actual))),
            Some(_) => return None,
            None if seg == actual => {}
            None => return None,
        }
    }
    (t.len() == p.len()).then_some(captured)
}

/// How many literal segments a template has: a literal match beats a placeholder
/// (`/v1/customers/search` over `/v1/customers/{customer}`).
pub fn literal_segments(template: &str) -> usize {
    template
        .split('/')
        .filter(|s| !s.is_empty() && !s.starts_with('{'))
        .count()
}

pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(h) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(h);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A form-encoded parameter set as a tree: `lines[0][amount]=5` → `lines` → `0` → `amount`.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Leaf(String),
    Map(Vec<(String, Node)>),
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            Node::Leaf(_) => None,
        }
    }
}

/// `metadata[order][x]` → (`metadata`, [`order`, `x`]); `expand[]` → (`expand`, [``]).
pub fn split_key(key: &str) -> Result<(String, Vec<String>), String> {
    let Some(open) = key.find('[') else {
        return Ok((key.to_string(), Vec::new()));
    };
    let root = key[..open].to_string();
    let mut rest = &key[open..];
    let mut segs = Vec::new();
    while !rest.is_empty() {
        let inner = rest
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .ok_or_else(|| format!("form key {key:?} is not in bracket syntax"))?;
        segs.push(inner.0.to_string());
        rest = inner.1;
    }
    if root.is_empty() {
        return Err(format!("form key {key:?} has no name before its brackets"));
    }
    Ok((root, segs))
}

/// The pairs as a tree of roots; a key that is both a value and a parent is a problem.
pub fn form_tree(pairs: &[(String, String)]) -> Result<Vec<(String, Node)>, String> {
    let mut root = Node::Map(Vec::new());
    for (k, v) in pairs {
        let (name, segs) = split_key(k)?;
        let mut path = vec![name];
        path.extend(segs);
        insert(&mut root, &path, v.clone(), k)?;
    }
    match root {
        Node::Map(m) => Ok(m),
        Node::Leaf(_) => unreachable!("the root is a map"),
    }
}

fn insert(node: &mut Node, path: &[String], value: String, key: &str) -> Result<(), String> {
    let Node::Map(children) = node else {
        return Err(format!("form key {key:?} nests under a plain value"));
    };
    let seg = if path[0].is_empty() {
        children.len().to_string()
    } else {
        path[0].clone()
    };
    if path.len() == 1 {
        if children.iter().any(|(k, _)| *k == seg) {
            return Err(format!("form key {key:?} is sent twice"));
        }
        children.push((seg, Node::Leaf(value)));
        return Ok(());
    }
    let pos = match children.iter().position(|(k, _)| *k == seg) {
        Some(p) => p,
        None => {
            children.push((seg, Node::Map(Vec::new())));
            children.len() - 1
        }
    };
    insert(&mut children[pos].1, &path[1..], value, key)
}

/// An RFC 3339 date-time with an offset (`2026-03-02T14:00:00-03:00`, `…Z`).
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        s.get(r)
            .is_some_and(|x| x.bytes().all(|c| c.is_ascii_digit()))
    };
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || !matches!(b[10], b'T' | b't')
    {
        return false;
    }
    if !digits(11..13) || b[13] != b':' || !digits(14..16) || b[16] != b':' || !digits(17..19) {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(f) = rest.strip_prefix('.') {
        let n = f.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &f[n..];
    }
    matches!(rest, "Z" | "z")
        || (rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':'
            && rest[1..3]
                .bytes()
                .chain(rest[4..6].bytes())
                .all(|c| c.is_ascii_digit()))
}

/// A short rendering of a JSON value for a problem message.
pub fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_segments_and_capture_decoded_values() {
        assert_eq!(
            match_template("/v1/customers/{customer}", "/v1/customers/cus_1"),
            Some(vec![("customer".into(), "cus_1".into())])
        );
        assert_eq!(
            match_template("/v1/customers/{customer}", "/v1/customers"),
            None
        );
        assert_eq!(
            match_template(
                "calendars/{calendarId}/events",
                "calendars/a%40b.com/events"
            ),
            Some(vec![("calendarId".into(), "a@b.com".into())])
        );
        assert!(
            literal_segments("/v1/customers/search") > literal_segments("/v1/customers/{customer}")
        );
    }

    #[test]
    fn bracket_keys_become_a_tree() {
        let pairs: Vec<(String, String)> = [
            ("lines[0][amount]", "5"),
            ("lines[0][type]", "custom_line_item"),
            ("expand[]", "a"),
            ("expand[]", "b"),
            ("metadata[k]", "v"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
        let t = form_tree(&pairs).expect("valid keys");
        let lines = &t.iter().find(|(k, _)| k == "lines").expect("lines").1;
        assert_eq!(
            lines.get("0").and_then(|l| l.get("amount")),
            Some(&Node::Leaf("5".into()))
        );
        let expand = &t.iter().find(|(k, _)| k == "expand").expect("expand").1;
        assert_eq!(
            expand.get("1"),
            Some(&Node::Leaf("b".into())),
            "each `[]` appends"
        );
        assert!(
            form_tree(&[("a".into(), "1".into()), ("a[b]".into(), "2".into())]).is_err(),
            "a value cannot also be a parent"
        );
        assert!(split_key("a[b").is_err());
    }

    #[test]
    fn rfc3339_needs_an_offset() {
        assert!(is_rfc3339("2026-03-02T14:00:00-03:00") && is_rfc3339("2026-03-02T17:00:00.5Z"));
        assert!(!is_rfc3339("2026-03-02T14:00:00") && !is_rfc3339("2026-03-02"));
    }
}
