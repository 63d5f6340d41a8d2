#!/usr/bin/env bash
#! Builds stint and runs the agent in the foreground on the embedded defaults, with
#! tracking on. Without a desktop (no DISPLAY) it first starts a demo one (Xvfb,
#! openbox and a terminal) so there is something to record. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
cargo build --release --locked
BIN="$PWD/target/release/stint"

if [ -z "${DISPLAY:-}" ]; then
  Xvfb :99 -screen 0 1920x1080x24 -nolisten tcp >/dev/null 2>&1 &
  XVFB=$!
  trap 'kill $XVFB 2>/dev/null' EXIT
  export DISPLAY=:99
  sleep 1
  openbox >/dev/null 2>&1 &
  sleep 1
  xterm -T "stint demo desktop" -e sh -c 'echo "Type here; stint counts keys, never text."; cat >/dev/null' >/dev/null 2>&1 &
  echo "stint: no DISPLAY, started a demo desktop on $DISPLAY"
fi

"$BIN" doctor "$@" || true
"$BIN" start "$@"
echo "stint: recording; in another shell: $BIN log   |   $BIN status"
"$BIN" run "$@"
