//! What HubSpot would refuse, said to the agent before the call leaves, and HubSpot's own
//! refusals of input said in one sentence.
//!
//! * Required fields of a new contact (Switchboard's rule, checked in `build`): `email`, since
//!   HubSpot matches contacts by it and every follow-up goes to it, and `firstname`, since a
//!   follow-up greets the person by it. HubSpot's API itself requires neither; a person's
//!   portal may require more in HubSpot's own forms, which the API does not enforce.
//! * The account's property definitions (a gateway pre-flight, [`super::super::Preflight`]):
//!   a contact create or update whose properties are not all plain text properties every
//!   account has is checked against `GET /crm/v3/properties/contacts` — unknown property,
//!   read-only property, an enumeration value outside the options, a value of the wrong type —
//!   and every offending property is named in one `bad_request`; nothing is written.
//! * A HubSpot `VALIDATION_ERROR` that still comes back (a stage outside the deal's pipeline, a
//!   search filter on a property the account does not have) is turned into the same kind of
//!   sentence by [`refused_input`].

use serde_json::{Map, Value};

use super::super::Preflight;

/// Fields a new contact must have (see the module docs).
pub(super) const REQUIRED_CONTACT_FIELDS: &[&str] = &["email", "firstname"];

/// Text properties every HubSpot account has on contacts: a write using only these needs no
/// look at the account's definitions.
const STANDARD_CONTACT_TEXT: &[&str] = &[
    "email",
    "firstname",
    "lastname",
    "phone",
    "mobilephone",
    "company",
    "jobtitle",
    "website",
    "address",
    "city",
    "state",
    "zip",
    "country",
];

/// `Err` names every required field missing or empty in a new contact's `properties`.
pub(super) fn missing_required(props: &Map<String, Value>) -> Result<(), String> {
    let missing: Vec<&str> = REQUIRED_CONTACT_FIELDS
        .iter()
        .copied()
        .filter(|f| {
            props
                .get(*f)
                .and_then(Value::as_str)
                .is_none_or(|v| v.trim().is_empty())
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "a new contact needs {} (HubSpot matches contacts by email, and follow-ups greet them by first name); missing: {}",
        REQUIRED_CONTACT_FIELDS.join(" and "),
        missing.join(", ")
    ))
}

fn contact_check_needed(input: &Value) -> bool {
    input["properties"].as_object().is_some_and(|p| {
        p.keys()
            .any(|k| !STANDARD_CONTACT_TEXT.contains(&k.as_str()))
    })
}

/// The pre-flight of `action`, if it has one.
pub(super) fn preflight(action: &str) -> Option<Preflight> {
    match action {
        "create_contact" | "update_contact" => Some(Preflight {
            path: "/crm/v3/properties/contacts",
            needed: contact_check_needed,
            check: check_contact_properties,
        }),
        _ => None,
    }
}

fn is_time(s: &str) -> bool {
    (!s.is_empty() && s.len() <= 16 && s.bytes().all(|b| b.is_ascii_digit()))
        || time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
}

fn is_date(s: &str) -> bool {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().is_ok_and(|ms| ms % 86_400_000 == 0);
    }
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).is_ok()
}

