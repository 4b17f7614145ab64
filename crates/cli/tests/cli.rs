//! The `switchboard` binary as a user runs it: real processes, real SQLite files, the real
//! keychain (inside the session bus `./x test` provides) and real HTTP on loopback.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// Runs `switchboard --data-dir DATA ARGS…` to completion (killed after 60 s so a command
/// that wrongly keeps running fails the test instead of hanging it). Its output is drained
/// while it runs, so a large answer cannot fill the pipe and stall it.
fn sb(data: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run switchboard");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("`switchboard {}` was still running after 60 s", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: stdout.join().expect("stdout reader"), stderr: stderr.join().expect("stderr reader") }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A running `switchboard serve`, stopped with SIGTERM on drop.
struct Serve {
    child: Child,
    url: String,
    login_url: String,
    stderr_path: PathBuf,
}

impl Serve {
    fn start(data: &Path, extra: &[&str]) -> Self {
        let stderr_path = data.with_extension("stderr.log");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut child = Command::new(BIN)
            .arg("--data-dir")
            .arg(data)
            .arg("serve")
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        lines.read_line(&mut first).expect("first line");
        let mut second = String::new();
        lines.read_line(&mut second).expect("second line");
        let url = first.trim().strip_prefix("switchboard listening on ").unwrap_or_else(|| {
            let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            panic!("serve's first line should be `switchboard listening on URL`, got {first:?}; stderr: {err}")
        });
        let this = Self { child, url: url.to_string(), login_url: second.trim().to_string(), stderr_path };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            let _ = lines.read_to_string(&mut sink);
        });
        this
    }

    fn sigterm(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(st) = self.child.try_wait().expect("wait") {
                return st;
            }
            assert!(Instant::now() < deadline, "serve did not exit within 15 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.sigterm();
        }
    }
}

fn get(url: &str) -> (u16, String) {
    let out = Command::new("curl").args(["-s", "-o", "-", "-w", "\n%{http_code}", url]).output().expect("curl");
    let s = text(&out.stdout);
    let (body, code) = s.rsplit_once('\n').unwrap_or(("", "0"));
    (code.parse().unwrap_or(0), body.to_string())
}

#[test]
fn serve_prints_its_url_and_a_login_url_then_shuts_down_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut s = Serve::start(&data, &["--port", "0"]);
    assert!(s.url.starts_with("http://127.0.0.1:"), "serve must bind 127.0.0.1: {}", s.url);
    assert!(s.login_url.starts_with(&format!("{}/login?code=", s.url)), "second line should be the login URL: {}", s.login_url);
    let (code, body) = get(&format!("{}/healthz", s.url));
    assert_eq!(code, 200, "healthz failed: {body}");
    assert!(body.contains("\"status\":\"ok\""), "healthz body: {body}");
    assert!(data.join("gateway.json").is_file(), "serve must record its port and pid in the data dir");

    let st = sb(&data, &["status", "--json"]);
    assert!(st.status.success(), "status failed: {}", text(&st.stderr));
    let v: serde_json::Value = serde_json::from_slice(&st.stdout).expect("status --json is JSON");
    assert_eq!(v["url"], serde_json::json!(s.url), "status should report the running gateway's URL");
    assert_eq!(v["version"], serde_json::json!(env!("CARGO_PKG_VERSION")));

    let lu = sb(&data, &["login-url"]);
    assert!(lu.status.success(), "login-url failed: {}", text(&lu.stderr));
    let fresh = text(&lu.stdout).trim().to_string();
    assert!(fresh.starts_with(&format!("{}/login?code=", s.url)) && fresh != s.login_url, "login-url should print a fresh URL: {fresh}");

    let status = s.sigterm();
    assert!(status.success(), "serve should exit 0 on SIGTERM, got {status}; stderr: {}", s.stderr());
    assert!(!data.join("gateway.json").exists(), "the runtime file must be removed on shutdown");
    let st = sb(&data, &["status"]);
    assert_eq!(st.status.code(), Some(1), "status with no gateway should exit 1");
    assert!(text(&st.stderr).contains("switchboard serve"), "status should say how to start a gateway: {}", text(&st.stderr));

    let v = sb(&data, &["audit", "verify"]);
    assert!(v.status.success(), "verify after a clean run failed: {}{}", text(&v.stdout), text(&v.stderr));
    let search = sb(&data, &["audit", "search", "gateway", "--json"]);
    let page: serde_json::Value = serde_json::from_slice(&search.stdout).expect("search --json");
    let actions: Vec<&str> = page["rows"].as_array().expect("rows").iter().filter_map(|r| r["action"].as_str()).collect();
    assert_eq!(actions.first(), Some(&"gateway.stop"), "the stop should be the newest gateway row: {actions:?}");
    assert!(actions.contains(&"gateway.start"), "the start should be audited: {actions:?}");
}

