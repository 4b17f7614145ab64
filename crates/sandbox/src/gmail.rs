//! Gmail, simulated: Google's OAuth at Google's paths (`/o/oauth2/v2/auth`, `/token`,
//! `/revoke`), and the Gmail v1 API at its real paths (`/gmail/v1/users/me/...`): messages
//! (list with a useful subset of Gmail search, get in every format, attachments, modify, trash,
//! send), threads, labels, drafts (create, update, send), the profile and history ids, and
//! `history.list`, which answers 404 for a `startHistoryId` older than the history it keeps
//! ([`GmailSim::expire_history`]). Mail arrives with [`GmailSim::receive`].
//!
//! Defaults follow the real provider (`shared/reference/providers.md` §3.2 and §1.3): quota is
//! counted in units per method (`messages.send` costs 100, `messages.get` 5) in a rolling minute,
//! 6,000 units per user (projects new from 2026-05-01); over it the answer is Google's error
//! envelope with `rateLimitExceeded` (HTTP 429, or 403 `userRateLimitExceeded` when configured).
//! Scopes are checked per method as Google does; a missing scope is 403
//! `insufficientPermissions` / `ACCESS_TOKEN_SCOPE_INSUFFICIENT`. Access tokens live an hour.
//!
//! The seeded mailbox has about 100 messages over the last weeks: a lead (Ada Lovelace, a
//! HubSpot sandbox contact) asking for a meeting in a thread with an attachment, invoices with
//! PDFs, newsletters, customer mail with PNG and CSV attachments and one attachment of a type
//! nobody handles, sent mail, and custom labels.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use serde_json::{Value, json};

use crate::oauth::{AccessCheck, OAuthClient, OAuthConfig, OAuthServer, ScopeInfo};
use crate::{SandboxContext, SimulatedProvider, Stats};

/// Client id of the sandbox's registered OAuth app (a Google "Desktop app" client).
pub const CLIENT_ID: &str = "100000000001-sandbox0gmail0desktop.apps.googleusercontent.com";
/// Its client secret (Google gives desktop clients one it does not treat as confidential).
pub const CLIENT_SECRET: &str = "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";
/// Path the consent form posts to.
pub const DECISION_PATH: &str = "/o/oauth2/v2/auth/decision";
/// The mailbox owner's address.
pub const MAILBOX: &str = "alex.morgan@acme-demo.example";
/// The lead who asks for a meeting (a HubSpot sandbox contact).
pub const LEAD_EMAIL: &str = "ada.lovelace@example.com";
/// Subject of the lead's meeting-request thread.
pub const LEAD_SUBJECT: &str = "Meeting about the Analytical Engine rollout";

/// `gmail.readonly`.
pub const READONLY: &str = "https://www.googleapis.com/auth/gmail.readonly";
/// `gmail.metadata`.
pub const METADATA: &str = "https://www.googleapis.com/auth/gmail.metadata";
/// `gmail.labels`.
pub const LABELS: &str = "https://www.googleapis.com/auth/gmail.labels";
/// `gmail.send`.
pub const SEND: &str = "https://www.googleapis.com/auth/gmail.send";
/// `gmail.compose`.
pub const COMPOSE: &str = "https://www.googleapis.com/auth/gmail.compose";
/// `gmail.modify`.
pub const MODIFY: &str = "https://www.googleapis.com/auth/gmail.modify";
/// Full mailbox access.
pub const FULL: &str = "https://mail.google.com/";

/// Gmail's scopes, with what each lets an app do.
pub const SCOPES: &[ScopeInfo] = &[
    ScopeInfo { name: READONLY, description: "Read your email messages, threads, labels and settings." },
    ScopeInfo { name: METADATA, description: "See your message headers and labels, but not the bodies." },
    ScopeInfo { name: LABELS, description: "Create, rename and delete your labels." },
    ScopeInfo { name: SEND, description: "Send email on your behalf." },
    ScopeInfo { name: COMPOSE, description: "Manage drafts and send email." },
    ScopeInfo { name: MODIFY, description: "Read, compose and send email, change labels, move mail to the trash." },
    ScopeInfo { name: "https://www.googleapis.com/auth/gmail.insert", description: "Add emails to your mailbox." },
    ScopeInfo { name: "https://www.googleapis.com/auth/gmail.settings.basic", description: "Manage your basic mail settings." },
    ScopeInfo { name: FULL, description: "Read, compose, send and permanently delete all your email." },
];

/// Quota units per method (Google's Gmail quota table).
pub fn units(method: &str) -> u32 {
    match method {
        "messages.send" | "drafts.send" | "watch" => 100,
        "messages.batchModify" | "messages.batchDelete" => 50,
        "messages.import" | "messages.insert" => 25,
        "threads.delete" => 20,
        "drafts.update" => 15,
        "drafts.create" | "drafts.delete" | "messages.delete" | "threads.list" | "threads.get" | "threads.modify" | "threads.trash" => 10,
        "messages.list" | "messages.get" | "messages.attachments.get" | "messages.modify" | "messages.trash" | "messages.untrash"
        | "drafts.get" | "drafts.list" | "labels.create" => 5,
        "history.list" => 2,
        _ => 1,
    }
}

/// Rules of the simulated Gmail account.
#[derive(Debug, Clone)]
pub struct GmailConfig {
    /// Quota units per user per rolling window (6,000 per minute for projects new from
    /// 2026-05-01; 15,000 for older ones).
    pub quota_units: u32,
    /// Rolling window length (a minute).
    pub quota_interval: Duration,
    /// Answer an exhausted quota with 403 `userRateLimitExceeded` instead of 429
    /// `rateLimitExceeded` (Gmail uses both).
    pub limit_with_403: bool,
    /// Access token lifetime (Google: about an hour).
    pub access_token_ttl: Duration,
    /// Extra unread inbox messages, one from each of these sender addresses (oldest first),
    /// for benchmarks that triage a large inbox. Empty for the demo mailbox.
    pub bulk_inbox: Vec<String>,
}

impl Default for GmailConfig {
    fn default() -> Self {
        Self { quota_units: 6_000, quota_interval: Duration::from_secs(60), limit_with_403: false, access_token_ttl: Duration::from_secs(3599), bulk_inbox: Vec::new() }
    }
}

/// The simulated Gmail provider (`gmail-sandbox`). Clones share one mailbox and one
/// authorization server ([`GmailSim`]), so tokens it issued stay valid on a restarted server.
#[derive(Debug, Clone)]
pub struct GmailSandbox {
    /// Its rules.
    pub config: GmailConfig,
    sim: GmailSim,
}

impl Default for GmailSandbox {
    fn default() -> Self {
        Self::new(GmailConfig::default())
    }
}

impl GmailSandbox {
    /// A simulated Gmail with these rules.
    pub fn new(config: GmailConfig) -> Self {
        let oauth = OAuthServer::new(OAuthConfig {
            provider_name: "Google (sandbox)".into(),
            clients: vec![OAuthClient { client_id: CLIENT_ID.into(), client_secret: Some(CLIENT_SECRET.into()) }],
            require_client_secret: true,
            scopes: SCOPES.to_vec(),
            loopback_allowed: true,
            loopback_refused_message: String::new(),
            https_redirects: Vec::new(),
            decision_path: DECISION_PATH.into(),
            code_ttl: Duration::from_secs(60),
            access_token_ttl: config.access_token_ttl,
            access_token_prefix: "ya29.sbx-".into(),
            refresh_token_prefix: "1//sbx-".into(),
        });
        let mailbox = Mailbox::seeded(now_ms()).with_bulk_inbox(&config.bulk_inbox, now_ms());
        let sim = GmailSim { mailbox: Arc::new(Mutex::new(mailbox)), oauth: Arc::new(oauth) };
        Self { config, sim }
    }

    /// The mailbox, shared with every server started from this provider (or a clone of it).
    pub fn simulator(&self) -> GmailSim {
        self.sim.clone()
    }
}

/// The simulated mailbox and its authorization server. Cheap to clone.
#[derive(Clone)]
pub struct GmailSim {
    mailbox: Arc<Mutex<Mailbox>>,
    oauth: Arc<OAuthServer>,
}

impl std::fmt::Debug for GmailSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GmailSim").finish_non_exhaustive()
    }
}

impl GmailSim {
    /// A message from `from` arrives in the inbox (unread); its id. Its history record is the
    /// mailbox's newest.
    pub fn receive(&self, from: &str, subject: &str, text: &str) -> String {
        let mut mb = lock(&self.mailbox);
        let id = mb.new_id();
        let h = mb.bump();
        let now = now_ms();
        let headers = vec![
            ("From".to_string(), from.to_string()),
            ("To".to_string(), MAILBOX.to_string()),
            ("Subject".to_string(), subject.to_string()),
            ("Date".to_string(), rfc2822(now)),
            ("Message-ID".to_string(), format!("<{id}@mail.sandbox.example>")),
        ];
        mb.messages.push(Msg {
            thread_id: id.clone(),
            id: id.clone(),
            labels: vec!["INBOX".into(), "UNREAD".into()],
            internal_date: now,
            history_id: h,
            headers,
            text: text.into(),
            html: None,
            attachments: Vec::new(),
            raw: None,
        });
        id
    }

