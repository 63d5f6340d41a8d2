#!/usr/bin/env bash
#! The file tree both Linux packages install, staged under one root.
#! Sourced by build-deb.sh and build-rpm.sh after they set $root, $here,
#! $binary, $tray and $stage.
# shellcheck disable=SC2154 # those variables come from the sourcing script

install -d "$stage/usr/bin" "$stage/etc/xdg/autostart" "$stage/usr/share/applications" \
  "$stage/usr/share/doc/stint"
# Debug info stays out of the package; it is 90 % of a debug build's size.
objcopy --strip-debug "$binary" "$stage/usr/bin/stint"
objcopy --strip-debug "$tray" "$stage/usr/bin/stint-tray"
chmod 0755 "$stage/usr/bin/stint" "$stage/usr/bin/stint-tray"
install -m 0644 "$here/stint.desktop" "$stage/etc/xdg/autostart/stint.desktop"
install -m 0644 "$here/stint.desktop" "$stage/usr/share/applications/stint.desktop"
for png in "$root"/assets/icons/hicolor/*/apps/stint.png; do
  rel="${png#"$root"/assets/icons/}"
  install -D -m 0644 "$png" "$stage/usr/share/icons/$rel"
done
install -m 0644 "$root/assets/stint.example.toml" "$root/docs/deploy.md" "$stage/usr/share/doc/stint/"
# Wayland: GNOME and KWin show the focused window only to their own extensions
# and scripts. The Shell extension for GNOME 45+ goes where GNOME finds it; the
# older format for GNOME 40-44 waits beside it, and postinst swaps it in there.
ext="$stage/usr/share/gnome-shell/extensions/stint-focus@stint.dev"
install -D -m 0644 -t "$ext" "$here"/gnome-shell/stint-focus@stint.dev/metadata.json \
  "$here"/gnome-shell/stint-focus@stint.dev/extension.js
install -D -m 0644 -t "$stage/usr/share/stint/gnome-shell-legacy" \
  "$here"/gnome-shell/legacy/metadata.json "$here"/gnome-shell/legacy/extension.js
kwin="$stage/usr/share/kwin/scripts/stint-focus"
install -D -m 0644 "$here/kwin/stint-focus/metadata.json" "$kwin/metadata.json"
install -D -m 0644 "$here/kwin/stint-focus/contents/code/main.js" "$kwin/contents/code/main.js"