#[test]
fn providers_lists_the_catalog_from_the_running_gateway() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let _s = Serve::start(&data, &[]);
    let out = sb(&data, &["providers", "--json"]);
    assert!(out.status.success(), "providers --json failed: {}", text(&out.stderr));
    let catalog: serde_json::Value = serde_json::from_slice(&out.stdout).expect("providers --json is JSON");
    let providers = catalog["providers"].as_array().expect("a providers array");
    assert_eq!(providers.len(), 19, "the catalog should list the 19 tools");
    let hubspot = providers.iter().find(|p| p["id"] == "hubspot").expect("hubspot is listed");
    let scope = hubspot["scopes"]
        .as_array()
        .expect("hubspot has scopes")
        .iter()
        .find(|s| s["scope"] == "crm.objects.contacts.read")
        .expect("hubspot lists crm.objects.contacts.read");
    assert_eq!(scope["tier"], serde_json::json!("read"), "crm.objects.contacts.read should be a read scope: {scope}");

    let sandboxed: Vec<&str> = providers.iter().filter_map(|p| p["id"].as_str()).filter(|id| id.ends_with("-sandbox")).collect();
    assert!(sandboxed.is_empty(), "without --sandbox no simulated provider should be offered: {sandboxed:?}");

    let table = sb(&data, &["providers"]);
    assert!(table.status.success(), "providers failed: {}", text(&table.stderr));
    let t = text(&table.stdout);
    for needle in ["CRM", "Email & Calendar", "Commerce & Finance", "hubspot", "google-calendar", "freshdesk"] {
        assert!(t.contains(needle), "the table should show {needle}:\n{t}");
    }
}

#[test]
fn serve_sandbox_offers_a_simulated_hubspot_on_loopback_and_stops_it_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut s = Serve::start(&data, &["--sandbox"]);
    let out = sb(&data, &["providers", "--json"]);
    assert!(out.status.success(), "providers --json failed: {}", text(&out.stderr));
    let catalog: serde_json::Value = serde_json::from_slice(&out.stdout).expect("providers --json is JSON");
    let providers = catalog["providers"].as_array().expect("a providers array");
    let real = providers.iter().find(|p| p["id"] == "hubspot").expect("the real HubSpot is still listed with --sandbox");
    let sim = providers
        .iter()
        .find(|p| p["id"] == "hubspot-sandbox")
        .unwrap_or_else(|| panic!("--sandbox should offer hubspot-sandbox; listed: {:?}", providers.iter().map(|p| &p["id"]).collect::<Vec<_>>()));
    let simulated: Vec<&str> = providers.iter().filter_map(|p| p["id"].as_str()).filter(|id| id.ends_with("-sandbox")).collect();
    assert_eq!(providers.len() - simulated.len(), 19, "--sandbox must keep the 19 real tools listed beside the simulated ones");
    for id in &simulated {
        let real_id = id.trim_end_matches("-sandbox");
        assert!(providers.iter().any(|p| p["id"] == real_id), "simulated {id} should sit beside the real {real_id}");
    }

    let base = sim["api_base_url"].as_str().expect("hubspot-sandbox has an API base URL");
    assert!(base.starts_with("http://127.0.0.1:"), "hubspot-sandbox must be served on loopback: {base}");
    for field in ["authorize_url", "token_url", "revoke_url"] {
        let url = sim["oauth"][field].as_str().unwrap_or_default();
        assert!(url.starts_with(base), "hubspot-sandbox's OAuth {field} should be on the sandbox ({base}), not the real HubSpot: {url}");
        let real_url = real["oauth"][field].as_str().unwrap_or_default();
        assert!(real_url.starts_with("https://"), "the real HubSpot's OAuth {field} must stay https: {real_url}");
    }
    assert!(real["api_base_url"].as_str().is_some_and(|u| u.starts_with("https://")), "the real HubSpot must keep its https API: {real}");
    assert_eq!(sim["scopes"], real["scopes"], "the sandbox must offer exactly HubSpot's scopes and tiers");

    let (code, body) = get_as(&format!("{base}/crm/v3/objects/contacts"), "not-a-real-token");
    assert_eq!(code, 401, "the sandbox should refuse a bogus token like HubSpot does: {body}");
    let err: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("the sandbox's 401 should be JSON ({e}): {body}"));
    assert_eq!(err["status"], serde_json::json!("error"), "HubSpot errors carry status=error: {err}");
    assert_eq!(err["category"], serde_json::json!("INVALID_AUTHENTICATION"), "HubSpot names a bad token INVALID_AUTHENTICATION: {err}");
    assert!(err["correlationId"].is_string() && err["message"].is_string(), "HubSpot errors carry a message and a correlationId: {err}");

    let status = s.sigterm();
    assert!(status.success(), "serve --sandbox should exit 0 on SIGTERM, got {status}; stderr: {}", s.stderr());
    let (code, body) = get(&format!("{base}/crm/v3/objects/contacts"));
    assert_eq!(code, 0, "the simulated HubSpot must stop with the gateway, but it still answered {code}: {body}");

    let search = sb(&data, &["audit", "search", "gateway", "--json"]);
    let page: serde_json::Value = serde_json::from_slice(&search.stdout).expect("search --json");
    let start = page["rows"].as_array().expect("rows").iter().find(|r| r["action"] == "gateway.start").expect("the start is audited");
    let mut ran: Vec<&str> = start["summary"]["sandbox"].as_array().expect("the start names the simulated providers").iter().filter_map(|v| v.as_str()).collect();
    let mut listed = simulated.clone();
    ran.sort_unstable();
    listed.sort_unstable();
    assert_eq!(ran, listed, "the audited start should name exactly the simulated providers that ran: {start}");
}

