#!/usr/bin/env bash
#! Builds stint_<version>_<arch>.deb with dpkg-deb: the binary, icons, an XDG
#! autostart entry for every user, and maintainer scripts that write the managed
#! config /etc/stint/stint.toml from STINT_SERVER_URL / STINT_ENROLL_TOKEN.
#
# Usage: installers/linux/build-deb.sh [--binary PATH] [--out DIR] [--fast]
#   --binary  the stint executable; stint-tray is taken from beside it
#             (default: target/release/stint, built if missing)
#   --out     where the .deb goes (default: target/installers)
#   --fast    gzip -1 instead of xz (tests)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/installers/linux"
binary="$root/target/release/stint"
out="$root/target/installers"
compress=(-Zxz)
while (($#)); do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --fast) compress=(-Zgzip -z1); shift ;;
    *) echo "build-deb.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
tray="$(dirname "$binary")/stint-tray"
if [ ! -x "$binary" ] || [ ! -x "$tray" ]; then
  (cd "$root" && cargo build --release --locked --bin stint --bin stint-tray)
fi
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)"
arch="$(dpkg --print-architecture)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

# shellcheck source=installers/linux/stage.sh
source "$here/stage.sh"
install -d "$stage/DEBIAN"
install -m 0755 "$here/postinst" "$here/postrm" "$stage/DEBIAN/"

# Shared-library dependencies as dpkg-shlibdeps works them out, plus the
# AppIndicator library the tray loads at run time.
shlib="$(mktemp -d)"
mkdir -p "$shlib/debian"
printf 'Source: stint\n\nPackage: stint\nArchitecture: any\n' > "$shlib/debian/control"
depends="$(cd "$shlib" && dpkg-shlibdeps -O -e "$stage/usr/bin/stint" -e "$stage/usr/bin/stint-tray" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
rm -rf "$shlib"
depends="${depends:+$depends, }libayatana-appindicator3-1 | libappindicator3-1"
size="$(du -ks "$stage" | cut -f1)"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: stint
Version: $version
Architecture: $arch
Maintainer: stint developers <stint@example.org>
Installed-Size: $size
Depends: $depends
Section: utils
Priority: optional
Homepage: https://github.com/stint-dev/stint
Description: privacy-minded desktop time-tracking agent
 Records per-minute keystroke and click counts (never which keys), the active
 window and periodic screenshots into a local queue and uploads them to a
 stint-server. Starts at every user's login; a tray icon starts and stops it.
CONTROL
mkdir -p "$out"
deb="$out/stint_${version}_${arch}.deb"
dpkg-deb --root-owner-group "${compress[@]}" --build "$stage" "$deb" >/dev/null
echo "$deb"
