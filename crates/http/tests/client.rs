//! PacedClient over real loopback HTTP: a small axum server that enforces a sliding window,
//! throttles, fails or stalls on demand and records when each request arrived, plus the
//! simulated HubSpot. Timing margins are wide (CI has 2 loaded cores); assertions count requests
//! where they can.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method as HttpMethod, StatusCode};
use axum::response::{IntoResponse, Response};
use switchboard_core::ErrorCode;
use switchboard_http::{
    AuthHeader, Budget, ClientConfig, Method, OutboundRequest, PacedClient, RetryPolicy, SendError,
    Unreachable,
};
use switchboard_sandbox::SandboxServer;
use switchboard_sandbox::hubspot::{HubSpotConfig, HubSpotSandbox, PRIVATE_APP_TOKEN};

/// How the test provider answers.
#[derive(Clone, Copy)]
enum Behaviour {
    /// 200 unless `limit` requests already arrived in the last `per`: then a bare 429.
    Window { limit: usize, per: Duration },
    /// 429 with `Retry-After: retry_after_secs` for the first `throttle_first` requests, then 200.
    Storm {
        throttle_first: usize,
        retry_after_secs: u64,
    },
    /// Always this status.
    Always(u16),
    /// Answer 200 after this long.
    Slow(Duration),
}

#[derive(Default)]
struct Seen {
    /// Every request: when it arrived, the `x-agent` header, the method.
    arrivals: Vec<(Instant, String, String)>,
    /// Arrivals the window admitted (Window mode).
    admitted: Vec<Instant>,
    throttled: usize,
}

struct Provider {
    behaviour: Behaviour,
    seen: Mutex<Seen>,
}

struct TestServer {
    url: String,
    provider: Arc<Provider>,
    _task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    async fn start(behaviour: Behaviour) -> Self {
        let provider = Arc::new(Provider {
            behaviour,
            seen: Mutex::new(Seen::default()),
        });
        let app = Router::new().fallback(handle).with_state(provider.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("bound address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{addr}/v1/things"),
            provider,
            _task: task,
        }
    }

    fn seen<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&self.provider.seen.lock().expect("seen lock"))
    }

    fn requests(&self) -> usize {
        self.seen(|s| s.arrivals.len())
    }
}

async fn handle(
    State(p): State<Arc<Provider>>,
    method: HttpMethod,
    headers: HeaderMap,
) -> Response {
    if let Behaviour::Slow(d) = p.behaviour {
        record(&p, &method, &headers);
        tokio::time::sleep(d).await;
        return (StatusCode::OK, "{}").into_response();
    }
    answer(&p, &method, &headers)
}

fn record(p: &Provider, method: &HttpMethod, headers: &HeaderMap) {
    let agent = headers
        .get("x-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut seen = p.seen.lock().expect("seen lock");
    seen.arrivals
        .push((Instant::now(), agent, method.to_string()));
}

fn answer(p: &Provider, method: &HttpMethod, headers: &HeaderMap) -> Response {
    let now = Instant::now();
    let agent = headers
        .get("x-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut seen = p.seen.lock().expect("seen lock");
    seen.arrivals.push((now, agent, method.to_string()));
    let n = seen.arrivals.len();
    match p.behaviour {
        Behaviour::Window { limit, per } => {
            let in_window = seen
                .admitted
                .iter()
                .filter(|t| now.duration_since(**t) < per)
                .count();
            if in_window >= limit {
                seen.throttled += 1;
                (StatusCode::TOO_MANY_REQUESTS, "slow down").into_response()
            } else {
                seen.admitted.push(now);
                (StatusCode::OK, "{}").into_response()
            }
        }
        Behaviour::Storm {
            throttle_first,
            retry_after_secs,
        } => {
            if n <= throttle_first {
                seen.throttled += 1;
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", retry_after_secs.to_string())],
                    "{\"ok\":false,\"error\":\"ratelimited\"}",
                )
                    .into_response()
            } else {
                (StatusCode::OK, "{\"ok\":true}").into_response()
            }
        }
        Behaviour::Always(code) => (
            StatusCode::from_u16(code).expect("valid status"),
            "{\"error\":\"injected\"}",
        )
            .into_response(),
        Behaviour::Slow(_) => (StatusCode::OK, "{}").into_response(),
    }
}

fn budget(n: u32, per: Duration) -> Budget {
    Budget::new(n, per).expect("valid budget")
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(400),
        max_total_delay: Duration::from_secs(30),
    }
}