#[test]
fn providers_without_a_gateway_says_how_to_start_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let out = sb(&data, &["providers"]);
    assert_eq!(out.status.code(), Some(1), "providers with no gateway should exit 1");
    let err = text(&out.stderr);
    assert!(err.contains("no Switchboard gateway is running") && err.contains("switchboard serve"), "the error should say how to start a gateway: {err}");
    let out = sb(&data, &["providers", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json error is JSON");
    assert_eq!(v["code"], serde_json::json!("not_found"), "wrong code: {v}");
    assert!(!data.exists(), "asking for providers must not create a data dir");
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [&["--no-such-flag"][..], &["serve", "--port", "notaport"][..], &["frobnicate"][..], &["audit", "export", "--format", "xml"][..]] {
        let out = sb(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?} should be a usage error (exit 2); stderr: {}", text(&out.stderr));
    }
    assert!(!dir.path().join("switchboard.db").exists(), "a usage error must not create anything");
}

#[test]
fn a_port_in_use_is_named_and_nothing_is_created() {
    let dir = tempfile::tempdir().expect("tempdir");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = busy.local_addr().expect("addr").port().to_string();
    let data = dir.path().join("fresh");
    let out = sb(&data, &["serve", "--port", &port]);
    assert_eq!(out.status.code(), Some(1), "a busy port should fail with exit 1");
    assert!(text(&out.stderr).contains(&format!("port {port}")), "the error should name the port: {}", text(&out.stderr));
    assert!(!data.exists(), "a failed start left the data dir behind");
}

#[test]
fn an_unwritable_data_dir_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").expect("write");
    let data = file.join("data");
    let out = sb(&data, &["serve"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains(&data.display().to_string()), "the error should name the data dir: {}", text(&out.stderr));
    let out = sb(&data, &["serve", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json error is JSON");
    assert_eq!(v["code"], serde_json::json!("storage_read_only"), "wrong code: {v}");
}

#[test]
fn a_second_gateway_on_the_same_data_dir_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let s = Serve::start(&data, &[]);
    let out = sb(&data, &["serve"]);
    assert_eq!(out.status.code(), Some(1), "a second gateway must not start");
    assert!(text(&out.stderr).contains("already runs") && text(&out.stderr).contains(&s.url), "the error should name the running gateway: {}", text(&out.stderr));
    // A different data dir runs side by side.
    let other = Serve::start(&dir.path().join("other"), &[]);
    assert_ne!(other.url, s.url);
}

#[test]
fn without_a_session_bus_serve_says_what_to_start_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(&data)
        .arg("serve")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", dir.path().join("no-runtime"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "serve without a keychain must fail");
    let err = text(&out.stderr);
    assert!(err.contains("dbus-run-session") && err.contains("keychain"), "the error should say what to start: {err}");
    assert!(!data.exists(), "a failed start left a half-created data dir");
}

#[test]
fn verify_names_the_first_tampered_row_and_exports_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    {
        let mut s = Serve::start(&data, &[]);
        for _ in 0..3 {
            assert!(sb(&data, &["login-url"]).status.success());
        }
        assert!(s.sigterm().success());
    }
    let ok = sb(&data, &["audit", "verify"]);
    assert!(ok.status.success(), "an untouched log must verify: {}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("intact"), "verify should say intact: {}", text(&ok.stdout));

    let jsonl = sb(&data, &["audit", "export", "--format", "jsonl"]);
    assert!(jsonl.status.success());
    let rows: Vec<serde_json::Value> = text(&jsonl.stdout).lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    assert!(rows.len() >= 6, "export should hold every row, got {}", rows.len());
    let csv_path = dir.path().join("audit.csv");
    let csv = sb(&data, &["audit", "export", "--format", "csv", "--output", csv_path.to_str().expect("path")]);
    assert!(csv.status.success(), "csv export failed: {}", text(&csv.stderr));
    let csv_text = std::fs::read_to_string(&csv_path).expect("csv file");
    assert!(csv_text.starts_with("id,ts_ms,actor_kind"), "csv needs a header row");
    assert_eq!(csv_text.lines().count(), rows.len() + 1, "csv should have one line per row plus the header");

    // Edit row 3 with any SQLite client, as an attacker would.
    let db = data.join("switchboard.db");
    raw_sql(&db, "UPDATE audit_log SET outcome = 'forged' WHERE id = 3");
    let bad = sb(&data, &["audit", "verify"]);
    assert_eq!(bad.status.code(), Some(1), "a tampered log must make verify exit 1");
    assert!(text(&bad.stderr).contains("row 3"), "verify should name the first bad row: {}", text(&bad.stderr));
    let bad_json = sb(&data, &["audit", "verify", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&bad_json.stdout).expect("verify --json");
    assert_eq!(report["first_bad"]["id"], serde_json::json!(3), "JSON report should name row 3: {report}");
    // Cutting the tail is caught at start: the gateway refuses to append to (and so re-seal)
    // a log that no longer matches its authenticated head.
    raw_sql(&db, "DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)");
    let out = sb(&data, &["serve"]);
    assert_eq!(out.status.code(), Some(1), "serve must refuse a tampered log");
    assert!(text(&out.stderr).contains("audit verify"), "the refusal should point at audit verify: {}", text(&out.stderr));
}

#[test]
fn a_canary_secret_never_leaves_the_keychain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let canary = format!("sk_test_CANARY_{}", std::process::id());
    let control_token;
    let stderr;
    {
        let mut s = Serve::start(&data, &[]);
        // Plant the canary through the same SecretStore the gateway uses.
        let store = switchboard_secrets::KeychainStore::open(&data).expect("keychain");
        use switchboard_secrets::SecretStore;
        store.set("canary", &switchboard_core::Sensitive::new(canary.clone())).expect("plant canary");
        control_token = store.get(switchboard_secrets::keys::CONTROL_TOKEN).expect("get").expect("token").expose().clone();
        assert!(sb(&data, &["login-url"]).status.success());
        assert!(sb(&data, &["status"]).status.success());
        let (code, _) = get(&format!("{}/api/control/v1/status", s.url));
        assert_eq!(code, 401);
        assert!(s.sigterm().success());
        stderr = s.stderr();
    }
    let export = sb(&data, &["audit", "export", "--format", "jsonl"]);
    let csv = sb(&data, &["audit", "export", "--format", "csv"]);
    let mut haystacks: Vec<(String, Vec<u8>)> = vec![
        ("serve's log (stderr)".into(), stderr.into_bytes()),
        ("the jsonl export".into(), export.stdout),
        ("the csv export".into(), csv.stdout),
    ];
    for entry in walk(&data) {
        haystacks.push((entry.display().to_string(), std::fs::read(&entry).expect("read data file")));
    }
    assert!(haystacks.len() >= 4, "expected the database files in the data dir");
    for (name, bytes) in &haystacks {
        for (what, secret) in [("the canary secret", canary.as_str()), ("the control token", control_token.as_str())] {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "{what} leaked into {name}");
        }
    }
    let store = switchboard_secrets::KeychainStore::open(&data).expect("keychain");
    use switchboard_secrets::SecretStore;
    store.delete("canary").expect("cleanup");
}

