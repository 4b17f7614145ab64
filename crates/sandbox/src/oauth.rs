//! A provider-agnostic OAuth 2 authorization server for simulated providers: authorization code
//! with PKCE S256 (RFC 6749, RFC 7636), loopback redirects per RFC 8252, refresh-token rotation
//! and revocation. Providers mount its handlers at their real paths and render tokens in their
//! own JSON shape.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::{html_escape, random_token};

/// One scope the provider knows, with a plain sentence shown on the consent page.
#[derive(Debug, Clone)]
pub struct ScopeInfo {
    /// The provider's scope string.
    pub name: &'static str,
    /// What it lets an app do, in plain words.
    pub description: &'static str,
}

/// A registered OAuth client (app).
#[derive(Debug, Clone)]
pub struct OAuthClient {
    /// Public client id.
    pub client_id: String,
    /// Client secret, when the app has one.
    pub client_secret: Option<String>,
}

/// Rules of one provider's authorization server.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// Shown on the consent page, e.g. "HubSpot (sandbox)".
    pub provider_name: String,
    /// Registered apps.
    pub clients: Vec<OAuthClient>,
    /// Whether the token step requires `client_secret` (HubSpot: yes).
    pub require_client_secret: bool,
    /// Scopes the provider knows.
    pub scopes: Vec<ScopeInfo>,
    /// Whether `http://127.0.0.1:*` / `http://[::1]:*` redirects are accepted.
    pub loopback_allowed: bool,
    /// Shown (and returned as `error_description`) when a loopback redirect is refused.
    pub loopback_refused_message: String,
    /// Registered https redirect URLs (exact match).
    pub https_redirects: Vec<String>,
    /// Path the consent form posts to.
    pub decision_path: String,
    /// Authorization code lifetime (RFC 6749 recommends at most 10 minutes; sandbox: 60 s).
    pub code_ttl: Duration,
    /// Access token lifetime (`expires_in`).
    pub access_token_ttl: Duration,
    /// Prefix of issued access tokens.
    pub access_token_prefix: String,
    /// Prefix of issued refresh tokens.
    pub refresh_token_prefix: String,
}

/// Tokens issued by the token endpoint.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    /// Bearer access token.
    pub access_token: String,
    /// Refresh token (rotated on each refresh).
    pub refresh_token: String,
    /// Access token lifetime in seconds.
    pub expires_in: u64,
    /// Granted scopes.
    pub scopes: Vec<String>,
}

/// An RFC 6749 §5.2 error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unsupported_grant_type`, …
    pub error: &'static str,
    /// Human-readable detail.
    pub description: String,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            description: description.into(),
        }
    }
}

/// Result of checking a bearer access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessCheck {
    /// Valid, with its scopes.
    Valid(Vec<String>),
    /// Was issued but has expired.
    Expired,
    /// Never issued, or revoked.
    Unknown,
}

#[derive(Debug, Clone)]
struct Pending {
    client_id: String,
    redirect_uri: String,
    scopes: Vec<String>,
    state: Option<String>,
    challenge: String,
    created: Instant,
}

#[derive(Debug, Clone)]
struct CodeGrant {
    client_id: String,
    redirect_uri: String,
    scopes: Vec<String>,
    challenge: String,
    created: Instant,
}

#[derive(Debug, Clone)]
struct Grant {
    id: u64,
    client_id: String,
    scopes: Vec<String>,
}

#[derive(Debug, Clone)]
struct Access {
    grant_id: u64,
    scopes: Vec<String>,
    expires: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    pending: HashMap<String, Pending>,
    codes: HashMap<String, CodeGrant>,
    /// Codes already exchanged → the grant they produced (revoked on replay, RFC 6749 §4.1.2).
    used_codes: HashMap<String, u64>,
    refresh: HashMap<String, Grant>,
    access: HashMap<String, Access>,
    next_grant: u64,
}

const PENDING_TTL: Duration = Duration::from_secs(600);

/// The authorization server of one simulated provider.
#[derive(Debug)]
pub struct OAuthServer {
    cfg: OAuthConfig,
    inner: Mutex<Inner>,
}

