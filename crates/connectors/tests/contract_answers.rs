//! Contract tests for the simulated providers (`switchboard-sandbox`), against the same API
//! descriptions as `tests/contract.rs`:
//! * their answers have the spec's shapes: Stripe objects carry every required field with the
//!   declared types (checked first on Stripe's own 2023 example objects, which must pass), and
//!   Gmail and Calendar answers use only fields of the discovery schemas, with the right types;
//! * they refuse what the real API refuses, as it refuses it: each parameter the spec marks
//!   required, sent missing, gets Stripe's `parameter_missing` naming it, Google's 400 (reason
//!   `required` on Calendar, `INVALID_ARGUMENT` on Gmail) or one of the Slack error codes the
//!   spec documents for that method; unknown and mistyped parameters get Stripe's
//!   `parameter_unknown` / `parameter_invalid_integer`;
//! * the simulated Slack holds each method to the tier the catalog paces it by.
//!
//! Everything runs over real HTTP on loopback.

mod spec;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use spec::discovery::Discovery;
use spec::openapi::OpenApi;
use spec::swagger::Swagger;
use switchboard_sandbox::{SandboxHandle, SandboxServer, gcal, gmail, slack, stripe};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client")
}

async fn json_of(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let text = r.text().await.expect("body");
    (
        status,
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        },
    )
}

fn assert_fits(what: &str, problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{what} does not have the spec's shape:\n  - {}",
        problems.join("\n  - ")
    );
}

// ---------------------------------------------------------------- Stripe

/// Form pairs of a Stripe request.
type Form<'a> = &'a [(&'a str, &'a str)];

async fn stripe_sandbox() -> SandboxHandle {
    let cfg = stripe::StripeConfig::default().with_rate_limit(10_000, Duration::from_secs(1));
    SandboxServer::start(stripe::StripeSandbox::new(cfg))
        .await
        .expect("start the Stripe sandbox")
}

async fn stripe_get(h: &SandboxHandle, path: &str) -> (StatusCode, Value) {
    json_of(
        client()
            .get(format!("{}/v1{path}", h.url()))
            .bearer_auth(stripe::SECRET_KEY)
            .send()
            .await
            .expect("send"),
    )
    .await
}

async fn stripe_post(h: &SandboxHandle, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    json_of(
        client()
            .post(format!("{}/v1{path}", h.url()))
            .bearer_auth(stripe::SECRET_KEY)
            .form(form)
            .send()
            .await
            .expect("send"),
    )
    .await
}

#[test]
fn stripes_own_example_objects_fit_the_schemas_and_a_broken_one_does_not() {
    let api = OpenApi::load("stripe/openapi-subset.json");
    let fixtures = spec::load("stripe/fixtures3-2023-09-12.json");
    for kind in [
        "customer",
        "subscription",
        "invoice",
        "invoiceitem",
        "credit_note",
        "customer_balance_transaction",
        "refund",
        "payment_intent",
        "charge",
        "event",
    ] {
        let mut p = Vec::new();
        api.check_json(
            kind,
            &fixtures["resources"][kind],
            &json!({ "$ref": format!("#/components/schemas/{kind}") }),
            &mut p,
        );
        assert_fits(&format!("Stripe's example {kind}"), p);
    }
    let mut broken = fixtures["resources"]["credit_note"].clone();
    broken.as_object_mut().expect("object").remove("total");
    broken["status"] = json!("pending");
    broken["amount"] = json!("12.50");
    broken["colour"] = json!("red");
    let mut p = Vec::new();
    api.check_json(
        "credit_note",
        &broken,
        &json!({ "$ref": "#/components/schemas/credit_note" }),
        &mut p,
    );
    for needle in [
        "'total' is missing",
        "credit_note.status",
        "credit_note.amount",
        "credit_note.colour",
    ] {
        assert!(
            p.iter().any(|x| x.contains(needle)),
            "{needle} should be reported: {p:?}"
        );
    }
}

