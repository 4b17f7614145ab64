//! The desktop shell around the running gateway: plugins, the main window, the tray (with the
//! number of drafts waiting for approval, kept current by the gateway's live events), desktop
//! notices (one per new draft), the live events forwarded to the window as `live` Tauri events,
//! and quitting.
//!
//! The gateway outlives the window: closing the window hides it and the tray keeps the process
//! (and so the gateway) running. "Quit Switchboard" in the tray, SIGTERM or Ctrl-C shut the
//! gateway down cleanly (audited `gateway.stop`, `gateway.json` removed, data dir released)
//! before the process exits 0.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use switchboard_api::App;
use switchboard_core::ApiError;
use switchboard_server::ServerHandle;
use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{
    AppHandle, Emitter, Manager, RunEvent, WebviewWindow, WebviewWindowBuilder, Window, WindowEvent, Wry,
};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;

/// The label of the one window (tauri.conf.json).
pub const MAIN_WINDOW: &str = "main";
const TRAY_ID: &str = "main";
const MENU_OPEN: &str = "open";
const MENU_APPROVALS: &str = "approvals";
const MENU_PAUSE: &str = "pause";
const MENU_QUIT: &str = "quit";
/// Live approval and pause events keep the tray current; it also re-reads both this often, in
/// case it fell behind the event stream.
const TRAY_COUNT_EVERY: Duration = Duration::from_secs(30);
/// The Tauri event each [`switchboard_api::live::LiveEvent`] is forwarded as (the window's
/// `useLive` listens to it); `{"kind":"lagged"}` when the forwarder fell behind.
pub const LIVE_EVENT: &str = "live";

/// The shell's own state, managed by Tauri next to the [`App`] the commands use.
struct Shell {
    /// `http://127.0.0.1:PORT`.
    url: String,
    /// Taken exactly once, by [`quit`].
    server: Mutex<Option<ServerHandle>>,
    /// Whether a tray icon exists; without one, closing the window quits (or the gateway would
    /// keep running with no way to reach it).
    tray: AtomicBool,
    quitting: AtomicBool,
    /// Serializes show/create of the main window (focus requests can race).
    window: Mutex<()>,
}

/// The Tauri builder: single-instance first (it exits a second launch before anything else
/// starts), then the other plugins, the commands and the close-hides-the-window rule.
pub fn builder(data_dir: &Path, hidden: bool) -> tauri::Builder<Wry> {
    // Start at login (off until the user turns it on) starts this same data dir in the tray;
    // each non-default data dir gets its own entry.
    let mut autostart = tauri_plugin_autostart::Builder::new().arg("--hidden");
    autostart = match crate::instance::identifier_for(data_dir) {
        None => autostart.app_name("Switchboard"),
        Some(id) => autostart
            .app_name(format!(
                "Switchboard-{}",
                id.rsplit('.').next().unwrap_or_default()
            ))
            .arg("--data-dir")
            .arg(data_dir.display().to_string()),
    };
    tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            tracing::info!("another launch for this data dir: bringing the window to the front");
            show_main(app);
        }))
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        // Registered only: nothing here enables start at login.
        .plugin(autostart.build())
        .invoke_handler(crate::commands::handler())
        .on_window_event(on_window_event)
        .setup(move |app| {
            // Runs when the event loop is ready, after [`install`]; never fails (a failing setup
            // makes Tauri panic), each part logs its own trouble.
            on_ready(app.handle(), hidden);
            Ok(())
        })
}

/// Puts the running gateway into Tauri state (the commands read the [`App`]). Call between
/// `build` and `run`.
pub fn install(app: &tauri::App<Wry>, server: ServerHandle) {
    app.manage(server.app().clone());
    app.manage(Shell {
        url: server.url(),
        server: Mutex::new(Some(server)),
        tray: AtomicBool::new(false),
        quitting: AtomicBool::new(false),
        window: Mutex::new(()),
    });
}

