//! The built UI for browsers (`ui/dist`), with strict security headers on every response.

use std::path::PathBuf;

use axum::response::Html;
use axum::routing::{MethodRouter, get};
use http::{HeaderName, HeaderValue};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// Content Security Policy for everything the gateway serves.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Serves `ui_dir` (SPA: unknown paths get index.html), or explains how to build it.
pub fn service(ui_dir: Option<PathBuf>) -> MethodRouter<()> {
    match ui_dir.filter(|d| d.join("index.html").is_file()) {
        Some(dir) => {
            let index = dir.join("index.html");
            axum::routing::get_service(ServeDir::new(dir).fallback(ServeFile::new(index)))
        }
        None => get(|| async {
            Html(
                "<!doctype html><title>Switchboard</title><h1>Switchboard</h1>\
                 <p>The gateway is running, but its web UI has not been built. Run <code>./x run</code>, \
                 or <code>npm --prefix ui ci &amp;&amp; npm --prefix ui run build</code>, then reload.</p>",
            )
        }),
    }
}

/// Where the built UI is: `SWITCHBOARD_UI_DIR`, else `ui/` beside the executable, else the
/// repository's `ui/dist` (development builds).
pub fn default_ui_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("SWITCHBOARD_UI_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(beside) = std::env::current_exe().ok().and_then(|e| e.parent().map(|p| p.join("ui")))
        && beside.join("index.html").is_file()
    {
        return Some(beside);
    }
    let repo = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../ui/dist"));
    repo.join("index.html").is_file().then_some(repo)
}

/// A response header set on every response unless the handler set it.
pub fn header(name: &'static str, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(HeaderName::from_static(name), HeaderValue::from_static(value))
}