#[tokio::test]
async fn the_stripe_sandboxs_objects_have_stripes_shapes() {
    let api = OpenApi::load("stripe/openapi-subset.json");
    let h = stripe_sandbox().await;
    let schema = |kind: &str| json!({ "$ref": format!("#/components/schemas/{kind}") });
    let mut problems = Vec::new();
    // Lists: the list envelope of the operation's 200 answer, and every object in it.
    let lists = [
        ("/customers?limit=100", "customer"),
        ("/subscriptions?status=all&limit=100", "subscription"),
        (
            "/subscriptions?status=all&expand[]=data.latest_invoice.payment_intent",
            "subscription",
        ),
        ("/invoices?limit=100", "invoice"),
        ("/charges?limit=100", "charge"),
        ("/payment_intents?limit=100", "payment_intent"),
    ];
    for (path, kind) in lists {
        let (s, list) = stripe_get(&h, path).await;
        assert_eq!(s, StatusCode::OK, "{path}: {list}");
        assert!(
            !list["data"].as_array().expect("data").is_empty(),
            "{path} returned nothing to check"
        );
        api.check_json(path, &list, &json!({ "type": "object", "required": ["data", "has_more", "object", "url"], "properties": {
            "data": { "type": "array", "items": schema(kind) }, "has_more": { "type": "boolean" }, "object": { "type": "string", "enum": ["list"] }, "url": { "type": "string" },
        }}), &mut problems);
    }
    // Objects the writes create.
    let (_, txn) = stripe_post(
        &h,
        &format!(
            "/customers/{}/balance_transactions",
            stripe::OVERDUE_CUSTOMER
        ),
        &[
            ("amount", "-500"),
            ("currency", "usd"),
            ("metadata[why]", "late"),
        ],
    )
    .await;
    let (_, refund) = stripe_post(
        &h,
        "/refunds",
        &[("charge", stripe::REFUNDABLE_CHARGE), ("amount", "100")],
    )
    .await;
    let (_, draft) = stripe_post(
        &h,
        "/invoices",
        &[
            ("customer", stripe::OVERDUE_CUSTOMER),
            ("collection_method", "send_invoice"),
            ("days_until_due", "30"),
        ],
    )
    .await;
    let draft_id = draft["id"].as_str().expect("draft id").to_string();
    let (_, item) = stripe_post(
        &h,
        "/invoiceitems",
        &[
            ("customer", stripe::OVERDUE_CUSTOMER),
            ("invoice", &draft_id),
            ("amount", "2500"),
            ("description", "Extra day"),
        ],
    )
    .await;
    let (_, finalized) = stripe_post(&h, &format!("/invoices/{draft_id}/finalize"), &[]).await;
    let (_, note) = stripe_post(
        &h,
        "/credit_notes",
        &[
            ("invoice", stripe::OVERDUE_INVOICE),
            ("lines[0][type]", "custom_line_item"),
            ("lines[0][description]", "Goodwill"),
            ("lines[0][unit_amount]", "700"),
            ("lines[0][quantity]", "1"),
            ("memo", "Sorry"),
        ],
    )
    .await;
    let (_, events) = stripe_get(&h, "/events?limit=100").await;
    for (kind, v) in [
        ("customer_balance_transaction", &txn),
        ("refund", &refund),
        ("invoice", &draft),
        ("invoiceitem", &item),
        ("invoice", &finalized),
        ("credit_note", &note),
        ("event", &events["data"][0]),
    ] {
        assert!(
            v["id"].is_string(),
            "the sandbox did not create a {kind}: {v}"
        );
        api.check_json(kind, v, &schema(kind), &mut problems);
    }
    // Error bodies: Stripe's `error` object.
    let (_, e) = stripe_get(&h, "/customers/cus_nope").await;
    api.check_json("error", &e, &schema("error"), &mut problems);
    assert_fits("the Stripe sandbox's answers", problems);
}

