//! Google Calendar v3, simulated: Google's OAuth (authorize, token, revoke at the real paths),
//! `events` list / get / insert / patch / update / delete and `freeBusy` under `/calendar/v3`,
//! with `pageToken` paging, recurring events expanded by `singleEvents=true`, Google's JSON error
//! bodies (`{"error": {"code", "message", "errors": [{"domain", "reason", "message"}], "status"}}`)
//! and the per-user limit (600 requests per minute for projects created from 2026-05-01, a
//! sliding window) answered with 429 `rateLimitExceeded`.
//!
//! Seeded data, relative to today in the demo user's time zone: the user's primary calendar
//! (`alex.rivera@northwind-demo.example`) holds a weekday stand-up (one recurring event), a work
//! week of meetings with free slots between them, a discovery call with the lead
//! `ada.lovelace@example.com`, an all-day conference and one cancelled meeting; the shared team
//! calendar (`team@northwind-demo.example`, read-only for the user) has its own meetings for
//! `freeBusy`.
//!
//! Time zones: the sandbox knows one zone, the demo user's ([`GCalConfig::time_zone`], a fixed
//! UTC offset with no daylight saving), plus `UTC`. A `dateTime` with an explicit offset is
//! accepted with any `timeZone` label; one without an offset must name one of those two zones.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::{Map, Value, json};

use crate::oauth::{AccessCheck, OAuthClient, OAuthConfig, OAuthServer, ScopeInfo};
use crate::ratelimit::SlidingWindow;
use crate::{SandboxContext, SimulatedProvider, Stats};

/// Client id of the sandbox's registered OAuth app (a Google "Desktop app" client).
pub const CLIENT_ID: &str = "000000000000-sandbox0calendar.apps.googleusercontent.com";
/// Client secret of that desktop client (Google does not treat it as confidential; it is sent).
pub const CLIENT_SECRET: &str = "GOCSPX-sandbox-calendar-desktop";
/// The demo user: owner of the primary calendar.
pub const OWNER: &str = "alex.rivera@northwind-demo.example";
/// The shared team calendar the user can read (for `freeBusy`).
pub const TEAM_CALENDAR: &str = "team@northwind-demo.example";
/// The lead with a seeded discovery call (also a HubSpot sandbox contact).
pub const LEAD: &str = "ada.lovelace@example.com";
/// Path the consent form posts to.
pub const DECISION_PATH: &str = "/o/oauth2/v2/auth/decision";

const S: &str = "https://www.googleapis.com/auth/";

/// Google Calendar's scopes (the discovery document's list), with what each lets an app do.
pub const SCOPES: &[ScopeInfo] = &[
    ScopeInfo { name: "https://www.googleapis.com/auth/calendar", description: "See, edit, share and permanently delete all the calendars you can access." },
    ScopeInfo { name: "https://www.googleapis.com/auth/calendar.readonly", description: "See and download any calendar you can access." },
    ScopeInfo { name: "https://www.googleapis.com/auth/calendar.events", description: "View and edit events on all your calendars." },
    ScopeInfo { name: "https://www.googleapis.com/auth/calendar.events.readonly", description: "View events on all your calendars." },
    ScopeInfo { name: "https://www.googleapis.com/auth/calendar.events.owned", description: "See, create, change and delete events on calendars you own." },
    ScopeInfo { name: "https://www.googleapis.com/auth/calendar.events.owned.readonly", description: "See the events on calendars you own." },
    ScopeInfo { name: "https://www.googleapis.com/auth/calendar.events.freebusy", description: "See the availability on calendars you can access." },
    ScopeInfo { name: "https://www.googleapis.com/auth/calendar.freebusy", description: "View your availability in your calendars." },
    ScopeInfo { name: "https://www.googleapis.com/auth/calendar.calendarlist", description: "See, add and remove calendars you're subscribed to." },
    ScopeInfo { name: "https://www.googleapis.com/auth/calendar.calendarlist.readonly", description: "See the list of calendars you're subscribed to." },
    ScopeInfo { name: "https://www.googleapis.com/auth/calendar.app.created", description: "Make secondary calendars and see, create, change and delete their events." },
];

/// Scopes that allow `events.list` / `events.get` (from the discovery document).
const READ_SCOPES: &[&str] = &["calendar", "calendar.readonly", "calendar.events", "calendar.events.readonly", "calendar.events.owned", "calendar.events.owned.readonly", "calendar.events.freebusy", "calendar.app.created"];
/// Scopes that allow `events.insert` / `patch` / `update` / `delete`.
const WRITE_SCOPES: &[&str] = &["calendar", "calendar.events", "calendar.events.owned", "calendar.app.created"];
/// Scopes that allow `freebusy.query`.
const FREEBUSY_SCOPES: &[&str] = &["calendar", "calendar.readonly", "calendar.freebusy", "calendar.events.freebusy"];
/// Scopes that allow `calendarList.list`.
const CALENDARLIST_SCOPES: &[&str] = &["calendar", "calendar.readonly", "calendar.calendarlist", "calendar.calendarlist.readonly"];

/// Rules of the simulated Google Calendar.
#[derive(Debug, Clone)]
pub struct GCalConfig {
    /// The demo user's IANA zone name (shown on calendars and seeded events).
    pub time_zone: String,
    /// Its UTC offset in minutes (the zone must have no daylight saving).
    pub utc_offset_minutes: i32,
    /// Requests per user per window (Google: 600 per minute for projects new from 2026-05-01).
    pub rate_limit_max: u32,
    /// Window length.
    pub rate_limit_interval: Duration,
    /// Access-token lifetime (Google: about an hour).
    pub access_token_ttl: Duration,
}

impl Default for GCalConfig {
    fn default() -> Self {
        Self {
            time_zone: "America/Sao_Paulo".into(),
            utc_offset_minutes: -180,
            rate_limit_max: 600,
            rate_limit_interval: Duration::from_secs(60),
            access_token_ttl: Duration::from_secs(3600),
        }
    }
}

impl GCalConfig {
    /// The same rules with a different per-user limit.
    pub fn with_rate_limit(mut self, max: u32, interval: Duration) -> Self {
        self.rate_limit_max = max;
        self.rate_limit_interval = interval;
        self
    }
}

