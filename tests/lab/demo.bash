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
