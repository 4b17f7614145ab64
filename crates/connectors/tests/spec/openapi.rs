//! OpenAPI 3 (Stripe's subset): operations by method and path template, query parameters and
//! `application/x-www-form-urlencoded` bodies in Stripe's bracket syntax (`metadata[k]`,
//! `lines[0][amount]`, `expand[]`), and JSON answers against component schemas.

use serde_json::{Map, Value};

use super::{Node, Sent, form_tree, literal_segments, match_template, show};

pub struct OpenApi {
    doc: Value,
    /// `https://api.stripe.com` (the first server, without its trailing `/`).
    base: String,
}

impl OpenApi {
    pub fn load(rel: &str) -> Self {
        let doc = super::load(rel);
        let base = doc
            .pointer("/servers/0/url")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_string();
        assert!(!base.is_empty(), "{rel}: no servers[0].url");
        Self { doc, base }
    }

    /// A component schema by name (`customer`).
    pub fn schema(&self, name: &str) -> &Value {
        self.doc
            .pointer(&format!("/components/schemas/{name}"))
            .unwrap_or_else(|| panic!("no component schema '{name}'"))
    }

    fn resolve<'a>(&'a self, mut s: &'a Value) -> &'a Value {
        while let Some(r) = s.get("$ref").and_then(Value::as_str) {
            s = r
                .strip_prefix('#')
                .and_then(|p| self.doc.pointer(p))
                .unwrap_or_else(|| panic!("unresolvable $ref {r}"));
        }
        s
    }

