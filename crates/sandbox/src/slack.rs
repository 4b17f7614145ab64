//! Slack, simulated: the Web API methods a workspace bot uses, with a seeded workspace, bot
//! tokens (`xoxb-…`), per-method scope checks, Slack's `{"ok": false, "error": …}` answers,
//! cursor pagination and the per-method rate-limit tiers; plus the Events API: once the app's
//! request URL passed the `url_verification` handshake ([`SlackSim::set_request_url`]), every
//! message in a channel the bot is in (a person's, [`SlackSim::post_as`], or the bot's own) is
//! delivered in the background as an `event_callback`, signed exactly as Slack signs ([`sign`]).
//!
//! What it follows (see `shared/reference/providers.md` §3.4 and §1.3, and
//! `shared/specs/slack/web-api-subset.json`):
//! * every method is `https://slack.com/api/{method}` (here `{base}/api/{method}`); arguments come
//!   from the query string, a form body, or a JSON body (`Content-Type: application/json`);
//!   the token from `Authorization: Bearer xoxb-…` (or a `token` query/form argument);
//! * errors are HTTP 200 with `{"ok": false, "error": "<code>"}`, except rate limiting: HTTP
//!   429, `Retry-After` in seconds and `{"ok": false, "error": "ratelimited"}`;
//! * `missing_scope` names the scope `needed` and the token's scopes (`provided`); every answer
//!   carries `x-oauth-scopes` and `x-accepted-oauth-scopes` as Slack's do;
//! * limits are per method per workspace: Tier 2 (20/min) for `conversations.list`, Tier 3
//!   (50/min) for history, replies, `conversations.open`, `users.lookupByEmail`, `chat.update`
//!   and `chat.delete`, Tier 4 (100/min) for `auth.test` and `users.info`; `chat.postMessage`
//!   allows about one message per second per channel ([`SlackConfig::limit_for`]; the
//!   connectors' contract tests check these against the tiers the gateway paces by).
//!
//! The seeded workspace ("Acme Demo") has eight people, the bot, `#general`,
//! `#customer-feedback` (twenty messages, three threads, some unhappy customers; customer emails
//! match the HubSpot sandbox's contacts), `#sales` (public, the bot is not a member), a private
//! `#leadership` the bot cannot see, and an archived `#launch-2023`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use crate::ratelimit::SlidingWindow;
use crate::webhooks::{Outbox, Signed, Subscriber};
use crate::{SandboxContext, SimulatedProvider, Stats};

/// The workspace's bot token, holding every bot scope the catalog lists.
pub const BOT_TOKEN: &str = "slack-sandbox-bot-token-not-real-0001";
/// A bot token installed with read scopes only (`channels:read`, `channels:history`,
/// `users:read`): for `missing_scope` answers.
pub const READ_ONLY_BOT_TOKEN: &str = "slack-sandbox-read-only-token-not-real-0002";
/// The app's signing secret: Events API deliveries are signed with it.
pub const SIGNING_SECRET: &str = "slack-sandbox-signing-secret-not-real";
/// Workspace id.
pub const TEAM_ID: &str = "T05SBXACME";
/// The bot's user id.
pub const BOT_USER_ID: &str = "U05SBXBOT1";
/// The bot's bot id.
pub const BOT_ID: &str = "B05SBXBOT1";
/// The app id.
pub const APP_ID: &str = "A05SBXAPP1";
/// `#general`.
pub const GENERAL: &str = "C05SBXGEN1";
/// `#customer-feedback`.
pub const CUSTOMER_FEEDBACK: &str = "C05SBXFDB1";
/// `#sales` (public; the bot is not a member).
pub const SALES: &str = "C05SBXSAL1";
/// `#leadership` (private; the bot is not a member, so it cannot see it).
pub const LEADERSHIP: &str = "C05SBXLDR1";
/// `#launch-2023` (archived).
pub const LAUNCH_2023: &str = "C05SBXOLD1";
/// Messages seeded in `#customer-feedback`, thread replies included.
pub const SEEDED_FEEDBACK_MESSAGES: usize = 20;
/// Seeded people (the bot not counted).
pub const SEEDED_USERS: usize = 8;

/// Every bot scope the catalog lists for Slack.
pub const ALL_BOT_SCOPES: &[&str] = &[
    "channels:history",
    "groups:history",
    "im:history",
    "mpim:history",
    "channels:read",
    "groups:read",
    "im:read",
    "mpim:read",
    "users:read",
    "users:read.email",
    "chat:write",
    "chat:write.public",
    "chat:write.customize",
    "im:write",
    "reactions:write",
    "channels:manage",
];

/// Rules of the simulated Slack workspace.
#[derive(Debug, Clone)]
pub struct SlackConfig {
    /// Valid bot tokens and the scopes each was installed with.
    pub bot_tokens: Vec<(String, Vec<String>)>,
    /// The app's signing secret.
    pub signing_secret: String,
    /// Requests per window for Tier 1..=4 methods (Slack: 1, 20, 50, 100 per minute).
    pub tier_limits: [u32; 4],
    /// The tier window (Slack: one minute).
    pub tier_interval: Duration,
    /// `chat.postMessage` per channel: messages per window (Slack: about 1 per second).
    pub post_per_channel: (u32, Duration),
}

impl SlackConfig {
    /// The limit `method` is held to: its tier's requests per [`tier_interval`](Self::tier_interval),
    /// or for `chat.postMessage` the per-channel limit. Slack counts each method (and each
    /// channel, for posts) separately.
    pub fn limit_for(&self, method: &str) -> (u32, Duration) {
        match tier(method) {
            Some(t) => (self.tier_limits[t - 1], self.tier_interval),
            None => self.post_per_channel,
        }
    }
}

impl Default for SlackConfig {
    fn default() -> Self {
        Self {
            bot_tokens: vec![
                (BOT_TOKEN.into(), ALL_BOT_SCOPES.iter().map(|s| (*s).to_string()).collect()),
                (READ_ONLY_BOT_TOKEN.into(), vec!["channels:read".into(), "channels:history".into(), "users:read".into()]),
            ],
            signing_secret: SIGNING_SECRET.into(),
            tier_limits: [1, 20, 50, 100],
            tier_interval: Duration::from_secs(60),
            post_per_channel: (1, Duration::from_secs(1)),
        }
    }
}

/// The simulated Slack provider (`slack-sandbox`). Clones share one workspace ([`SlackSim`]).
#[derive(Debug, Clone)]
pub struct SlackSandbox {
    /// Its rules.
    pub config: SlackConfig,
    sim: SlackSim,
}

impl Default for SlackSandbox {
    fn default() -> Self {
        Self::new(SlackConfig::default())
    }
}

