#!/bin/sh
# The container's entrypoint: runs vigil (by default `vigil serve`) by exec, so Node is PID 1 and
# signals reach it directly. `vigil serve` itself registers what the environment names, as CrowdSec's
# image does (src/app/env-registrations.ts, docs/configuration.md): BOUNCER_KEY_<name>=<key> or
# BOUNCER_KEY_<name>_FILE, Docker secrets under /run/secrets/bouncer_key_<name>, and
# AGENT_USERNAME / AGENT_PASSWORD(_FILE) for a machine; a changed key replaces the old one.
set -eu
exec /usr/bin/vigil "$@"
