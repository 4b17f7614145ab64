//! Generates Tauri's context and the permission set of our own commands: each command listed
//! here gets an `allow-<name>` permission that `capabilities/main.json` must grant, so a command
//! added to `commands/` but not here (or not granted) is refused at the IPC boundary.

fn main() {
    let manifest =
        tauri_build::AppManifest::new().commands(&["gateway_status", "audit_list", "audit_verify"]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri-build failed (see the message above)");
}
