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
bash scripts/check-macos.sh
# The integration tests drive the stint-server binary; `cargo test` builds only
# the binaries of the package under test, so build every binary first.
cargo build --locked --workspace --bins
# The MSI test installs the cross-compiled stint.exe under Wine.
cargo build --locked --target x86_64-pc-windows-gnu --bin stint --bin stint-tray
cargo test --locked --workspace