    /// Gmail keeps history records for a limited time: this forgets every record so far, so a
    /// `history.list` from an older `startHistoryId` answers 404 and the client must resync.
    pub fn expire_history(&self) {
        let mut mb = lock(&self.mailbox);
        mb.history_floor = mb.history_id;
    }

    /// The mailbox's current history id.
    pub fn history_id(&self) -> u64 {
        lock(&self.mailbox).history_id
    }
}

impl SimulatedProvider for GmailSandbox {
    fn id(&self) -> &'static str {
        "gmail-sandbox"
    }

    fn registered_client(&self) -> Option<OAuthClient> {
        Some(OAuthClient { client_id: CLIENT_ID.into(), client_secret: Some(CLIENT_SECRET.into()) })
    }

    fn router(&self, ctx: SandboxContext) -> Router {
        let c = &self.config;
        let shared = Arc::new(Shared {
            oauth: self.sim.oauth.clone(),
            quota: UnitWindow::new(c.quota_units, c.quota_interval),
            limit_with_403: c.limit_with_403,
            mailbox: self.sim.mailbox.clone(),
            stats: ctx.stats,
        });
        let u = "/gmail/v1/users/{user}";
        Router::new()
            .route("/o/oauth2/v2/auth", get(authorize))
            .route(DECISION_PATH, post(decide))
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .route(&format!("{u}/profile"), get(profile))
            .route(&format!("{u}/messages"), get(messages_list))
            .route(&format!("{u}/messages/send"), post(messages_send))
            .route(&format!("{u}/messages/{{id}}"), get(messages_get))
            .route(&format!("{u}/messages/{{id}}/modify"), post(messages_modify))
            .route(&format!("{u}/messages/{{id}}/trash"), post(messages_trash))
            .route(&format!("{u}/messages/{{id}}/untrash"), post(messages_untrash))
            .route(&format!("{u}/messages/{{mid}}/attachments/{{id}}"), get(attachments_get))
            .route(&format!("{u}/threads"), get(threads_list))
            .route(&format!("{u}/threads/{{id}}"), get(threads_get))
            .route(&format!("{u}/labels"), get(labels_list))
            .route(&format!("{u}/drafts"), get(drafts_list).post(drafts_create))
            .route(&format!("{u}/drafts/send"), post(drafts_send))
            .route(&format!("{u}/drafts/{{id}}"), get(drafts_get).put(drafts_update).delete(drafts_delete))
            .route(&format!("{u}/history"), get(history_list))
            .with_state(shared)
    }
}

fn now_ms() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)).unwrap_or(0)
}

// ---------------------------------------------------------------- quota

/// At most `max` units in any rolling `interval`, each request weighing its method's units.
#[derive(Debug)]
struct UnitWindow {
    max: u32,
    interval: Duration,
    log: Mutex<VecDeque<(Instant, u32)>>,
}

impl UnitWindow {
    fn new(max: u32, interval: Duration) -> Self {
        Self { max, interval, log: Mutex::new(VecDeque::new()) }
    }

    /// `Ok` when admitted, `Err(retry_after)` otherwise.
    fn admit(&self, units: u32) -> Result<(), Duration> {
        let now = Instant::now();
        let mut log = lock(&self.log);
        while log.front().is_some_and(|(t, _)| now.duration_since(*t) >= self.interval) {
            log.pop_front();
        }
        let used: u32 = log.iter().map(|(_, u)| *u).sum();
        if used.saturating_add(units) > self.max {
            // The earliest moment enough units have left the window.
            let mut freed = 0u32;
            let need = used.saturating_add(units).saturating_sub(self.max);
            for (t, u) in log.iter() {
                freed += u;
                if freed >= need {
                    return Err(self.interval.saturating_sub(now.duration_since(*t)));
                }
            }
            return Err(self.interval);
        }
        log.push_back((now, units));
        Ok(())
    }
}

// ---------------------------------------------------------------- data

#[derive(Debug, Clone)]
struct Att {
    id: String,
    filename: String,
    mime: String,
    data: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Msg {
    id: String,
    thread_id: String,
    labels: Vec<String>,
    internal_date: i64,
    history_id: u64,
    headers: Vec<(String, String)>,
    text: String,
    html: Option<String>,
    attachments: Vec<Att>,
    /// The RFC 2822 bytes as submitted, for messages created through the API.
    raw: Option<Vec<u8>>,
}

impl Msg {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn snippet(&self) -> String {
        let flat: String = self.text.split_whitespace().collect::<Vec<_>>().join(" ");
        flat.chars().take(120).collect()
    }

    fn render(&self) -> Vec<u8> {
        if let Some(r) = &self.raw {
            return r.clone();
        }
        let mut out = String::new();
        for (k, v) in &self.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("MIME-Version: 1.0\r\n");
        let b64 = |d: &[u8]| {
            let s = base64::engine::general_purpose::STANDARD.encode(d);
            s.as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("\r\n")
        };
        let alt = |out: &mut String| match &self.html {
            Some(h) => {
                out.push_str("Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n");
                out.push_str(&format!("--alt\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\n{}\r\n", self.text));
                out.push_str(&format!("--alt\r\nContent-Type: text/html; charset=\"UTF-8\"\r\n\r\n{h}\r\n--alt--\r\n"));
            }
            None => out.push_str(&format!("Content-Type: text/plain; charset=\"UTF-8\"\r\n\r\n{}\r\n", self.text)),
        };
        if self.attachments.is_empty() {
            alt(&mut out);
        } else {
            out.push_str("Content-Type: multipart/mixed; boundary=\"mixed\"\r\n\r\n--mixed\r\n");
            alt(&mut out);
            for a in &self.attachments {
                out.push_str(&format!(
                    "--mixed\r\nContent-Type: {m}; name=\"{f}\"\r\nContent-Disposition: attachment; filename=\"{f}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{d}\r\n",
                    m = a.mime,
                    f = a.filename,
                    d = b64(&a.data)
                ));
            }
            out.push_str("--mixed--\r\n");
        }
        out.into_bytes()
    }
}

#[derive(Debug, Clone)]
struct Label {
    id: String,
    name: String,
    system: bool,
}

#[derive(Debug)]
struct Mailbox {
    messages: Vec<Msg>,
    labels: Vec<Label>,
    /// draft id → message id.
    drafts: Vec<(String, String)>,
    history_id: u64,
    /// History records before this id are gone: a `history.list` from an older start is 404.
    history_floor: u64,
    next_id: u64,
}

const SYSTEM_LABELS: &[&str] = &[
    "INBOX", "SENT", "DRAFT", "TRASH", "SPAM", "UNREAD", "STARRED", "IMPORTANT", "CHAT", "CATEGORY_PERSONAL", "CATEGORY_SOCIAL",
    "CATEGORY_PROMOTIONS", "CATEGORY_UPDATES", "CATEGORY_FORUMS",
];

fn b64url(d: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(d)
}

/// Decodes base64url (padded or not; the standard alphabet is accepted too).
pub fn decode_b64url(s: &str) -> Option<Vec<u8>> {
    let cleaned: String = s.trim().chars().filter(|c| !c.is_whitespace() && *c != '=').map(|c| match c {
        '+' => '-',
        '/' => '_',
        c => c,
    }).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cleaned).ok()
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let n = u64::try_from(items.len()).unwrap_or(1).max(1);
        &items[usize::try_from(self.next() % n).unwrap_or(0)]
    }
}

fn pdf(title: &str) -> Vec<u8> {
    format!("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% {title}\ntrailer << /Root 1 0 R >>\n%%EOF\n").into_bytes()
}

fn png() -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    v.extend_from_slice(&[0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89]);
    v.extend(std::iter::repeat_n(0u8, 200));
    v
}

fn rfc2822(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc2822).ok())
        .unwrap_or_default()
}

struct Seed<'a> {
    from: &'a str,
    to: &'a str,
    subject: &'a str,
    text: &'a str,
    html: bool,
    labels: &'a [&'a str],
    attachments: Vec<(&'a str, &'a str, Vec<u8>)>,
    ago_hours: i64,
}