/// The simulated Google Calendar (`google-calendar-sandbox`).
#[derive(Debug, Clone, Default)]
pub struct GCalSandbox {
    /// Its rules.
    pub config: GCalConfig,
}

impl GCalSandbox {
    /// A simulated Google Calendar with these rules.
    pub fn new(config: GCalConfig) -> Self {
        Self { config }
    }
}

#[derive(Debug, Clone)]
struct Event {
    calendar: String,
    /// The resource as Google renders it (start/end already normalised).
    json: Value,
    start: i64,
    end: i64,
    /// `Some((weekdays, time-of-day offsets))` for a weekly recurring master.
    weekly: Option<Vec<u32>>,
    seq: u64,
}

struct Shared {
    oauth: OAuthServer,
    limiter: SlidingWindow,
    cfg: GCalConfig,
    events: Mutex<Vec<Event>>,
    next_seq: Mutex<u64>,
    stats: Arc<Stats>,
}

type St = State<Arc<Shared>>;

impl SimulatedProvider for GCalSandbox {
    fn id(&self) -> &'static str {
        "google-calendar-sandbox"
    }

    fn registered_client(&self) -> Option<OAuthClient> {
        Some(OAuthClient { client_id: CLIENT_ID.into(), client_secret: Some(CLIENT_SECRET.into()) })
    }

    fn router(&self, ctx: SandboxContext) -> Router {
        let c = &self.config;
        let oauth = OAuthServer::new(OAuthConfig {
            provider_name: "Google (sandbox)".into(),
            clients: vec![OAuthClient { client_id: CLIENT_ID.into(), client_secret: Some(CLIENT_SECRET.into()) }],
            require_client_secret: true,
            scopes: SCOPES.to_vec(),
            loopback_allowed: true,
            loopback_refused_message: String::new(),
            https_redirects: Vec::new(),
            decision_path: DECISION_PATH.into(),
            code_ttl: Duration::from_secs(600),
            access_token_ttl: c.access_token_ttl,
            access_token_prefix: "ya29.sbx-".into(),
            refresh_token_prefix: "1//sbx-".into(),
        });
        let events = seed(c, now_secs());
        let seq = events.len() as u64 + 1;
        let shared = Arc::new(Shared {
            oauth,
            limiter: SlidingWindow::new(c.rate_limit_max, c.rate_limit_interval),
            cfg: c.clone(),
            events: Mutex::new(events),
            next_seq: Mutex::new(seq),
            stats: ctx.stats,
        });
        Router::new()
            .route("/o/oauth2/v2/auth", get(authorize))
            .route(DECISION_PATH, post(decide))
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .route("/calendar/v3/users/me/calendarList", get(calendar_list))
            .route("/calendar/v3/calendars/{calendar}/events", get(list_events).post(insert_event))
            .route(
                "/calendar/v3/calendars/{calendar}/events/{event}",
                get(get_event).patch(patch_event).put(update_event).delete(delete_event),
            )
            .route("/calendar/v3/freeBusy", post(free_busy))
            .with_state(shared)
    }
}

// ---------------------------------------------------------------- time (RFC 3339, fixed offsets)

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// 0 = Sunday … 6 = Saturday.
fn weekday(day: i64) -> u32 {
    u32::try_from((day + 4).rem_euclid(7)).unwrap_or(0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn digits(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// `YYYY-MM-DD` → days since the epoch.
fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&s[0..4])?, digits(&s[5..7])?, digits(&s[8..10])?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(i64::from(y), m) {
        return None;
    }
    Some(days_from_civil(i64::from(y), m, d))
}

/// `YYYY-MM-DDTHH:MM:SS[.frac][Z|±HH:MM]` → (local seconds since the epoch, offset minutes if given).
fn parse_datetime(s: &str) -> Option<(i64, Option<i32>)> {
    if s.len() < 19 || !s.is_char_boundary(19) {
        return None;
    }
    let day = parse_date(&s[..10])?;
    let b = s.as_bytes();
    if !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, se) = (digits(&s[11..13])?, digits(&s[14..16])?, digits(&s[17..19])?);
    if h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let offset = match rest {
        "" => None,
        "Z" | "z" => Some(0),
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && &o[3..4] == ":" => {
            let (oh, om) = (digits(&o[1..3])?, digits(&o[4..6])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let v = i32::try_from(oh * 60 + om).ok()?;
            Some(if o.starts_with('-') { -v } else { v })
        }
        _ => return None,
    };
    Some((day * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(se), offset))
}

/// An RFC 3339 instant with an offset (query parameters need one) → UTC seconds.
fn parse_instant(s: &str) -> Option<i64> {
    match parse_datetime(s)? {
        (local, Some(off)) => Some(local - i64::from(off) * 60),
        (_, None) => None,
    }
}

fn format_at(ts: i64, offset_min: i32) -> String {
    let local = ts + i64::from(offset_min) * 60;
    let (day, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(day);
    let base = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60);
    if offset_min == 0 {
        return format!("{base}Z");
    }
    let sign = if offset_min < 0 { '-' } else { '+' };
    let a = offset_min.unsigned_abs();
    format!("{base}{sign}{:02}:{:02}", a / 60, a % 60)
}

fn format_date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

fn format_utc_millis(ts: i64) -> String {
    format!("{}.000Z", format_at(ts, 0).trim_end_matches('Z'))
}

// ---------------------------------------------------------------- errors (Google's JSON shape)

fn google_error(status: StatusCode, reason: &str, message: &str) -> Response {
    let rpc = match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        410 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        _ => "UNKNOWN",
    };
    let domain = if reason.contains("RateLimit") || reason == "rateLimitExceeded" { "usageLimits" } else { "global" };
    (
        status,
        Json(json!({
            "error": {
                "code": status.as_u16(),
                "message": message,
                "errors": [{ "domain": domain, "reason": reason, "message": message }],
                "status": rpc,
            }
        })),
    )
        .into_response()
}

fn bad(reason: &str, message: &str) -> Response {
    google_error(StatusCode::BAD_REQUEST, reason, message)
}