impl SlackSandbox {
    /// A simulated Slack with these rules.
    pub fn new(config: SlackConfig) -> Self {
        let sim = SlackSim {
            workspace: Arc::new(Mutex::new(Workspace::seeded())),
            outbox: Arc::new(Outbox::default()),
            signing_secret: config.signing_secret.clone(),
            next_event: Arc::new(AtomicU64::new(1)),
        };
        Self { config, sim }
    }

    /// The workspace and its Events API subscription, shared with every server started from
    /// this provider (or a clone of it).
    pub fn simulator(&self) -> SlackSim {
        self.sim.clone()
    }
}

/// The simulated workspace and the app's Events API subscription. Cheap to clone.
#[derive(Clone)]
pub struct SlackSim {
    workspace: Arc<Mutex<Workspace>>,
    outbox: Arc<Outbox>,
    signing_secret: String,
    next_event: Arc<AtomicU64>,
}

impl std::fmt::Debug for SlackSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackSim").field("outbox", &self.outbox).finish_non_exhaustive()
    }
}

/// What Slack says when the request URL fails the handshake.
pub const URL_VERIFICATION_FAILED: &str = "Your URL didn't respond with the value of the challenge parameter.";

impl SlackSim {
    /// Sets the app's Event Subscriptions request URL, as a person does in the app settings:
    /// Slack first sends a signed `url_verification` request and accepts the URL only when the
    /// answer is HTTP 200 carrying the challenge (as text, JSON `{"challenge"}` or a form).
    /// From then on every message in a channel the bot is in is delivered there.
    pub async fn set_request_url(&self, url: &str) -> Result<(), String> {
        let challenge = crate::random_token("");
        let body = json!({ "token": "SbxVerificationToken0001", "challenge": challenge, "type": "url_verification" }).to_string();
        let now = unix_now();
        let signed = Signed { headers: signed_headers(&self.signing_secret, now, body.as_bytes()), body: body.into_bytes() };
        let (status, answer) = self.outbox.post(url, &signed).await?;
        let echoed = answer.trim() == challenge
            || serde_json::from_str::<Value>(&answer).ok().is_some_and(|v| v["challenge"] == challenge.as_str())
            || url::form_urlencoded::parse(answer.as_bytes()).any(|(k, v)| k == "challenge" && v == challenge.as_str());
        if status != 200 || !echoed {
            return Err(format!("{URL_VERIFICATION_FAILED} (HTTP {status})"));
        }
        self.outbox.subscribe(Subscriber { id: "event_subscriptions".into(), url: url.into(), secret: self.signing_secret.clone(), events: vec!["*".into()] });
        Ok(())
    }

    /// The Events API deliveries.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// A person (`user`, e.g. `U05SBX0003`) posts `text` in `channel`, as in the Slack app; the
    /// message's `ts`. The app is told through the Events API when the bot is in the channel.
    pub fn post_as(&self, user: &str, channel: &str, text: &str) -> Result<String, String> {
        let mut ws = lock(&self.workspace);
        if !ws.users.iter().any(|u| u.id == user) {
            return Err(format!("there is no person {user} in the workspace"));
        }
        let Some(c) = ws.channels.iter().find(|c| c.id == channel) else { return Err(format!("there is no channel {channel}")) };
        if c.is_archived || !c.members.iter().any(|m| m == user) {
            return Err(format!("{user} cannot post in {channel}"));
        }
        let ts = ws.next_ts();
        let msg = Msg { channel: channel.into(), ts, user: user.into(), bot: false, text: text.into(), thread_ts: None, blocks: None, edited: None };
        ws.messages.push(msg.clone());
        self.deliver_message(&ws, &msg);
        Ok(ts_str(ts))
    }

    /// Sends the `message` event for `msg` to the request URL, when the bot is in its channel.
    fn deliver_message(&self, ws: &Workspace, msg: &Msg) {
        let Some(channel) = ws.channels.iter().find(|c| c.id == msg.channel) else { return };
        if !is_member(channel) {
            return;
        }
        let mut event = ws.message_json(msg);
        event["channel"] = json!(msg.channel);
        event["event_ts"] = json!(ts_str(msg.ts));
        event["channel_type"] = json!(if channel.im_user.is_some() { "im" } else if channel.is_mpim { "mpim" } else if channel.is_private { "group" } else { "channel" });
        let event_id = format!("Ev05SBX{:06}", self.next_event.fetch_add(1, Ordering::SeqCst));
        let body = envelope(&event_id, &msg.channel, event, i64::try_from(msg.ts.0).unwrap_or(0)).into_bytes();
        self.outbox.send("message", std::slice::from_ref(&event_id), |sub| Signed { headers: signed_headers(&sub.secret, unix_now(), &body), body: body.clone() });
    }
}

fn unix_now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)).unwrap_or(0)
}

/// The headers of a signed Events API request.
fn signed_headers(secret: &str, now: i64, body: &[u8]) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        ("user-agent".into(), "Slackbot 1.0 (+https://api.slack.com/robots)".into()),
        ("x-slack-request-timestamp".into(), now.to_string()),
        ("x-slack-signature".into(), sign(secret, now, body)),
    ]
}

/// An `event_callback` envelope around `event`.
fn envelope(event_id: &str, channel: &str, event: Value, event_time: i64) -> String {
    json!({
        "token": "SbxVerificationToken0001",
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [{
            "enterprise_id": null, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": true, "is_enterprise_install": false,
        }],
        "is_ext_shared_channel": false,
        "event_context": format!("4-{}", base64::engine::general_purpose::STANDARD.encode(format!("{{\"et\":\"message\",\"tid\":\"{TEAM_ID}\",\"cid\":\"{channel}\"}}"))),
    })
    .to_string()
}

impl SimulatedProvider for SlackSandbox {
    fn id(&self) -> &'static str {
        "slack-sandbox"
    }

    fn router(&self, ctx: SandboxContext) -> Router {
        let shared = Arc::new(Shared {
            config: self.config.clone(),
            workspace: self.sim.workspace.clone(),
            windows: Mutex::new(HashMap::new()),
            stats: ctx.stats,
            sim: self.sim.clone(),
        });
        Router::new().route("/api/{method}", any(api)).with_state(shared)
    }
}

// ---- signing -------------------------------------------------------------------------------

/// Slack's request signature: `v0=` + hex HMAC-SHA256 under the signing secret over
/// `v0:{timestamp}:{raw body}`; it travels in `X-Slack-Signature` with the timestamp in
/// `X-Slack-Request-Timestamp`.
pub fn sign(signing_secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(signing_secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// One signed Events API delivery, as Slack would POST it to the app's request URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedEvent {
    /// The raw JSON body, byte for byte what was signed.
    pub body: String,
    /// `X-Slack-Request-Timestamp` (Unix seconds).
    pub timestamp: i64,
    /// `X-Slack-Signature`.
    pub signature: String,
    /// The envelope's `event_id`.
    pub event_id: String,
}

impl SignedEvent {
    /// The headers Slack sends with it.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        vec![
            ("content-type", "application/json".into()),
            ("x-slack-request-timestamp", self.timestamp.to_string()),
            ("x-slack-signature", self.signature.clone()),
        ]
    }
}

