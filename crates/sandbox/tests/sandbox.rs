//! The HubSpot sandbox over real HTTP on loopback: OAuth + PKCE journey, refresh rotation,
//! revocation, private-app reads with paging, 401 shape, rolling rate limit and fault knobs.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::Value;
use sha2::{Digest, Sha256};
use switchboard_sandbox::hubspot::{
    CLIENT_ID, CLIENT_SECRET, HubSpotConfig, HubSpotSandbox, PRIVATE_APP_TOKEN, SEEDED_CONTACTS,
};
use switchboard_sandbox::{SandboxHandle, SandboxServer};

const REDIRECT: &str = "http://127.0.0.1:53682/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-sandbox-verifier-0001";
const READ_SCOPES: &str = "oauth crm.objects.contacts.read";

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(&Sha256::digest(verifier.as_bytes())[..])
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client can be built")
}

/// A HubSpot sandbox configured like a HubSpot developer *test* app (loopback redirects allowed).
async fn start_test_app() -> SandboxHandle {
    start(HubSpotConfig {
        loopback_allowed: true,
        ..HubSpotConfig::default()
    })
    .await
}

async fn start(cfg: HubSpotConfig) -> SandboxHandle {
    SandboxServer::start(HubSpotSandbox::new(cfg))
        .await
        .expect("the sandbox starts on loopback")
}

fn query_of(location: &str) -> HashMap<String, String> {
    let u = location.split_once('?').map(|x| x.1).unwrap_or_default();
    u.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), pct_decode(v)))
        .collect()
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3]).expect("ascii hex");
                out.push(u8::from_str_radix(h, 16).expect("valid percent escape"));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).expect("utf-8")
}

/// Open the consent page; returns (status, headers, html).
async fn authorize_page(
    h: &SandboxHandle,
    params: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let r = client()
        .get(format!("{}/oauth/authorize", h.url()))
        .query(params)
        .send()
        .await
        .expect("the authorize page answers");
    let status = r.status();
    let headers = r.headers().clone();
    (
        status,
        headers,
        r.text().await.expect("the page has a body"),
    )
}

fn std_params<'a>(redirect: &'a str, state: &'a str, chal: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", CLIENT_ID),
        ("redirect_uri", redirect),
        ("scope", READ_SCOPES),
        ("state", state),
        ("code_challenge", chal),
        ("code_challenge_method", "S256"),
        ("response_type", "code"),
    ]
}

/// Click Approve or Deny on a consent page; returns the redirect Location.
async fn decide(h: &SandboxHandle, html: &str, decision: &str) -> String {
    let marker = "name=\"request\" value=\"";
    let start = html
        .find(marker)
        .expect("the consent page carries a request id")
        + marker.len();
    let id = &html[start..start + html[start..].find('"').expect("closing quote")];
    let r = client()
        .post(format!("{}/oauth/authorize/decision", h.url()))
        .form(&[("request", id), ("decision", decision)])
        .send()
        .await
        .expect("the consent form posts");
    assert!(
        r.status().is_redirection(),
        "clicking {decision} should send the browser back to the app, got {}",
        r.status()
    );
    r.headers()
        .get("location")
        .expect("a redirect has a Location")
        .to_str()
        .expect("ascii Location")
        .to_string()
}

/// Authorize and approve; returns the code.
async fn get_code(h: &SandboxHandle, state: &str) -> String {
    let chal = challenge(VERIFIER);
    let (status, _, html) = authorize_page(h, &std_params(REDIRECT, state, &chal)).await;
    assert_eq!(status, StatusCode::OK, "consent page should open: {html}");
    let loc = decide(h, &html, "approve").await;
    let q = query_of(&loc);
    assert_eq!(
        q.get("state").map(String::as_str),
        Some(state),
        "state must come back unchanged"
    );
    q.get("code").expect("approving returns a code").clone()
}

