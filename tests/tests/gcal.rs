//! Journey: lead follow-up on the simulated Google Calendar. A person connects the calendar
//! through Google's OAuth consent (read-only scopes), grants an agent read; the agent finds a
//! free hour tomorrow across the user's and the team's calendars. Booking is refused without a
//! write grant and without the events scope; after connecting again with `calendar.events` and
//! granting write, the agent books the meeting with the lead in that slot, sees it in
//! list_events (a week of events page by page, a page token whenever more remain) and reads it
//! back, changes it, and cancelling needs the delete grant. Real keychain, SQLite and loopback
//! HTTP.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_sandbox::gcal::{self, LEAD, TEAM_CALENDAR};
use switchboard_tests::{Gateway, client};

const EVENTS: &str = "https://www.googleapis.com/auth/calendar.events";
const EVENTS_RO: &str = "https://www.googleapis.com/auth/calendar.events.readonly";
const FREEBUSY: &str = "https://www.googleapis.com/auth/calendar.freebusy";

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("<no code>")
}

/// Drives the sandbox's Google consent page like a browser (approve) and lands on the loopback
/// callback; returns the connected connection's id.
async fn connect(gw: &Gateway, body: Value) -> Value {
    let (status, started) = gw.control(Method::POST, "/connections/oauth", Some(body)).await;
    assert_eq!(status, 200, "starting the OAuth connection should work: {started}");
    let authorize_url = started["authorize_url"].as_str().expect("authorize_url").to_string();
    assert!(authorize_url.contains("/o/oauth2/v2/auth?"), "Google's authorize path on the sandbox: {authorize_url}");
    let http = client();
    let html = http.get(&authorize_url).send().await.expect("consent page").text().await.expect("page");
    let request = html.split("name=\"request\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_else(|| panic!("consent page: {html}")).to_string();
    let decide = reqwest::Url::parse(&authorize_url).expect("url").join(gcal::DECISION_PATH).expect("decision url");
    let resp = http.post(decide).form(&[("request", request.as_str()), ("decision", "approve")]).send().await.expect("decision");
    let back = resp.headers().get("location").and_then(|l| l.to_str().ok()).expect("redirect back").to_string();
    let page = http.get(&back).send().await.expect("the loopback listener answers");
    assert_eq!(page.status().as_u16(), 200, "the callback should succeed");
    let flow = started["flow_id"].as_str().expect("flow id");
    let (_, done) = gw.control(Method::GET, &format!("/connections/oauth/{flow}?wait=5"), None).await;
    assert_eq!(done["status"], "connected", "{done}");
    done["connection"].clone()
}

fn now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs()).expect("secs")
}