impl Mailbox {
    fn seeded(now: i64) -> Self {
        let mut mb = Mailbox {
            messages: Vec::new(),
            labels: SYSTEM_LABELS.iter().map(|l| Label { id: (*l).into(), name: (*l).into(), system: true }).collect(),
            drafts: Vec::new(),
            history_id: 100_000,
            history_floor: 100_000,
            next_id: 0x18f0_0000_0000_0000,
        };
        for (id, name) in [("Label_1", "Leads"), ("Label_2", "Invoices"), ("Label_3", "Newsletters"), ("Label_4", "Customers/Feedback"), ("Label_5", "Follow up")] {
            mb.labels.push(Label { id: id.into(), name: name.into(), system: false });
        }
        let me = format!("Alex Morgan <{MAILBOX}>");
        let mut seeds: Vec<(Seed, Option<usize>)> = Vec::new();
        // The lead's meeting request: three messages in one thread.
        let ada = format!("Ada Lovelace <{LEAD_EMAIL}>");
        seeds.push((Seed { from: &ada, to: &me, subject: LEAD_SUBJECT, text: "Hi Alex,\n\nWe are evaluating your platform for the Analytical Engine rollout. Could we set up a 30 minute meeting next week to go through pricing and the integration plan?\n\nBest,\nAda", html: true, labels: &["INBOX", "IMPORTANT", "Label_1"], attachments: vec![], ago_hours: 50 }, None));
        seeds.push((Seed { from: &me, to: &ada, subject: LEAD_SUBJECT, text: "Hi Ada,\n\nHappy to. Which days work best for you?\n\nAlex", html: false, labels: &["SENT"], attachments: vec![], ago_hours: 30 }, Some(0)));
        seeds.push((Seed { from: &ada, to: &me, subject: LEAD_SUBJECT, text: "Tuesday or Wednesday afternoon next week works for us. I attached our requirements and a diagram of the current setup. Can you send a calendar invite?\n\nAda", html: true, labels: &["INBOX", "UNREAD", "IMPORTANT", "Label_1"], attachments: vec![("requirements.pdf", "application/pdf", pdf("Analytical Engine requirements")), ("current-setup.png", "image/png", png())], ago_hours: 3 }, Some(0)));
        let mut rng = Lcg(0x5eed_6d61_696c);
        let vendors = ["billing@paperco.example", "invoices@cloudhost.example", "accounts@officesupply.example", "ar@legalservices.example"];
        let invoice_subjects: Vec<String> = (0..12).map(|i| format!("Invoice INV-2026-{:04} is available", 310 + i)).collect();
        let invoice_files: Vec<String> = (0..12).map(|i| format!("INV-2026-{:04}.pdf", 310 + i)).collect();
        for i in 0..12 {
            let v = *rng.pick(&vendors);
            seeds.push((Seed { from: v, to: &me, subject: &invoice_subjects[i], text: "Your invoice is attached. Payment is due within 30 days.", html: true, labels: if i % 3 == 0 { &["INBOX", "UNREAD", "Label_2"] } else { &["INBOX", "Label_2"] }, attachments: vec![(invoice_files[i].as_str(), "application/pdf", pdf(&invoice_subjects[i]))], ago_hours: 20 + i64::try_from(i).unwrap_or(0) * 37 }, None));
        }
        let papers = ["news@saasweekly.example", "digest@devtools.example", "hello@productletter.example"];
        let news_subjects: Vec<String> = (0..30).map(|i| format!("Weekly digest #{}: what changed in SaaS this week", 140 + i)).collect();
        for (i, subject) in news_subjects.iter().enumerate() {
            let p = *rng.pick(&papers);
            let unread = i % 2 == 0;
            seeds.push((Seed { from: p, to: &me, subject, text: "This week: pricing pages that convert, API rate limits explained, and five onboarding emails worth copying. Unsubscribe at any time.", html: true, labels: if unread { &["INBOX", "UNREAD", "CATEGORY_PROMOTIONS", "Label_3"] } else { &["INBOX", "CATEGORY_PROMOTIONS", "Label_3"] }, attachments: vec![], ago_hours: 5 + i64::try_from(i).unwrap_or(0) * 19 }, None));
        }
        let customers = [
            "Grace Hopper <grace.hopper@example.com>", "Alan Turing <alan.turing@example.com>", "Katherine Johnson <katherine.johnson@example.com>",
            "Linus Torvalds <linus.torvalds@example.com>", "Margaret Hamilton <margaret.hamilton@example.com>", "Barbara Liskov <barbara.liskov@example.com>",
            "Radia Perlman <radia.perlman@example.com>", "Hedy Lamarr <hedy.lamarr@example.com>", "Donald Knuth <donald.knuth@example.com>",
        ];
        let topics = [
            ("Question about our renewal", "Could you confirm the renewal date and whether the price changes this year?"),
            ("CSV export is missing columns", "The export we downloaded yesterday is missing the region column. Sample attached."),
            ("Screenshot of the error", "We see this error when saving a report. Screenshot attached."),
            ("Thanks for the onboarding call", "Thanks for walking us through the setup, the team is up and running."),
            ("Can we add five more seats?", "We are growing; please add five seats to our plan from next month."),
            ("Data processing agreement", "Our legal team needs the signed DPA before we roll out to the EU team."),
        ];
        let cust_subjects: Vec<String> = (0..44).map(|i| topics[i % topics.len()].0.to_string()).collect();
        for i in 0..44 {
            let from = *rng.pick(&customers);
            let (_, text) = topics[i % topics.len()];
            let attachments = match i % topics.len() {
                1 => vec![("export-sample.csv", "text/csv", b"id,name,region\n1,Acme,\n2,Globex,\n".to_vec())],
                2 => vec![("error.png", "image/png", png())],
                5 if i == 5 => vec![("dpa-signed.p7m", "application/x-unknown-sealed-archive", b"\x00\x01sealed-blob\xff\xfe".to_vec())],
                5 => vec![("dpa.pdf", "application/pdf", pdf("Data processing agreement"))],
                _ => vec![],
            };
            let labels: &[&str] = match i % 4 {
                0 => &["INBOX", "UNREAD", "Label_4"],
                1 => &["INBOX", "IMPORTANT"],
                2 => &["INBOX", "UNREAD"],
                _ => &["INBOX", "STARRED", "Label_5"],
            };
            seeds.push((Seed { from, to: &me, subject: &cust_subjects[i], text, html: i % 3 == 0, labels, attachments, ago_hours: 2 + i64::try_from(i).unwrap_or(0) * 13 }, None));
        }
        let sent_to = ["grace.hopper@example.com", "alan.turing@example.com", "hedy.lamarr@example.com"];
        let sent_subjects: Vec<String> = (0..8).map(|i| format!("Follow-up on our call ({})", i + 1)).collect();
        for (i, subject) in sent_subjects.iter().enumerate() {
            let to = *rng.pick(&sent_to);
            seeds.push((Seed { from: &me, to, subject, text: "Thanks for your time today. As promised, here is a summary of next steps.", html: false, labels: &["SENT"], attachments: vec![], ago_hours: 10 + i64::try_from(i).unwrap_or(0) * 41 }, None));
        }
        for (n, (s, reply_to)) in seeds.into_iter().enumerate() {
            let date = now - s.ago_hours * 3_600_000;
            let id = mb.new_id();
            let thread_id = reply_to.and_then(|i| mb.messages.get(i)).map_or_else(|| id.clone(), |m| m.thread_id.clone());
            let msg_id = format!("<{id}.{n}@mail.sandbox.example>");
            let mut headers = vec![
                ("From".to_string(), s.from.to_string()),
                ("To".to_string(), s.to.to_string()),
                ("Subject".to_string(), if reply_to.is_some() { format!("Re: {}", s.subject) } else { s.subject.to_string() }),
                ("Date".to_string(), rfc2822(date)),
                ("Message-ID".to_string(), msg_id),
            ];
            if let Some(first) = reply_to.and_then(|i| mb.messages.get(i)).and_then(|m| m.header("Message-ID")).map(str::to_string) {
                headers.push(("In-Reply-To".into(), first.clone()));
                headers.push(("References".into(), first));
            }
            let attachments = s
                .attachments
                .into_iter()
                .enumerate()
                .map(|(k, (f, m, d))| Att { id: format!("ANGjdJ{id}{k:02}"), filename: f.into(), mime: m.into(), data: d })
                .collect();
            mb.history_id += 1;
            mb.messages.push(Msg {
                id,
                thread_id,
                labels: s.labels.iter().map(|l| (*l).to_string()).collect(),
                internal_date: date,
                history_id: mb.history_id,
                headers,
                text: s.text.to_string(),
                html: s.html.then(|| format!("<div dir=\"ltr\">{}</div>", s.text.replace('\n', "<br>"))),
                attachments,
                raw: None,
            });
        }
        mb
    }