/// Changes the database behind Switchboard's back, as anyone with the file could.
fn raw_sql(db: &Path, sql: &str) {
    let conn = switchboard_store::db::Connection::open(db).expect("open the database directly");
    conn.execute_batch(sql).expect("raw SQL");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `GET url` with `Authorization: Bearer TOKEN` over real HTTP.
fn get_as(url: &str, token: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-o", "-", "-w", "\n%{http_code}", "-H", &format!("Authorization: Bearer {token}"), url])
        .output()
        .expect("curl");
    let s = text(&out.stdout);
    let (body, code) = s.rsplit_once('\n').unwrap_or(("", "0"));
    (code.parse().unwrap_or(0), body.to_string())
}

#[test]
fn an_added_agent_token_works_is_never_stored_and_stops_on_revoke() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let token;
    {
        let mut s = Serve::start(&data, &[]);
        let human = sb(&data, &["agents", "add", "first-bot"]);
        assert!(human.status.success(), "agents add failed: {}", text(&human.stderr));
        let out = text(&human.stdout);
        assert!(out.contains("store it now"), "agents add should tell the user to store the token now: {out}");
        assert!(out.lines().any(|l| l.starts_with("sb_agent_")), "agents add should print the token on its own line: {out}");

        let added = sb(&data, &["agents", "add", "inbox-bot", "--json"]);
        assert!(added.status.success(), "agents add --json failed: {}", text(&added.stderr));
        let v: serde_json::Value = serde_json::from_slice(&added.stdout).expect("agents add --json is JSON");
        assert_eq!(v["name"], serde_json::json!("inbox-bot"));
        token = v["token"].as_str().expect("agents add --json carries the token").to_string();

        let whoami = format!("{}/api/agent/v1/whoami", s.url);
        let (code, body) = get_as(&whoami, &token);
        assert_eq!(code, 200, "the printed token should open the agent API: {body}");
        assert!(body.contains("\"name\":\"inbox-bot\""), "whoami should name the agent: {body}");

        let dup = sb(&data, &["agents", "add", "inbox-bot"]);
        assert_eq!(dup.status.code(), Some(1), "adding a name twice should fail");
        let list = sb(&data, &["agents", "list", "--json"]);
        assert!(list.status.success(), "agents list failed: {}", text(&list.stderr));
        let listed = text(&list.stdout);
        assert!(!listed.contains(&token), "agents list --json must never show a token");
        let agents: serde_json::Value = serde_json::from_str(&listed).expect("agents list --json is JSON");
        let names: Vec<&str> = agents.as_array().expect("an array").iter().filter_map(|a| a["name"].as_str()).collect();
        assert_eq!(names, ["first-bot", "inbox-bot"], "agents list should show both agents in the order they were added");
        let table = sb(&data, &["agents", "list"]);
        assert!(text(&table.stdout).contains("inbox-bot") && !text(&table.stdout).contains(&token), "the table should name the agent and never show its token");

        let revoke = sb(&data, &["agents", "revoke", "inbox-bot"]);
        assert!(revoke.status.success(), "agents revoke failed: {}", text(&revoke.stderr));
        let (code, _) = get_as(&whoami, &token);
        assert_eq!(code, 401, "a revoked agent's token must stop working at once");
        let unknown = sb(&data, &["agents", "revoke", "nobody", "--json"]);
        assert_eq!(unknown.status.code(), Some(1), "revoking an unknown agent should fail");
        let e: serde_json::Value = serde_json::from_slice(&unknown.stdout).expect("error is JSON");
        assert_eq!(e["code"], serde_json::json!("not_found"));
        assert!(s.sigterm().success());
    }
    let export = sb(&data, &["audit", "export", "--format", "jsonl"]);
    let mut haystacks: Vec<(String, Vec<u8>)> = vec![("the audit export".into(), export.stdout)];
    for entry in walk(&data) {
        haystacks.push((entry.display().to_string(), std::fs::read(&entry).expect("read data file")));
    }
    for (name, bytes) in &haystacks {
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()), "the agent token leaked into {name}");
    }
    let rows = text(&haystacks[0].1);
    assert!(rows.contains("agent.added") && rows.contains("agent.revoked"), "adding and revoking should be in the audit log");
}

