#!/usr/bin/env bash
# Builds the container's base image without an image registry (none is reachable here): Debian
# bookworm by `debootstrap --variant=minbase` from the Debian mirror this machine's apt uses, with
# libatomic1 (the Node binary links it; minbase lacks it, and a build cannot count on a network), packed
# into a tarball and imported with `podman import` as the tag given (default vigil-base:bookworm).
#
# The tarball is cached under $VIGIL_DIST_CACHE (default /var/cache/vigil-dist), keyed by the mirror
# and the day, so CI builds it once a day (about 2 min) and imports it in seconds otherwise.
# Idempotent; prints the image tag on stdout, progress on stderr. Needs root (debootstrap, podman).
set -euo pipefail

tag="${1:-vigil-base:bookworm}"
cache="${VIGIL_DIST_CACHE:-/var/cache/vigil-dist}"
log() { echo "base-image: $*" >&2; }

# The first bookworm deb line of apt's sources (deb822 .sources or one-line .list).
mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    uri="$(awk '/^URIs:/ {print $2; exit}' "$f")"
    if [[ -n "$uri" && "$uri" != *security* ]]; then echo "$uri"; return; fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    uri="$(awk '$1 == "deb" && $0 ~ /bookworm/ && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' "$f")"
    if [[ -n "$uri" ]]; then echo "$uri"; return; fi
  done
  echo http://deb.debian.org/debian
}

if podman --runtime runc image exists "$tag"; then
  echo "$tag"
  exit 0
fi

m="$(mirror)"
include=libatomic1
key="$(printf '%s %s' "$m" "$include" | sha256sum | cut -c1-12)"
tarball="$cache/bookworm-minbase-$(date -u +%Y%m%d)-$key.tar"
mkdir -p "$cache"
if [[ ! -s "$tarball" ]]; then
  root="$(mktemp -d "$cache/rootfs.XXXXXX")"
  trap 'rm -rf "$root"' EXIT
  log "debootstrap --variant=minbase bookworm from $m (a few minutes)"
  debootstrap --variant=minbase --include="$include" bookworm "$root" "$m" >"$cache/debootstrap.log" 2>&1 || {
    tail -20 "$cache/debootstrap.log" >&2
    exit 1
  }
  # Smaller image: no apt lists or package cache.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
  # Older days' tarballs of any mirror: one is enough.
  find "$cache" -maxdepth 1 -name 'bookworm-minbase-*.tar' ! -path "$tarball" -delete
fi
log "podman import $tarball as $tag"
podman --runtime runc import --change 'CMD ["/bin/bash"]' "$tarball" "$tag" >/dev/null
echo "$tag"