/// An `event_callback` envelope for a `message` event (someone posted `text` in `channel`),
/// signed with `signing_secret` at `now` (Unix seconds).
pub fn message_event(signing_secret: &str, event_id: &str, channel: &str, user: &str, text: &str, ts: &str, now: i64) -> SignedEvent {
    let event = json!({
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "team": TEAM_ID,
        "event_ts": ts,
        "channel_type": "channel",
    });
    let body = envelope(event_id, channel, event, now);
    let signature = sign(signing_secret, now, body.as_bytes());
    SignedEvent { body, timestamp: now, signature, event_id: event_id.into() }
}

// ---- the workspace -------------------------------------------------------------------------

/// A message timestamp: seconds and microseconds (`"1712345678.000200"`).
type Ts = (u64, u32);

fn ts_str(t: Ts) -> String {
    format!("{}.{:06}", t.0, t.1)
}

/// Slack accepts `"1712345678"` or `"1712345678.000200"`.
fn parse_ts(s: &str) -> Option<Ts> {
    let (secs, micros) = s.split_once('.').unwrap_or((s, "0"));
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) || micros.len() > 6 || !micros.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let padded = format!("{micros:0<6}");
    Some((secs.parse().ok()?, padded.parse().ok()?))
}

#[derive(Debug, Clone)]
struct User {
    id: &'static str,
    name: &'static str,
    real_name: &'static str,
    title: &'static str,
    email: &'static str,
}

#[derive(Debug, Clone)]
struct Channel {
    id: String,
    name: String,
    is_private: bool,
    /// A direct message with this user.
    im_user: Option<String>,
    /// A group direct message.
    is_mpim: bool,
    is_archived: bool,
    members: Vec<String>,
    topic: String,
    purpose: String,
    created: u64,
}

#[derive(Debug, Clone)]
struct Msg {
    channel: String,
    ts: Ts,
    user: String,
    bot: bool,
    text: String,
    thread_ts: Option<Ts>,
    blocks: Option<Value>,
    edited: Option<Ts>,
}

struct Workspace {
    users: Vec<User>,
    channels: Vec<Channel>,
    messages: Vec<Msg>,
    last_ts: Ts,
    next_dm: u32,
}

const USERS: [User; SEEDED_USERS] = [
    User { id: "U05SBX0001", name: "maya", real_name: "Maya Chen", title: "Head of Customer Success", email: "maya.chen@acme-demo.example" },
    User { id: "U05SBX0002", name: "omar", real_name: "Omar Haddad", title: "Account Executive", email: "omar.haddad@acme-demo.example" },
    User { id: "U05SBX0003", name: "priya", real_name: "Priya Natarajan", title: "Support Lead", email: "priya.natarajan@acme-demo.example" },
    User { id: "U05SBX0004", name: "lucas", real_name: "Lucas Moreau", title: "Product Manager", email: "lucas.moreau@acme-demo.example" },
    User { id: "U05SBX0005", name: "sofia", real_name: "Sofia Alvarez", title: "Account Executive", email: "sofia.alvarez@acme-demo.example" },
    User { id: "U05SBX0006", name: "jonas", real_name: "Jonas Berg", title: "Engineer", email: "jonas.berg@acme-demo.example" },
    User { id: "U05SBX0007", name: "aisha", real_name: "Aisha Bello", title: "Customer Success Manager", email: "aisha.bello@acme-demo.example" },
    User { id: "U05SBX0008", name: "tom", real_name: "Tom Whitaker", title: "CEO", email: "tom.whitaker@acme-demo.example" },
];

/// `#customer-feedback`: (author index, text, index of the thread parent among these, if a reply).
const FEEDBACK: [(usize, &str, Option<usize>); SEEDED_FEEDBACK_MESSAGES] = [
    (6, "Feedback from Ada Lovelace (ada.lovelace@example.com): the new dashboard is great, the weekly summary saves her an hour every Monday.", None),
    (2, "Feedback from Grace Hopper (grace.hopper@example.com): CSV export has timed out three times this week. She is frustrated and says her team is looking at alternatives.", None),
    (0, "Thanks Priya. Grace's account is up for renewal next month, so this one matters. Who owns it?", Some(1)),
    (1, "I do. I'll call her today.", Some(1)),
    (5, "Found it: exports over 50k rows hit the 30 s gateway timeout. Fix is in review.", Some(1)),
    (6, "Feedback from Alan Turing (alan.turing@example.com): would love an API for bulk updates.", None),
    (3, "Noted for the Q3 roadmap.", Some(5)),
    (2, "Feedback from Katherine Johnson (katherine.johnson@example.com): invoices show the wrong tax rate for Canada. Very unhappy, she had to reissue four invoices by hand.", None),
    (4, "Feedback from Linus Torvalds (linus.torvalds@example.com): onboarding was smooth, setup took ten minutes.", None),
    (6, "Feedback from Margaret Hamilton (margaret.hamilton@example.com): mobile app crashes when she opens an attachment. This is the second time she has reported it and she is losing patience.", None),
    (0, "Escalating to engineering, she's one of our largest accounts.", Some(9)),
    (5, "Reproduced on Android 14; crash is in the PDF viewer. Patch goes out Thursday.", Some(9)),
    (6, "Thanks, I'll let her know.", Some(9)),
    (2, "Feedback from Dennis Ritchie (dennis.ritchie@example.com): search is fast and accurate, no complaints.", None),
    (4, "Feedback from Barbara Liskov (barbara.liskov@example.com): asked whether SSO is included in the Team plan.", None),
    (6, "Feedback from Ken Thompson (ken.thompson@example.com): the Slack notifications are too noisy; he wants a daily digest option.", None),
    (2, "Feedback from Radia Perlman (radia.perlman@example.com): billing page charged her twice this month. Cancelling unless it's refunded this week.", None),
    (4, "Feedback from Tim Berners-Lee (tim.bernerslee@example.com): loves the calendar integration.", None),
    (6, "Feedback from Frances Allen (frances.allen@example.com): reports load slowly for anything older than a year.", None),
    (3, "Weekly roundup: 3 unhappy customers (export timeouts, tax rate, double charge), 2 feature requests, 4 happy.", None),
];

