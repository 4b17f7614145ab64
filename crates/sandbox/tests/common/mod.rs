//! A subscriber for webhook tests: a loopback HTTP server that records every request it gets.
// Each test binary that includes this module uses some of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;

/// One request the subscriber got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON delivery")
    }
}

#[derive(Clone, Default)]
struct Inner {
    got: Arc<Mutex<Vec<Received>>>,
    echo_challenge: Arc<AtomicBool>,
}

/// The running subscriber.
pub struct Subscriber {
    pub url: String,
    inner: Inner,
}

impl Subscriber {
    /// Starts one that answers 200, echoing a Slack `url_verification` challenge when `echo` is on.
    pub async fn start(echo: bool) -> Self {
        let inner = Inner::default();
        inner.echo_challenge.store(echo, Ordering::SeqCst);
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, inner }
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.got.lock().expect("lock").clone()
    }
}

async fn receive(State(inner): State<Inner>, headers: HeaderMap, body: Bytes) -> String {
    let headers = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    inner.got.lock().expect("lock").push(Received {
        headers,
        body: body.to_vec(),
    });
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    if inner.echo_challenge.load(Ordering::SeqCst) && v["type"] == "url_verification" {
        return v["challenge"].as_str().unwrap_or_default().to_string();
    }
    "ok".into()
}

/// Hex HMAC-SHA256, computed here independently of the sandbox's signing code.
pub fn hmac_hex(key: &str, parts: &[&[u8]]) -> String {
    use hmac::{KeyInit, Mac};
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    for p in parts {
        m.update(p);
    }
    hex::encode(m.finalize().into_bytes())
}
