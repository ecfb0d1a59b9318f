# shellcheck shell=bash
# tests/lab/demo.bash - how the guided demos (tests/lab/demo.sh, LVS-DR, and
# tests/lab/demo-tun.sh, LVS-TUN) print their steps and judge what they see.
# Each demo exits 0 only if every observation held ($failures stays 0).

failures=0
step=0

say()    { step=$((step + 1)); printf '\n[%d] %s\n' "$step" "$*"; }
note()   { printf '    %s\n' "$*"; }
expect() { printf '    expected: %s\n' "$*"; }
seen()   { printf '    seen:     %s\n' "$*"; }
# hold WHAT CMD...: the observation WHAT held if CMD succeeds.
hold() {
	local what=$1
	shift
	if "$@"; then
		printf '    OK: %s\n' "$what"
	else
		printf '    FAILED: %s\n' "$what"
		failures=$((failures + 1))
	fi
}
eq() { [ "$1" = "$2" ]; }
indent() { sed 's/^/        /'; }

# demo_end NAME DETAIL: the last step (tear the lab down, nothing may be
# left: namespaces, mounts, the demo's processes) and the verdict line; exits.
demo_end() {
	local name=$1 detail=$2 pids left pid secs
	expect "nothing left behind"
	pids=$(cut -d' ' -f1 "$LAB_TMP/pids" 2>/dev/null)
	lab_teardown
	trap - EXIT
	left=$(lab_leftovers)
	for pid in $pids; do kill -0 "$pid" 2>/dev/null && left="$left pid $pid"; done
	seen "${left:-nothing}"
	hold "nothing left behind" [ -z "$left" ]

	echo
	secs=$((SECONDS - T0))
	if [ "$failures" -eq 0 ]; then
		echo "$name: every expected observation held ($step steps, ${secs} s, $detail)"
		exit 0
	fi
	echo "$name: $failures observation(s) did not hold (${secs} s)"
	exit 1
}
