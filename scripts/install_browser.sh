#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through its ChromeDriver (no browser download).
# Installs both when missing; a no-op when they are there.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "installing chromium and chromium-driver for the browser tests (apt-get)" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