fn not_found() -> Response {
    google_error(StatusCode::NOT_FOUND, "notFound", "Not Found")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Authenticates the bearer token, checks that it holds one of `allowed` (short scope names),
/// then takes one slot of the user's rate limit.
fn admit(s: &Shared, headers: &HeaderMap, allowed: &[&str], method: &str) -> Result<(), Box<Response>> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .unwrap_or_default();
    let unauth = || {
        let mut r = google_error(
            StatusCode::UNAUTHORIZED,
            "authError",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        );
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\""));
        Box::new(r)
    };
    let scopes = match s.oauth.check_access(token) {
        AccessCheck::Valid(scopes) => scopes,
        AccessCheck::Expired | AccessCheck::Unknown => return Err(unauth()),
    };
    if !scopes.iter().any(|g| g.strip_prefix(S).is_some_and(|short| allowed.contains(&short))) {
        let body = json!({
            "error": {
                "code": 403,
                "message": "Request had insufficient authentication scopes.",
                "errors": [{ "message": "Insufficient Permission", "domain": "global", "reason": "insufficientPermissions" }],
                "status": "PERMISSION_DENIED",
                "details": [{
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                    "domain": "googleapis.com",
                    "metadata": { "service": "calendar-json.googleapis.com", "method": method },
                }],
            }
        });
        return Err(Box::new((StatusCode::FORBIDDEN, Json(body)).into_response()));
    }
    let d = s.limiter.check();
    if !d.allowed {
        s.stats.rate_limited.fetch_add(1, Ordering::SeqCst);
        let mut r = google_error(StatusCode::TOO_MANY_REQUESTS, "rateLimitExceeded", "Rate Limit Exceeded");
        let secs = d.retry_after.as_secs() + u64::from(d.retry_after.subsec_nanos() > 0);
        if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Err(Box::new(r));
    }
    Ok(())
}

// ---------------------------------------------------------------- OAuth at Google's paths

async fn authorize(State(s): St, Query(q): Query<HashMap<String, String>>) -> Response {
    s.oauth.authorize_page(&q)
}

async fn decide(State(s): St, Form(f): Form<HashMap<String, String>>) -> Response {
    s.oauth.decide(&f)
}

async fn token(State(s): St, Form(f): Form<HashMap<String, String>>) -> Response {
    match s.oauth.token(&f) {
        Ok(t) => {
            let mut body = json!({
                "access_token": t.access_token,
                "expires_in": t.expires_in,
                "scope": t.scopes.join(" "),
                "token_type": "Bearer",
            });
            // Google returns a refresh token on the code exchange (access_type=offline), not on refresh.
            if f.get("grant_type").map(String::as_str) == Some("authorization_code") {
                body["refresh_token"] = Value::String(t.refresh_token);
            }
            Json(body).into_response()
        }
        Err(e) => {
            let status = if e.error == "invalid_client" { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
            let desc = match e.error {
                "invalid_grant" if f.get("grant_type").map(String::as_str) == Some("refresh_token") => "Token has been expired or revoked.".to_string(),
                "invalid_grant" => "Bad Request".to_string(),
                _ => e.description,
            };
            (status, Json(json!({ "error": e.error, "error_description": desc }))).into_response()
        }
    }
}

async fn revoke(State(s): St, Form(f): Form<HashMap<String, String>>) -> Response {
    let token = f.get("token").cloned().unwrap_or_default();
    if s.oauth.revoke_refresh(&token) {
        return StatusCode::OK.into_response();
    }
    (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_token", "error_description": "Token expired or revoked" }))).into_response()
}

// ---------------------------------------------------------------- seeded calendars

/// Resolves `primary` and the owner's address to the owner; `None` for unknown calendars.
fn calendar_id(raw: &str) -> Option<&'static str> {
    match raw {
        "primary" | OWNER => Some(OWNER),
        TEAM_CALENDAR => Some(TEAM_CALENDAR),
        _ => None,
    }
}

fn calendar_list_entry(cfg: &GCalConfig, id: &str) -> Value {
    let (summary, role, primary) = if id == OWNER { (OWNER, "owner", true) } else { ("Team", "reader", false) };
    json!({
        "kind": "calendar#calendarListEntry",
        "etag": "\"1700000000000000\"",
        "id": id,
        "summary": summary,
        "timeZone": cfg.time_zone,
        "accessRole": role,
        "primary": primary,
        "defaultReminders": if primary { json!([{ "method": "popup", "minutes": 10 }]) } else { json!([]) },
    })
}

fn person(email: &str, status: &str, is_self: bool, organizer: bool) -> Value {
    let mut p = json!({ "email": email, "responseStatus": status });
    if is_self {
        p["self"] = json!(true);
    }
    if organizer {
        p["organizer"] = json!(true);
    }
    p
}

struct SeedSpec<'a> {
    id: &'a str,
    calendar: &'a str,
    day: i64,
    start: (i64, i64),
    end: (i64, i64),
    summary: &'a str,
    description: Option<&'a str>,
    attendees: &'a [(&'a str, &'a str)],
}