    /// Appends one unread inbox message from each sender, a minute apart, ending an hour ago.
    fn with_bulk_inbox(mut self, senders: &[String], now: i64) -> Self {
        let me = format!("Alex Morgan <{MAILBOX}>");
        let n = i64::try_from(senders.len()).unwrap_or(i64::MAX);
        for (i, from) in senders.iter().enumerate() {
            let date = now - 3_600_000 - (n - i64::try_from(i).unwrap_or(0)) * 60_000;
            let id = self.new_id();
            let history_id = self.bump();
            self.messages.push(Msg {
                thread_id: id.clone(),
                labels: vec!["INBOX".into(), "UNREAD".into()],
                internal_date: date,
                history_id,
                headers: vec![
                    ("From".into(), from.clone()),
                    ("To".into(), me.clone()),
                    ("Subject".into(), format!("Enquiry #{}", i + 1)),
                    ("Date".into(), rfc2822(date)),
                    ("Message-ID".into(), format!("<{id}.bulk@mail.sandbox.example>")),
                ],
                text: "Hello, could you send me more information about your plans?".into(),
                html: None,
                attachments: Vec::new(),
                raw: None,
                id,
            });
        }
        self
    }

    fn new_id(&mut self) -> String {
        self.next_id += 0x1_0357;
        format!("{:016x}", self.next_id)
    }

    fn bump(&mut self) -> u64 {
        self.history_id += 1;
        self.history_id
    }

    fn label(&self, key: &str) -> Option<&Label> {
        self.labels.iter().find(|l| l.id == key || l.name.eq_ignore_ascii_case(key) || l.name.replace([' ', '/'], "-").eq_ignore_ascii_case(key))
    }

    fn find(&self, id: &str) -> Option<usize> {
        self.messages.iter().position(|m| m.id == id)
    }
}

// ---------------------------------------------------------------- errors

fn gerror(code: u16, status: &str, reason: &str, message: &str) -> Response {
    let st = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    let domain = if matches!(reason, "rateLimitExceeded" | "userRateLimitExceeded") { "usageLimits" } else { "global" };
    (st, Json(json!({ "error": { "code": code, "message": message, "errors": [{ "message": message, "domain": domain, "reason": reason }], "status": status } }))).into_response()
}

fn bad(message: &str) -> Box<Response> {
    Box::new(gerror(400, "INVALID_ARGUMENT", "invalidArgument", message))
}

fn bad_precondition(message: &str) -> Box<Response> {
    Box::new(gerror(400, "FAILED_PRECONDITION", "failedPrecondition", message))
}

fn not_found() -> Box<Response> {
    Box::new(gerror(404, "NOT_FOUND", "notFound", "Requested entity was not found."))
}

fn insufficient_scope(method: &str) -> Box<Response> {
    let body = json!({ "error": {
        "code": 403,
        "message": "Request had insufficient authentication scopes.",
        "errors": [{ "message": "Insufficient Permission", "domain": "global", "reason": "insufficientPermissions" }],
        "status": "PERMISSION_DENIED",
        "details": [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com",
            "metadata": { "service": "gmail.googleapis.com", "method": format!("caribou.api.proto.MailboxService.{method}") } }],
    }});
    let mut r = (StatusCode::FORBIDDEN, Json(body)).into_response();
    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"https://accounts.google.com/\", error=\"insufficient_scope\""));
    Box::new(r)
}

fn unauthenticated() -> Box<Response> {
    let message = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";
    let body = json!({ "error": { "code": 401, "message": message,
        "errors": [{ "message": "Invalid Credentials", "domain": "global", "reason": "authError", "location": "Authorization", "locationType": "header" }],
        "status": "UNAUTHENTICATED" } });
    let mut r = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"https://accounts.google.com/\""));
    Box::new(r)
}

// ---------------------------------------------------------------- gate

struct Shared {
    oauth: Arc<OAuthServer>,
    quota: UnitWindow,
    limit_with_403: bool,
    mailbox: Arc<Mutex<Mailbox>>,
    stats: Arc<Stats>,
}

type St = State<Arc<Shared>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Scopes that allow each method (Gmail's discovery document).
fn allowed_scopes(method: &str) -> &'static [&'static str] {
    match method {
        "messages.list" | "messages.get" | "threads.list" | "threads.get" | "history.list" | "getProfile" => &[READONLY, METADATA, MODIFY, COMPOSE, FULL],
        "labels.list" => &[READONLY, METADATA, MODIFY, LABELS, FULL],
        "messages.attachments.get" | "drafts.list" | "drafts.get" => &[READONLY, MODIFY, COMPOSE, FULL],
        "messages.send" => &[SEND, COMPOSE, MODIFY, FULL],
        "drafts.create" | "drafts.update" | "drafts.send" | "drafts.delete" => &[COMPOSE, MODIFY, FULL],
        "messages.modify" | "messages.trash" | "messages.untrash" => &[MODIFY, FULL],
        _ => &[FULL],
    }
}

fn rpc_name(method: &str) -> String {
    let mut out = String::new();
    for part in method.split('.').rev() {
        let mut c = part.chars();
        if let Some(f) = c.next() {
            out.push(f.to_ascii_uppercase());
            out.push_str(c.as_str());
        }
    }
    out
}

struct Caller {
    metadata_only: bool,
}

impl Shared {
    /// Authenticates, checks the user id and the method's scopes, and charges its quota units.
    fn gate(&self, headers: &HeaderMap, user: &str, method: &str) -> Result<Caller, Box<Response>> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(unauthenticated)?;
        let AccessCheck::Valid(scopes) = self.oauth.check_access(token) else {
            return Err(unauthenticated());
        };
        if user != "me" && !user.eq_ignore_ascii_case(MAILBOX) {
            return Err(Box::new(gerror(403, "PERMISSION_DENIED", "forbidden", &format!("Delegation denied for {MAILBOX}"))));
        }
        let allowed = allowed_scopes(method);
        if !scopes.iter().any(|s| allowed.contains(&s.as_str())) {
            return Err(insufficient_scope(&rpc_name(method)));
        }
        if let Err(wait) = self.quota.admit(units(method)) {
            self.stats.rate_limited.fetch_add(1, Ordering::SeqCst);
            let (code, status, reason, msg) = if self.limit_with_403 {
                (403, "PERMISSION_DENIED", "userRateLimitExceeded", "User-rate limit exceeded.")
            } else {
                (429, "RESOURCE_EXHAUSTED", "rateLimitExceeded", "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service 'gmail.googleapis.com'.")
            };
            let mut r = gerror(code, status, reason, &format!("{msg} Retry after {}s.", wait.as_secs().max(1)));
            if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Err(Box::new(r));
        }
        let metadata_only = scopes.iter().all(|s| s == METADATA || s == LABELS || s == SEND);
        Ok(Caller { metadata_only })
    }
}

/// Query parameters in order (repeated ones kept), refusing names the method does not take.
fn params(raw: Option<&str>, known: &[&str]) -> Result<Vec<(String, String)>, Box<Response>> {
    const GLOBAL: &[&str] = &["alt", "fields", "key", "prettyPrint", "quotaUser", "access_token", "callback", "oauth_token", "uploadType", "upload_protocol", "$.xgafv"];
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !known.contains(&k.as_str()) && !GLOBAL.contains(&k.as_str())) {
        return Err(bad(&format!("Invalid JSON payload received. Unknown name \"{k}\": Cannot bind query parameter. Field '{k}' could not be found in request message.")));
    }
    Ok(pairs)
}

fn param<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn max_results(p: &[(String, String)], default: usize) -> Result<usize, Box<Response>> {
    match param(p, "maxResults") {
        None => Ok(default),
        Some(v) => match v.parse::<u32>() {
            Ok(0) => Ok(default),
            Ok(n) => Ok(usize::try_from(n).unwrap_or(500).min(500)),
            Err(_) => Err(bad(&format!("Invalid value at 'max_results' (TYPE_UINT32), \"{v}\""))),
        },
    }
}

fn page_start(p: &[(String, String)]) -> Result<usize, Box<Response>> {
    match param(p, "pageToken") {
        None | Some("") => Ok(0),
        Some(t) => t.parse::<usize>().map_err(|_| bad("Invalid pageToken")),
    }
}

fn page_token(offset: usize) -> String {
    format!("{offset:020}")
}

fn json_body(body: &Bytes) -> Result<Value, Box<Response>> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| bad("Invalid JSON payload received. Expected an object."))
}

