#!/bin/sh
# The HTML report is checked in a real browser: install Debian's chromium when it is missing.
set -e
command -v chromium >/dev/null 2>&1 && exit 0
echo "installing Debian's chromium with apt-get (the tests render the HTML report headless)"
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