fn seed(cfg: &GCalConfig, now: i64) -> Vec<Event> {
    let off = i64::from(cfg.utc_offset_minutes) * 60;
    let today = (now + off).div_euclid(86_400);
    // The next five working days after today.
    let mut week = Vec::new();
    let mut d = today + 1;
    while week.len() < 5 {
        if (1..=5).contains(&weekday(d)) {
            week.push(d);
        }
        d += 1;
    }
    let specs = [
        SeedSpec { id: "evt0pipeline0review", calendar: OWNER, day: week[0], start: (11, 0), end: (12, 0), summary: "Pipeline review", description: Some("Weekly pipeline review with the sales team."), attendees: &[("sam.okafor@northwind-demo.example", "accepted")] },
        SeedSpec { id: "evt0one0on0one", calendar: OWNER, day: week[0], start: (13, 0), end: (13, 30), summary: "1:1 with Sam", description: None, attendees: &[("sam.okafor@northwind-demo.example", "accepted")] },
        SeedSpec { id: "evt0onboarding0hopper", calendar: OWNER, day: week[0], start: (16, 0), end: (17, 0), summary: "Customer onboarding: Hopper & Co", description: None, attendees: &[("grace.hopper@example.com", "accepted")] },
        SeedSpec { id: "evt0discovery0ada", calendar: OWNER, day: week[1], start: (10, 0), end: (10, 45), summary: "Discovery call: Ada Lovelace (Analytical Engines Ltd)", description: Some("Lead from the website form; wants a demo of the reporting module."), attendees: &[(LEAD, "accepted")] },
        SeedSpec { id: "evt0quarterly0planning", calendar: OWNER, day: week[1], start: (14, 0), end: (15, 30), summary: "Quarterly planning", description: None, attendees: &[] },
        SeedSpec { id: "evt0vendor0call", calendar: OWNER, day: week[2], start: (9, 0), end: (9, 25), summary: "Vendor call (moved)", description: None, attendees: &[] },
        SeedSpec { id: "evt0demo0initech", calendar: OWNER, day: week[4], start: (15, 0), end: (16, 0), summary: "Demo for Initech", description: None, attendees: &[("peter.gibbons@initech.example", "tentative")] },
        SeedSpec { id: "evt0team0sync", calendar: TEAM_CALENDAR, day: week[0], start: (10, 0), end: (10, 30), summary: "Team sync", description: None, attendees: &[] },
        SeedSpec { id: "evt0hiring0panel", calendar: TEAM_CALENDAR, day: week[0], start: (15, 0), end: (16, 0), summary: "Hiring panel", description: None, attendees: &[] },
        SeedSpec { id: "evt0team0retro", calendar: TEAM_CALENDAR, day: week[1], start: (13, 0), end: (14, 0), summary: "Sprint retro", description: None, attendees: &[] },
    ];
    let created = format_utc_millis(now - 30 * 86_400);
    let mut out = Vec::new();
    let mut seq = 0;
    for s in specs {
        seq += 1;
        let start = s.day * 86_400 + s.start.0 * 3600 + s.start.1 * 60 - off;
        let end = s.day * 86_400 + s.end.0 * 3600 + s.end.1 * 60 - off;
        let mut attendees: Vec<Value> = s.attendees.iter().map(|(e, st)| person(e, st, false, false)).collect();
        if !attendees.is_empty() && s.calendar == OWNER {
            attendees.insert(0, person(OWNER, "accepted", true, true));
        }
        let mut j = event_json(cfg, s.calendar, s.id, s.summary, &created);
        j["start"] = json!({ "dateTime": format_at(start, cfg.utc_offset_minutes), "timeZone": cfg.time_zone });
        j["end"] = json!({ "dateTime": format_at(end, cfg.utc_offset_minutes), "timeZone": cfg.time_zone });
        if let Some(d) = s.description {
            j["description"] = json!(d);
        }
        if !attendees.is_empty() {
            j["attendees"] = Value::Array(attendees);
        }
        if s.id == "evt0vendor0call" {
            j["status"] = json!("cancelled");
        }
        out.push(Event { calendar: s.calendar.into(), json: j, start, end, weekly: None, seq });
    }
    // All-day conference on the fourth working day: shown as free (transparent).
    seq += 1;
    let mut conf = event_json(cfg, OWNER, "evt0saas0summit", "SaaS Summit (conference)", &created);
    conf["start"] = json!({ "date": format_date(week[3]) });
    conf["end"] = json!({ "date": format_date(week[3] + 1) });
    conf["transparency"] = json!("transparent");
    out.push(Event { calendar: OWNER.into(), json: conf, start: week[3] * 86_400 - off, end: (week[3] + 1) * 86_400 - off, weekly: None, seq });
    // The weekday stand-up, recurring since four weeks before today.
    seq += 1;
    let first = (today - 28..=today).find(|d| weekday(*d) == 1).unwrap_or(today);
    let start = first * 86_400 + 9 * 3600 + 30 * 60 - off;
    let mut standup = event_json(cfg, OWNER, "evt0daily0standup", "Daily stand-up", &created);
    standup["start"] = json!({ "dateTime": format_at(start, cfg.utc_offset_minutes), "timeZone": cfg.time_zone });
    standup["end"] = json!({ "dateTime": format_at(start + 900, cfg.utc_offset_minutes), "timeZone": cfg.time_zone });
    standup["recurrence"] = json!(["RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"]);
    out.push(Event { calendar: OWNER.into(), json: standup, start, end: start + 900, weekly: Some(vec![1, 2, 3, 4, 5]), seq });
    out
}

fn event_json(cfg: &GCalConfig, calendar: &str, id: &str, summary: &str, stamp: &str) -> Value {
    let _ = cfg;
    json!({
        "kind": "calendar#event",
        "etag": format!("\"{}\"", 3_400_000_000_000_000u64 + id.len() as u64),
        "id": id,
        "status": "confirmed",
        "htmlLink": format!("https://www.google.com/calendar/event?eid={id}"),
        "created": stamp,
        "updated": stamp,
        "summary": summary,
        "creator": { "email": OWNER, "self": calendar == OWNER },
        "organizer": { "email": calendar, "self": calendar == OWNER },
        "iCalUID": format!("{id}@google.com"),
        "sequence": 0,
        "reminders": { "useDefault": true },
        "eventType": "default",
    })
}

// ---------------------------------------------------------------- events

fn instance_of(cfg: &GCalConfig, master: &Event, start: i64) -> Value {
    let mut j = master.json.clone();
    let id = master.json["id"].as_str().unwrap_or_default();
    let tz = master.json["start"]["timeZone"].clone();
    j.as_object_mut().map(|o| o.remove("recurrence"));
    j["id"] = json!(format!("{id}_{}", format_at(start, 0).replace(['-', ':'], "")));
    j["recurringEventId"] = json!(id);
    let dur = master.end - master.start;
    j["start"] = json!({ "dateTime": format_at(start, cfg.utc_offset_minutes), "timeZone": tz });
    j["end"] = json!({ "dateTime": format_at(start + dur, cfg.utc_offset_minutes), "timeZone": tz });
    j["originalStartTime"] = j["start"].clone();
    j
}

