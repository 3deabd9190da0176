#!/usr/bin/env bash
# Install Debian's nginx (bookworm, 1.22, built with http_auth_request_module) for the
# forward-auth end-to-end test (test/forward-auth-nginx.test.ts), and its stream module
# (libnginx-mod-stream: `proxy_protocol on` towards the Local API, test/lapi-behind-proxy.test.ts). The test runs nginx itself,
# as the current user, with its own configuration, pid file and logs in a temporary directory;
# the packaged service is never used.
#
# Idempotent, non-interactive (no stdin needed), quiet unless something fails (VERBOSE=1 for
# details). Waits for the dpkg lock when another apt runs. Fast path: when nginx with auth_request is present apt is not touched at all.
# The package's postinst would start the service: this container's /usr/sbin/policy-rc.d refuses
# service starts, and we stop/disable it anyway when systemd is running, so nothing binds :80.
set -euo pipefail

log() { if [[ "${VERBOSE:-}" == 1 ]]; then echo "install-nginx: $*" >&2; fi; }
die() { echo "install-nginx: $*" >&2; exit 1; }

has_auth_request() {
  [[ -x /usr/sbin/nginx ]] && /usr/sbin/nginx -V 2>&1 | grep -q -- '--with-http_auth_request_module'
}

stop_service() {
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl stop nginx.service >/dev/null 2>&1 || true
    systemctl disable nginx.service >/dev/null 2>&1 || true
  fi
}

STREAM_MODULE=/usr/lib/nginx/modules/ngx_stream_module.so

if has_auth_request && [[ -f "$STREAM_MODULE" ]]; then
  log "already installed"
  exit 0
fi

[[ "$(id -u)" == 0 ]] || die "must run as root (apt-get install)"

# shellcheck source=scripts/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
apt_install nginx libnginx-mod-stream

stop_service
has_auth_request || die "nginx installed but /usr/sbin/nginx lacks http_auth_request_module"
[[ -f "$STREAM_MODULE" ]] || die "libnginx-mod-stream installed but $STREAM_MODULE is missing"
exit 0
