//! The running gateway's state and its use cases.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use switchboard_core::{
    ActorKind, ApiError, AuditPage, AuditQuery, Clock, ErrorCode, NewAuditRow, Sensitive, SystemClock, VerifyReport, VERSION,
};
use switchboard_sandbox::{SandboxHandle, SandboxServer};
use switchboard_secrets::{CachedStore, KeychainStore, SecretStore, keys};
use switchboard_store::audit::{self, Anchor};
use switchboard_store::{Database, Durability, StoreOptions, Writer};
use tokio::sync::broadcast;

use crate::agents::AgentRegistry;
use crate::auth::{self, LOGIN_CODE_TTL_MS, OneTimeSet, SESSION_TTL_MS};
use crate::datadir::{self, InstanceLock, Runtime};
use crate::types::{GatewayStatus, LoginUrl};

/// How often at most the audit head is copied to the keychain.
const ANCHOR_SYNC_EVERY: Duration = Duration::from_millis(500);
/// Longest a search or filtered list waits for the search index to catch up.
const INDEX_WAIT: Duration = Duration::from_secs(2);

/// How to start a gateway.
pub struct AppOptions {
    pub data_dir: PathBuf,
    /// `None` opens the OS keychain (the only choice outside unit tests).
    pub secrets: Option<Arc<dyn SecretStore>>,
    pub clock: Arc<dyn Clock>,
    pub store: StoreOptions,
    /// Also start every simulated provider on 127.0.0.1 and list each as a `-sandbox` entry in
    /// the provider catalog (`serve --sandbox`).
    pub sandbox: bool,
    /// With `sandbox`: start these simulated providers instead of every one with its defaults
    /// (benchmarks and tests that need, say, a different rate limit).
    pub sandbox_providers: Option<Vec<Box<dyn switchboard_sandbox::SimulatedProvider>>>,
    /// Catalog entries added after the built-in ones, for tests that connect to an OAuth server
    /// of their own (it is listed, and connected, like any provider; its OAuth app credentials
    /// come from the keychain as for a real provider). Empty in the product.
    pub extra_providers: Vec<switchboard_connectors::ProviderEntry>,
}

impl AppOptions {
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            secrets: None,
            clock: Arc::new(SystemClock),
            store: StoreOptions::default(),
            sandbox: false,
            sandbox_providers: None,
            extra_providers: Vec::new(),
        }
    }
}