/// For every operation the sandbox serves: each parameter the spec marks required, left out,
/// gets `parameter_missing` naming it; an unknown parameter gets `parameter_unknown`; a
/// non-integer where the spec says integer gets `parameter_invalid_integer`.
#[tokio::test]
async fn the_stripe_sandbox_refuses_what_stripe_refuses() {
    let doc = spec::load("stripe/openapi-subset.json");
    let h = stripe_sandbox().await;
    // A valid request per operation with required parameters (ids from the seeded account).
    let valid: &[(&str, &str, Form)] = &[
        (
            "PostCreditNotes",
            "/credit_notes",
            &[("invoice", stripe::OVERDUE_INVOICE), ("amount", "100")],
        ),
        (
            "PostCustomersCustomerBalanceTransactions",
            "/customers/cus_SbxGraceHopper/balance_transactions",
            &[("amount", "-100"), ("currency", "usd")],
        ),
        (
            "PostInvoiceitems",
            "/invoiceitems",
            &[
                ("customer", stripe::OVERDUE_CUSTOMER),
                ("amount", "100"),
                ("currency", "usd"),
            ],
        ),
    ];
    // Required parameters of operations the sandbox does not serve, and why.
    let not_served = [(
        "GetCustomersSearch",
        "customer search (`query`) is not simulated; find_customer_by_email lists by email",
    )];
    let mut checked = 0;
    for (_, item) in doc["paths"].as_object().expect("paths") {
        for (_, op) in item.as_object().expect("path item") {
            let id = op["operationId"].as_str().unwrap_or_default();
            let mut required: Vec<String> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["required"] == true && p["in"] == "query")
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect();
            if let Some(r) = op
                .pointer("/requestBody/content/application~1x-www-form-urlencoded/schema/required")
                .and_then(Value::as_array)
            {
                required.extend(r.iter().filter_map(Value::as_str).map(str::to_string));
            }
            if required.is_empty() {
                continue;
            }
            if not_served.iter().any(|(o, _)| *o == id) {
                continue;
            }
            let (_, path, form) = valid.iter().find(|(o, _, _)| *o == id).unwrap_or_else(|| panic!("{id} has required parameters {required:?}: add a valid request for it, or list it as not served with the reason"));
            let (s, ok) = stripe_post(&h, path, form).await;
            assert_eq!(
                s,
                StatusCode::OK,
                "{id}: the valid request should succeed: {ok}"
            );
            for r in &required {
                let without: Vec<(&str, &str)> =
                    form.iter().copied().filter(|(k, _)| k != r).collect();
                let (s, e) = stripe_post(&h, path, &without).await;
                assert_eq!(
                    (s, e["error"]["code"].as_str(), e["error"]["param"].as_str()),
                    (
                        StatusCode::BAD_REQUEST,
                        Some("parameter_missing"),
                        Some(r.as_str())
                    ),
                    "{id} without {r}: {e}"
                );
                checked += 1;
            }
            let mut unknown = form.to_vec();
            unknown.push(("favourite_colour", "red"));
            let (s, e) = stripe_post(&h, path, &unknown).await;
            assert_eq!(
                (s, e["error"]["code"].as_str(), e["error"]["param"].as_str()),
                (
                    StatusCode::BAD_REQUEST,
                    Some("parameter_unknown"),
                    Some("favourite_colour")
                ),
                "{id}: {e}"
            );
            let mistyped: Vec<(&str, &str)> = form
                .iter()
                .map(|(k, v)| {
                    if *k == "amount" {
                        (*k, "ten")
                    } else {
                        (*k, *v)
                    }
                })
                .collect();
            let (s, e) = stripe_post(&h, path, &mistyped).await;
            assert_eq!(
                (s, e["error"]["code"].as_str(), e["error"]["param"].as_str()),
                (
                    StatusCode::BAD_REQUEST,
                    Some("parameter_invalid_integer"),
                    Some("amount")
                ),
                "{id}: {e}"
            );
        }
    }
    assert_eq!(
        checked, 4,
        "every required parameter of the served operations was left out once"
    );
    for list in [
        "/customers",
        "/invoices",
        "/charges",
        "/credit_notes",
        "/subscriptions",
        "/payment_intents",
        "/refunds",
        "/events",
    ] {
        let (s, e) = stripe_get(&h, &format!("{list}?limit=ten")).await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("parameter_invalid_integer")),
            "{list}: {e}"
        );
        let (s, e) = stripe_get(&h, &format!("{list}?favourite_colour=red")).await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("parameter_unknown")),
            "{list}: {e}"
        );
    }
}

// ---------------------------------------------------------------- Google

