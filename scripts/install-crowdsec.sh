#!/usr/bin/env bash
# Install the real CrowdSec 1.4.6 engine (Debian bookworm package) OFFLINE, for the
# compatibility tests and benchmarks. They never use the installed instance: each starts a
# private one from a copied config in a temporary folder, on free ports
# (test/support/crowdsec-instance.ts), and the suite fails if /etc/crowdsec or
# /var/lib/crowdsec changed (test/support/global-setup.ts).
#
#   scripts/install-crowdsec.sh
#
# An existing install (an operator's own CrowdSec) is left exactly as it is: no
# configuration rewritten, no service stopped.
#
# Idempotent, non-interactive, quiet unless failing (VERBOSE=1 for details).
#
# Offline install (crowdsec-wire-protocol.md §1): the package postinst runs
# `cscli capi register` (network!) when /etc/crowdsec/online_api_credentials.yaml
# is empty. A non-empty file written *before* the install disables that (the
# postinst treats it as "the admin disabled CAPI registration"); should a
# previous attempt have failed anyway, we write it again and run
# `dpkg --configure -a`.
#
# The package's systemd unit is never started (no systemd as PID 1 in this
# container, and /usr/sbin/policy-rc.d refuses service starts); when this script
# installed the package on a host with systemd, it stops and disables that unit.
set -euo pipefail

log() { if [[ "${VERBOSE:-}" == 1 ]]; then echo "install-crowdsec: $*" >&2; fi; }
die() { echo "install-crowdsec: $*" >&2; exit 1; }

[[ "$(id -u)" == 0 ]] || die "must run as root (apt-get install)"

VERSION_PREFIX=1.4.6
CAPI=/etc/crowdsec/online_api_credentials.yaml

pkg_status() { dpkg-query -W -f='${Status} ${Version}' crowdsec 2>/dev/null || true; }

write_capi_placeholder() {
  mkdir -p /etc/crowdsec
  if [[ ! -s "$CAPI" ]]; then
    log "writing placeholder $CAPI (disables CAPI registration in postinst)"
    printf '%s\n' '# Central API disabled (offline install by vigil scripts/install-crowdsec.sh)' >"$CAPI"
    chmod 600 "$CAPI"
  fi
}

out="$(mktemp)"
trap 'rm -f "$out"' EXIT

installed_now=0
st="$(pkg_status)"
if [[ "$st" == "install ok installed "* ]]; then
  log "crowdsec already installed: $st"
elif [[ "$st" == "install ok "* ]]; then
  # Unpacked / half-configured (e.g. a postinst that failed offline).
  log "crowdsec present but not configured ($st): finishing configuration"
  write_capi_placeholder
  DEBIAN_FRONTEND=noninteractive dpkg --force-confold --configure -a </dev/null >"$out" 2>&1 \
    || { cat "$out" >&2; die "dpkg --configure -a failed"; }
else
  write_capi_placeholder
  export DEBIAN_FRONTEND=noninteractive
  APT_OPTS=(-y -q --no-install-recommends -o Dpkg::Use-Pty=0
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  cand="$(apt-cache policy crowdsec 2>/dev/null | awk '/Candidate:/ {print $2}')"
  if [[ -z "$cand" || "$cand" == "(none)" ]]; then
    log "apt-get update"
    apt-get update -q >"$out" 2>&1 || { cat "$out" >&2; die "apt-get update failed"; }
  fi
  log "apt-get install crowdsec"
  if ! apt-get install "${APT_OPTS[@]}" crowdsec </dev/null >"$out" 2>&1; then
    log "apt-get install failed; retrying (update + dpkg --configure -a)"
    write_capi_placeholder
    DEBIAN_FRONTEND=noninteractive dpkg --force-confold --configure -a </dev/null >>"$out" 2>&1 || true
    if [[ "$(pkg_status)" != "install ok installed "* ]]; then
      apt-get update -q >>"$out" 2>&1 || true
      apt-get install "${APT_OPTS[@]}" crowdsec </dev/null >>"$out" 2>&1 || true
      write_capi_placeholder
      DEBIAN_FRONTEND=noninteractive dpkg --force-confold --configure -a </dev/null >>"$out" 2>&1 || true
    fi
  fi
  if [[ "${VERBOSE:-}" == 1 ]]; then cat "$out" >&2; fi
  if [[ "$(pkg_status)" != "install ok installed "* ]]; then
    cat "$out" >&2
    die "crowdsec not installed: $(pkg_status)"
  fi
  installed_now=1
fi

st="$(pkg_status)"
[[ "$st" == "install ok installed $VERSION_PREFIX"* ]] \
  || echo "install-crowdsec: warning: expected crowdsec $VERSION_PREFIX, got: $st" >&2
[[ -x /usr/bin/crowdsec && -x /usr/bin/cscli ]] || die "crowdsec binaries missing"
[[ -s /etc/crowdsec/local_api_credentials.yaml ]] \
  || die "/etc/crowdsec/local_api_credentials.yaml missing (postinst did not register the machine)"

# A service this script just installed is not left running (it would take 127.0.0.1:8080).
if [[ "$installed_now" == 1 && -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
  systemctl stop crowdsec.service >/dev/null 2>&1 || true
  systemctl disable crowdsec.service >/dev/null 2>&1 || true
fi
exit 0
