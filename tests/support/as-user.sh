#!/bin/sh
# as-user.sh PROGRAM [ARGS...]: runs PROGRAM as an unprivileged user, for the rootless runs
# of the test suite. As root: drops to $CELL_TEST_USER (name or uid; default 65534, nobody)
# with no supplementary groups. As anyone else: runs PROGRAM as is.
# The user needs read access to the build tree; temporary files go under /tmp.
set -eu
[ "$#" -ge 1 ] || { echo "usage: as-user.sh PROGRAM [ARGS...]" >&2; exit 2; }
if [ "$(id -u)" -ne 0 ]; then
  exec "$@"
fi
user=${CELL_TEST_USER:-65534}
uid=$(id -u "$user" 2>/dev/null || echo "$user")
gid=$(id -g "$user" 2>/dev/null || echo "$uid")
case "$uid$gid" in *[!0-9]*) echo "as-user.sh: unknown user '$user'" >&2; exit 2 ;; esac
# Root's own directories would be unusable: let cell pick the rootless defaults
# (/tmp/cell-UID for runtime state, /tmp/cell-data-UID for data), temp files in /tmp.
exec env -u XDG_RUNTIME_DIR -u XDG_DATA_HOME -u CELL_RUNTIME -u CELL_DATA -u HOME TMPDIR=/tmp \
  setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