#[test]
fn pause_and_resume_survive_a_gateway_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let token;
    {
        let mut s = Serve::start(&data, &[]);
        let added = sb(&data, &["agents", "add", "calendar-bot", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&added.stdout).expect("agents add --json is JSON");
        token = v["token"].as_str().expect("token").to_string();
        let p = sb(&data, &["pause"]);
        assert!(p.status.success(), "pause failed: {}", text(&p.stderr));
        let (code, body) = get_as(&format!("{}/api/agent/v1/whoami", s.url), &token);
        assert_eq!(code, 503, "a paused agent should be refused: {body}");
        assert!(body.contains("\"code\":\"paused\""), "the refusal should carry the paused code: {body}");
        assert!(s.sigterm().success());
    }
    {
        let mut s = Serve::start(&data, &[]);
        let (code, body) = get_as(&format!("{}/api/agent/v1/whoami", s.url), &token);
        assert_eq!(code, 503, "the pause must survive a restart: {body}");
        let r = sb(&data, &["resume", "--json"]);
        assert!(r.status.success(), "resume failed: {}", text(&r.stderr));
        let state: serde_json::Value = serde_json::from_slice(&r.stdout).expect("resume --json is JSON");
        assert_eq!(state, serde_json::json!({ "paused": false }));
        assert!(s.sigterm().success());
    }
    let s = Serve::start(&data, &[]);
    let (code, body) = get_as(&format!("{}/api/agent/v1/whoami", s.url), &token);
    assert_eq!(code, 200, "after resume and a restart the agent should work again: {body}");
}

/// Runs `switchboard --data-dir DATA ARGS…` with `input` on stdin.
fn sb_stdin(data: &Path, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run switchboard");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write the key to stdin");
    child.wait_with_output().expect("wait for switchboard")
}

fn connections(data: &Path) -> Vec<serde_json::Value> {
    let out = sb(data, &["connections", "list", "--json"]);
    assert!(out.status.success(), "connections list --json failed: {}", text(&out.stderr));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("connections list --json is JSON").as_array().expect("a list").clone()
}

