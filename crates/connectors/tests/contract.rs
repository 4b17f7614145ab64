//! Contract tests: every action's request checked against the provider's published API
//! description, copied into `tests/fixtures/specs/` (see the `SOURCE.md` and licence notes
//! there): Stripe's OpenAPI subset, Slack's Web API Swagger subset, and Google's Gmail and
//! Calendar discovery documents. For each action, representative valid inputs are built into
//! the provider request, which must name an operation that exists with that method and path
//! template, send every required parameter, send only parameters the operation knows, and give
//! each the declared type or enum value.
//!
//! An action whose provider has a spec but no operation for it must be listed in
//! [`NO_SPEC_OPERATION`] with the reason; HubSpot has no licensed spec, so its requests are
//! checked against the documented shapes stated in [`HUBSPOT_SHAPES`]. A new action without a
//! sample here fails [`every_action_is_checked_or_listed_with_a_reason`].
//!
//! How to add an action: add one or more valid inputs for its tool to [`samples`] (use the
//! optional fields too, so they are checked); run `cargo test -p switchboard-connectors --test
//! contract`. The simulated providers' answers are checked against the same descriptions in
//! `tests/contract_answers.rs`.

mod spec;

use serde_json::{Value, json};
use spec::Sent;
use spec::discovery::Discovery;
use spec::openapi::OpenApi;
use spec::swagger::Swagger;
use switchboard_connectors::{ActionSpec, HttpCall, action, actions, catalog};

/// Actions of a provider with a spec that no operation of the spec covers, and why.
const NO_SPEC_OPERATION: &[(&str, &str)] = &[];

/// Providers whose subset is checked here, and the spec each is checked against.
const SPEC_PROVIDERS: &[(&str, &str)] = &[
    ("stripe", "stripe/openapi-subset.json"),
    ("slack", "slack/web-api-subset.json"),
    ("gmail", "google/gmail-v1-subset.json"),
    ("google-calendar", "google/calendar-v3-subset.json"),
];

