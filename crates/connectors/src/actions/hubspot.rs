//! HubSpot CRM actions: contacts (with search and the account's property definitions),
//! companies, deals, the deal pipelines and deal associations, the activity history of a record
//! and logging calls, emails, notes and tasks on it, owners, and sales sequences. Paths, query
//! parameters and bodies are HubSpot's own (developers.hubspot.com/docs/api/crm/contacts,
//! /crm/search, /crm/engagements, /crm/owners, /automation/sequences).
//!
//! Search (`search_*`, `list_activities`) has its own HubSpot limit: 4 requests per second per
//! token (catalog: "CRM Search API").

use serde_json::{Value, json};
use switchboard_core::Tier;

use super::{ActionSpec, PreviewKind, HttpCall, Preflight, object, opt_limit, opt_string, opt_string_list, properties, record_id, refuse_unknown};

mod activities;
mod checks;
mod search;

/// The gateway pre-flight of HubSpot action `name`, if it has one.
pub(super) fn preflight(name: &str) -> Option<Preflight> {
    checks::preflight(name)
}

/// HubSpot's refusal of the input, in one sentence (see [`super::refused_input`]).
pub(super) fn refused_input(status: u16, body: &[u8]) -> Option<String> {
    checks::refused_input(status, body)
}

const CONTACTS: &str = "/crm/v3/objects/contacts";
const COMPANIES: &str = "/crm/v3/objects/companies";
const DEALS: &str = "/crm/v3/objects/deals";

fn schema_record_id(what: &str) -> Value {
    json!({ "type": "string", "pattern": "^[0-9]+$", "description": format!("The HubSpot {what} id, e.g. \"301\".") })
}

fn schema_list(what: &str) -> Value {
    json!({ "type": "object", "additionalProperties": false, "properties": {
        "limit": { "type": "integer", "minimum": 1, "maximum": 100, "description": format!("{what} per page (default 10).") },
        "after": { "type": "string", "description": "Paging cursor from the previous page's paging.next.after." },
        "properties": { "type": "array", "items": { "type": "string" }, "description": format!("{what} properties to return; default: HubSpot's standard set.") },
    }})
}

/// A paged list of `path` (`limit`, `after`, `properties`).
fn build_list(input: &Value, path: &str) -> Result<HttpCall, String> {
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
    Ok(HttpCall { method: "GET", path: path.into(), query, json: None, ..HttpCall::default() })
}

/// One record of `path` by the id in `field`, with optional `properties`.
fn build_get(input: &Value, path: &str, field: &str) -> Result<HttpCall, String> {
    let o = object(input)?;
    refuse_unknown(o, &[field, "properties"])?;
    let id = record_id(o, field)?;
    let query = opt_string_list(o, "properties")?.map(|p| vec![("properties".to_string(), p.join(","))]).unwrap_or_default();
    Ok(HttpCall { method: "GET", path: format!("{path}/{id}"), query, json: None, ..HttpCall::default() })
}