impl Workspace {
    fn seeded() -> Self {
        let everyone: Vec<String> = USERS.iter().map(|u| u.id.to_string()).chain([BOT_USER_ID.to_string()]).collect();
        let humans: Vec<String> = USERS.iter().map(|u| u.id.to_string()).collect();
        let channel = |id: &str, name: &str, private: bool, archived: bool, members: Vec<String>, topic: &str, purpose: &str, created: u64| Channel {
            id: id.into(),
            name: name.into(),
            is_private: private,
            im_user: None,
            is_mpim: false,
            is_archived: archived,
            members,
            topic: topic.into(),
            purpose: purpose.into(),
            created,
        };
        let channels = vec![
            channel(GENERAL, "general", false, false, everyone.clone(), "Company-wide announcements", "This channel is for workspace-wide communication.", 1_700_000_000),
            channel(CUSTOMER_FEEDBACK, "customer-feedback", false, false, everyone, "What customers tell us, good and bad", "Post customer feedback here; the feedback bot logs it to the CRM.", 1_700_000_100),
            channel(SALES, "sales", false, false, humans.clone(), "Pipeline and deals", "Sales team chatter.", 1_700_000_200),
            channel(LEADERSHIP, "leadership", true, false, vec!["U05SBX0001".into(), "U05SBX0008".into()], "", "Leadership team.", 1_700_000_300),
            channel(LAUNCH_2023, "launch-2023", false, true, humans, "", "The 2023 launch (archived).", 1_680_000_000),
        ];
        let base: u64 = 1_712_345_000;
        let mut messages = Vec::new();
        let mut stamps: Vec<Ts> = Vec::new();
        for (i, (author, text, parent)) in FEEDBACK.iter().enumerate() {
            let ts = (base + 600 * i as u64, 200 + i as u32);
            stamps.push(ts);
            messages.push(Msg {
                channel: CUSTOMER_FEEDBACK.into(),
                ts,
                user: USERS[*author].id.into(),
                bot: false,
                text: (*text).into(),
                thread_ts: parent.map(|p| stamps[p]),
                blocks: None,
                edited: None,
            });
        }
        let general = [
            (7, "Welcome to Acme Demo! Say hi in here."),
            (0, "Reminder: customer feedback goes in #customer-feedback so the bot can log it."),
            (3, "Release 4.2 ships on Thursday."),
        ];
        for (i, (author, text)) in general.iter().enumerate() {
            messages.push(Msg {
                channel: GENERAL.into(),
                ts: (base - 86_400 + 3600 * i as u64, 100),
                user: USERS[*author].id.into(),
                bot: false,
                text: (*text).into(),
                thread_ts: None,
                blocks: None,
                edited: None,
            });
        }
        messages.push(Msg {
            channel: GENERAL.into(),
            ts: (base - 3600, 300),
            user: BOT_USER_ID.into(),
            bot: true,
            text: "Good morning! Yesterday: 4 feedback messages logged to the CRM.".into(),
            thread_ts: None,
            blocks: None,
            edited: None,
        });
        messages.push(Msg {
            channel: SALES.into(),
            ts: (base + 60, 100),
            user: "U05SBX0002".into(),
            bot: false,
            text: "Closed the Lovelace expansion, 40 seats.".into(),
            thread_ts: None,
            blocks: None,
            edited: None,
        });
        let last_ts = messages.iter().map(|m| m.ts).max().unwrap_or((base, 0));
        Self { users: USERS.to_vec(), channels, messages, last_ts, next_dm: 1 }
    }

    /// A fresh timestamp, later than every message so far.
    fn next_ts(&mut self) -> Ts {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let next = if now > self.last_ts.0 { (now, 100) } else { (self.last_ts.0, self.last_ts.1 + 100) };
        let next = if next.1 >= 1_000_000 { (next.0 + 1, 100) } else { next };
        self.last_ts = next;
        next
    }

    /// The channel as the bot sees it: private channels and DMs it is not in do not exist.
    fn visible(&self, id: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.id == id && (!c.is_private && c.im_user.is_none() && !c.is_mpim || c.members.iter().any(|m| m == BOT_USER_ID)))
    }

    fn message_json(&self, m: &Msg) -> Value {
        let mut v = json!({ "type": "message", "text": m.text, "ts": ts_str(m.ts), "user": m.user, "team": TEAM_ID });
        if m.bot {
            v["bot_id"] = json!(BOT_ID);
            v["app_id"] = json!(APP_ID);
            v["bot_profile"] = json!({ "id": BOT_ID, "app_id": APP_ID, "name": "Switchboard", "deleted": false, "team_id": TEAM_ID });
        }
        if let Some(b) = &m.blocks {
            v["blocks"] = b.clone();
        }
        if let Some(e) = m.edited {
            v["edited"] = json!({ "user": m.user, "ts": ts_str(e) });
        }
        match m.thread_ts {
            Some(parent) if parent != m.ts => {
                v["thread_ts"] = json!(ts_str(parent));
                if let Some(p) = self.messages.iter().find(|x| x.channel == m.channel && x.ts == parent) {
                    v["parent_user_id"] = json!(p.user);
                }
            }
            _ => {
                let replies: Vec<&Msg> = self.messages.iter().filter(|x| x.channel == m.channel && x.thread_ts == Some(m.ts) && x.ts != m.ts).collect();
                if !replies.is_empty() {
                    let mut users: Vec<&str> = Vec::new();
                    for r in &replies {
                        if !users.contains(&r.user.as_str()) {
                            users.push(&r.user);
                        }
                    }
                    let latest = replies.iter().map(|r| r.ts).max().unwrap_or(m.ts);
                    v["thread_ts"] = json!(ts_str(m.ts));
                    v["reply_count"] = json!(replies.len());
                    v["reply_users_count"] = json!(users.len());
                    v["latest_reply"] = json!(ts_str(latest));
                    v["reply_users"] = json!(users);
                    v["is_locked"] = json!(false);
                    v["subscribed"] = json!(false);
                }
            }
        }
        v
    }

    fn channel_json(&self, c: &Channel) -> Value {
        if let Some(user) = &c.im_user {
            return json!({ "id": c.id, "created": c.created, "is_archived": false, "is_im": true, "is_org_shared": false, "context_team_id": TEAM_ID, "user": user, "is_user_deleted": false, "priority": 0 });
        }
        json!({
            "id": c.id,
            "name": c.name,
            "is_channel": !c.is_private && !c.is_mpim,
            "is_group": c.is_private && !c.is_mpim,
            "is_im": false,
            "is_mpim": c.is_mpim,
            "is_private": c.is_private || c.is_mpim,
            "created": c.created,
            "is_archived": c.is_archived,
            "is_general": c.id == GENERAL,
            "unlinked": 0,
            "name_normalized": c.name,
            "is_shared": false,
            "is_org_shared": false,
            "is_ext_shared": false,
            "is_pending_ext_shared": false,
            "pending_shared": [],
            "context_team_id": TEAM_ID,
            "creator": USERS[7].id,
            "is_member": c.members.iter().any(|m| m == BOT_USER_ID),
            "topic": { "value": c.topic, "creator": if c.topic.is_empty() { "" } else { USERS[7].id }, "last_set": if c.topic.is_empty() { 0 } else { c.created } },
            "purpose": { "value": c.purpose, "creator": USERS[7].id, "last_set": c.created },
            "previous_names": [],
            "num_members": c.members.len(),
        })
    }

    fn user_json(u: &User) -> Value {
        let first = u.real_name.split(' ').next().unwrap_or(u.real_name);
        json!({
            "id": u.id,
            "team_id": TEAM_ID,
            "name": u.name,
            "deleted": false,
            "real_name": u.real_name,
            "tz": "Europe/London",
            "tz_label": "British Summer Time",
            "tz_offset": 3600,
            "profile": {
                "title": u.title,
                "real_name": u.real_name,
                "real_name_normalized": u.real_name,
                "display_name": first,
                "display_name_normalized": first,
                "email": u.email,
                "team": TEAM_ID,
            },
            "is_admin": u.id == USERS[7].id,
            "is_owner": u.id == USERS[7].id,
            "is_bot": false,
            "is_app_user": false,
            "updated": 1_700_000_000,
        })
    }
}