/// Valid inputs, one or more per tool; each is built and its request checked.
fn samples() -> Vec<(&'static str, Value)> {
    vec![
        // Stripe
        (
            "stripe_find_customer_by_email",
            json!({ "email": "grace@cobol.example", "limit": 5 }),
        ),
        (
            "stripe_get_customer",
            json!({ "customer_id": "cus_SbxGraceHopper" }),
        ),
        (
            "stripe_list_subscriptions",
            json!({ "customer_id": "cus_SbxAdaLovelace", "status": "past_due", "limit": 10, "starting_after": "sub_SbxAdaPro00001" }),
        ),
        (
            "stripe_list_subscriptions",
            json!({ "include_latest_payment": false }),
        ),
        (
            "stripe_list_events",
            json!({ "types": ["invoice.paid", "customer.*"], "created_gte": 1_700_000_000, "limit": 100, "ending_before": "evt_1SbxNew0000000001" }),
        ),
        (
            "stripe_list_events",
            json!({ "created_gt": 1_700_000_000, "starting_after": "evt_1SbxNew0000000001" }),
        ),
        (
            "stripe_list_invoices",
            json!({ "customer_id": "cus_1", "status": "open", "subscription_id": "sub_1", "limit": 3, "starting_after": "in_1" }),
        ),
        (
            "stripe_get_invoice",
            json!({ "invoice_id": "in_SbxGraceOverdue01" }),
        ),
        (
            "stripe_list_charges",
            json!({ "customer_id": "cus_1", "payment_intent_id": "pi_1", "limit": 100, "starting_after": "ch_1" }),
        ),
        (
            "stripe_list_payment_intents",
            json!({ "customer_id": "cus_1", "limit": 1, "starting_after": "pi_1" }),
        ),
        (
            "stripe_create_invoice",
            json!({ "customer_id": "cus_1", "days_until_due": 30, "currency": "usd", "description": "Extra training" }),
        ),
        (
            "stripe_create_invoice_item",
            json!({ "customer_id": "cus_1", "invoice_id": "in_1", "description": "Training day", "amount": 15000, "currency": "usd" }),
        ),
        ("stripe_finalize_invoice", json!({ "invoice_id": "in_1" })),
        ("stripe_send_invoice", json!({ "invoice_id": "in_1" })),
        (
            "stripe_credit_customer_balance",
            json!({ "customer_id": "cus_1", "amount": 2500, "currency": "usd", "description": "Sorry" }),
        ),
        (
            "stripe_create_credit_note",
            json!({ "invoice_id": "in_1", "amount": 500, "reason": "product_unsatisfactory", "memo": "Outage", "metadata": { "ticket": "T-1" } }),
        ),
        (
            "stripe_create_credit_note",
            json!({ "invoice_id": "in_1", "lines": [{ "invoice_line_item": "il_1", "quantity": 1 }, { "invoice_line_item": "il_2", "amount": 100 }, { "description": "Service credit", "amount": 200 }], "credit_amount": 300, "refund_amount": 100, "out_of_band_amount": 1 }),
        ),
        (
            "stripe_list_credit_notes",
            json!({ "customer_id": "cus_1", "invoice_id": "in_1", "limit": 20, "starting_after": "cn_1" }),
        ),
        (
            "stripe_refund",
            json!({ "charge_id": "ch_1", "amount": 100, "reason": "requested_by_customer" }),
        ),
        ("stripe_refund", json!({ "payment_intent_id": "pi_1" })),
        // Slack
        (
            "slack_list_channels",
            json!({ "limit": 50, "cursor": "dGVhbTpDMDYxRkE1UEI=", "exclude_archived": true }),
        ),
        (
            "slack_channel_history",
            json!({ "channel": "C05SBXFDB1", "limit": 20, "cursor": "abc", "oldest": "1712345678.000200", "latest": "1712345999", "inclusive": true }),
        ),
        (
            "slack_thread_replies",
            json!({ "channel": "C05SBXFDB1", "ts": "1712345678.000200", "limit": 10, "cursor": "abc" }),
        ),
        ("slack_get_user", json!({ "user": "U05SBX0002" })),
        (
            "slack_lookup_user_by_email",
            json!({ "email": "omar.haddad@acme-demo.example" }),
        ),
        (
            "slack_post_message",
            json!({ "channel": "C05SBXGEN1", "text": "hi", "blocks": [{ "type": "section", "text": { "type": "mrkdwn", "text": "hi" } }] }),
        ),
        (
            "slack_reply_in_thread",
            json!({ "channel": "C05SBXFDB1", "thread_ts": "1712345678.000200", "text": "on it", "broadcast": true }),
        ),
        ("slack_open_direct_message", json!({ "user": "U05SBX0002" })),
        (
            "slack_send_direct_message",
            json!({ "channel": "D05SBXDM01", "text": "hello" }),
        ),
        (
            "slack_update_message",
            json!({ "channel": "C05SBXGEN1", "ts": "1712345678.000200", "text": "edited", "blocks": [{ "type": "divider" }] }),
        ),
        (
            "slack_delete_message",
            json!({ "channel": "C05SBXGEN1", "ts": "1712345678.000200" }),
        ),
        // Gmail
        (
            "gmail_search_messages",
            json!({ "q": "from:ada is:unread", "label_ids": ["INBOX", "UNREAD"], "max_results": 10, "page_token": "00000000000000000010" }),
        ),
        (
            "gmail_get_message",
            json!({ "id": "18f0000000010357", "format": "metadata" }),
        ),
        (
            "gmail_get_attachment",
            json!({ "message_id": "18f0000000010357", "attachment_id": "ANGjdJ8-x_1" }),
        ),
        (
            "gmail_list_threads",
            json!({ "q": "subject:meeting", "max_results": 5 }),
        ),
        (
            "gmail_get_thread",
            json!({ "id": "18f0000000010357", "format": "minimal" }),
        ),
        ("gmail_list_labels", json!({})),
        ("gmail_get_profile", json!({})),
        (
            "gmail_list_history",
            json!({ "start_history_id": "100012", "max_results": 100, "page_token": "00000000000000000100", "label_id": "INBOX", "history_types": ["messageAdded", "labelRemoved"] }),
        ),
        (
            "gmail_modify_labels",
            json!({ "id": "18f0000000010357", "add_label_ids": ["Label_1", "STARRED"], "remove_label_ids": ["UNREAD"] }),
        ),
        (
            "gmail_create_draft",
            json!({ "to": ["Ada <ada@example.com>"], "cc": "ops@example.com", "subject": "Re: hi", "text": "Tuesday works.", "html": "<p>Tuesday works.</p>", "in_reply_to": "<a.1@mail.example.com>", "thread_id": "18f0000000010357" }),
        ),
        (
            "gmail_update_draft",
            json!({ "draft_id": "r-123", "to": "ada@example.com", "subject": "Re: hi", "text": "Wednesday instead." }),
        ),
        ("gmail_send_draft", json!({ "draft_id": "r-123" })),
        (
            "gmail_send_message",
            json!({ "to": "ada@example.com", "bcc": ["audit@example.com"], "subject": "Invite", "text": "See you." }),
        ),
        ("gmail_trash_message", json!({ "id": "18f0000000010357" })),
        // Google Calendar
        (
            "google-calendar_list_events",
            json!({ "calendar_id": "team@example.com", "time_min": "2026-03-02T09:00:00-03:00", "time_max": "2026-03-02T18:00:00-03:00", "q": "Ada", "max_results": 10, "page_token": "abc", "show_deleted": true }),
        ),
        (
            "google-calendar_get_event",
            json!({ "event_id": "evt0daily0standup_20260302T123000Z" }),
        ),
        (
            "google-calendar_free_busy",
            json!({ "time_min": "2026-03-02T12:00:00Z", "time_max": "2026-03-02T21:00:00Z", "calendars": ["primary", "team@example.com"] }),
        ),
        (
            "google-calendar_create_event",
            json!({ "summary": "Demo", "description": "Agenda", "location": "Room 1", "start": "2026-03-02T14:00:00-03:00", "end": "2026-03-02T15:00:00-03:00", "time_zone": "America/Sao_Paulo", "attendees": ["ada@example.com"], "send_updates": "externalOnly", "add_meet_link": true }),
        ),
        (
            "google-calendar_update_event",
            json!({ "event_id": "abc123", "summary": "Renamed", "start": "2026-03-03T14:00:00Z", "end": "2026-03-03T15:00:00Z", "attendees": [], "send_updates": "none", "add_meet_link": true }),
        ),
        (
            "google-calendar_cancel_event",
            json!({ "event_id": "abc123", "send_updates": "all" }),
        ),
        // HubSpot (documented shapes, no licensed spec)
        (
            "hubspot_list_contacts",
            json!({ "limit": 5, "after": "10", "properties": ["email", "firstname"] }),
        ),
        (
            "hubspot_get_contact",
            json!({ "contact_id": "101", "properties": ["email"] }),
        ),
        (
            "hubspot_create_contact",
            json!({ "properties": { "email": "a@example.com", "firstname": "Ada" } }),
        ),
        (
            "hubspot_update_contact",
            json!({ "contact_id": "101", "properties": { "lifecyclestage": "lead" } }),
        ),
        ("hubspot_archive_contact", json!({ "contact_id": "101" })),
        (
            "hubspot_list_companies",
            json!({ "limit": 3, "properties": ["name"] }),
        ),
        ("hubspot_get_company", json!({ "company_id": "201" })),
        ("hubspot_list_deals", json!({ "after": "3" })),
        (
            "hubspot_get_deal",
            json!({ "deal_id": "301", "properties": ["dealstage"] }),
        ),
        ("hubspot_list_deal_pipelines", json!({})),
        (
            "hubspot_get_deal_associations",
            json!({ "deal_id": "301", "to_object_type": "contacts" }),
        ),
        (
            "hubspot_search_contacts",
            json!({ "filters": [{ "property": "lastmodifieddate", "operator": "GT", "value": "1714550400000" }], "sorts": [{ "property": "lastmodifieddate", "direction": "ASCENDING" }], "properties": ["email"], "limit": 200, "after": "200" }),
        ),
        ("hubspot_search_companies", json!({})),
        (
            "hubspot_search_deals",
            json!({ "filter_groups": [[{ "property": "dealstage", "operator": "EQ", "value": "closedwon" }], [{ "property": "amount", "operator": "GTE", "value": "1000" }]] }),
        ),
        ("hubspot_list_contact_properties", json!({})),
        (
            "hubspot_list_activities",
            json!({ "record_type": "deals", "record_id": "316", "activity_type": "notes", "limit": 5 }),
        ),
        (
            "hubspot_log_call",
            json!({ "contact_id": "101", "body": "Left a voicemail", "timestamp": "1714550400000", "direction": "OUTBOUND", "status": "NO_ANSWER", "duration_ms": 30000 }),
        ),
        (
            "hubspot_log_email",
            json!({ "deal_id": "316", "subject": "Quote", "text": "Attached.", "timestamp": "2024-04-02T10:00:00Z", "to_email": "elizabeth.feinler@example.com" }),
        ),
        (
            "hubspot_create_note",
            json!({ "contact_id": "150", "deal_id": 316, "body": "Called back", "timestamp": "2024-04-02T10:00:00Z" }),
        ),
        (
            "hubspot_create_task",
            json!({ "company_id": "210", "subject": "Send the quote", "body": "40 seats", "due_date": 1_714_550_400_000u64, "owner_id": "90001", "priority": "HIGH", "status": "NOT_STARTED", "task_type": "EMAIL" }),
        ),
        (
            "hubspot_list_owners",
            json!({ "email": "pat@example.com", "limit": 50 }),
        ),
        ("hubspot_list_sequences", json!({ "user_id": "5101001" })),
        (
            "hubspot_enroll_in_sequence",
            json!({ "sequence_id": "10001001", "contact_id": "150", "sender_email": "pat@example.com", "user_id": 5_101_001 }),
        ),
        (
            "hubspot_update_deal_stage",
            json!({ "deal_id": "301", "stage": "closedwon" }),
        ),
    ]
}

