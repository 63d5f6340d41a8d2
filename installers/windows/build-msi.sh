#!/usr/bin/env bash
#! Builds target/installers/stint-<version>-x64.msi from stint.wxs with wixl
#! (msitools), around a cross-compiled stint.exe.
#
# Usage: installers/windows/build-msi.sh [--binary PATH/stint.exe] [--out DIR]
# (stint-tray.exe is taken from beside stint.exe)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
binary="$root/target/x86_64-pc-windows-gnu/release/stint.exe"
out="$root/target/installers"
while (($#)); do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "build-msi.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
tray="$(dirname "$binary")/stint-tray.exe"
if [ ! -f "$binary" ] || [ ! -f "$tray" ]; then
  (cd "$root" && cargo build --release --locked --target x86_64-pc-windows-gnu --bin stint --bin stint-tray)
fi
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)"
mkdir -p "$out"
stripped="$(mktemp -d)"
trap 'rm -rf "$stripped"' EXIT
x86_64-w64-mingw32-objcopy --strip-debug "$binary" "$stripped/stint.exe"
x86_64-w64-mingw32-objcopy --strip-debug "$tray" "$stripped/stint-tray.exe"
mkdir -p "$stripped/assets/icons"
cp "$root/assets/stint.example.toml" "$stripped/assets/"
cp "$root/assets/icons/stint.ico" "$stripped/assets/icons/"
msi="$(cd "$out" && pwd)/stint-$version-x64.msi"
# wixl resolves sources relative to the working directory and rejects absolute ones.
(cd "$stripped" && wixl --arch x64 -D Version="$version" -D Binary=stint.exe -D TrayBinary=stint-tray.exe -D Assets=assets \
  -o "$msi" "$root/installers/windows/stint.wxs")
echo "$msi"
