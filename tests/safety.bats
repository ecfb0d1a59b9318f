#!/usr/bin/env bats
# tests/safety.bats - paths by which a VIP could end up answered on the wire
# (or the server cut off) while lvip says all is well. Each test judges what
# the kernel does (an ARP reply or none, the frames on the wire) and what
# status/check say about it.
#
#   RS   namespace: lo, veth0 198.18.0.11/24 2001:db8::11/64 (the real server)
#   PEER namespace: lo, veth1 198.18.0.1/24  2001:db8::1/64  (a neighbour)

bats_require_minimum_version 1.5.0

load lib/netns
load lib/assertions

VIP4=198.18.0.100
VIP4B=198.18.0.101

setup_file() {
	lvip_env_check
	lvip_tmp_setup || return 1
	foreign_fixture_build
}
teardown_file() { lvip_tmp_teardown; }
setup() {
	lvip_env_require
	lvip_netns_setup
}
teardown() {
	[ -n "${HOLD_FD-}" ] && eval "exec $HOLD_FD<&-"
	[ -n "${HOLD_FD2-}" ] && eval "exec $HOLD_FD2<&-"
	HOLD_FD= HOLD_FD2=
	lvip_netns_teardown
}

finding_codes() {
	lvip check --json "$@" | json_eval "sorted(set(f['code'] + ':' + f.get('interface', '') for f in d['findings'] if f['severity'] == 'exposed'))"
}

# ------------------------------------------------ programs and their maps

@test "programs bound to unpinned maps: attach rebinds them, a VIP added then gets no ARP reply" {
	lvip attach veth0
	lvip vip add "$VIP4"
	rm "$PIN/lvip_vip4"

	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4B"
	assert_status 0
	no_arp_reply "$VIP4B"
	local xid
	xid=$(xdp_prog_id "$RS" veth0)
	assert_eq "$(pinned_prog_id lvip_xdp)" "$xid" "XDP program on veth0 vs the pinned one"
	# VIP4 was in the unpinned map: it is on lo, not hidden, and check says so.
	run lvip check --json
	assert_status 1
	json_assert "[f.get('address') for f in d['findings'] if f['severity'] == 'exposed'] == ['$VIP4']" "$output"
	lvip vip add "$VIP4"
	no_arp_reply "$VIP4"
	run lvip check
	assert_status 0
}

@test "programs bound to unpinned maps: status and check name the mismatch (exit 1)" {
	lvip attach veth0
	lvip vip add "$VIP4"
	rm "$PIN/lvip_vip4"
	run lvip check --json
	assert_status 1
	json_assert "any(f['code'] == 'prog_maps_mismatch' and f['interface'] == 'veth0' for f in d['findings'])" "$output"
	run lvip status
	assert_status 1
	assert_contains "$output" "does not use the maps pinned in"
	run lvip vip list --json
	assert_status 0
}

@test "lvip down killed between unpinning programs and maps: the next attach binds new programs to the maps" {
	lvip attach veth0
	lvip vip add "$VIP4"
	rm "$PIN/lvip_xdp" "$PIN/lvip_tc"   # what a down killed after its first unpins leaves
	run --separate-stderr lvip attach veth0
	assert_status 0
	no_arp_reply "$VIP4"
	run lvip check
	assert_status 0
}

# ------------------------------------------------ instances (pin dirs)

@test "another pin dir's detach leaves this instance's tc filter: 'tell VIP' still rewritten on the wire" {
	local other=$BPFFS/other tc_before
	lvip_add_veth2
	lvip attach veth0
	lvip vip add "$VIP4"
	lvip_at "$other" attach veth2
	tc_before=$(tc_egress_ids "$RS" veth0)
	[ -n "$tc_before" ] || fail "no tc filter on veth0"

	run --separate-stderr lvip_at "$other" detach veth0
	assert_status 0
	assert_eq "$tc_before" "$(tc_egress_ids "$RS" veth0)" "veth0 egress filters after the other instance's detach"
	assert_eq "$RS_ADDR4" "$(tell_sender "$VIP4")" "sender of 'who-has peer tell VIP' on the wire"

	# Nor can the other instance take veth0 over.
	run --separate-stderr lvip_at "$other" attach veth0
	assert_status 1
	assert_eq "$tc_before" "$(tc_egress_ids "$RS" veth0)" "veth0 egress filters after the other instance's attach"
	run lvip_at "$other" status --json
	json_assert "[i['name'] for i in d['interfaces']] == ['veth2']" "$output"
	lvip_at "$other" down
}

# ------------------------------------------------ the pin dir and its lock

@test "the lock is never taken on a removed pin dir: a waiting run waits for the new dir's lock" {
	local pid i
	mkdir "$PIN"
	exec {HOLD_FD}<"$PIN"
	flock -x "$HOLD_FD"
	# (its copy of our locked descriptor closed: it must wait like any run)
	ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" attach veth0 {HOLD_FD}<&- &
	pid=$!
	LVIP_T_BG_PIDS+=("$pid")
	for (( i = 0; i < 100; i++ )); do   # until it has the old dir open
		ls -l "/proc/$pid/fd" 2>/dev/null | grep -qF -- "$PIN" && break
		sleep 0.05
	done
	rmdir "$PIN"
	mkdir "$PIN"
	exec {HOLD_FD2}<"$PIN"
	flock -x "$HOLD_FD2"     # a third run holds the new dir
	eval "exec $HOLD_FD<&-"; HOLD_FD=   # the old dir's lock is free
	# While the new dir is locked, the waiting run must not touch it.
	for (( i = 0; i < 20; i++ )); do
		[ "$(pin_count)" -eq 0 ] || fail "the waiting run pinned into the locked dir: $(ls "$PIN")"
		kill -0 "$pid" 2>/dev/null || fail "the waiting run finished while the new dir was locked"
		sleep 0.1
	done
	eval "exec $HOLD_FD2<&-"; HOLD_FD2=
	wait "$pid" || fail "attach failed after the lock was released"
	[ -e "$PIN/lvip_xdp" ] || fail "attach did not pin into the new dir"
}

