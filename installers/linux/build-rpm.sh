#!/usr/bin/env bash
#! Builds stint-<version>-1.<arch>.rpm with rpmbuild from the same files and
#! maintainer logic as the .deb (postinst is shared: it writes the managed config
#! /etc/stint/stint.toml from STINT_SERVER_URL / STINT_ENROLL_TOKEN).
#
# Usage: installers/linux/build-rpm.sh [--binary PATH] [--out DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/installers/linux"
binary="$root/target/release/stint"
out="$root/target/installers"
while (($#)); do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "build-rpm.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
tray="$(dirname "$binary")/stint-tray"
if [ ! -x "$binary" ] || [ ! -x "$tray" ]; then
  (cd "$root" && cargo build --release --locked --bin stint --bin stint-tray)
fi
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)"
top="$(mktemp -d)"
trap 'rm -rf "$top"' EXIT
stage="$top/stage"
# shellcheck source=installers/linux/stage.sh
source "$here/stage.sh"

# rpm runs %post with "1" on install and "2" on upgrade; the shared script wants
# dpkg's "configure". %postun "0" is the final erase: the rpm way to purge.
cat > "$top/stint.spec" <<SPEC
Name: stint
Version: $version
Release: 1
Summary: Privacy-minded desktop time-tracking agent
License: Apache-2.0
URL: https://github.com/stint-dev/stint
Requires: gtk3, (libayatana-appindicator-gtk3 or libappindicator-gtk3)
AutoReqProv: yes

%description
Records per-minute keystroke and click counts (never which keys), the active
window and periodic screenshots into a local queue and uploads them to a
stint-server. Starts at every user's login; a tray icon starts and stops it.

%install
cp -a "$stage/." "%{buildroot}/"

%post
set -- configure
$(sed -e '1d' -e 's/^exit 0$//' "$here/postinst")

%postun
if [ "\$1" = 0 ]; then rm -rf /etc/stint; fi

%files
/usr/bin/stint
/usr/bin/stint-tray
/etc/xdg/autostart/stint.desktop
/usr/share/applications/stint.desktop
/usr/share/icons/hicolor/*/apps/stint.png
/usr/share/gnome-shell/extensions/stint-focus@stint.dev
/usr/share/stint/gnome-shell-legacy
/usr/share/kwin/scripts/stint-focus
%doc /usr/share/doc/stint/stint.example.toml
%doc /usr/share/doc/stint/deploy.md
SPEC
mkdir -p "$out"
rpmbuild -bb --quiet --define "_topdir $top/rpm" --define "_rpmdir $out" \
  --define "_build_id_links none" --define "__strip /bin/true" "$top/stint.spec" >/dev/null
find "$out" -name "stint-$version-1.*.rpm" -newer "$top/stint.spec" | head -1