/// HubSpot's documented CRM request shapes (developers.hubspot.com/docs/api/crm): method, path
/// template (`{type}` an object type, `{id}` a record id), the query parameters and the body keys
/// each takes. HubSpot's own spec collection is not licensed for copying, so the shapes are
/// stated here.
const HUBSPOT_SHAPES: &[(&str, &str, &[&str], &[&str])] = &[
    (
        "GET",
        "/crm/v3/objects/{type}",
        &[
            "limit",
            "after",
            "properties",
            "propertiesWithHistory",
            "associations",
            "archived",
        ],
        &[],
    ),
    (
        "GET",
        "/crm/v3/objects/{type}/{id}",
        &[
            "properties",
            "propertiesWithHistory",
            "associations",
            "archived",
            "idProperty",
        ],
        &[],
    ),
    (
        "POST",
        "/crm/v3/objects/{type}",
        &[],
        &["properties", "associations"],
    ),
    (
        "PATCH",
        "/crm/v3/objects/{type}/{id}",
        &["idProperty"],
        &["properties"],
    ),
    ("DELETE", "/crm/v3/objects/{type}/{id}", &[], &[]),
    (
        "POST",
        "/crm/v3/objects/{type}/search",
        &[],
        &[
            "filterGroups",
            "sorts",
            "query",
            "properties",
            "limit",
            "after",
        ],
    ),
    ("GET", "/crm/v3/pipelines/{type}", &[], &[]),
    (
        "GET",
        "/crm/v3/properties/{type}",
        &["archived", "properties", "dataSensitivity", "locale"],
        &[],
    ),
    (
        "GET",
        "/crm/v3/owners",
        &["email", "limit", "after", "archived"],
        &[],
    ),
    (
        "GET",
        "/automation/v4/sequences",
        &["userId", "name", "limit", "after"],
        &[],
    ),
    (
        "POST",
        "/automation/v4/sequences/enrollments",
        &["userId"],
        &[
            "sequenceId",
            "contactId",
            "senderEmail",
            "senderAliasAddress",
        ],
    ),
    (
        "GET",
        "/crm/v4/objects/{type}/{id}/associations/{type}",
        &["limit", "after"],
        &[],
    ),
];