/// The gateway: owns the database writer, the keychain handle and the control credentials.
/// Cheap to clone; every adapter holds one.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    data_dir: PathBuf,
    db: Database,
    writer: Writer,
    agents: AgentRegistry,
    secrets: Arc<dyn SecretStore>,
    clock: Arc<dyn Clock>,
    audit_key: Sensitive<Vec<u8>>,
    control_token: Sensitive<String>,
    login_codes: OneTimeSet,
    sessions: auth::Sessions,
    started_at_ms: i64,
    url: RwLock<String>,
    lock: Mutex<Option<InstanceLock>>,
    stopped: AtomicBool,
    focus: broadcast::Sender<()>,
    /// Things a person should hear about even with the window closed (desktop notifications).
    notices: broadcast::Sender<crate::types::Notice>,
    /// Small change events for live screens and the tray ([`crate::live`]).
    live: broadcast::Sender<crate::live::LiveEvent>,
    live_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// The name of each agent whose tools may have changed (grant set, revoked or lapsed, access
    /// granted, agent revoked, connection removed); MCP sessions re-list their tools.
    grant_changes: broadcast::Sender<String>,
    rotation_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Announces grants as they lapse ([`App::spawn_lapse_notices`]).
    lapse_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Every provider call goes through this: one rate-limit budget per connection, shared by
    /// every agent.
    paced: switchboard_http::PacedClient,
    anchor_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Wakes the outbox executor (a draft was approved, agents resumed).
    outbox_wake: Arc<tokio::sync::Notify>,
    outbox_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// `(catalog id, base URL)` of each running simulated provider, in start order.
    sandbox_urls: Vec<(&'static str, String)>,
    sandboxes: Mutex<Vec<SandboxHandle>>,
    /// `(catalog id, registered OAuth app)` of each running simulated provider that has OAuth.
    sandbox_clients: Vec<(&'static str, switchboard_sandbox::oauth::OAuthClient)>,
    /// The catalog with the sandbox and extra entries, built once at start (both are fixed then).
    catalog: switchboard_connectors::Catalog,
    oauth: crate::oauth::OAuthRuntime,
    /// Account definitions read for pre-flight checks, per connection.
    definitions: crate::calls::DefinitionCache,
    /// One pull per connection at a time, and the periodic-pull loop.
    pulls: crate::pull::PullRuntime,
}

/// Keychain entries and folders this start created, removed again if the start fails.
#[derive(Default)]
struct Undo {
    dir: Option<PathBuf>,
    secrets: Vec<&'static str>,
}

impl Undo {
    fn run(self, secrets: Option<&Arc<dyn SecretStore>>) {
        if let Some(s) = secrets {
            for k in self.secrets {
                let _ = s.delete(k);
            }
        }
        if let Some(dir) = self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl App {
    /// Opens the data dir, keychain and database and starts the writer, and with
    /// [`AppOptions::sandbox`] the simulated providers. On failure nothing it created is left
    /// behind or running.
    pub async fn start(opts: AppOptions) -> Result<Self, ApiError> {
        // Simulated providers first: they touch no disk or keychain, and a dropped handle stops
        // its server, so any later failure leaves none of them running.
        let sandboxes = if opts.sandbox {
            start_sandboxes(opts.sandbox_providers.unwrap_or_else(switchboard_sandbox::all)).await?
        } else {
            Vec::new()
        };
        let prepared = datadir::prepare(&opts.data_dir)?;
        let mut undo = Undo { dir: prepared.created.then(|| prepared.dir.clone()), ..Undo::default() };
        let lock = match InstanceLock::acquire(&prepared.dir) {
            Ok(l) => l,
            Err(e) => {
                undo.run(None);
                return Err(e);
            }
        };
        let secrets: Arc<dyn SecretStore> = match opts.secrets {
            Some(s) => s,
            None => {
                let dir = prepared.dir.clone();
                match tokio::task::spawn_blocking(move || KeychainStore::open(&dir)).await {
                    Ok(Ok(k)) => Arc::new(k),
                    Ok(Err(e)) => {
                        drop(lock);
                        undo.run(None);
                        return Err(e.into());
                    }
                    Err(e) => {
                        drop(lock);
                        undo.run(None);
                        return Err(ApiError::internal(format!("keychain task failed: {e}")));
                    }
                }
            }
        };
        // Every secret is read from the keychain once and then served from this process's memory.
        let secrets: Arc<dyn SecretStore> = Arc::new(CachedStore::new(secrets));
        let extras = opts.extra_providers;
        match Self::start_inner(prepared.dir.clone(), lock, secrets.clone(), opts.clock, opts.store, sandboxes, extras, &mut undo).await {
            Ok(app) => Ok(app),
            Err(e) => {
                undo.run(Some(&secrets));
                Err(e)
            }
        }
    }

    #[allow(clippy::too_many_arguments, reason = "each is one part of the start; bundling them would only rename them")]
    async fn start_inner(
        data_dir: PathBuf,
        lock: InstanceLock,
        secrets: Arc<dyn SecretStore>,
        clock: Arc<dyn Clock>,
        store: StoreOptions,
        sandboxes: Vec<SandboxHandle>,
        extra_providers: Vec<switchboard_connectors::ProviderEntry>,
        undo: &mut Undo,
    ) -> Result<Self, ApiError> {
        let db_path = data_dir.join(datadir::DB_FILE);
        let db = blocking(move || Database::open(&db_path, store).map_err(ApiError::from)).await?;
        let agents = {
            let db = db.clone();
            blocking(move || AgentRegistry::load(&db)).await?
        };

        let (audit_key, key_created) = get_or_create(&secrets, keys::AUDIT_KEY).await?;
        if key_created {
            undo.secrets.push(keys::AUDIT_KEY);
        }
        let audit_key = Sensitive::new(audit_key.expose().as_bytes().to_vec());
        check_anchor(&db, &secrets, audit_key.clone()).await?;
        let writer = {
            let db = db.clone();
            let key = audit_key.clone();
            let clock = clock.clone();
            blocking(move || Writer::start(&db, key, clock).map_err(ApiError::from)).await?
        };
        let (control_token, token_created) = match get_or_create(&secrets, keys::CONTROL_TOKEN).await {
            Ok(v) => v,
            Err(e) => {
                writer.shutdown();
                return Err(e);
            }
        };
        if token_created {
            undo.secrets.push(keys::CONTROL_TOKEN);
            let row = NewAuditRow::system("control.token_created", serde_json::json!({ "kind": "control", "stored_in": secrets.describe() }));
            if let Err(e) = writer.append(row, Durability::Full).await {
                writer.shutdown();
                return Err(e.into());
            }
        }
        let started_at_ms = clock.now_ms();
        let (focus, _) = broadcast::channel(4);
        let (notices, _) = broadcast::channel(64);
        let (live, _) = broadcast::channel(256);
        let (grant_changes, _) = broadcast::channel(256);
        let paced = match switchboard_http::PacedClient::with_config(switchboard_http::ClientConfig { clock: clock.clone(), ..Default::default() }) {
            Ok(p) => p,
            Err(e) => {
                writer.shutdown();
                return Err(ApiError::internal(format!("cannot build the provider HTTP client: {e}")));
            }
        };
        let sandbox_urls: Vec<(&'static str, String)> = sandboxes.iter().map(|h| (h.id(), h.url())).collect();
        let app = Self {
            inner: Arc::new(Inner {
                data_dir,
                db,
                writer,
                agents,
                secrets,
                clock,
                audit_key,
                control_token,
                login_codes: OneTimeSet::default(),
                sessions: auth::Sessions::default(),
                started_at_ms,
                url: RwLock::new(String::new()),
                lock: Mutex::new(Some(lock)),
                stopped: AtomicBool::new(false),
                focus,
                notices,
                live,
                live_task: Mutex::new(None),
                grant_changes,
                rotation_task: Mutex::new(None),
                lapse_task: Mutex::new(None),
                paced,
                anchor_task: Mutex::new(None),
                outbox_wake: Arc::new(tokio::sync::Notify::new()),
                outbox_task: Mutex::new(None),
                catalog: crate::catalog::build(&sandbox_urls, &extra_providers),
                sandbox_urls,
                sandbox_clients: sandboxes.iter().filter_map(|h| h.registered_client().map(|c| (h.id(), c.clone()))).collect(),
                sandboxes: Mutex::new(sandboxes),
                oauth: crate::oauth::OAuthRuntime::default(),
                definitions: crate::calls::DefinitionCache::default(),
                pulls: crate::pull::PullRuntime::default(),
            }),
        };
        app.spawn_anchor_sync();
        let live_task = app.spawn_live();
        *app.inner.live_task.lock().unwrap_or_else(|p| p.into_inner()) = Some(live_task);
        app.spawn_rotation_checks();
        app.spawn_pull_schedule();
        app.spawn_outbox_executor();
        app.spawn_lapse_notices();
        Ok(app)
    }

    /// Records that the HTTP listener is up: publishes `gateway.json` and audits the start.
    pub async fn mark_listening(&self, port: u16) -> Result<String, ApiError> {
        let url = format!("http://127.0.0.1:{port}");
        *self.inner.url.write().unwrap_or_else(|p| p.into_inner()) = url.clone();
        let mut details = serde_json::json!({ "version": VERSION, "url": url, "pid": std::process::id() });
        if !self.inner.sandbox_urls.is_empty() {
            let ids: Vec<&str> = self.inner.sandbox_urls.iter().map(|(id, _)| *id).collect();
            details["sandbox"] = serde_json::json!(ids);
        }
        let row = NewAuditRow::system("gateway.start", details);
        self.inner.writer.append(row, Durability::Full).await?;
        datadir::write_runtime(
            &self.inner.data_dir,
            &Runtime { pid: std::process::id(), port, url: url.clone(), version: VERSION.into(), started_at_ms: self.inner.started_at_ms },
        )?;
        Ok(url)
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    pub fn url(&self) -> String {
        self.inner.url.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn status(&self) -> GatewayStatus {
        GatewayStatus {
            version: VERSION.into(),
            url: self.url(),
            data_dir: self.inner.data_dir.display().to_string(),
            started_at_ms: self.inner.started_at_ms,
            // Ids are contiguous from 1, so the head id is the row count.
            audit_rows: self.inner.writer.head().borrow().id,
            keychain: self.inner.secrets.describe(),
        }
    }

    /// The whole audit log as JSON Lines (or CSV with `csv`), streamed: chunks of about 64 KiB
    /// arrive on the receiver as the rows are read, oldest first; an error ends the stream.
    pub fn audit_export_stream(&self, csv: bool) -> tokio::sync::mpsc::Receiver<Result<Vec<u8>, ApiError>> {
        let format = if csv { audit::ExportFormat::Csv } else { audit::ExportFormat::Jsonl };
        let db = self.inner.db.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::task::spawn_blocking(move || {
            let mut out = ChunkSender { buf: Vec::with_capacity(EXPORT_CHUNK), tx: tx.clone() };
            let done = db.reader().map_err(ApiError::from).and_then(|conn| audit::export(&conn, format, &mut out).map_err(ApiError::from));
            let done = done.and_then(|_| std::io::Write::flush(&mut out).map_err(|e| ApiError::internal(format!("export stream closed: {e}"))));
            if let Err(e) = done {
                let _ = tx.blocking_send(Err(e));
            }
        });
        rx
    }

    /// Writes the whole audit log (JSON Lines, or CSV with `csv`) to a new file in `dir` named
    /// `switchboard-audit-<UTC time>.<ext>` (never over an existing file), calling `progress`
    /// with the bytes and rows written so far. Audited `audit.exported` with the path.
    pub async fn audit_export_to_dir(
        &self,
        actor_id: &str,
        csv: bool,
        dir: PathBuf,
        progress: impl Fn(u64, u64) + Send + 'static,
    ) -> Result<crate::types::ExportSaved, ApiError> {
        if !dir.is_dir() {
            return Err(ApiError::bad_request(format!("cannot save the export: {} is not a folder", dir.display())));
        }
        let ext = if csv { "csv" } else { "jsonl" };
        let stamp = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.inner.clock.now_ms()) * 1_000_000)
            .ok()
            .and_then(|t| t.format(&time::macros::format_description!("[year][month][day]-[hour][minute][second]")).ok())
            .unwrap_or_else(|| "export".into());
        let mut path = dir.join(format!("switchboard-audit-{stamp}.{ext}"));
        let mut n = 1;
        while path.exists() {
            n += 1;
            path = dir.join(format!("switchboard-audit-{stamp}-{n}.{ext}"));
        }
        let mut rx = self.audit_export_stream(csv);
        let file_path = path.clone();
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&file_path)
            .await
            .map_err(|e| ApiError::new(ErrorCode::StorageReadOnly, format!("cannot create {}: {e}", file_path.display())))?;
        let (mut bytes, mut lines) = (0u64, 0u64);
        while let Some(chunk) = rx.recv().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    drop(file);
                    let _ = tokio::fs::remove_file(&file_path).await;
                    return Err(e);
                }
            };
            tokio::io::AsyncWriteExt::write_all(&mut file, &chunk)
                .await
                .map_err(|e| ApiError::new(ErrorCode::StorageFull, format!("cannot write {}: {e}", file_path.display())))?;
            bytes += chunk.len() as u64;
            lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
            progress(bytes, lines);
        }
        tokio::io::AsyncWriteExt::flush(&mut file).await.map_err(|e| ApiError::internal(format!("cannot finish {}: {e}", file_path.display())))?;
        // CSV has a header line; JSON Lines one line per row.
        let rows = if csv { lines.saturating_sub(1) } else { lines };
        let mut row = NewAuditRow::system("audit.exported", serde_json::json!({ "format": ext, "path": path.display().to_string(), "rows": rows, "bytes": bytes }));
        row.actor_kind = ActorKind::User;
        row.actor_id = actor_id.into();
        self.inner.writer.append(row, Durability::Normal).await?;
        Ok(crate::types::ExportSaved { path: path.display().to_string(), bytes, rows })
    }

    /// The whole audit log as JSON Lines (or CSV with `csv`) bytes.
    pub async fn audit_export_bytes(&self, csv: bool) -> Result<Vec<u8>, ApiError> {
        let format = if csv { audit::ExportFormat::Csv } else { audit::ExportFormat::Jsonl };
        let db = self.inner.db.clone();
        blocking(move || {
            let mut out = Vec::new();
            audit::export(&*db.reader()?, format, &mut out)?;
            Ok(out)
        })
        .await
    }

    pub async fn audit_list(&self, q: AuditQuery) -> Result<AuditPage, ApiError> {
        if q.is_narrowed() {
            // The search index and the filter table trail the log by a few thousand rows; catch
            // them up first so a search or a filter sees every committed row through an index.
            // A rebuild (a new or damaged search file under a long log) takes longer: the list
            // does not wait for it, and matches the rows not indexed yet by scanning them.
            match tokio::time::timeout(INDEX_WAIT, self.inner.writer.flush_index()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "search index not caught up; recent rows are matched by substring"),
                Err(_) => tracing::info!("search index still catching up; recent rows are matched by substring"),
            }
        }
        let db = self.inner.db.clone();
        blocking(move || {
            let conn = db.reader()?;
            audit::list(&conn, &q).map_err(ApiError::from)
        })
        .await
    }

    /// Verifies the whole chain, its authenticated head and the keychain anchor.
    pub async fn audit_verify(&self) -> Result<VerifyReport, ApiError> {
        let db = self.inner.db.clone();
        let key = self.inner.audit_key.clone();
        let secrets = self.inner.secrets.clone();
        blocking(move || {
            let anchor = read_anchor(secrets.as_ref())?;
            let conn = db.reader()?;
            audit::verify(&conn, key.expose(), anchor.as_ref()).map_err(ApiError::from)
        })
        .await
    }

    /// Appends one audit row; the caller's action may run only if this succeeds.
    pub async fn record(&self, row: NewAuditRow, durability: Durability) -> Result<switchboard_core::AuditRow, ApiError> {
        Ok(self.inner.writer.append(row, durability).await?)
    }

    /// The store writer, for use cases that commit state together with their audit row.
    pub fn writer(&self) -> &Writer {
        &self.inner.writer
    }

    pub(crate) fn db(&self) -> &Database {
        &self.inner.db
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }

    pub(crate) fn secrets(&self) -> &Arc<dyn SecretStore> {
        &self.inner.secrets
    }

    pub(crate) fn agents(&self) -> &AgentRegistry {
        &self.inner.agents
    }

    /// Constant-time check of a presented control token.
    pub fn check_control_token(&self, presented: &str) -> bool {
        auth::secrets_equal(presented, self.inner.control_token.expose())
    }

    /// Issues a one-time login URL for a browser. The code becomes valid only after its audit
    /// row is committed.
    pub async fn issue_login_url(&self, actor: ActorKind, actor_id: &str) -> Result<LoginUrl, ApiError> {
        let base = self.url();
        if base.is_empty() {
            return Err(ApiError::new(ErrorCode::Conflict, "the gateway is not listening yet"));
        }
        let code = auth::random_token();
        let expires_at_ms = self.inner.clock.now_ms() + LOGIN_CODE_TTL_MS;
        let mut row = NewAuditRow::system("control.login_url_issued", serde_json::json!({ "expires_at_ms": expires_at_ms }));
        row.actor_kind = actor;
        row.actor_id = actor_id.into();
        self.inner.writer.append(row, Durability::Full).await?;
        self.inner.login_codes.insert(&code, expires_at_ms);
        Ok(LoginUrl { url: format!("{base}/login?code={}", code.expose()), expires_at_ms })
    }

    /// Redeems a login code for a browser session token. Each code works once; the login is
    /// audited before the session exists.
    pub async fn login(&self, code: &str, user_agent: Option<&str>) -> Result<Sensitive<String>, ApiError> {
        let now = self.inner.clock.now_ms();
        let valid = self.inner.login_codes.is_valid(code, now);
        let mut row = NewAuditRow::system(
            "control.login",
            serde_json::json!({ "user_agent": user_agent.map(|u| u.chars().take(200).collect::<String>()) }),
        );
        row.actor_kind = ActorKind::User;
        row.actor_id = "browser".into();
        row.decision = if valid { "allow" } else { "deny" }.into();
        row.outcome = if valid { "ok" } else { "invalid_code" }.into();
        self.inner.writer.append(row, Durability::Full).await?;
        if !valid || !self.inner.login_codes.take(code, now) {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "this login link is invalid, expired or already used; run `switchboard login-url` for a fresh one",
            ));
        }
        let session = auth::random_token();
        self.inner.sessions.insert(&session, now + SESSION_TTL_MS);
        Ok(session)
    }

    /// Whether a browser session cookie is valid.
    pub fn check_session(&self, token: &str) -> bool {
        self.inner.sessions.get(token, self.inner.clock.now_ms()).is_some()
    }

    pub(crate) fn sessions(&self) -> &auth::Sessions {
        &self.inner.sessions
    }

    /// Asks the desktop window of this gateway to come to the front (a second launch).
    /// Returns false when no window listens (a headless `switchboard serve`).
    pub fn request_focus(&self) -> bool {
        self.inner.focus.send(()).is_ok()
    }

    pub fn focus_requests(&self) -> broadcast::Receiver<()> {
        self.inner.focus.subscribe()
    }

    /// Notices for a person (the desktop shell shows each as a notification).
    pub fn notices(&self) -> broadcast::Receiver<crate::types::Notice> {
        self.inner.notices.subscribe()
    }

    /// The names of agents whose grants changed, as they change. A lagging receiver should treat
    /// a `Lagged` error as "every agent may have changed".
    pub fn grant_changes(&self) -> broadcast::Receiver<String> {
        self.inner.grant_changes.subscribe()
    }

    /// Tells every listener that `agent`'s tools may have changed (none listening is fine).
    pub(crate) fn grants_changed(&self, agent: &str) {
        let _ = self.inner.grant_changes.send(agent.to_string());
    }

    pub(crate) fn notify(&self, notice: crate::types::Notice) {
        // No listener (headless `serve`) is fine: the notice is also in the audit log and the UI.
        let _ = self.inner.notices.send(notice);
    }

    pub(crate) fn live_sender(&self) -> &broadcast::Sender<crate::live::LiveEvent> {
        &self.inner.live
    }

    pub(crate) fn paced(&self) -> &switchboard_http::PacedClient {
        &self.inner.paced
    }

    pub(crate) fn definition_cache(&self) -> &crate::calls::DefinitionCache {
        &self.inner.definitions
    }

    pub(crate) fn outbox_wake(&self) -> Arc<tokio::sync::Notify> {
        self.inner.outbox_wake.clone()
    }

    pub(crate) fn set_outbox_task(&self, task: tokio::task::JoinHandle<()>) {
        *self.inner.outbox_task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
    }

    pub(crate) fn set_rotation_task(&self, task: tokio::task::JoinHandle<()>) {
        *self.inner.rotation_task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
    }

    pub(crate) fn set_lapse_task(&self, task: tokio::task::JoinHandle<()>) {
        *self.inner.lapse_task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
    }

    /// Audits the stop, drains the writer, saves the audit anchor in the keychain, removes the
    /// runtime file and releases the data dir. Safe to call twice.
    pub async fn shutdown(&self, reason: &str) {
        if self.inner.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        // Periodic pulls stop first, so nothing they write lands after the stop row.
        self.inner.pulls.stop().await;
        let row = NewAuditRow::system("gateway.stop", serde_json::json!({ "reason": reason }));
        if let Err(e) = self.inner.writer.append(row, Durability::Full).await {
            tracing::error!(error = %e, "could not audit the gateway stop");
        }
        if let Some(task) = self.inner.anchor_task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
        if let Some(task) = self.inner.live_task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
        if let Some(task) = self.inner.rotation_task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
        if let Some(task) = self.inner.outbox_task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
        if let Some(task) = self.inner.lapse_task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
        let sandboxes = std::mem::take(&mut *self.inner.sandboxes.lock().unwrap_or_else(|p| p.into_inner()));
        for h in sandboxes {
            h.shutdown().await;
        }
        let inner = self.inner.clone();
        let _ = tokio::task::spawn_blocking(move || {
            inner.writer.shutdown();
            let head = inner.writer.head().borrow().clone();
            if let Err(e) = write_anchor(inner.secrets.as_ref(), &head) {
                tracing::error!(error = %e, "could not save the audit checkpoint to the keychain");
            }
            datadir::remove_runtime(&inner.data_dir);
            inner.lock.lock().unwrap_or_else(|p| p.into_inner()).take();
        })
        .await;
    }

    /// How many 429s the simulated provider `id` has sent (`None` when it is not running).
    pub fn sandbox_rate_limited(&self, id: &str) -> Option<u64> {
        self.inner.sandboxes.lock().unwrap_or_else(|p| p.into_inner()).iter().find(|h| h.id() == id).map(SandboxHandle::rate_limited_count)
    }

    /// `(catalog id, base URL)` of each running simulated provider (empty without `--sandbox`).
    pub fn sandbox_urls(&self) -> &[(&'static str, String)] {
        &self.inner.sandbox_urls
    }

    /// The OAuth app registered with a running simulated provider (`hubspot-sandbox`).
    pub(crate) fn sandbox_client(&self, provider_id: &str) -> Option<&switchboard_sandbox::oauth::OAuthClient> {
        self.inner.sandbox_clients.iter().find(|(id, _)| *id == provider_id).map(|(_, c)| c)
    }

    /// Every provider this gateway can connect to, grouped by category. With `--sandbox`, each
    /// running simulated provider follows its real provider as a `-sandbox` entry pointing at
    /// the loopback server ([`switchboard_connectors::ProviderEntry::sandboxed`]); built once at
    /// start ([`crate::catalog::build`]). Reading the catalog changes nothing, so it is not audited.
    pub fn provider_catalog(&self) -> &switchboard_connectors::Catalog {
        &self.inner.catalog
    }

    pub(crate) fn oauth_runtime(&self) -> &crate::oauth::OAuthRuntime {
        &self.inner.oauth
    }

    pub(crate) fn pulls(&self) -> &crate::pull::PullRuntime {
        &self.inner.pulls
    }

    fn spawn_anchor_sync(&self) {
        let mut head = self.inner.writer.head();
        let secrets = self.inner.secrets.clone();
        let task = tokio::spawn(async move {
            while head.changed().await.is_ok() {
                tokio::time::sleep(ANCHOR_SYNC_EVERY).await;
                let h = head.borrow_and_update().clone();
                let s = secrets.clone();
                match tokio::task::spawn_blocking(move || write_anchor(s.as_ref(), &h)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "could not save the audit checkpoint to the keychain"),
                    Err(e) => tracing::warn!(error = %e, "audit checkpoint task failed"),
                }
            }
        });
        *self.inner.anchor_task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
    }
}