/// `(start, json)` of the instances of a weekly master that overlap `[min, max)`.
fn expand(cfg: &GCalConfig, e: &Event, min: Option<i64>, max: Option<i64>) -> Vec<(i64, Value)> {
    let Some(days) = &e.weekly else { return vec![] };
    let dur = e.end - e.start;
    let lo = min.unwrap_or(e.start).max(e.start);
    let hi = max.unwrap_or(lo + 366 * 86_400).min(lo + 2 * 366 * 86_400);
    let off = i64::from(cfg.utc_offset_minutes) * 60;
    let tod = (e.start + off).rem_euclid(86_400);
    let first_day = (e.start + off).div_euclid(86_400);
    let mut out = Vec::new();
    let mut day = ((lo - dur + off).div_euclid(86_400)).max(first_day);
    while day * 86_400 + tod - off < hi {
        let start = day * 86_400 + tod - off;
        if days.contains(&weekday(day)) && start + dur > lo && start >= e.start {
            out.push((start, instance_of(cfg, e, start)));
        }
        day += 1;
    }
    out
}

fn q_matches(j: &Value, q: &str) -> bool {
    let q = q.to_lowercase();
    let mut hay = String::new();
    for f in ["summary", "description", "location"] {
        hay.push_str(j[f].as_str().unwrap_or_default());
        hay.push('\n');
    }
    for a in j["attendees"].as_array().into_iter().flatten() {
        hay.push_str(a["email"].as_str().unwrap_or_default());
        hay.push_str(a["displayName"].as_str().unwrap_or_default());
        hay.push('\n');
    }
    hay.to_lowercase().contains(&q)
}

fn time_param(q: &HashMap<String, String>, name: &str) -> Result<Option<i64>, Box<Response>> {
    match q.get(name) {
        None => Ok(None),
        Some(v) => parse_instant(v).map(Some).ok_or_else(|| Box::new(bad("badRequest", &format!("Bad Request: invalid value for {name}: {v:?} is not an RFC 3339 timestamp with a time zone offset")))),
    }
}

fn bool_param(q: &HashMap<String, String>, name: &str) -> Result<bool, Box<Response>> {
    match q.get(name).map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(v) => Err(Box::new(bad("invalidParameter", &format!("Invalid boolean value for {name}: {v:?}")))),
    }
}

async fn list_events(State(s): St, headers: HeaderMap, Path(cal): Path<String>, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Err(r) = admit(&s, &headers, READ_SCOPES, "calendar.v3.Events.List") {
        return *r;
    }
    let Some(cal) = calendar_id(&cal) else { return not_found() };
    match events_page(&s, cal, &q) {
        Ok(v) => Json(v).into_response(),
        Err(r) => *r,
    }
}

fn events_page(s: &Shared, cal: &str, q: &HashMap<String, String>) -> Result<Value, Box<Response>> {
    let min = time_param(q, "timeMin")?;
    let max = time_param(q, "timeMax")?;
    if let (Some(a), Some(b)) = (min, max)
        && a >= b
    {
        return Err(Box::new(bad("timeRangeEmpty", "The specified time range is empty.")));
    }
    let single = bool_param(q, "singleEvents")?;
    let show_deleted = bool_param(q, "showDeleted")?;
    match q.get("orderBy").map(String::as_str) {
        None | Some("updated") => {}
        Some("startTime") if single => {}
        Some("startTime") => return Err(Box::new(bad("badRequest", "The requested ordering is not available for the particular query."))),
        Some(v) => return Err(Box::new(bad("invalidParameter", &format!("Invalid value for orderBy: {v:?}")))),
    }
    let by_updated = q.get("orderBy").map(String::as_str) == Some("updated");
    let max_results = match q.get("maxResults") {
        None => 250,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n >= 1 => n.min(2500),
            _ => return Err(Box::new(bad("invalid", &format!("Invalid value '{v}'. Values must be within the range: [1, 2500]")))),
        },
    };
    let offset = match q.get("pageToken") {
        None => 0,
        Some(t) => decode_page_token(t).ok_or_else(|| Box::new(bad("invalid", "Invalid page token value.")))?,
    };
    let needle = q.get("q").filter(|x| !x.is_empty());
    let mut rows: Vec<(i64, u64, Value)> = Vec::new();
    for e in lock(&s.events).iter().filter(|e| e.calendar == cal) {
        let cancelled = e.json["status"] == "cancelled";
        if cancelled && !show_deleted {
            continue;
        }
        if e.weekly.is_some() && single {
            for (start, j) in expand(&s.cfg, e, min, max) {
                rows.push((start, e.seq, j));
            }
            continue;
        }
        let end = if e.weekly.is_some() { i64::MAX } else { e.end };
        if min.is_some_and(|m| end <= m) || max.is_some_and(|m| e.start >= m) {
            continue;
        }
        rows.push((e.start, e.seq, e.json.clone()));
    }
    if let Some(n) = needle {
        rows.retain(|(_, _, j)| q_matches(j, n));
    }
    if by_updated {
        rows.sort_by(|a, b| (a.2["updated"].as_str(), a.1, a.0).cmp(&(b.2["updated"].as_str(), b.1, b.0)));
    } else {
        rows.sort_by_key(|r| (r.0, r.1));
    }
    let total = rows.len();
    let items: Vec<Value> = rows.into_iter().skip(offset).take(max_results).map(|r| r.2).collect();
    let mut page = json!({
        "kind": "calendar#events",
        "etag": "\"p33c9v1rrsu7v00g\"",
        "summary": cal,
        "description": "",
        "updated": format_utc_millis(now_secs()),
        "timeZone": s.cfg.time_zone,
        "accessRole": if cal == OWNER { "owner" } else { "reader" },
        "defaultReminders": if cal == OWNER { json!([{ "method": "popup", "minutes": 10 }]) } else { json!([]) },
        "items": items,
    });
    if offset + max_results < total {
        page["nextPageToken"] = json!(encode_page_token(offset + max_results));
    }
    Ok(page)
}

fn encode_page_token(offset: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("sbx-events-offset:{offset}"))
}

fn decode_page_token(t: &str) -> Option<usize> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t).ok()?;
    String::from_utf8(raw).ok()?.strip_prefix("sbx-events-offset:")?.parse().ok()
}

