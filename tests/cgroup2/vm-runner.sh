#!/bin/sh
# Runs inside the cgroup v2 VM (started by tools/vm-test.sh): the test binaries labelled
# cgroup2, in the cgroup layouts a real host gives cell.
#
#   vm-runner.sh root TEST...           as root: in the root cgroup, then (a subset) from a
#                                       cgroup shared with other processes (cell uses /cell)
#   vm-runner.sh delegate UID TEST...   as root: copy the tests where UID can read them, hand
#                                       UID a cgroup (as systemd's Delegate=yes does) and
#                                       re-run this script as UID in "user" mode
#   vm-runner.sh user TEST...           as the delegated user: each TEST alone in a cgroup of
#                                       its own (cell moves itself one level down), then a
#                                       subset sharing this script's cgroup (cell uses the
#                                       delegated parent)
#
# Prints each binary's gtest summary; exits 1 if any test failed or a run's cgroup leaked.
# CELL_TEST_CG_PROG and CELL_TEST_CLI name the cg_prog and cell binaries of the build.
set -u
failed=0
subset='Driver.*:Limits.KernelOom*:Limits.Peak*:Cleanup.Gc*'

run_test() { # LABEL TEST [ARGS...]
	label=$1
	shift
	echo "== $label: $*"
	"$@" --gtest_brief=1 || {
		echo "vm-runner: FAILED ($label): $*"
		failed=1
	}
}

# Leaves of runs (cell-<pid>-<start>-<n>) must all be gone once the tests are done.
check_leaks() { # DIR
	leaks=$(find "$1" -mindepth 1 -type d -name 'cell-[0-9]*' 2>/dev/null)
	if [ -n "$leaks" ]; then
		echo "vm-runner: LEAKED cgroups:" $leaks
		failed=1
	fi
}

enable_all() { # CGROUP_DIR: distribute every controller it has to its children
	for c in $(cat "$1/cgroup.controllers"); do echo "+$c" >"$1/cgroup.subtree_control"; done
}

mode=$1
shift
case $mode in
root)
	for t in "$@"; do run_test "root, root cgroup" "$t"; done
	# like a root shell in a systemd session scope: not alone, so cell uses /sys/fs/cgroup/cell
	mkdir -p /sys/fs/cgroup/ci.scope && echo $$ >/sys/fs/cgroup/ci.scope/cgroup.procs
	for t in "$@"; do run_test "root, shared cgroup" "$t" --gtest_filter="$subset"; done
	check_leaks /sys/fs/cgroup
	;;
delegate)
	uid=$1
	shift
	stage=/tmp/cell-vm
	mkdir -p "$stage"
	cp "$0" "$CELL_TEST_CG_PROG" "$CELL_TEST_CLI" "$stage/"
	staged=""
	for t in "$@"; do
		cp "$t" "$stage/"
		staged="$staged $stage/${t##*/}"
	done
	chmod -R a+rX "$stage"
	scope=/sys/fs/cgroup/cell.slice/user-$uid.scope
	mkdir -p "$scope"
	enable_all /sys/fs/cgroup/cell.slice
	chown "$uid:$uid" "$scope" "$scope/cgroup.procs" "$scope/cgroup.subtree_control" "$scope/cgroup.threads"
	echo $$ >"$scope/cgroup.procs"
	export CELL_TEST_CG_PROG="$stage/${CELL_TEST_CG_PROG##*/}" CELL_TEST_CLI="$stage/${CELL_TEST_CLI##*/}" HOME=/tmp
	export CELL_TEST_LEAK_RUNS=50 # the root pass did 200; TCG makes each ~0.3 s
	# shellcheck disable=SC2086 # $staged is a list of paths without spaces
	exec /usr/bin/setpriv --reuid="$uid" --regid="$uid" --clear-groups -- sh "$stage/vm-runner.sh" user $staged
	;;
user)
	cg=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)
	# leave the delegated cgroup to its children (no-internal-processes rule)
	mkdir "$cg/runner" && echo $$ >"$cg/runner/cgroup.procs" && enable_all "$cg" || {
		echo "vm-runner: cannot set up the delegated cgroup $cg"
		exit 1
	}
	echo "vm-runner: uid $(id -u) owns $cg; its children get: $(cat "$cg/cgroup.subtree_control")"
	i=0
	for t in "$@"; do
		i=$((i + 1))
		alone=$cg/alone$i
		mkdir "$alone"
		echo "== uid $(id -u), alone in $alone: $t"
		sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" --gtest_brief=1' sh "$alone" "$t" || {
			echo "vm-runner: FAILED (user, alone): $t"
			failed=1
		}
		check_leaks "$alone"
		# the test process moved itself into cell-self-<pid>, which outlives it: gc clears it
		"$CELL_TEST_CLI" gc --cgroup-parent "$alone" >/dev/null 2>&1
		if [ -n "$(find "$alone" -mindepth 1 -type d 2>/dev/null)" ]; then
			echo "vm-runner: cell gc left:" $(find "$alone" -mindepth 1 -type d)
			failed=1
		fi
		rmdir "$alone" 2>/dev/null
		run_test "uid $(id -u), sharing $cg/runner" "$t" --gtest_filter="$subset"
	done
	check_leaks "$cg"
	;;
*)
	echo "usage: vm-runner.sh root|delegate UID|user TEST..." >&2
	exit 2
	;;
esac
[ $failed = 0 ] && echo "vm-runner: $mode: all passed"
exit $failed
