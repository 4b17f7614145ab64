//! Swagger 2 (Slack's Web API subset): one path per method (`/chat.postMessage`) below
//! `host` + `basePath`, parameters `in` `query`, `formData` or `header`.
//!
//! Slack's write methods take their `formData` parameters as a JSON body too (`consumes` lists
//! `application/json`); then a value may be the JSON type itself, or the string a form would
//! carry (Slack's timestamps are strings in JSON, `number` in the spec). A `string` parameter
//! the spec describes as "JSON-based" (`blocks`, `attachments`) takes the structure itself in a
//! JSON body.

use serde_json::Value;

use super::{Sent, show};

pub struct Swagger {
    doc: Value,
    /// `https://slack.com/api`.
    base: String,
}

impl Swagger {
    pub fn load(rel: &str) -> Self {
        let doc = super::load(rel);
        let base = format!(
            "https://{}{}",
            doc["host"].as_str().unwrap_or_default(),
            doc["basePath"].as_str().unwrap_or_default()
        );
        Self { doc, base }
    }

    /// The Slack method name for `sent`, or every problem found. `credential_params`: the
    /// parameters the gateway sends as the `Authorization` header instead (Slack's `token`).
    pub fn check(
        &self,
        sent: &Sent<'_>,
        credential_params: &[&str],
    ) -> Result<String, Vec<String>> {
        let Some(path) = sent.url.strip_prefix(&self.base) else {
            return Err(vec![format!(
                "{} is not below the spec's {}",
                sent.url, self.base
            )]);
        };
        let Some(op) = self.doc["paths"]
            .get(path)
            .and_then(|item| item.get(sent.method.to_ascii_lowercase()))
        else {
            return Err(vec![format!(
                "no operation {} {path} in the spec",
                sent.method
            )]);
        };
        let method = path.trim_start_matches('/').to_string();
        let params: Vec<&Value> = op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect();
        let by = |name: &str, place: &str| {
            params
                .iter()
                .copied()
                .find(|p| p["name"] == name && p["in"] == place)
        };
        let mut problems = Vec::new();
        let mut present: Vec<&str> = Vec::new();
        for (name, value) in sent.query {
            present.push(name);
            match by(name, "query") {
                Some(p) => check_string(&format!("query {name}"), value, p, &mut problems),
                None => problems.push(format!("query argument '{name}' is not known to {method}")),
            }
        }
        match sent.json {
            None => {}
            Some(Value::Object(body)) => {
                if !op["consumes"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|x| x == "application/json"))
                {
                    problems.push(format!("{method} does not take a JSON body"));
                }
                for (name, value) in body {
                    present.push(name);
                    match by(name, "formData") {
                        Some(p) => check_json(&format!("body {name}"), value, p, &mut problems),
                        None => problems
                            .push(format!("body argument '{name}' is not known to {method}")),
                    }
                }
            }
            Some(other) => problems.push(format!(
                "the body must be a JSON object, not {}",
                show(other)
            )),
        }
        if let Some(form) = sent.form {
            for (name, value) in form {
                present.push(name);
                match by(name, "formData") {
                    Some(p) => check_string(&format!("form {name}"), value, p, &mut problems),
                    None => {
                        problems.push(format!("form argument '{name}' is not known to {method}"))
                    }
                }
            }
        }
        for p in params.iter().filter(|p| p["required"] == true) {
            let name = p["name"].as_str().unwrap_or_default();
            if !present.contains(&name) && !credential_params.contains(&name) {
                problems.push(format!("required argument '{name}' is missing"));
            }
        }
        if problems.is_empty() {
            Ok(method)
        } else {
            Err(problems)
        }
    }

    /// The error codes the spec documents for `method` (its `default` response's `error` enum).
    pub fn documented_errors(&self, method: &str) -> Vec<String> {
        let item = &self.doc["paths"][format!("/{method}")];
        item.as_object()
            .into_iter()
            .flat_map(|ops| ops.values())
            .filter_map(|op| {
                op.pointer("/responses/default/schema/properties/error/enum")
                    .and_then(Value::as_array)
            })
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    }
}

fn check_string(at: &str, v: &str, p: &Value, problems: &mut Vec<String>) {
    let t = p["type"].as_str().unwrap_or("string");
    let ok = match t {
        "integer" => v.parse::<i64>().is_ok(),
        "number" => v.parse::<f64>().is_ok(),
        "boolean" => matches!(v, "true" | "false" | "1" | "0"),
        _ => true,
    };
    if !ok {
        problems.push(format!("{at}: {v:?} is not a valid {t}"));
    }
}

fn check_json(at: &str, v: &Value, p: &Value, problems: &mut Vec<String>) {
    let t = p["type"].as_str().unwrap_or("string");
    let json_structure = p["description"]
        .as_str()
        .is_some_and(|d| d.contains("JSON-based"));
    let ok = match (t, v) {
        (_, Value::String(s)) => {
            check_string(at, s, p, problems);
            return;
        }
        ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
        ("number", Value::Number(_)) | ("boolean", Value::Bool(_)) => true,
        ("string", Value::Array(_) | Value::Object(_)) => json_structure,
        _ => false,
    };
    if !ok {
        problems.push(format!("{at}: {} is not a valid {t}", show(v)));
    }
}
