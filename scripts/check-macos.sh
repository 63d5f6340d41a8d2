#!/usr/bin/env bash
#! Type-checks and lints the whole workspace for macOS on Linux, so macOS code is
#! checked on every run and not only in the macOS CI job. Nothing is linked: C in
#! dependencies goes to a stand-in compiler (scripts/macos-check/cc), and the one
#! bindgen crate that needs the macOS SDK gets a stand-in for its generated file.
set -euo pipefail
cd "$(dirname "$0")/.."
target=aarch64-apple-darwin
here=$PWD/scripts/macos-check
export CC_aarch64_apple_darwin=$here/cc CXX_aarch64_apple_darwin=$here/cc AR_aarch64_apple_darwin=ar
# appkit-nsworkspace-bindings (from active-win-pos-rs) runs bindgen only when its
# build script itself runs on macOS; here it leaves OUT_DIR empty. Running the
# build script first creates that directory, then the stand-in goes in.
cargo check --locked --target "$target" -p appkit-nsworkspace-bindings >/dev/null 2>&1 || true
found=0
for out in "${CARGO_TARGET_DIR:-target}/$target"/debug/build/appkit-nsworkspace-bindings-*/out; do
  [ -d "$out" ] || continue
  cmp -s "$here/nsworkspace.rs" "$out/nsworkspace.rs" || cp "$here/nsworkspace.rs" "$out/"
  found=1
done
[ "$found" = 1 ] || { echo "check-macos: no OUT_DIR for appkit-nsworkspace-bindings under ${CARGO_TARGET_DIR:-target}/$target" >&2; exit 1; }
cargo clippy --locked --workspace --all-targets --target "$target" -- -D warnings