@test "a pin dir owned by another user is refused, nothing attached, the dir untouched" {
	mkdir -m 0700 "$PIN"
	chown 65534:65534 "$PIN"
	run --separate-stderr lvip attach veth0
	assert_status 1
	assert_one_line
	assert_contains "$stderr" "owned by uid 65534"
	assert_eq 0 "$(xdp_prog_id "$RS" veth0)" "XDP program on veth0"
	assert_eq "65534 700" "$(stat -c '%u %a' "$PIN")" "owner and mode of the pin dir"
	assert_eq 0 "$(pin_count)" "entries in the pin dir"
}

@test "a pin dir lvip did not create is neither chmodded nor removed; one writable by others is refused" {
	mkdir -m 0755 "$PIN"
	lvip attach veth0
	assert_eq 755 "$(stat -c '%a' "$PIN")" "mode of the admin's pin dir after attach"
	lvip down
	[ -d "$PIN" ] || fail "down removed a pin dir lvip did not create"
	assert_eq 0 "$(pin_count)" "entries left by down"

	# A dir anyone may write to (the bpffs root is 1777): refused, unchanged.
	local open=$BPFFS/open
	mkdir -m 1777 "$open"
	chmod 1777 "$open"
	run --separate-stderr lvip_at "$open" attach veth0
	assert_status 1
	assert_one_line
	assert_contains "$stderr" "writable by others"
	assert_eq 1777 "$(stat -c '%a' "$open")" "mode of the shared dir"
	assert_eq 0 "$(xdp_prog_id "$RS" veth0)" "XDP program on veth0"

	# A dir lvip creates is 0700 and goes with down.
	lvip_at "$BPFFS/made" attach veth0
	assert_eq 700 "$(stat -c '%a' "$BPFFS/made")" "mode of the pin dir lvip created"
	lvip_at "$BPFFS/made" down
	[ ! -e "$BPFFS/made" ] || fail "down left the pin dir it created: $(ls -la "$BPFFS/made")"
}

@test "a meta map pinned but never written (ABI 0): down removes it, attach finishes it" {
	mkdir -m 0700 "$PIN"
	bpftool map create "$PIN/lvip_meta" type array key 4 value 8 entries 1 name lvip_meta
	run --separate-stderr lvip down
	assert_status 0
	[ ! -e "$PIN/lvip_meta" ] || fail "down left the unwritten meta map"
	bpftool map create "$PIN/lvip_meta" type array key 4 value 8 entries 1 name lvip_meta
	run --separate-stderr lvip attach veth0
	assert_status 0
	lvip vip add "$VIP4"
	no_arp_reply "$VIP4"
	bpftool -j map dump pinned "$PIN/lvip_meta" | json_assert "int(d[0]['value'][0], 16) == 1"
	run lvip status
	assert_status 0
}

# ------------------------------------------------ apply and watch

@test "one watcher per pin dir: a second exits 1 naming the first; changes while watched are refused" {
	local c1=$BATS_TEST_TMPDIR/a.conf c2=$BATS_TEST_TMPDIR/b.conf log=$BATS_TEST_TMPDIR/watch.log pid
	printf 'interface veth0\nvip %s\n' "$VIP4" >"$c1"
	printf 'interface veth0\nvip %s\n' "$VIP4B" >"$c2"
	bg_start pid ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" watch -f "$c1" 2>"$log"
	wait_until 10 lo_has "$RS" "$VIP4/32" || fail "watch did not apply: $(cat "$log")"

	run --separate-stderr lvip watch -f "$c2"
	assert_status 1
	assert_one_line
	assert_contains "$stderr" "pid $pid, file $c1"
	lo_has "$RS" "$VIP4B/32" && fail "the second watcher changed lo"

	run --separate-stderr lvip vip add "$VIP4B"
	assert_status 1
	assert_one_line
	assert_contains "$stderr" "pid $pid, file $c1"
	lo_has "$RS" "$VIP4B/32" && fail "vip add changed lo while refused"
	run --separate-stderr lvip down
	assert_status 1
	no_arp_reply "$VIP4"

	# The file is the way: a VIP new in it is "added", one removed behind
	# the watcher's back is "restored".
	printf 'interface veth0\nvip %s\nvip %s\n' "$VIP4" "$VIP4B" >"$c1"
	kill -HUP "$pid"
	wait_until 10 lo_has "$RS" "$VIP4B/32" || fail "the reloaded file was not applied: $(cat "$log")"
	grep -q "lvip watch: add vip $VIP4B\$" "$log" || fail "no 'add vip $VIP4B' line: $(cat "$log")"
	rs ip addr del "$VIP4/32" dev lo
	wait_until 10 lo_has "$RS" "$VIP4/32" || fail "not restored: $(cat "$log")"
	grep -q "lvip watch: restore vip $VIP4 (it was missing" "$log" || fail "no 'restore vip' line: $(cat "$log")"
	bg_stop "$pid"
	run --separate-stderr lvip vip add "$VIP4B"
	assert_status 0
}

# ------------------------------------------------ check and status
