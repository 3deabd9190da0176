#!/usr/bin/env bash
# Builds the installed-package layout: every module of src/ to JavaScript + .d.ts in dist/
# (tsconfig.build.json), and the dashboard's browser files beside the built server code, which
# reads them at run time (src/web/assets.ts). Run by `npm pack` (prepack); a checkout never needs it.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
tsc -p tsconfig.build.json
mkdir -p dist/web/client
cp src/web/client/* dist/web/client/
