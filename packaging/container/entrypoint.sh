#!/bin/sh
# The container's entrypoint: registers the bouncers named in the environment, then runs vigil (by
# default `vigil serve`) as PID 1's only child-free process (exec), so signals reach Node directly.
#
# BOUNCER_KEY_<name>=<key> (or BOUNCER_KEY_<name>_FILE=/run/secrets/…), as CrowdSec's image has it:
# bouncer <name> is registered with that key if absent, and re-registered if its key differs.
set -eu

vigil() { /usr/bin/vigil "$@"; }

register_bouncer() {
  name="$1" key="$2"
  if out="$(vigil bouncers add "$name" --key "$key" -o raw 2>&1 >/dev/null)"; then
    echo "entrypoint: bouncer '$name' registered from BOUNCER_KEY_$name" >&2
    return
  fi
  case "$out" in
    *"bouncer $name already exists"*) ;;
    *) echo "entrypoint: BOUNCER_KEY_$name: $out" >&2; exit 1 ;;
  esac
  # Registered already: with this key? A key can belong to one bouncer only, so a trial bouncer
  # with it is refused exactly when the key is in use, naming its owner.
  trial="$name.keycheck"
  if out="$(vigil bouncers add "$trial" --key "$key" -o raw 2>&1 >/dev/null)"; then
    vigil bouncers delete "$trial" "$name" >/dev/null 2>&1
    vigil bouncers add "$name" --key "$key" -o raw >/dev/null
    echo "entrypoint: bouncer '$name' re-registered: BOUNCER_KEY_$name changed" >&2
    return
  fi
  case "$out" in
    *"already used by bouncer $name;"*) echo "entrypoint: bouncer '$name' already registered with BOUNCER_KEY_$name" >&2 ;;
    *) echo "entrypoint: BOUNCER_KEY_$name: $out" >&2; exit 1 ;;
  esac
}

if [ "${1:-serve}" = serve ]; then
  for var in $(env | sed -n 's/^\(BOUNCER_KEY_[A-Za-z0-9_.-]*\)=.*/\1/p'); do
    name="${var#BOUNCER_KEY_}"
    case "$name" in
      *_FILE)
        name="${name%_FILE}"
        file="$(printenv "$var")"
        [ -r "$file" ] || { echo "entrypoint: $var: cannot read $file" >&2; exit 1; }
        key="$(tr -d '\r\n' <"$file")" ;;
      *) key="$(printenv "$var")" ;;
    esac
    register_bouncer "$name" "$key"
  done
fi
exec /usr/bin/vigil "$@"
