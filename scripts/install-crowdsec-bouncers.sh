#!/usr/bin/env bash
# Install the real CrowdSec bouncers (Debian bookworm packages) WITHOUT a local
# crowdsec engine, for compatibility tests against any LAPI URL.
#
#   crowdsec-custom-bouncer   0.0.15   (/usr/bin/crowdsec-custom-bouncer)
#   crowdsec-firewall-bouncer 0.0.25   (/usr/bin/crowdsec-firewall-bouncer)
#   nftables                           (/usr/sbin/nft, used by the firewall bouncer)
#
# Idempotent, non-interactive (no stdin needed), quiet unless something fails.
# Fast path: when everything is already installed apt is not touched at all.
# `--no-install-recommends` matters: both bouncers Recommend `crowdsec`, whose
# postinst fails without internet (see crowdsec-wire-protocol.md §1).
#
# The packages ship systemd units; they are never left running: this container
# has no systemd as PID 1 and /usr/sbin/policy-rc.d refuses service starts, but
# we still stop/disable them defensively so nothing binds to or polls
# 127.0.0.1:8080 behind the tests' back. Tests run the binaries by hand with
# their own config (test/support/crowdsec-bouncers.ts).
set -euo pipefail

PKGS=(crowdsec-custom-bouncer crowdsec-firewall-bouncer nftables)
BINS=(/usr/bin/crowdsec-custom-bouncer /usr/bin/crowdsec-firewall-bouncer /usr/sbin/nft)
UNITS=(crowdsec-custom-bouncer.service crowdsec-firewall-bouncer.service)

log() { if [[ "${VERBOSE:-}" == 1 ]]; then echo "install-crowdsec-bouncers: $*" >&2; fi; }
die() { echo "install-crowdsec-bouncers: $*" >&2; exit 1; }

[[ "$(id -u)" == 0 ]] || die "must run as root (apt-get install)"

is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

all_present() {
  local p b
  for p in "${PKGS[@]}"; do is_installed "$p" || return 1; done
  for b in "${BINS[@]}"; do [[ -x "$b" ]] || return 1; done
}

stop_services() {
  # Never fatal: there is usually no running systemd here at all.
  local u
  for u in "${UNITS[@]}"; do
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
      systemctl stop "$u" >/dev/null 2>&1 || true
      systemctl disable "$u" >/dev/null 2>&1 || true
    fi
  done
  # Bouncers started by anything else with the packaged config (not ours: ours
  # use a config under the test's workDir).
  local pid cmd
  for pid in $(pgrep -x crowdsec-custom || true) $(pgrep -x crowdsec-firewa || true); do
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    if [[ "$cmd" == *"/etc/crowdsec/bouncers/"* ]]; then
      log "stopping packaged bouncer pid $pid ($cmd)"
      kill "$pid" 2>/dev/null || true
    fi
  done
}

if all_present; then
  log "already installed"
  stop_services
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q --no-install-recommends -o Dpkg::Use-Pty=0
          -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
out="$(mktemp)"
trap 'rm -f "$out"' EXIT

# apt-get update only when the lists have no candidate for one of the packages
# (fresh machine) or when the install fails (stale lists -> 404 on a .deb).
need_update=0
for p in "${PKGS[@]}"; do
  cand="$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')"
  if [[ -z "$cand" || "$cand" == "(none)" ]]; then need_update=1; fi
done
if [[ "$need_update" == 1 ]]; then
  log "apt-get update"
  apt-get update -q >"$out" 2>&1 || { cat "$out" >&2; die "apt-get update failed"; }
fi

log "apt-get install ${PKGS[*]}"
if ! apt-get install "${APT_OPTS[@]}" "${PKGS[@]}" </dev/null >"$out" 2>&1; then
  if [[ "$need_update" == 0 ]]; then
    log "install failed; retrying after apt-get update"
    apt-get update -q >"$out" 2>&1 || { cat "$out" >&2; die "apt-get update failed"; }
    apt-get install "${APT_OPTS[@]}" "${PKGS[@]}" </dev/null >"$out" 2>&1 \
      || { cat "$out" >&2; die "apt-get install failed"; }
  else
    cat "$out" >&2
    die "apt-get install failed"
  fi
fi
if [[ "${VERBOSE:-}" == 1 ]]; then cat "$out" >&2; fi

all_present || die "packages installed but binaries missing: ${BINS[*]}"
stop_services
exit 0