/// A pipeline stage id: HubSpot's are words such as `closedwon` or numbers for custom stages.
fn stage_id(o: &serde_json::Map<String, Value>) -> Result<String, String> {
    let stage = opt_string(o, "stage")?.ok_or("'stage' is required: a stage id such as \"closedwon\"")?;
    if stage.len() > 100 || !stage.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err("'stage' must be a pipeline stage id such as \"closedwon\" (see list_deal_pipelines)".into());
    }
    Ok(stage)
}

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
        preview: PreviewKind::CrmChange,
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
        description: "Get one contact by id, or by email address, with the chosen properties.",
        tier: Tier::Read,
        scopes: &["crm.objects.contacts.read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::CrmChange,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "properties": {
                "contact_id": schema_contact_id(),
                "email": { "type": "string", "format": "email", "description": "Look the contact up by email address instead of id (HubSpot's idProperty=email)." },
                "properties": schema_properties_list(),
            }, "description": "Exactly one of contact_id and email." })
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["contact_id", "email", "properties"])?;
            let mut query = opt_string_list(o, "properties")?.map(|p| vec![("properties".to_string(), p.join(","))]).unwrap_or_default();
            let key = match (o.get("contact_id"), o.get("email")) {
                (Some(_), Some(_)) => return Err("give either 'contact_id' or 'email', not both".into()),
                (None, Some(e)) => {
                    let email = e.as_str().map(str::trim).ok_or("'email' must be a string")?;
                    let well_formed = email.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
                        && !email.contains(|c: char| c == '/' || c == '?' || c == '#' || c == '%' || c.is_whitespace() || c.is_control());
                    if !well_formed {
                        return Err(format!("'email' must be an address like ada@example.com, not {email:?}"));
                    }
                    query.push(("idProperty".into(), "email".into()));
                    email.to_string()
                }
                _ => record_id(o, "contact_id")?,
            };
            Ok(HttpCall { method: "GET", path: format!("{CONTACTS}/{key}"), query, json: None, ..HttpCall::default() })
        },
    },
    ActionSpec {
        provider: "hubspot",
        name: "create_contact",
        description: "Create a contact in the CRM. It needs an email and a first name; other properties are checked against the account's own property definitions before anything is written (HubSpot refuses a second contact with the same email).",
        tier: Tier::Write,
        scopes: &["crm.objects.contacts.write"],
        outbound: true,
        idempotent: false,
        preview: PreviewKind::CrmChange,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["properties"], "properties": {
                "properties": {
                    "type": "object",
                    "required": checks::REQUIRED_CONTACT_FIELDS,
                    "additionalProperties": { "type": ["string", "number", "boolean"] },
                    "description": "Contact properties by internal name; email and firstname are required, e.g. {\"email\": \"ada@example.com\", \"firstname\": \"Ada\", \"lifecyclestage\": \"lead\"}. list_contact_properties shows the account's properties and allowed values.",
                },
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["properties"])?;
            let props = properties(o)?;
            if let Some(p) = props.as_object() {
                checks::missing_required(p)?;
            }
            Ok(HttpCall { method: "POST", path: CONTACTS.into(), query: vec![], json: Some(json!({ "properties": props })), ..HttpCall::default() })
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
        preview: PreviewKind::CrmUpdate { read_tool: "hubspot_get_contact", id_field: "contact_id" },
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
        preview: PreviewKind::CrmChange,
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
    ActionSpec {
        provider: "hubspot",
        name: "list_companies",
        description: "List companies, a page at a time (use `after` from the previous page's paging.next).",
        tier: Tier::Read,
        scopes: &["crm.objects.companies.read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::CrmChange,
        input_schema: || schema_list("Companies"),
        build: |input| build_list(input, COMPANIES),
    },
    ActionSpec {
        provider: "hubspot",
        name: "get_company",
        description: "Get one company by id with the chosen properties.",
        tier: Tier::Read,
        scopes: &["crm.objects.companies.read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::CrmChange,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["company_id"], "properties": {
                "company_id": schema_record_id("company"),
                "properties": schema_properties_list(),
            }})
        },
        build: |input| build_get(input, COMPANIES, "company_id"),
    },
    ActionSpec {
        provider: "hubspot",
        name: "list_deals",
        description: "List deals with their amount, pipeline and stage, a page at a time.",
        tier: Tier::Read,
        scopes: &["crm.objects.deals.read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::CrmChange,
        input_schema: || schema_list("Deals"),
        build: |input| build_list(input, DEALS),
    },
    ActionSpec {
        provider: "hubspot",
        name: "get_deal",
        description: "Get one deal by id with the chosen properties.",
        tier: Tier::Read,
        scopes: &["crm.objects.deals.read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::CrmChange,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["deal_id"], "properties": {
                "deal_id": schema_record_id("deal"),
                "properties": schema_properties_list(),
            }})
        },
        build: |input| build_get(input, DEALS, "deal_id"),
    },
    ActionSpec {
        provider: "hubspot",
        name: "list_deal_pipelines",
        description: "List the deal pipelines and their stages (id, label, order, win probability); stage ids are what update_deal_stage takes.",
        tier: Tier::Read,
        scopes: &["crm.objects.deals.read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::CrmChange,
        input_schema: || json!({ "type": "object", "additionalProperties": false, "properties": {} }),
        build: |input| {
            refuse_unknown(object(input)?, &[])?;
            Ok(HttpCall { method: "GET", path: "/crm/v3/pipelines/deals".into(), query: vec![], json: None, ..HttpCall::default() })
        },
    },
    ActionSpec {
        provider: "hubspot",
        name: "get_deal_associations",
        description: "List the contacts or companies a deal is associated with (their ids and association types).",
        tier: Tier::Read,
        scopes: &["crm.objects.deals.read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::CrmChange,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["deal_id", "to_object_type"], "properties": {
                "deal_id": schema_record_id("deal"),
                "to_object_type": { "type": "string", "enum": ["contacts", "companies"], "description": "Which associated records to list: \"contacts\" or \"companies\"." },
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["deal_id", "to_object_type"])?;
            let id = record_id(o, "deal_id")?;
            let to = match o.get("to_object_type").and_then(Value::as_str) {
                Some(t @ ("contacts" | "companies")) => t,
                _ => return Err("'to_object_type' must be \"contacts\" or \"companies\"".into()),
            };
            Ok(HttpCall { method: "GET", path: format!("/crm/v4/objects/deals/{id}/associations/{to}"), query: vec![], json: None, ..HttpCall::default() })
        },
    },
    ActionSpec {
        provider: "hubspot",
        name: "update_deal_stage",
        description: "Move a deal to another stage of its pipeline (HubSpot refuses a stage that is not in the deal's pipeline).",
        tier: Tier::Write,
        scopes: &["crm.objects.deals.write"],
        outbound: true,
        idempotent: true,
        preview: PreviewKind::CrmUpdate { read_tool: "hubspot_get_deal", id_field: "deal_id" },
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["deal_id", "stage"], "properties": {
                "deal_id": schema_record_id("deal"),
                "stage": { "type": "string", "pattern": "^[A-Za-z0-9_-]+$", "description": "The target stage id from list_deal_pipelines, e.g. \"contractsent\" or \"closedwon\"." },
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["deal_id", "stage"])?;
            let id = record_id(o, "deal_id")?;
            let stage = stage_id(o)?;
            Ok(HttpCall { method: "PATCH", path: format!("{DEALS}/{id}"), query: vec![], json: Some(json!({ "properties": { "dealstage": stage } })), ..HttpCall::default() })
        },
    },
    ActionSpec {
        provider: "hubspot",
        name: "search_contacts",
        description: "Search contacts by property filters (e.g. email EQ, lastmodifieddate GT a time, lifecyclestage IN), free text, one sort; a page at a time, up to 200 per page (use `after` from paging.next; no paging.next means no more results).",
        tier: Tier::Read,
        scopes: &["crm.objects.contacts.read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::CrmChange,
        input_schema: || search::search_schema("contact", "lastmodifieddate"),
        build: |input| search::build_search(input, "contacts"),
    },
    ActionSpec {
        provider: "hubspot",
        name: "search_companies",
        description: "Search companies by property filters (e.g. domain EQ, name CONTAINS_TOKEN), free text, one sort; a page at a time, up to 200 per page.",
        tier: Tier::Read,
        scopes: &["crm.objects.companies.read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::CrmChange,
        input_schema: || search::search_schema("company", "domain"),
        build: |input| search::build_search(input, "companies"),
    },
    ActionSpec {
        provider: "hubspot",
        name: "search_deals",
        description: "Search deals by property filters (e.g. dealstage IN, amount GTE, associations.contact EQ a contact id), free text, one sort; a page at a time, up to 200 per page.",
        tier: Tier::Read,
        scopes: &["crm.objects.deals.read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::CrmChange,
        input_schema: || search::search_schema("deal", "dealstage"),
        build: |input| search::build_search(input, "deals"),
    },
    ActionSpec {
        provider: "hubspot",
        name: "list_contact_properties",
        description: "List the account's contact properties: internal name, label, type, whether HubSpot sets it (read-only) and the allowed values of each enumeration (e.g. lifecyclestage, hs_lead_status).",
        tier: Tier::Read,
        scopes: &["crm.objects.contacts.read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::CrmChange,
        input_schema: || json!({ "type": "object", "additionalProperties": false, "properties": {} }),
        build: |input| {
            refuse_unknown(object(input)?, &[])?;
            Ok(HttpCall { method: "GET", path: "/crm/v3/properties/contacts".into(), ..HttpCall::default() })
        },
    },
    ActionSpec {
        provider: "hubspot",
        name: "list_activities",
        description: "The activity history of a contact, company or deal: its calls, emails, meetings, notes or tasks (one type per call), newest first, a page at a time (email bodies need the account to allow sales-email-read).",
        tier: Tier::Read,
        scopes: &["crm.objects.contacts.read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::CrmChange,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["record_type", "record_id", "activity_type"], "properties": {
                "record_type": { "type": "string", "enum": ["contacts", "companies", "deals"], "description": "What kind of record the history belongs to." },
                "record_id": { "type": "string", "pattern": "^[0-9]+$", "description": "The record's id, e.g. \"150\"." },
                "activity_type": { "type": "string", "enum": ["calls", "emails", "meetings", "notes", "tasks"], "description": "Which activities to list." },
                "limit": { "type": "integer", "minimum": 1, "maximum": 200, "description": "Activities per page (default 10)." },
                "after": { "type": "string", "description": "Paging cursor from the previous page's paging.next.after." },
                "properties": { "type": "array", "items": { "type": "string" }, "description": "Activity properties to return; default: time, subject/body, status and owner." },
            }})
        },
        build: search::build_list_activities,
    },
    ActionSpec {
        provider: "hubspot",
        name: "log_call",
        description: "Log a call on a contact, company and/or deal: when it happened, what was said, direction, outcome and duration.",
        tier: Tier::Write,
        scopes: &["crm.objects.contacts.write"],
        outbound: true,
        idempotent: false,
        preview: PreviewKind::CrmChange,
        input_schema: || {
            let mut p = serde_json::Map::new();
            activities::record_schema(&mut p);
            p.insert("timestamp".into(), json!({ "type": "string", "description": "When the call happened: ISO 8601 (2024-05-01T09:00:00Z) or milliseconds since the epoch." }));
            p.insert("body".into(), json!({ "type": "string", "description": "What was said (the call notes)." }));
            p.insert("title".into(), json!({ "type": "string", "description": "A short title for the call." }));
            p.insert("direction".into(), json!({ "type": "string", "enum": activities::CALL_DIRECTIONS, "description": "INBOUND or OUTBOUND." }));
            p.insert("status".into(), json!({ "type": "string", "enum": activities::CALL_STATUSES, "description": "How the call went, e.g. COMPLETED or NO_ANSWER." }));
            p.insert("duration_ms".into(), json!({ "type": "integer", "minimum": 0, "description": "How long it lasted, in milliseconds." }));
            json!({ "type": "object", "additionalProperties": false, "required": ["timestamp", "body"], "properties": p })
        },
        build: activities::build_log_call,
    },
    ActionSpec {
        provider: "hubspot",
        name: "log_email",
        description: "Log an email on a contact, company and/or deal (a record of an email sent or received elsewhere; HubSpot sends nothing).",
        tier: Tier::Write,
        scopes: &["crm.objects.contacts.write"],
        outbound: true,
        idempotent: false,
        preview: PreviewKind::CrmChange,
        input_schema: || {
            let mut p = serde_json::Map::new();
            activities::record_schema(&mut p);
            p.insert("timestamp".into(), json!({ "type": "string", "description": "When the email was sent: ISO 8601 or milliseconds since the epoch." }));
            p.insert("subject".into(), json!({ "type": "string", "description": "The subject line." }));
            p.insert("text".into(), json!({ "type": "string", "description": "The body as plain text." }));
            p.insert("direction".into(), json!({ "type": "string", "enum": activities::EMAIL_DIRECTIONS, "description": "EMAIL (sent by the rep; the default), INCOMING_EMAIL (a reply) or FORWARDED_EMAIL." }));
            p.insert("status".into(), json!({ "type": "string", "enum": activities::EMAIL_STATUSES, "description": "The send status, e.g. SENT." }));
            p.insert("from_email".into(), json!({ "type": "string", "description": "The sender's address." }));
            p.insert("to_email".into(), json!({ "type": "string", "description": "The recipient's address." }));
            json!({ "type": "object", "additionalProperties": false, "required": ["timestamp", "subject", "text"], "properties": p })
        },
        build: activities::build_log_email,
    },
    ActionSpec {
        provider: "hubspot",
        name: "create_note",
        description: "Add a note to a contact, company and/or deal.",
        tier: Tier::Write,
        scopes: &["crm.objects.contacts.write"],
        outbound: true,
        idempotent: false,
        preview: PreviewKind::CrmChange,
        input_schema: || {
            let mut p = serde_json::Map::new();
            activities::record_schema(&mut p);
            p.insert("timestamp".into(), json!({ "type": "string", "description": "The note's time on the timeline: ISO 8601 or milliseconds since the epoch." }));
            p.insert("body".into(), json!({ "type": "string", "description": "The note's text." }));
            json!({ "type": "object", "additionalProperties": false, "required": ["timestamp", "body"], "properties": p })
        },
        build: activities::build_create_note,
    },
    ActionSpec {
        provider: "hubspot",
        name: "create_task",
        description: "Create a task for a rep on a contact, company and/or deal: subject, notes, due date, owner, priority, status and type.",
        tier: Tier::Write,
        scopes: &["crm.objects.contacts.write"],
        outbound: true,
        idempotent: false,
        preview: PreviewKind::CrmChange,
        input_schema: || {
            let mut p = serde_json::Map::new();
            activities::record_schema(&mut p);
            p.insert("subject".into(), json!({ "type": "string", "description": "What to do, e.g. \"Call back about pricing\"." }));
            p.insert("body".into(), json!({ "type": "string", "description": "Notes for the rep." }));
            p.insert("due_date".into(), json!({ "type": "string", "description": "When it is due: ISO 8601 or milliseconds since the epoch (HubSpot's hs_timestamp)." }));
            p.insert("priority".into(), json!({ "type": "string", "enum": activities::TASK_PRIORITIES, "description": "NONE, LOW, MEDIUM or HIGH." }));
            p.insert("status".into(), json!({ "type": "string", "enum": activities::TASK_STATUSES, "description": "e.g. NOT_STARTED or COMPLETED." }));
            p.insert("task_type".into(), json!({ "type": "string", "enum": activities::TASK_TYPES, "description": "CALL, EMAIL, TODO, …" }));
            json!({ "type": "object", "additionalProperties": false, "required": ["subject", "due_date"], "properties": p })
        },
        build: activities::build_create_task,
    },
    ActionSpec {
        provider: "hubspot",
        name: "list_owners",
        description: "List the account's users who own records: owner id (hubspot_owner_id), user id (for sequences), name and email.",
        tier: Tier::Read,
        scopes: &["crm.objects.owners.read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::CrmChange,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "properties": {
                "email": { "type": "string", "description": "Only the owner with this email." },
                "limit": { "type": "integer", "minimum": 1, "maximum": 500, "description": "Owners per page (default 100)." },
                "after": { "type": "string", "description": "Paging cursor from the previous page's paging.next.after." },
            }})
        },
        build: activities::build_list_owners,
    },
    ActionSpec {
        provider: "hubspot",
        name: "list_sequences",
        description: "List the sales sequences a HubSpot user can enroll contacts in (id, name).",
        tier: Tier::Read,
        scopes: &["automation.sequences.read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::CrmChange,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["user_id"], "properties": {
                "user_id": { "type": "string", "pattern": "^[0-9]+$", "description": "The HubSpot user's id (userId from list_owners)." },
                "name": { "type": "string", "description": "Only sequences whose name contains this." },
                "limit": { "type": "integer", "minimum": 1, "maximum": 100, "description": "Sequences per page (default 10)." },
                "after": { "type": "string", "description": "Paging cursor from the previous page's paging.next.after." },
            }})
        },
        build: activities::build_list_sequences,
    },
    ActionSpec {
        provider: "hubspot",
        name: "enroll_in_sequence",
        description: "Enroll a contact in a sales sequence, which then emails them from the user's inbox on a schedule (HubSpot refuses a contact already in a sequence).",
        tier: Tier::Write,
        scopes: &["automation.sequences.enrollments.write"],
        outbound: true,
        idempotent: false,
        preview: PreviewKind::CrmChange,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["sequence_id", "contact_id", "sender_email", "user_id"], "properties": {
                "sequence_id": { "type": "string", "pattern": "^[0-9]+$", "description": "The sequence, from list_sequences." },
                "contact_id": { "type": "string", "pattern": "^[0-9]+$", "description": "The contact to enroll." },
                "sender_email": { "type": "string", "description": "The user's connected inbox the emails are sent from." },
                "user_id": { "type": "string", "pattern": "^[0-9]+$", "description": "The HubSpot user enrolling the contact (userId from list_owners)." },
            }})
        },
        build: activities::build_enroll,
    },
];

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::action;

    #[test]
    fn company_and_deal_reads_become_hubspots_requests() {
        let list = action("hubspot_list_companies").expect("list_companies");
        let call = (list.build)(&json!({ "limit": 3, "after": "3", "properties": ["name"] })).expect("valid");
        assert_eq!((call.method, call.path.as_str()), ("GET", "/crm/v3/objects/companies"));
        assert_eq!(call.query, vec![("limit".into(), "3".into()), ("after".into(), "3".into()), ("properties".into(), "name".into())]);
        let call = (action("hubspot_get_company").expect("get_company").build)(&json!({ "company_id": 201 })).expect("valid");
        assert_eq!(call.path, "/crm/v3/objects/companies/201");
        let call = (action("hubspot_list_deals").expect("list_deals").build)(&json!({})).expect("valid");
        assert_eq!((call.path.as_str(), call.query.len()), ("/crm/v3/objects/deals", 0));
        let call = (action("hubspot_get_deal").expect("get_deal").build)(&json!({ "deal_id": "301", "properties": ["dealstage"] })).expect("valid");
        assert_eq!(call.path, "/crm/v3/objects/deals/301");
        assert_eq!(call.query, vec![("properties".into(), "dealstage".into())]);
        let call = (action("hubspot_list_deal_pipelines").expect("pipelines").build)(&json!({})).expect("valid");
        assert_eq!((call.method, call.path.as_str()), ("GET", "/crm/v3/pipelines/deals"));
        let call = (action("hubspot_get_deal_associations").expect("assoc").build)(&json!({ "deal_id": "303", "to_object_type": "companies" })).expect("valid");
        assert_eq!(call.path, "/crm/v4/objects/deals/303/associations/companies");
    }

    #[test]
    fn a_new_contact_without_its_required_fields_is_refused_naming_them_all() {
        let create = action("hubspot_create_contact").expect("create_contact");
        let e = (create.build)(&json!({ "properties": { "lastname": "Hopper" } })).expect_err("no email, no first name");
        assert!(e.contains("missing: email, firstname"), "{e}");
        let e = (create.build)(&json!({ "properties": { "email": "grace@example.com" } })).expect_err("no first name");
        assert!(e.contains("missing: firstname"), "{e}");
        assert!((create.build)(&json!({ "properties": { "email": "grace@example.com", "firstname": "Grace" } })).is_ok());
        let update = action("hubspot_update_contact").expect("update_contact");
        assert!((update.build)(&json!({ "contact_id": "101", "properties": { "jobtitle": "CTO" } })).is_ok(), "an update names only what changes");
        let props = action("hubspot_list_contact_properties").expect("list_contact_properties");
        assert_eq!((props.build)(&json!({})).expect("valid").path, "/crm/v3/properties/contacts");
        assert!((props.build)(&json!({ "object": "deals" })).expect_err("unknown").contains("object"));
    }

    #[test]
    fn contact_writes_ask_for_a_look_at_the_accounts_definitions() {
        for name in ["create_contact", "update_contact"] {
            let pf = super::preflight(name).expect("a pre-flight");
            assert_eq!(pf.path, "/crm/v3/properties/contacts");
        }
        assert!(super::preflight("create_note").is_none(), "notes are built from fixed properties");
    }

    #[test]
    fn moving_a_deal_patches_its_dealstage() {
        let a = action("hubspot_update_deal_stage").expect("update_deal_stage");
        assert!(a.outbound && a.idempotent);
        let call = (a.build)(&json!({ "deal_id": "302", "stage": "closedwon" })).expect("valid");
        assert_eq!((call.method, call.path.as_str()), ("PATCH", "/crm/v3/objects/deals/302"));
        assert_eq!(call.json, Some(json!({ "properties": { "dealstage": "closedwon" } })));
    }

    #[test]
    fn bad_ids_stages_and_unknown_fields_are_refused() {
        for (tool, field, base) in [
            ("hubspot_get_company", "company_id", json!({})),
            ("hubspot_get_deal", "deal_id", json!({})),
            ("hubspot_get_deal_associations", "deal_id", json!({ "to_object_type": "contacts" })),
            ("hubspot_update_deal_stage", "deal_id", json!({ "stage": "closedwon" })),
        ] {
            let a = action(tool).expect(tool);
            assert!((a.build)(&base).expect_err("missing id").contains(field), "{tool}");
            let mut bad = base.clone();
            bad[field] = json!("../oauth");
            assert!((a.build)(&bad).expect_err("path escape").contains("numeric"), "{tool}: an id must not change the path");
        }
        for tool in ["hubspot_list_companies", "hubspot_get_company", "hubspot_list_deals", "hubspot_get_deal", "hubspot_list_deal_pipelines", "hubspot_get_deal_associations", "hubspot_update_deal_stage"] {
            let a = action(tool).expect(tool);
            let input = json!({ "sneaky": 1 });
            assert!((a.build)(&input).expect_err("unknown field").contains("sneaky"), "{tool}");
        }
        let stage = action("hubspot_update_deal_stage").expect("stage");
        assert!((stage.build)(&json!({ "deal_id": "301" })).expect_err("no stage").contains("stage"));
        assert!((stage.build)(&json!({ "deal_id": "301", "stage": "won/../x" })).expect_err("bad stage").contains("stage"));
        let assoc = action("hubspot_get_deal_associations").expect("assoc");
        assert!((assoc.build)(&json!({ "deal_id": "301", "to_object_type": "tickets" })).expect_err("type").contains("to_object_type"));
        assert!((action("hubspot_list_deals").expect("list").build)(&json!({ "limit": 0 })).expect_err("limit").contains("limit"));
    }
}
