//! CRM search requests (`POST /crm/v3/objects/{type}/search`): the agent's filters, sort,
//! query, properties and paging checked field by field and turned into HubSpot's body, and the
//! activity history of a record as a search of one activity type by association.

use serde_json::{Map, Value, json};

use super::super::{
    HttpCall, object, opt_limit, opt_string, opt_string_list, record_id, refuse_unknown,
};

/// HubSpot's search limits: filter groups, filters per group, filters in all, page size.
pub(super) const MAX_GROUPS: usize = 5;
pub(super) const MAX_FILTERS_PER_GROUP: usize = 6;
pub(super) const MAX_FILTERS: usize = 18;
pub(super) const MAX_LIMIT: u64 = 200;

pub(super) const OPERATORS: &[&str] = &[
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

/// The activity types a record's history holds, with the properties listed by default.
pub(super) const ACTIVITY_TYPES: &[(&str, &[&str])] = &[
    (
        "calls",
        &[
            "hs_timestamp",
            "hs_call_title",
            "hs_call_body",
            "hs_call_direction",
            "hs_call_status",
            "hs_call_duration",
            "hubspot_owner_id",
        ],
    ),
    (
        "emails",
        &[
            "hs_timestamp",
            "hs_email_subject",
            "hs_email_text",
            "hs_email_direction",
            "hs_email_status",
            "hubspot_owner_id",
        ],
    ),
    (
        "meetings",
        &[
            "hs_timestamp",
            "hs_meeting_title",
            "hs_meeting_body",
            "hs_meeting_start_time",
            "hs_meeting_end_time",
            "hs_meeting_outcome",
            "hubspot_owner_id",
        ],
    ),
    (
        "notes",
        &["hs_timestamp", "hs_note_body", "hubspot_owner_id"],
    ),
    (
        "tasks",
        &[
            "hs_timestamp",
            "hs_task_subject",
            "hs_task_body",
            "hs_task_status",
            "hs_task_priority",
            "hs_task_type",
            "hubspot_owner_id",
        ],
    ),
];

/// A property name as HubSpot writes them (lower case, digits, `_`), or an association
/// pseudo-property such as `associations.contact`.
fn property_name(v: Option<&Value>, at: &str) -> Result<String, String> {
    let Some(name) = v.and_then(Value::as_str).filter(|s| !s.is_empty()) else {
        return Err(format!(
            "'{at}.property' is required: a HubSpot property name such as \"email\""
        ));
    };
    let ok = name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
    if !ok {
        return Err(format!(
            "'{at}.property' must be a HubSpot property name such as \"lastmodifieddate\" (lower case, digits, _), not \"{name}\""
        ));
    }
    Ok(name.to_string())
}

/// A filter value: text, a number or true/false, passed on as given.
fn scalar(v: &Value, at: &str) -> Result<Value, String> {
    match v {
        Value::String(s) if !s.is_empty() => Ok(v.clone()),
        Value::Number(_) | Value::Bool(_) => Ok(v.clone()),
        _ => Err(format!(
            "'{at}' must be a non-empty string, a number or true/false"
        )),
    }
}

/// One filter: `{property, operator, value | values | value + high_value}` → HubSpot's
/// `{propertyName, operator, value | values | highValue}`.
fn filter(f: &Value, at: &str) -> Result<Value, String> {
    let Some(o) = f.as_object() else {
        return Err(format!(
            "'{at}' must be an object such as {{\"property\": \"email\", \"operator\": \"EQ\", \"value\": \"ada@example.com\"}}"
        ));
    };
    if let Some(k) = o
        .keys()
        .find(|k| !["property", "operator", "value", "values", "high_value"].contains(&k.as_str()))
    {
        return Err(format!(
            "unknown field '{k}' in '{at}'; a filter takes: property, operator, value, values, high_value"
        ));
    }
    let property = property_name(o.get("property"), at)?;
    let operator = match o.get("operator").and_then(Value::as_str) {
        Some(op) if OPERATORS.contains(&op) => op,
        Some(op) => {
            return Err(format!(
                "'{at}.operator' \"{op}\" is not a HubSpot search operator; use one of {}",
                OPERATORS.join(", ")
            ));
        }
        None => {
            return Err(format!(
                "'{at}.operator' is required: one of {}",
                OPERATORS.join(", ")
            ));
        }
    };
    let mut out = Map::new();
    out.insert("propertyName".into(), Value::String(property));
    out.insert("operator".into(), Value::String(operator.into()));
    let has = |k: &str| o.get(k).is_some_and(|v| !v.is_null());
    match operator {
        "HAS_PROPERTY" | "NOT_HAS_PROPERTY" => {
            if has("value") || has("values") || has("high_value") {
                return Err(format!("'{at}': {operator} takes no value"));
            }
        }
        "IN" | "NOT_IN" => {
            if has("value") || has("high_value") {
                return Err(format!(
                    "'{at}': {operator} takes 'values' (a list), not 'value'"
                ));
            }
            let list = o
                .get("values")
                .and_then(Value::as_array)
                .filter(|l| !l.is_empty() && l.len() <= 100);
            let Some(list) = list else {
                return Err(format!(
                    "'{at}.values' is required for {operator}: a list of 1 to 100 values"
                ));
            };
            let values = list
                .iter()
                .enumerate()
                .map(|(i, v)| scalar(v, &format!("{at}.values[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            out.insert("values".into(), Value::Array(values));
        }
        "BETWEEN" => {
            let (Some(low), Some(high)) = (o.get("value"), o.get("high_value")) else {
                return Err(format!(
                    "'{at}': BETWEEN needs 'value' (the low end) and 'high_value'"
                ));
            };
            out.insert("value".into(), scalar(low, &format!("{at}.value"))?);
            out.insert(
                "highValue".into(),
                scalar(high, &format!("{at}.high_value"))?,
            );
        }
        _ => {
            if has("values") || has("high_value") {
                return Err(format!("'{at}': {operator} takes one 'value'"));
            }
            let Some(v) = o.get("value") else {
                return Err(format!("'{at}.value' is required for {operator}"));
            };
            out.insert("value".into(), scalar(v, &format!("{at}.value"))?);
        }
    }
    Ok(Value::Object(out))
}

fn filter_list(v: &Value, at: &str) -> Result<Vec<Value>, String> {
    let Some(list) = v.as_array() else {
        return Err(format!("'{at}' must be a list of filters"));
    };
    if list.is_empty() {
        return Err(format!("'{at}' must hold at least one filter"));
    }
    if list.len() > MAX_FILTERS_PER_GROUP {
        return Err(format!(
            "'{at}' holds {} filters; HubSpot allows at most {MAX_FILTERS_PER_GROUP} in one group",
            list.len()
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, f)| filter(f, &format!("{at}[{i}]")))
        .collect()
}

/// `filters` (all must match) or `filter_groups` (a record matching any group is found) →
/// HubSpot's `filterGroups`.
fn filter_groups(o: &Map<String, Value>) -> Result<Vec<Value>, String> {
    let filters = o.get("filters").filter(|v| !v.is_null());
    let groups = o.get("filter_groups").filter(|v| !v.is_null());
    let lists: Vec<Vec<Value>> = match (filters, groups) {
        (Some(_), Some(_)) => {
            return Err("give either 'filters' (every filter must match) or 'filter_groups' (any group may match), not both".into());
        }
        (Some(f), None) => vec![filter_list(f, "filters")?],
        (None, Some(g)) => {
            let Some(gs) = g.as_array().filter(|gs| !gs.is_empty()) else {
                return Err("'filter_groups' must be a non-empty list of filter lists".into());
            };
            if gs.len() > MAX_GROUPS {
                return Err(format!(
                    "'filter_groups' holds {} groups; HubSpot allows at most {MAX_GROUPS}",
                    gs.len()
                ));
            }
            gs.iter()
                .enumerate()
                .map(|(i, g)| filter_list(g, &format!("filter_groups[{i}]")))
                .collect::<Result<_, _>>()?
        }
        (None, None) => Vec::new(),
    };
    let total: usize = lists.iter().map(Vec::len).sum();
    if total > MAX_FILTERS {
        return Err(format!(
            "the search holds {total} filters; HubSpot allows at most {MAX_FILTERS} in all"
        ));
    }
    Ok(lists
        .into_iter()
        .map(|fs| json!({ "filters": fs }))
        .collect())
}

/// `sorts`: at most one `{property, direction}`.
fn sorts(o: &Map<String, Value>) -> Result<Option<Value>, String> {
    let Some(v) = o.get("sorts").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let Some(list) = v.as_array() else {
        return Err("'sorts' must be a list such as [{\"property\": \"createdate\", \"direction\": \"DESCENDING\"}]".into());
    };
    if list.len() > 1 {
        return Err(
            "'sorts' may hold one sort: HubSpot's search sorts by a single property".into(),
        );
    }
    let Some(s) = list.first() else {
        return Ok(None);
    };
    let Some(so) = s.as_object() else {
        return Err(
            "'sorts[0]' must be {\"property\": …, \"direction\": \"ASCENDING\" or \"DESCENDING\"}"
                .into(),
        );
    };
    if let Some(k) = so
        .keys()
        .find(|k| !["property", "direction"].contains(&k.as_str()))
    {
        return Err(format!(
            "unknown field '{k}' in 'sorts[0]'; a sort takes: property, direction"
        ));
    }
    let property = property_name(so.get("property"), "sorts[0]")?;
    let direction = match so.get("direction") {
        None | Some(Value::Null) => "ASCENDING",
        Some(Value::String(d)) if d == "ASCENDING" || d == "DESCENDING" => d.as_str(),
        Some(_) => {
            return Err("'sorts[0].direction' must be \"ASCENDING\" or \"DESCENDING\"".into());
        }
    };
    Ok(Some(
        json!([{ "propertyName": property, "direction": direction }]),
    ))
}

/// The paging cursor: HubSpot's `paging.next.after` from the previous page.
fn after(o: &Map<String, Value>) -> Result<Option<String>, String> {
    match opt_string(o, "after")? {
        Some(a)
            if a.len() <= 64
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(Some(a))
        }
        Some(_) => {
            Err("'after' must be the cursor from the previous page's paging.next.after".into())
        }
        None => Ok(None),
    }
}

pub(super) const SEARCH_FIELDS: &[&str] = &[
    "query",
    "filters",
    "filter_groups",
    "sorts",
    "properties",
    "limit",
    "after",
];

/// `search_contacts` / `search_companies` / `search_deals`.
pub(super) fn build_search(input: &Value, object_type: &str) -> Result<HttpCall, String> {
    let o = object(input)?;
    refuse_unknown(o, SEARCH_FIELDS)?;
    let mut body = Map::new();
    let groups = filter_groups(o)?;
    if !groups.is_empty() {
        body.insert("filterGroups".into(), Value::Array(groups));
    }
    if let Some(s) = sorts(o)? {
        body.insert("sorts".into(), s);
    }
    if let Some(q) = opt_string(o, "query")? {
        if q.len() > 300 {
            return Err("'query' must be at most 300 characters".into());
        }
        body.insert("query".into(), Value::String(q));
    }
    if let Some(p) = opt_string_list(o, "properties")? {
        body.insert("properties".into(), json!(p));
    }
    if let Some(l) = opt_limit(o, MAX_LIMIT)? {
        body.insert("limit".into(), json!(l));
    }
    if let Some(a) = after(o)? {
        body.insert("after".into(), Value::String(a));
    }
    Ok(HttpCall {
        method: "POST",
        path: format!("/crm/v3/objects/{object_type}/search"),
        json: Some(Value::Object(body)),
        ..HttpCall::default()
    })
}

pub(super) fn search_schema(what: &str, example_property: &str) -> Value {
    let filter = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["property", "operator"],
        "properties": {
            "property": { "type": "string", "description": format!("A {what} property name, e.g. \"{example_property}\", or an association such as \"associations.company\".") },
            "operator": { "type": "string", "enum": OPERATORS, "description": "How to compare: EQ, NEQ, LT, LTE, GT, GTE, BETWEEN (value..high_value), IN / NOT_IN (values), HAS_PROPERTY / NOT_HAS_PROPERTY (no value), CONTAINS_TOKEN / NOT_CONTAINS_TOKEN (a word; * is a wildcard)." },
            "value": { "type": ["string", "number", "boolean"], "description": "The value to compare with; dates as milliseconds since the epoch or ISO 8601." },
            "values": { "type": "array", "items": { "type": ["string", "number", "boolean"] }, "description": "The values for IN / NOT_IN (1 to 100)." },
            "high_value": { "type": ["string", "number"], "description": "The upper end for BETWEEN." },
        },
    });
    json!({ "type": "object", "additionalProperties": false, "properties": {
        "query": { "type": "string", "description": format!("Free text searched in the {what}'s default text properties (names, email, domain…).") },
        "filters": { "type": "array", "maxItems": MAX_FILTERS_PER_GROUP, "items": filter, "description": format!("Filters that must all match (at most {MAX_FILTERS_PER_GROUP}). Use filter_groups instead for OR.") },
        "filter_groups": { "type": "array", "maxItems": MAX_GROUPS, "items": { "type": "array", "items": filter }, "description": format!("Groups of filters: a {what} matching every filter of any one group is found (at most {MAX_GROUPS} groups, {MAX_FILTERS} filters in all).") },
        "sorts": { "type": "array", "maxItems": 1, "items": { "type": "object", "properties": { "property": { "type": "string" }, "direction": { "type": "string", "enum": ["ASCENDING", "DESCENDING"] } } }, "description": "One sort, e.g. [{\"property\": \"lastmodifieddate\", \"direction\": \"ASCENDING\"}]." },
        "properties": { "type": "array", "items": { "type": "string" }, "description": format!("{what} properties to return; default: HubSpot's standard set.") },
        "limit": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "description": format!("Results per page (default 10, at most {MAX_LIMIT}). HubSpot pages through at most 10,000 results.") },
        "after": { "type": "string", "description": "Paging cursor from the previous page's paging.next.after; when paging.next is absent there are no more results." },
    }})
}

/// `list_activities`: the calls, emails, meetings, notes or tasks associated with one record,
/// newest first.
pub(super) fn build_list_activities(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    refuse_unknown(
        o,
        &[
            "record_type",
            "record_id",
            "activity_type",
            "limit",
            "after",
            "properties",
        ],
    )?;
    let singular = match o.get("record_type").and_then(Value::as_str) {
        Some("contacts") => "contact",
        Some("companies") => "company",
        Some("deals") => "deal",
        _ => return Err("'record_type' must be \"contacts\", \"companies\" or \"deals\"".into()),
    };
    let id = record_id(o, "record_id")?;
    let kind = o.get("activity_type").and_then(Value::as_str);
    let Some((kind, defaults)) = ACTIVITY_TYPES.iter().find(|(k, _)| Some(*k) == kind) else {
        return Err("'activity_type' must be one of \"calls\", \"emails\", \"meetings\", \"notes\", \"tasks\"".into());
    };
    let properties = opt_string_list(o, "properties")?
        .unwrap_or_else(|| defaults.iter().map(|p| (*p).to_string()).collect());
    let mut body = json!({
        "filterGroups": [{ "filters": [{ "propertyName": format!("associations.{singular}"), "operator": "EQ", "value": id }] }],
        "sorts": [{ "propertyName": "hs_timestamp", "direction": "DESCENDING" }],
        "properties": properties,
    });
    if let Some(l) = opt_limit(o, MAX_LIMIT)? {
        body["limit"] = json!(l);
    }
    if let Some(a) = after(o)? {
        body["after"] = Value::String(a);
    }
    Ok(HttpCall {
        method: "POST",
        path: format!("/crm/v3/objects/{kind}/search"),
        json: Some(body),
        ..HttpCall::default()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::super::action;

    #[test]
    fn searches_become_hubspots_search_body() {
        let a = action("hubspot_search_contacts").expect("search_contacts");
        assert!(
            !a.outbound && a.idempotent,
            "a search reads and may be retried"
        );
        let call = (a.build)(&json!({
            "filters": [{ "property": "lastmodifieddate", "operator": "GT", "value": "1714550400000" }],
            "sorts": [{ "property": "lastmodifieddate", "direction": "ASCENDING" }],
            "properties": ["email"],
            "limit": 200,
            "after": "200",
        }))
        .expect("valid search");
        assert_eq!(
            (call.method, call.path.as_str()),
            ("POST", "/crm/v3/objects/contacts/search")
        );
        assert_eq!(
            call.json,
            Some(json!({
                "filterGroups": [{ "filters": [{ "propertyName": "lastmodifieddate", "operator": "GT", "value": "1714550400000" }] }],
                "sorts": [{ "propertyName": "lastmodifieddate", "direction": "ASCENDING" }],
                "properties": ["email"],
                "limit": 200,
                "after": "200",
            }))
        );
        let call = (action("hubspot_search_deals").expect("deals").build)(&json!({
            "filter_groups": [[{ "property": "dealstage", "operator": "IN", "values": ["closedwon", "closedlost"] }], [{ "property": "amount", "operator": "BETWEEN", "value": 1000, "high_value": 5000 }]],
            "query": "renewal",
        }))
        .expect("valid");
        assert_eq!(call.path, "/crm/v3/objects/deals/search");
        let body = call.json.expect("body");
        assert_eq!(body["filterGroups"][1]["filters"][0]["highValue"], 5000);
        assert_eq!(body["query"], "renewal");
        let call = (action("hubspot_search_companies").expect("companies").build)(&json!({}))
            .expect("an empty search lists everything");
        assert_eq!(call.json, Some(json!({})));
    }

    #[test]
    fn bad_searches_are_refused_with_the_field_named() {
        let a = action("hubspot_search_contacts").expect("search_contacts");
        let f = |v: serde_json::Value| (a.build)(&v).expect_err("refused");
        assert!(f(json!({ "limit": 201 })).contains("limit"));
        assert!(
            f(json!({ "filters": [{ "property": "email", "operator": "LIKE", "value": "x" }] }))
                .contains("filters[0].operator")
        );
        assert!(f(json!({ "filters": [{ "property": "Email Address", "operator": "EQ", "value": "x" }] })).contains("filters[0].property"));
        assert!(
            f(json!({ "filters": [{ "property": "email", "operator": "EQ" }] }))
                .contains("filters[0].value")
        );
        assert!(
            f(json!({ "filters": [{ "property": "email", "operator": "IN", "value": "x" }] }))
                .contains("values")
        );
        assert!(f(json!({ "filters": [{ "property": "email", "operator": "HAS_PROPERTY", "value": "x" }] })).contains("takes no value"));
        assert!(
            f(json!({ "filters": [{ "property": "amount", "operator": "BETWEEN", "value": 1 }] }))
                .contains("high_value")
        );
        assert!(
            f(json!({ "filters": [{ "propertyName": "email", "operator": "EQ", "value": "x" }] }))
                .contains("propertyName")
        );
        assert!(f(json!({ "filters": [], "filter_groups": [] })).contains("not both"));
        assert!(f(json!({ "filter_groups": vec![json!([{ "property": "email", "operator": "HAS_PROPERTY" }]); 6] })).contains("filter_groups"));
        assert!(f(json!({ "filters": vec![json!({ "property": "email", "operator": "HAS_PROPERTY" }); 7] })).contains("filters"));
        assert!(
            f(json!({ "sorts": [{ "property": "email" }, { "property": "lastname" }] }))
                .contains("sorts")
        );
        assert!(
            f(json!({ "sorts": [{ "property": "email", "direction": "UP" }] }))
                .contains("sorts[0].direction")
        );
        assert!(f(json!({ "after": "../x" })).contains("after"));
        assert!(f(json!({ "sneaky": 1 })).contains("sneaky"));
    }

    #[test]
    fn a_records_activity_history_is_a_search_by_association() {
        let a = action("hubspot_list_activities").expect("list_activities");
        let call = (a.build)(&json!({ "record_type": "deals", "record_id": "316", "activity_type": "notes", "limit": 5 })).expect("valid");
        assert_eq!(call.path, "/crm/v3/objects/notes/search");
        let body = call.json.expect("body");
        assert_eq!(
            body["filterGroups"][0]["filters"][0],
            json!({ "propertyName": "associations.deal", "operator": "EQ", "value": "316" })
        );
        assert_eq!(body["sorts"][0]["direction"], "DESCENDING");
        assert_eq!(
            body["properties"],
            json!(["hs_timestamp", "hs_note_body", "hubspot_owner_id"])
        );
        assert_eq!(body["limit"], 5);
        let f = |v: serde_json::Value| (a.build)(&v).expect_err("refused");
        assert!(
            f(json!({ "record_type": "tickets", "record_id": "1", "activity_type": "notes" }))
                .contains("record_type")
        );
        assert!(
            f(json!({ "record_type": "contacts", "record_id": "1", "activity_type": "letters" }))
                .contains("activity_type")
        );
        assert!(
            f(json!({ "record_type": "contacts", "record_id": "x/y", "activity_type": "notes" }))
                .contains("record_id")
        );
    }
}
