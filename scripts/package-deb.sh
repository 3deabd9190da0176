#!/usr/bin/env bash
# `npm run package:deb`: builds build/packages/vigil_<version>_<arch>.deb with dpkg-deb, no debhelper:
#   /usr/lib/vigil, /usr/bin/vigil   Vigil with its own Node.js (scripts/dist/stage-tree.sh)
#   /etc/vigil/vigil.yaml   conffile (packaging/deb/vigil.yaml)
#   /lib/systemd/system/    vigil.service, vigil-watch.service (packaging/systemd/)
# postinst adds the vigil system user and /var/lib/vigil (0700); purge removes them.
# VIGIL_DEB_VERSION overrides the version (default: package.json's); VIGIL_DEB_OUT the output folder.
# Needs node_modules (npm ci) and dpkg-dev; run as any user (file owners are set to root by dpkg-deb).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
log() { echo "package-deb: $*" >&2; }
die() { echo "package-deb: $*" >&2; exit 1; }

command -v dpkg-deb >/dev/null || die "dpkg-deb not found: bash scripts/install-dist-tools.sh (package dpkg-dev)"
[[ -x node_modules/node/bin/node ]] || die "no Node runtime in node_modules/node/bin/node: run npm ci first"
version="${VIGIL_DEB_VERSION:-$(node_modules/node/bin/node -p 'require("./package.json").version')}"
arch="$(dpkg --print-architecture)"
out="${VIGIL_DEB_OUT:-$root/build/packages}"
stage="$(mktemp -d "${TMPDIR:-/tmp}/vigil-deb.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"

log "building Vigil $version ($arch)"
bash scripts/dist/stage-tree.sh "$stage"
install -D -m 0644 packaging/deb/vigil.yaml "$stage/etc/vigil/vigil.yaml"
install -D -m 0644 packaging/systemd/vigil.service "$stage/lib/systemd/system/vigil.service"
install -D -m 0644 packaging/systemd/vigil-watch.service "$stage/lib/systemd/system/vigil-watch.service"
install -d "$stage/usr/share/doc/vigil"
cp -a README.md docs "$stage/usr/share/doc/vigil/"

mkdir -p "$stage/DEBIAN"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$stage/DEBIAN/"
echo /etc/vigil/vigil.yaml >"$stage/DEBIAN/conffiles"
size_kb="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: vigil
Version: $version
Architecture: $arch
Maintainer: Vigil developers <vigil@localhost>
Installed-Size: $size_kb
Depends: adduser, libc6 (>= 2.28), libstdc++6, libatomic1
Recommends: systemd
Section: net
Priority: optional
Description: CrowdSec-compatible Local API that notices silent bouncers
 Vigil serves the CrowdSec Local API (bouncers, agents and cscli switch to it
 unchanged) and runs a health engine that notices when a remediation component
 stops pulling decisions, says why and how to fix it. Brings its own Node.js.
CONTROL

mkdir -p "$out"
deb="$out/vigil_${version}_${arch}.deb"
# gzip -6: a fraction of xz's (and gzip -9's) build time for a few MB more.
dpkg-deb --root-owner-group -Zgzip -z6 --build "$stage" "$deb" >/dev/null
log "built $deb ($(du -h "$deb" | cut -f1))"
echo "$deb"