#[test]
fn an_api_key_is_checked_kept_only_in_the_keychain_and_deleted_on_remove() {
    use switchboard_secrets::SecretStore;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let good = switchboard_sandbox::hubspot::PRIVATE_APP_TOKEN;
    let wrong = format!("pat-sandbox-na1-WRONG-{}", std::process::id());
    let mut s = Serve::start(&data, &["--sandbox"]);
    let store = switchboard_secrets::KeychainStore::open(&data).expect("keychain");

    // A wrong key is refused clearly and leaves nothing behind.
    let out = sb_stdin(&data, &["connections", "add", "hubspot-sandbox", "--api-key-stdin"], &format!("{wrong}\n"));
    assert_eq!(out.status.code(), Some(1), "a key HubSpot refuses must fail the add; stdout: {}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains("refused this key") && err.contains("nothing was saved"), "the refusal should say the provider refused the key and nothing was saved: {err}");
    assert!(!err.contains(&wrong), "the refusal must not echo the key: {err}");
    assert!(connections(&data).is_empty(), "a refused key must not leave a connection");
    assert!(store.get("connection:hubspot-sandbox-1").expect("keychain read").is_none(), "a refused key must not reach the keychain");

    // An empty key and a missing --api-key-stdin are refused before anything is sent.
    let out = sb_stdin(&data, &["connections", "add", "hubspot-sandbox", "--api-key-stdin"], "  \n");
    assert_eq!(out.status.code(), Some(1), "an empty key must fail with exit 1");
    assert!(text(&out.stderr).contains("no API key"), "an empty key should be named: {}", text(&out.stderr));
    let out = sb(&data, &["connections", "add", "hubspot-sandbox"]);
    assert_eq!(out.status.code(), Some(2), "add with neither --oauth nor --api-key-stdin is a usage error");
    assert!(text(&out.stderr).contains("--api-key-stdin"), "the usage error should say how to pass a key: {}", text(&out.stderr));

    // The valid sandbox private-app token connects.
    let out = sb_stdin(&data, &["connections", "add", "hubspot-sandbox", "--api-key-stdin", "--label", "Sales CRM", "--json"], &format!("  {good}\n"));
    assert!(out.status.success(), "adding hubspot-sandbox with its valid token failed: {}", text(&out.stderr));
    let added: serde_json::Value = serde_json::from_slice(&out.stdout).expect("add --json is JSON");
    let id = added["id"].as_str().expect("the new connection has an id").to_string();
    assert_eq!(id, "hubspot-sandbox-1");
    assert_eq!(
        store.get(&format!("connection:{id}")).expect("keychain read").map(|k| k.expose().clone()).as_deref(),
        Some(good),
        "the key (trimmed) should be in the keychain under connection:{id}"
    );

    let list = connections(&data);
    assert_eq!(list.len(), 1, "one connection should be listed: {list:?}");
    let c = &list[0];
    assert_eq!((c["provider"].as_str(), c["label"].as_str(), c["status"].as_str()), (Some("hubspot-sandbox"), Some("Sales CRM"), Some("healthy")), "{c}");
    assert_eq!(c["auth_mode"], "private_app_token", "{c}");
    assert!(c["key_set_at_ms"].as_i64().is_some() && c["key_age_days"] == 0, "the key age should be tracked from today: {c}");
    let human = sb(&data, &["connections", "list"]);
    assert!(text(&human.stdout).contains("hubspot-sandbox-1") && text(&human.stdout).contains("healthy"), "{}", text(&human.stdout));

    let before = c["last_success_ms"].as_i64().expect("adding checked the key, so it has a last success");
    std::thread::sleep(Duration::from_millis(5));
    let out = sb(&data, &["connections", "test", &id, "--json"]);
    assert!(out.status.success(), "testing a working connection failed: {}", text(&out.stderr));
    let t: serde_json::Value = serde_json::from_slice(&out.stdout).expect("test --json is JSON");
    assert_eq!(t["ok"], true, "{t}");
    assert!(t["connection"]["last_success_ms"].as_i64().expect("last success") > before, "the test should record a new success: {t}");
    assert!(sb(&data, &["connections", "test", "nope-1"]).status.code() == Some(1), "testing an unknown connection must fail");

    let list_out = sb(&data, &["connections", "list", "--json"]).stdout;
    let out = sb(&data, &["connections", "remove", &id]);
    assert!(out.status.success(), "remove failed: {}", text(&out.stderr));
    assert!(store.get(&format!("connection:{id}")).expect("keychain read").is_none(), "remove must delete the key from the keychain");
    assert_eq!(connections(&data)[0]["status"], "removed", "a removed connection stays listed as removed");
    let out = sb(&data, &["connections", "test", &id]);
    assert_eq!(out.status.code(), Some(1), "a removed connection cannot be tested");

    assert!(s.sigterm().success());
    let stderr = s.stderr();
    let export = sb(&data, &["audit", "export", "--format", "jsonl"]);
    let exported = text(&export.stdout);
    for action in ["connection.added", "connection.tested", "connection.removed"] {
        assert!(exported.contains(action), "{action} should be in the audit log");
    }
    let mut haystacks: Vec<(String, Vec<u8>)> = vec![
        ("serve's log (stderr)".into(), stderr.into_bytes()),
        ("the jsonl export".into(), export.stdout),
        ("connections list --json".into(), list_out),
    ];
    for entry in walk(&data) {
        haystacks.push((entry.display().to_string(), std::fs::read(&entry).expect("read data file")));
    }
    for (name, bytes) in &haystacks {
        for (what, secret) in [("the HubSpot key", good), ("the refused key", wrong.as_str())] {
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{what} leaked into {name}");
        }
    }
}

/// Plays the person in the browser: opens the consent page, presses `decision`, and follows
/// the provider's redirect back to the loopback listener. Returns the page the browser shows.
fn browser_consent(authorize_url: &str, decision: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let http = reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let html = http.get(authorize_url).send().await.expect("consent page").text().await.expect("consent body");
        let request = html.split("name=\"request\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("the consent page's request id").to_string();
        let decide = reqwest::Url::parse(authorize_url).expect("url").join(switchboard_sandbox::hubspot::DECISION_PATH).expect("decision url");
        let resp = http
            .post(decide)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("request={request}&decision={decision}"))
            .send()
            .await
            .expect("consent form");
        let back = resp.headers().get("location").and_then(|l| l.to_str().ok()).expect("the provider redirects back").to_string();
        http.get(back).send().await.expect("the loopback listener answers").text().await.unwrap_or_default()
    })
}