/// Once the event loop runs: the tray, the window (unless `hidden`), focus requests from later
/// launches, and signals.
fn on_ready(app: &AppHandle, hidden: bool) {
    let Some(state) = app.try_state::<Shell>() else {
        tracing::error!("the gateway is not installed; quitting");
        app.exit(1);
        return;
    };
    let gateway = app.state::<App>();
    match build_tray(app, &state.url) {
        Ok((tray, approvals, pause)) => {
            state.tray.store(true, Ordering::SeqCst);
            spawn_tray_count(&gateway, tray, approvals, pause, state.url.clone());
        }
        Err(e) => {
            tracing::warn!(error = %e, "no tray icon; closing the window will quit Switchboard")
        }
    }
    if hidden && state.tray.load(Ordering::SeqCst) {
        tracing::info!("started hidden: open the window from the tray icon");
    } else {
        show_main(app);
    }
    spawn_focus_listener(app.clone(), &gateway);
    spawn_notice_listener(app.clone(), &gateway);
    spawn_live_forwarder(app.clone(), &gateway);
    spawn_signal_listener(app.clone());
}

/// The event-loop callback: an exit request while the gateway still runs becomes a clean quit.
pub fn on_run_event(app: &AppHandle, event: RunEvent) {
    if let RunEvent::ExitRequested { api, .. } = event {
        let Some(state) = app.try_state::<Shell>() else {
            return;
        };
        let running = state
            .server
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some();
        if running {
            api.prevent_exit();
            quit(app);
        }
    }
}

fn on_window_event(window: &Window, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event {
        let Some(state) = window.try_state::<Shell>() else {
            return;
        };
        if window.label() == MAIN_WINDOW
            && state.tray.load(Ordering::SeqCst)
            && !state.quitting.load(Ordering::SeqCst)
        {
            // Keep the gateway running: the tray brings the window back.
            api.prevent_close();
            if let Err(e) = window.hide() {
                tracing::warn!(error = %e, "could not hide the window");
            }
        }
    }
}

/// Shows, un-minimizes and focuses the main window, creating it (from tauri.conf.json) if it
/// does not exist yet (a `--hidden` start).
pub fn show_main(app: &AppHandle) {
    let Some(state) = app.try_state::<Shell>() else {
        // The gateway is not up yet; the window appears when it is.
        return;
    };
    let _guard = state.window.lock().unwrap_or_else(|p| p.into_inner());
    let window = match app.get_webview_window(MAIN_WINDOW) {
        Some(w) => w,
        None => match create_main(app) {
            Ok(w) => w,
            Err(e) => {
                tracing::error!(error = %e, "could not open the Switchboard window");
                return;
            }
        },
    };
    let _ = window.unminimize();
    if let Err(e) = window.show() {
        tracing::warn!(error = %e, "could not show the window");
    }
    let _ = window.set_focus();
}

fn create_main(app: &AppHandle) -> tauri::Result<WebviewWindow> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN_WINDOW)
        .cloned()
        .ok_or_else(|| tauri::Error::WindowNotFound)?;
    WebviewWindowBuilder::from_config(app, &config)?.build()
}

/// The tray icon and its menu item that shows the pending-approvals count.
fn build_tray(app: &AppHandle, url: &str) -> tauri::Result<(TrayIcon, MenuItem<Wry>, MenuItem<Wry>)> {
    // Linux trays show no tooltip: the disabled first item says where the gateway listens, and
    // the approvals item says how many drafts wait (it opens the Approvals screen).
    let status = MenuItem::with_id(
        app,
        "status",
        format!("Gateway on {url}"),
        false,
        None::<&str>,
    )?;
    let approvals = MenuItem::with_id(app, MENU_APPROVALS, "Approvals", true, None::<&str>)?;
    // The pause switch, as in the window's header: stops every agent at once.
    let pause = MenuItem::with_id(app, MENU_PAUSE, pause_words(false), true, None::<&str>)?;
    let open = MenuItem::with_id(app, MENU_OPEN, "Open Switchboard", true, None::<&str>)?;
    let quit_item = MenuItem::with_id(app, MENU_QUIT, "Quit Switchboard", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&status, &approvals, &pause, &separator, &open, &quit_item])?;
    let tray = TrayIconBuilder::with_id(TRAY_ID)
        .icon(tauri::include_image!("../icons/32x32.png"))
        .tooltip(tray_tooltip(None, url))
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(on_menu_event)
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                show_main(tray.app_handle());
            }
        })
        .build(app)?;
    Ok((tray, approvals, pause))
}

