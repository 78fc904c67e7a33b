#!/bin/sh
# Programs the tests use from Debian: chromium (the HTML report is checked in a real browser) and strace (a
# repair, a compare and an export are killed at each rename(2) to show that nothing is lost or mixed).
set -e
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v strace >/dev/null 2>&1 || missing="$missing strace"
[ -z "$missing" ] && exit 0
echo "installing Debian's$missing with apt-get (used by the tests)"
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