/// Finds an event (or an expanded instance `{master}_{YYYYMMDDTHHMMSSZ}`) on `cal`.
fn find(s: &Shared, cal: &str, id: &str) -> Option<Value> {
    let events = lock(&s.events);
    if let Some(e) = events.iter().find(|e| e.calendar == cal && e.json["id"] == id) {
        return Some(e.json.clone());
    }
    let (master, stamp) = id.split_once('_')?;
    let e = events.iter().find(|e| e.calendar == cal && e.json["id"] == master && e.weekly.is_some())?;
    let start = parse_instant(&format!("{}-{}-{}T{}:{}:{}Z", stamp.get(0..4)?, stamp.get(4..6)?, stamp.get(6..8)?, stamp.get(9..11)?, stamp.get(11..13)?, stamp.get(13..15)?))?;
    expand(&s.cfg, e, Some(start), Some(start + 1)).into_iter().find(|(t, _)| *t == start).map(|(_, j)| j)
}

async fn get_event(State(s): St, headers: HeaderMap, Path((cal, id)): Path<(String, String)>) -> Response {
    if let Err(r) = admit(&s, &headers, READ_SCOPES, "calendar.v3.Events.Get") {
        return *r;
    }
    let Some(cal) = calendar_id(&cal) else { return not_found() };
    match find(&s, cal, &id) {
        Some(j) => Json(j).into_response(),
        None => not_found(),
    }
}

/// The calendar must exist and the user must be able to write to it.
fn writable(raw: &str) -> Result<&'static str, Box<Response>> {
    match calendar_id(raw) {
        Some(OWNER) => Ok(OWNER),
        Some(_) => Err(Box::new(google_error(StatusCode::FORBIDDEN, "requiredAccessLevel", "You need to have writer access to this calendar."))),
        None => Err(Box::new(not_found())),
    }
}

fn send_updates(q: &HashMap<String, String>) -> Result<(), Box<Response>> {
    match q.get("sendUpdates").map(String::as_str) {
        None | Some("all" | "externalOnly" | "none") => Ok(()),
        Some(v) => Err(Box::new(bad("invalidParameter", &format!("Invalid value for sendUpdates: {v:?}. Allowed: all, externalOnly, none")))),
    }
}

/// One `start` / `end` object → (UTC seconds, normalised object, is all-day).
fn event_time(cfg: &GCalConfig, v: &Value, which: &str) -> Result<(i64, Value, bool), Box<Response>> {
    let o = v.as_object().ok_or_else(|| Box::new(bad("required", &format!("Missing {which} time."))))?;
    let tz = o.get("timeZone").and_then(Value::as_str);
    if let Some(d) = o.get("date").and_then(Value::as_str) {
        if o.get("dateTime").is_some_and(|x| !x.is_null()) {
            return Err(Box::new(bad("invalid", &format!("Invalid {which} time: set either date or dateTime, not both."))));
        }
        let day = parse_date(d).ok_or_else(|| Box::new(bad("invalid", &format!("Invalid {which} time."))))?;
        return Ok((day * 86_400 - i64::from(cfg.utc_offset_minutes) * 60, json!({ "date": d }), true));
    }
    let dt = o.get("dateTime").and_then(Value::as_str).ok_or_else(|| Box::new(bad("required", &format!("Missing {which} time."))))?;
    let (local, offset) = parse_datetime(dt).ok_or_else(|| Box::new(bad("invalid", &format!("Invalid {which} time."))))?;
    let offset = match (offset, tz) {
        (Some(off), _) => off,
        (None, Some("UTC" | "Etc/UTC")) => 0,
        (None, Some(z)) if z == cfg.time_zone => cfg.utc_offset_minutes,
        (None, Some(_)) => return Err(Box::new(bad("invalid", &format!("Invalid time zone definition for {which} time.")))),
        (None, None) => return Err(Box::new(bad("required", &format!("Missing time zone definition for {which} time.")))),
    };
    let ts = local - i64::from(offset) * 60;
    let label = tz.unwrap_or(&cfg.time_zone);
    // Google renders times in the event's zone; the sandbox knows UTC and the calendar's zone.
    let shown = if matches!(label, "UTC" | "Etc/UTC") { 0 } else { cfg.utc_offset_minutes };
    Ok((ts, json!({ "dateTime": format_at(ts, shown), "timeZone": label }), false))
}

fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else { return false };
    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !e.contains(char::is_whitespace) && !domain.contains('@')
}

