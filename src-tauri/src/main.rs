//! `switchboard-desktop`: Switchboard's desktop shell (Tauri 2). One process runs the gateway
//! (the same `switchboard_server` + `switchboard_api::App` that `switchboard serve` runs) and shows
//! the control panel (the `ui/` front end, bundled) in a window, with a tray icon that keeps the
//! gateway running while the window is closed.
//!
//! What lives here, and only here: everything that links Tauri or WebKit — the window, the tray,
//! the single-instance rule, desktop notifications, start at login, and the IPC commands the
//! window calls. No other crate may depend on Tauri.
//!
//! What must NOT live here: business logic. Every rule about audit rows, tokens, grants, providers
//! or storage belongs to `switchboard-api` (use cases) or the crates below it; this crate only
//! starts the gateway, wires windows to it and translates arguments and results.
//!
//! Modules: [`args`] (command line), [`instance`] (one instance per data dir), [`gateway`]
//! (in-process start), [`shell`] (window, tray, quit), [`commands`] (IPC adapters).
//!
//! How to add a command the UI can call:
//! 1. add the use case to `switchboard_api::App` (typed input, `Result<T, ApiError>`);
//! 2. add a thin `#[tauri::command]` in `src/commands/<area>.rs` that takes `State<'_, App>`
//!    and calls it — no logic;
//! 3. list it in [`commands::handler`], in `build.rs`'s app manifest, and grant its
//!    `allow-<name>` permission in `capabilities/main.json`;
//! 4. add the matching call to `ui/src/api/calls.ts` (same command name as the HTTP route).

mod args;
mod commands;
mod gateway;
mod instance;
mod shell;

use std::io::IsTerminal;
use std::process::ExitCode;

use switchboard_api::datadir;
use switchboard_core::ApiError;

fn main() -> ExitCode {
    let args = args::parse();
    init_tracing();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("switchboard")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return fail(&ApiError::internal(format!(
                "cannot start the async runtime: {e}"
            )));
        }
    };
    // Tauri's commands and plugins run on the same runtime as the gateway.
    tauri::async_runtime::set(runtime.handle().clone());

    let data_dir = match datadir::resolve(args.data_dir.clone()) {
        Ok(dir) => instance::absolute(&dir),
        Err(e) => return fail(&e),
    };
    // One instance per data dir, mechanism 1: a gateway already holds this data dir.
    match runtime.block_on(instance::focus_running(&data_dir)) {
        Ok(true) => {
            println!(
                "Switchboard is already running for {}; brought its window to the front",
                data_dir.display()
            );
            return ExitCode::SUCCESS;
        }
        Ok(false) => {}
        Err(e) if e.code == switchboard_core::ErrorCode::Conflict => return fail(&e),
        Err(e) => tracing::warn!(
            code = %e.code,
            "a gateway holds {} but did not take the focus request ({}); trying the desktop single-instance check",
            data_dir.display(),
            e.message
        ),
    }

    if let Err(e) = check_display() {
        return fail(&e);
    }
    let mut context = tauri::generate_context!();
    // Mechanism 2: the single-instance plugin keys on the identifier, so make it per data dir.
    if let Some(identifier) = instance::identifier_for(&data_dir) {
        context.config_mut().identifier = identifier;
    }
    let app = match shell::builder(&data_dir, args.hidden).build(context) {
        Ok(app) => app,
        Err(e) => {
            return fail(&ApiError::internal(format!(
                "cannot start the desktop shell: {e}"
            )));
        }
    };

    let server = match runtime.block_on(gateway::start(data_dir, args.sandbox)) {
        Ok(server) => server,
        Err(e) => {
            shell::notify_startup_failure(app.handle(), &e);
            return fail(&e);
        }
    };
    shell::install(&app, server);
    // Never returns: the process exits from the event loop (see `shell::quit`).
    app.run(shell::on_run_event);
    ExitCode::SUCCESS
}

/// Tauri's event loop panics when GTK cannot start (no display): find out first, and say so.
#[cfg(target_os = "linux")]
fn check_display() -> Result<(), ApiError> {
    gtk::init().map_err(|e| {
        ApiError::internal(format!(
            "cannot open a window ({e}): no usable display (DISPLAY or WAYLAND_DISPLAY). Run Switchboard from a desktop \
             session or under `xvfb-run`; for a gateway without a window use `switchboard serve`"
        ))
    })
}

#[cfg(not(target_os = "linux"))]
fn check_display() -> Result<(), ApiError> {
    Ok(())
}

/// Prints `{code}: {message}` to stderr and exits 1.
fn fail(e: &ApiError) -> ExitCode {
    eprintln!("{}: {}", e.code, e.message);
    ExitCode::FAILURE
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
