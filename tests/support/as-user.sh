#!/bin/sh
# as-user.sh [--subid] [--with VAR=FILE]... PROGRAM [ARGS...]
# Runs PROGRAM as an unprivileged user, for the rootless runs of the test suite.
# As root: drops to $CELL_TEST_USER (name or uid; default 65534, nobody) with no supplementary
# groups. As anyone else: runs PROGRAM as is.
# --subid: the user is $CELL_TEST_SUBID_USER instead (the user with /etc/subuid and /etc/subgid
# ranges that tools/run-tests.sh prepares); when that is unset, the default user, and the tests
# that need it skip (or fail, with CELL_TEST_STRICT=1) saying so.
# Each --with VAR=FILE exports VAR=FILE (the tests read the probe's and cell's paths from it).
# When the user cannot reach PROGRAM or a FILE where they are (a build tree under /root, say),
# they are copied to a private directory under /tmp first, and VAR points at the copy.
set -eu
withs=""
if [ "${1:-}" = "--subid" ]; then
  [ -n "${CELL_TEST_SUBID_USER:-}" ] && CELL_TEST_USER=$CELL_TEST_SUBID_USER
  shift
fi
while [ "$#" -gt 0 ] && [ "$1" = "--with" ]; do
  withs="$withs $2"
  shift 2
done
[ "$#" -ge 1 ] || { echo "usage: as-user.sh [--subid] [--with VAR=FILE]... PROGRAM [ARGS...]" >&2; exit 2; }
program=$1
shift

if [ "$(id -u)" -ne 0 ]; then
  for w in $withs; do export "$w"; done
  exec "$program" "$@"
fi

user=${CELL_TEST_USER:-65534}
uid=$(id -u "$user" 2>/dev/null || echo "$user")
gid=$(id -g "$user" 2>/dev/null || echo "$uid")
case "$uid$gid" in *[!0-9]*) echo "as-user.sh: unknown user '$user'" >&2; exit 2 ;; esac
as_user() { setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"; }

reachable=yes
as_user test -x "$program" || reachable=no
for w in $withs; do as_user test -r "${w#*=}" || reachable=no; done

stage=""
if [ "$reachable" = no ]; then
  stage=$(mktemp -d /tmp/cell-as-user.XXXXXX)
  trap 'rm -rf "$stage"' EXIT
  chmod 755 "$stage"
  cp "$program" "$stage/"
  program="$stage/$(basename "$program")"
  staged=""
  for w in $withs; do
    cp "${w#*=}" "$stage/"
    staged="$staged ${w%%=*}=$stage/$(basename "${w#*=}")"
  done
  withs=$staged
  chmod -R a+rX "$stage"
fi

# Root's own directories would be unusable: let cell pick the rootless defaults
# (/tmp/cell-UID for runtime state, /tmp/cell-data-UID for data), temp files in /tmp.
set -- env -u XDG_RUNTIME_DIR -u XDG_DATA_HOME -u CELL_RUNTIME -u CELL_DATA -u HOME \
  TMPDIR=/tmp $withs setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$program" "$@"
if [ -z "$stage" ]; then exec "$@"; fi
"$@"  # not exec: the trap removes the copies afterwards
