#!/usr/bin/env bats
# tests/reliability-security.bats - security: who can touch lvip's state,
# and what strings from the command line and the config can reach.
#
# Pin modes right after attach (dir 0700, pins 0600) are tested in
# loader.bats ("pin permissions"); here: the modes hold whatever the umask,
# an unprivileged user can neither read nor change the maps nor use lvip,
# and no string reaches a shell or a format string. The sanitizer run is
# `make check SANITIZE=1` (build/san, see Makefile); the last test checks
# that it really runs sanitized binaries.

bats_require_minimum_version 1.5.0

load lib/netns
load lib/assertions

VIP4=198.18.0.100
VIP6=2001:db8::100
NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
MARK=lvip-pwned

setup_file()    { lvip_env_check; lvip_tmp_setup; }
teardown_file() { lvip_tmp_teardown; }
setup() {
	lvip_env_require
	lvip_netns_setup
	CWD=$BATS_TEST_TMPDIR/cwd
	mkdir -p "$CWD"
	rm -f "/tmp/$MARK"
}
teardown() {
	[ -n "${LVIP_T_TMP-}" ] && chmod 0700 "$LVIP_T_TMP"
	lvip_netns_teardown
	rm -f "/tmp/$MARK"
}

# no_marker: no payload ran: no marker file in the working dir, /tmp or /.
no_marker() {
	local f
	for f in "$CWD/$MARK" "/tmp/$MARK" "/$MARK" "$CWD/pw" "$CWD/pwned"; do
		[ ! -e "$f" ] || fail "$f was created: a string reached a shell"
	done
}

@test "pin modes: dir 0700 and pins 0600 even with umask 000; a pre-existing 0777 pin dir is refused, not chmodded" {
	local p bad=""
	mkdir -m 0777 "$PIN"
	chmod 0777 "$PIN"
	run --separate-stderr bash -c 'umask 000; exec "$@"' _ ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" attach veth0
	assert_status 1
	[[ "$stderr" == *"writable by others (mode 0777)"* ]] || fail "$stderr"
	assert_eq 777 "$(stat -c %a "$PIN")" "mode of the refused pin dir"
	rmdir "$PIN"
	run --separate-stderr bash -c 'umask 000; exec "$@"' _ ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" attach veth0
	assert_status 0
	run --separate-stderr bash -c 'umask 000; exec "$@"' _ ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" vip add "$VIP4"
	assert_status 0
	assert_eq 700 "$(stat -c %a "$PIN")" "mode of the pin dir"
	while IFS= read -r -d '' p; do
		[ "$(stat -c %a "$p")" = 600 ] || bad+="$p: $(stat -c %a "$p")"$'\n'
	done < <(find "$PIN" -mindepth 1 -not -type d -print0)
	while IFS= read -r -d '' p; do   # lvip's marker subdirectories
		[ "$(stat -c %a "$p")" = 700 ] || bad+="$p: $(stat -c %a "$p")"$'\n'
	done < <(find "$PIN" -mindepth 1 -type d -print0)
	[ -z "$bad" ] || fail "pins not 0600 (subdirs not 0700) with umask 000:"$'\n'"$bad"
	figure "security: pin dir 0700 and all $(find "$PIN" -mindepth 1 -not -type d | wc -l) pins 0600 under umask 000; a pre-existing 0777 dir refused, its mode kept (modes right after attach: loader.bats)"
}