/// Google's consent flow, like a browser, and the code exchange, like the gateway.
async fn google_token(
    h: &SandboxHandle,
    client_id: &str,
    client_secret: &str,
    decision_path: &str,
    scopes: &[&str],
) -> String {
    let verifier = "v".repeat(50);
    let redirect = "http://127.0.0.1:9/callback";
    let auth = reqwest::Url::parse_with_params(
        &format!("{}/o/oauth2/v2/auth", h.url()),
        &[
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("response_type", "code"),
            ("scope", &scopes.join(" ")),
            (
                "code_challenge",
                &switchboard_sandbox::oauth::s256_challenge(&verifier),
            ),
            ("code_challenge_method", "S256"),
            ("state", "st"),
        ],
    )
    .expect("authorize url");
    let html = client()
        .get(auth)
        .send()
        .await
        .expect("consent page")
        .text()
        .await
        .expect("html");
    let req = html
        .split("name=\"request\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("consent page: {html}"))
        .to_string();
    let resp = client()
        .post(format!("{}{decision_path}", h.url()))
        .form(&[("request", req.as_str()), ("decision", "approve")])
        .send()
        .await
        .expect("approve");
    let back = reqwest::Url::parse(resp.headers()["location"].to_str().expect("location"))
        .expect("redirect");
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("client_id", client_id),
        ("client_secret", client_secret),
        ("code_verifier", verifier.as_str()),
    ];
    let (_, t) = json_of(
        client()
            .post(format!("{}/token", h.url()))
            .form(&form)
            .send()
            .await
            .expect("token"),
    )
    .await;
    t["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {t}"))
        .to_string()
}

async fn google(
    h: &SandboxHandle,
    token: &str,
    method: reqwest::Method,
    path: impl AsRef<str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = client()
        .request(method, format!("{}{}", h.url(), path.as_ref()))
        .bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    json_of(r.send().await.expect("send")).await
}

fn check_google(doc: &Discovery, what: &str, v: &Value, schema: &str) {
    let mut p = Vec::new();
    doc.check_json(what, v, &json!({ "$ref": schema }), None, &mut p);
    assert_fits(what, p);
}

/// Google's error envelope: `{"error": {"code", "message", "errors": [{"domain", "reason", "message"}], "status"}}`.
fn google_error(e: &Value, code: u16) -> (&str, &str) {
    assert_eq!(e["error"]["code"], code, "Google's error envelope: {e}");
    assert!(
        e["error"]["message"].is_string() && e["error"]["errors"][0]["domain"].is_string(),
        "Google's error envelope: {e}"
    );
    (
        e["error"]["errors"][0]["reason"]
            .as_str()
            .unwrap_or_default(),
        e["error"]["status"].as_str().unwrap_or_default(),
    )
}

