//! Google discovery documents (Gmail v1, Calendar v3): methods by `httpMethod` and `path`
//! (relative to `rootUrl` + `servicePath`), their `parameters` (`location`, `required`, `type`,
//! `enum`, `repeated`) plus the document's global parameters, and the request body against the
//! method's `request.$ref` schema, including `annotations.required` for that method.

use serde_json::Value;

use super::{Sent, is_rfc3339, literal_segments, match_template, show};

pub struct Discovery {
    doc: Value,
    /// `rootUrl` + `servicePath`, e.g. `https://www.googleapis.com/calendar/v3/`.
    base: String,
    /// (id, http method, path, method object), every resource's methods.
    methods: Vec<(String, String, String, Value)>,
}

impl Discovery {
    pub fn load(rel: &str) -> Self {
        let doc = super::load(rel);
        let base = format!(
            "{}{}",
            doc["rootUrl"].as_str().unwrap_or_default(),
            doc["servicePath"].as_str().unwrap_or_default()
        );
        let mut methods = Vec::new();
        collect(&doc, &mut methods);
        assert!(!methods.is_empty(), "{rel}: no methods");
        Self { doc, base, methods }
    }

    pub fn schema(&self, name: &str) -> &Value {
        self.doc
            .pointer(&format!("/schemas/{name}"))
            .unwrap_or_else(|| panic!("no schema '{name}'"))
    }

    fn resolve<'a>(&'a self, mut s: &'a Value) -> &'a Value {
        while let Some(r) = s.get("$ref").and_then(Value::as_str) {
            s = self.schema(r);
        }
        s
    }

    /// The method for `sent`: its id (`gmail.users.messages.list`), or every problem found.
    pub fn check(&self, sent: &Sent<'_>) -> Result<String, Vec<String>> {
        let Some(path) = sent.url.strip_prefix(&self.base) else {
            return Err(vec![format!(
                "{} is not below the document's base {}",
                sent.url, self.base
            )]);
        };
        let found = self
            .methods
            .iter()
            .filter(|(_, m, _, _)| m.eq_ignore_ascii_case(sent.method))
            .filter_map(|(id, _, t, def)| Some((id, t, def, match_template(t, path)?)))
            .max_by_key(|(_, t, _, _)| literal_segments(t));
        let Some((id, _, def, captured)) = found else {
            return Err(vec![format!(
                "no method {} {path} in the discovery document",
                sent.method
            )]);
        };
        let mut problems = Vec::new();
        let params = def
            .get("parameters")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let globals = self
            .doc
            .get("parameters")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (name, value) in &captured {
            match params.get(name).filter(|p| p["location"] == "path") {
                Some(p) => self.check_param(&format!("path {name}"), value, p, &mut problems),
                None => problems.push(format!(
                    "path placeholder {name} is not a path parameter of {id}"
                )),
            }
        }
        for (name, value) in sent.query {
            match params
                .get(name)
                .filter(|p| p["location"] == "query")
                .or_else(|| globals.get(name))
            {
                Some(p) => {
                    if p["repeated"] != true
                        && sent.query.iter().filter(|(k, _)| k == name).count() > 1
                    {
                        problems.push(format!(
                            "query {name}: sent more than once but not repeated"
                        ));
                    }
                    self.check_param(&format!("query {name}"), value, p, &mut problems);
                }
                None => problems.push(format!("query parameter '{name}' is not known to {id}")),
            }
        }
        for (name, p) in &params {
            if p["required"] == true
                && p["location"] == "query"
                && !sent.query.iter().any(|(k, _)| k == name)
            {
                problems.push(format!("required query parameter '{name}' is missing"));
            }
        }
        match (
            def.pointer("/request/$ref").and_then(Value::as_str),
            sent.json,
        ) {
            (Some(schema), Some(body)) => self.check_json(
                "body",
                body,
                &serde_json::json!({ "$ref": schema }),
                Some(id),
                &mut problems,
            ),
            (Some(schema), None) => {
                problems.push(format!("{id} takes a {schema} body and none was sent"))
            }
            (None, Some(_)) => problems.push(format!("{id} takes no body")),
            (None, None) => {}
        }
        if sent.form.is_some() {
            problems.push(format!("{id} takes JSON, not a form body"));
        }
        if problems.is_empty() {
            Ok(id.clone())
        } else {
            Err(problems)
        }
    }

