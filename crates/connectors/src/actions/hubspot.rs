//! HubSpot CRM v3 actions (contacts for now). Paths, query parameters and bodies are HubSpot's
//! own (developers.hubspot.com/docs/api/crm/contacts).

use serde_json::{Value, json};
use switchboard_core::Tier;

use super::{ActionSpec, HttpCall, object, opt_limit, opt_string, opt_string_list, properties, record_id, refuse_unknown};

const CONTACTS: &str = "/crm/v3/objects/contacts";

fn schema_properties_list() -> Value {
    json!({ "type": "array", "items": { "type": "string" }, "description": "Contact properties to return, e.g. [\"email\", \"firstname\", \"lastname\"]; default: HubSpot's standard set." })
}

fn schema_contact_id() -> Value {
    json!({ "type": "string", "pattern": "^[0-9]+$", "description": "The HubSpot contact id, e.g. \"101\"." })
}

fn schema_properties_object() -> Value {
    json!({ "type": "object", "additionalProperties": { "type": ["string", "number", "boolean"] }, "description": "Contact properties by internal name, e.g. {\"email\": \"ada@example.com\", \"firstname\": \"Ada\"}." })
}

pub(super) const ACTIONS: &[ActionSpec] = &[
    ActionSpec {
        provider: "hubspot",
        name: "list_contacts",
        description: "List contacts, a page at a time (use `after` from the previous page's paging.next).",
        tier: Tier::Read,
        scopes: &["crm.objects.contacts.read"],
        outbound: false,
        idempotent: true,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "properties": {
                "limit": { "type": "integer", "minimum": 1, "maximum": 100, "description": "Contacts per page (default 10)." },
                "after": { "type": "string", "description": "Paging cursor from the previous page's paging.next.after." },
                "properties": schema_properties_list(),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["limit", "after", "properties"])?;
            let mut query = Vec::new();
            if let Some(l) = opt_limit(o, 100)? {
                query.push(("limit".into(), l.to_string()));
            }
            if let Some(a) = opt_string(o, "after")? {
                query.push(("after".into(), a));
            }
            if let Some(p) = opt_string_list(o, "properties")? {
                query.push(("properties".into(), p.join(",")));
            }
            Ok(HttpCall { method: "GET", path: CONTACTS.into(), query, json: None, ..HttpCall::default() })
        },
    },
    ActionSpec {
        provider: "hubspot",
        name: "get_contact",
        description: "Get one contact by id with the chosen properties.",
        tier: Tier::Read,
        scopes: &["crm.objects.contacts.read"],
        outbound: false,
        idempotent: true,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["contact_id"], "properties": {
                "contact_id": schema_contact_id(),
                "properties": schema_properties_list(),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["contact_id", "properties"])?;
            let id = record_id(o, "contact_id")?;
            let query = opt_string_list(o, "properties")?.map(|p| vec![("properties".to_string(), p.join(","))]).unwrap_or_default();
            Ok(HttpCall { method: "GET", path: format!("{CONTACTS}/{id}"), query, json: None, ..HttpCall::default() })
        },
    },
    ActionSpec {
        provider: "hubspot",
        name: "create_contact",
        description: "Create a contact in the CRM (HubSpot refuses a second contact with the same email).",
        tier: Tier::Write,
        scopes: &["crm.objects.contacts.write"],
        outbound: true,
        idempotent: false,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["properties"], "properties": {
                "properties": schema_properties_object(),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["properties"])?;
            Ok(HttpCall { method: "POST", path: CONTACTS.into(), query: vec![], json: Some(json!({ "properties": properties(o)? })), ..HttpCall::default() })
        },
    },
    ActionSpec {
        provider: "hubspot",
        name: "update_contact",
        description: "Change properties of an existing contact.",
        tier: Tier::Write,
        scopes: &["crm.objects.contacts.write"],
        outbound: true,
        idempotent: true,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["contact_id", "properties"], "properties": {
                "contact_id": schema_contact_id(),
                "properties": schema_properties_object(),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["contact_id", "properties"])?;
            let id = record_id(o, "contact_id")?;
            Ok(HttpCall { method: "PATCH", path: format!("{CONTACTS}/{id}"), query: vec![], json: Some(json!({ "properties": properties(o)? })), ..HttpCall::default() })
        },
    },
    ActionSpec {
        provider: "hubspot",
        name: "archive_contact",
        description: "Archive (delete) a contact; HubSpot keeps it restorable for 90 days.",
        tier: Tier::Delete,
        scopes: &["crm.objects.contacts.write"],
        outbound: true,
        idempotent: true,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["contact_id"], "properties": {
                "contact_id": schema_contact_id(),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["contact_id"])?;
            let id = record_id(o, "contact_id")?;
            Ok(HttpCall { method: "DELETE", path: format!("{CONTACTS}/{id}"), query: vec![], json: None, ..HttpCall::default() })
        },
    },
];