/// `connections add --oauth --no-browser`: prints the consent URL, waits, exits 0 once connected.
fn oauth_add(data: &Path, decision: &str) -> (Output, String) {
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(["connections", "add", "hubspot-sandbox", "--oauth", "--no-browser", "--label", "Sales"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run switchboard");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut url = String::new();
    out.read_line(&mut url).expect("the consent URL line");
    assert!(url.starts_with("http://127.0.0.1:"), "--no-browser should print the consent URL first, got {url:?}");
    let page = browser_consent(url.trim(), decision);
    let mut rest = String::new();
    let _ = out.read_to_string(&mut rest);
    let mut stderr = Vec::new();
    let _ = child.stderr.take().expect("stderr").read_to_end(&mut stderr);
    let status = child.wait().expect("wait");
    (Output { status, stdout: rest.into_bytes(), stderr }, page)
}

#[test]
fn oauth_from_the_command_line_prints_the_url_and_waits_for_the_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let _s = Serve::start(&data, &["--sandbox"]);

    let (out, page) = oauth_add(&data, "approve");
    assert!(page.contains("Connected"), "the browser should show that the account is connected: {page}");
    assert_eq!(out.status.code(), Some(0), "add --oauth should exit 0 once connected; stderr: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Connected hubspot-sandbox as 'hubspot-sandbox-1'"), "it should say what was connected: {}", text(&out.stdout));
    let list = connections(&data);
    assert_eq!((list.len(), list[0]["auth_mode"].as_str()), (1, Some("oauth_confidential")), "one OAuth connection should be listed: {list:?}");

    let (out, page) = oauth_add(&data, "deny");
    assert!(page.contains("consent denied"), "the browser should say the consent was denied: {page}");
    assert_eq!(out.status.code(), Some(1), "a denied consent should exit 1");
    assert!(text(&out.stderr).contains("consent denied"), "the reason should be printed: {}", text(&out.stderr));

    let out = sb(&data, &["connections", "add", "hubspot", "--oauth", "--no-browser"]);
    assert_eq!(out.status.code(), Some(1), "the real HubSpot cannot use a loopback redirect");
    assert!(text(&out.stderr).contains("private-app token"), "the refusal should name the alternative: {}", text(&out.stderr));
    let out = sb(&data, &["connections", "add", "hubspot-sandbox", "--no-browser"]);
    assert_eq!(out.status.code(), Some(2), "--no-browser without --oauth is a usage error");
}

/// `curl -X POST url` with a bearer token and form fields: (status, body).
fn post_form(url: &str, token: &str, fields: &[&str]) -> (u16, String) {
    let mut args = vec!["-s".to_string(), "-o".into(), "-".into(), "-w".into(), "\n%{http_code}".into(), "-H".into(), format!("Authorization: Bearer {token}")];
    for f in fields {
        args.push("--data-urlencode".into());
        args.push((*f).to_string());
    }
    args.push(url.to_string());
    let out = Command::new("curl").args(&args).output().expect("curl");
    let s = text(&out.stdout);
    let (body, code) = s.rsplit_once('\n').unwrap_or(("", "0"));
    (code.parse().unwrap_or(0), body.to_string())
}

