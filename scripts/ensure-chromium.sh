#!/usr/bin/env bash
# Install Debian's Chromium when it is missing; the browser tests drive it with Playwright.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
else
  echo "Chromium is missing: install it (sudo apt-get install chromium) for the browser tests." >&2
  exit 1
fi
