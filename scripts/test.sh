#!/usr/bin/env bash
#! The whole test suite as CI runs it: system packages, formatting, clippy for Linux,
#! Windows and macOS, then every unit and integration test (which start their
#! own Xvfb desktops).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
cargo fmt --all --check
# Installer and CI scripts, the macOS ones included: they run where no test can.
shellcheck -S warning installers/linux/*.sh installers/linux/postinst installers/linux/postrm \
  installers/windows/*.sh installers/macos/*.sh installers/macos/scripts/postinstall \
  scripts/*.sh scripts/macos-check/cc .ci/run
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo clippy --locked --workspace --all-targets --target x86_64-pc-windows-gnu -- -D warnings
# The server as released: without the test-only fault injection.
cargo clippy --locked -p stint-server -- -D warnings
bash scripts/check-macos.sh
# The integration tests drive the stint-server binary; `cargo test` builds only
# the binaries of the package under test, so build every binary first, the
# server with the test-only `faults` feature (`serve --inject-faults`).
cargo build --locked --workspace --bins --features stint-server/faults
# The MSI test installs the cross-compiled stint.exe under Wine.
cargo build --locked --target x86_64-pc-windows-gnu --bin stint --bin stint-tray
# The fleet back end, PostgreSQL and S3, for the tests that need them (they say
# NOT RUN without); stopped however the run ends.
ENGINES=$(mktemp -d /tmp/stint-engines.XXXXXX)
chmod 755 "$ENGINES" # the cluster's unprivileged owner must reach its directory
trap 'bash scripts/s3.sh stop "$ENGINES/s3"; bash scripts/postgres.sh stop "$ENGINES/pg"; rm -rf "$ENGINES"' EXIT
STINT_TEST_POSTGRES=$(bash scripts/postgres.sh start "$ENGINES/pg" 55432)
STINT_TEST_S3=$(bash scripts/s3.sh start "$ENGINES/s3")
export STINT_TEST_POSTGRES STINT_TEST_S3 STINT_TEST_S3_DIR="$ENGINES/s3"
# The CA of the cluster's TLS certificate, for the sslmode tests.
export STINT_TEST_POSTGRES_CA="$ENGINES/pg/ca.crt"
# Tests that cannot run here append why to this file (the harness hides a
# passing test's output); it is printed at the end.
export STINT_TEST_NOT_RUN="$ENGINES/not-run.txt"
: >"$STINT_TEST_NOT_RUN"
cargo test --locked --workspace
# The server again on the fleet back end: its store tests on PostgreSQL, and the
# integration tests of the web UI, uploads and limits against PostgreSQL + S3.
STINT_TEST_STORE=postgres cargo test --locked -p stint-server --features faults --lib
STINT_TEST_SERVER_BACKEND=fleet cargo test --locked --test it -- web sync:: server_limits work:: api_people webhooks privacy::private
if [ -s "$STINT_TEST_NOT_RUN" ]; then
  echo "test.sh: tests that could not run here, and why:"
  sort -u "$STINT_TEST_NOT_RUN" | sed 's/^/  /'
else
  echo "test.sh: every test ran"
fi
# Disk is a CI limit too (a clean run once ran out of it): say what the build took.
du -sh "${CARGO_TARGET_DIR:-target}" | sed 's/^/test.sh: build directory size /'