fn refuse_unknown(v: &Value, at: &str, known: &[&str]) -> Result<(), Box<Response>> {
    if let Some(k) = v.as_object().and_then(|o| o.keys().find(|k| !known.contains(&k.as_str()))) {
        let place = if at.is_empty() { String::new() } else { format!(" at '{at}'") };
        return Err(bad(&format!("Invalid JSON payload received. Unknown name \"{k}\"{place}: Cannot find field.")));
    }
    Ok(())
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 40 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

type Handled = Result<Response, Box<Response>>;

fn done(r: Handled) -> Response {
    r.unwrap_or_else(|e| *e)
}

// ---------------------------------------------------------------- OAuth

async fn authorize(State(s): St, Query(q): Query<HashMap<String, String>>) -> Response {
    s.oauth.authorize_page(&q)
}

async fn decide(State(s): St, Form(f): Form<HashMap<String, String>>) -> Response {
    s.oauth.decide(&f)
}

async fn token(State(s): St, Form(f): Form<HashMap<String, String>>) -> Response {
    match s.oauth.token(&f) {
        Ok(t) => Json(json!({
            "access_token": t.access_token,
            "expires_in": t.expires_in,
            "refresh_token": t.refresh_token,
            "scope": t.scopes.join(" "),
            "token_type": "Bearer",
        }))
        .into_response(),
        Err(e) => {
            let status = if e.error == "invalid_client" { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
            (status, Json(json!({ "error": e.error, "error_description": e.description }))).into_response()
        }
    }
}

async fn revoke(State(s): St, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let mut fields: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    fields.extend(url::form_urlencoded::parse(q.unwrap_or_default().as_bytes()).into_owned());
    match fields.get("token").filter(|t| !t.is_empty()) {
        Some(t) if s.oauth.revoke_refresh(t) => Json(json!({})).into_response(),
        Some(_) => (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_token", "error_description": "Token expired or revoked" }))).into_response(),
        None => (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_request", "error_description": "Bad Request" }))).into_response(),
    }
}

// ---------------------------------------------------------------- rendering

fn part_headers(mime: &str) -> Value {
    json!([{ "name": "Content-Type", "value": format!("{mime}; charset=\"UTF-8\"") }])
}

fn text_part(part_id: &str, mime: &str, body: &str) -> Value {
    json!({ "partId": part_id, "mimeType": mime, "filename": "", "headers": part_headers(mime),
        "body": { "size": body.len(), "data": b64url(body.as_bytes()) } })
}

fn payload(m: &Msg, metadata_headers: Option<&[String]>) -> Value {
    let content = |prefix: &str| -> Value {
        let id = |n: usize| if prefix.is_empty() { n.to_string() } else { format!("{prefix}.{n}") };
        match &m.html {
            Some(h) => json!({ "partId": prefix, "mimeType": "multipart/alternative", "filename": "",
                "headers": [{ "name": "Content-Type", "value": "multipart/alternative; boundary=\"alt\"" }],
                "body": { "size": 0 }, "parts": [text_part(&id(0), "text/plain", &m.text), text_part(&id(1), "text/html", h)] }),
            None => text_part(prefix, "text/plain", &m.text),
        }
    };
    let mut top = if m.attachments.is_empty() {
        content("")
    } else {
        let mut parts = vec![content("0")];
        for (i, a) in m.attachments.iter().enumerate() {
            parts.push(json!({
                "partId": (i + 1).to_string(), "mimeType": a.mime, "filename": a.filename,
                "headers": [
                    { "name": "Content-Type", "value": format!("{}; name=\"{}\"", a.mime, a.filename) },
                    { "name": "Content-Disposition", "value": format!("attachment; filename=\"{}\"", a.filename) },
                    { "name": "Content-Transfer-Encoding", "value": "base64" },
                ],
                "body": { "attachmentId": a.id, "size": a.data.len() },
            }));
        }
        json!({ "partId": "", "mimeType": "multipart/mixed", "filename": "", "body": { "size": 0 }, "parts": parts })
    };
    let ct = match (&m.attachments.is_empty(), &m.html) {
        (false, _) => "multipart/mixed; boundary=\"mixed\"".to_string(),
        (true, Some(_)) => "multipart/alternative; boundary=\"alt\"".to_string(),
        (true, None) => "text/plain; charset=\"UTF-8\"".to_string(),
    };
    let mut hs: Vec<Value> = m.headers.iter().map(|(k, v)| json!({ "name": k, "value": v })).collect();
    hs.push(json!({ "name": "MIME-Version", "value": "1.0" }));
    hs.push(json!({ "name": "Content-Type", "value": ct }));
    if let Some(only) = metadata_headers {
        hs.retain(|h| only.is_empty() || only.iter().any(|o| h["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(o))));
        let mime = top["mimeType"].clone();
        return json!({ "partId": "", "mimeType": mime, "filename": "", "headers": hs });
    }
    top["headers"] = Value::Array(hs);
    top["partId"] = json!("");
    top
}

fn message_json(m: &Msg, format: &str, metadata_headers: &[String]) -> Value {
    let raw = m.render();
    let mut v = json!({
        "id": m.id, "threadId": m.thread_id, "labelIds": m.labels, "snippet": m.snippet(),
        "sizeEstimate": raw.len(), "historyId": m.history_id.to_string(), "internalDate": m.internal_date.to_string(),
    });
    match format {
        "minimal" => {}
        "raw" => v["raw"] = json!(b64url(&raw)),
        "metadata" => v["payload"] = payload(m, Some(metadata_headers)),
        _ => v["payload"] = payload(m, None),
    }
    v
}

fn short(m: &Msg) -> Value {
    json!({ "id": m.id, "threadId": m.thread_id, "labelIds": m.labels })
}

// ---------------------------------------------------------------- search

enum Term {
    Word(String),
    Op(String, String),
}

fn tokens(q: &str) -> Vec<(bool, Term)> {
    let mut out = Vec::new();
    let mut chars = q.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut tok = String::new();
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            if c == '"' {
                quoted = !quoted;
                chars.next();
                continue;
            }
            if c.is_whitespace() && !quoted {
                break;
            }
            tok.push(c);
            chars.next();
        }
        let (neg, tok) = match tok.strip_prefix('-') {
            Some(rest) if !rest.is_empty() => (true, rest.to_string()),
            _ => (false, tok),
        };
        let term = match tok.split_once(':') {
            Some((op, val)) if !op.is_empty() && !val.is_empty() && op.chars().all(|c| c.is_ascii_alphabetic() || c == '_') => {
                Term::Op(op.to_ascii_lowercase(), val.to_lowercase())
            }
            _ => Term::Word(tok.to_lowercase()),
        };
        if !matches!(&term, Term::Word(w) if w.is_empty() || w == "and") {
            out.push((neg, term));
        }
    }
    out
}

fn age_ms(v: &str) -> Option<i64> {
    let (n, unit) = v.split_at(v.len().checked_sub(1)?);
    let n: i64 = n.parse().ok()?;
    let day = 86_400_000;
    Some(n * match unit {
        "h" => 3_600_000,
        "d" => day,
        "m" => 30 * day,
        "y" => 365 * day,
        _ => return None,
    })
}

fn ymd_ms(v: &str) -> Option<i64> {
    let mut it = v.split(['/', '-']).map(|p| p.parse::<i32>().ok());
    let (y, m, d) = (it.next()??, it.next()??, it.next()??);
    let date = time::Date::from_calendar_date(y, time::Month::try_from(u8::try_from(m).ok()?).ok()?, u8::try_from(d).ok()?).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

/// Whether `m` matches the parsed query; `Err` names an operator value Gmail would reject.
fn matches(mb: &Mailbox, m: &Msg, terms: &[(bool, Term)], now: i64) -> Result<bool, String> {
    let has = |h: &str, v: &str| m.header(h).is_some_and(|x| x.to_lowercase().contains(v));
    for (neg, t) in terms {
        let hit = match t {
            Term::Word(w) => {
                has("Subject", w)
                    || has("From", w)
                    || has("To", w)
                    || m.text.to_lowercase().contains(w.as_str())
                    || m.attachments.iter().any(|a| a.filename.to_lowercase().contains(w.as_str()))
            }
            Term::Op(op, v) => match op.as_str() {
                "from" => has("From", v),
                "to" => has("To", v) || has("Cc", v),
                "cc" => has("Cc", v),
                "subject" => has("Subject", v),
                "label" => mb.label(v).is_some_and(|l| m.labels.contains(&l.id)),
                "in" => match v.as_str() {
                    "anywhere" => true,
                    other => mb.label(other).is_some_and(|l| m.labels.contains(&l.id)),
                },
                "is" => match v.as_str() {
                    "unread" => m.labels.iter().any(|l| l == "UNREAD"),
                    "read" => !m.labels.iter().any(|l| l == "UNREAD"),
                    "starred" => m.labels.iter().any(|l| l == "STARRED"),
                    "important" => m.labels.iter().any(|l| l == "IMPORTANT"),
                    _ => false,
                },
                "has" => match v.as_str() {
                    "attachment" => !m.attachments.is_empty(),
                    _ => false,
                },
                "filename" => m.attachments.iter().any(|a| a.filename.to_lowercase().contains(v.as_str())),
                "newer_than" | "older_than" => {
                    let age = age_ms(v).ok_or_else(|| format!("Invalid {op} value: {v}"))?;
                    if op == "newer_than" { m.internal_date >= now - age } else { m.internal_date < now - age }
                }
                "after" | "before" => {
                    let at = ymd_ms(v).or_else(|| v.parse::<i64>().ok().map(|s| s * 1000)).ok_or_else(|| format!("Invalid {op} value: {v}"))?;
                    if op == "after" { m.internal_date >= at } else { m.internal_date < at }
                }
                "category" => m.labels.iter().any(|l| l.eq_ignore_ascii_case(&format!("CATEGORY_{v}"))),
                _ => m.text.to_lowercase().contains(&format!("{op}:{v}")),
            },
        };
        if hit == *neg {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Messages matching `q`, `labelIds` and the spam/trash rule, newest first.
fn search<'a>(mb: &'a Mailbox, p: &[(String, String)]) -> Result<Vec<&'a Msg>, Box<Response>> {
    let terms = tokens(param(p, "q").unwrap_or_default());
    let label_ids: Vec<&str> = p.iter().filter(|(k, _)| k == "labelIds").map(|(_, v)| v.as_str()).collect();
    if let Some(bad_label) = label_ids.iter().find(|l| !mb.labels.iter().any(|x| x.id == **l)) {
        return Err(bad(&format!("Invalid label: {bad_label}")));
    }
    let include_spam_trash = param(p, "includeSpamTrash") == Some("true");
    let asks_bin = terms.iter().any(|(n, t)| !n && matches!(t, Term::Op(o, v) if (o == "in" || o == "label") && matches!(v.as_str(), "trash" | "spam" | "anywhere")))
        || label_ids.iter().any(|l| *l == "TRASH" || *l == "SPAM");
    let now = now_ms();
    let mut out = Vec::new();
    for m in &mb.messages {
        if m.labels.iter().any(|l| l == "DRAFT") && !label_ids.contains(&"DRAFT") && !terms.iter().any(|(_, t)| matches!(t, Term::Op(o, v) if o == "in" && v == "drafts")) {
            continue;
        }
        if !include_spam_trash && !asks_bin && m.labels.iter().any(|l| l == "TRASH" || l == "SPAM") {
            continue;
        }
        if !label_ids.iter().all(|l| m.labels.iter().any(|x| x == l)) {
            continue;
        }
        if matches(mb, m, &terms, now).map_err(|e| bad(&e))? {
            out.push(m);
        }
    }
    out.sort_by(|a, b| b.internal_date.cmp(&a.internal_date).then(b.id.cmp(&a.id)));
    Ok(out)
}

// ---------------------------------------------------------------- handlers

async fn profile(State(s): St, Path(user): Path<String>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    done((|| {
        s.gate(&headers, &user, "getProfile")?;
        params(q.as_deref(), &[])?;
        let mb = lock(&s.mailbox);
        let threads: std::collections::BTreeSet<&str> = mb.messages.iter().map(|m| m.thread_id.as_str()).collect();
        Ok(Json(json!({ "emailAddress": MAILBOX, "messagesTotal": mb.messages.len(), "threadsTotal": threads.len(), "historyId": mb.history_id.to_string() })).into_response())
    })())
}

const LIST_PARAMS: &[&str] = &["q", "labelIds", "maxResults", "pageToken", "includeSpamTrash"];

async fn messages_list(State(s): St, Path(user): Path<String>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    done((|| {
        let caller = s.gate(&headers, &user, "messages.list")?;
        let p = params(q.as_deref(), LIST_PARAMS)?;
        if caller.metadata_only && param(&p, "q").is_some() {
            return Err(Box::new(gerror(403, "PERMISSION_DENIED", "forbidden", "Metadata scope does not support 'q' parameter")));
        }
        let (limit, start) = (max_results(&p, 100)?, page_start(&p)?);
        let mb = lock(&s.mailbox);
        let all = search(&mb, &p)?;
        let page: Vec<Value> = all.iter().skip(start).take(limit).map(|m| json!({ "id": m.id, "threadId": m.thread_id })).collect();
        let mut body = json!({ "resultSizeEstimate": all.len() });
        if !page.is_empty() {
            body["messages"] = Value::Array(page);
        }
        if start + limit < all.len() {
            body["nextPageToken"] = json!(page_token(start + limit));
        }
        Ok(Json(body).into_response())
    })())
}

fn format_param(p: &[(String, String)], caller: &Caller) -> Result<String, Box<Response>> {
    let f = param(p, "format").unwrap_or("full").to_ascii_lowercase();
    if !matches!(f.as_str(), "full" | "metadata" | "minimal" | "raw") {
        return Err(bad(&format!("Invalid value at 'format' (type.googleapis.com/caribou.api.proto.MessageFormat), \"{f}\"")));
    }
    if caller.metadata_only && matches!(f.as_str(), "full" | "raw") {
        return Err(Box::new(gerror(403, "PERMISSION_DENIED", "forbidden", &format!("Metadata scope doesn't allow format {}", f.to_uppercase()))));
    }
    Ok(f)
}

async fn messages_get(State(s): St, Path((user, id)): Path<(String, String)>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    done((|| {
        let caller = s.gate(&headers, &user, "messages.get")?;
        let p = params(q.as_deref(), &["format", "metadataHeaders"])?;
        let format = format_param(&p, &caller)?;
        let mh: Vec<String> = p.iter().filter(|(k, _)| k == "metadataHeaders").map(|(_, v)| v.clone()).collect();
        if !valid_id(&id) {
            return Err(bad("Invalid id value"));
        }
        let mb = lock(&s.mailbox);
        let m = mb.find(&id).map(|i| &mb.messages[i]).ok_or_else(not_found)?;
        Ok(Json(message_json(m, &format, &mh)).into_response())
    })())
}

async fn attachments_get(State(s): St, Path((user, mid, id)): Path<(String, String, String)>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    done((|| {
        s.gate(&headers, &user, "messages.attachments.get")?;
        params(q.as_deref(), &[])?;
        if !valid_id(&mid) {
            return Err(bad("Invalid id value"));
        }
        let mb = lock(&s.mailbox);
        let m = mb.find(&mid).map(|i| &mb.messages[i]).ok_or_else(not_found)?;
        let a = m.attachments.iter().find(|a| a.id == id).ok_or_else(|| bad("Invalid attachment token"))?;
        Ok(Json(json!({ "attachmentId": a.id, "size": a.data.len(), "data": b64url(&a.data) })).into_response())
    })())
}

fn label_changes(mb: &Mailbox, v: &Value, field: &str) -> Result<Vec<String>, Box<Response>> {
    let list = match v.get(field) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(bad(&format!("Invalid value at '{}' (TYPE_STRING), expected a list", field))),
    };
    let mut out = Vec::new();
    for l in list {
        let id = l.as_str().ok_or_else(|| bad(&format!("Invalid value at '{field}' (TYPE_STRING)")))?;
        if !mb.labels.iter().any(|x| x.id == id) {
            return Err(bad(&format!("Invalid label: {id}")));
        }
        if matches!(id, "DRAFT" | "SENT" | "CHAT") {
            return Err(bad(&format!("Invalid label: {id}")));
        }
        out.push(id.to_string());
    }
    Ok(out)
}

async fn messages_modify(State(s): St, Path((user, id)): Path<(String, String)>, headers: HeaderMap, body: Bytes) -> Response {
    done((|| {
        s.gate(&headers, &user, "messages.modify")?;
        let v = json_body(&body)?;
        refuse_unknown(&v, "", &["addLabelIds", "removeLabelIds"])?;
        if !valid_id(&id) {
            return Err(bad("Invalid id value"));
        }
        let mut mb = lock(&s.mailbox);
        let add = label_changes(&mb, &v, "addLabelIds")?;
        let remove = label_changes(&mb, &v, "removeLabelIds")?;
        if add.is_empty() && remove.is_empty() {
            return Err(bad("No label add or removes specified"));
        }
        let i = mb.find(&id).ok_or_else(not_found)?;
        let h = mb.bump();
        let m = &mut mb.messages[i];
        m.labels.retain(|l| !remove.contains(l));
        for a in add {
            if !m.labels.contains(&a) {
                m.labels.push(a);
            }
        }
        m.history_id = h;
        Ok(Json(short(m)).into_response())
    })())
}

fn set_trash(s: &Shared, headers: &HeaderMap, user: &str, id: &str, method: &str, trash: bool) -> Handled {
    s.gate(headers, user, method)?;
    if !valid_id(id) {
        return Err(bad("Invalid id value"));
    }
    let mut mb = lock(&s.mailbox);
    let i = mb.find(id).ok_or_else(not_found)?;
    let h = mb.bump();
    let m = &mut mb.messages[i];
    m.labels.retain(|l| l != "TRASH");
    if trash {
        m.labels.push("TRASH".into());
    }
    m.history_id = h;
    Ok(Json(short(m)).into_response())
}

async fn messages_trash(State(s): St, Path((user, id)): Path<(String, String)>, headers: HeaderMap) -> Response {
    done(set_trash(&s, &headers, &user, &id, "messages.trash", true))
}

async fn messages_untrash(State(s): St, Path((user, id)): Path<(String, String)>, headers: HeaderMap) -> Response {
    done(set_trash(&s, &headers, &user, &id, "messages.untrash", false))
}

/// A message parsed from submitted RFC 2822 bytes.
/// Headers, the text body and the HTML body, if any.
type Parsed = (Vec<(String, String)>, String, Option<String>);

fn parse_raw(raw: &[u8]) -> Result<Parsed, String> {
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((text.as_str(), ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
            continue;
        }
        let (k, v) = line.split_once(':').ok_or_else(|| format!("Invalid header line: {line}"))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let get = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.clone());
    let decode = |hs: &[(String, String)], b: &str| -> String {
        let cte = hs.iter().find(|(k, _)| k.eq_ignore_ascii_case("Content-Transfer-Encoding")).map(|(_, v)| v.to_ascii_lowercase());
        if cte.as_deref() == Some("base64") {
            let joined: String = b.split_whitespace().collect();
            base64::engine::general_purpose::STANDARD.decode(joined).map(|d| String::from_utf8_lossy(&d).into_owned()).unwrap_or_default()
        } else {
            b.trim_end().to_string()
        }
    };
    let ct = get("Content-Type").unwrap_or_else(|| "text/plain".into());
    if let Some(boundary) = ct.split(';').find_map(|p| p.trim().strip_prefix("boundary=")).map(|b| b.trim_matches('"').to_string()) {
        let (mut plain, mut html) = (String::new(), None);
        for section in body.split(&format!("--{boundary}")).skip(1) {
            if section.starts_with("--") {
                break;
            }
            let section = section.trim_start_matches('\n');
            let (ph, pb) = section.split_once("\n\n").unwrap_or((section, ""));
            let phs: Vec<(String, String)> = ph.lines().filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
            let pct = phs.iter().find(|(k, _)| k.eq_ignore_ascii_case("Content-Type")).map(|(_, v)| v.to_ascii_lowercase()).unwrap_or_default();
            if pct.starts_with("text/html") {
                html = Some(decode(&phs, pb));
            } else if pct.starts_with("text/plain") || pct.is_empty() {
                plain = decode(&phs, pb);
            }
        }
        return Ok((headers, plain, html));
    }
    let plain = decode(&headers, body);
    if ct.to_ascii_lowercase().starts_with("text/html") {
        return Ok((headers, String::new(), Some(plain)));
    }
    Ok((headers, plain, None))
}

/// A new message from `{raw, threadId?}`, labelled `labels`; `Err` is Gmail's refusal.
fn new_message(mb: &mut Mailbox, message: &Value, labels: &[&str], need_recipient: bool) -> Result<Msg, Box<Response>> {
    refuse_unknown(message, "message", &["raw", "threadId", "id", "labelIds"])?;
    let raw_s = match message.get("raw") {
        Some(Value::String(r)) if !r.is_empty() => r,
        _ => return Err(bad("'raw' RFC822 payload message string or uploading message via /upload/* URL required")),
    };
    let raw = decode_b64url(raw_s).ok_or_else(|| bad("Invalid value at 'message.raw' (TYPE_BYTES), Base64 decoding failed"))?;
    let (mut headers, text, html) = parse_raw(&raw).map_err(|e| bad(&e))?;
    let recipients = headers.iter().any(|(k, v)| ["to", "cc", "bcc"].contains(&k.to_ascii_lowercase().as_str()) && v.contains('@'));
    if need_recipient && !recipients {
        return Err(bad("Recipient address required"));
    }
    let thread_id = match message.get("threadId").and_then(Value::as_str) {
        Some(t) if !t.is_empty() => {
            if !mb.messages.iter().any(|m| m.thread_id == t) {
                return Err(not_found());
            }
            Some(t.to_string())
        }
        _ => None,
    };
    let id = mb.new_id();
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("From")) {
        headers.insert(0, ("From".into(), MAILBOX.into()));
    }
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("Message-ID")) {
        headers.push(("Message-ID".into(), format!("<{id}@mail.sandbox.example>")));
    }
    let now = now_ms();
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("Date")) {
        headers.push(("Date".into(), rfc2822(now)));
    }
    let h = mb.bump();
    Ok(Msg {
        thread_id: thread_id.unwrap_or_else(|| id.clone()),
        id,
        labels: labels.iter().map(|l| (*l).to_string()).collect(),
        internal_date: now,
        history_id: h,
        headers,
        text,
        html,
        attachments: Vec::new(),
        raw: Some(raw),
    })
}

async fn messages_send(State(s): St, Path(user): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    done((|| {
        s.gate(&headers, &user, "messages.send")?;
        let v = json_body(&body)?;
        let mut mb = lock(&s.mailbox);
        let m = new_message(&mut mb, &v, &["SENT"], true)?;
        let out = short(&m);
        mb.messages.push(m);
        Ok(Json(out).into_response())
    })())
}

async fn threads_list(State(s): St, Path(user): Path<String>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    done((|| {
        let caller = s.gate(&headers, &user, "threads.list")?;
        let p = params(q.as_deref(), LIST_PARAMS)?;
        if caller.metadata_only && param(&p, "q").is_some() {
            return Err(Box::new(gerror(403, "PERMISSION_DENIED", "forbidden", "Metadata scope does not support 'q' parameter")));
        }
        let (limit, start) = (max_results(&p, 100)?, page_start(&p)?);
        let mb = lock(&s.mailbox);
        let found = search(&mb, &p)?;
        let mut seen: Vec<&str> = Vec::new();
        let mut threads: Vec<Value> = Vec::new();
        for m in &found {
            if seen.contains(&m.thread_id.as_str()) {
                continue;
            }
            seen.push(&m.thread_id);
            let hid = mb.messages.iter().filter(|x| x.thread_id == m.thread_id).map(|x| x.history_id).max().unwrap_or(m.history_id);
            threads.push(json!({ "id": m.thread_id, "snippet": m.snippet(), "historyId": hid.to_string() }));
        }
        let total = threads.len();
        let page: Vec<Value> = threads.into_iter().skip(start).take(limit).collect();
        let mut body = json!({ "resultSizeEstimate": total });
        if !page.is_empty() {
            body["threads"] = Value::Array(page);
        }
        if start + limit < total {
            body["nextPageToken"] = json!(page_token(start + limit));
        }
        Ok(Json(body).into_response())
    })())
}

async fn threads_get(State(s): St, Path((user, id)): Path<(String, String)>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    done((|| {
        let caller = s.gate(&headers, &user, "threads.get")?;
        let p = params(q.as_deref(), &["format", "metadataHeaders"])?;
        let format = format_param(&p, &caller)?;
        if format == "raw" {
            return Err(bad("Invalid value at 'format': RAW is not supported for threads"));
        }
        let mh: Vec<String> = p.iter().filter(|(k, _)| k == "metadataHeaders").map(|(_, v)| v.clone()).collect();
        if !valid_id(&id) {
            return Err(bad("Invalid id value"));
        }
        let mb = lock(&s.mailbox);
        let mut msgs: Vec<&Msg> = mb.messages.iter().filter(|m| m.thread_id == id && !m.labels.iter().any(|l| l == "DRAFT")).collect();
        if msgs.is_empty() {
            return Err(not_found());
        }
        msgs.sort_by_key(|m| m.internal_date);
        let hid = msgs.iter().map(|m| m.history_id).max().unwrap_or_default();
        let messages: Vec<Value> = msgs.iter().map(|m| message_json(m, &format, &mh)).collect();
        Ok(Json(json!({ "id": id, "historyId": hid.to_string(), "messages": messages })).into_response())
    })())
}

async fn labels_list(State(s): St, Path(user): Path<String>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    done((|| {
        s.gate(&headers, &user, "labels.list")?;
        params(q.as_deref(), &[])?;
        let mb = lock(&s.mailbox);
        let labels: Vec<Value> = mb
            .labels
            .iter()
            .map(|l| {
                if l.system {
                    json!({ "id": l.id, "name": l.name, "type": "system" })
                } else {
                    json!({ "id": l.id, "name": l.name, "type": "user", "messageListVisibility": "show", "labelListVisibility": "labelShow" })
                }
            })
            .collect();
        Ok(Json(json!({ "labels": labels })).into_response())
    })())
}

fn draft_json(mb: &Mailbox, draft_id: &str, message_id: &str, format: Option<&str>) -> Value {
    let m = mb.find(message_id).map(|i| &mb.messages[i]);
    let message = match (m, format) {
        (Some(m), Some(f)) => message_json(m, f, &[]),
        (Some(m), None) => short(m),
        (None, _) => json!({ "id": message_id }),
    };
    json!({ "id": draft_id, "message": message })
}

fn draft_message(v: &Value) -> Result<&Value, Box<Response>> {
    v.get("message").filter(|m| m.is_object()).ok_or_else(|| bad("Message is required"))
}

async fn drafts_create(State(s): St, Path(user): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    done((|| {
        s.gate(&headers, &user, "drafts.create")?;
        let v = json_body(&body)?;
        refuse_unknown(&v, "", &["id", "message"])?;
        let mut mb = lock(&s.mailbox);
        let m = new_message(&mut mb, draft_message(&v)?, &["DRAFT"], false)?;
        let draft_id = format!("r-{}", u64::from_str_radix(&m.id, 16).unwrap_or_default() % 10_000_000_000_000_000_000);
        let mid = m.id.clone();
        mb.messages.push(m);
        mb.drafts.push((draft_id.clone(), mid.clone()));
        Ok(Json(draft_json(&mb, &draft_id, &mid, None)).into_response())
    })())
}

fn valid_draft_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 40 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

async fn drafts_update(State(s): St, Path((user, id)): Path<(String, String)>, headers: HeaderMap, body: Bytes) -> Response {
    done((|| {
        s.gate(&headers, &user, "drafts.update")?;
        let v = json_body(&body)?;
        refuse_unknown(&v, "", &["id", "message"])?;
        if !valid_draft_id(&id) {
            return Err(bad("Invalid draft id"));
        }
        let mut mb = lock(&s.mailbox);
        let pos = mb.drafts.iter().position(|(d, _)| *d == id).ok_or_else(not_found)?;
        let old_mid = mb.drafts[pos].1.clone();
        let mut m = new_message(&mut mb, draft_message(&v)?, &["DRAFT"], false)?;
        if let Some(i) = mb.find(&old_mid) {
            let old = mb.messages.remove(i);
            if v["message"].get("threadId").and_then(Value::as_str).is_none() && old.thread_id != old.id {
                m.thread_id = old.thread_id;
            }
        }
        let mid = m.id.clone();
        mb.messages.push(m);
        mb.drafts[pos].1 = mid.clone();
        Ok(Json(draft_json(&mb, &id, &mid, None)).into_response())
    })())
}

async fn drafts_send(State(s): St, Path(user): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    done((|| {
        s.gate(&headers, &user, "drafts.send")?;
        let v = json_body(&body)?;
        refuse_unknown(&v, "", &["id", "message"])?;
        let id = v.get("id").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(|| bad("Invalid draft: the draft id is required"))?.to_string();
        let mut mb = lock(&s.mailbox);
        let pos = mb.drafts.iter().position(|(d, _)| *d == id).ok_or_else(not_found)?;
        let mid = mb.drafts[pos].1.clone();
        let i = mb.find(&mid).ok_or_else(not_found)?;
        let m = &mb.messages[i];
        let has_recipient = m.headers.iter().any(|(k, v)| ["to", "cc", "bcc"].contains(&k.to_ascii_lowercase().as_str()) && v.contains('@'));
        if !has_recipient {
            return Err(bad_precondition("Recipient address required"));
        }
        mb.drafts.remove(pos);
        let h = mb.bump();
        let m = &mut mb.messages[i];
        m.labels = vec!["SENT".into()];
        m.history_id = h;
        m.internal_date = now_ms();
        Ok(Json(short(m)).into_response())
    })())
}

async fn drafts_get(State(s): St, Path((user, id)): Path<(String, String)>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    done((|| {
        let caller = s.gate(&headers, &user, "drafts.get")?;
        let p = params(q.as_deref(), &["format"])?;
        let format = format_param(&p, &caller)?;
        let mb = lock(&s.mailbox);
        let (_, mid) = mb.drafts.iter().find(|(d, _)| *d == id).ok_or_else(not_found)?;
        Ok(Json(draft_json(&mb, &id, mid, Some(&format))).into_response())
    })())
}

async fn drafts_list(State(s): St, Path(user): Path<String>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    done((|| {
        s.gate(&headers, &user, "drafts.list")?;
        let p = params(q.as_deref(), &["maxResults", "pageToken", "q", "includeSpamTrash"])?;
        let (limit, start) = (max_results(&p, 100)?, page_start(&p)?);
        let mb = lock(&s.mailbox);
        let all: Vec<Value> = mb.drafts.iter().rev().map(|(d, m)| draft_json(&mb, d, m, None)).collect();
        let mut body = json!({ "resultSizeEstimate": all.len() });
        let page: Vec<Value> = all.iter().skip(start).take(limit).cloned().collect();
        if !page.is_empty() {
            body["drafts"] = Value::Array(page);
        }
        if start + limit < all.len() {
            body["nextPageToken"] = json!(page_token(start + limit));
        }
        Ok(Json(body).into_response())
    })())
}

async fn drafts_delete(State(s): St, Path((user, id)): Path<(String, String)>, headers: HeaderMap) -> Response {
    done((|| {
        s.gate(&headers, &user, "drafts.delete")?;
        let mut mb = lock(&s.mailbox);
        let pos = mb.drafts.iter().position(|(d, _)| *d == id).ok_or_else(not_found)?;
        let (_, mid) = mb.drafts.remove(pos);
        if let Some(i) = mb.find(&mid) {
            mb.messages.remove(i);
        }
        mb.bump();
        Ok(StatusCode::NO_CONTENT.into_response())
    })())
}

/// `history.list`: the messages changed after `startHistoryId` (as `messagesAdded` records for
/// new ones and `labelsAdded` for changed ones; the sandbox keeps the latest change only).
async fn history_list(State(s): St, Path(user): Path<String>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    done((|| {
        s.gate(&headers, &user, "history.list")?;
        let p = params(q.as_deref(), &["startHistoryId", "maxResults", "pageToken", "labelId", "historyTypes"])?;
        let start_id: u64 = param(&p, "startHistoryId").ok_or_else(|| bad("Required parameter: startHistoryId"))?.parse().map_err(|_| bad("Invalid startHistoryId"))?;
        let (limit, start) = (max_results(&p, 100)?, page_start(&p)?);
        let mb = lock(&s.mailbox);
        // Gmail answers 404 for a start older than the history it still keeps: the client
        // must do a full sync and take a fresh historyId from the profile.
        if start_id < mb.history_floor {
            return Err(not_found());
        }
        let mut changed: Vec<&Msg> = mb.messages.iter().filter(|m| m.history_id > start_id).collect();
        changed.sort_by_key(|m| m.history_id);
        let page: Vec<Value> = changed
            .iter()
            .skip(start)
            .take(limit)
            .map(|m| json!({ "id": m.history_id.to_string(), "messages": [{ "id": m.id, "threadId": m.thread_id }], "messagesAdded": [{ "message": short(m) }] }))
            .collect();
        let mut body = json!({ "historyId": mb.history_id.to_string() });
        if !page.is_empty() {
            body["history"] = Value::Array(page);
        }
        if start + limit < changed.len() {
            body["nextPageToken"] = json!(page_token(start + limit));
        }
        Ok(Json(body).into_response())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeded_mailbox_has_what_the_workflows_need() {
        let mb = Mailbox::seeded(now_ms());
        assert!((90..=110).contains(&mb.messages.len()), "about 100 messages: {}", mb.messages.len());
        let lead: Vec<&Msg> = mb.messages.iter().filter(|m| m.header("Subject").is_some_and(|s| s.contains(LEAD_SUBJECT))).collect();
        assert_eq!(lead.len(), 3);
        assert!(lead.iter().all(|m| m.thread_id == lead[0].thread_id), "the lead's messages are one thread");
        let mimes: std::collections::BTreeSet<&str> = mb.messages.iter().flat_map(|m| m.attachments.iter().map(|a| a.mime.as_str())).collect();
        for m in ["application/pdf", "image/png", "text/csv"] {
            assert!(mimes.contains(m), "an attachment of type {m}");
        }
    }

    #[test]
    fn search_terms_parse_like_gmail() {
        let t = tokens("from:ada subject:\"analytical engine\" -label:Newsletters is:unread words");
        assert_eq!(t.len(), 5);
        assert!(matches!(&t[1].1, Term::Op(o, v) if o == "subject" && v == "analytical engine"));
        assert!(t[2].0, "a leading minus negates");
    }

    #[test]
    fn raw_messages_parse_with_alternative_parts() {
        let raw = "To: a@example.com\r\nSubject: Hi\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8=\r\n--b1\r\nContent-Type: text/html; charset=\"UTF-8\"\r\n\r\n<p>Hello</p>\r\n--b1--\r\n";
        let (h, text, html) = parse_raw(raw.as_bytes()).expect("parses");
        assert_eq!(h[1], ("Subject".to_string(), "Hi".to_string()));
        assert_eq!(text, "Hello");
        assert_eq!(html.as_deref(), Some("<p>Hello</p>"));
    }

    #[test]
    fn quota_is_counted_in_units() {
        let w = UnitWindow::new(200, Duration::from_secs(60));
        assert!(w.admit(100).is_ok() && w.admit(100).is_ok());
        assert!(w.admit(5).is_err(), "a third call over 200 units is refused");
    }
}
