//! Host and Origin checks (DNS rebinding, cross-site requests) for every request.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{HOST, ORIGIN};
use switchboard_core::{ApiError, ErrorCode};

use crate::control::error_response;

/// The names this gateway answers to.
#[derive(Debug, Clone)]
pub struct Allowed {
    hosts: Vec<String>,
    origins: Vec<String>,
}

impl Allowed {
    pub fn for_port(port: u16) -> Self {
        let hosts = vec![format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")];
        let origins = hosts.iter().map(|h| format!("http://{h}")).collect();
        Self { hosts, origins }
    }

    pub fn host_ok(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    pub fn origin_ok(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }
}

/// Refuses a non-loopback `Host` (403) and a foreign `Origin` (403; not for `/hooks/…`).
pub async fn host_and_origin(State(allowed): State<Allowed>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    match host {
        Some(h) if allowed.host_ok(&h) => {}
        other => {
            return error_response(ApiError::new(
                ErrorCode::Forbidden,
                format!("requests must be addressed to this gateway on 127.0.0.1 (Host was {})", other.as_deref().unwrap_or("missing")),
            ))
            .into_response();
        }
    }
    // A provider's webhook is authenticated by its signature alone; whatever Origin a relay
    // adds, a request without a valid signature is refused there.
    let webhook = req.uri().path().starts_with("/hooks/");
    if let Some(origin) = req.headers().get(ORIGIN).filter(|_| !webhook) {
        let ok = origin.to_str().map(|o| allowed.origin_ok(o)).unwrap_or(false);
        if !ok {
            return error_response(ApiError::new(ErrorCode::Forbidden, "cross-origin requests are not allowed")).into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_with_our_port_pass() {
        let a = Allowed::for_port(4321);
        assert!(a.host_ok("127.0.0.1:4321") && a.host_ok("localhost:4321") && a.host_ok("[::1]:4321"));
        assert!(!a.host_ok("evil.example:4321"), "a rebinding Host was accepted");
        assert!(!a.host_ok("127.0.0.1:80"), "another port was accepted");
        assert!(!a.host_ok("127.0.0.1"), "a Host without our port was accepted");
        assert!(a.origin_ok("http://127.0.0.1:4321"));
        assert!(!a.origin_ok("null"), "the null origin was accepted");
        assert!(!a.origin_ok("https://127.0.0.1:4321"), "another scheme was accepted");
        assert!(!a.origin_ok("http://evil.example"), "a foreign origin was accepted");
    }
}
