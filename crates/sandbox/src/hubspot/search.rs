//! CRM search (`POST /crm/v3/objects/{objectType}/search`), as HubSpot documents it:
//! `filterGroups` (OR-ed) of `filters` (AND-ed) with `propertyName`, `operator` and `value`,
//! `values` or `highValue`; the `associations.{type}` pseudo-properties; one sort; a free-text
//! `query` over the type's default searchable properties; `properties`; `limit` (at most 200)
//! and the `after` offset, never past 10,000 results. The answer is
//! `{total, results, paging.next.after}`.
//!
//! Values compare by the property's type: datetimes as instants (milliseconds or ISO 8601 on
//! either side), numbers as numbers, everything else as case-insensitive text.

use std::cmp::Ordering;

use serde_json::{Map, Value, json};

use super::model::{Crm, Kind, Obj, definition, parse_time_ms, select};

/// At most this many filter groups, filters per group and filters in all (HubSpot's limits).
const MAX_GROUPS: usize = 5;
const MAX_FILTERS_PER_GROUP: usize = 6;
const MAX_FILTERS: usize = 18;
/// Largest page.
pub(crate) const MAX_LIMIT: usize = 200;
/// Search never pages past this many results.
pub(crate) const MAX_RESULTS: usize = 10_000;

const OPERATORS: &[&str] = &[
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
];

/// A checked filter.
struct Filter {
    property: String,
    operator: String,
    value: Option<String>,
    high: Option<String>,
    values: Vec<String>,
    /// `Some(type)` for `associations.{type}`.
    association: Option<Obj>,
    kind: Kind,
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_filter(obj: Obj, f: &Value) -> Result<Filter, String> {
    let property = f["propertyName"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or("each filter needs a propertyName")?
        .to_string();
    let operator = f["operator"].as_str().unwrap_or("EQ").to_ascii_uppercase();
    if !OPERATORS.contains(&operator.as_str()) {
        return Err(format!(
            "Invalid filter operator '{operator}'; allowed: {}",
            OPERATORS.join(", ")
        ));
    }
    let (association, kind) = match property.strip_prefix("associations.") {
        Some(t) => (
            Some(Obj::parse(t).ok_or_else(|| format!("Unable to infer object type from: {t}"))?),
            Kind::Number,
        ),
        None => match definition(obj, &property) {
            Some(d) => (None, d.kind),
            None => {
                return Err(format!(
                    "Property \"{property}\" does not exist on {}",
                    obj.plural()
                ));
            }
        },
    };
    let value = f.get("value").and_then(text);
    let high = f.get("highValue").and_then(text);
    let values: Vec<String> = f
        .get("values")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(text).collect())
        .unwrap_or_default();
    match operator.as_str() {
        "HAS_PROPERTY" | "NOT_HAS_PROPERTY" => {}
        "IN" | "NOT_IN" if values.is_empty() => {
            return Err(format!(
                "The {operator} operator on {property} needs a non-empty 'values' list"
            ));
        }
        "IN" | "NOT_IN" => {}
        "BETWEEN" if value.is_none() || high.is_none() => {
            return Err(format!(
                "BETWEEN on {property} needs 'value' and 'highValue'"
            ));
        }
        _ if value.is_none() => {
            return Err(format!(
                "The {operator} operator on {property} needs a 'value'"
            ));
        }
        _ => {}
    }
    if matches!(kind, Kind::DateTime | Kind::Date) && association.is_none() {
        for v in value.iter().chain(high.iter()).chain(values.iter()) {
            if parse_time_ms(v).is_none() {
                return Err(format!(
                    "{v} is not a valid value for {property}: use milliseconds since the epoch or an ISO 8601 date"
                ));
            }
        }
    }
    Ok(Filter {
        property,
        operator,
        value,
        high,
        values,
        association,
        kind,
    })
}

/// Compares a stored value with a filter value by the property's type.
fn compare(kind: Kind, stored: &str, wanted: &str) -> Option<Ordering> {
    match kind {
        Kind::DateTime | Kind::Date => Some(parse_time_ms(stored)?.cmp(&parse_time_ms(wanted)?)),
        Kind::Number => stored
            .trim()
            .parse::<f64>()
            .ok()?
            .partial_cmp(&wanted.trim().parse::<f64>().ok()?),
        _ => Some(stored.to_lowercase().cmp(&wanted.to_lowercase())),
    }
}

/// Whether `stored` holds `token` (a word of it, or the whole value; `*` is a wildcard).
fn contains_token(stored: &str, token: &str) -> bool {
    let stored = stored.to_lowercase();
    let token = token.to_lowercase();
    if token.contains('*') {
        return glob(&stored, &token)
            || stored
                .split(|c: char| c.is_whitespace())
                .any(|w| glob(w, &token));
    }
    stored == token
        || stored
            .split(|c: char| !(c.is_alphanumeric() || c == '@' || c == '.' || c == '-' || c == '_'))
            .any(|w| w == token)
        || stored
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w == token)
}