// ---- the HTTP edge -------------------------------------------------------------------------

struct Shared {
    config: SlackConfig,
    workspace: Arc<Mutex<Workspace>>,
    windows: Mutex<HashMap<String, Arc<SlidingWindow>>>,
    stats: Arc<Stats>,
    /// For Events API deliveries of the bot's own posts.
    sim: SlackSim,
}

type St = State<Arc<Shared>>;
type Args = Map<String, Value>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A Slack answer: HTTP 200 and a JSON body.
fn answer(body: Value) -> Response {
    (StatusCode::OK, Json(body)).into_response()
}

fn ok(mut body: Value) -> Response {
    if let Some(o) = body.as_object_mut() {
        o.insert("ok".into(), Value::Bool(true));
    }
    answer(body)
}

fn fail(error: &str) -> Response {
    answer(json!({ "ok": false, "error": error }))
}

/// `invalid_arguments` with Slack's explanation lines.
fn invalid_arguments(what: &str) -> Response {
    answer(json!({ "ok": false, "error": "invalid_arguments", "response_metadata": { "messages": [format!("[ERROR] {what}")] } }))
}

/// The tier of a method (1..=4), or `None` for `chat.postMessage`, limited per channel.
fn tier(method: &str) -> Option<usize> {
    match method {
        "conversations.list" => Some(2),
        "conversations.history" | "conversations.replies" | "conversations.open" | "conversations.info" | "users.lookupByEmail" | "chat.update" | "chat.delete" => Some(3),
        "chat.postMessage" => None,
        _ => Some(4),
    }
}

impl Shared {
    fn window(&self, key: &str, max: u32, per: Duration) -> Arc<SlidingWindow> {
        lock(&self.windows).entry(key.to_string()).or_insert_with(|| Arc::new(SlidingWindow::new(max, per))).clone()
    }

    /// Takes one slot of `key`'s window; the ready 429 when it is full.
    fn admit(&self, key: &str, max: u32, per: Duration) -> Result<(), Box<Response>> {
        let d = self.window(key, max, per).check();
        if d.allowed {
            return Ok(());
        }
        self.stats.rate_limited.fetch_add(1, Ordering::SeqCst);
        let secs = d.retry_after.as_secs() + u64::from(d.retry_after.subsec_nanos() > 0);
        let mut r = (StatusCode::TOO_MANY_REQUESTS, Json(json!({ "ok": false, "error": "ratelimited" }))).into_response();
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        Err(Box::new(r))
    }
}

/// Query string, then the form or JSON body, as one argument map (Slack reads all three).
fn arguments(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Result<Args, Box<Response>> {
    let mut args = Args::new();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        args.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    if body.is_empty() {
        return Ok(args);
    }
    let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    if ctype.starts_with("application/json") {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(o)) => args.extend(o),
            Ok(_) => return Err(Box::new(fail("json_not_object"))),
            Err(_) => return Err(Box::new(fail("invalid_json"))),
        }
    } else if ctype.is_empty() || ctype.starts_with("application/x-www-form-urlencoded") {
        for (k, v) in url::form_urlencoded::parse(body) {
            args.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    } else {
        return Err(Box::new(fail("invalid_form_data")));
    }
    Ok(args)
}

fn arg_str<'a>(args: &'a Args, name: &str) -> Option<&'a str> {
    args.get(name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn arg_bool(args: &Args, name: &str) -> bool {
    match args.get(name) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true" || s == "1",
        Some(Value::Number(n)) => n.as_u64() == Some(1),
        _ => false,
    }
}

/// `limit`: default `default`, clamped to `max` as Slack does; `Err` for a non-number.
fn arg_limit(args: &Args, default: usize, max: usize) -> Result<usize, Box<Response>> {
    let n = match args.get("limit") {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) if s.is_empty() => return Ok(default),
        Some(Value::String(s)) => s.parse::<u64>().ok(),
        Some(_) => None,
    };
    match n {
        Some(0) => Ok(default),
        Some(n) => Ok(usize::try_from(n).unwrap_or(max).min(max)),
        None => Err(Box::new(invalid_arguments("invalid limit: expected an integer"))),
    }
}

fn encode_cursor(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn decode_cursor(args: &Args, prefix: &str) -> Result<Option<String>, Box<Response>> {
    let Some(c) = arg_str(args, "cursor") else { return Ok(None) };
    base64::engine::general_purpose::STANDARD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix(prefix).map(str::to_string))
        .map(Some)
        .ok_or_else(|| Box::new(fail("invalid_cursor")))
}

struct Caller {
    scopes: Vec<String>,
}

impl Caller {
    fn require(&self, scope: &str) -> Result<(), Box<Response>> {
        if self.scopes.iter().any(|s| s == scope) {
            return Ok(());
        }
        Err(Box::new(answer(json!({ "ok": false, "error": "missing_scope", "needed": scope, "provided": self.scopes.join(",") }))))
    }
}