/// The tray's pause item: what clicking it will do.
fn pause_words(paused: bool) -> &'static str {
    if paused { "Agents paused — resume them" } else { "Pause all agents" }
}

/// The tray menu's approvals line: how many drafts wait for a person.
fn approvals_words(pending: u64) -> String {
    match pending {
        0 => "No drafts waiting for approval".into(),
        1 => "1 draft waiting for approval".into(),
        n => format!("{n} drafts waiting for approval"),
    }
}

/// The tray tooltip: the pending count (once known) and where the gateway listens.
fn tray_tooltip(pending: Option<u64>, url: &str) -> String {
    match pending {
        Some(n) => format!(
            "Switchboard — {} · gateway on {url}",
            approvals_words(n).to_lowercase()
        ),
        None => format!("Switchboard — gateway on {url}"),
    }
}

/// Keeps the tray's pending-approvals count and pause item current from the gateway's live
/// events (each approval event carries the new count), re-reading both now and then in case
/// an event was missed.
fn spawn_tray_count(gateway: &App, tray: TrayIcon, item: MenuItem<Wry>, pause: MenuItem<Wry>, url: String) {
    use switchboard_api::live::LiveEvent;
    let gateway = gateway.clone();
    let mut live = Some(gateway.live());
    tauri::async_runtime::spawn(async move {
        let mut tick = tokio::time::interval(TRAY_COUNT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shown: Option<u64> = None;
        let mut shown_paused: Option<bool> = None;
        loop {
            // `Some(n)`: an event said the count is n; `None`: re-read it.
            let mut known: Option<u64> = None;
            match live.as_mut() {
                Some(rx) => tokio::select! {
                    _ = tick.tick() => {}
                    got = rx.recv() => match got {
                        Ok(LiveEvent::Approval { pending, .. }) => known = Some(pending),
                        Ok(LiveEvent::Pause { .. }) | Err(RecvError::Lagged(_)) => {}
                        Ok(_) => continue,
                        Err(RecvError::Closed) => live = None,
                    },
                },
                None => {
                    tick.tick().await;
                }
            }
            let paused = gateway.agents_paused();
            if shown_paused != Some(paused) {
                shown_paused = Some(paused);
                let _ = pause.set_text(pause_words(paused));
            }
            let count = match known {
                Some(n) => Ok(n),
                None => gateway.approvals_pending_count().await,
            };
            match count {
                Ok(n) if shown != Some(n) => {
                    shown = Some(n);
                    if let Err(e) = item.set_text(approvals_words(n)) {
                        tracing::debug!(error = %e, "could not update the tray's approvals item");
                    }
                    let _ = tray.set_tooltip(Some(tray_tooltip(Some(n), &url)));
                    // Shown beside the icon where the tray supports a label (Linux app indicators).
                    let _ = tray.set_title((n > 0).then(|| n.to_string()));
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(code = %e.code, "the tray could not read the pending-approvals count: {}", e.message)
                }
            }
        }
    });
}

/// Forwards the gateway's live events to the window as `live` Tauri events.
fn spawn_live_forwarder(app: AppHandle, gateway: &App) {
    let mut live = gateway.live();
    tauri::async_runtime::spawn(async move {
        loop {
            match live.recv().await {
                Ok(event) => {
                    if let Err(e) = app.emit(LIVE_EVENT, &event) {
                        tracing::debug!(error = %e, "could not forward a live event to the window");
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "live events fell behind; the window re-reads");
                    let _ = app.emit(LIVE_EVENT, serde_json::json!({ "kind": "lagged" }));
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// Opens the window on the Approvals screen.
fn show_approvals(app: &AppHandle) {
    show_main(app);
    if let Some(window) = app.get_webview_window(MAIN_WINDOW)
        && let Err(e) = window.eval("window.location.hash = '#/approvals'")
    {
        tracing::debug!(error = %e, "could not switch the window to Approvals");
    }
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    match event.id().as_ref() {
        MENU_OPEN => show_main(app),
        MENU_APPROVALS => show_approvals(app),
        MENU_PAUSE => toggle_pause(app),
        MENU_QUIT => quit(app),
        _ => {}
    }
}

/// Pauses every agent, or resumes them, from the tray (recorded as the person at the window).
fn toggle_pause(app: &AppHandle) {
    let Some(gateway) = app.try_state::<App>().map(|s| s.inner().clone()) else { return };
    tauri::async_runtime::spawn(async move {
        let actor = crate::commands::approvals::approver();
        let done = if gateway.agents_paused() { gateway.resume_agents(actor).await } else { gateway.pause_agents(actor).await };
        if let Err(e) = done {
            tracing::error!(code = %e.code, "the tray could not switch the pause: {}", e.message);
        }
    });
}

/// Shuts the gateway down (audits `gateway.stop`, removes `gateway.json`, releases the data
/// dir), then exits 0. Safe to call more than once.
pub fn quit(app: &AppHandle) {
    let Some(state) = app.try_state::<Shell>() else {
        app.exit(0);
        return;
    };
    if state.quitting.swap(true, Ordering::SeqCst) {
        return;
    }
    let server = state
        .server
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Some(server) = server {
            tracing::info!("stopping the gateway");
            server.shutdown("desktop quit").await;
        }
        app.exit(0);
    });
}

fn spawn_focus_listener(app: AppHandle, gateway: &App) {
    let mut requests = gateway.focus_requests();
    tauri::async_runtime::spawn(async move {
        // A lagged receiver still means "someone asked": show the window once.
        while let Ok(()) | Err(RecvError::Lagged(_)) = requests.recv().await {
            tracing::info!("focus requested through the control API");
            show_main(&app);
        }
    });
}

/// Shows the gateway's notices (a new draft, a key due for rotation, …) as desktop
/// notifications, unless the person turned notifications off in Settings (asked per notice, so
/// the switch takes effect at once).
fn spawn_notice_listener(app: AppHandle, gateway: &App) {
    let mut notices = gateway.notices();
    let gateway = gateway.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            match notices.recv().await {
                Ok(n) => {
                    if !gateway.notifications_enabled().await {
                        tracing::debug!(kind = %n.kind, "notifications are off in Settings; not shown");
                        continue;
                    }
                    if let Err(e) = app
                        .notification()
                        .builder()
                        .title(&n.title)
                        .body(&n.body)
                        .show()
                    {
                        tracing::debug!(error = %e, kind = %n.kind, "no desktop notification");
                    }
                }
                Err(RecvError::Lagged(missed)) => tracing::warn!(
                    missed,
                    "desktop notifications fell behind; some were skipped"
                ),
                Err(RecvError::Closed) => break,
            }
        }
    });
}

fn spawn_signal_listener(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C still quits cleanly");
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("signal received: quitting");
        quit(&app);
    });
}

