#!/bin/sh
# stint uninstaller (macOS), installed as
# "/Library/Application Support/stint/uninstall.sh"; run it with sudo. It stops
# the agent in every GUI session, then removes what the pkg installed and the
# managed config. Each user's recorded data stays in their own Library until
# they delete it.
set -e
[ "$(id -u)" = 0 ] || { echo "uninstall.sh: run it with sudo" >&2; exit 1; }
PLIST=/Library/LaunchAgents/org.stint.agent.plist
# Every user with a GUI session has the agent loaded in gui/<uid>.
for uid in $(ps -axo uid=,comm= | awk '$2 ~ /loginwindow$/ { print $1 }' | sort -u); do
  launchctl bootout "gui/$uid/org.stint.agent" 2>/dev/null || true
done
rm -f /usr/local/bin/stint /usr/local/bin/stint-tray "$PLIST"
rm -rf "/Library/Application Support/stint"
pkgutil --forget org.stint.agent >/dev/null 2>&1 || true
echo "stint removed"