async fn api(State(s): St, Path(method): Path<String>, headers: HeaderMap, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let args = match arguments(&headers, query.as_deref(), &body) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .map(str::to_string)
        .or_else(|| arg_str(&args, "token").map(str::to_string));
    let Some(token) = token else { return fail("not_authed") };
    let Some((_, scopes)) = s.config.bot_tokens.iter().find(|(t, _)| *t == token) else { return fail("invalid_auth") };
    let caller = Caller { scopes: scopes.clone() };
    let (max, per) = s.config.limit_for(&method);
    let limited = match tier(&method) {
        Some(_) => s.admit(&method, max, per),
        None => s.admit(&format!("{method}:{}", arg_str(&args, "channel").unwrap_or_default()), max, per),
    };
    let mut resp = match limited {
        Err(r) => *r,
        Ok(()) => {
            let handled = match method.as_str() {
                "auth.test" => Ok(auth_test()),
                "conversations.list" => conversations_list(&s, &caller, &args),
                "conversations.info" => conversations_info(&s, &caller, &args),
                "conversations.history" => conversations_history(&s, &caller, &args),
                "conversations.replies" => conversations_replies(&s, &caller, &args),
                "conversations.open" => conversations_open(&s, &caller, &args),
                "users.lookupByEmail" => users_lookup_by_email(&s, &caller, &args),
                "users.info" => users_info(&s, &caller, &args),
                "chat.postMessage" => chat_post_message(&s, &caller, &args),
                "chat.update" => chat_update(&s, &caller, &args),
                "chat.delete" => chat_delete(&s, &caller, &args),
                other => Ok(answer(json!({ "ok": false, "error": "unknown_method", "req_method": other }))),
            };
            handled.unwrap_or_else(|r| *r)
        }
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&caller.scopes.join(",")) {
        h.insert("x-oauth-scopes", v);
    }
    if let Ok(v) = HeaderValue::from_str(accepted_scopes(&method)) {
        h.insert("x-accepted-oauth-scopes", v);
    }
    resp
}

fn accepted_scopes(method: &str) -> &'static str {
    match method {
        "conversations.list" | "conversations.info" => "channels:read,groups:read,im:read,mpim:read",
        "conversations.history" | "conversations.replies" => "channels:history,groups:history,im:history,mpim:history",
        "conversations.open" => "im:write,mpim:write",
        "users.lookupByEmail" => "users:read.email",
        "users.info" => "users:read",
        "chat.postMessage" | "chat.update" | "chat.delete" => "chat:write",
        _ => "",
    }
}

type Handled = Result<Response, Box<Response>>;

fn auth_test() -> Response {
    ok(json!({
        "url": "https://acme-demo.slack.com/",
        "team": "Acme Demo",
        "user": "switchboard",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": false,
    }))
}

/// The `*:read` or `*:history` scope a conversation of this kind needs.
fn scope_for(c: &Channel, kind: &str) -> String {
    let family = if c.im_user.is_some() {
        "im"
    } else if c.is_mpim {
        "mpim"
    } else if c.is_private {
        "groups"
    } else {
        "channels"
    };
    format!("{family}:{kind}")
}

fn conversations_list(s: &Shared, caller: &Caller, args: &Args) -> Handled {
    let types: Vec<&str> = arg_str(args, "types").unwrap_or("public_channel").split(',').map(str::trim).filter(|t| !t.is_empty()).collect();
    for t in &types {
        let scope = match *t {
            "public_channel" => "channels:read",
            "private_channel" => "groups:read",
            "im" => "im:read",
            "mpim" => "mpim:read",
            _ => return Ok(fail("invalid_types")),
        };
        caller.require(scope)?;
    }
    let limit = arg_limit(args, 100, 1000)?;
    let start = match decode_cursor(args, "offset:")? {
        None => 0,
        Some(n) => n.parse::<usize>().map_err(|_| Box::new(fail("invalid_cursor")))?,
    };
    let exclude_archived = arg_bool(args, "exclude_archived");
    let ws = lock(&s.workspace);
    let matching: Vec<&Channel> = ws
        .channels
        .iter()
        .filter(|c| ws.visible(&c.id).is_some())
        .filter(|c| !(exclude_archived && c.is_archived))
        .filter(|c| {
            let kind = if c.im_user.is_some() {
                "im"
            } else if c.is_mpim {
                "mpim"
            } else if c.is_private {
                "private_channel"
            } else {
                "public_channel"
            };
            types.contains(&kind)
        })
        .collect();
    let end = (start + limit).min(matching.len());
    let page: Vec<Value> = matching.get(start..end).unwrap_or_default().iter().map(|c| ws.channel_json(c)).collect();
    let next = if end < matching.len() { encode_cursor(&format!("offset:{end}")) } else { String::new() };
    Ok(ok(json!({ "channels": page, "response_metadata": { "next_cursor": next } })))
}

/// The conversation named by `channel`, checked against the bot's `kind` scope.
fn channel_arg<'a>(ws: &'a Workspace, caller: &Caller, args: &Args, kind: &str) -> Result<&'a Channel, Box<Response>> {
    let Some(id) = arg_str(args, "channel") else { return Err(Box::new(fail("channel_not_found"))) };
    let c = ws.visible(id).ok_or_else(|| Box::new(fail("channel_not_found")))?;
    caller.require(&scope_for(c, kind))?;
    Ok(c)
}

fn conversations_info(s: &Shared, caller: &Caller, args: &Args) -> Handled {
    let ws = lock(&s.workspace);
    let c = channel_arg(&ws, caller, args, "read")?;
    Ok(ok(json!({ "channel": ws.channel_json(c) })))
}

fn is_member(c: &Channel) -> bool {
    c.members.iter().any(|m| m == BOT_USER_ID)
}

/// `oldest` / `latest` bounds; the Slack error for a malformed one.
fn bounds(args: &Args) -> Result<(Option<Ts>, Option<Ts>, bool), Box<Response>> {
    let oldest = match arg_str(args, "oldest") {
        None => None,
        Some(v) => Some(parse_ts(v).ok_or_else(|| Box::new(fail("invalid_ts_oldest")))?),
    };
    let latest = match arg_str(args, "latest") {
        None => None,
        Some(v) => Some(parse_ts(v).ok_or_else(|| Box::new(fail("invalid_ts_latest")))?),
    };
    Ok((oldest, latest, arg_bool(args, "inclusive")))
}

fn within(ts: Ts, (oldest, latest, inclusive): (Option<Ts>, Option<Ts>, bool)) -> bool {
    let after = oldest.is_none_or(|o| if inclusive { ts >= o } else { ts > o });
    let before = latest.is_none_or(|l| if inclusive { ts <= l } else { ts < l });
    after && before
}

