//! The simulated Google Calendar over real HTTP: Google's OAuth at its paths, time filtering,
//! recurring expansion, paging, freeBusy, writes, Google's error bodies, scope refusal and the
//! per-user rate limit.

use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};
use switchboard_sandbox::gcal::{self, GCalConfig, GCalSandbox, LEAD, OWNER, TEAM_CALENDAR};
use switchboard_sandbox::oauth::s256_challenge;
use switchboard_sandbox::{SandboxHandle, SandboxServer};

const RO: &str = "https://www.googleapis.com/auth/calendar.events.readonly";
const FB: &str = "https://www.googleapis.com/auth/calendar.freebusy";
const RW: &str = "https://www.googleapis.com/auth/calendar.events";

async fn start() -> SandboxHandle {
    SandboxServer::start(GCalSandbox::default()).await.expect("sandbox starts")
}

/// Runs Google's consent flow like a browser and exchanges the code: the access token.
async fn token(h: &SandboxHandle, scopes: &[&str]) -> String {
    let http = Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let verifier = "v".repeat(50);
    let redirect = "http://127.0.0.1:9/callback";
    let page = http
        .get(format!("{}/o/oauth2/v2/auth", h.url()))
        .query(&[
            ("client_id", gcal::CLIENT_ID),
            ("redirect_uri", redirect),
            ("response_type", "code"),
            ("scope", &scopes.join(" ")),
            ("code_challenge", &s256_challenge(&verifier)),
            ("code_challenge_method", "S256"),
            ("state", "st"),
            ("access_type", "offline"),
        ])
        .send()
        .await
        .expect("consent page")
        .text()
        .await
        .expect("page");
    let request = page.split("name=\"request\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_else(|| panic!("consent page: {page}")).to_string();
    let resp = http.post(format!("{}{}", h.url(), gcal::DECISION_PATH)).form(&[("request", request.as_str()), ("decision", "approve")]).send().await.expect("decision");
    let loc = reqwest::Url::parse(resp.headers()["location"].to_str().expect("location")).expect("url");
    let code = loc.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).expect("code");
    let t: Value = http
        .post(format!("{}/token", h.url()))
        .form(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", redirect), ("client_id", gcal::CLIENT_ID), ("client_secret", gcal::CLIENT_SECRET), ("code_verifier", &verifier)])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    assert_eq!(t["token_type"], "Bearer", "{t}");
    assert_eq!(t["scope"], scopes.join(" "), "Google echoes the granted scopes space-separated: {t}");
    assert!(t["refresh_token"].as_str().is_some_and(|r| r.starts_with("1//")), "{t}");
    t["access_token"].as_str().expect("access token").to_string()
}

async fn get(h: &SandboxHandle, tok: &str, path: &str, q: &[(&str, &str)]) -> (u16, Value) {
    let r = Client::new().get(format!("{}/calendar/v3{path}", h.url())).bearer_auth(tok).query(q).send().await.expect("request");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn send(h: &SandboxHandle, tok: &str, method: reqwest::Method, path: &str, q: &[(&str, &str)], body: Option<Value>) -> (u16, Value) {
    let mut rb = Client::new().request(method, format!("{}/calendar/v3{path}", h.url())).bearer_auth(tok).query(q);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("request");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn reason(v: &Value) -> &str {
    v.pointer("/error/errors/0/reason").and_then(Value::as_str).unwrap_or("<none>")
}

/// UTC instant of `days` working days from today at local `hour` (sandbox zone, UTC-3).
fn now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs()).expect("secs")
}

fn rfc(ts: i64) -> String {
    // A minimal UTC formatter for the test's own windows.
    let (day, secs) = (ts.div_euclid(86_400), ts.rem_euclid(86_400));
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Local midnight (UTC-3) of the next working day after today, as a UTC instant.
fn next_working_day() -> i64 {
    let off = -3 * 3600;
    let mut day = (now() + off).div_euclid(86_400) + 1;
    while !(1..=5).contains(&(day + 4).rem_euclid(7)) {
        day += 1;
    }
    day * 86_400 - off
}

#[tokio::test]
async fn events_are_listed_by_time_with_recurring_expansion_and_paging() {
    let h = start().await;
    let tok = token(&h, &[RO]).await;
    let d0 = next_working_day();
    let (min, max) = (rfc(d0), rfc(d0 + 86_400));
    let (status, page) = get(&h, &tok, "/calendars/primary/events", &[("timeMin", &min), ("timeMax", &max), ("singleEvents", "true"), ("orderBy", "startTime")]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["kind"], "calendar#events");
    assert_eq!(page["timeZone"], "America/Sao_Paulo");
    let titles: Vec<&str> = page["items"].as_array().expect("items").iter().filter_map(|e| e["summary"].as_str()).collect();
    assert_eq!(titles, ["Daily stand-up", "Pipeline review", "1:1 with Sam", "Customer onboarding: Hopper & Co"], "{page}");
    let standup = &page["items"][0];
    assert_eq!(standup["recurringEventId"], "evt0daily0standup");
    assert!(standup["start"]["dateTime"].as_str().is_some_and(|t| t.ends_with("T09:30:00-03:00")), "{standup}");
    assert!(standup.get("recurrence").is_none(), "an instance carries no recurrence rule");
    let (status, inst) = get(&h, &tok, &format!("/calendars/primary/events/{}", standup["id"].as_str().expect("id")), &[]).await;
    assert_eq!((status, &inst["summary"]), (200, &json!("Daily stand-up")), "an instance id can be read back: {inst}");

    // Without singleEvents the recurring master appears once, with its rule; startTime ordering is refused.
    let (_, page) = get(&h, &tok, "/calendars/primary/events", &[("timeMin", &min), ("timeMax", &max)]).await;
    assert!(page["items"].as_array().expect("items").iter().any(|e| e["recurrence"][0] == "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"), "{page}");
    let (status, e) = get(&h, &tok, "/calendars/primary/events", &[("orderBy", "startTime")]).await;
    assert_eq!((status, reason(&e)), (400, "badRequest"), "{e}");

    // A week of stand-ups, paged two at a time.
    let week = [("timeMin", rfc(d0)), ("timeMax", rfc(d0 + 7 * 86_400)), ("singleEvents", "true".into()), ("q", "stand-up".into()), ("maxResults", "2".into())];
    let mut seen = Vec::new();
    let mut token_q: Option<String> = None;
    for _ in 0..10 {
        let mut q: Vec<(&str, &str)> = week.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(t) = &token_q {
            q.push(("pageToken", t));
        }
        let (status, page) = get(&h, &tok, "/calendars/primary/events", &q).await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|e| e["id"].as_str().unwrap_or_default().to_string()));
        match page["nextPageToken"].as_str() {
            Some(t) => token_q = Some(t.into()),
            None => break,
        }
    }
    seen.dedup();
    assert_eq!(seen.len(), 5, "five weekday stand-ups in any seven days, no duplicates across pages: {seen:?}");

    // The lead's meeting is found by attendee; the cancelled one only with showDeleted.
    let (_, page) = get(&h, &tok, "/calendars/primary/events", &[("q", LEAD)]).await;
    assert_eq!(page["items"][0]["id"], "evt0discovery0ada", "{page}");
    let (_, page) = get(&h, &tok, "/calendars/primary/events", &[("q", "Vendor call")]).await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(0), "{page}");
    let (_, page) = get(&h, &tok, "/calendars/primary/events", &[("q", "Vendor call"), ("showDeleted", "true")]).await;
    assert_eq!(page["items"][0]["status"], "cancelled", "{page}");

    // Errors in Google's shape.
    let (status, e) = get(&h, &tok, "/calendars/primary/events", &[("timeMin", "2026-01-05")]).await;
    assert_eq!((status, e["error"]["code"].as_u64()), (400, Some(400)), "a date is not an RFC 3339 time: {e}");
    let (status, e) = get(&h, &tok, "/calendars/primary/events", &[("timeMin", &max), ("timeMax", &min)]).await;
    assert_eq!((status, reason(&e)), (400, "timeRangeEmpty"), "{e}");
    let (status, e) = get(&h, &tok, "/calendars/primary/events/nosuchevent", &[]).await;
    assert_eq!((status, reason(&e), e["error"]["status"].as_str()), (404, "notFound", Some("NOT_FOUND")), "{e}");
    let (status, e) = get(&h, &tok, "/calendars/nobody@example.com/events", &[]).await;
    assert_eq!(status, 404, "{e}");
    let (status, e) = get(&h, "ya29.wrong", "/calendars/primary/events", &[]).await;
    assert_eq!((status, reason(&e)), (401, "authError"), "{e}");
    h.shutdown().await;
}