/// Best effort: a desktop notification saying why Switchboard did not start (the caller also
/// prints it). Waits briefly, as the notification is sent in the background.
pub fn notify_startup_failure(app: &AppHandle, e: &ApiError) {
    let sent = app
        .notification()
        .builder()
        .title("Switchboard could not start")
        .body(format!("{}: {}", e.code, e.message))
        .show();
    match sent {
        Ok(()) => std::thread::sleep(Duration::from_millis(800)),
        Err(err) => tracing::debug!(error = %err, "no desktop notification"),
    }
}

#[cfg(test)]
mod tests {
    use super::{approvals_words, tray_tooltip};

    #[test]
    fn the_tray_says_how_many_drafts_wait() {
        assert_eq!(approvals_words(0), "No drafts waiting for approval");
        assert_eq!(
            approvals_words(1),
            "1 draft waiting for approval",
            "one draft is singular"
        );
        assert_eq!(approvals_words(12), "12 drafts waiting for approval");
        assert_eq!(
            tray_tooltip(None, "http://127.0.0.1:9"),
            "Switchboard — gateway on http://127.0.0.1:9",
            "before the first count the tooltip names only the gateway"
        );
        assert_eq!(
            tray_tooltip(Some(3), "http://127.0.0.1:9"),
            "Switchboard — 3 drafts waiting for approval · gateway on http://127.0.0.1:9"
        );
    }
}
