# Sourced by the install-*.sh scripts: `apt_install PKG...` installs Debian packages
# non-interactively, quietly (VERBOSE=1 shows apt's output), waiting for the dpkg lock when another
# apt runs, refreshing the package lists only when they lack a candidate or the install fails on
# stale lists. Uses the caller's log() and die().
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  local opts=(-y -q --no-install-recommends -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300
              -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  local out p cand
  out="$(mktemp)"
  for p in "$@"; do
    cand="$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')"
    if [[ -z "$cand" || "$cand" == "(none)" ]]; then
      log "apt-get update"
      apt-get -o DPkg::Lock::Timeout=300 update -q >"$out" 2>&1 || { cat "$out" >&2; rm -f "$out"; die "apt-get update failed"; }
      break
    fi
  done
  log "apt-get install $*"
  if ! apt-get install "${opts[@]}" "$@" </dev/null >"$out" 2>&1; then
    log "install failed; retrying after apt-get update (stale package lists)"
    apt-get -o DPkg::Lock::Timeout=300 update -q >"$out" 2>&1 || { cat "$out" >&2; rm -f "$out"; die "apt-get update failed"; }
    apt-get install "${opts[@]}" "$@" </dev/null >"$out" 2>&1 || { cat "$out" >&2; rm -f "$out"; die "apt-get install $* failed"; }
  fi
  if [[ "${VERBOSE:-}" == 1 ]]; then cat "$out" >&2; fi
  rm -f "$out"
}
