#!/usr/bin/env bash
# `npm run package:image`: builds the container image `vigil:<version>` (and `vigil:latest`) from
# the Containerfile, with podman (or docker when podman is absent). Vigil is laid out in
# build/image/ first (scripts/dist/stage-tree.sh): the build needs no registry for Vigil itself.
#   BASE=…           the base image (default the Containerfile's, debian:bookworm-slim); with no
#                    registry reachable: BASE=$(bash scripts/dist/base-image.sh)
#   VIGIL_IMAGE=…    the tag (default vigil:<version>)
#   CONTAINER_ENGINE_ARGS  extra arguments for `podman` (e.g. --runtime runc)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "package-image: $*" >&2; }
engine="$(command -v podman || command -v docker || true)"
[[ -n "$engine" ]] || { echo "package-image: neither podman nor docker found: bash scripts/install-dist-tools.sh" >&2; exit 1; }
version="$(node_modules/node/bin/node -p 'require("./package.json").version')"
tag="${VIGIL_IMAGE:-vigil:$version}"
# vigil:latest too unless a tag was asked for (docs/examples/compose.yaml's default image).
tags=(-t "$tag")
[[ -z "${VIGIL_IMAGE:-}" ]] && tags+=(-t vigil:latest)
ctx=build/image
rm -rf "$ctx"
mkdir -p "$ctx/packaging"
bash scripts/dist/stage-tree.sh "$ctx"
cp -a Containerfile "$ctx/"
cp -a packaging/container "$ctx/packaging/"
args=(build --format docker -f "$ctx/Containerfile" "${tags[@]}")
[[ -n "${BASE:-}" ]] && args+=(--build-arg "BASE=$BASE")
log "$(basename "$engine") ${args[*]} $ctx"
# shellcheck disable=SC2086
"$engine" ${CONTAINER_ENGINE_ARGS:-} "${args[@]}" "$ctx" >&2
echo "$tag"
