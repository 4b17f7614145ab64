//! The Gmail sandbox over real HTTP on loopback: Google's OAuth with PKCE at Google's paths,
//! search with Gmail operators, pagination, every message format, attachments, threads, labels,
//! drafts and sending, Google's error envelope for bad ids, bad arguments and missing scopes,
//! and the per-user quota counted in units per method.

use std::time::Duration;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_sandbox::gmail::{self, GmailConfig, GmailSandbox};
use switchboard_sandbox::oauth::s256_challenge;
use switchboard_sandbox::{SandboxHandle, SandboxServer};

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(10)).build().expect("client")
}

/// Runs the consent flow like a browser and the token exchange like the gateway.
async fn token(h: &SandboxHandle, scopes: &[&str]) -> Value {
    let verifier = "v".repeat(50);
    let redirect = "http://127.0.0.1:9/callback";
    let auth = reqwest::Url::parse_with_params(
        &format!("{}/o/oauth2/v2/auth", h.url()),
        &[
            ("client_id", gmail::CLIENT_ID),
            ("redirect_uri", redirect),
            ("response_type", "code"),
            ("scope", &scopes.join(" ")),
            ("code_challenge", &s256_challenge(&verifier)),
            ("code_challenge_method", "S256"),
            ("access_type", "offline"),
            ("state", "st"),
        ],
    )
    .expect("url");
    let html = client().get(auth).send().await.expect("consent page").text().await.expect("html");
    let req = html.split("name=\"request\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("request id").to_string();
    let resp = client().post(format!("{}{}", h.url(), gmail::DECISION_PATH)).form(&[("request", req.as_str()), ("decision", "approve")]).send().await.expect("decide");
    let loc = reqwest::Url::parse(resp.headers()["location"].to_str().expect("location")).expect("redirect");
    let code = loc.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).expect("code");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("client_id", gmail::CLIENT_ID),
        ("client_secret", gmail::CLIENT_SECRET),
        ("code_verifier", verifier.as_str()),
    ];
    let t: Value = client().post(format!("{}/token", h.url())).form(&form).send().await.expect("token").json().await.expect("json");
    assert_eq!(t["token_type"], "Bearer", "{t}");
    assert_eq!(t["scope"], scopes.join(" "), "Google echoes the granted scopes: {t}");
    t
}

async fn access(h: &SandboxHandle, scopes: &[&str]) -> String {
    token(h, scopes).await["access_token"].as_str().expect("access token").to_string()
}

async fn call(h: &SandboxHandle, tok: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut r = client().request(method, format!("{}/gmail/v1/users/me{path}", h.url())).bearer_auth(tok);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.expect("send");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or_else(|_| panic!("json: {text}")) })
}

async fn get(h: &SandboxHandle, tok: &str, path: &str) -> (StatusCode, Value) {
    call(h, tok, reqwest::Method::GET, path, None).await
}

fn reason(v: &Value) -> &str {
    v["error"]["errors"][0]["reason"].as_str().unwrap_or("<none>")
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

fn unb64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE.decode(s).expect("base64url")
}

