#!/usr/bin/env bash
# Start / stop the real CrowdSec 1.4.6 Local API (installed by
# scripts/install-crowdsec.sh) in the background, LAPI only:
#   crowdsec -c /etc/crowdsec/config.yaml -no-cs -no-capi
#
#   scripts/crowdsec-lapi.sh start  [LISTEN]   # waits until GET /health answers
#   scripts/crowdsec-lapi.sh stop              # SIGTERM, then SIGKILL after 20 s
#   scripts/crowdsec-lapi.sh status            # exit 0 running, 3 stopped
#   scripts/crowdsec-lapi.sh url               # e.g. http://127.0.0.1:8080
#   scripts/crowdsec-lapi.sh logs              # the LAPI's stdout/stderr so far
#   scripts/crowdsec-lapi.sh reset             # stop, wipe the DB (bouncers, decisions, alerts),
#                                              # re-register the local machine (as postinst does)
#
# LISTEN = PORT | 127.0.0.1:PORT | [::1]:PORT (loopback only), or env
# VIGIL_CROWDSEC_LISTEN; default: whatever /etc/crowdsec/config.yaml has
# (127.0.0.1:8080 after a default install). A LISTEN different from the config
# rewrites api.server.listen_uri there (and the url in
# local_api_credentials.yaml) before starting. One instance at a time (it uses
# the packaged SQLite DB /var/lib/crowdsec/data/crowdsec.db, which cscli also
# uses directly, e.g. `cscli bouncers add NAME -o raw`).
#
# State: ${VIGIL_TEST_STATE_DIR:-/var/lib/vigil-test}/crowdsec-lapi/
#   crowdsec.pid, crowdsec.log, listen
set -euo pipefail

CS_CONFIG=/etc/crowdsec/config.yaml
CS_CREDS=/etc/crowdsec/local_api_credentials.yaml
CS_STATE_DIR="${VIGIL_TEST_STATE_DIR:-/var/lib/vigil-test}/crowdsec-lapi"
CS_PIDFILE="$CS_STATE_DIR/crowdsec.pid"
CS_LOGFILE="$CS_STATE_DIR/crowdsec.log"

cs_err() { echo "crowdsec-lapi: $*" >&2; }

# PORT | HOST:PORT -> HOST:PORT, loopback hosts only.
cs_normalize_listen() {
  local v="$1" host port
  if [[ "$v" =~ ^[0-9]+$ ]]; then
    host=127.0.0.1 port="$v"
  elif [[ "$v" =~ ^\[(.+)\]:([0-9]+)$ ]]; then
    host="[${BASH_REMATCH[1]}]" port="${BASH_REMATCH[2]}"
  elif [[ "$v" =~ ^([^:]+):([0-9]+)$ ]]; then
    host="${BASH_REMATCH[1]}" port="${BASH_REMATCH[2]}"
  else
    cs_err "bad listen address '$v' (want PORT or 127.0.0.1:PORT)"; return 1
  fi
  [[ "$host" == localhost ]] && host=127.0.0.1
  if ! [[ "$host" =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ || "$host" == "[::1]" ]]; then
    cs_err "refusing non-loopback listen address '$v'"; return 1
  fi
  if ((port < 1 || port > 65535)); then cs_err "bad port '$port'"; return 1; fi
  echo "$host:$port"
}

cs_configured_listen() {
  awk '$1 == "listen_uri:" { print $2; exit }' "$CS_CONFIG"
}

# Rewrite config.yaml / local_api_credentials.yaml for LAPI-only on $1.
# Only writes when something changes.
cs_configure() {
  local listen="$1" tmp
  [[ -f "$CS_CONFIG" ]] || { cs_err "$CS_CONFIG missing: run scripts/install-crowdsec.sh"; return 1; }
  tmp="$(mktemp)"
  awk -v listen="$listen" '
    # drop the api.server.online_client block (key line + deeper-indented lines)
    skip && match($0, /^ */) && RLENGTH > skipind && $0 !~ /^ *$/ { next }
    skip { skip = 0 }
    /^ +online_client:/ { match($0, /^ */); skipind = RLENGTH; skip = 1; next }
    /^  daemonize:/   { print "  daemonize: false"; next }
    /^  log_media:/   { print "  log_media: stdout"; next }
    /^    listen_uri:/ { print "    listen_uri: " listen; next }
    { print }
  ' "$CS_CONFIG" >"$tmp"
  if ! cmp -s "$tmp" "$CS_CONFIG"; then
    cat "$tmp" >"$CS_CONFIG"   # keep owner/mode
  fi
  rm -f "$tmp"
  if [[ -f "$CS_CREDS" ]] && ! grep -qx "url: http://$listen" "$CS_CREDS"; then
    sed -i "s|^url: .*|url: http://$listen|" "$CS_CREDS"
  fi
}