const HUBSPOT_OBJECT_TYPES: &[&str] = &[
    "contacts",
    "companies",
    "deals",
    "tickets",
    "notes",
    "tasks",
    "calls",
    "emails",
    "meetings",
    "line_items",
    "products",
    "quotes",
];

/// Builds `tool` from `input`; a sample that does not build is a broken sample.
fn build(tool: &str, input: &Value) -> (&'static ActionSpec, HttpCall) {
    let a =
        action(tool).unwrap_or_else(|| panic!("the sample names {tool}, which is not an action"));
    let call = (a.build)(input).unwrap_or_else(|e| {
        panic!("{tool}: a representative valid input was refused: {e}\ninput: {input}")
    });
    (a, call)
}

/// The request as it leaves: the catalog's API base URL joined with the call's path.
fn sent<'a>(a: &ActionSpec, call: &'a HttpCall) -> Sent<'a> {
    let base = &catalog()
        .get(a.provider)
        .unwrap_or_else(|| panic!("{} is not in the catalog", a.provider))
        .api_base_url;
    Sent {
        method: call.method,
        url: format!("{}{}", base.trim_end_matches('/'), call.path),
        query: &call.query,
        form: call.form.as_deref(),
        json: call.json.as_ref(),
    }
}

fn report(tool: &str, input: &Value, call: &HttpCall, problems: &[String]) -> String {
    format!(
        "{tool} sends a request the provider would refuse:\n  - {}\ninput: {input}\nrequest: {call:?}",
        problems.join("\n  - ")
    )
}

