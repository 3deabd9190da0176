#!/usr/bin/env bash
# Install Debian's Prometheus (bookworm) for its `promtool`: test/prometheus-rules.test.ts runs
# `promtool check rules` and `promtool test rules` on the alert rules docs/operations.md ships
# (docs/prometheus/vigil.rules.yml). The packaged service is never used: this container's
# policy-rc.d refuses service starts, and it is stopped and disabled where systemd runs.
#
# Idempotent, non-interactive, quiet unless something fails (VERBOSE=1 for details). Fast path:
# when promtool is present apt is not touched.
set -euo pipefail

log() { if [[ "${VERBOSE:-}" == 1 ]]; then echo "install-promtool: $*" >&2; fi; }
die() { echo "install-promtool: $*" >&2; exit 1; }

stop_service() {
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi
}

if command -v promtool >/dev/null 2>&1; then
  log "already installed"
  exit 0
fi

[[ "$(id -u)" == 0 ]] || die "must run as root (apt-get install)"

# shellcheck source=scripts/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
apt_install prometheus

stop_service
command -v promtool >/dev/null 2>&1 || die "prometheus installed but promtool is not on PATH"
exit 0
