#!/usr/bin/env bash
# The openssl CLI, with which the SMTP tests (src/notify/channels/email/sender.test.ts) make a self-signed
# certificate for STARTTLS and implicit TLS. Idempotent, non-interactive; a no-op when present
# (it usually is: ca-certificates depends on it).
set -euo pipefail
command -v openssl >/dev/null 2>&1 && exit 0
[[ "$(id -u)" == 0 ]] || { echo "install-openssl: must run as root (apt-get install)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 openssl </dev/null >/dev/null 2>&1 || {
  apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null 2>&1
  apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 openssl </dev/null
}
command -v openssl >/dev/null 2>&1 || { echo "install-openssl: openssl still missing" >&2; exit 1; }