async fn exchange(h: &SandboxHandle, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = client()
        .post(format!("{}/oauth/v1/token", h.url()))
        .form(form)
        .send()
        .await
        .expect("the token endpoint answers");
    let s = r.status();
    (s, r.json().await.expect("token endpoint answers JSON"))
}

async fn exchange_code(
    h: &SandboxHandle,
    code: &str,
    redirect: &str,
    verifier: &str,
) -> (StatusCode, Value) {
    exchange(
        h,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("redirect_uri", redirect),
            ("code", code),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn refresh(h: &SandboxHandle, rt: &str) -> (StatusCode, Value) {
    exchange(
        h,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("refresh_token", rt),
        ],
    )
    .await
}

async fn contacts(h: &SandboxHandle, token: &str, query: &[(&str, &str)]) -> reqwest::Response {
    client()
        .get(format!("{}/crm/v3/objects/contacts", h.url()))
        .bearer_auth(token)
        .query(query)
        .send()
        .await
        .expect("the contacts endpoint answers")
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn pkce_round_trip_consent_exchange_and_refusals() {
    let h = start_test_app().await;
    let chal = challenge(VERIFIER);

    // The consent page lists the requested scopes in plain words, with Approve / Deny.
    let (status, headers, html) = authorize_page(&h, &std_params(REDIRECT, "st-1", &chal)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the consent page should open: {html}"
    );
    assert_eq!(
        headers.get("x-frame-options").and_then(|v| v.to_str().ok()),
        Some("DENY"),
        "the consent page must not be frameable"
    );
    assert!(
        html.contains("See your contacts and their details."),
        "the page should explain the contacts scope in plain words"
    );
    assert!(
        html.contains("crm.objects.contacts.read"),
        "the page should name the scope"
    );
    assert!(
        !html.contains("Create and update your deals"),
        "the page should list only the requested scopes"
    );
    assert!(
        html.contains(">Approve<") && html.contains(">Deny<"),
        "the page should offer Approve and Deny"
    );
    assert!(
        html.contains("method=\"post\""),
        "the decision must be a form POST"
    );

    // Approve → code; exchange with the right verifier.
    let loc = decide(&h, &html, "approve").await;
    assert!(
        loc.starts_with(REDIRECT),
        "approval should return to the app's redirect URL, got {loc}"
    );
    let q = query_of(&loc);
    assert_eq!(q.get("state").map(String::as_str), Some("st-1"));
    let code = q.get("code").expect("approval gives a code").clone();
    let (st, tok) = exchange_code(&h, &code, REDIRECT, VERIFIER).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "the right verifier should get tokens: {tok}"
    );
    assert_eq!(s(&tok, "token_type"), "bearer");
    assert_eq!(
        tok["expires_in"].as_u64(),
        Some(1800),
        "HubSpot access tokens live 30 minutes"
    );
    assert!(!s(&tok, "access_token").is_empty() && !s(&tok, "refresh_token").is_empty());
    let at = s(&tok, "access_token");
    let r = contacts(&h, &at, &[("limit", "1")]).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "the new access token should read contacts"
    );

    // The same code a second time is refused, and what it produced is revoked.
    let (st, err) = exchange_code(&h, &code, REDIRECT, VERIFIER).await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "a replayed code must be refused"
    );
    assert_eq!(s(&err, "error"), "invalid_grant");
    let r = contacts(&h, &at, &[("limit", "1")]).await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "tokens from a replayed code should stop working"
    );

    // Wrong verifier is refused.
    let code = get_code(&h, "st-2").await;
    let (st, err) = exchange_code(
        &h,
        &code,
        REDIRECT,
        "wrong-verifier-wrong-verifier-wrong-verifier-000",
    )
    .await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "a wrong PKCE verifier must be refused"
    );
    assert_eq!(s(&err, "error"), "invalid_grant");
    assert_eq!(
        s(&err, "status"),
        "BAD_AUTH_CODE",
        "HubSpot's own status field is present too"
    );

    // Wrong redirect_uri is refused.
    let code = get_code(&h, "st-3").await;
    let (st, err) = exchange_code(&h, &code, "http://127.0.0.1:9/other", VERIFIER).await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "a different redirect_uri must be refused"
    );
    assert_eq!(s(&err, "error"), "invalid_grant");

    // Missing client_secret is refused (HubSpot requires it at the token step).
    let code = get_code(&h, "st-4").await;
    let (st, err) = exchange(
        &h,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("code", &code),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        s(&err, "error"),
        "invalid_client",
        "HubSpot needs the client secret at the token step"
    );

    // Deny → access_denied with the state.
    let (_, _, html) = authorize_page(&h, &std_params(REDIRECT, "st-5", &chal)).await;
    let loc = decide(&h, &html, "deny").await;
    let q = query_of(&loc);
    assert_eq!(
        q.get("error").map(String::as_str),
        Some("access_denied"),
        "denying consent should tell the app"
    );
    assert_eq!(q.get("state").map(String::as_str), Some("st-5"));
    assert!(!q.contains_key("code"), "no code after a denial");
    h.shutdown().await;
}

