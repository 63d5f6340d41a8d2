#!/usr/bin/env bash
#! Builds stint and runs the agent in the foreground on the embedded defaults, with
#! tracking on. Without a desktop (no DISPLAY) it first starts a demo one (Xvfb,
#! openbox and a terminal) so there is something to record. It also starts a local
#! stint-server (embedded default: SQLite + image dir under .stint-demo/) and points
#! the agent at it over TLS with the server's generated CA. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
cargo build --release --locked --workspace
BIN="$PWD/target/release/stint"
SERVER="$PWD/target/release/stint-server"
DEMO="$PWD/.stint-demo"
mkdir -p "$DEMO"
"$SERVER" --data-dir "$DEMO/server" serve --listen 127.0.0.1:8443 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null' EXIT
sleep 1
if [ ! -f "$DEMO/agent.toml" ]; then
  # A first owner for the web diary, whose device this demo agent is.
  PASSWORD="demo-$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  echo "$PASSWORD" | "$SERVER" --data-dir "$DEMO/server" user add owner@stint.local \
    --name "Demo Owner" --role owner --password-stdin >/dev/null
  (umask 077 && echo "$PASSWORD" > "$DEMO/owner-password")
  cat > "$DEMO/agent.toml" <<EOF
[server]
url = "https://localhost:8443"
enroll_token = "$("$SERVER" --data-dir "$DEMO/server" token create --label demo --person owner@stint.local)"
ca_file = "$DEMO/server/ca.pem"
EOF
fi
set -- --config "$DEMO/agent.toml" "$@"
echo "stint: records arrive at the local server; see: $SERVER --data-dir $DEMO/server export --json"
echo "stint: the web diary is at https://localhost:8443/ (its CA: $DEMO/server/ca.pem)"
echo "stint:   log in as owner@stint.local with the password in $DEMO/owner-password"

if [ -z "${DISPLAY:-}" ]; then
  Xvfb :99 -screen 0 1920x1080x24 -nolisten tcp >/dev/null 2>&1 &
  XVFB=$!
  trap 'kill $XVFB $SERVER_PID 2>/dev/null' EXIT
  export DISPLAY=:99
  sleep 1
  openbox >/dev/null 2>&1 &
  sleep 1
  xterm -T "stint demo desktop" -e sh -c 'echo "Type here; stint counts keys, never text."; cat >/dev/null' >/dev/null 2>&1 &
  echo "stint: no DISPLAY, started a demo desktop on $DISPLAY"
fi

"$BIN" doctor "$@" || true
# Before the daemon runs, start records the choice (its "no daemon yet" note is expected).
"$BIN" start "$@" 2>/dev/null
echo "stint: recording; in another shell: $BIN log   |   $BIN status"
"$BIN" run "$@"
