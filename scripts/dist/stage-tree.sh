#!/usr/bin/env bash
# Lays out Vigil as the Debian package and the container image install it, under DIR (a root):
#   DIR/usr/lib/vigil   Vigil built to JavaScript (scripts/build.sh), its production node_modules as
#                       npm ci resolved them (no registry needed), and its own Node.js runtime
#                       (node/bin/node: the `node` devDependency's binary; Debian's Node is too old)
#   DIR/usr/bin/vigil   runs it on that Node (packaging/deb/vigil)
# Usage: bash scripts/dist/stage-tree.sh DIR   (after npm ci)
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
stage="${1:?usage: stage-tree.sh DIR}"
die() { echo "stage-tree: $*" >&2; exit 1; }
node_bin="$(readlink -f node_modules/node/bin/node 2>/dev/null || true)"
[[ -x "$node_bin" ]] || die "no Node runtime in node_modules/node/bin/node: run npm ci first"
case "$(uname -m)" in x86_64) prebuild=linux-x64 ;; aarch64) prebuild=linux-arm64 ;; *) die "no better-sqlite3 prebuild for $(uname -m)" ;; esac
lib="$stage/usr/lib/vigil"
rm -rf "$lib"

PATH="$root/node_modules/.bin:$PATH" bash scripts/build.sh
mkdir -p "$lib/bin" "$lib/node/bin" "$lib/node_modules"
cp -a bin/vigil.js "$lib/bin/"
cp -a dist "$lib/dist"
# Source maps and declarations are for developers; the package runs the JavaScript only.
find "$lib/dist" \( -name '*.d.ts' -o -name '*.map' \) -delete
"$node_bin" -e '
  const p = require("./package.json");
  for (const k of ["devDependencies", "scripts", "allowScripts", "files"]) delete p[k];
  process.stdout.write(JSON.stringify(p, null, 2) + "\n");' >"$lib/package.json"
install -m 0755 "$node_bin" "$lib/node/bin/node"

# The production dependencies, as npm resolved them in node_modules (no registry needed). npm ls
# exits 1 on a tree it finds odd (extraneous packages in a shared node_modules): the list is still
# complete, and the better-sqlite3 check below catches a missing one.
{ npm ls --omit=dev --all --parseable 2>/dev/null || true; } |
  tail -n +2 | sed "s|^$root/||" | sort -u | while read -r dir; do
    [[ -e "$lib/$dir" ]] && continue
    mkdir -p "$lib/$(dirname "$dir")"
    cp -a "$dir" "$lib/$dir"
  done
[[ -d "$lib/node_modules/better-sqlite3" ]] || die "better-sqlite3 missing from the production dependencies"
# better-sqlite3: only this architecture's prebuilt binary; not its C sources.
bs="$lib/node_modules/better-sqlite3"
rm -rf "$bs/deps" "$bs/src"
find "$bs/prebuilds" -type f ! -name "$prebuild.node" -delete
rm -rf "$lib"/node_modules/@types "$lib"/node_modules/.package-lock.json

install -D -m 0755 packaging/deb/vigil "$stage/usr/bin/vigil"