#[test]
fn every_action_is_checked_or_listed_with_a_reason() {
    let sampled: Vec<&str> = samples().iter().map(|(t, _)| *t).collect();
    for a in actions() {
        let tool = a.tool_name();
        let listed = NO_SPEC_OPERATION.iter().any(|(t, _)| *t == tool);
        let has_spec =
            SPEC_PROVIDERS.iter().any(|(p, _)| *p == a.provider) || a.provider == "hubspot";
        assert!(
            has_spec,
            "{tool}: its provider has neither a spec nor stated shapes here; add them before adding actions"
        );
        assert!(
            sampled.contains(&tool.as_str()) || listed,
            "{tool} is not checked against its provider's API: add a valid input for it to samples() in tests/contract.rs, or list it in NO_SPEC_OPERATION with the reason"
        );
        assert!(
            !(sampled.contains(&tool.as_str()) && listed),
            "{tool} is both checked and listed as having no operation"
        );
    }
    for (tool, reason) in NO_SPEC_OPERATION {
        assert!(
            action(tool).is_some(),
            "NO_SPEC_OPERATION lists {tool}, which is not an action"
        );
        assert!(
            reason.len() > 10,
            "{tool}: say why it has no spec operation"
        );
    }
}

#[test]
fn stripe_requests_match_the_openapi_subset() {
    let spec = OpenApi::load("stripe/openapi-subset.json");
    let mut ops = Vec::new();
    for (tool, input) in samples().iter().filter(|(t, _)| t.starts_with("stripe_")) {
        let (a, call) = build(tool, input);
        if a.tier != switchboard_core::Tier::Read {
            assert!(
                call.idempotency_key,
                "{tool}: every Stripe write sends an Idempotency-Key, so a retry is applied once"
            );
        }
        match spec.check(&sent(a, &call)) {
            Ok(op) => ops.push(op),
            Err(p) => panic!("{}", report(tool, input, &call, &p)),
        }
    }
    assert!(
        ops.contains(&"PostCreditNotes".to_string()) && ops.contains(&"GetCreditNotes".to_string()),
        "credit notes are checked: {ops:?}"
    );
}

#[test]
fn slack_requests_match_the_web_api_subset() {
    let spec = Swagger::load("slack/web-api-subset.json");
    // Required by Slack though the spec does not mark them (its SOURCE.md lists the gaps).
    let also_required: &[(&str, &[&str])] = &[
        ("chat.delete", &["channel", "ts"]),
        ("conversations.history", &["channel"]),
        ("conversations.replies", &["channel", "ts"]),
        ("conversations.info", &["channel"]),
        ("chat.postMessage", &["text"]),
        ("chat.update", &["text"]),
    ];
    for (tool, input) in samples().iter().filter(|(t, _)| t.starts_with("slack_")) {
        let (a, call) = build(tool, input);
        let s = sent(a, &call);
        // The gateway sends the bot token as `Authorization: Bearer`, never as an argument.
        let method = spec
            .check(&s, &["token"])
            .unwrap_or_else(|p| panic!("{}", report(tool, input, &call, &p)));
        let slack = catalog().get("slack").expect("slack is in the catalog");
        assert!(
            slack
                .rate_limits
                .iter()
                .any(|l| l.methods.contains(&method)),
            "{tool}: {method} has no documented tier in the catalog's Slack rate_limits, so it would be paced by the cautious default"
        );
        for (m, fields) in also_required.iter().filter(|(m, _)| *m == method) {
            for f in *fields {
                let present = call.query.iter().any(|(k, _)| k == f)
                    || call.json.as_ref().is_some_and(|j| j.get(f).is_some());
                assert!(
                    present,
                    "{tool}: {m} needs '{f}' though the spec does not mark it required"
                );
            }
        }
    }
}