#[tokio::test]
async fn free_busy_merges_busy_time_and_needs_a_free_busy_scope() {
    let h = start().await;
    let events_only = token(&h, &[RO]).await;
    let d0 = next_working_day();
    // Working hours 09:00-18:00 local (UTC-3) = 12:00-21:00 UTC.
    let body = json!({ "timeMin": rfc(d0 + 9 * 3600), "timeMax": rfc(d0 + 18 * 3600), "items": [{ "id": "primary" }, { "id": TEAM_CALENDAR }, { "id": "ghost@example.com" }] });
    let (status, e) = send(&h, &events_only, reqwest::Method::POST, "/freeBusy", &[], Some(body.clone())).await;
    assert_eq!((status, reason(&e)), (403, "insufficientPermissions"), "events.readonly does not cover freebusy.query: {e}");
    assert_eq!(e["error"]["details"][0]["reason"], "ACCESS_TOKEN_SCOPE_INSUFFICIENT");
    let tok = token(&h, &[FB]).await;
    let (status, fb) = send(&h, &tok, reqwest::Method::POST, "/freeBusy", &[], Some(body)).await;
    assert_eq!(status, 200, "{fb}");
    let busy = |cal: &str| -> Vec<(String, String)> {
        fb["calendars"][cal]["busy"].as_array().expect("busy").iter().map(|b| (b["start"].as_str().unwrap_or("").into(), b["end"].as_str().unwrap_or("").into())).collect()
    };
    let h_ = |hour: i64, min: i64| rfc(d0 + hour * 3600 + min * 60);
    assert_eq!(
        busy("primary"),
        vec![(h_(9, 30), h_(9, 45)), (h_(11, 0), h_(12, 0)), (h_(13, 0), h_(13, 30)), (h_(16, 0), h_(17, 0))],
        "stand-up, pipeline review, 1:1 and onboarding, in UTC: {fb}"
    );
    assert_eq!(busy(TEAM_CALENDAR), vec![(h_(10, 0), h_(10, 30)), (h_(15, 0), h_(16, 0))]);
    assert_eq!(fb["calendars"]["ghost@example.com"]["errors"][0]["reason"], "notFound");
    let (status, e) = send(&h, &tok, reqwest::Method::POST, "/freeBusy", &[], Some(json!({ "timeMin": h_(10, 0), "timeMax": h_(9, 0), "items": [] }))).await;
    assert_eq!((status, reason(&e)), (400, "timeRangeEmpty"), "{e}");
    h.shutdown().await;
}