    /// The operation for `sent`: its `operationId`, or every problem found.
    pub fn check(&self, sent: &Sent<'_>) -> Result<String, Vec<String>> {
        let Some(path) = sent.url.strip_prefix(&self.base) else {
            return Err(vec![format!(
                "{} is not below the spec's server {}",
                sent.url, self.base
            )]);
        };
        let method = sent.method.to_ascii_lowercase();
        let paths = self.doc["paths"].as_object().expect("paths");
        let found = paths
            .iter()
            .filter_map(|(t, item)| Some((t, item, match_template(t, path)?)))
            .filter(|(_, item, _)| item.get(&method).is_some())
            .max_by_key(|(t, _, _)| literal_segments(t));
        let Some((template, item, captured)) = found else {
            return Err(vec![format!(
                "no operation {} {path} in the spec",
                sent.method
            )]);
        };
        let op = &item[&method];
        let id = op["operationId"].as_str().unwrap_or(template).to_string();
        let mut problems = Vec::new();
        let params: Vec<&Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(
                op.get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            )
            .collect();
        let by = |name: &str, place: &str| {
            params
                .iter()
                .copied()
                .find(|p| p["name"] == name && p["in"] == place)
        };

        for (name, value) in &captured {
            match by(name, "path") {
                Some(p) => self.check_form(
                    &format!("path {name}"),
                    &Node::Leaf(value.clone()),
                    &p["schema"],
                    &mut problems,
                ),
                None => problems.push(format!(
                    "path placeholder {name} is not a declared parameter"
                )),
            }
        }
        match form_tree(sent.query) {
            Err(e) => problems.push(e),
            Ok(roots) => {
                for (name, node) in &roots {
                    match by(name, "query") {
                        Some(p) => self.check_form(
                            &format!("query {name}"),
                            node,
                            &p["schema"],
                            &mut problems,
                        ),
                        None => {
                            problems.push(format!("query parameter '{name}' is not known to {id}"))
                        }
                    }
                }
                for p in params
                    .iter()
                    .filter(|p| p["in"] == "query" && p["required"] == true)
                {
                    let name = p["name"].as_str().unwrap_or_default();
                    if !roots.iter().any(|(k, _)| k == name) {
                        problems.push(format!("required query parameter '{name}' is missing"));
                    }
                }
            }
        }
        let body_schema =
            op.pointer("/requestBody/content/application~1x-www-form-urlencoded/schema");
        match (sent.form, body_schema) {
            (Some(form), Some(schema)) => match form_tree(form) {
                Err(e) => problems.push(e),
                Ok(roots) => self.check_form("body", &Node::Map(roots), schema, &mut problems),
            },
            (None, Some(schema)) => {
                let required = self
                    .resolve(schema)
                    .get("required")
                    .and_then(Value::as_array)
                    .filter(|r| !r.is_empty());
                if let Some(r) = required {
                    problems.push(format!(
                        "{id} needs a form body with {}",
                        r.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            (Some(form), None) if !form.is_empty() => {
                problems.push(format!("{id} takes no form body"))
            }
            _ => {}
        }
        if sent.json.is_some() {
            problems.push(format!("{id} takes a form-encoded body, not JSON"));
        }
        if problems.is_empty() {
            Ok(id)
        } else {
            Err(problems)
        }
    }

    /// A form value (tree) against a schema.
    fn check_form(&self, at: &str, node: &Node, schema: &Value, problems: &mut Vec<String>) {
        let s = self.resolve(schema);
        if let Some(branches) = s.get("anyOf").and_then(Value::as_array) {
            let fits = branches.iter().any(|b| {
                let mut p = Vec::new();
                self.check_form(at, node, b, &mut p);
                p.is_empty()
            });
            if !fits {
                problems.push(format!("{at}: {node:?} matches none of the allowed shapes"));
            }
            return;
        }
        let ty = s
            .get("type")
            .and_then(Value::as_str)
            .or_else(|| s.get("properties").map(|_| "object"));
        match (ty, node) {
            (Some("object"), Node::Map(children)) => {
                let props = s.get("properties").and_then(Value::as_object);
                for (k, child) in children {
                    let at = format!("{at}[{k}]");
                    match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
                        (Some(p), _) => self.check_form(&at, child, p, problems),
                        (None, Some(extra)) if extra.is_object() => {
                            self.check_form(&at, child, extra, problems)
                        }
                        _ => problems.push(format!("{at}: unknown parameter")),
                    }
                }
                for r in s
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if !children.iter().any(|(k, _)| k == r) {
                        problems.push(format!("{at}: required parameter '{r}' is missing"));
                    }
                }
            }
            (Some("array"), Node::Map(children)) => {
                for (i, (k, child)) in children.iter().enumerate() {
                    if k.parse::<usize>().ok() != Some(i) {
                        problems.push(format!(
                            "{at}[{k}]: array items are numbered 0, 1, 2 … in order"
                        ));
                    }
                    self.check_form(&format!("{at}[{k}]"), child, &s["items"], problems);
                }
            }
            (Some(t @ ("string" | "integer" | "number" | "boolean")), Node::Leaf(v)) => {
                let ok = match t {
                    "integer" => v.parse::<i64>().is_ok(),
                    "number" => v.parse::<f64>().is_ok(),
                    "boolean" => v == "true" || v == "false",
                    _ => true,
                };
                if !ok {
                    problems.push(format!("{at}: {v:?} is not a valid {t}"));
                }
                if let Some(e) = s.get("enum").and_then(Value::as_array)
                    && !e.iter().any(|x| {
                        x.as_str() == Some(v.as_str())
                            || x.as_bool().is_some_and(|b| b.to_string() == *v)
                    })
                {
                    problems.push(format!(
                        "{at}: {v:?} is not one of {}",
                        show(&Value::Array(e.clone()))
                    ));
                }
                if let Some(max) = s.get("maxLength").and_then(Value::as_u64)
                    && v.chars().count() as u64 > max
                {
                    problems.push(format!("{at}: longer than {max} characters"));
                }
            }
            (t, n) => problems.push(format!(
                "{at}: {n:?} does not fit a {}",
                t.unwrap_or("value without a type")
            )),
        }
    }

    /// A JSON answer against a schema: required fields present, no field the schema does not
    /// know, every value of its declared type (`nullable` allows `null`).
    pub fn check_json(&self, at: &str, v: &Value, schema: &Value, problems: &mut Vec<String>) {
        let s = self.resolve(schema);
        if v.is_null() && s.get("nullable") == Some(&Value::Bool(true)) {
            return;
        }
        if let Some(branches) = s.get("anyOf").and_then(Value::as_array) {
            let mut best: Option<Vec<String>> = None;
            for b in branches {
                let mut p = Vec::new();
                self.check_json(at, v, b, &mut p);
                if p.is_empty() {
                    return;
                }
                if best.as_ref().is_none_or(|x| p.len() < x.len()) {
                    best = Some(p);
                }
            }
            problems.extend(
                best.unwrap_or_else(|| vec![format!("{at}: {} matches no allowed shape", show(v))]),
            );
            return;
        }
        let ty = s
            .get("type")
            .and_then(Value::as_str)
            .or_else(|| s.get("properties").map(|_| "object"));
        match (ty, v) {
            (Some("object"), Value::Object(o)) => self.check_object(at, o, s, problems),
            (Some("array"), Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    self.check_json(&format!("{at}[{i}]"), item, &s["items"], problems);
                }
            }
            (Some("string"), Value::String(x)) => {
                if let Some(e) = s.get("enum").and_then(Value::as_array)
                    && !e.iter().any(|y| y.as_str() == Some(x.as_str()))
                {
                    problems.push(format!(
                        "{at}: {x:?} is not one of {}",
                        show(&Value::Array(e.clone()))
                    ));
                }
            }
            (Some("integer"), Value::Number(n)) if n.is_i64() || n.is_u64() => {}
            (Some("number"), Value::Number(_)) | (Some("boolean"), Value::Bool(_)) => {
                if let Some(e) = s.get("enum").and_then(Value::as_array)
                    && !e.contains(v)
                {
                    problems.push(format!(
                        "{at}: {} is not one of {}",
                        show(v),
                        show(&Value::Array(e.clone()))
                    ));
                }
            }
            (None, _) => {}
            (Some(t), _) => problems.push(format!(
                "{at}: {} is not a {t}{}",
                show(v),
                if v.is_null() {
                    " (and the field is not nullable)"
                } else {
                    ""
                }
            )),
        }
    }

    fn check_object(
        &self,
        at: &str,
        o: &Map<String, Value>,
        s: &Value,
        problems: &mut Vec<String>,
    ) {
        let props = s.get("properties").and_then(Value::as_object);
        if props.is_none() && s.get("additionalProperties").is_none() {
            // `{"type": "object"}` alone: any object (an event's `data.object`).
            return;
        }
        for (k, child) in o {
            let path = format!("{at}.{k}");
            match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
                (Some(p), _) => self.check_json(&path, child, p, problems),
                (None, Some(extra)) if extra.is_object() => {
                    self.check_json(&path, child, extra, problems)
                }
                _ => problems.push(format!("{path}: not a field of this object in the spec")),
            }
        }
        for r in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !o.contains_key(r) {
                problems.push(format!("{at}: required field '{r}' is missing"));
            }
        }
    }
}
