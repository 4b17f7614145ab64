//! The real OS keychain (Secret Service over D-Bus). Run inside a session bus with an unlocked
//! gnome-keyring, as `./x test` does.

use switchboard_core::Sensitive;
use switchboard_secrets::{KeychainStore, SecretError, SecretStore};

fn open(dir: &std::path::Path) -> KeychainStore {
    match KeychainStore::open(dir) {
        Ok(k) => k,
        Err(e) => panic!("the keychain tests need a D-Bus session with an unlocked gnome-keyring (run them through `./x test`): {e}"),
    }
}

#[test]
fn secrets_round_trip_through_the_real_secret_service() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    assert_eq!(store.describe(), "Secret Service");
    assert!(store.get("round-trip").expect("get").is_none(), "a new namespace should be empty");
    store.set("round-trip", &Sensitive::new("sk_test_round_trip_value".into())).expect("set");
    let back = store.get("round-trip").expect("get").expect("the secret we just stored is missing");
    assert_eq!(back.expose(), "sk_test_round_trip_value", "the keychain returned a different secret");
    store.set("round-trip", &Sensitive::new("rotated".into())).expect("overwrite");
    assert_eq!(store.get("round-trip").expect("get").map(|s| s.expose().clone()).as_deref(), Some("rotated"), "overwriting a secret did not replace it");
    store.delete("round-trip").expect("delete");
    assert!(store.get("round-trip").expect("get").is_none(), "a deleted secret is still in the keychain");
    store.delete("round-trip").expect("deleting twice must not fail");
}

#[test]
fn two_data_dirs_never_see_each_others_secrets() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let (sa, sb) = (open(a.path()), open(b.path()));
    assert_ne!(sa.service(), sb.service(), "two data dirs share a keychain namespace");
    sa.set("shared-name", &Sensitive::new("only-for-a".into())).expect("set");
    assert!(sb.get("shared-name").expect("get").is_none(), "instance B read instance A's secret");
    sa.delete("shared-name").expect("cleanup");
}

#[test]
fn no_session_bus_gives_a_clear_error_not_a_fallback() {
    // Re-run this test binary without any way to reach a session bus.
    if std::env::var_os("SWITCHBOARD_CHILD_NO_BUS").is_some() {
        let dir = tempfile::tempdir().expect("tempdir");
        match KeychainStore::open(dir.path()) {
            Ok(_) => println!("RESULT: opened"),
            Err(SecretError::Unavailable(msg)) => println!("RESULT: unavailable: {msg}"),
            Err(e) => println!("RESULT: other: {e}"),
        }
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "no_session_bus_gives_a_clear_error_not_a_fallback", "--nocapture", "--test-threads=1"])
        .env("SWITCHBOARD_CHILD_NO_BUS", "1")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", "/nonexistent-runtime-dir")
        .output()
        .expect("run child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find_map(|l| l.find("RESULT:").map(|i| &l[i..])).unwrap_or("RESULT: none");
    assert!(line.starts_with("RESULT: unavailable:"), "without a session bus the keychain must say it is unavailable, got: {line}\nchild output: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(line.contains("dbus-run-session") && line.contains("gnome-keyring"), "the error should say what to start: {line}");
}
