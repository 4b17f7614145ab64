//! Journey: a person sets a rotation schedule on a pasted key; when the key grows older than
//! the schedule the connection says so, an audit row and one desktop notice announce it once per
//! due period, and the scope checklist of a key can be re-ticked. Real keychain and SQLite; time
//! is moved with an injected clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use reqwest::Method;
use serde_json::json;
use switchboard_core::{Clock, SystemClock};
use switchboard_tests::Gateway;

const TOKEN: &str = "pat-sandbox-na1-00000000-0000-4000-8000-000000000001";
const DAY_MS: i64 = 86_400_000;

#[derive(Default)]
struct AheadClock(AtomicI64);

impl Clock for AheadClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms() + self.0.load(Ordering::SeqCst)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_key_rotation_is_shown_audited_and_announced_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(AheadClock::default());
    let c = clock.clone();
    let gw = Gateway::start_with(&dir.path().join("data"), move |o| {
        o.sandbox = true;
        o.clock = c;
    })
    .await;
    let mut notices = gw.app.notices();
    let (status, conn) = gw.control(Method::POST, "/connections", Some(json!({ "provider": "hubspot-sandbox", "api_key": TOKEN }))).await;
    assert_eq!(status, 200, "connecting with the sandbox token should work: {conn}");
    let id = conn["id"].as_str().expect("id").to_string();

    let (status, body) = gw.control(Method::PUT, &format!("/connections/{id}/rotation"), Some(json!({ "every_days": 0 }))).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_request")), "a zero-day schedule must be refused: {body}");
    let (status, c) = gw.control(Method::PUT, &format!("/connections/{id}/rotation"), Some(json!({ "every_days": 30 }))).await;
    assert_eq!((status, c["rotate_every_days"].as_i64(), c["rotation_due"].as_bool()), (200, Some(30), Some(false)), "a fresh key is not due: {c}");
    assert_eq!(gw.app.check_rotations().await.expect("check"), Vec::<String>::new(), "nothing is due yet");

    clock.0.store(31 * DAY_MS, Ordering::SeqCst);
    assert_eq!(gw.app.check_rotations().await.expect("check"), vec![id.clone()], "the 31-day-old key should be announced");
    let notice = tokio::time::timeout(std::time::Duration::from_secs(5), notices.recv()).await.expect("a notice in time").expect("a notice");
    assert_eq!((notice.kind.as_str(), notice.connection.as_deref()), ("rotation_due", Some(id.as_str())), "the notice should name the connection");
    assert!(notice.body.contains("31 days old"), "the notice should say how old the key is: {}", notice.body);
    assert_eq!(gw.app.check_rotations().await.expect("check"), Vec::<String>::new(), "a due rotation is announced once, not on every check");
    let (_, list) = gw.control(Method::GET, "/connections", None).await;
    assert_eq!(list[0]["rotation_due"], true, "the connection should show the rotation is due: {list}");
    let (_, page) = gw.control(Method::GET, "/audit?text=rotation_due&limit=5", None).await;
    assert_eq!(page["rows"].as_array().map(Vec::len), Some(1), "one audit row should record the due rotation: {page}");

    // A longer schedule is no longer due; the scope checklist can be re-ticked for a key.
    let (_, c) = gw.control(Method::PUT, &format!("/connections/{id}/rotation"), Some(json!({ "every_days": 90 }))).await;
    assert_eq!(c["rotation_due"], false, "a 90-day schedule is not due for a 31-day-old key: {c}");
    let (status, body) = gw.control(Method::PUT, &format!("/connections/{id}/scopes"), Some(json!({ "scopes": ["crm.objects.nothing"] }))).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_request")), "an unknown scope must be refused: {body}");
    let (status, c) = gw.control(Method::PUT, &format!("/connections/{id}/scopes"), Some(json!({ "scopes": [] }))).await;
    assert_eq!((status, c["granted_scopes"].as_array().map(Vec::len)), (200, Some(0)), "a key can be marked as holding no scopes: {c}");
    gw.stop().await;
}