const EXPORT_CHUNK: usize = 64 * 1024;

/// An `io::Write` that hands full chunks to an async receiver (the export stream).
struct ChunkSender {
    buf: Vec<u8>,
    tx: tokio::sync::mpsc::Sender<Result<Vec<u8>, ApiError>>,
}

impl std::io::Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= EXPORT_CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(EXPORT_CHUNK));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the reader went away"))
    }
}

/// Starts every simulated provider; on a failure the ones already started are stopped.
async fn start_sandboxes(providers: Vec<Box<dyn switchboard_sandbox::SimulatedProvider>>) -> Result<Vec<SandboxHandle>, ApiError> {
    let mut started = Vec::new();
    for provider in providers {
        let id = provider.id();
        match SandboxServer::start_boxed(provider).await {
            Ok(h) => started.push(h),
            Err(e) => {
                for h in started {
                    h.shutdown().await;
                }
                return Err(ApiError::internal(format!("could not start the simulated provider {id} (--sandbox): {e}")));
            }
        }
    }
    Ok(started)
}

fn write_anchor(secrets: &dyn SecretStore, head: &switchboard_store::Head) -> Result<(), ApiError> {
    if head.id == 0 {
        return Ok(());
    }
    let anchor = Anchor { id: head.id, hash: head.hash.clone(), mac: head.mac.clone() };
    secrets.set(keys::AUDIT_HEAD, &Sensitive::new(anchor.encode())).map_err(ApiError::from)
}