/// Applies the writable fields of `body` onto `j` (a patch when `j` already has them).
fn apply(cfg: &GCalConfig, j: &mut Value, body: &Map<String, Value>, conference: bool) -> Result<(), Box<Response>> {
    for f in ["summary", "description", "location", "colorId", "visibility"] {
        match body.get(f) {
            None => {}
            Some(Value::Null) => {
                j.as_object_mut().map(|o| o.remove(f));
            }
            Some(Value::String(v)) => j[f] = json!(v),
            Some(_) => return Err(Box::new(bad("invalid", &format!("Invalid value for {f}.")))),
        }
    }
    match body.get("transparency").map(|v| v.as_str()) {
        None => {}
        Some(Some(t @ ("opaque" | "transparent"))) => j["transparency"] = json!(t),
        Some(_) => return Err(Box::new(bad("invalid", "Invalid value for transparency."))),
    }
    for f in ["start", "end"] {
        if let Some(v) = body.get(f) {
            let (_, norm, _) = event_time(cfg, v, f)?;
            j[f] = norm;
        }
    }
    if let Some(a) = body.get("attendees") {
        let list = a.as_array().ok_or_else(|| Box::new(bad("invalid", "Invalid attendees.")))?;
        let mut out = vec![];
        for item in list {
            let email = item["email"].as_str().unwrap_or_default();
            if !valid_email(email) {
                return Err(Box::new(bad("invalid", "Invalid attendee email.")));
            }
            let status = match item["responseStatus"].as_str() {
                None => "needsAction",
                Some(st @ ("needsAction" | "declined" | "tentative" | "accepted")) => st,
                Some(_) => return Err(Box::new(bad("invalid", "Invalid attendee responseStatus."))),
            };
            let mut p = person(email, status, email == OWNER, email == OWNER);
            for f in ["displayName", "optional", "comment"] {
                if let Some(v) = item.get(f) {
                    p[f] = v.clone();
                }
            }
            out.push(p);
        }
        if !out.is_empty() && !out.iter().any(|p| p["email"] == OWNER) {
            out.insert(0, person(OWNER, "accepted", true, true));
        }
        j["attendees"] = Value::Array(out);
    }
    if let Some(c) = body.get("conferenceData") {
        if conference && c.pointer("/createRequest/requestId").is_some() {
            let code: String = (0..10).map(|_| char::from(b'a' + rand::random::<u8>() % 26)).collect();
            let link = format!("https://meet.google.com/{}-{}-{}", &code[0..3], &code[3..7], &code[7..10]);
            j["hangoutLink"] = json!(link);
            j["conferenceData"] = json!({
                "createRequest": { "requestId": c.pointer("/createRequest/requestId"), "conferenceSolutionKey": { "type": "hangoutsMeet" }, "status": { "statusCode": "success" } },
                "entryPoints": [{ "entryPointType": "video", "uri": link, "label": link.trim_start_matches("https://") }],
                "conferenceSolution": { "key": { "type": "hangoutsMeet" }, "name": "Google Meet" },
                "conferenceId": format!("{}-{}-{}", &code[0..3], &code[3..7], &code[7..10]),
            });
        } else if !conference {
            // Without conferenceDataVersion=1 Google ignores conferenceData.
        } else {
            j["conferenceData"] = c.clone();
        }
    }
    Ok(())
}

/// Times of an event resource, checked: both present, the end after the start.
fn span(cfg: &GCalConfig, j: &Value) -> Result<(i64, i64), Box<Response>> {
    if j.get("start").is_none_or(Value::is_null) {
        return Err(Box::new(bad("required", "Missing start time.")));
    }
    if j.get("end").is_none_or(Value::is_null) {
        return Err(Box::new(bad("required", "Missing end time.")));
    }
    let (a, _, all_a) = event_time(cfg, &j["start"], "start")?;
    let (b, _, all_b) = event_time(cfg, &j["end"], "end")?;
    if all_a != all_b {
        return Err(Box::new(bad("invalid", "Start and end times must either both be date or both be dateTime.")));
    }
    if b <= a && !(all_a && b == a) {
        return Err(Box::new(bad("timeRangeEmpty", "The specified time range is empty.")));
    }
    Ok((a, b))
}

fn json_body(body: &[u8]) -> Result<Map<String, Value>, Box<Response>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(Box::new(bad("parseError", "Parse Error"))),
    }
}

fn next_seq(s: &Shared) -> u64 {
    let mut n = lock(&s.next_seq);
    *n += 1;
    *n
}

fn valid_event_id(id: &str) -> bool {
    (5..=1024).contains(&id.len()) && id.bytes().all(|b| matches!(b, b'a'..=b'v' | b'0'..=b'9'))
}

async fn insert_event(State(s): St, headers: HeaderMap, Path(cal): Path<String>, Query(q): Query<HashMap<String, String>>, body: axum::body::Bytes) -> Response {
    if let Err(r) = admit(&s, &headers, WRITE_SCOPES, "calendar.v3.Events.Insert") {
        return *r;
    }
    let r = (|| {
        let cal = writable(&cal)?;
        send_updates(&q)?;
        let b = json_body(&body)?;
        let id = match b.get("id") {
            None => {
                let bytes: [u8; 13] = rand::random();
                bytes.iter().map(|x| format!("{:02x}", x % 0x80)).collect::<String>().replace(|c: char| c > 'v', "0")
            }
            Some(Value::String(id)) if valid_event_id(id) => id.clone(),
            Some(_) => return Err(Box::new(bad("invalid", "Invalid resource id value."))),
        };
        if lock(&s.events).iter().any(|e| e.json["id"] == id.as_str()) {
            return Err(Box::new(google_error(StatusCode::CONFLICT, "duplicate", "The requested identifier already exists.")));
        }
        let stamp = format_utc_millis(now_secs());
        let mut j = event_json(&s.cfg, cal, &id, "", &stamp);
        j.as_object_mut().map(|o| o.remove("summary"));
        apply(&s.cfg, &mut j, &b, q.get("conferenceDataVersion").map(String::as_str) == Some("1"))?;
        let (start, end) = span(&s.cfg, &j)?;
        let seq = next_seq(&s);
        lock(&s.events).push(Event { calendar: cal.into(), json: j.clone(), start, end, weekly: None, seq });
        Ok(j)
    })();
    match r {
        Ok(j) => Json(j).into_response(),
        Err(r) => *r,
    }
}

async fn patch_event(s: St, headers: HeaderMap, p: Path<(String, String)>, q: Query<HashMap<String, String>>, body: axum::body::Bytes) -> Response {
    change(s, headers, p, q, body, false).await
}

async fn update_event(s: St, headers: HeaderMap, p: Path<(String, String)>, q: Query<HashMap<String, String>>, body: axum::body::Bytes) -> Response {
    change(s, headers, p, q, body, true).await
}

