#!/usr/bin/env bash
# Install Debian's Prometheus Alertmanager (bookworm, 0.25) for the Alertmanager channel's test
# (src/notify/channels/alertmanager/sender.test.ts): the test starts its own `prometheus-alertmanager`
# on a free loopback port with its own config and data directory. The packaged service is never
# used: this container's policy-rc.d refuses service starts, and it is stopped and disabled where
# systemd runs.
#
# Idempotent, non-interactive, quiet unless something fails (VERBOSE=1 for details). Fast path:
# when the binary is present apt is not touched.
set -euo pipefail

log() { if [[ "${VERBOSE:-}" == 1 ]]; then echo "install-alertmanager: $*" >&2; fi; }
die() { echo "install-alertmanager: $*" >&2; exit 1; }

stop_service() {
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now prometheus-alertmanager.service >/dev/null 2>&1 || true
  fi
}

if command -v prometheus-alertmanager >/dev/null 2>&1; then
  log "already installed"
  exit 0
fi

[[ "$(id -u)" == 0 ]] || die "must run as root (apt-get install)"

# shellcheck source=scripts/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
apt_install prometheus-alertmanager

stop_service
command -v prometheus-alertmanager >/dev/null 2>&1 || die "prometheus-alertmanager installed but not on PATH"
exit 0
