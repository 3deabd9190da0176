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

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q --no-install-recommends -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300
          -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
out="$(mktemp)"
trap 'rm -f "$out"' EXIT

cand="$(apt-cache policy caddy 2>/dev/null | awk '/Candidate:/ {print $2}')"
if [[ -z "$cand" || "$cand" == "(none)" ]]; then
  log "apt-get update"
  apt-get -o DPkg::Lock::Timeout=300 update -q >"$out" 2>&1 || { cat "$out" >&2; die "apt-get update failed"; }
fi

log "apt-get install caddy"
if ! apt-get install "${APT_OPTS[@]}" caddy </dev/null >"$out" 2>&1; then
  log "install failed; retrying after apt-get update (stale package lists)"
  apt-get -o DPkg::Lock::Timeout=300 update -q >"$out" 2>&1 || { cat "$out" >&2; die "apt-get update failed"; }
  apt-get install "${APT_OPTS[@]}" caddy </dev/null >"$out" 2>&1 || { cat "$out" >&2; die "apt-get install caddy failed"; }
fi
if [[ "${VERBOSE:-}" == 1 ]]; then cat "$out" >&2; fi

stop_service
has_caddy || die "caddy installed but /usr/bin/caddy lacks the reverse_proxy handler (forward_auth needs it)"
exit 0
