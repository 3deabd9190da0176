#!/usr/bin/env bash
# Install Debian's Caddy (bookworm, 2.6.2, with forward_auth) for the forward-auth end-to-end test
# (test/forward-auth-caddy.test.ts). The test runs `caddy run` itself, as the current user, with its
# own Caddyfile on loopback ports and its data and config directories in a temporary directory; the
# packaged service is never used.
#
# Idempotent, non-interactive (no stdin needed), quiet unless something fails (VERBOSE=1 for
# details). Waits for the dpkg lock when another apt runs. Fast path: when caddy is present apt is
# not touched at all.
# The package's postinst would start caddy.service on :80: this container's /usr/sbin/policy-rc.d
# refuses service starts, and we stop/disable it anyway when systemd is running, so nothing binds :80.
set -euo pipefail

log() { if [[ "${VERBOSE:-}" == 1 ]]; then echo "install-caddy: $*" >&2; fi; }
die() { echo "install-caddy: $*" >&2; exit 1; }

has_caddy() {
  # Read the whole list first: with pipefail, grep -q closing the pipe early would fail the check.
  local modules
  [[ -x /usr/bin/caddy ]] && modules="$(/usr/bin/caddy list-modules 2>/dev/null)" && grep -qx 'http.handlers.reverse_proxy' <<<"$modules"
}

stop_service() {
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now caddy.service >/dev/null 2>&1 || true
  fi
}

if has_caddy; then
  log "already installed"
  stop_service
  exit 0
fi

[[ "$(id -u)" == 0 ]] || die "must run as root (apt-get install)"

# shellcheck source=scripts/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
apt_install caddy

stop_service
has_caddy || die "caddy installed but /usr/bin/caddy lacks the reverse_proxy handler (forward_auth needs it)"
exit 0