@test "unprivileged user (nobody): cannot read or change the maps, lvip says it needs root, nothing changes" {
	local before c lvip_bin=$LVIP
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4" "$VIP6"
	assert_status 0
	# Let nobody walk down to the pin dir: lvip's 0700/0600 must be the barrier.
	chmod 0711 "$LVIP_T_TMP"
	[ "$(stat -f -c %T "$BPFFS")" = bpf_fs ] || fail "$BPFFS is not a bpffs"
	"${NOBODY[@]}" test -x "$lvip_bin" || {
		cp "$LVIP" "$LVIP_T_TMP/lvip-for-nobody"
		chmod 0755 "$LVIP_T_TMP/lvip-for-nobody"
		lvip_bin=$LVIP_T_TMP/lvip-for-nobody
	}
	"${NOBODY[@]}" ls "$BPFFS" >/dev/null || fail "nobody cannot list $BPFFS: the test proves nothing"
	before=$(lvip_state_snapshot)

	run "${NOBODY[@]}" ls "$PIN"
	[ "$status" -ne 0 ] || fail "nobody can list the pin dir: $output"
	run "${NOBODY[@]}" bpftool -j map dump pinned "$PIN/lvip_vip4"
	[ "$status" -ne 0 ] || fail "nobody can dump lvip_vip4: $output"
	[[ "$output" != *"198"* ]] || fail "nobody's dump shows VIP bytes: $output"
	run "${NOBODY[@]}" bpftool map update pinned "$PIN/lvip_vip4" key 198 18 0 101 \
		value 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0
	[ "$status" -ne 0 ] || fail "nobody can update lvip_vip4"
	run "${NOBODY[@]}" bpftool map delete pinned "$PIN/lvip_vip4" key 198 18 0 100
	[ "$status" -ne 0 ] || fail "nobody can delete from lvip_vip4"
	run "${NOBODY[@]}" bpftool prog show pinned "$PIN/lvip_xdp"
	[ "$status" -ne 0 ] || fail "nobody can open the pinned XDP program"

	for c in "vip add 198.18.0.101" "vip del $VIP4" "vip list" "attach veth0" "detach veth0" \
		"down" "stats" "status" "check" "apply -f /dev/null"; do
		run --separate-stderr ip netns exec "$RS" "${NOBODY[@]}" "$lvip_bin" --pin-dir "$PIN" $c
		[ "$status" -eq 1 ] || fail "nobody: lvip $c: exit $status, expected 1 ($stderr)"
		assert_one_line
		assert_contains "$stderr" "needs root (CAP_NET_ADMIN and CAP_BPF or CAP_SYS_ADMIN)" "nobody: lvip $c"
	done
	run --separate-stderr ip netns exec "$RS" "${NOBODY[@]}" "$lvip_bin" --help
	assert_status 0
	run --separate-stderr ip netns exec "$RS" "${NOBODY[@]}" "$lvip_bin" vip add --help
	assert_status 0
	assert_state_unchanged "$before" "state after nobody's attempts"
	figure "security: as nobody, the pin dir cannot be listed, bpftool map dump/update/delete and prog show on the pins fail, 10 lvip commands exit 1 with 'needs root (CAP_NET_ADMIN and CAP_BPF or CAP_SYS_ADMIN)' (--help works), state unchanged"
}

@test "no string reaches a shell or a format string: CLI VIPs, interface names, config lines, file names, pin dirs" {
	local p out problems="" n=0 conf
	local -a payloads=('%n%s%x%n%p%9999999s' '$(touch lvip-pwned)' '`touch lvip-pwned`'
		'x;touch lvip-pwned' '|touch /tmp/lvip-pwned' '$(touch${IFS}/tmp/lvip-pwned)' "%s%s%s%s%s%s%s%s%s%s%s%s")
	cd "$CWD"
	run --separate-stderr lvip attach veth0
	assert_status 0

	# lvip ... PAYLOAD: exit 2, the payload echoed literally on one line.
	check_literal() {
		n=$((n + 1))
		run --separate-stderr lvip "$@"
		if [ "$status" -ne 2 ]; then
			problems+="lvip $*: exit $status, expected 2: $stderr"$'\n'
		elif [ "${#stderr_lines[@]}" -ne 1 ]; then
			problems+="lvip $*: ${#stderr_lines[@]} stderr lines: $stderr"$'\n'
		elif [[ "$stderr" != *"${!#}"* ]]; then
			problems+="lvip $*: the string is not echoed literally: $stderr"$'\n'
		fi
	}
	for p in "${payloads[@]}"; do
		check_literal vip add "$p"
		check_literal vip del "$p"
		check_literal attach "$p"
		check_literal detach "$p"
	done
	# Config lines: tokens are split on blanks, so payloads without blanks.
	conf=$BATS_TEST_TMPDIR/payload.conf
	for p in '%n%s%x%n%p' '$(touch${IFS}lvip-pwned)' '`touch${IFS}/tmp/lvip-pwned`' ';touch${IFS}lvip-pwned' '%s%s%s%s%s%s%s%s'; do
		for line in "vip $p" "interface $p" "$p" "interface veth0 mode=$p"; do
			n=$((n + 1))
			printf '%s\n' "interface veth0" "$line" >"$conf"
			run --separate-stderr lvip apply -f "$conf"
			if [ "$status" -ne 2 ] || [ "${#stderr_lines[@]}" -ne 1 ] ||
				[[ "$stderr" != *"$conf:2: "* ]] || [[ "$stderr" != *"$p"* ]]; then
				problems+="config line '$line': exit $status, expected 2, one line with $conf:2 and the string: $stderr"$'\n'
			fi
		done
	done
	# A config file name with conversions in it.
	conf=$BATS_TEST_TMPDIR/'%n%s%x$(touch lvip-pwned).conf'
	printf 'frobnicate\n' >"$conf"
	n=$((n + 1))
	run --separate-stderr lvip apply -f "$conf"
	[ "$status" -eq 2 ] && [[ "$stderr" == *"$conf:1: "* ]] ||
		problems+="config file '$conf': exit $status, expected 2 naming it literally: $stderr"$'\n'
	[ -z "$problems" ] || fail "$problems"
	no_marker
	figure "security: $n command-line and config strings with %n/%s/%x, \$(...), backquotes, ; and | : each exit 2 and echoed literally, none reached a shell"
}