async fn change(State(s): St, headers: HeaderMap, Path((cal, id)): Path<(String, String)>, Query(q): Query<HashMap<String, String>>, body: axum::body::Bytes, replace: bool) -> Response {
    let method = if replace { "calendar.v3.Events.Update" } else { "calendar.v3.Events.Patch" };
    if let Err(r) = admit(&s, &headers, WRITE_SCOPES, method) {
        return *r;
    }
    let r = (|| {
        let cal = writable(&cal)?;
        send_updates(&q)?;
        let b = json_body(&body)?;
        let mut events = lock(&s.events);
        let e = events.iter_mut().find(|e| e.calendar == cal && e.json["id"] == id.as_str()).ok_or_else(|| Box::new(not_found()))?;
        if e.weekly.is_some() && (b.contains_key("start") || b.contains_key("end")) {
            return Err(Box::new(bad("invalid", "The sandbox does not move recurring series; change a single event instead.")));
        }
        let mut j = e.json.clone();
        if replace {
            for f in ["summary", "description", "location", "attendees", "start", "end", "transparency", "conferenceData", "hangoutLink"] {
                j.as_object_mut().map(|o| o.remove(f));
            }
        }
        apply(&s.cfg, &mut j, &b, q.get("conferenceDataVersion").map(String::as_str) == Some("1"))?;
        if let Some(st) = b.get("status").and_then(Value::as_str) {
            j["status"] = json!(st);
        }
        let (start, end) = if e.weekly.is_some() { (e.start, e.end) } else { span(&s.cfg, &j)? };
        j["updated"] = json!(format_utc_millis(now_secs()));
        j["sequence"] = json!(j["sequence"].as_u64().unwrap_or(0) + 1);
        e.json = j.clone();
        e.start = start;
        e.end = end;
        Ok(j)
    })();
    match r {
        Ok(j) => Json(j).into_response(),
        Err(r) => *r,
    }
}

async fn delete_event(State(s): St, headers: HeaderMap, Path((cal, id)): Path<(String, String)>, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Err(r) = admit(&s, &headers, WRITE_SCOPES, "calendar.v3.Events.Delete") {
        return *r;
    }
    let r = (|| {
        let cal = writable(&cal)?;
        send_updates(&q)?;
        let mut events = lock(&s.events);
        let e = events.iter_mut().find(|e| e.calendar == cal && e.json["id"] == id.as_str()).ok_or_else(|| Box::new(not_found()))?;
        if e.json["status"] == "cancelled" {
            return Err(Box::new(google_error(StatusCode::GONE, "deleted", "Resource has been deleted")));
        }
        e.json["status"] = json!("cancelled");
        e.json["updated"] = json!(format_utc_millis(now_secs()));
        Ok(())
    })();
    match r {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => *r,
    }
}

async fn calendar_list(State(s): St, headers: HeaderMap) -> Response {
    if let Err(r) = admit(&s, &headers, CALENDARLIST_SCOPES, "calendar.v3.CalendarList.List") {
        return *r;
    }
    Json(json!({
        "kind": "calendar#calendarList",
        "etag": "\"p32g9v1rrsu7v00g\"",
        "items": [calendar_list_entry(&s.cfg, OWNER), calendar_list_entry(&s.cfg, TEAM_CALENDAR)],
    }))
    .into_response()
}

// ---------------------------------------------------------------- freeBusy

async fn free_busy(State(s): St, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if let Err(r) = admit(&s, &headers, FREEBUSY_SCOPES, "calendar.v3.Freebusy.Query") {
        return *r;
    }
    let r = (|| {
        let b = json_body(&body)?;
        let get_time = |f: &str| -> Result<i64, Box<Response>> {
            match b.get(f).and_then(Value::as_str) {
                None => Err(Box::new(bad("required", &format!("Missing {f}.")))),
                Some(v) => parse_instant(v).ok_or_else(|| Box::new(bad("badRequest", &format!("Bad Request: invalid value for {f}: {v:?}")))),
            }
        };
        let (min, max) = (get_time("timeMin")?, get_time("timeMax")?);
        if min >= max {
            return Err(Box::new(bad("timeRangeEmpty", "The specified time range is empty.")));
        }
        let items = b.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
        if items.len() > 50 {
            return Err(Box::new(bad("tooManyCalendarsRequested", "Too many calendars requested.")));
        }
        let mut calendars = Map::new();
        let events = lock(&s.events);
        for item in &items {
            let raw = item["id"].as_str().unwrap_or_default().to_string();
            let Some(cal) = calendar_id(&raw) else {
                calendars.insert(raw, json!({ "errors": [{ "domain": "global", "reason": "notFound" }], "busy": [] }));
                continue;
            };
            let mut spans: Vec<(i64, i64)> = Vec::new();
            for e in events.iter().filter(|e| e.calendar == cal && e.json["status"] != "cancelled" && e.json["transparency"] != "transparent") {
                let declined = e.json["attendees"].as_array().is_some_and(|a| a.iter().any(|p| p["self"] == true && p["responseStatus"] == "declined"));
                if declined {
                    continue;
                }
                if e.weekly.is_some() {
                    spans.extend(expand(&s.cfg, e, Some(min), Some(max)).into_iter().map(|(t, _)| (t, t + e.end - e.start)));
                } else if e.end > min && e.start < max {
                    spans.push((e.start, e.end));
                }
            }
            spans.sort_unstable();
            let mut merged: Vec<(i64, i64)> = Vec::new();
            for (a, b) in spans {
                let (a, b) = (a.max(min), b.min(max));
                match merged.last_mut() {
                    Some(last) if a <= last.1 => last.1 = last.1.max(b),
                    _ => merged.push((a, b)),
                }
            }
            let busy: Vec<Value> = merged.into_iter().map(|(a, b)| json!({ "start": format_at(a, 0), "end": format_at(b, 0) })).collect();
            calendars.insert(raw, json!({ "busy": busy }));
        }
        Ok(json!({ "kind": "calendar#freeBusy", "timeMin": format_utc_millis(min), "timeMax": format_utc_millis(max), "calendars": calendars }))
    })();
    match r {
        Ok(v) => Json(v).into_response(),
        Err(r) => *r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_through_the_civil_calendar() {
        assert_eq!(parse_instant("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_instant("2026-03-02T09:30:00-03:00"), parse_instant("2026-03-02T12:30:00Z"));
        assert_eq!(parse_instant("2024-02-29T00:00:00.123+00:00").map(|t| format_at(t, 0)).as_deref(), Some("2024-02-29T00:00:00Z"));
        assert_eq!(format_at(1_767_225_600, -180), "2025-12-31T21:00:00-03:00");
        assert!(parse_instant("2025-02-29T00:00:00Z").is_none(), "not a leap year");
        assert!(parse_instant("2026-03-02T09:30:00").is_none(), "a query time needs an offset");
        assert!(parse_instant("2026-03-02").is_none());
        assert_eq!(weekday(days_from_civil(2026, 3, 2)), 1, "2 March 2026 is a Monday");
    }
}
