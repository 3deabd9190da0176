#!/usr/bin/env bash
# Install Debian's MariaDB server binaries (bookworm: 10.11) for the tests that run CrowdSec on
# MySQL/MariaDB (vigil watch's MySQL source). The packaged service is never started or used: tests
# start their own mariadbd with a data dir, socket and port of their own
# (test/support/mariadb-instance.ts).
#
# Idempotent, non-interactive, quiet unless failing (VERBOSE=1 for details). Fast path: when the
# binaries are there, apt is not touched.
set -euo pipefail

log() { if [[ "${VERBOSE:-}" == 1 ]]; then echo "install-mariadb: $*" >&2; fi; }
die() { echo "install-mariadb: $*" >&2; exit 1; }

[[ "$(id -u)" == 0 ]] || die "must run as root (apt-get install)"

present() { [[ -x /usr/sbin/mariadbd && -x /usr/bin/mariadb-install-db && -x /usr/bin/mariadb ]]; }

if ! present; then
  out="$(mktemp)"
  trap 'rm -f "$out"' EXIT
  export DEBIAN_FRONTEND=noninteractive
  opts=(-y -q --no-install-recommends -o Dpkg::Use-Pty=0)
  cand="$(apt-cache policy mariadb-server 2>/dev/null | awk '/Candidate:/ {print $2}')"
  if [[ -z "$cand" || "$cand" == "(none)" ]]; then
    log "apt-get update"
    apt-get update -q >"$out" 2>&1 || { cat "$out" >&2; die "apt-get update failed"; }
  fi
  log "apt-get install mariadb-server"
  apt-get install "${opts[@]}" mariadb-server </dev/null >"$out" 2>&1 || { cat "$out" >&2; die "apt-get install mariadb-server failed"; }
  present || die "mariadb binaries missing after install"
fi

# The packaged service must not run behind the tests' back (there is usually no systemd here, and
# policy-rc.d refuses service starts; this is a safety net).
if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
  systemctl stop mariadb.service >/dev/null 2>&1 || true
  systemctl disable mariadb.service >/dev/null 2>&1 || true
fi
exit 0