/// What is wrong with `value` for the property `def` describes, if anything.
fn value_problem(name: &str, def: &Value, value: &Value) -> Option<String> {
    if def["modificationMetadata"]["readOnlyValue"] == true {
        return Some(format!("'{name}' is set by HubSpot and cannot be written"));
    }
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return Some(format!("'{name}' must be a string, number or true/false")),
    };
    if text.is_empty() {
        return None;
    }
    match def["type"].as_str().unwrap_or("string") {
        "number" if text.trim().parse::<f64>().map_or(true, |n| !n.is_finite()) => {
            Some(format!("'{name}' must be a number, not \"{text}\""))
        }
        "bool" if !matches!(text.as_str(), "true" | "false") => {
            Some(format!("'{name}' must be true or false, not \"{text}\""))
        }
        "datetime" if !is_time(&text) => Some(format!(
            "'{name}' must be a time (milliseconds since the epoch or ISO 8601), not \"{text}\""
        )),
        "date" if !is_date(&text) => Some(format!(
            "'{name}' must be a date (YYYY-MM-DD), not \"{text}\""
        )),
        "enumeration" => {
            let options: Vec<&str> = def["options"]
                .as_array()
                .map(|o| o.iter().filter_map(|x| x["value"].as_str()).collect())
                .unwrap_or_default();
            // Options kept outside the definition (owners) are checked by HubSpot itself.
            let external = def["externalOptions"] == true || options.is_empty();
            let listed = |v: &str| options.contains(&v);
            let ok = external
                || if def["fieldType"] == "checkbox" {
                    text.split(';').all(&listed)
                } else {
                    listed(&text)
                };
            (!ok).then(|| {
                format!(
                    "'{name}' must be one of {} (got \"{text}\")",
                    options.join(", ")
                )
            })
        }
        _ if name == "email"
            && !text
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.')) =>
        {
            Some(format!("'email' must be an email address, not \"{text}\""))
        }
        _ => None,
    }
}

/// Checks `input.properties` against the account's contact property definitions (the answer
/// of `GET /crm/v3/properties/contacts`); `Err` names every offending property.
pub(super) fn check_contact_properties(definitions: &Value, input: &Value) -> Result<(), String> {
    let Some(defs) = definitions["results"].as_array() else {
        // Not the shape HubSpot documents: let HubSpot itself judge the write.
        return Ok(());
    };
    let Some(props) = input["properties"].as_object() else {
        return Ok(());
    };
    let problems: Vec<String> = props
        .iter()
        .filter_map(
            |(name, value)| match defs.iter().find(|d| d["name"] == name.as_str()) {
                None => Some(format!(
                    "'{name}' is not a contact property in this HubSpot account"
                )),
                Some(def) => value_problem(name, def, value),
            },
        )
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the HubSpot account would refuse {}: {}; nothing was written",
        plural(problems.len()),
        problems.join("; ")
    ))
}

fn plural(n: usize) -> String {
    if n == 1 {
        "this property".into()
    } else {
        format!("these {n} properties")
    }
}