@test "no string reaches a shell or a format string: a pin dir and a real interface named with shell syntax" {
	local pd="$BPFFS/lvip%n%s%x\$(touch lvip-pwned)" dev='$(id>pw)' js
	cd "$CWD"
	# An interface name the kernel accepts ('%' it does not: it is its own
	# name template), attached, listed, exported and detached.
	ip -n "$RS" link add "$dev" type veth peer name veth9
	ip -n "$RS" addr add 198.18.1.11/24 dev "$dev"
	ip -n "$RS" link set "$dev" up

	run --separate-stderr ip netns exec "$RS" "$LVIP" --pin-dir "$pd" attach veth0 "$dev"
	assert_status 0
	assert_contains "$output" "$dev: attached" "attach's output"
	run --separate-stderr ip netns exec "$RS" "$LVIP" --pin-dir "$pd" vip add "$VIP4"
	assert_status 0
	run --separate-stderr ip netns exec "$RS" "$LVIP" --pin-dir "$pd" status --json
	assert_status 0
	js=$output
	python3 -c 'import json, sys; d = json.loads(sys.argv[1]); sys.exit(0 if d["pin_dir"] == sys.argv[2] and sys.argv[3] in [i["name"] for i in d["interfaces"]] else 1)' \
		"$js" "$pd" "$dev" || fail "status does not show the pin dir and interface literally: $js"
	run --separate-stderr ip netns exec "$RS" "$LVIP" --pin-dir "$pd" stats --prometheus
	assert_status 0
	assert_contains "$output" "interface=\"$dev\"" "stats --prometheus"
	run --separate-stderr ip netns exec "$RS" "$LVIP" --pin-dir "$pd" check
	assert_status 0
	printf '%s\n' "interface veth0" "interface $dev" "vip $VIP4" >"$BATS_TEST_TMPDIR/dev.conf"
	run --separate-stderr ip netns exec "$RS" "$LVIP" --pin-dir "$pd" apply -f "$BATS_TEST_TMPDIR/dev.conf"
	assert_status 0
	run --separate-stderr ip netns exec "$RS" "$LVIP" --pin-dir "$pd" detach "$dev"
	assert_status 0
	assert_eq 0 "$(xdp_prog_id "$RS" "$dev")" "XDP on $dev after detach"
	run --separate-stderr ip netns exec "$RS" "$LVIP" --pin-dir "$pd" down
	assert_status 0
	[ ! -e "$pd" ] || fail "pin dir left after down"
	no_marker
}

@test "make check SANITIZE=1 runs sanitized binaries from build/san and fails on a sanitizer report" {
	if [ -n "${LVIP_SAN_LOGS-}" ]; then
		# Under make check SANITIZE=1: the binaries are the sanitized ones.
		nm -a "$LVIP" 2>/dev/null | grep -q '__asan_init\|__asan_report' ||
			grep -q '__asan_init' "$LVIP" || fail "$LVIP is not built with ASan"
		[[ "${ASAN_OPTIONS-}" == *detect_leaks=1* && "${ASAN_OPTIONS-}" == *exitcode=99* ]] ||
			fail "ASAN_OPTIONS=${ASAN_OPTIONS-} (expected detect_leaks=1 and exitcode=99)"
		[ -d "$LVIP_SAN_LOGS" ] && [ -w "$LVIP_SAN_LOGS" ] || fail "$LVIP_SAN_LOGS is not a writable dir"
		figure "sanitizers: this run uses $LVIP (ASan+UBSan, leaks detected; a report fails the run)"
		return 0
	fi
	# A normal run: the SANITIZE=1 configuration is what it says (no build).
	local plan
	plan=$(make -s -C "$LVIP_REPO" -n check SANITIZE=1 2>/dev/null | tr '\n\\' '  ')
	assert_contains "$plan" "LVIP=$LVIP_REPO/build/san/lvip" "make -n check SANITIZE=1"
	assert_contains "$plan" "LVIP_BUILD=$LVIP_REPO/build/san" "make -n check SANITIZE=1"
	assert_contains "$plan" "detect_leaks=1:exitcode=99" "make -n check SANITIZE=1"
	assert_contains "$plan" "LVIP_SAN_LOGS=" "make -n check SANITIZE=1"
	assert_contains "$plan" "tests/run" "make -n check SANITIZE=1"
}