#[test]
fn gmail_and_calendar_requests_match_the_discovery_documents() {
    for (provider, file) in [
        ("gmail", "google/gmail-v1-subset.json"),
        ("google-calendar", "google/calendar-v3-subset.json"),
    ] {
        let spec = Discovery::load(file);
        for (tool, input) in samples()
            .iter()
            .filter(|(t, _)| action(t).is_some_and(|a| a.provider == provider))
        {
            let (a, call) = build(tool, input);
            if let Err(p) = spec.check(&sent(a, &call)) {
                panic!("{}", report(tool, input, &call, &p));
            }
        }
    }
}

#[test]
fn hubspot_requests_have_the_documented_shapes() {
    for (tool, input) in samples().iter().filter(|(t, _)| t.starts_with("hubspot_")) {
        let (_, call) = build(tool, input);
        let shape = HUBSPOT_SHAPES.iter().find(|(m, t, _, _)| {
            *m == call.method
                && spec::match_template(t, &call.path).is_some_and(|caps| {
                    caps.iter().all(|(name, v)| match name.as_str() {
                        "type" => HUBSPOT_OBJECT_TYPES.contains(&v.as_str()),
                        "id" => !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()),
                        _ => false,
                    })
                })
        });
        let Some((_, template, query, body)) = shape else {
            panic!(
                "{tool}: {} {} is not one of HubSpot's documented CRM requests",
                call.method, call.path
            )
        };
        for (k, _) in &call.query {
            assert!(
                query.contains(&k.as_str()),
                "{tool}: query parameter '{k}' is not documented for {template}"
            );
        }
        match &call.json {
            Some(Value::Object(o)) => {
                assert!(!body.is_empty(), "{tool}: {template} takes no body");
                for k in o.keys() {
                    assert!(
                        body.contains(&k.as_str()),
                        "{tool}: body key '{k}' is not documented for {} {template}",
                        call.method
                    );
                }
                // A record's `properties` are a flat object of values; a search's, a list of names.
                let ok = match o.get("properties") {
                    None => true,
                    Some(Value::Object(p)) => {
                        !template.ends_with("/search")
                            && p.values()
                                .all(|v| v.is_string() || v.is_number() || v.is_boolean())
                    }
                    Some(Value::Array(names)) => {
                        template.ends_with("/search") && names.iter().all(Value::is_string)
                    }
                    Some(_) => false,
                };
                assert!(
                    ok,
                    "{tool}: properties must be a flat object of values (a record) or a list of names (a search)"
                );
                if let Some(groups) = o.get("filterGroups") {
                    let filters_ok = groups.as_array().is_some_and(|g| {
                        g.iter().all(|f| {
                            f["filters"].as_array().is_some_and(|fs| {
                                fs.iter().all(|x| {
                                    x["propertyName"].is_string() && x["operator"].is_string()
                                })
                            })
                        })
                    });
                    assert!(
                        filters_ok,
                        "{tool}: filterGroups are [{{filters: [{{propertyName, operator, value?}}]}}]: {groups}"
                    );
                }
            }
            Some(other) => panic!("{tool}: the body must be a JSON object, not {other}"),
            None => assert!(
                body.is_empty() || call.method == "GET",
                "{tool}: {} {template} needs a body",
                call.method
            ),
        }
        assert!(call.form.is_none(), "{tool}: HubSpot takes JSON bodies");
    }
}