#[tokio::test]
async fn authorize_request_validation() {
    let chal = challenge(VERIFIER);

    // Real HubSpot rule: http loopback redirects only for testing apps.
    let prod = start(HubSpotConfig::default()).await;
    let (st, _, html) = authorize_page(&prod, &std_params(REDIRECT, "s", &chal)).await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "a production HubSpot app refuses a loopback redirect"
    );
    assert!(
        html.contains("only for testing") && html.contains("private-app token"),
        "the refusal should say why and what to do: {html}"
    );
    prod.shutdown().await;

    let h = start_test_app().await;
    // IPv6 loopback, any port, is accepted.
    let (st, _, _) = authorize_page(&h, &std_params("http://[::1]:40123/cb", "s", &chal)).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "http://[::1]:PORT is a valid loopback redirect"
    );
    // localhost and non-loopback http are refused, without redirecting.
    for bad in [
        "http://localhost:8080/cb",
        "http://192.168.1.2:8080/cb",
        "https://evil.example/cb",
    ] {
        let (st, _, _) = authorize_page(&h, &std_params(bad, "s", &chal)).await;
        assert_eq!(
            st,
            StatusCode::BAD_REQUEST,
            "redirect_uri {bad} must be refused"
        );
    }
    // Unknown client: every echoed value is escaped.
    let mut p = std_params(REDIRECT, "s", &chal);
    p[0] = ("client_id", "<script>alert(1)</script>");
    let (st, _, html) = authorize_page(&h, &p).await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "an unknown client_id is refused"
    );
    assert!(
        !html.contains("<script>") && html.contains("&lt;script&gt;"),
        "echoed values must be HTML-escaped"
    );

    // Missing PKCE / plain method → error redirect.
    let mut p = std_params(REDIRECT, "s", &chal);
    p[5] = ("code_challenge_method", "plain");
    let r = client()
        .get(format!("{}/oauth/authorize", h.url()))
        .query(&p)
        .send()
        .await
        .expect("answers");
    let q = query_of(
        r.headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default(),
    );
    assert_eq!(
        q.get("error").map(String::as_str),
        Some("invalid_request"),
        "PKCE S256 is required"
    );

    // Unknown scope → invalid_scope.
    let mut p = std_params(REDIRECT, "s", &chal);
    p[2] = ("scope", "oauth crm.objects.everything.delete");
    let r = client()
        .get(format!("{}/oauth/authorize", h.url()))
        .query(&p)
        .send()
        .await
        .expect("answers");
    let q = query_of(
        r.headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default(),
    );
    assert_eq!(
        q.get("error").map(String::as_str),
        Some("invalid_scope"),
        "scopes outside HubSpot's list are refused"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn refresh_rotates_and_revoke_ends_the_grant() {
    let h = start_test_app().await;
    let code = get_code(&h, "r").await;
    let (_, tok) = exchange_code(&h, &code, REDIRECT, VERIFIER).await;
    let rt1 = s(&tok, "refresh_token");

    let (st, tok2) = refresh(&h, &rt1).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "a fresh refresh token should work: {tok2}"
    );
    let rt2 = s(&tok2, "refresh_token");
    assert_ne!(rt1, rt2, "refresh should rotate the refresh token");
    let at2 = s(&tok2, "access_token");
    assert_eq!(
        contacts(&h, &at2, &[]).await.status(),
        StatusCode::OK,
        "the refreshed access token works"
    );

    let (st, err) = refresh(&h, &rt1).await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "the old refresh token must be refused after rotation"
    );
    assert_eq!(s(&err, "error"), "invalid_grant");
    assert_eq!(s(&err, "status"), "BAD_REFRESH_TOKEN");

    let r = client()
        .delete(format!("{}/oauth/v1/refresh-tokens/{rt2}", h.url()))
        .send()
        .await
        .expect("revoke answers");
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "revoking a live refresh token succeeds"
    );
    let (st, _) = refresh(&h, &rt2).await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "a revoked refresh token must be refused"
    );
    assert_eq!(
        contacts(&h, &at2, &[]).await.status(),
        StatusCode::UNAUTHORIZED,
        "access tokens of a revoked grant stop working"
    );
    let r = client()
        .delete(format!("{}/oauth/v1/refresh-tokens/{rt2}", h.url()))
        .send()
        .await
        .expect("revoke answers");
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "revoking twice reports the token is gone"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn private_app_token_reads_and_paginates_all_contacts() {
    let h = start(HubSpotConfig::default()).await;
    let mut after: Option<String> = None;
    let mut emails = Vec::new();
    let mut pages = 0;
    loop {
        let mut q = vec![("limit", "10".to_string())];
        if let Some(a) = &after {
            q.push(("after", a.clone()));
        }
        let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = contacts(&h, PRIVATE_APP_TOKEN, &q).await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "a private-app token should read contacts"
        );
        assert!(
            r.headers().contains_key("x-hubspot-ratelimit-remaining"),
            "API responses carry rate-limit headers"
        );
        let body: Value = r.json().await.expect("contacts are JSON");
        pages += 1;
        for c in body["results"]
            .as_array()
            .expect("HubSpot lists rows in `results`")
        {
            assert!(
                c["id"].is_string() && c["properties"]["firstname"].is_string(),
                "contacts look like HubSpot's: {c}"
            );
            emails.push(
                c["properties"]["email"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        match body["paging"]["next"]["after"].as_str() {
            Some(a) => after = Some(a.to_string()),
            None => break,
        }
        assert!(pages < 10, "paging should end");
    }
    assert_eq!(
        pages,
        SEEDED_CONTACTS.div_ceil(10),
        "{SEEDED_CONTACTS} contacts at 10 per page"
    );
    assert_eq!(
        emails.len(),
        SEEDED_CONTACTS,
        "paging should reach every seeded contact"
    );
    let mut uniq = emails.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(
        uniq.len(),
        SEEDED_CONTACTS,
        "no contact should appear twice across pages"
    );
    assert!(
        emails.iter().all(|e| e.ends_with("@example.com")),
        "seeded emails use example.com"
    );
    assert_eq!(
        emails[0], "ada.lovelace@example.com",
        "seed data is deterministic"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn bad_token_gets_hubspot_401() {
    let h = start(HubSpotConfig::default()).await;
    let r = contacts(&h, "pat-na1-not-a-real-token", &[]).await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "an unknown token must be refused"
    );
    let body: Value = r.json().await.expect("the 401 is JSON");
    assert_eq!(s(&body, "status"), "error");
    assert_eq!(
        s(&body, "category"),
        "INVALID_AUTHENTICATION",
        "HubSpot's 401 category"
    );
    assert!(s(&body, "message").starts_with("Authentication credentials not found"));
    assert!(body["correlationId"].is_string());
    let r = client()
        .get(format!("{}/crm/v3/objects/contacts", h.url()))
        .send()
        .await
        .expect("answers");
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "no token at all is refused too"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn rolling_rate_limit_sends_hubspot_429_then_recovers() {
    let h = start(HubSpotConfig {
        rate_limit_max: 5,
        // Wide enough that six calls fit in one window on a loaded 2-core CI machine.
        rate_limit_interval: Duration::from_secs(4),
        ..HubSpotConfig::default()
    })
    .await;
    let t0 = Instant::now();
    for i in 0..5u32 {
        let r = contacts(&h, PRIVATE_APP_TOKEN, &[("limit", "1")]).await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "call {} of 5 is within the limit",
            i + 1
        );
        let hv = |k: &str| {
            r.headers()
                .get(k)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(hv("x-hubspot-ratelimit-max").as_deref(), Some("5"));
        assert_eq!(
            hv("x-hubspot-ratelimit-remaining"),
            Some((4 - i).to_string()),
            "remaining counts down"
        );
        assert_eq!(
            hv("x-hubspot-ratelimit-interval-milliseconds").as_deref(),
            Some("4000")
        );
    }
    let r = contacts(&h, PRIVATE_APP_TOKEN, &[("limit", "1")]).await;
    assert!(
        t0.elapsed() < Duration::from_secs(4),
        "test premise: six calls inside one window"
    );
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the 6th call in the window must get 429"
    );
    let hv = |k: &str| {
        r.headers()
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        hv("x-hubspot-ratelimit-remaining").as_deref(),
        Some("0"),
        "429 says nothing remains"
    );
    assert_eq!(hv("x-hubspot-ratelimit-max").as_deref(), Some("5"));
    assert!(
        hv("retry-after").is_none(),
        "HubSpot's ten-second 429 carries no Retry-After"
    );
    let body: Value = r.json().await.expect("the 429 is JSON");
    assert_eq!(s(&body, "status"), "error");
    assert_eq!(s(&body, "errorType"), "RATE_LIMIT");
    let mut keys: Vec<&str> = body
        .as_object()
        .expect("the 429 body is an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "correlationId",
            "errorType",
            "message",
            "policyName",
            "requestId",
            "status"
        ],
        "HubSpot's documented 429 body has exactly these fields"
    );
    assert_eq!(s(&body, "policyName"), "TEN_SECONDLY_ROLLING");
    assert!(s(&body, "message").contains("limit"));
    assert_eq!(h.rate_limited_count(), 1, "one 429 was counted");

    tokio::time::sleep(Duration::from_millis(4200)).await;
    let r = contacts(&h, PRIVATE_APP_TOKEN, &[("limit", "1")]).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "after the window passes calls succeed again"
    );
    assert!(h.requests_served() >= 7);
    h.shutdown().await;
}

#[tokio::test]
async fn fault_knobs_do_what_they_say() {
    let h = start(HubSpotConfig::default()).await;

    h.faults().fail_next(2);
    for i in 0..2 {
        let r = contacts(&h, PRIVATE_APP_TOKEN, &[]).await;
        assert!(
            r.status().is_server_error(),
            "faulted response {} should be 5xx, got {}",
            i + 1,
            r.status()
        );
    }
    assert_eq!(
        contacts(&h, PRIVATE_APP_TOKEN, &[]).await.status(),
        StatusCode::OK,
        "after N faults the server recovers"
    );

    h.faults().set_latency(Duration::from_millis(300));
    let t = Instant::now();
    assert_eq!(
        contacts(&h, PRIVATE_APP_TOKEN, &[]).await.status(),
        StatusCode::OK
    );
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "added latency should delay the answer"
    );
    h.faults().set_latency(Duration::ZERO);

    h.faults().set_malformed_json(true);
    let r = contacts(&h, PRIVATE_APP_TOKEN, &[]).await;
    let text = r.text().await.expect("a body arrives");
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "the malformed knob should break the JSON: {text}"
    );
    h.faults().set_malformed_json(false);

    h.faults().set_hang(true);
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let res = quick
        .get(format!("{}/crm/v3/objects/contacts", h.url()))
        .bearer_auth(PRIVATE_APP_TOKEN)
        .send()
        .await;
    assert!(
        res.as_ref().err().is_some_and(|e| e.is_timeout()),
        "a hanging server should never answer"
    );
    h.faults().set_hang(false);
    assert_eq!(
        contacts(&h, PRIVATE_APP_TOKEN, &[]).await.status(),
        StatusCode::OK,
        "turning hang off restores service"
    );

    assert_eq!(
        h.requests_served(),
        7,
        "every request that reached the server is counted"
    );
    assert_eq!(h.rate_limited_count(), 0);
    h.shutdown().await;
}

