#!/usr/bin/env bash
# Runs the real-window test (src-tauri/tests/window.mjs) against a built switchboard-desktop:
# a private Xvfb display, a private D-Bus session with an unlocked gnome-keyring, HOME and the
# XDG folders in a temp folder, tauri-driver (which starts WebKitWebDriver) on free ports, and
# a fresh data dir. Everything it started is stopped on exit; the exit status is the test's.
#
#   usage: src-tauri/tests/run-window-test.sh BINARY [SCREENSHOT.png]
#
#   SWITCHBOARD_VERSION    the version the header must show (default: [workspace.package] version)
#   SWITCHBOARD_SCREENSHOT where to save the screenshot (the second argument wins)
#   SWITCHBOARD_KEEP_TMP=1 keep the temp folder (logs, data dir) for a look afterwards
#
# Needs: Xvfb, dbus-run-session, dbus-send, gnome-keyring-daemon, WebKitWebDriver
# (apt webkit2gtk-driver), tauri-driver (`cargo install tauri-driver --locked`), node >= 20.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 BINARY [SCREENSHOT.png]" >&2
  exit 2
fi
bin=$(realpath "$1")
if [ ! -x "$bin" ]; then
  echo "window test: $1 is not an executable; build it with: cargo build -p switchboard-desktop" >&2
  exit 2
fi
shot=${2:-${SWITCHBOARD_SCREENSHOT:-}}
[ -z "$shot" ] || shot=$(realpath -m "$shot")
version=${SWITCHBOARD_VERSION:-$(sed -n '/^\[workspace\.package\]/,/^\[/ s/^version *= *"\([^"]*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)}

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "window test: $1 is missing ($2)" >&2; exit 2; }
}
need Xvfb "apt install xvfb"
need dbus-run-session "apt install dbus"
need dbus-send "apt install dbus"
need gnome-keyring-daemon "apt install gnome-keyring"
need WebKitWebDriver "apt install webkit2gtk-driver"
need node "Node.js 20 or newer"
driver_bin=$(command -v tauri-driver || true)
[ -n "$driver_bin" ] || driver_bin="${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver"
[ -x "$driver_bin" ] || { echo "window test: tauri-driver is missing (cargo install tauri-driver --locked)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-window.XXXXXX")
xvfb_pid=""
cleanup() {
  local status=$?
  if [ -n "$xvfb_pid" ]; then
    kill "$xvfb_pid" 2>/dev/null || true
    wait "$xvfb_pid" 2>/dev/null || true
  fi
  if [ "${SWITCHBOARD_KEEP_TMP:-}" = 1 ]; then
    echo "window test: logs and data dir kept in $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A display of our own: Xvfb picks a free number and writes it to fd 3.
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 100); do
  [ -s "$tmp/display" ] && break
  kill -0 "$xvfb_pid" 2>/dev/null || break
  sleep 0.1
done
if [ ! -s "$tmp/display" ]; then
  echo "window test: Xvfb did not start:" >&2
  cat "$tmp/xvfb.log" >&2
  exit 1
fi
display=":$(head -n 1 "$tmp/display" | tr -d '[:space:]')"

# Two free loopback ports: tauri-driver's and WebKitWebDriver's.
read -r port native_port < <(node -e '
  const net = require("net");
  const servers = [net.createServer(), net.createServer()];
  Promise.all(servers.map((s) => new Promise((r) => s.listen(0, "127.0.0.1", () => r(s.address().port)))))
    .then((ports) => { servers.forEach((s) => s.close()); console.log(ports.join(" ")); });
')

mkdir -p "$tmp/home" "$tmp/data-home" "$tmp/config" "$tmp/cache" "$tmp/run"
chmod 700 "$tmp/run"

# Inside the session bus: unlock a keyring, start tauri-driver, run the test, stop both.
cat >"$tmp/inner.sh" <<'EOF'
set -u
echo -n test | gnome-keyring-daemon --foreground --unlock --components=secrets >"$TMPD/keyring.log" 2>&1 &
keyring=$!
driver=""
stop() {
  [ -n "$driver" ] && { kill "$driver" 2>/dev/null; wait "$driver" 2>/dev/null; }
  kill "$keyring" 2>/dev/null
  wait "$keyring" 2>/dev/null
}
trap stop EXIT
for _ in $(seq 100); do
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true' && break
  sleep 0.1
done
"$DRIVER_BIN" --port "$PORT" --native-port "$NATIVE_PORT" >"$TMPD/driver.log" 2>&1 &
driver=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done
# The test's own output goes to fd 3 (the caller's stdout); the bus's and its services' chatter
# stays in bus.log.
node "$WINDOW_TEST" >&3 2>&3
EOF

set +e
env HOME="$tmp/home" XDG_DATA_HOME="$tmp/data-home" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache" \
  XDG_RUNTIME_DIR="$tmp/run" DISPLAY="$display" TMPD="$tmp" DRIVER_BIN="$driver_bin" PORT="$port" \
  NATIVE_PORT="$native_port" WINDOW_TEST="$here/window.mjs" TAURI_DRIVER_URL="http://127.0.0.1:$port" \
  SWITCHBOARD_DESKTOP_BIN="$bin" SWITCHBOARD_DATA_DIR="$tmp/data" SWITCHBOARD_VERSION="$version" \
  SWITCHBOARD_SCREENSHOT="$shot" NO_AT_BRIDGE=1 \
  dbus-run-session -- bash "$tmp/inner.sh" 3>&1 >"$tmp/bus.log" 2>&1
status=$?
set -e
if [ "$status" -ne 0 ]; then
  echo "--- tauri-driver, WebKitWebDriver and app output (last 40 lines):" >&2
  tail -n 40 "$tmp/driver.log" >&2 || true
  echo "--- session bus and keyring (last 20 lines):" >&2
  tail -n 20 "$tmp/bus.log" >&2 || true
fi
exit "$status"
