#!/usr/bin/env bash
# Install the Debian tools the distribution tests need (`npm run test:dist`, test/dist/): podman with
# runc (crun refuses this machine's hybrid cgroups), debootstrap (the test builds the container's
# base image itself: no image registry is reachable), podman-compose (the compose.yaml example),
# dpkg-dev (dpkg-deb builds the .deb), the dnsname CNI plugin (compose service names) and systemd (systemd-analyze verify, systemd-notify).
#
# Idempotent, non-interactive (no stdin needed), quiet unless something fails (VERBOSE=1 for
# details). Waits for the dpkg lock when another apt runs. Fast path: when every tool is present apt
# is not touched at all. Installing systemd does not start it: it is not PID 1 here.
set -euo pipefail

log() { if [[ "${VERBOSE:-}" == 1 ]]; then echo "install-dist-tools: $*" >&2; fi; }
die() { echo "install-dist-tools: $*" >&2; exit 1; }

# command → Debian package that brings it
declare -A TOOLS=(
  [podman]=podman
  [runc]=runc
  [debootstrap]=debootstrap
  [podman-compose]=podman-compose
  [dpkg-deb]=dpkg-dev
  [dpkg-architecture]=dpkg-dev
  [systemd-analyze]=systemd
  [systemd-notify]=systemd
)
# Files (not commands) the tests need, and their packages: the dnsname CNI plugin resolves compose
# service names (api_url: http://vigil:8080/) on podman 4.3's CNI networks.
declare -A FILES=(
  [/usr/lib/cni/dnsname]=golang-github-containernetworking-plugin-dnsname
)

missing=()
for cmd in "${!TOOLS[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${TOOLS[$cmd]}")
done
for f in "${!FILES[@]}"; do
  [[ -e "$f" ]] || missing+=("${FILES[$f]}")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  log "already installed"
  exit 0
fi

[[ "$(id -u)" == 0 ]] || die "must run as root (apt-get install)"

# shellcheck source=scripts/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
# Unique package names; slirp4netns/uidmap/fuse-overlayfs come as podman's dependencies or
# recommendations; the tests run podman as root with the vfs or overlay driver and host networking.
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
apt_install "${pkgs[@]}"

for cmd in "${!TOOLS[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd still missing after installing ${TOOLS[$cmd]}"
done
for f in "${!FILES[@]}"; do
  [[ -e "$f" ]] || die "$f still missing after installing ${FILES[$f]}"
done
exit 0
