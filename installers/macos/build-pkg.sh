#!/usr/bin/env bash
#! Builds target/installers/stint-<version>.pkg on macOS with pkgbuild: the
#! binaries in /usr/local/bin, a LaunchAgent for every user, an uninstall script,
#! and a postinstall that writes the managed config. Runs in the macOS CI job;
#! it cannot run on Linux.
#
# Usage: installers/macos/build-pkg.sh [--binary PATH] [--out DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/installers/macos"
binary="$root/target/release/stint"
out="$root/target/installers"
while (($#)); do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "build-pkg.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
tray="$(dirname "$binary")/stint-tray"
[ -x "$binary" ] && [ -x "$tray" ] || (cd "$root" && cargo build --release --locked --bin stint --bin stint-tray)
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
install -d "$stage/usr/local/bin" "$stage/Library/LaunchAgents" "$stage/Library/Application Support/stint"
install -m 0755 "$binary" "$stage/usr/local/bin/stint"
install -m 0755 "$tray" "$stage/usr/local/bin/stint-tray"
install -m 0644 "$here/org.stint.agent.plist" "$stage/Library/LaunchAgents/org.stint.agent.plist"
install -m 0644 "$root/assets/stint.example.toml" "$stage/Library/Application Support/stint/stint.example.toml"
install -m 0755 "$here/uninstall.sh" "$stage/Library/Application Support/stint/uninstall.sh"
mkdir -p "$out"
pkg="$out/stint-$version.pkg"
pkgbuild --root "$stage" --scripts "$here/scripts" --identifier org.stint.agent \
  --version "$version" --install-location / "$pkg"
echo "$pkg"