fn glob(s: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = s;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    rest.is_empty()
}

fn matches(crm: &Crm, obj: Obj, record: &Value, f: &Filter) -> bool {
    let stored: Vec<String> = match f.association {
        Some(to) => {
            let id: u64 = record["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_default();
            crm.associated(obj, id, to)
                .into_iter()
                .map(|x| x.to_string())
                .collect()
        }
        None => record["properties"][&f.property]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .into_iter()
            .collect(),
    };
    let eq = |w: &str| {
        stored
            .iter()
            .any(|s| compare(f.kind, s, w) == Some(Ordering::Equal))
    };
    let cmp = |w: &str, ok: fn(Ordering) -> bool| {
        stored.iter().any(|s| compare(f.kind, s, w).is_some_and(ok))
    };
    let v = f.value.as_deref().unwrap_or_default();
    match f.operator.as_str() {
        "EQ" => eq(v),
        "NEQ" => !eq(v),
        "LT" => cmp(v, Ordering::is_lt),
        "LTE" => cmp(v, Ordering::is_le),
        "GT" => cmp(v, Ordering::is_gt),
        "GTE" => cmp(v, Ordering::is_ge),
        "BETWEEN" => {
            cmp(v, Ordering::is_ge) && cmp(f.high.as_deref().unwrap_or_default(), Ordering::is_le)
        }
        "IN" => f.values.iter().any(|w| eq(w)),
        "NOT_IN" => !f.values.iter().any(|w| eq(w)),
        "HAS_PROPERTY" => !stored.is_empty(),
        "NOT_HAS_PROPERTY" => stored.is_empty(),
        "CONTAINS_TOKEN" => stored.iter().any(|s| contains_token(s, v)),
        "NOT_CONTAINS_TOKEN" => !stored.iter().any(|s| contains_token(s, v)),
        _ => false,
    }
}

fn query_matches(obj: Obj, record: &Value, query: &str) -> bool {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return true;
    }
    let hay: Vec<String> = obj
        .searchable()
        .iter()
        .filter_map(|p| record["properties"][*p].as_str().map(str::to_lowercase))
        .collect();
    let full = hay.join(" ");
    // Every word of the query must appear (as the start of a word, or inside an email/domain).
    q.split_whitespace().all(|w| {
        full.split(|c: char| c.is_whitespace())
            .any(|h| h.starts_with(w) || h.contains(w))
    })
}

/// `(property, descending)` from `sorts`: `[{propertyName, direction}]` or `["-createdate"]`.
fn parse_sort(obj: Obj, sorts: Option<&Value>) -> Result<Option<(String, bool)>, String> {
    let Some(list) = sorts.and_then(Value::as_array) else {
        return Ok(None);
    };
    if list.len() > 1 {
        return Err("Only one sort is allowed in a search request".into());
    }
    let Some(s) = list.first() else {
        return Ok(None);
    };
    let (name, desc) = match s {
        Value::String(p) => match p.strip_prefix('-') {
            Some(n) => (n.to_string(), true),
            None => (p.clone(), false),
        },
        Value::Object(o) => {
            let name = o
                .get("propertyName")
                .and_then(Value::as_str)
                .ok_or("a sort needs a propertyName")?
                .to_string();
            let desc = match o
                .get("direction")
                .and_then(Value::as_str)
                .unwrap_or("ASCENDING")
            {
                "ASCENDING" => false,
                "DESCENDING" => true,
                other => {
                    return Err(format!(
                        "Invalid sort direction '{other}'; use ASCENDING or DESCENDING"
                    ));
                }
            };
            (name, desc)
        }
        _ => return Err("a sort must be {\"propertyName\", \"direction\"}".into()),
    };
    if definition(obj, &name).is_none() {
        return Err(format!(
            "Property \"{name}\" does not exist on {}",
            obj.plural()
        ));
    }
    Ok(Some((name, desc)))
}