fn conversations_history(s: &Shared, caller: &Caller, args: &Args) -> Handled {
    let ws = lock(&s.workspace);
    let c = channel_arg(&ws, caller, args, "history")?;
    if !is_member(c) {
        return Ok(fail("not_in_channel"));
    }
    let range = bounds(args)?;
    let limit = arg_limit(args, 100, 999)?;
    let before = match decode_cursor(args, "next_ts:")? {
        None => None,
        Some(t) => Some(parse_ts(&t).ok_or_else(|| Box::new(fail("invalid_cursor")))?),
    };
    // Newest first; thread replies stay in their thread.
    let mut top: Vec<&Msg> = ws
        .messages
        .iter()
        .filter(|m| m.channel == c.id && m.thread_ts.is_none_or(|p| p == m.ts))
        .filter(|m| within(m.ts, range))
        .filter(|m| before.is_none_or(|b| m.ts < b))
        .collect();
    top.sort_by_key(|m| std::cmp::Reverse(m.ts));
    let has_more = top.len() > limit;
    top.truncate(limit);
    let messages: Vec<Value> = top.iter().map(|m| ws.message_json(m)).collect();
    let mut body = json!({ "messages": messages, "has_more": has_more, "pin_count": 0, "channel_actions_ts": null, "channel_actions_count": 0 });
    if has_more && let Some(last) = top.last() {
        body["response_metadata"] = json!({ "next_cursor": encode_cursor(&format!("next_ts:{}", ts_str(last.ts))) });
    }
    Ok(ok(body))
}

fn conversations_replies(s: &Shared, caller: &Caller, args: &Args) -> Handled {
    let ws = lock(&s.workspace);
    let c = channel_arg(&ws, caller, args, "history")?;
    if !is_member(c) {
        return Ok(fail("not_in_channel"));
    }
    let Some(ts) = arg_str(args, "ts").and_then(parse_ts) else { return Ok(fail("thread_not_found")) };
    let Some(found) = ws.messages.iter().find(|m| m.channel == c.id && m.ts == ts) else { return Ok(fail("thread_not_found")) };
    let root = found.thread_ts.unwrap_or(found.ts);
    let range = bounds(args)?;
    let limit = arg_limit(args, 1000, 1000)?;
    let after = match decode_cursor(args, "next_ts:")? {
        None => None,
        Some(t) => Some(parse_ts(&t).ok_or_else(|| Box::new(fail("invalid_cursor")))?),
    };
    // The parent first, then replies oldest first.
    let mut thread: Vec<&Msg> = ws
        .messages
        .iter()
        .filter(|m| m.channel == c.id && (m.ts == root || m.thread_ts == Some(root)))
        .filter(|m| m.ts == root || within(m.ts, range))
        .filter(|m| after.is_none_or(|a| m.ts >= a))
        .collect();
    thread.sort_by_key(|m| m.ts);
    let has_more = thread.len() > limit;
    let next = thread.get(limit).map(|m| m.ts);
    thread.truncate(limit);
    let messages: Vec<Value> = thread.iter().map(|m| ws.message_json(m)).collect();
    let mut body = json!({ "messages": messages, "has_more": has_more });
    if let Some(n) = next {
        body["response_metadata"] = json!({ "next_cursor": encode_cursor(&format!("next_ts:{}", ts_str(n))) });
    }
    Ok(ok(body))
}

fn conversations_open(s: &Shared, caller: &Caller, args: &Args) -> Handled {
    let users: Vec<String> = match args.get("users") {
        Some(Value::String(u)) => u.split(',').map(str::trim).filter(|u| !u.is_empty()).map(str::to_string).collect(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    };
    if users.is_empty() {
        return Ok(fail(if arg_str(args, "channel").is_some() { "method_not_supported_for_channel_type" } else { "users_list_not_supplied" }));
    }
    if users.len() > 8 {
        return Ok(fail("too_many_users"));
    }
    caller.require(if users.len() == 1 { "im:write" } else { "mpim:write" })?;
    let mut ws = lock(&s.workspace);
    if users.iter().any(|u| !ws.users.iter().any(|x| x.id == u)) {
        return Ok(fail("user_not_found"));
    }
    let existing = if users.len() == 1 {
        ws.channels.iter().find(|c| c.im_user.as_deref() == Some(users[0].as_str()))
    } else {
        ws.channels.iter().find(|c| c.is_mpim && c.members.len() == users.len() + 1 && users.iter().all(|u| c.members.contains(u)))
    };
    let (channel, already) = match existing {
        Some(c) => (c.clone(), true),
        None => {
            let n = ws.next_dm;
            ws.next_dm += 1;
            let created = ws.next_ts().0;
            let c = Channel {
                id: format!("{}05SBXDM{n:02}", if users.len() == 1 { 'D' } else { 'C' }),
                name: if users.len() == 1 { String::new() } else { format!("mpdm-{}-1", users.join("--").to_lowercase()) },
                is_private: users.len() > 1,
                im_user: (users.len() == 1).then(|| users[0].clone()),
                is_mpim: users.len() > 1,
                is_archived: false,
                members: users.iter().cloned().chain([BOT_USER_ID.to_string()]).collect(),
                topic: String::new(),
                purpose: String::new(),
                created,
            };
            ws.channels.push(c.clone());
            (c, false)
        }
    };
    let full = if arg_bool(args, "return_im") { ws.channel_json(&channel) } else { json!({ "id": channel.id }) };
    let mut body = json!({ "channel": full });
    if already {
        body["no_op"] = json!(true);
        body["already_open"] = json!(true);
    }
    Ok(ok(body))
}

fn users_lookup_by_email(s: &Shared, caller: &Caller, args: &Args) -> Handled {
    caller.require("users:read.email")?;
    let Some(email) = arg_str(args, "email") else { return Ok(invalid_arguments("missing required field: email")) };
    let ws = lock(&s.workspace);
    match ws.users.iter().find(|u| u.email.eq_ignore_ascii_case(email)) {
        Some(u) => Ok(ok(json!({ "user": Workspace::user_json(u) }))),
        None => Ok(fail("users_not_found")),
    }
}

fn users_info(s: &Shared, caller: &Caller, args: &Args) -> Handled {
    caller.require("users:read")?;
    let Some(id) = arg_str(args, "user") else { return Ok(invalid_arguments("missing required field: user")) };
    let ws = lock(&s.workspace);
    match ws.users.iter().find(|u| u.id == id) {
        Some(u) => {
            let mut user = Workspace::user_json(u);
            if !caller.scopes.iter().any(|s| s == "users:read.email")
                && let Some(p) = user["profile"].as_object_mut()
            {
                p.remove("email");
            }
            Ok(ok(json!({ "user": user })))
        }
        None => Ok(fail("user_not_found")),
    }
}

/// `text` and `blocks` of a post or update: Slack needs one of them.
fn content(args: &Args) -> Result<(String, Option<Value>), Box<Response>> {
    let text = arg_str(args, "text").unwrap_or_default().to_string();
    let blocks = match args.get("blocks") {
        None | Some(Value::Null) => None,
        Some(Value::Array(b)) => Some(Value::Array(b.clone())),
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(b)) => Some(Value::Array(b)),
            _ => return Err(Box::new(fail("invalid_blocks_format"))),
        },
        Some(_) => return Err(Box::new(fail("invalid_blocks_format"))),
    };
    if let Some(b) = &blocks {
        let n = b.as_array().map_or(0, Vec::len);
        if n > 50 || b.as_array().is_some_and(|a| a.iter().any(|x| !x.get("type").is_some_and(Value::is_string))) {
            return Err(Box::new(fail("invalid_blocks")));
        }
    }
    if text.is_empty() && blocks.is_none() {
        return Err(Box::new(fail("no_text")));
    }
    if text.chars().count() > 40_000 {
        return Err(Box::new(fail("msg_too_long")));
    }
    Ok((text, blocks))
}