#[tokio::test]
async fn events_are_booked_changed_and_cancelled_as_google_does() {
    let h = start().await;
    let ro = token(&h, &[RO]).await;
    let tok = token(&h, &[RW]).await;
    let d0 = next_working_day();
    let slot = |hour: i64| rfc(d0 + hour * 3600);
    let booking = json!({
        "id": "booking0ada0001",
        "summary": "Follow-up: reporting demo",
        "start": { "dateTime": slot(14), "timeZone": "America/Sao_Paulo" },
        "end": { "dateTime": slot(15), "timeZone": "America/Sao_Paulo" },
        "attendees": [{ "email": LEAD }],
        "conferenceData": { "createRequest": { "requestId": "req-1" } },
    });
    let (status, e) = send(&h, &ro, reqwest::Method::POST, "/calendars/primary/events", &[], Some(booking.clone())).await;
    assert_eq!((status, reason(&e)), (403, "insufficientPermissions"), "a read-only token cannot book: {e}");
    let (status, ev) = send(&h, &tok, reqwest::Method::POST, "/calendars/primary/events", &[("sendUpdates", "all"), ("conferenceDataVersion", "1")], Some(booking.clone())).await;
    assert_eq!(status, 200, "{ev}");
    assert_eq!(ev["start"]["dateTime"], format!("{}-03:00", &rfc(d0 + 14 * 3600 - 3 * 3600)[..19]), "times are rendered in the calendar's zone: {ev}");
    assert_eq!(ev["attendees"][0]["email"], OWNER, "the organizer is listed first");
    assert_eq!(ev["attendees"][1], json!({ "email": LEAD, "responseStatus": "needsAction" }));
    assert!(ev["hangoutLink"].as_str().is_some_and(|l| l.starts_with("https://meet.google.com/")), "{ev}");
    let (status, e) = send(&h, &tok, reqwest::Method::POST, "/calendars/primary/events", &[], Some(booking)).await;
    assert_eq!((status, reason(&e)), (409, "duplicate"), "{e}");

    let bad = |start: &str, end: &str| json!({ "summary": "x", "start": { "dateTime": start }, "end": { "dateTime": end } });
    let (status, e) = send(&h, &tok, reqwest::Method::POST, "/calendars/primary/events", &[], Some(bad(&slot(15), &slot(14)))).await;
    assert_eq!((status, reason(&e)), (400, "timeRangeEmpty"), "end before start: {e}");
    let (status, e) = send(&h, &tok, reqwest::Method::POST, "/calendars/primary/events", &[], Some(bad("tomorrow 3pm", &slot(14)))).await;
    assert_eq!((status, reason(&e)), (400, "invalid"), "{e}");
    let (status, e) = send(&h, &tok, reqwest::Method::POST, "/calendars/primary/events", &[], Some(json!({ "summary": "x", "start": { "dateTime": slot(9) } }))).await;
    assert_eq!((status, e["error"]["message"].as_str()), (400, Some("Missing end time.")), "{e}");
    let (status, e) = send(&h, &tok, reqwest::Method::POST, "/calendars/primary/events", &[("sendUpdates", "everyone")], Some(bad(&slot(9), &slot(10)))).await;
    assert_eq!(status, 400, "{e}");
    let (status, e) = send(&h, &tok, reqwest::Method::POST, &format!("/calendars/{TEAM_CALENDAR}/events"), &[], Some(bad(&slot(9), &slot(10)))).await;
    assert_eq!((status, reason(&e)), (403, "requiredAccessLevel"), "the team calendar is read-only for the user: {e}");

    let (status, ev) = send(&h, &tok, reqwest::Method::PATCH, "/calendars/primary/events/booking0ada0001", &[("sendUpdates", "all")], Some(json!({ "end": { "dateTime": slot(16) } }))).await;
    assert_eq!(status, 200, "{ev}");
    assert_eq!((ev["summary"].as_str(), ev["sequence"].as_u64()), (Some("Follow-up: reporting demo"), Some(1)), "a patch keeps the other fields: {ev}");
    let (status, e) = send(&h, &tok, reqwest::Method::PATCH, "/calendars/primary/events/booking0ada0001", &[], Some(json!({ "end": { "dateTime": slot(13) } }))).await;
    assert_eq!((status, reason(&e)), (400, "timeRangeEmpty"), "{e}");

    let (status, _) = send(&h, &tok, reqwest::Method::DELETE, "/calendars/primary/events/booking0ada0001", &[("sendUpdates", "all")], None).await;
    assert_eq!(status, 204);
    let (status, e) = send(&h, &tok, reqwest::Method::DELETE, "/calendars/primary/events/booking0ada0001", &[], None).await;
    assert_eq!((status, reason(&e)), (410, "deleted"), "{e}");
    let (_, page) = get(&h, &tok, "/calendars/primary/events", &[("q", "reporting demo")]).await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(0), "a cancelled event is hidden by default: {page}");
    let (_, page) = get(&h, &tok, "/calendars/primary/events", &[("q", "reporting demo"), ("showDeleted", "true")]).await;
    assert_eq!(page["items"][0]["status"], "cancelled", "{page}");
    h.shutdown().await;
}

#[tokio::test]
async fn the_per_user_limit_answers_429_rate_limit_exceeded() {
    let h = SandboxServer::start(GCalSandbox::new(GCalConfig::default().with_rate_limit(3, Duration::from_secs(60)))).await.expect("start");
    let tok = token(&h, &[RO]).await;
    for _ in 0..3 {
        assert_eq!(get(&h, &tok, "/calendars/primary/events", &[]).await.0, 200);
    }
    let (status, e) = get(&h, &tok, "/calendars/primary/events", &[]).await;
    assert_eq!((status, reason(&e)), (429, "rateLimitExceeded"), "{e}");
    assert_eq!(e["error"]["errors"][0]["domain"], "usageLimits");
    assert_eq!(h.rate_limited_count(), 1);
    h.shutdown().await;
}