fn numeric_id(r: &Value) -> u64 {
    r["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_default()
}

/// Runs one search; `Err` is the sentence for HubSpot's 400 `VALIDATION_ERROR`.
pub(crate) fn run(crm: &Crm, obj: Obj, body: &Map<String, Value>) -> Result<Value, String> {
    let limit = match body.get("limit") {
        None | Some(Value::Null) => 10,
        Some(v) => match v.as_u64().and_then(|n| usize::try_from(n).ok()) {
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(format!(
                    "limit must be a whole number from 1 to {MAX_LIMIT}"
                ));
            }
        },
    };
    let after = match body.get("after") {
        None | Some(Value::Null) => 0,
        Some(v) => match text(v).and_then(|s| s.parse::<usize>().ok()) {
            Some(n) => n,
            None => {
                return Err("after must be a paging cursor returned by a previous search".into());
            }
        },
    };
    if after >= MAX_RESULTS {
        return Err(format!(
            "Search can page through at most {MAX_RESULTS} results; narrow the filters (for example on lastmodifieddate) instead"
        ));
    }
    let groups: Vec<Vec<Filter>> = match body.get("filterGroups") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(gs)) => {
            if gs.len() > MAX_GROUPS {
                return Err(format!("At most {MAX_GROUPS} filterGroups are allowed"));
            }
            let mut out = Vec::new();
            for g in gs {
                let fs = g["filters"]
                    .as_array()
                    .ok_or("each filter group needs a 'filters' list")?;
                if fs.len() > MAX_FILTERS_PER_GROUP {
                    return Err(format!(
                        "At most {MAX_FILTERS_PER_GROUP} filters are allowed in one filter group"
                    ));
                }
                out.push(
                    fs.iter()
                        .map(|f| parse_filter(obj, f))
                        .collect::<Result<Vec<_>, _>>()?,
                );
            }
            if out.iter().map(Vec::len).sum::<usize>() > MAX_FILTERS {
                return Err(format!(
                    "At most {MAX_FILTERS} filters are allowed in one search"
                ));
            }
            out
        }
        Some(_) => return Err("filterGroups must be a list".into()),
    };
    let sort = parse_sort(obj, body.get("sorts"))?;
    let query = body
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let requested: Option<Vec<String>> = match body.get("properties") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
        ),
        Some(_) => return Err("properties must be a list of property names".into()),
    };
    let requested = requested.filter(|r| !r.is_empty());

    let mut hits: Vec<&Value> = crm
        .list(obj)
        .iter()
        .filter(|r| r["archived"] != true)
        .filter(|r| {
            groups.is_empty()
                || groups
                    .iter()
                    .any(|g| g.iter().all(|f| matches(crm, obj, r, f)))
        })
        .filter(|r| query_matches(obj, r, query))
        .collect();
    match &sort {
        Some((prop, desc)) => {
            let kind = definition(obj, prop).map_or(Kind::String, |d| d.kind);
            hits.sort_by(|a, b| {
                let (x, y) = (
                    a["properties"][prop].as_str(),
                    b["properties"][prop].as_str(),
                );
                let ord = match (x, y) {
                    (Some(x), Some(y)) => compare(kind, x, y).unwrap_or(Ordering::Equal),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => Ordering::Equal,
                };
                let ord = if *desc && x.is_some() && y.is_some() {
                    ord.reverse()
                } else {
                    ord
                };
                ord.then_with(|| numeric_id(a).cmp(&numeric_id(b)))
            });
        }
        None => hits.sort_by_key(|r| numeric_id(r)),
    }
    let total = hits.len();
    let end = after.saturating_add(limit).min(total);
    let results: Vec<Value> = hits
        .get(after..end)
        .unwrap_or_default()
        .iter()
        .map(|r| select(obj, r, requested.as_deref()))
        .collect();
    let mut out = json!({ "total": total, "results": results });
    if end < total && end < MAX_RESULTS {
        out["paging"] = json!({ "next": { "after": end.to_string() } });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_wildcards_match_like_hubspot() {
        assert!(contains_token("ada.lovelace@example.com", "*@example.com"));
        assert!(contains_token("Analytical Engines Ltd", "engines"));
        assert!(!contains_token("Analytical Engines Ltd", "engine"));
        assert!(glob("hypertext.example", "hyper*"));
        assert!(!glob("hypertext.example", "*.org"));
    }

    #[test]
    fn datetimes_compare_as_instants_whatever_their_form() {
        assert_eq!(
            compare(Kind::DateTime, "2024-03-01T10:00:00.000Z", "1709287200000"),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare(Kind::DateTime, "2024-03-01T10:00:00.001Z", "1709287200000"),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare(Kind::Number, "9", "10"),
            Some(Ordering::Less),
            "numbers compare as numbers, not text"
        );
    }
}