fn client(retry: RetryPolicy, request_timeout: Duration) -> PacedClient {
    PacedClient::with_config(ClientConfig {
        retry,
        request_timeout,
        connect_timeout: request_timeout,
        ..ClientConfig::default()
    })
    .expect("client builds")
}

fn get(url: &str, agent: &str) -> OutboundRequest {
    OutboundRequest::get(url).header("x-agent", agent)
}

fn secs(n: u64) -> Instant {
    Instant::now() + Duration::from_secs(n)
}

/// The most arrivals inside any half-open window of length `per`.
fn max_in_any_window(times: &[Instant], per: Duration) -> usize {
    let mut t = times.to_vec();
    t.sort();
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..t.len() {
        while t[hi].duration_since(t[lo]) >= per {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paced_calls_never_trip_a_sliding_window_provider() {
    let (limit, per) = (20usize, Duration::from_secs(2));
    let server = TestServer::start(Behaviour::Window { limit, per }).await;
    let c = client(RetryPolicy::default(), Duration::from_secs(10));
    c.register("conn-a", budget(limit as u32, per));
    let calls = 50;
    let mut tasks = Vec::new();
    for i in 0..calls {
        let (c, url) = (c.clone(), server.url.clone());
        let agent = format!("agent-{}", i % 4);
        tasks.push(tokio::spawn(async move {
            c.send("conn-a", &agent, get(&url, &agent), secs(60)).await
        }));
    }
    for t in tasks {
        let r = t.await.expect("task").expect("every call is answered");
        assert_eq!(r.status, 200, "a paced call was refused by the provider");
        assert_eq!(r.attempts, 1, "no call needed a retry");
    }
    let (arrivals, throttled) = server.seen(|s| {
        (
            s.arrivals.iter().map(|a| a.0).collect::<Vec<_>>(),
            s.throttled,
        )
    });
    assert_eq!(throttled, 0, "the provider sent 429s to a paced client");
    assert_eq!(
        arrivals.len(),
        calls,
        "each call reached the provider exactly once"
    );
    let most = max_in_any_window(&arrivals, per);
    assert!(
        most <= limit,
        "the provider saw {most} requests inside one {per:?} window; its limit is {limit}"
    );
    let st = c.status("conn-a").expect("registered");
    assert_eq!(st.recent_429s, 0);
    assert_eq!(st.calls_queued, 0);
    assert_eq!(st.calls_in_flight, 0);
    let sent: u32 = c
        .history("conn-a")
        .expect("registered")
        .iter()
        .map(|b| b.calls_sent)
        .sum();
    assert_eq!(sent as usize, calls, "the history counts every call sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_hubspot_sees_no_429_from_a_paced_client_that_follows_its_headers() {
    let (limit, per) = (20u32, Duration::from_secs(2));
    let h = SandboxServer::start(HubSpotSandbox::new(
        HubSpotConfig::default().with_rate_limit(limit, per),
    ))
    .await
    .expect("sandbox starts");
    let c = client(RetryPolicy::default(), Duration::from_secs(10));
    c.register("hubspot-1", budget(limit, per));
    let url = format!("{}/crm/v3/objects/contacts?limit=1", h.url());
    let calls = 50;
    let mut tasks = Vec::new();
    for i in 0..calls {
        let (c, url) = (c.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let req = OutboundRequest::get(url).auth(AuthHeader::bearer(PRIVATE_APP_TOKEN));
            c.send("hubspot-1", &format!("agent-{}", i % 3), req, secs(60))
                .await
        }));
    }
    for t in tasks {
        let r = t.await.expect("task").expect("answered");
        assert_eq!(r.status, 200, "HubSpot refused a paced call: {r:?}");
    }
    assert_eq!(h.rate_limited_count(), 0, "the simulated HubSpot sent 429s");
    assert_eq!(h.requests_served(), calls as u64);
    let st = c.status("hubspot-1").expect("registered");
    assert_eq!(st.budget_requests, limit, "HubSpot reported the same limit");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_pauses_the_whole_account_then_the_call_succeeds() {
    let server = TestServer::start(Behaviour::Storm {
        throttle_first: 1,
        retry_after_secs: 1,
    })
    .await;
    let c = client(fast_retries(), Duration::from_secs(10));
    c.register("conn-a", budget(100, Duration::from_secs(1)));
    let first = {
        let (c, url) = (c.clone(), server.url.clone());
        tokio::spawn(async move { c.send("conn-a", "agent-a", get(&url, "a"), secs(60)).await })
    };
    // Once the 429 is in, a call from another agent must also wait out the pause.
    let t0 = Instant::now();
    while c.status("conn-a").expect("registered").recent_429s == 0 {
        assert!(t0.elapsed() < Duration::from_secs(10), "no 429 arrived");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let st = c.status("conn-a").expect("registered");
    assert!(
        st.paused_for_ms.is_some(),
        "a 429 with Retry-After pauses the account: {st:?}"
    );
    let other = c
        .send("conn-a", "agent-b", get(&server.url, "b"), secs(60))
        .await
        .expect("answered");
    let r = first.await.expect("task").expect("answered");
    assert_eq!(r.status, 200, "the throttling ended, so the call succeeds");
    assert_eq!(r.attempts, 2, "one 429, then success");
    assert_eq!(other.status, 200);
    assert_eq!(
        other.attempts, 1,
        "the other agent's call waited instead of drawing a 429"
    );

    let arrivals = server.seen(|s| s.arrivals.clone());
    assert_eq!(arrivals.len(), 3, "each attempt reached the provider once");
    let throttled_at = arrivals[0].0;
    for (at, agent, _) in &arrivals[1..] {
        assert!(
            at.duration_since(throttled_at) + Duration::from_millis(5) >= Duration::from_secs(1),
            "agent {agent:?} sent {:?} after a 429 that asked for 1 s",
            at.duration_since(throttled_at)
        );
    }
    let st = c.status("conn-a").expect("registered");
    assert_eq!(st.recent_429s, 1, "the 429 shows in the live status");
    let throttled: u32 = c
        .history("conn-a")
        .expect("registered")
        .iter()
        .map(|b| b.throttled)
        .sum();
    assert_eq!(throttled, 1, "the 429 shows in the history");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_429_storm_gets_bounded_spaced_retries_then_the_providers_answer() {
    let server = TestServer::start(Behaviour::Storm {
        throttle_first: usize::MAX,
        retry_after_secs: 1,
    })
    .await;
    let retry = RetryPolicy {
        max_attempts: 3,
        ..fast_retries()
    };
    let c = client(retry, Duration::from_secs(10));
    c.register("conn-a", budget(100, Duration::from_secs(1)));
    let r = c
        .send("conn-a", "agent-a", get(&server.url, "a"), secs(60))
        .await
        .expect("the provider answered every attempt");
    assert_eq!(
        r.status, 429,
        "the final 429 comes back for the caller to report"
    );
    assert_eq!(r.attempts, retry.max_attempts, "retries are bounded");
    assert!(
        r.body.starts_with(b"{\"ok\":false"),
        "the provider's body is kept for the message"
    );
    let arrivals: Vec<Instant> = server.seen(|s| s.arrivals.iter().map(|a| a.0).collect());
    assert_eq!(arrivals.len(), retry.max_attempts as usize);
    for w in arrivals.windows(2) {
        assert!(
            w[1].duration_since(w[0]) + Duration::from_millis(5) >= Duration::from_secs(1),
            "a retry came {:?} after a 429 asking for 1 s",
            w[1].duration_since(w[0])
        );
    }
    assert_eq!(c.status("conn-a").expect("registered").recent_429s, 3);

    // A Retry-After longer than the deadline allows: give up at once with the 429.
    let server = TestServer::start(Behaviour::Storm {
        throttle_first: usize::MAX,
        retry_after_secs: 120,
    })
    .await;
    c.register("conn-b", budget(100, Duration::from_secs(1)));
    let t0 = Instant::now();
    let r = c
        .send("conn-b", "agent-a", get(&server.url, "a"), secs(5))
        .await
        .expect("answered");
    assert_eq!((r.status, r.attempts), (429, 1));
    assert!(
        t0.elapsed() < Duration::from_secs(4),
        "it did not wait out a 2-minute pause"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_hammering_one_account_share_it_fairly() {
    let server = TestServer::start(Behaviour::Always(200)).await;
    let c = client(RetryPolicy::default(), Duration::from_secs(10));
    c.register("conn-a", budget(20, Duration::from_secs(1)));
    let mut tasks = Vec::new();
    // The greedy agent queues 3 calls for each of the polite one's, and queues first.
    for (agent, n) in [("greedy", 45), ("polite", 15)] {
        for _ in 0..n {
            let (c, url) = (c.clone(), server.url.clone());
            tasks.push(tokio::spawn(async move {
                c.send("conn-a", agent, get(&url, agent), secs(60)).await
            }));
        }
    }
    for t in tasks {
        assert_eq!(t.await.expect("task").expect("answered").status, 200);
    }
    let agents: Vec<String> = server.seen(|s| s.arrivals.iter().map(|a| a.1.clone()).collect());
    assert_eq!(agents.len(), 60);
    // While both had calls queued (the first 30 sends), each should get about half.
    let polite = agents[..30].iter().filter(|a| *a == "polite").count();
    assert!(
        (10..=20).contains(&polite),
        "polite got {polite} of the first 30 sends; round robin should give it about 15"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_past_its_deadline_fails_rate_limited_and_never_reaches_the_provider() {
    let server = TestServer::start(Behaviour::Always(200)).await;
    let c = client(RetryPolicy::default(), Duration::from_secs(10));
    c.register("conn-a", budget(1, Duration::from_secs(30)));
    c.send("conn-a", "agent-a", get(&server.url, "a"), secs(60))
        .await
        .expect("the first call has budget");
    let t0 = Instant::now();
    let err = c
        .send(
            "conn-a",
            "agent-a",
            get(&server.url, "a"),
            Instant::now() + Duration::from_millis(300),
        )
        .await
        .expect_err("no budget frees up before the deadline");
    assert!(matches!(err, SendError::RateLimited(_)), "got {err:?}");
    assert_eq!(err.code(), ErrorCode::RateLimited);
    assert!(err.to_string().contains("deadline"), "message: {err}");
    assert!(
        t0.elapsed() >= Duration::from_millis(290) && t0.elapsed() < Duration::from_secs(10),
        "failed after {:?}, expected at the 300 ms deadline",
        t0.elapsed()
    );
    assert_eq!(
        server.requests(),
        1,
        "the late call must not reach the provider"
    );
    let st = c.status("conn-a").expect("registered");
    assert_eq!(st.calls_queued, 0, "the failed call left the queue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_is_not_retry_safe_is_sent_once_even_after_a_5xx() {
    let server = TestServer::start(Behaviour::Always(503)).await;
    let c = client(fast_retries(), Duration::from_secs(10));
    c.register("conn-a", budget(100, Duration::from_secs(1)));
    let write = OutboundRequest::new(Method::POST, server.url.clone(), false)
        .json_body(b"{\"amount\":100}".to_vec());
    let r = c
        .send("conn-a", "agent-a", write, secs(60))
        .await
        .expect("the provider answered");
    assert_eq!(r.status, 503);
    assert_eq!(
        r.attempts, 1,
        "a write without an honoured idempotency key is not retried"
    );
    assert_eq!(server.requests(), 1);

    // The same failure on a retry-safe call is retried up to the cap.
    let r = c
        .send("conn-a", "agent-a", get(&server.url, "a"), secs(60))
        .await
        .expect("answered");
    assert_eq!(r.attempts, fast_retries().max_attempts);
    assert_eq!(server.requests(), 1 + fast_retries().max_attempts as usize);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_is_provider_unreachable_and_a_write_is_not_resent() {
    let server = TestServer::start(Behaviour::Slow(Duration::from_secs(5))).await;
    let c = client(fast_retries(), Duration::from_millis(300));
    c.register("conn-a", budget(100, Duration::from_secs(1)));
    let write = OutboundRequest::new(Method::POST, server.url.clone(), false);
    let err = c
        .send("conn-a", "agent-a", write, secs(60))
        .await
        .expect_err("the provider never answers in time");
    assert!(
        matches!(
            err,
            SendError::Unreachable {
                attempts: 1,
                reason: Unreachable::Timeout { .. },
                ..
            }
        ),
        "got {err:?}"
    );
    assert_eq!(err.code(), ErrorCode::ProviderUnreachable);
    assert_eq!(
        server.requests(),
        1,
        "a timed-out write may have applied: sent once"
    );

    // Nothing listening: a read is retried, then reported unreachable.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        drop(l);
        format!("http://127.0.0.1:{port}/v1/things")
    };
    let err = c
        .send("conn-a", "agent-a", OutboundRequest::get(closed), secs(60))
        .await
        .expect_err("nothing listens");
    assert!(
        matches!(err, SendError::Unreachable { attempts: 4, .. }),
        "a read is retried up to the cap before giving up: {err:?}"
    );
    let st = c.status("conn-a").expect("registered");
    assert_eq!(
        st.calls_in_flight, 0,
        "failed attempts release their in-flight slot"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_history_show_queued_calls_and_forget_releases_them() {
    let server = TestServer::start(Behaviour::Always(200)).await;
    let c = client(RetryPolicy::default(), Duration::from_secs(10));
    c.register("conn-a", budget(1, Duration::from_secs(60)));
    assert!(c.status("nobody").is_none());
    c.send("conn-a", "agent-a", get(&server.url, "a"), secs(60))
        .await
        .expect("the first call has budget");
    let mut waiting = Vec::new();
    for agent in ["agent-a", "agent-b", "agent-b"] {
        let (c, url) = (c.clone(), server.url.clone());
        waiting.push(tokio::spawn(async move {
            c.send("conn-a", agent, get(&url, agent), secs(120)).await
        }));
    }
    let t0 = Instant::now();
    let st = loop {
        let st = c.status("conn-a").expect("registered");
        if st.calls_queued == 3 {
            break st;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "calls never queued: {st:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(st.budget_left, 0, "the one call per minute is spent");
    assert_eq!(st.calls_in_flight, 0);
    let json = serde_json::to_value(&st).expect("status serializes");
    assert_eq!(json["calls_queued"], 3);

    let history = c.history("conn-a").expect("registered");
    assert_eq!(history.len(), 60, "one bucket per minute of the last hour");
    let now_bucket = history.last().expect("60 buckets");
    assert!(
        history.iter().map(|b| b.calls_sent).sum::<u32>() == 1,
        "one call was sent: {history:?}"
    );
    assert!(now_bucket.max_queue_depth >= 3 || history[58].max_queue_depth >= 3);
    serde_json::to_value(&history).expect("history serializes");

    c.forget("conn-a");
    for w in waiting {
        let err = w.await.expect("task").expect_err("the account was removed");
        assert!(
            matches!(err, SendError::UnknownAccount { .. }),
            "got {err:?}"
        );
    }
    assert_eq!(server.requests(), 1, "no queued call was sent after forget");
    assert!(c.status("conn-a").is_none());
    let err = c
        .send("conn-a", "agent-a", get(&server.url, "a"), secs(1))
        .await
        .expect_err("not registered");
    assert_eq!(err.code(), ErrorCode::Internal);
}