#[test]
fn events_arrive_by_webhook_and_by_pull_once_and_the_webhook_secret_stays_in_the_keychain() {
    use switchboard_sandbox::stripe::SECRET_KEY;
    use switchboard_secrets::SecretStore;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut s = Serve::start(&data, &["--sandbox"]);
    let out = sb_stdin(&data, &["connections", "add", "stripe-sandbox", "--api-key-stdin", "--scope", "customer_read", "--scope", "event_read"], SECRET_KEY);
    assert!(out.status.success(), "connecting the simulated Stripe failed: {}", text(&out.stderr));
    let catalog: serde_json::Value = serde_json::from_slice(&sb(&data, &["providers", "--json"]).stdout).expect("providers --json");
    let stripe = catalog["providers"].as_array().expect("providers").iter().find(|p| p["id"] == "stripe-sandbox").expect("stripe-sandbox")["api_base_url"].as_str().expect("base").to_string();

    // Stripe's own API adds the endpoint and shows its secret once; the person pastes it.
    let hook = format!("{}/hooks/stripe-sandbox-1", s.url);
    let (code, body) = post_form(&format!("{stripe}/webhook_endpoints"), SECRET_KEY, &[&format!("url={hook}"), "enabled_events[]=*"]);
    assert_eq!(code, 200, "{body}");
    let secret = serde_json::from_str::<serde_json::Value>(&body).expect("json")["secret"].as_str().expect("whsec").to_string();
    let out = sb(&data, &["connections", "webhook-secret", "stripe-sandbox-1"]);
    assert_eq!(out.status.code(), Some(2), "the secret comes only from stdin (--stdin is required)");
    let out = sb_stdin(&data, &["connections", "webhook-secret", "stripe-sandbox-1", "--stdin"], "\n");
    assert_eq!(out.status.code(), Some(1), "an empty secret is refused");
    let out = sb_stdin(&data, &["connections", "webhook-secret", "stripe-sandbox-1", "--stdin"], &format!("{secret}\n"));
    assert!(out.status.success(), "setting the webhook secret failed: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&hook), "it names the URL the provider delivers to: {}", text(&out.stdout));
    let store = switchboard_secrets::KeychainStore::open(&data).expect("keychain");
    assert_eq!(store.get("webhook-secret:stripe-sandbox-1").expect("keychain read").map(|v| v.expose().clone()), Some(secret.clone()), "the secret is in the keychain");

    // A customer is created at Stripe: the webhook brings its event; a pull then finds the same
    // event and stores nothing new.
    let (code, body) = post_form(&format!("{stripe}/customers"), SECRET_KEY, &["email=ellen@orbit.example", "name=Ellen Ochoa"]);
    assert_eq!(code, 200, "{body}");
    let mut listed = serde_json::Value::Null;
    for _ in 0..100 {
        listed = serde_json::from_slice(&sb(&data, &["events", "list", "--connection", "stripe-sandbox-1", "--json"]).stdout).expect("events list --json");
        if listed["events"].as_array().is_some_and(|e| !e.is_empty()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let events = listed["events"].as_array().expect("events").clone();
    assert_eq!(events.len(), 1, "the webhook stored the event: {listed}");
    assert_eq!((events[0]["type"].as_str(), events[0]["source"].as_str()), (Some("customer.created"), Some("webhook")));
    let out = sb(&data, &["events", "pull", "stripe-sandbox-1", "--json"]);
    assert!(out.status.success(), "events pull failed: {}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("pull --json");
    assert_eq!((report["stored"].as_u64(), report["duplicates"].as_u64()), (Some(0), Some(1)), "the pulled event is the one the webhook stored: {report}");
    let human = text(&sb(&data, &["events", "list"]).stdout);
    assert!(human.contains("customer.created") && human.contains("webhook"), "{human}");
    let out = sb(&data, &["events", "schedule", "stripe-sandbox-1", "--every-seconds", "30"]);
    assert!(out.status.success() && text(&out.stdout).contains("every 30 s"), "{}{}", text(&out.stdout), text(&out.stderr));
    let out = sb(&data, &["events", "schedule", "stripe-sandbox-1", "--every-seconds", "5"]);
    assert_eq!(out.status.code(), Some(1), "an interval under 15 s is refused: {}", text(&out.stderr));
    let out = sb(&data, &["events", "schedule", "stripe-sandbox-1", "--off"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(sb(&data, &["events", "pull", "nope-1"]).status.code(), Some(1), "pulling an unknown connection fails");

    assert!(s.sigterm().success());
    let stderr = s.stderr();
    let export = text(&sb(&data, &["audit", "export", "--format", "jsonl"]).stdout);
    for action in ["connection.webhook_secret_set", "webhook.received", "events.pull", "connection.pull_schedule_set"] {
        assert!(export.contains(action), "{action} should be in the audit log");
    }
    let mut haystacks: Vec<(String, Vec<u8>)> = vec![("serve's log".into(), stderr.into_bytes()), ("the export".into(), export.into_bytes())];
    for entry in walk(&data) {
        haystacks.push((entry.display().to_string(), std::fs::read(&entry).expect("read data file")));
    }
    for (name, bytes) in &haystacks {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "the webhook secret leaked into {name}");
    }
}