pub(crate) fn read_anchor(secrets: &dyn SecretStore) -> Result<Option<Anchor>, ApiError> {
    let Some(raw) = secrets.get(keys::AUDIT_HEAD)? else { return Ok(None) };
    Anchor::decode(raw.expose())
        .map(Some)
        .ok_or_else(|| ApiError::new(ErrorCode::StorageCorrupt, "the audit checkpoint in the keychain is unreadable"))
}

/// Refuses to start on a database older than the checkpoint the keychain remembers (an older
/// copy restored, or the tail cut off).
async fn check_anchor(db: &Database, secrets: &Arc<dyn SecretStore>, key: Sensitive<Vec<u8>>) -> Result<(), ApiError> {
    let db = db.clone();
    let secrets = secrets.clone();
    blocking(move || {
        let Some(anchor) = read_anchor(secrets.as_ref())? else { return Ok(()) };
        if !audit::head_mac_ok(key.expose(), anchor.id, &anchor.hash, &anchor.mac) {
            return Err(ApiError::new(ErrorCode::StorageCorrupt, "the audit checkpoint in the keychain does not match this database's key"));
        }
        let conn = db.reader()?;
        let hash = audit::row_hash(&conn, anchor.id)?;
        if hash.as_deref() != Some(anchor.hash.as_str()) {
            return Err(ApiError::new(
                ErrorCode::StorageCorrupt,
                format!(
                    "the database {} is older than the audit checkpoint in the keychain (row {} is missing or different): \
                     an older copy was restored or the log was cut. Run `switchboard audit verify`; Switchboard will not append to it",
                    db.path().display(),
                    anchor.id
                ),
            ));
        }
        Ok(())
    })
    .await
}

/// Reads a secret, creating a random one if absent. Returns whether it was created.
async fn get_or_create(secrets: &Arc<dyn SecretStore>, key: &'static str) -> Result<(Sensitive<String>, bool), ApiError> {
    let secrets = secrets.clone();
    blocking(move || {
        if let Some(v) = secrets.get(key)? {
            return Ok((v, false));
        }
        let v = auth::random_token();
        secrets.set(key, &v)?;
        Ok((v, true))
    })
    .await
}

/// Runs blocking store or keychain work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::internal(format!("background task failed: {e}")))?
}