fn html_page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head><body>{}</body></html>",
        html_escape(title),
        body
    );
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    // Browsers apply form-action to the redirect that follows the consent form's POST, so the
    // loopback redirect URIs this server accepts (RFC 8252, any port) must be allowed too (CSP cannot
    // name an IPv6 literal, so a `[::1]` redirect still needs a browser that does not enforce it), or a
    // browser stays on the consent page after Approve.
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:* http://localhost:*; frame-ancestors 'none'",
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn error_page(title: &str, detail: &str) -> Response {
    html_page(
        StatusCode::BAD_REQUEST,
        title,
        &format!(
            "<h1>{}</h1><p>{}</p>",
            html_escape(title),
            html_escape(detail)
        ),
    )
}

fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    match url::Url::parse(redirect_uri) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in pairs {
                    q.append_pair(k, v);
                }
            }
            Redirect::to(u.as_str()).into_response()
        }
        Err(_) => error_page(
            "Invalid redirect URL",
            "The redirect URL could not be parsed.",
        ),
    }
}

/// `BASE64URL-NOPAD(SHA256(verifier))` (RFC 7636 §4.2).
pub fn s256_challenge(verifier: &str) -> String {
    let digest = Sha256::digest(verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..])
}

fn valid_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl OAuthServer {
    /// A server with these rules and no grants yet.
    pub fn new(cfg: OAuthConfig) -> Self {
        Self {
            cfg,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The rules.
    pub fn config(&self) -> &OAuthConfig {
        &self.cfg
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn client(&self, id: &str) -> Option<&OAuthClient> {
        self.cfg.clients.iter().find(|c| c.client_id == id)
    }

    /// Validate a redirect URI against the provider's rules; `Err` carries a user-facing reason.
    pub fn check_redirect_uri(&self, uri: &str) -> Result<(), String> {
        let u = url::Url::parse(uri).map_err(|_| format!("redirect_uri {uri:?} is not a URL"))?;
        if u.fragment().is_some() {
            return Err("redirect_uri must not contain a fragment".into());
        }
        match u.scheme() {
            "http" => {
                let loopback = match u.host() {
                    Some(url::Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
                    Some(url::Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
                    _ => false,
                };
                if !loopback {
                    return Err(format!(
                        "redirect_uri {uri:?} is plain http and not a loopback address; \
                         use http://127.0.0.1:PORT/… or http://[::1]:PORT/… (RFC 8252 §7.3)"
                    ));
                }
                if !self.cfg.loopback_allowed {
                    return Err(self.cfg.loopback_refused_message.clone());
                }
                Ok(())
            }
            "https" if self.cfg.https_redirects.iter().any(|r| r == uri) => Ok(()),
            "https" => Err(format!(
                "redirect_uri {uri:?} is not registered for this app"
            )),
            other => Err(format!("redirect_uri scheme {other:?} is not allowed")),
        }
    }

    /// `GET` authorize: validate the request and render the consent page (or the error).
    pub fn authorize_page(&self, q: &HashMap<String, String>) -> Response {
        let name = &self.cfg.provider_name;
        let Some(client_id) = q.get("client_id").filter(|s| !s.is_empty()) else {
            return error_page("Authorization request refused", "client_id is missing.");
        };
        if self.client(client_id).is_none() {
            return error_page(
                "Authorization request refused",
                &format!("Unknown client_id {client_id:?}: no app with this id is registered."),
            );
        }
        let Some(redirect_uri) = q.get("redirect_uri") else {
            return error_page("Authorization request refused", "redirect_uri is missing.");
        };
        if let Err(reason) = self.check_redirect_uri(redirect_uri) {
            return error_page("Authorization request refused", &reason);
        }
        let state = q.get("state").cloned();
        let fail = |error: &str, desc: &str| {
            let mut pairs = vec![("error", error), ("error_description", desc)];
            if let Some(s) = &state {
                pairs.push(("state", s.as_str()));
            }
            redirect_with(redirect_uri, &pairs)
        };
        if let Some(rt) = q.get("response_type")
            && rt != "code"
        {
            return fail(
                "unsupported_response_type",
                "only response_type=code is supported",
            );
        }
        if q.get("code_challenge_method").map(String::as_str) != Some("S256") {
            return fail(
                "invalid_request",
                "PKCE is required: code_challenge_method must be S256",
            );
        }
        let challenge = match q.get("code_challenge") {
            Some(c) if valid_pkce_string(c) => c.clone(),
            _ => {
                return fail(
                    "invalid_request",
                    "code_challenge is missing or malformed (43-128 base64url characters)",
                );
            }
        };
        let scopes: Vec<String> = q
            .get("scope")
            .map(|s| {
                s.split([' ', '+'])
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if scopes.is_empty() {
            return fail("invalid_scope", "no scope was requested");
        }
        if let Some(bad) = scopes
            .iter()
            .find(|s| !self.cfg.scopes.iter().any(|k| k.name == s.as_str()))
        {
            return fail("invalid_scope", &format!("unknown scope {bad}"));
        }
        let id = random_token("req-");
        {
            let mut inner = self.lock();
            inner
                .pending
                .retain(|_, p| p.created.elapsed() < PENDING_TTL);
            inner.pending.insert(
                id.clone(),
                Pending {
                    client_id: client_id.clone(),
                    redirect_uri: redirect_uri.clone(),
                    scopes: scopes.clone(),
                    state,
                    challenge,
                    created: Instant::now(),
                },
            );
        }
        let items: String = scopes
            .iter()
            .map(|s| {
                let desc = self
                    .cfg
                    .scopes
                    .iter()
                    .find(|k| k.name == s.as_str())
                    .map(|k| k.description)
                    .unwrap_or_default();
                format!(
                    "<li><strong>{}</strong> <code>{}</code></li>",
                    html_escape(desc),
                    html_escape(s)
                )
            })
            .collect();
        let body = format!(
            "<h1>{name} — authorize app</h1>\
             <p>The app <code>{client}</code> asks for access to your {name} account. It will be able to:</p>\
             <ul>{items}</ul>\
             <p>It will return to <code>{redirect}</code>.</p>\
             <form method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"request\" value=\"{id}\">\
             <button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button> \
             <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\
             </form>",
            name = html_escape(name),
            client = html_escape(client_id),
            redirect = html_escape(redirect_uri),
            action = html_escape(&self.cfg.decision_path),
            id = html_escape(&id),
        );
        html_page(StatusCode::OK, &format!("{name} — authorize app"), &body)
    }

    /// `POST` decision (the consent form): redirect with a code, or with `error=access_denied`.
    pub fn decide(&self, form: &HashMap<String, String>) -> Response {
        let pending = form
            .get("request")
            .and_then(|id| self.lock().pending.remove(id))
            .filter(|p| p.created.elapsed() < PENDING_TTL);
        let Some(p) = pending else {
            return error_page(
                "Authorization request expired",
                "This consent request is unknown, already answered or expired. Start the connection again.",
            );
        };
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        let code;
        if form.get("decision").map(String::as_str) == Some("approve") {
            code = random_token("code-");
            self.lock().codes.insert(
                code.clone(),
                CodeGrant {
                    client_id: p.client_id.clone(),
                    redirect_uri: p.redirect_uri.clone(),
                    scopes: p.scopes.clone(),
                    challenge: p.challenge.clone(),
                    created: Instant::now(),
                },
            );
            pairs.push(("code", &code));
        } else {
            pairs.push(("error", "access_denied"));
            pairs.push(("error_description", "The user denied the request"));
        }
        if let Some(s) = &p.state {
            pairs.push(("state", s));
        }
        redirect_with(&p.redirect_uri, &pairs)
    }

    fn issue(&self, inner: &mut Inner, grant: Grant) -> TokenGrant {
        let access_token = random_token(&self.cfg.access_token_prefix);
        let refresh_token = random_token(&self.cfg.refresh_token_prefix);
        inner.access.retain(|_, a| a.expires > Instant::now());
        inner.access.insert(
            access_token.clone(),
            Access {
                grant_id: grant.id,
                scopes: grant.scopes.clone(),
                expires: Instant::now() + self.cfg.access_token_ttl,
            },
        );
        let scopes = grant.scopes.clone();
        inner.refresh.insert(refresh_token.clone(), grant);
        TokenGrant {
            access_token,
            refresh_token,
            expires_in: self.cfg.access_token_ttl.as_secs(),
            scopes,
        }
    }

    fn revoke_grant(inner: &mut Inner, grant_id: u64) {
        inner.refresh.retain(|_, g| g.id != grant_id);
        inner.access.retain(|_, a| a.grant_id != grant_id);
    }

    /// Token endpoint (form fields as sent).
    pub fn token(&self, form: &HashMap<String, String>) -> Result<TokenGrant, OAuthError> {
        let field = |k: &str| form.get(k).filter(|v| !v.is_empty());
        let grant_type = field("grant_type")
            .ok_or_else(|| OAuthError::new("invalid_request", "grant_type is missing"))?;
        let client_id = field("client_id")
            .ok_or_else(|| OAuthError::new("invalid_client", "client_id is missing"))?;
        let client = self
            .client(client_id)
            .ok_or_else(|| OAuthError::new("invalid_client", "unknown client_id"))?;
        match (field("client_secret"), &client.client_secret) {
            (Some(given), Some(expected)) if !ct_eq(given, expected) => {
                return Err(OAuthError::new("invalid_client", "client_secret is wrong"));
            }
            (None, _) if self.cfg.require_client_secret => {
                return Err(OAuthError::new(
                    "invalid_client",
                    "client_secret is required by this provider",
                ));
            }
            _ => {}
        }
        match grant_type.as_str() {
            "authorization_code" => {
                let code = field("code")
                    .ok_or_else(|| OAuthError::new("invalid_request", "code is missing"))?;
                let mut inner = self.lock();
                let Some(c) = inner.codes.remove(code) else {
                    if let Some(gid) = inner.used_codes.get(code).copied() {
                        // Replay: refuse and revoke what the first use produced.
                        Self::revoke_grant(&mut inner, gid);
                        return Err(OAuthError::new(
                            "invalid_grant",
                            "authorization code was already used; tokens issued from it are revoked",
                        ));
                    }
                    return Err(OAuthError::new(
                        "invalid_grant",
                        "authorization code is unknown or expired",
                    ));
                };
                inner.used_codes.insert(code.clone(), u64::MAX);
                if c.created.elapsed() >= self.cfg.code_ttl {
                    return Err(OAuthError::new(
                        "invalid_grant",
                        "authorization code has expired",
                    ));
                }
                if c.client_id != *client_id {
                    return Err(OAuthError::new(
                        "invalid_grant",
                        "authorization code was issued to another client",
                    ));
                }
                if field("redirect_uri") != Some(&c.redirect_uri) {
                    return Err(OAuthError::new(
                        "invalid_grant",
                        "redirect_uri does not match the one used in the authorization request",
                    ));
                }
                let verifier = field("code_verifier").ok_or_else(|| {
                    OAuthError::new("invalid_request", "code_verifier is missing (PKCE)")
                })?;
                if !valid_pkce_string(verifier) || !ct_eq(&s256_challenge(verifier), &c.challenge) {
                    return Err(OAuthError::new(
                        "invalid_grant",
                        "code_verifier does not match the code_challenge",
                    ));
                }
                inner.next_grant += 1;
                let id = inner.next_grant;
                inner.used_codes.insert(code.clone(), id);
                let grant = Grant {
                    id,
                    client_id: c.client_id,
                    scopes: c.scopes,
                };
                Ok(self.issue(&mut inner, grant))
            }
            "refresh_token" => {
                let rt = field("refresh_token").ok_or_else(|| {
                    OAuthError::new("invalid_request", "refresh_token is missing")
                })?;
                let mut inner = self.lock();
                let grant = match inner.refresh.get(rt) {
                    Some(g) if g.client_id == *client_id => g.clone(),
                    Some(_) => {
                        return Err(OAuthError::new(
                            "invalid_grant",
                            "refresh token was issued to another client",
                        ));
                    }
                    None => {
                        return Err(OAuthError::new(
                            "invalid_grant",
                            "refresh token is unknown, rotated or revoked",
                        ));
                    }
                };
                inner.refresh.remove(rt);
                Ok(self.issue(&mut inner, grant))
            }
            other => Err(OAuthError::new(
                "unsupported_grant_type",
                format!("grant_type {other} is not supported"),
            )),
        }
    }

    /// Revoke a refresh token and every access token of its grant. `false` if unknown.
    pub fn revoke_refresh(&self, token: &str) -> bool {
        let mut inner = self.lock();
        match inner.refresh.get(token).map(|g| g.id) {
            Some(id) => {
                Self::revoke_grant(&mut inner, id);
                true
            }
            None => false,
        }
    }

    /// Check a bearer access token.
    pub fn check_access(&self, token: &str) -> AccessCheck {
        match self.lock().access.get(token) {
            Some(a) if a.expires > Instant::now() => AccessCheck::Valid(a.scopes.clone()),
            Some(_) => AccessCheck::Expired,
            None => AccessCheck::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn pkce_strings_follow_rfc7636_charset_and_length() {
        assert!(valid_pkce_string(&"a".repeat(43)));
        assert!(!valid_pkce_string(&"a".repeat(42)), "too short");
        assert!(!valid_pkce_string(&"a".repeat(129)), "too long");
        assert!(
            !valid_pkce_string(&format!("{}=", "a".repeat(43))),
            "padding is not allowed"
        );
    }
}