cs_pid() {
  local pid
  [[ -f "$CS_PIDFILE" ]] || return 1
  pid="$(cat "$CS_PIDFILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ "$(readlink "/proc/$pid/exe" 2>/dev/null || true)" == */crowdsec ]] || return 1
  echo "$pid"
}

cs_health() { curl -fsS -m 2 -o /dev/null "http://$1/health" 2>/dev/null; }

cs_start() {
  local listen pid i
  command -v crowdsec >/dev/null || { cs_err "crowdsec not installed: run scripts/install-crowdsec.sh"; return 1; }
  if [[ -n "${1:-${VIGIL_CROWDSEC_LISTEN:-}}" ]]; then
    listen="$(cs_normalize_listen "${1:-$VIGIL_CROWDSEC_LISTEN}")" || return 1
  else
    listen="$(cs_configured_listen)"
  fi
  if pid="$(cs_pid)"; then
    if [[ "$(cat "$CS_STATE_DIR/listen" 2>/dev/null)" == "$listen" ]]; then
      return 0   # already running where asked
    fi
    cs_err "already running (pid $pid) on $(cat "$CS_STATE_DIR/listen" 2>/dev/null); stop it first"
    return 1
  fi
  if curl -s -m 2 -o /dev/null "http://$listen/" 2>/dev/null; then
    cs_err "something is already listening on $listen"; return 1
  fi
  cs_configure "$listen"
  mkdir -p "$CS_STATE_DIR"
  echo "$listen" >"$CS_STATE_DIR/listen"
  : >"$CS_LOGFILE"
  # Background subshell is not a process-group leader, so setsid exec()s in
  # place and $! is crowdsec's own pid. New session: survives the caller.
  (exec setsid crowdsec -c "$CS_CONFIG" -no-cs -no-capi </dev/null >>"$CS_LOGFILE" 2>&1) &
  pid=$!
  echo "$pid" >"$CS_PIDFILE"
  for ((i = 0; i < 300; i++)); do          # up to 30 s
    if ! kill -0 "$pid" 2>/dev/null; then
      cs_err "crowdsec exited during startup; log $CS_LOGFILE:"; tail -n 30 "$CS_LOGFILE" >&2
      rm -f "$CS_PIDFILE"; return 1
    fi
    if cs_health "$listen"; then return 0; fi
    sleep 0.1
  done
  cs_err "crowdsec did not answer http://$listen/health within 30 s; log $CS_LOGFILE:"
  tail -n 30 "$CS_LOGFILE" >&2
  cs_stop; return 1
}

cs_stop() {
  local pid i
  if ! pid="$(cs_pid)"; then rm -f "$CS_PIDFILE"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do          # up to 20 s
    kill -0 "$pid" 2>/dev/null || { rm -f "$CS_PIDFILE"; return 0; }
    sleep 0.1
  done
  cs_err "crowdsec (pid $pid) ignored SIGTERM for 20 s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$CS_PIDFILE"
}

cs_status() {
  local pid listen
  if pid="$(cs_pid)"; then
    listen="$(cat "$CS_STATE_DIR/listen" 2>/dev/null || cs_configured_listen)"
    if cs_health "$listen"; then
      echo "running pid=$pid listen=$listen log=$CS_LOGFILE"
    else
      echo "running pid=$pid listen=$listen (not answering /health) log=$CS_LOGFILE"
    fi
    return 0
  fi
  echo "stopped"
  return 3
}

cs_reset() {
  local db
  cs_stop
  db="$(awk '$1 == "db_path:" { print $2; exit }' "$CS_CONFIG")"
  [[ -n "$db" ]] || { cs_err "no db_path in $CS_CONFIG"; return 1; }
  rm -f "$db" "$db-wal" "$db-shm" "$db-journal"
  # Same as the package postinst: machine = machine-id, random password, written to
  # local_api_credentials.yaml (url taken from the config's listen_uri).
  cscli --error machines add --force "$(cat /etc/machine-id)" \
    --password "$(tr -dc 'a-zA-Z0-9' </dev/urandom | head -c 32)" >/dev/null
  cs_configure "$(cs_configured_listen)"
}

[[ "${1:-}" == "--source-only" ]] && return 0 2>/dev/null

case "${1:-}" in
  start) cs_start "${2:-}" ;;
  stop) cs_stop ;;
  status) cs_status ;;
  url)
    if [[ -f "$CS_STATE_DIR/listen" ]] && cs_pid >/dev/null; then
      echo "http://$(cat "$CS_STATE_DIR/listen")"
    else echo "http://$(cs_configured_listen)"; fi ;;
  logs) cat "$CS_LOGFILE" 2>/dev/null || true ;;
  reset) cs_reset ;;
  *) echo "usage: $0 start [LISTEN] | stop | status | url | logs | reset" >&2; exit 2 ;;
esac