/// One sentence from HubSpot's 400 `VALIDATION_ERROR`: each property with what is wrong, from
/// the JSON list inside `message` (`Property values were not valid: [{…}]`), else the message.
pub(super) fn refused_input(status: u16, body: &[u8]) -> Option<String> {
    if status != 400 {
        return None;
    }
    let v: Value = serde_json::from_slice(body).ok()?;
    if v["category"] != "VALIDATION_ERROR" {
        return None;
    }
    let message = v["message"].as_str().unwrap_or_default();
    let listed = message
        .find('[')
        .and_then(|at| serde_json::from_str::<Value>(&message[at..]).ok());
    let parts: Vec<String> = listed
        .as_ref()
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| {
                    Some(format!(
                        "'{}': {}",
                        i["name"].as_str()?,
                        i["message"].as_str().unwrap_or("not valid")
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    if parts.is_empty() {
        Some(message.to_string())
    } else {
        Some(format!("{}; nothing was written", parts.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn definitions() -> Value {
        json!({ "results": [
            { "name": "email", "type": "string", "fieldType": "text", "options": [], "modificationMetadata": { "readOnlyValue": false } },
            { "name": "firstname", "type": "string", "fieldType": "text", "options": [], "modificationMetadata": { "readOnlyValue": false } },
            { "name": "lifecyclestage", "type": "enumeration", "fieldType": "radio", "options": [{ "value": "lead" }, { "value": "customer" }], "modificationMetadata": { "readOnlyValue": false } },
            { "name": "hubspot_owner_id", "type": "enumeration", "fieldType": "select", "options": [], "externalOptions": true, "modificationMetadata": { "readOnlyValue": false } },
            { "name": "expected_budget", "type": "number", "fieldType": "number", "options": [], "modificationMetadata": { "readOnlyValue": false } },
            { "name": "follow_up_date", "type": "date", "fieldType": "date", "options": [], "modificationMetadata": { "readOnlyValue": false } },
            { "name": "newsletter_opt_in", "type": "bool", "fieldType": "booleancheckbox", "options": [], "modificationMetadata": { "readOnlyValue": false } },
            { "name": "createdate", "type": "datetime", "fieldType": "date", "options": [], "modificationMetadata": { "readOnlyValue": true } },
        ]})
    }

    #[test]
    fn every_offending_property_is_named_at_once() {
        let input = json!({ "properties": {
            "email": "ada@example.com", "colour": "red", "createdate": "2024-01-01T00:00:00Z", "lifecyclestage": "friend",
            "expected_budget": "lots", "follow_up_date": "soon", "newsletter_opt_in": "maybe",
        }});
        let e = check_contact_properties(&definitions(), &input).expect_err("six bad properties");
        for name in [
            "colour",
            "createdate",
            "lifecyclestage",
            "expected_budget",
            "follow_up_date",
            "newsletter_opt_in",
        ] {
            assert!(
                e.contains(&format!("'{name}'")),
                "{name} should be named: {e}"
            );
        }
        assert!(
            e.contains("lead, customer"),
            "the allowed options are listed: {e}"
        );
        assert!(!e.contains("'email'"), "a good property is not blamed: {e}");
        let good = json!({ "properties": { "email": "ada@example.com", "lifecyclestage": "lead", "expected_budget": 1200, "follow_up_date": "2024-05-01", "newsletter_opt_in": true, "hubspot_owner_id": "90001" } });
        assert_eq!(check_contact_properties(&definitions(), &good), Ok(()));
    }

    #[test]
    fn only_properties_beyond_the_standard_text_ones_need_the_accounts_definitions() {
        assert!(!contact_check_needed(
            &json!({ "properties": { "email": "a@example.com", "firstname": "A", "phone": "1" } })
        ));
        assert!(contact_check_needed(
            &json!({ "properties": { "email": "a@example.com", "lifecyclestage": "lead" } })
        ));
    }

    #[test]
    fn a_new_contact_needs_every_required_field_and_is_told_all_that_are_missing() {
        let e = missing_required(json!({ "lastname": "Lovelace" }).as_object().expect("map"))
            .expect_err("two missing");
        assert!(e.contains("missing: email, firstname"), "{e}");
        let e = missing_required(
            json!({ "email": "a@example.com", "firstname": " " })
                .as_object()
                .expect("map"),
        )
        .expect_err("blank");
        assert!(e.contains("missing: firstname"), "{e}");
        assert!(
            missing_required(
                json!({ "email": "a@example.com", "firstname": "Ada" })
                    .as_object()
                    .expect("map")
            )
            .is_ok()
        );
    }

    #[test]
    fn hubspots_validation_error_becomes_one_sentence() {
        let body = json!({
            "status": "error",
            "message": "Property values were not valid: [{\"isValid\":false,\"message\":\"haggling was not one of the allowed options: [label: \\\"Contract Sent\\\" value: \\\"contractsent\\\"]\",\"error\":\"INVALID_OPTION\",\"name\":\"dealstage\"}]",
            "category": "VALIDATION_ERROR",
        });
        let s = refused_input(400, body.to_string().as_bytes()).expect("an input refusal");
        assert!(
            s.starts_with("'dealstage': haggling was not one of the allowed options"),
            "{s}"
        );
        let plain = json!({ "status": "error", "message": "limit must be a whole number from 1 to 200", "category": "VALIDATION_ERROR" });
        assert_eq!(
            refused_input(400, plain.to_string().as_bytes()).as_deref(),
            Some("limit must be a whole number from 1 to 200")
        );
        let conflict = json!({ "status": "error", "message": "Contact already exists", "category": "CONFLICT" });
        assert_eq!(
            refused_input(409, conflict.to_string().as_bytes()),
            None,
            "a conflict is not about the input's shape"
        );
        assert_eq!(refused_input(400, b"not json"), None);
    }
}
