#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the page tests (tests/web/, python playwright).
# Idempotent: does nothing when /usr/bin/chromium exists. Exit codes: 0 ready, 3 apt unavailable,
# 1 apt failed. Needs root (or passwordless sudo) the first time.
set -euo pipefail

BROWSER=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$BROWSER" ]; then
    echo "chromium: $BROWSER"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "apt-get is not available on this machine; install Chromium yourself and set CHROMIUM=/path/to/chromium" >&2
    exit 3
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "installing chromium needs root (apt-get install -y chromium); run this script as root once" >&2
        exit 3
    fi
fi
export DEBIAN_FRONTEND=noninteractive
# An update only when the package is unknown to the local index (saves a network round trip).
if ! apt-cache show chromium >/dev/null 2>&1; then
    $SUDO apt-get update -qq
fi
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
if [ ! -x "$BROWSER" ]; then
    echo "apt-get installed chromium but $BROWSER is missing" >&2
    exit 1
fi
echo "chromium: $BROWSER ($("$BROWSER" --version 2>/dev/null || echo 'version unknown'))"