    fn check_param(&self, at: &str, v: &str, p: &Value, problems: &mut Vec<String>) {
        let ok = match p["type"].as_str() {
            Some("integer") => v.parse::<i64>().is_ok_and(|n| {
                let bound = |k: &str| {
                    p.get(k)
                        .and_then(Value::as_str)
                        .and_then(|b| b.parse::<i64>().ok())
                };
                bound("minimum").is_none_or(|m| n >= m) && bound("maximum").is_none_or(|m| n <= m)
            }),
            Some("boolean") => v == "true" || v == "false",
            Some("number") => v.parse::<f64>().is_ok(),
            _ => true,
        };
        if !ok {
            problems.push(format!(
                "{at}: {v:?} is not a valid {}",
                p["type"].as_str().unwrap_or("value")
            ));
        }
        if let Some(e) = p.get("enum").and_then(Value::as_array)
            && !e.iter().any(|x| x.as_str() == Some(v))
        {
            problems.push(format!(
                "{at}: {v:?} is not one of {}",
                show(&Value::Array(e.clone()))
            ));
        }
        if p["format"] == "date-time" && !is_rfc3339(v) {
            problems.push(format!("{at}: {v:?} is not an RFC 3339 date-time"));
        }
    }

    /// A JSON value against a discovery schema. `method`: the method id whose
    /// `annotations.required` fields must be present (a request body); `None` for an answer.
    pub fn check_json(
        &self,
        at: &str,
        v: &Value,
        schema: &Value,
        method: Option<&str>,
        problems: &mut Vec<String>,
    ) {
        let s = self.resolve(schema);
        match (s.get("type").and_then(Value::as_str), v) {
            // `{"type": "object"}` alone: any object.
            (Some("object"), Value::Object(_))
                if s.get("properties").is_none() && s.get("additionalProperties").is_none() => {}
            (Some("object"), Value::Object(o)) => {
                let props = s.get("properties").and_then(Value::as_object);
                for (k, child) in o {
                    let path = format!("{at}.{k}");
                    match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
                        (Some(p), _) => self.check_json(&path, child, p, method, problems),
                        (None, Some(extra)) => {
                            self.check_json(&path, child, extra, method, problems)
                        }
                        (None, None) => problems.push(format!(
                            "{path}: not a field of this object in the discovery document"
                        )),
                    }
                }
                if let (Some(m), Some(props)) = (method, props) {
                    for (k, p) in props {
                        let needed = p
                            .pointer("/annotations/required")
                            .and_then(Value::as_array)
                            .is_some_and(|r| r.iter().any(|x| x == m));
                        if needed && !o.contains_key(k) {
                            problems.push(format!("{at}: '{k}' is required for {m}"));
                        }
                    }
                }
            }
            (Some("array"), Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    self.check_json(&format!("{at}[{i}]"), item, &s["items"], method, problems);
                }
            }
            (Some("string"), Value::String(x)) => {
                let ok = match s.get("format").and_then(Value::as_str) {
                    Some("int64" | "uint64") => x.parse::<i128>().is_ok(),
                    Some("date-time") => is_rfc3339(x),
                    Some("byte") => x
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+/-_=".contains(&b)),
                    _ => true,
                };
                if !ok {
                    problems.push(format!(
                        "{at}: {x:?} is not a valid {}",
                        s["format"].as_str().unwrap_or("string")
                    ));
                }
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
            (Some("number"), Value::Number(_))
            | (Some("boolean"), Value::Bool(_))
            | (Some("any") | None, _) => {}
            (Some(t), _) => problems.push(format!("{at}: {} is not a {t}", show(v))),
        }
    }
}

fn collect(node: &Value, out: &mut Vec<(String, String, String, Value)>) {
    for (_, res) in node
        .get("resources")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (_, m) in res
            .get("methods")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            out.push((
                m["id"].as_str().unwrap_or_default().to_string(),
                m["httpMethod"].as_str().unwrap_or_default().to_string(),
                m["path"].as_str().unwrap_or_default().to_string(),
                m.clone(),
            ));
        }
        collect(res, out);
    }
}
