#!/usr/bin/env bash
# Install Debian's HAProxy (bookworm, 2.6) for the load-balancer tests (test/lapi-behind-proxy.test.ts):
# `send-proxy-v2` and `option forwardfor` in front of the Local API. The test runs haproxy itself, as the
# current user, with its own configuration in a temporary directory; the packaged service is never used.
#
# Idempotent, non-interactive, quiet unless something fails (VERBOSE=1 for details). Fast path: when
# haproxy is present apt is not touched at all. The package's postinst would start the service: it is
# stopped and disabled when systemd runs, so nothing binds its ports.
set -euo pipefail

log() { if [[ "${VERBOSE:-}" == 1 ]]; then echo "install-haproxy: $*" >&2; fi; }
die() { echo "install-haproxy: $*" >&2; exit 1; }

if [[ -x /usr/sbin/haproxy ]]; then
  log "already installed"
  exit 0
fi

[[ "$(id -u)" == 0 ]] || die "must run as root (apt-get install)"

# shellcheck source=scripts/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
apt_install haproxy

if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
  systemctl stop haproxy.service >/dev/null 2>&1 || true
  systemctl disable haproxy.service >/dev/null 2>&1 || true
fi
[[ -x /usr/sbin/haproxy ]] || die "haproxy installed but /usr/sbin/haproxy is missing"
exit 0
