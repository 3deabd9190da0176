#!/usr/bin/env bash
# Debian's chromium (and a font) for the dashboard's browser tests (test/web-browser.test.ts),
# driven by playwright-core; no browser is ever downloaded from the internet.
# Idempotent, non-interactive (no stdin), a no-op when already installed.
# `--no-install-recommends`: the recommended extras (chromium-sandbox, upower, …) are not needed
# headless; the tests pass --no-sandbox because CI runs as root.
set -euo pipefail
PKGS=(chromium fonts-dejavu-core)
is_installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]; }
all_present() {
  local p
  for p in "${PKGS[@]}"; do is_installed "$p" || return 1; done
  [[ -x /usr/bin/chromium ]]
}
all_present && exit 0
[[ "$(id -u)" == 0 ]] || { echo "install-chromium: must run as root (apt-get install)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
APT=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=300)
apt-get install "${APT[@]}" "${PKGS[@]}" </dev/null >/dev/null 2>&1 || {
  # Stale or missing package lists (fresh machine): refresh once and try again, loudly.
  apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null 2>&1
  apt-get install "${APT[@]}" "${PKGS[@]}" </dev/null
}
all_present || { echo "install-chromium: /usr/bin/chromium still missing after apt-get install" >&2; exit 1; }