#[tokio::test]
async fn search_operators_and_pagination() {
    let h = SandboxServer::start(GmailSandbox::default()).await.expect("start");
    let t = access(&h, &[gmail::READONLY]).await;
    let (s, all) = get(&h, &t, "/messages?maxResults=500").await;
    assert_eq!(s, 200, "{all}");
    let total = all["resultSizeEstimate"].as_u64().expect("estimate");
    assert!((90..=110).contains(&total), "about 100 messages: {total}");

    let (_, lead) = get(&h, &t, &format!("/messages?q=from:{}", gmail::LEAD_EMAIL)).await;
    assert_eq!(lead["resultSizeEstimate"], 2, "Ada wrote twice: {lead}");
    let (_, unread) = get(&h, &t, "/messages?q=from:ada%20is:unread%20has:attachment").await;
    assert_eq!(unread["resultSizeEstimate"], 1, "{unread}");
    let (_, subj) = get(&h, &t, "/messages?q=subject:%22analytical%20engine%22").await;
    assert_eq!(subj["resultSizeEstimate"], 3, "the reply matches too: {subj}");
    let (_, inv) = get(&h, &t, "/messages?q=label:invoices%20filename:pdf").await;
    assert_eq!(inv["resultSizeEstimate"], 12, "{inv}");
    let (_, not_news) = get(&h, &t, "/messages?q=-label:newsletters&labelIds=INBOX").await;
    let (_, inbox) = get(&h, &t, "/messages?labelIds=INBOX").await;
    let (_, news) = get(&h, &t, "/messages?q=label:Newsletters").await;
    assert_eq!(not_news["resultSizeEstimate"].as_u64().unwrap_or(0) + news["resultSizeEstimate"].as_u64().unwrap_or(0), inbox["resultSizeEstimate"].as_u64().unwrap_or(0));
    let (_, recent) = get(&h, &t, "/messages?q=newer_than:1d").await;
    let (_, month) = get(&h, &t, "/messages?q=newer_than:60d").await;
    assert!(recent["resultSizeEstimate"].as_u64() < month["resultSizeEstimate"].as_u64(), "newer_than narrows: {recent} {month}");
    let (_, words) = get(&h, &t, "/messages?q=renewal%20price").await;
    assert!(words["resultSizeEstimate"].as_u64().unwrap_or(0) > 0, "free words search subject and body: {words}");
    let (_, none) = get(&h, &t, "/messages?q=from:nobody@nowhere.example").await;
    assert_eq!(none, json!({ "resultSizeEstimate": 0 }), "no match omits `messages`, as Gmail does");

    // Pages: every message once, in order, nextPageToken until the end.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let q = token.as_ref().map_or(String::new(), |t| format!("&pageToken={t}"));
        let (s, page) = get(&h, &t, &format!("/messages?maxResults=30{q}")).await;
        assert_eq!(s, 200, "{page}");
        seen.extend(page["messages"].as_array().expect("messages").iter().map(|m| m["id"].as_str().unwrap_or_default().to_string()));
        match page["nextPageToken"].as_str() {
            Some(n) => token = Some(n.to_string()),
            None => break,
        }
    }
    let expected: Vec<String> = all["messages"].as_array().expect("all").iter().map(|m| m["id"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(seen, expected, "paging returns every message exactly once");

    let (s, e) = get(&h, &t, "/messages?maxResults=ten").await;
    assert_eq!((s.as_u16(), reason(&e), e["error"]["status"].as_str()), (400, "invalidArgument", Some("INVALID_ARGUMENT")), "{e}");
    let (s, e) = get(&h, &t, "/messages?bogus=1").await;
    assert_eq!(s, 400, "unknown parameters are refused: {e}");
    let (s, e) = get(&h, &t, "/messages?labelIds=Label_99").await;
    assert_eq!(s, 400, "{e}");
    let (s, e) = get(&h, &t, "/messages?pageToken=zzz").await;
    assert_eq!(s, 400, "{e}");
    let (_, threads) = get(&h, &t, "/threads?q=from:ada").await;
    assert_eq!(threads["resultSizeEstimate"], 1, "the lead's messages are one thread: {threads}");
    h.shutdown().await;
}

#[tokio::test]
async fn formats_attachments_threads_and_labels() {
    let h = SandboxServer::start(GmailSandbox::default()).await.expect("start");
    let t = access(&h, &[gmail::READONLY]).await;
    let (_, found) = get(&h, &t, "/messages?q=from:ada%20has:attachment").await;
    let id = found["messages"][0]["id"].as_str().expect("id").to_string();
    let thread_id = found["messages"][0]["threadId"].as_str().expect("thread").to_string();

    let (s, full) = get(&h, &t, &format!("/messages/{id}")).await;
    assert_eq!(s, 200, "{full}");
    let p = &full["payload"];
    assert_eq!(p["mimeType"], "multipart/mixed");
    assert!(p["headers"].as_array().expect("headers").iter().any(|h| h["name"] == "Subject" && h["value"].as_str().is_some_and(|v| v.contains(gmail::LEAD_SUBJECT))));
    let alt = &p["parts"][0];
    assert_eq!(alt["mimeType"], "multipart/alternative");
    let plain = String::from_utf8(unb64(alt["parts"][0]["body"]["data"].as_str().expect("text"))).expect("utf8");
    assert!(plain.contains("Tuesday or Wednesday"), "{plain}");
    assert_eq!(alt["parts"][1]["mimeType"], "text/html");
    let att = &p["parts"][1];
    assert_eq!((att["filename"].as_str(), att["mimeType"].as_str()), (Some("requirements.pdf"), Some("application/pdf")));
    let att_id = att["body"]["attachmentId"].as_str().expect("attachment id");
    let size = att["body"]["size"].as_u64().expect("size");
    assert!(full["internalDate"].is_string() && full["historyId"].is_string(), "int64 fields are strings: {full}");

    let (s, a) = get(&h, &t, &format!("/messages/{id}/attachments/{att_id}")).await;
    assert_eq!(s, 200, "{a}");
    let bytes = unb64(a["data"].as_str().expect("data"));
    assert_eq!((bytes.len() as u64, a["size"].as_u64()), (size, Some(size)));
    assert!(bytes.starts_with(b"%PDF"), "the PDF's bytes");
    let (s, e) = get(&h, &t, &format!("/messages/{id}/attachments/nope")).await;
    assert_eq!(s, 400, "{e}");

    let (_, meta) = get(&h, &t, &format!("/messages/{id}?format=metadata&metadataHeaders=From&metadataHeaders=Subject")).await;
    assert_eq!(meta["payload"]["headers"].as_array().map(Vec::len), Some(2), "{meta}");
    assert!(meta["payload"].get("parts").is_none(), "metadata has no bodies");
    let (_, min) = get(&h, &t, &format!("/messages/{id}?format=minimal")).await;
    assert!(min.get("payload").is_none() && min["labelIds"].is_array(), "{min}");
    let (_, raw) = get(&h, &t, &format!("/messages/{id}?format=raw")).await;
    let rfc = String::from_utf8(unb64(raw["raw"].as_str().expect("raw"))).expect("utf8");
    assert!(rfc.contains("From: Ada Lovelace <ada.lovelace@example.com>") && rfc.contains("filename=\"current-setup.png\""), "{rfc}");
    let (s, e) = get(&h, &t, &format!("/messages/{id}?format=bogus")).await;
    assert_eq!((s.as_u16(), reason(&e)), (400, "invalidArgument"));

    let (s, e) = get(&h, &t, "/messages/ffffffffffffffff").await;
    assert_eq!((s.as_u16(), reason(&e), e["error"]["status"].as_str()), (404, "notFound", Some("NOT_FOUND")), "{e}");
    let (s, e) = get(&h, &t, "/messages/not-an-id").await;
    assert_eq!(s, 400, "{e}");

    let (_, th) = get(&h, &t, &format!("/threads/{thread_id}")).await;
    assert_eq!(th["messages"].as_array().map(Vec::len), Some(3), "{th}");
    let (_, labels) = get(&h, &t, "/labels").await;
    let names: Vec<&str> = labels["labels"].as_array().expect("labels").iter().filter_map(|l| l["name"].as_str()).collect();
    assert!(names.contains(&"INBOX") && names.contains(&"Leads") && names.contains(&"Invoices"), "{names:?}");

    // An attachment of a type nobody handles: metadata, no failure.
    let (_, odd) = get(&h, &t, "/messages?q=filename:p7m").await;
    let oid = odd["messages"][0]["id"].as_str().expect("odd message");
    let (s, m) = get(&h, &t, &format!("/messages/{oid}")).await;
    assert_eq!(s, 200);
    assert_eq!(m["payload"]["parts"][1]["mimeType"], "application/x-unknown-sealed-archive");
    h.shutdown().await;
}

#[tokio::test]
async fn scopes_auth_drafts_and_sending() {
    let h = SandboxServer::start(GmailSandbox::default()).await.expect("start");
    let read = access(&h, &[gmail::READONLY]).await;
    let (_, found) = get(&h, &read, "/messages?q=from:ada").await;
    let id = found["messages"][0]["id"].as_str().expect("id").to_string();
    let thread = found["messages"][0]["threadId"].as_str().expect("thread").to_string();
    let raw = b64(&format!("To: {}\r\nSubject: Re: {}\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\nTuesday 3 pm works.\r\n", gmail::LEAD_EMAIL, gmail::LEAD_SUBJECT));

    let (s, e) = call(&h, &read, reqwest::Method::POST, "/messages/send", Some(json!({ "raw": raw }))).await;
    assert_eq!((s.as_u16(), reason(&e)), (403, "insufficientPermissions"), "{e}");
    assert_eq!(e["error"]["details"][0]["reason"], "ACCESS_TOKEN_SCOPE_INSUFFICIENT");
    let (s, _) = call(&h, &read, reqwest::Method::POST, &format!("/messages/{id}/modify"), Some(json!({ "removeLabelIds": ["UNREAD"] }))).await;
    assert_eq!(s, 403, "readonly cannot change labels");
    let (s, e) = get(&h, "ya29.forged", "/messages").await;
    assert_eq!((s.as_u16(), reason(&e)), (401, "authError"), "{e}");
    let meta = access(&h, &[gmail::METADATA]).await;
    let (s, _) = get(&h, &meta, &format!("/messages/{id}?format=full")).await;
    assert_eq!(s, 403, "gmail.metadata cannot read bodies");

    let w = access(&h, &[gmail::READONLY, gmail::COMPOSE, gmail::MODIFY]).await;
    let (s, m) = call(&h, &w, reqwest::Method::POST, &format!("/messages/{id}/modify"), Some(json!({ "addLabelIds": ["Label_5"], "removeLabelIds": ["UNREAD"] }))).await;
    assert_eq!(s, 200, "{m}");
    assert!(m["labelIds"].as_array().expect("labels").contains(&json!("Label_5")));
    let (s, e) = call(&h, &w, reqwest::Method::POST, &format!("/messages/{id}/modify"), Some(json!({ "addLabelIds": ["Nope"] }))).await;
    assert_eq!(s, 400, "{e}");

    let (s, d) = call(&h, &w, reqwest::Method::POST, "/drafts", Some(json!({ "message": { "raw": raw, "threadId": thread } }))).await;
    assert_eq!(s, 200, "{d}");
    let draft = d["id"].as_str().expect("draft id").to_string();
    assert_eq!(d["message"]["threadId"], thread.as_str());
    assert!(d["message"]["labelIds"].as_array().expect("labels").contains(&json!("DRAFT")));
    let raw2 = b64(&format!("To: {}\r\nSubject: Re: {}\r\n\r\nTuesday 4 pm works better.\r\n", gmail::LEAD_EMAIL, gmail::LEAD_SUBJECT));
    let (s, d2) = call(&h, &w, reqwest::Method::PUT, &format!("/drafts/{draft}"), Some(json!({ "message": { "raw": raw2, "threadId": thread } }))).await;
    assert_eq!(s, 200, "{d2}");
    let (s, sent) = call(&h, &w, reqwest::Method::POST, "/drafts/send", Some(json!({ "id": draft }))).await;
    assert_eq!(s, 200, "{sent}");
    assert_eq!(sent["labelIds"], json!(["SENT"]));
    assert_eq!(sent["threadId"], thread.as_str(), "the reply stays in the thread");
    let (s, e) = call(&h, &w, reqwest::Method::POST, "/drafts/send", Some(json!({ "id": draft }))).await;
    assert_eq!((s.as_u16(), reason(&e)), (404, "notFound"), "a draft already sent is gone: {e}");
    let (_, th) = get(&h, &w, &format!("/threads/{thread}")).await;
    assert_eq!(th["messages"].as_array().map(Vec::len), Some(4), "{th}");
    let (_, sent_box) = get(&h, &w, "/messages?labelIds=SENT&q=better").await;
    assert_eq!(sent_box["resultSizeEstimate"], 1, "{sent_box}");

    let (s, e) = call(&h, &w, reqwest::Method::POST, "/messages/send", Some(json!({ "raw": b64("Subject: nobody\r\n\r\nhi") }))).await;
    assert_eq!(s, 400, "a message needs a recipient: {e}");
    let (s, e) = call(&h, &w, reqwest::Method::POST, "/messages/send", Some(json!({ "raw": "***" }))).await;
    assert_eq!(s, 400, "{e}");
    let (s, e) = call(&h, &w, reqwest::Method::POST, "/messages/send", Some(json!({ "raw": raw, "bogus": 1 }))).await;
    assert_eq!(s, 400, "unknown body fields are refused: {e}");

    let (s, tr) = call(&h, &w, reqwest::Method::POST, &format!("/messages/{id}/trash"), None).await;
    assert_eq!(s, 200);
    assert!(tr["labelIds"].as_array().expect("labels").contains(&json!("TRASH")));
    let (_, after) = get(&h, &w, "/messages?q=from:ada").await;
    assert_eq!(after["resultSizeEstimate"], 1, "trashed mail leaves the default search");
    let (_, prof) = get(&h, &w, "/profile").await;
    assert_eq!(prof["emailAddress"], gmail::MAILBOX);
    h.shutdown().await;
}

#[tokio::test]
async fn quota_is_counted_in_units_per_method() {
    // 300 units a minute: two sends (200) and 20 gets (100), then anything more is refused.
    let h = SandboxServer::start(GmailSandbox::new(GmailConfig { quota_units: 300, ..GmailConfig::default() })).await.expect("start");
    let t = access(&h, &[gmail::READONLY, gmail::SEND]).await;
    let raw = b64("To: someone@example.com\r\nSubject: hi\r\n\r\nhello");
    for _ in 0..2 {
        let (s, e) = call(&h, &t, reqwest::Method::POST, "/messages/send", Some(json!({ "raw": raw }))).await;
        assert_eq!(s, 200, "{e}");
    }
    let (_, list) = get(&h, &t, "/messages?maxResults=1").await;
    let id = list["messages"][0]["id"].as_str().expect("id").to_string();
    // The list cost 5; 19 gets bring it to 300.
    for i in 0..19 {
        let (s, e) = get(&h, &t, &format!("/messages/{id}?format=minimal")).await;
        assert_eq!(s, 200, "get {i}: {e}");
    }
    let (s, e) = get(&h, &t, &format!("/messages/{id}?format=minimal")).await;
    assert_eq!((s.as_u16(), reason(&e), e["error"]["status"].as_str()), (429, "rateLimitExceeded", Some("RESOURCE_EXHAUSTED")), "{e}");
    assert_eq!(e["error"]["errors"][0]["domain"], "usageLimits");
    assert_eq!(h.rate_limited_count(), 1);

    let h2 = SandboxServer::start(GmailSandbox::new(GmailConfig { quota_units: 100, limit_with_403: true, ..GmailConfig::default() })).await.expect("start");
    let t2 = access(&h2, &[gmail::SEND]).await;
    let (s, _) = call(&h2, &t2, reqwest::Method::POST, "/messages/send", Some(json!({ "raw": raw }))).await;
    assert_eq!(s, 200);
    let (s, e) = call(&h2, &t2, reqwest::Method::POST, "/messages/send", Some(json!({ "raw": raw }))).await;
    assert_eq!((s.as_u16(), reason(&e)), (403, "userRateLimitExceeded"), "{e}");
    h.shutdown().await;
    h2.shutdown().await;
}

#[tokio::test]
async fn tokens_refresh_and_revoke_at_googles_paths() {
    let h = SandboxServer::start(GmailSandbox::default()).await.expect("start");
    let t = token(&h, &[gmail::READONLY]).await;
    let refresh = t["refresh_token"].as_str().expect("refresh");
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", gmail::CLIENT_ID), ("client_secret", gmail::CLIENT_SECRET)];
    let r: Value = client().post(format!("{}/token", h.url())).form(&form).send().await.expect("refresh").json().await.expect("json");
    let new_refresh = r["refresh_token"].as_str().expect("refresh").to_string();
    let resp = client().post(format!("{}/revoke", h.url())).form(&[("token", new_refresh.as_str())]).send().await.expect("revoke");
    assert_eq!(resp.status(), 200);
    let (s, _) = get(&h, r["access_token"].as_str().expect("access"), "/labels").await;
    assert_eq!(s, 401, "a revoked grant's access token is refused");
    h.shutdown().await;
}

#[tokio::test]
async fn history_lists_what_arrived_after_a_start_and_answers_404_once_it_expired() {
    let gm = GmailSandbox::default();
    let sim = gm.simulator();
    let h = SandboxServer::start(gm).await.expect("start");
    let tok = access(&h, &[gmail::READONLY]).await;
    let (s, profile) = get(&h, &tok, "/profile").await;
    assert_eq!(s, StatusCode::OK, "{profile}");
    let start = profile["historyId"].as_str().expect("historyId").to_string();
    let (_, empty) = get(&h, &tok, &format!("/history?startHistoryId={start}")).await;
    assert!(empty.get("history").is_none(), "nothing changed yet: {empty}");
    let first = sim.receive("Ada Lovelace <ada.lovelace@example.com>", "Contract", "Signed copy attached.");
    let second = sim.receive("Grace Hopper <grace.hopper@example.com>", "Renewal", "Let's talk.");
    let (_, page) = get(&h, &tok, &format!("/history?startHistoryId={start}&maxResults=1")).await;
    assert_eq!(page["history"][0]["messagesAdded"][0]["message"]["id"], first.as_str(), "oldest change first: {page}");
    let next = page["nextPageToken"].as_str().expect("a second page").to_string();
    let (_, page2) = get(&h, &tok, &format!("/history?startHistoryId={start}&maxResults=1&pageToken={next}")).await;
    assert_eq!(page2["history"][0]["messagesAdded"][0]["message"]["id"], second.as_str(), "{page2}");
    assert_eq!(page2["historyId"].as_str().map(str::to_string), Some(sim.history_id().to_string()), "the mailbox's current history id comes with every page");
    sim.expire_history();
    let (s, gone) = get(&h, &tok, &format!("/history?startHistoryId={start}")).await;
    assert_eq!((s, reason(&gone)), (StatusCode::NOT_FOUND, "notFound"), "a start older than the kept history is 404: {gone}");
    let (_, fresh) = get(&h, &tok, "/profile").await;
    let (s, ok) = get(&h, &tok, &format!("/history?startHistoryId={}", fresh["historyId"].as_str().expect("historyId"))).await;
    assert_eq!(s, StatusCode::OK, "a fresh start from the profile works again: {ok}");
}

#[tokio::test]
async fn a_bulk_inbox_adds_one_unread_message_per_sender() {
    let senders: Vec<String> = (0..250).map(|i| format!("sender{i}@bulk.example")).collect();
    let h = SandboxServer::start(GmailSandbox::new(gmail::GmailConfig { bulk_inbox: senders, ..gmail::GmailConfig::default() })).await.expect("start");
    let t = access(&h, &[gmail::READONLY]).await;
    let (_, bulk) = get(&h, &t, "/messages?q=from:bulk.example%20is:unread&maxResults=500").await;
    assert_eq!(bulk["resultSizeEstimate"], 250, "one unread inbox message per bulk sender: {}", bulk["resultSizeEstimate"]);
    let (_, one) = get(&h, &t, "/messages?q=from:sender7@bulk.example").await;
    assert_eq!(one["resultSizeEstimate"], 1, "{one}");
    h.shutdown().await;
}