#[tokio::test]
async fn the_gmail_sandboxs_answers_have_gmails_shapes_and_refusals() {
    let doc = Discovery::load("google/gmail-v1-subset.json");
    let h = SandboxServer::start(gmail::GmailSandbox::default())
        .await
        .expect("start the Gmail sandbox");
    let tok = google_token(
        &h,
        gmail::CLIENT_ID,
        gmail::CLIENT_SECRET,
        gmail::DECISION_PATH,
        &[gmail::MODIFY],
    )
    .await;
    let u = "/gmail/v1/users/me";
    let get = |path: String| google(&h, &tok, reqwest::Method::GET, path, None);
    let (_, list) = get(format!("{u}/messages?maxResults=5")).await;
    check_google(&doc, "messages.list", &list, "ListMessagesResponse");
    let id = list["messages"][0]["id"]
        .as_str()
        .expect("a message")
        .to_string();
    for format in ["full", "metadata", "minimal", "raw"] {
        let (_, m) = get(format!("{u}/messages/{id}?format={format}")).await;
        check_google(
            &doc,
            &format!("messages.get format={format}"),
            &m,
            "Message",
        );
    }
    let (_, full) = get(format!("{u}/messages/{id}?format=full")).await;
    let mut altered = full.clone();
    altered["colour"] = json!("red");
    altered["sizeEstimate"] = json!("big");
    let mut p = Vec::new();
    doc.check_json(
        "altered",
        &altered,
        &json!({ "$ref": "Message" }),
        None,
        &mut p,
    );
    assert!(
        p.iter().any(|x| x.contains("altered.colour"))
            && p.iter().any(|x| x.contains("altered.sizeEstimate")),
        "the check must catch an unknown field and a wrong type: {p:?}"
    );
    let (_, threads) = get(format!("{u}/threads?q=has:attachment")).await;
    check_google(&doc, "threads.list", &threads, "ListThreadsResponse");
    let tid = threads["threads"][0]["id"]
        .as_str()
        .expect("a thread")
        .to_string();
    let (_, thread) = get(format!("{u}/threads/{tid}")).await;
    check_google(&doc, "threads.get", &thread, "Thread");
    let part = thread["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| {
            m["payload"]["parts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .find(|p| p["body"]["attachmentId"].is_string())
        .expect("an attachment");
    let mid = thread["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| {
            m["payload"]["parts"]
                .as_array()
                .is_some_and(|ps| ps.contains(&part))
        })
        .and_then(|m| m["id"].as_str())
        .expect("its message")
        .to_string();
    let (_, att) = get(format!(
        "{u}/messages/{mid}/attachments/{}",
        part["body"]["attachmentId"].as_str().unwrap_or_default()
    ))
    .await;
    check_google(&doc, "messages.attachments.get", &att, "MessagePartBody");
    let (_, labels) = get(format!("{u}/labels")).await;
    check_google(&doc, "labels.list", &labels, "ListLabelsResponse");
    let raw = "VG86IGFkYUBleGFtcGxlLmNvbQ0KU3ViamVjdDogSGkNCg0KSGVsbG8";
    let (_, draft) = google(
        &h,
        &tok,
        reqwest::Method::POST,
        &format!("{u}/drafts"),
        Some(json!({ "message": { "raw": raw } })),
    )
    .await;
    check_google(&doc, "drafts.create", &draft, "Draft");
    let (_, drafts) = get(format!("{u}/drafts")).await;
    check_google(&doc, "drafts.list", &drafts, "ListDraftsResponse");
    let (_, modified) = google(
        &h,
        &tok,
        reqwest::Method::POST,
        &format!("{u}/messages/{id}/modify"),
        Some(json!({ "addLabelIds": ["STARRED"] })),
    )
    .await;
    check_google(&doc, "messages.modify", &modified, "Message");

    // What the discovery document requires, left out; unknown and mistyped parameters.
    let (s, e) = google(
        &h,
        &tok,
        reqwest::Method::POST,
        &format!("{u}/messages/send"),
        Some(json!({ "threadId": id })),
    )
    .await;
    assert_eq!(
        (s.as_u16(), google_error(&e, 400)),
        (400, ("invalidArgument", "INVALID_ARGUMENT")),
        "messages.send without raw: {e}"
    );
    let (s, e) = google(
        &h,
        &tok,
        reqwest::Method::POST,
        &format!("{u}/drafts/send"),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (s.as_u16(), google_error(&e, 400)),
        (400, ("invalidArgument", "INVALID_ARGUMENT")),
        "drafts.send without id: {e}"
    );
    let (s, e) = get(format!("{u}/messages?colour=red")).await;
    assert_eq!(
        (s.as_u16(), google_error(&e, 400).0),
        (400, "invalidArgument"),
        "an unknown query parameter: {e}"
    );
    let (s, e) = get(format!("{u}/messages?maxResults=many")).await;
    assert_eq!(
        (s.as_u16(), google_error(&e, 400).0),
        (400, "invalidArgument"),
        "a mistyped query parameter: {e}"
    );
    let (s, e) = google(
        &h,
        &tok,
        reqwest::Method::POST,
        &format!("{u}/messages/{id}/modify"),
        Some(json!({ "addLabels": ["STARRED"] })),
    )
    .await;
    assert_eq!(
        (s.as_u16(), google_error(&e, 400).0),
        (400, "invalidArgument"),
        "an unknown body field: {e}"
    );
}

#[tokio::test]
async fn the_calendar_sandboxs_answers_have_calendars_shapes_and_refusals() {
    let doc = Discovery::load("google/calendar-v3-subset.json");
    let h = SandboxServer::start(gcal::GCalSandbox::default())
        .await
        .expect("start the Calendar sandbox");
    let scopes = [
        "https://www.googleapis.com/auth/calendar.events",
        "https://www.googleapis.com/auth/calendar.freebusy",
        "https://www.googleapis.com/auth/calendar.readonly",
    ];
    let tok = google_token(
        &h,
        gcal::CLIENT_ID,
        gcal::CLIENT_SECRET,
        gcal::DECISION_PATH,
        &scopes,
    )
    .await;
    let c = "/calendar/v3";
    let (s, events) = google(
        &h,
        &tok,
        reqwest::Method::GET,
        &format!("{c}/calendars/primary/events?singleEvents=true&orderBy=startTime&maxResults=5"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{events}");
    check_google(&doc, "events.list", &events, "Events");
    let (_, all) = google(
        &h,
        &tok,
        reqwest::Method::GET,
        &format!("{c}/calendars/primary/events?showDeleted=true"),
        None,
    )
    .await;
    check_google(&doc, "events.list (recurring, cancelled)", &all, "Events");
    let eid = events["items"][0]["id"]
        .as_str()
        .expect("an event")
        .to_string();
    let (_, event) = google(
        &h,
        &tok,
        reqwest::Method::GET,
        &format!("{c}/calendars/primary/events/{eid}"),
        None,
    )
    .await;
    check_google(&doc, "events.get", &event, "Event");
    let (_, list) = google(
        &h,
        &tok,
        reqwest::Method::GET,
        &format!("{c}/users/me/calendarList"),
        None,
    )
    .await;
    check_google(&doc, "calendarList.list", &list, "CalendarList");
    let start = events["items"][0]["start"]["dateTime"]
        .as_str()
        .unwrap_or("2030-01-01T09:00:00Z")
        .to_string();
    let (_, busy) = google(&h, &tok, reqwest::Method::POST, &format!("{c}/freeBusy"), Some(json!({ "timeMin": "2020-01-01T00:00:00Z", "timeMax": "2040-01-01T00:00:00Z", "items": [{ "id": "primary" }, { "id": gcal::TEAM_CALENDAR }, { "id": "nobody@example.com" }] }))).await;
    check_google(&doc, "freebusy.query", &busy, "FreeBusyResponse");
    let booking = json!({ "summary": "Demo", "start": { "dateTime": "2031-03-03T14:00:00Z" }, "end": { "dateTime": "2031-03-03T15:00:00Z" }, "attendees": [{ "email": gcal::LEAD }], "conferenceData": { "createRequest": { "requestId": "r1", "conferenceSolutionKey": { "type": "hangoutsMeet" } } } });
    let (s, created) = google(
        &h,
        &tok,
        reqwest::Method::POST,
        &format!("{c}/calendars/primary/events?conferenceDataVersion=1&sendUpdates=all"),
        Some(booking.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{created}");
    check_google(&doc, "events.insert", &created, "Event");
    let (_, patched) = google(
        &h,
        &tok,
        reqwest::Method::PATCH,
        &format!(
            "{c}/calendars/primary/events/{}",
            created["id"].as_str().unwrap_or_default()
        ),
        Some(json!({ "description": "Agenda" })),
    )
    .await;
    check_google(&doc, "events.patch", &patched, "Event");

    // Each field the discovery document requires for events.insert, left out: reason `required`.
    let props = doc.schema("Event")["properties"]
        .as_object()
        .expect("Event properties");
    let required: Vec<&String> = props
        .iter()
        .filter(|(_, p)| {
            p.pointer("/annotations/required")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|m| m == "calendar.events.insert"))
        })
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        required.len(),
        2,
        "Event start and end are required for insert: {required:?}"
    );
    for field in required {
        let mut body = booking.clone();
        body.as_object_mut().expect("object").remove(field);
        let (s, e) = google(
            &h,
            &tok,
            reqwest::Method::POST,
            &format!("{c}/calendars/primary/events"),
            Some(body),
        )
        .await;
        assert_eq!(
            (s.as_u16(), google_error(&e, 400).0),
            (400, "required"),
            "events.insert without {field}: {e}"
        );
    }
    let (s, e) = google(
        &h,
        &tok,
        reqwest::Method::POST,
        &format!("{c}/freeBusy"),
        Some(json!({ "timeMax": start })),
    )
    .await;
    assert_eq!(
        (s.as_u16(), google_error(&e, 400).0),
        (400, "required"),
        "freeBusy without timeMin: {e}"
    );
    let (s, e) = google(
        &h,
        &tok,
        reqwest::Method::GET,
        &format!("{c}/calendars/primary/events?maxResults=lots"),
        None,
    )
    .await;
    assert_eq!(
        (s.as_u16(), google_error(&e, 400).0),
        (400, "invalid"),
        "a mistyped query parameter: {e}"
    );
    let (s, e) = google(
        &h,
        &tok,
        reqwest::Method::GET,
        &format!("{c}/calendars/primary/events?sendUpdates=all&timeMin=yesterday"),
        None,
    )
    .await;
    assert_eq!(s.as_u16(), 400, "a time that is not RFC 3339: {e}");
    google_error(&e, 400);
}

// ---------------------------------------------------------------- Slack

async fn slack_call(h: &SandboxHandle, method: &str, body: Value) -> Value {
    json_of(
        client()
            .post(format!("{}/api/{method}", h.url()))
            .bearer_auth(slack::BOT_TOKEN)
            .json(&body)
            .send()
            .await
            .expect("send"),
    )
    .await
    .1
}

#[tokio::test]
async fn the_slack_sandbox_answers_a_missing_required_argument_with_a_documented_error() {
    let doc = Swagger::load("slack/web-api-subset.json");
    let raw = spec::load("slack/web-api-subset.json");
    let h = SandboxServer::start(slack::SlackSandbox::default())
        .await
        .expect("start the Slack sandbox");
    let posted = slack_call(
        &h,
        "chat.postMessage",
        json!({ "channel": slack::GENERAL, "text": "to edit" }),
    )
    .await;
    let ts = posted["ts"].as_str().expect("posted").to_string();
    // A valid call per method with required arguments (the bot token goes in the header).
    let valid = [
        (
            "chat.postMessage",
            json!({ "channel": slack::CUSTOMER_FEEDBACK, "text": "hello" }),
        ),
        (
            "chat.update",
            json!({ "channel": slack::GENERAL, "ts": ts, "text": "edited" }),
        ),
        (
            "users.lookupByEmail",
            json!({ "email": "omar.haddad@acme-demo.example" }),
        ),
    ];
    let served_without_required = [
        "chat.delete",
        "conversations.list",
        "conversations.history",
        "conversations.replies",
        "conversations.open",
        "conversations.info",
        "users.list",
        "users.info",
        "auth.test",
    ];
    let mut checked = 0;
    for (path, item) in raw["paths"].as_object().expect("paths") {
        let method = path.trim_start_matches('/');
        for (_, op) in item.as_object().expect("path item") {
            let required: Vec<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["required"] == true && p["name"] != "token")
                .filter_map(|p| p["name"].as_str())
                .collect();
            if required.is_empty() || method.starts_with("oauth.") || method == "auth.revoke" {
                assert!(
                    required.is_empty()
                        || method.starts_with("oauth.")
                        || served_without_required.contains(&method),
                    "{method}"
                );
                continue;
            }
            let (_, body) = valid.iter().find(|(m, _)| *m == method).unwrap_or_else(|| {
                panic!("{method} has required arguments {required:?}: add a valid call for it")
            });
            let ok = slack_call(&h, method, body.clone()).await;
            assert_eq!(
                ok["ok"], true,
                "{method}: the valid call should succeed: {ok}"
            );
            let documented = doc.documented_errors(method);
            for r in required {
                let mut without = body.clone();
                without.as_object_mut().expect("object").remove(r);
                let e = slack_call(&h, method, without).await;
                let code = e["error"].as_str().unwrap_or_default();
                // `invalid_arguments` is Slack's code for a schema-invalid call, newer than the spec.
                assert!(
                    e["ok"] == false
                        && (documented.iter().any(|d| d == code) || code == "invalid_arguments"),
                    "{method} without {r} should fail with a documented error ({documented:?}): {e}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(
        checked, 4,
        "channel (post, update), ts (update) and email (lookup) were each left out once"
    );
}

#[test]
fn the_slack_sandbox_holds_each_method_to_the_catalogs_tier() {
    let cfg = slack::SlackConfig::default();
    let slack = switchboard_connectors::catalog()
        .get("slack")
        .expect("slack is in the catalog");
    let mut methods = 0;
    for limit in slack.rate_limits.iter().filter(|l| !l.methods.is_empty()) {
        for m in &limit.methods {
            if m == "users.list" {
                continue; // not simulated: no action lists every person
            }
            let (max, per) = cfg.limit_for(m);
            assert_eq!(
                (u64::from(max), per.as_secs()),
                (limit.requests, limit.per_seconds),
                "{m}: the sandbox and the catalog's {:?} disagree",
                limit.description
            );
            methods += 1;
        }
    }
    assert!(
        methods >= 10,
        "every simulated method with a tier was compared ({methods})"
    );
}