fn chat_post_message(s: &Shared, caller: &Caller, args: &Args) -> Handled {
    caller.require("chat:write")?;
    let mut ws = lock(&s.workspace);
    let Some(id) = arg_str(args, "channel") else { return Ok(fail("channel_not_found")) };
    // A user id posts to the app's direct message with that person.
    let id = if id.starts_with('U') && ws.users.iter().any(|u| u.id == id) {
        match ws.channels.iter().find(|c| c.im_user.as_deref() == Some(id)) {
            Some(c) => c.id.clone(),
            None => return Ok(fail("channel_not_found")),
        }
    } else {
        id.to_string()
    };
    let Some(c) = ws.visible(&id) else { return Ok(fail("channel_not_found")) };
    if c.is_archived {
        return Ok(fail("is_archived"));
    }
    let may_post_unjoined = caller.scopes.iter().any(|s| s == "chat:write.public") && !c.is_private;
    if !is_member(c) && !may_post_unjoined {
        return Ok(fail("not_in_channel"));
    }
    let (text, blocks) = content(args)?;
    let thread = match arg_str(args, "thread_ts") {
        None => None,
        Some(t) => {
            let t = parse_ts(t).ok_or_else(|| Box::new(fail("invalid_thread_ts")))?;
            // A reply to a reply joins the parent's thread.
            Some(ws.messages.iter().find(|m| m.channel == id && m.ts == t).and_then(|m| m.thread_ts).unwrap_or(t))
        }
    };
    let ts = ws.next_ts();
    let msg = Msg { channel: id.clone(), ts, user: BOT_USER_ID.into(), bot: true, text, thread_ts: thread, blocks, edited: None };
    ws.messages.push(msg.clone());
    s.sim.deliver_message(&ws, &msg);
    let message = ws.message_json(&msg);
    Ok(ok(json!({ "channel": id, "ts": ts_str(ts), "message": message })))
}

/// The bot's own message `ts` in `channel`, or the Slack error (`cant_what` when it is someone
/// else's).
fn own_message(ws: &Workspace, caller: &Caller, args: &Args, cant_what: &'static str) -> Result<(String, Ts), Box<Response>> {
    caller.require("chat:write")?;
    let Some(id) = arg_str(args, "channel") else { return Err(Box::new(fail("channel_not_found"))) };
    let Some(c) = ws.visible(id) else { return Err(Box::new(fail("channel_not_found"))) };
    let Some(ts) = arg_str(args, "ts").and_then(parse_ts) else { return Err(Box::new(fail("message_not_found"))) };
    let Some(m) = ws.messages.iter().find(|m| m.channel == c.id && m.ts == ts) else { return Err(Box::new(fail("message_not_found"))) };
    if !m.bot {
        return Err(Box::new(fail(cant_what)));
    }
    Ok((c.id.clone(), ts))
}

fn chat_update(s: &Shared, caller: &Caller, args: &Args) -> Handled {
    let mut ws = lock(&s.workspace);
    let (channel, ts) = own_message(&ws, caller, args, "cant_update_message")?;
    let (text, blocks) = content(args)?;
    let edited = ws.next_ts();
    let Some(m) = ws.messages.iter_mut().find(|m| m.channel == channel && m.ts == ts) else { return Ok(fail("message_not_found")) };
    m.text = text.clone();
    if blocks.is_some() {
        m.blocks = blocks;
    }
    m.edited = Some(edited);
    let m = m.clone();
    let message = ws.message_json(&m);
    Ok(ok(json!({ "channel": channel, "ts": ts_str(ts), "text": text, "message": message })))
}

fn chat_delete(s: &Shared, caller: &Caller, args: &Args) -> Handled {
    let mut ws = lock(&s.workspace);
    let (channel, ts) = own_message(&ws, caller, args, "cant_delete_message")?;
    ws.messages.retain(|m| !(m.channel == channel && m.ts == ts));
    Ok(ok(json!({ "channel": channel, "ts": ts_str(ts) })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slacks_documented_signing_example_verifies() {
        // From Slack's "Verifying requests from Slack" guide.
        let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        assert_eq!(
            sign("8f742231b10e8888abcd99yyyzzz85a5", 1_531_420_618, body.as_bytes()),
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        );
    }

    #[test]
    fn a_signed_event_carries_the_signature_of_its_exact_body() {
        let e = message_event(SIGNING_SECRET, "Ev05SBX0001", CUSTOMER_FEEDBACK, "U05SBX0003", "The export failed again", "1712400000.000100", 1_712_400_001);
        assert_eq!(e.signature, sign(SIGNING_SECRET, e.timestamp, e.body.as_bytes()));
        let v: Value = serde_json::from_str(&e.body).expect("JSON body");
        assert_eq!((v["type"].as_str(), v["event"]["type"].as_str(), v["event"]["channel"].as_str()), (Some("event_callback"), Some("message"), Some(CUSTOMER_FEEDBACK)));
        assert_ne!(e.signature, sign(SIGNING_SECRET, e.timestamp + 1, e.body.as_bytes()), "the timestamp is part of what is signed");
    }

    #[test]
    fn timestamps_parse_as_slack_writes_them() {
        assert_eq!(parse_ts("1712345678.000200"), Some((1_712_345_678, 200)));
        assert_eq!(parse_ts("1712345678"), Some((1_712_345_678, 0)));
        assert_eq!(parse_ts("1712345678.5"), Some((1_712_345_678, 500_000)));
        assert_eq!(parse_ts("abc"), None);
        assert_eq!(ts_str((1_712_345_678, 200)), "1712345678.000200");
    }

    #[test]
    fn the_seeded_workspace_has_what_the_feedback_workflow_needs() {
        let ws = Workspace::seeded();
        assert_eq!(ws.messages.iter().filter(|m| m.channel == CUSTOMER_FEEDBACK).count(), SEEDED_FEEDBACK_MESSAGES);
        assert!(ws.messages.iter().filter(|m| m.thread_ts.is_some()).count() >= 6, "some feedback should have threads");
        assert!(ws.visible(LEADERSHIP).is_none(), "a private channel the bot is not in is invisible to it");
        assert_eq!(ws.users.len(), SEEDED_USERS);
    }
}