/// `YYYY-MM-DDTHH:MM:SS-03:00` for a UTC instant, in the demo user's zone (UTC-3).
fn local(ts: i64) -> String {
    let l = ts - 3 * 3600;
    let (day, secs) = (l.div_euclid(86_400), l.rem_euclid(86_400));
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}-03:00", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Parses the `…Z` times freeBusy answers with (no fractions).
fn utc(s: &str) -> i64 {
    let n = |a: usize, b: usize| s[a..b].parse::<i64>().expect("digits");
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    days * 86_400 + n(11, 13) * 3600 + n(14, 16) * 60 + n(17, 19)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_books_a_meeting_with_a_lead_in_a_free_slot_within_its_grants() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;

    // Connect read-only (the catalog's read-only set, which includes calendar.freebusy).
    let conn = connect(&gw, json!({ "provider": "google-calendar-sandbox", "label": "Alex", "open_browser": false })).await;
    let read_conn = conn["id"].as_str().expect("id").to_string();
    let scopes: Vec<&str> = conn["granted_scopes"].as_array().expect("scopes").iter().filter_map(Value::as_str).collect();
    assert!(scopes.contains(&EVENTS_RO) && scopes.contains(&FREEBUSY) && !scopes.contains(&EVENTS), "read-only by default: {conn}");

    let (_, agent) = gw.control(Method::POST, "/agents", Some(json!({ "name": "sdr-bot" }))).await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    let call = |tool: &str, connection: &str, input: Value| {
        let (gw, token, tool, connection) = (&gw, token.clone(), tool.to_string(), connection.to_string());
        async move { gw.agent(&token, Method::POST, &format!("/tools/{tool}"), Some(json!({ "connection": connection, "input": input }))).await }
    };

    // Tomorrow's working hours (the next working day, 09:00-18:00 in the user's zone).
    let mut day = (now() - 3 * 3600).div_euclid(86_400) + 1;
    while !(1..=5).contains(&(day + 4).rem_euclid(7)) {
        day += 1;
    }
    let (open, close) = (day * 86_400 + 12 * 3600, day * 86_400 + 21 * 3600);
    let window = json!({ "time_min": local(open), "time_max": local(close), "calendars": ["primary", TEAM_CALENDAR] });
    let (status, body) = call("google-calendar_free_busy", &read_conn, window.clone()).await;
    assert_eq!((status, code(&body)), (403, "not_granted"), "a new agent holds nothing: {body}");
    gw.control(Method::POST, "/grants", Some(json!({ "agent": "sdr-bot", "connection": read_conn, "tier": "read" }))).await;
    let (status, body) = call("google-calendar_free_busy", &read_conn, window).await;
    assert_eq!(status, 200, "a granted free/busy read reaches the sandbox: {body}");
    let freebusy_call = body["call_id"].as_str().expect("call id").to_string();
    let mut busy: Vec<(i64, i64)> = Vec::new();
    for cal in ["primary", TEAM_CALENDAR] {
        for b in body["result"]["calendars"][cal]["busy"].as_array().expect("busy list") {
            busy.push((utc(b["start"].as_str().expect("start")), utc(b["end"].as_str().expect("end"))));
        }
    }
    assert!(busy.len() >= 4, "tomorrow has meetings on both calendars: {body}");
    busy.sort_unstable();
    // The first free hour on the half hour.
    let slot = (open..close - 3600)
        .step_by(1800)
        .find(|s| busy.iter().all(|(a, b)| *b <= *s || *a >= s + 3600))
        .expect("a free hour tomorrow");
    let (start, end) = (local(slot), local(slot + 3600));

    // Booking: refused without a write grant, then without the events scope.
    let booking = json!({
        "summary": "Follow-up: reporting demo with Ada Lovelace",
        "start": start, "end": end, "time_zone": "America/Sao_Paulo",
        "attendees": [LEAD], "description": "Booked by the SDR agent after Ada asked for a demo.", "add_meet_link": true,
    });
    let (status, body) = call("google-calendar_create_event", &read_conn, booking.clone()).await;
    assert_eq!((status, code(&body)), (403, "not_granted"), "read must not imply write: {body}");
    gw.control(Method::POST, "/grants", Some(json!({ "agent": "sdr-bot", "connection": read_conn, "tier": "write" }))).await;
    let (status, body) = call("google-calendar_create_event", &read_conn, booking.clone()).await;
    assert_eq!((status, code(&body)), (403, "scope_not_granted"), "the read-only connection lacks calendar.events: {body}");

    // Connect again with the events scope; grant write on it; book.
    let conn = connect(&gw, json!({ "provider": "google-calendar-sandbox", "label": "Alex (booking)", "open_browser": false, "scopes": [EVENTS_RO, FREEBUSY, EVENTS] })).await;
    let write_conn = conn["id"].as_str().expect("id").to_string();
    assert!(conn["granted_scopes"].as_array().expect("scopes").iter().any(|s| s == EVENTS), "{conn}");
    gw.control(Method::POST, "/grants", Some(json!({ "agent": "sdr-bot", "connection": write_conn, "tier": "read" }))).await;
    gw.control(Method::POST, "/grants", Some(json!({ "agent": "sdr-bot", "connection": write_conn, "tier": "write" }))).await;
    let (status, body) = call("google-calendar_create_event", &write_conn, json!({ "summary": "x", "start": end, "end": start })).await;
    assert_eq!(status, 400, "an end before the start is refused before anything is sent: {body}");
    let (status, body) = call("google-calendar_create_event", &write_conn, booking).await;
    assert_eq!(status, 200, "with the grant and the scope the meeting is booked: {body}");
    let booked_call = body["call_id"].as_str().expect("call id").to_string();
    let event = body["result"].clone();
    let event_id = event["id"].as_str().expect("event id").to_string();
    assert_eq!(event["start"]["dateTime"], start.as_str(), "booked in the free slot: {event}");
    assert!(event["attendees"].as_array().expect("attendees").iter().any(|a| a["email"] == LEAD && a["responseStatus"] == "needsAction"), "{event}");
    assert!(event["hangoutLink"].as_str().is_some_and(|l| l.starts_with("https://meet.google.com/")), "{event}");

    let (status, body) = call("google-calendar_list_events", &write_conn, json!({ "time_min": local(open), "time_max": local(close), "q": "Ada" })).await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> = body["result"]["items"].as_array().expect("items").iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids, [event_id.as_str()], "the booking shows in tomorrow's events: {body}");
    let (status, body) = call("google-calendar_list_events", &read_conn, json!({ "calendar_id": TEAM_CALENDAR, "time_min": local(open), "time_max": local(close) })).await;
    assert_eq!(status, 200, "the team calendar's address is a valid calendar id in the path: {body}");
    let (status, body) = call("google-calendar_get_event", &read_conn, json!({ "event_id": event_id })).await;
    assert_eq!((status, body["result"]["summary"].as_str()), (200, Some("Follow-up: reporting demo with Ada Lovelace")), "the booking reads back: {body}");
    // A week of events, three at a time: every page but the last gives a token, and no event repeats.
    let week = json!({ "time_min": local(open - 86_400), "time_max": local(open + 6 * 86_400) });
    let (_, whole) = call("google-calendar_list_events", &read_conn, week.clone()).await;
    let all = whole["result"]["items"].as_array().map(Vec::len).unwrap_or(0);
    let (mut seen, mut token, mut pages) = (Vec::<String>::new(), None::<String>, 0);
    loop {
        let mut input = week.clone();
        input["max_results"] = json!(3);
        if let Some(t) = &token {
            input["page_token"] = json!(t);
        }
        let (status, body) = call("google-calendar_list_events", &read_conn, input).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        for e in body["result"]["items"].as_array().expect("items") {
            let id = e["id"].as_str().expect("id").to_string();
            assert!(!seen.contains(&id), "{id} came on two pages");
            seen.push(id);
        }
        match body["result"]["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
        assert!(pages < 50, "paging never ended");
    }
    assert!(all > 3 && pages > 1 && seen.len() == all, "paging by 3 gives the week's {all} events: {} in {pages} pages", seen.len());

    // Moving it is a write; cancelling it is the delete tier.
    let (status, body) = call("google-calendar_update_event", &write_conn, json!({ "event_id": event_id, "description": "Agenda: reporting module, pricing." })).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call("google-calendar_cancel_event", &write_conn, json!({ "event_id": event_id })).await;
    assert_eq!((status, code(&body)), (403, "not_granted"), "write must not imply delete: {body}");
    gw.control(Method::POST, "/grants", Some(json!({ "agent": "sdr-bot", "connection": write_conn, "tier": "delete" }))).await;
    let (status, body) = call("google-calendar_cancel_event", &write_conn, json!({ "event_id": event_id })).await;
    assert_eq!(status, 200, "with the delete grant the meeting is cancelled: {body}");
    let (_, body) = call("google-calendar_list_events", &write_conn, json!({ "time_min": local(open), "time_max": local(close), "q": "Ada" })).await;
    assert_eq!(body["result"]["items"].as_array().map(Vec::len), Some(0), "a cancelled meeting is gone from the list: {body}");
    let (status, body) = call("google-calendar_cancel_event", &write_conn, json!({ "event_id": event_id })).await;
    assert_eq!((status, code(&body)), (502, "provider_error"), "cancelling twice is Google's 410: {body}");

    // Audit: decisions and outcomes of the reads and the booking; the denials.
    for id in [&freebusy_call, &booked_call] {
        let (_, page) = gw.control(Method::GET, &format!("/audit?text={id}&limit=10"), None).await;
        let rows: Vec<(&str, &str)> = page["rows"].as_array().expect("rows").iter().map(|r| (r["decision"].as_str().unwrap_or(""), r["outcome"].as_str().unwrap_or(""))).collect();
        assert!(rows.contains(&("allow", "started")) && rows.contains(&("none", "ok")), "{id}: {rows:?}");
    }
    let (_, page) = gw.control(Method::GET, "/audit?decision=deny&limit=50", None).await;
    let outcomes: Vec<&str> = page["rows"].as_array().expect("rows").iter().filter_map(|r| r["outcome"].as_str()).collect();
    assert!(outcomes.contains(&"not_granted") && outcomes.contains(&"scope_not_granted"), "{outcomes:?}");
    let (_, verify) = gw.control(Method::POST, "/audit/verify", None).await;
    assert_eq!(verify["intact"], true, "{verify}");
    gw.stop().await;
}
