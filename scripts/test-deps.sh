#!/usr/bin/env bash
# What the tests need from Debian: real SOCKS5 and HTTP CONNECT proxies (the tests start their own instances),
# promtool and systemd-analyze.
# Works as root (no sudo on a fresh machine) and as a user with sudo.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
missing=()
command -v danted >/dev/null 2>&1 || missing+=(dante-server)
command -v microsocks >/dev/null 2>&1 || missing+=(microsocks)
command -v tinyproxy >/dev/null 2>&1 || missing+=(tinyproxy)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)          # promtool checks the metrics output
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)      # systemd-analyze verifies the units
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# apt may start them as services; the tests want their own instances only.
for s in danted tinyproxy prometheus; do (systemctl stop "$s" || service "$s" stop) >/dev/null 2>&1 || true; done
# The real Codex CLI (about 400 MB, a native binary) for the tests that run a Codex turn through serve: installed
# into a cache directory, not as a dependency of the package. The version is the one the tests were measured with.
codex_version=0.171.0
codex_dir="${XDG_CACHE_HOME:-$HOME/.cache}/refresher-test/codex-$codex_version"
if [ ! -x "$codex_dir/node_modules/.bin/codex" ]; then
  npm install --prefix "$codex_dir" --no-save --no-package-lock --no-audit --no-fund "@openai/codex@$codex_version" >/dev/null
fi