#[tokio::test]
async fn codes_and_access_tokens_expire_and_scopes_are_enforced() {
    let h = start(HubSpotConfig {
        loopback_allowed: true,
        // Margins wide enough for a loaded CI machine between issuing and using.
        code_ttl: Duration::from_millis(1500),
        access_token_ttl: Duration::from_millis(2500),
        ..HubSpotConfig::default()
    })
    .await;
    let code = get_code(&h, "e").await;
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let (st, err) = exchange_code(&h, &code, REDIRECT, VERIFIER).await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "an expired authorization code must be refused"
    );
    assert_eq!(s(&err, "error"), "invalid_grant");

    let code = get_code(&h, "e2").await;
    let (st, tok) = exchange_code(&h, &code, REDIRECT, VERIFIER).await;
    assert_eq!(st, StatusCode::OK);
    let at = s(&tok, "access_token");
    assert_eq!(contacts(&h, &at, &[]).await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2700)).await;
    let r = contacts(&h, &at, &[]).await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "an expired access token is refused"
    );
    let body: Value = r.json().await.expect("JSON");
    assert_eq!(
        s(&body, "category"),
        "EXPIRED_AUTHENTICATION",
        "the 401 says the token expired"
    );

    // A grant without the contacts scope gets HubSpot's 403 MISSING_SCOPES.
    let chal = challenge(VERIFIER);
    let mut p = std_params(REDIRECT, "sc", &chal);
    p[2] = ("scope", "oauth crm.objects.deals.read");
    let (_, _, html) = authorize_page(&h, &p).await;
    assert!(html.contains("See your deals and their amounts."));
    let code = query_of(&decide(&h, &html, "approve").await)
        .get("code")
        .expect("a code")
        .clone();
    let (_, tok) = exchange_code(&h, &code, REDIRECT, VERIFIER).await;
    let r = contacts(&h, &s(&tok, "access_token"), &[]).await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "reading contacts needs the contacts scope"
    );
    let body: Value = r.json().await.expect("JSON");
    assert_eq!(s(&body, "category"), "MISSING_SCOPES");
    h.shutdown().await;
}

#[tokio::test]
async fn the_v3_token_and_revoke_paths_the_catalog_lists_work() {
    let h = start_test_app().await;
    let code = get_code(&h, "v3").await;
    let r = client()
        .post(format!("{}/oauth/v3/token", h.url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("redirect_uri", REDIRECT),
            ("code", code.as_str()),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .expect("v3 token endpoint answers");
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "the v3 token path should exchange a code like v1"
    );
    let tok: Value = r.json().await.expect("json");
    let rt = s(&tok, "refresh_token");
    let revoke = |token: String| {
        let url = format!("{}/oauth/v3/token/revoke", h.url());
        async move {
            client()
                .post(url)
                .form(&[("token", token.as_str())])
                .send()
                .await
                .expect("revoke answers")
                .status()
        }
    };
    assert_eq!(
        revoke(rt.clone()).await,
        StatusCode::OK,
        "revoking a refresh token should answer 200"
    );
    let (st, _) = refresh(&h, &rt).await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "a revoked refresh token must not refresh"
    );
    assert_eq!(
        revoke("never-issued".into()).await,
        StatusCode::OK,
        "RFC 7009: unknown tokens also answer 200"
    );
}