/// The checkers themselves: each kind of mistake is caught, so a passing check means something.
#[test]
fn the_checkers_catch_missing_unknown_and_mistyped_parameters() {
    let pairs = |l: &[(&str, &str)]| {
        l.iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect::<Vec<_>>()
    };
    let stripe = OpenApi::load("stripe/openapi-subset.json");
    let form = pairs(&[("amount", "-5")]);
    let none: Vec<(String, String)> = Vec::new();
    let s = Sent {
        method: "POST",
        url: "https://api.stripe.com/v1/customers/cus_1/balance_transactions".into(),
        query: &none,
        form: Some(&form),
        json: None,
    };
    let p = stripe.check(&s).expect_err("currency is required");
    assert!(
        p.iter().any(|x| x.contains("'currency' is missing")),
        "{p:?}"
    );
    let form = pairs(&[
        ("invoice", "in_1"),
        ("amount", "five"),
        ("reason", "because"),
        ("lines[0][amount]", "5"),
        ("colour", "red"),
    ]);
    let s = Sent {
        method: "POST",
        url: "https://api.stripe.com/v1/credit_notes".into(),
        query: &none,
        form: Some(&form),
        json: None,
    };
    let p = stripe.check(&s).expect_err("several mistakes");
    for needle in [
        "body[amount]: \"five\" is not a valid integer",
        "body[reason]",
        "body[lines][0]: required parameter 'type' is missing",
        "body[colour]: unknown parameter",
    ] {
        assert!(
            p.iter().any(|x| x.contains(needle)),
            "{needle} should be reported: {p:?}"
        );
    }
    let q = pairs(&[("limit", "ten")]);
    let s = Sent {
        method: "GET",
        url: "https://api.stripe.com/v1/customers".into(),
        query: &q,
        form: None,
        json: None,
    };
    assert!(stripe.check(&s).is_err(), "a non-integer limit is refused");
    let s = Sent {
        method: "DELETE",
        url: "https://api.stripe.com/v1/customers".into(),
        query: &none,
        form: None,
        json: None,
    };
    assert!(stripe.check(&s).expect_err("no such operation")[0].contains("no operation"));

    let slack = Swagger::load("slack/web-api-subset.json");
    let body = json!({ "channel": "C1", "text": "x", "thread": "1" });
    let s = Sent {
        method: "POST",
        url: "https://slack.com/api/chat.postMessage".into(),
        query: &none,
        form: None,
        json: Some(&body),
    };
    assert!(
        slack
            .check(&s, &["token"])
            .expect_err("unknown argument")
            .iter()
            .any(|x| x.contains("'thread'"))
    );
    let body = json!({ "text": "x" });
    let s = Sent {
        method: "POST",
        url: "https://slack.com/api/chat.postMessage".into(),
        query: &none,
        form: None,
        json: Some(&body),
    };
    assert!(
        slack
            .check(&s, &["token"])
            .expect_err("channel missing")
            .iter()
            .any(|x| x.contains("'channel' is missing"))
    );
    let q = pairs(&[("limit", "many")]);
    let s = Sent {
        method: "GET",
        url: "https://slack.com/api/conversations.list".into(),
        query: &q,
        form: None,
        json: None,
    };
    assert!(
        slack.check(&s, &["token"]).is_err(),
        "a non-integer limit is refused"
    );
    let s = Sent {
        method: "GET",
        url: "https://slack.com/api/chat.postMessage".into(),
        query: &none,
        form: None,
        json: None,
    };
    assert!(
        slack.check(&s, &["token"]).is_err(),
        "the spec's verb is required"
    );

    let cal = Discovery::load("google/calendar-v3-subset.json");
    let body = json!({ "summary": "x", "start": { "dateTime": "2026-03-02T14:00:00Z" } });
    let q = pairs(&[("sendUpdates", "everyone"), ("maxAttendees", "x")]);
    let s = Sent {
        method: "POST",
        url: "https://www.googleapis.com/calendar/v3/calendars/primary/events".into(),
        query: &q,
        form: None,
        json: Some(&body),
    };
    let p = cal.check(&s).expect_err("several mistakes");
    for needle in [
        "'end' is required for calendar.events.insert",
        "query sendUpdates",
        "query maxAttendees",
    ] {
        assert!(
            p.iter().any(|x| x.contains(needle)),
            "{needle} should be reported: {p:?}"
        );
    }
    let body = json!({ "timeMin": "tomorrow", "timeMax": "2026-03-02T21:00:00Z", "items": [{ "id": "primary", "colour": 1 }] });
    let s = Sent {
        method: "POST",
        url: "https://www.googleapis.com/calendar/v3/freeBusy".into(),
        query: &none,
        form: None,
        json: Some(&body),
    };
    let p = cal.check(&s).expect_err("bad body");
    assert!(
        p.iter().any(|x| x.contains("body.timeMin"))
            && p.iter().any(|x| x.contains("body.items[0].colour")),
        "{p:?}"
    );
    let gmail = Discovery::load("google/gmail-v1-subset.json");
    let q = pairs(&[("format", "raw"), ("format", "full")]);
    let s = Sent {
        method: "GET",
        url: "https://gmail.googleapis.com/gmail/v1/users/me/threads/abc".into(),
        query: &q,
        form: None,
        json: None,
    };
    let p = gmail
        .check(&s)
        .expect_err("threads.get has no raw format and format is not repeated");
    assert!(
        p.iter().any(|x| x.contains("\"raw\" is not one of"))
            && p.iter().any(|x| x.contains("more than once")),
        "{p:?}"
    );
}
