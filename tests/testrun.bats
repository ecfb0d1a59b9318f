#!/usr/bin/env bats
# tests/testrun.bats - tests/run's counting, on a copy of it in a temp dir
# with stand-in unit binaries and bats files: with LVIP_REQUIRE_BPF=1 a skip
# counts as failed, except a skip whose reason starts with "kernel refuses:"
# (tests/README.md), which is counted and shown as skipped. No BPF, no
# namespace; root (or the capabilities tests/run asks for) only because
# tests/run refuses to start without them.

setup() {
	if [ "$(id -u)" -ne 0 ]; then
		[ "${LVIP_REQUIRE_BPF-}" = 1 ] && { echo "LVIP_REQUIRE_BPF=1: not root" >&2; return 1; }
		skip "not root (tests/run needs it)"
	fi
	T=$(mktemp -d /tmp/lvip.testrun.XXXXXX)
	mkdir -p "$T/tests" "$T/build"
	cp "$BATS_TEST_DIRNAME/run" "$T/tests/run"
	for b in test_datapath fuzz_datapath; do
		printf '#!/bin/sh\necho 1..1\necho "ok 1 %s"\n' "$b" >"$T/build/$b"
		chmod +x "$T/build/$b"
	done
}

teardown() {
	[ -n "${T-}" ] && rm -rf "$T"
}

# skips REASON...: a bats file with one passing test and one skip per REASON.
skips() {
	{
		echo '@test "passes" { true; }'
		for r in "$@"; do
			printf '@test "skips: %s" { skip "%s"; }\n' "$r" "$r"
		done
	} >"$T/tests/a.bats"
}

@test "tests/run, LVIP_REQUIRE_BPF=1: a 'kernel refuses:' skip stays a skip, counted in the last line" {
	skips "kernel refuses: freplace (ext) programs"
	run env LVIP_REQUIRE_BPF=1 LVIP_BUILD="$T/build" "$T/tests/run"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "3 passed, 0 failed, 1 skipped" ]
}

@test "tests/run, LVIP_REQUIRE_BPF=1: any other skip counts as failed" {
	skips "kernel refuses: freplace (ext) programs" "xdp-filter not installed"
	run env LVIP_REQUIRE_BPF=1 LVIP_BUILD="$T/build" "$T/tests/run"
	[ "$status" -ne 0 ]
	[ "${lines[-1]}" = "3 passed, 1 failed, 1 skipped" ]
}

@test "tests/run without LVIP_REQUIRE_BPF: every skip is a skip" {
	skips "kernel refuses: freplace (ext) programs" "xdp-filter not installed"
	run env -u LVIP_REQUIRE_BPF LVIP_BUILD="$T/build" "$T/tests/run"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "3 passed, 0 failed, 2 skipped" ]
}
