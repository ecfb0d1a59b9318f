#!/usr/bin/env bats
# tests/safety.bats - paths by which a VIP could end up answered on the wire
# (or the server cut off) while lvip says all is well, and who may touch
# lvip's state:
#
#  - programs bound to maps that are no longer pinned (a removed pin, a
#    down killed halfway): attach rebinds, status and check name it;
#  - instances: another pin dir's detach or attach leaves this instance's
#    interface alone;
#  - the pin dir (docs/pins.md): its lock, its owner, its modes (0700, pins
#    0600, whatever the umask; a dir lvip did not create neither chmodded
#    nor removed), a meta map pinned but never written;
#  - the watcher: one per pin dir, and changes behind its back refused;
#  - security: an unprivileged user can neither read nor change the maps
#    nor use lvip; no string from the command line, the config, an
#    interface name or a pin dir reaches a shell or a format string; make
#    check SANITIZE=1 runs sanitized binaries.
#
# Each test judges what the kernel does (an ARP reply or none, the frames
# on the wire, the pins' modes) and what status/check say about it.
#
#   RS   namespace: lo, veth0 198.18.0.11/24 2001:db8::11/64 (the real server)
#   PEER namespace: lo, veth1 198.18.0.1/24  2001:db8::1/64  (a neighbour)

bats_require_minimum_version 1.5.0

load lib/netns
load lib/assertions

VIP4=198.18.0.100
VIP4B=198.18.0.101
VIP6=2001:db8::100
NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
MARK=lvip-pwned

setup_file() {
	lvip_env_check
	lvip_tmp_setup
}
teardown_file() { lvip_tmp_teardown; }
setup() {
	lvip_env_require
	lvip_netns_setup
	CWD=$BATS_TEST_TMPDIR/cwd
	mkdir -p "$CWD"
	rm -f "/tmp/$MARK"
}
teardown() {
	[ -n "${HOLD_FD-}" ] && eval "exec $HOLD_FD<&-"
	[ -n "${HOLD_FD2-}" ] && eval "exec $HOLD_FD2<&-"
	HOLD_FD= HOLD_FD2=
	[ -n "${LVIP_T_TMP-}" ] && chmod 0700 "$LVIP_T_TMP"
	lvip_netns_teardown
	rm -f "/tmp/$MARK"
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

# ------------------------------------------------ the pin dir: its lock, owner and modes

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

# down_killed_at POINT: lvip down stopped at POINT (LVIP_TEST_STOP_AT) and
# killed there.
down_killed_at() {
	local pid
	bg_start pid ip netns exec "$RS" env LVIP_TEST_STOP_AT="$1" "$LVIP" --pin-dir "$PIN" down
	wait_until 10 grep -q '^State:.*stopped' "/proc/$pid/status" || fail "lvip down never stopped at $1"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
}

@test "down killed while removing the pin dir it created: the next attach and down leave nothing behind" {
	local point left
	for point in pindir-renamed pindir-unmarked; do
		lvip attach veth0
		lvip vip add "$VIP4"
		down_killed_at "$point"
		lvip attach veth0
		lvip vip add "$VIP4"
		assert_eq "3 0" "$(arp_probe "$VIP4")" "ARP for the VIP after the kill and attach (sent, answered)"
		lvip down
		left=$(ls -A "$(dirname "$PIN")" | grep -F "$(basename "$PIN")" || true)
		[ -z "$left" ] || fail "killed at $point, then attach and down: left $left"
	done
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

@test "pin permissions: dir 0700, every pin 0600, every contract pin present" {
	local ifx p mode bad=""
	ifx=$(ifindex "$RS" veth0)
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4" "$VIP6"
	assert_status 0

	assert_eq 700 "$(stat -c %a "$PIN")" "mode of the pin dir"
	for p in lvip_vip4 lvip_vip6 lvip_stats lvip_ifstats lvip_ifslot lvip_ifaddr lvip_ifmode lvip_observing lvip_meta \
		lvip_events lvip_mon lvip_monrate lvip_tunnel lvip_tunaddr lvip_tunstats lvip_tunlocal lvip_xdp lvip_tc "xdp_$ifx"; do
		[ -e "$PIN/$p" ] || bad+="missing pin $p"$'\n'
	done
	while IFS= read -r -d '' p; do
		mode=$(stat -c %a "$p")
		if [ -d "$p" ]; then
			[ "$mode" = 700 ] || bad+="$p: directory mode $mode, expected 700"$'\n'
		else
			[ "$mode" = 600 ] || bad+="$p: mode $mode, expected 600"$'\n'
		fi
	done < <(find "$PIN" -mindepth 1 -print0)
	[ -z "$bad" ] || fail "$bad$(ls -laR "$PIN")"

	# The maps carry BTF: bpftool prints named fields.
	bpftool map dump pinned "$PIN/lvip_stats" | grep -q '"arp_in_dropped"' ||
		fail "bpftool map dump of lvip_stats shows no named fields"
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
	figure "security: pin dir 0700 and all $(find "$PIN" -mindepth 1 -not -type d | wc -l) pins 0600 under umask 000; a pre-existing 0777 dir refused, its mode kept (modes right after attach: 'pin permissions')"
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
	local abi
	abi=$("$LVIP" --version | sed -E 's/.*\(ABI ([0-9]+)\).*/\1/')
	bpftool -j map dump pinned "$PIN/lvip_meta" | json_assert "int(d[0]['value'][0], 16) == $abi"
	run lvip status
	assert_status 0
}

# ------------------------------------------------ the watcher

# addr_marks: lo's addresses in the real server's namespace with their
# IFA_PROTO and IFA_LABEL ("ADDR proto=N label=L"; Debian 12's ip does not
# print the protocol).
addr_marks() { rs python3 "$LVIP_LIB_DIR/addrmarks.py" lo; }

@test "lo addresses carry lvip's mark (proto 0x6c): ownership survives lost pins, vip del removes the VIP from lo" {
	local marks
	lvip attach veth0
	lvip vip add "$VIP4" "$VIP6"
	rs ip addr add "$VIP4B/32" dev lo # someone else's
	marks=$(addr_marks)
	# 108 = 0x6c; where the kernel has no IFA_PROTO, the IPv4 label is lo:lvip.
	grep -qxE "$VIP4 (proto=108|proto=-) label=lo:lvip" <<< "$marks" || fail "$marks"
	grep -qx "$VIP6 proto=108 label=-" <<< "$marks" || fail "$marks"
	grep -qx "$VIP4B proto=- label=lo" <<< "$marks" || fail "$marks"
	rs ip -o addr show dev lo | grep -q " $VIP4/32 .*lo:lvip" || fail "ip addr does not show lvip's label: $(rs ip -o addr show dev lo)"
	# The pins are lost (the maps with them); lvip put the VIPs on lo all the same.
	rm -rf "$PIN"
	lvip attach veth0
	lvip vip add "$VIP4" "$VIP6" "$VIP4B"
	lvip vip list --json | json_assert "{v['address']: v['owner'] for v in d} == {'$VIP4': 'lvip', '$VIP6': 'lvip', '$VIP4B': 'found'}"
	lvip vip del "$VIP4" "$VIP6" "$VIP4B"
	! lo_has "$RS" "$VIP4/32" || fail "$VIP4 left on lo"
	! lo_has "$RS" "$VIP6/128" || fail "$VIP6 left on lo"
	lo_has "$RS" "$VIP4B/32" || fail "$VIP4B, not lvip's, taken off lo"
}

@test "lvip's mark: with no address on lo to show IFA_PROTO, the kernel is asked (proto 0x6c); without IFA_PROTO, the label lo:lvip" {
	local marks
	rs ip addr flush dev lo # no ::1: nothing shows whether the kernel has IFA_PROTO
	lvip attach veth0
	lvip vip add "$VIP4"
	marks=$(addr_marks)
	grep -qx "$VIP4 proto=108 label=lo:lvip" <<< "$marks" || fail "$marks"
	# A kernel without IFA_PROTO (before 5.18): the IPv4 label instead.
	LVIP_TEST_NO_IFA_PROTO=1 lvip vip add "$VIP4B" "$VIP6"
	marks=$(addr_marks)
	grep -qx "$VIP4B proto=- label=lo:lvip" <<< "$marks" || fail "$marks"
	grep -qx "$VIP6 proto=- label=-" <<< "$marks" || fail "$marks"
	rm -rf "$PIN"
	lvip attach veth0
	lvip vip add "$VIP4" "$VIP4B" "$VIP6"
	# IPv6 addresses have no label: without IFA_PROTO they carry no mark.
	lvip vip list --json | json_assert "{v['address']: v['owner'] for v in d} == {'$VIP4': 'lvip', '$VIP4B': 'lvip', '$VIP6': 'found'}"
	lvip vip del "$VIP4B"
	! lo_has "$RS" "$VIP4B/32" || fail "$VIP4B left on lo"
}

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

# ------------------------------------------------ security: unprivileged users

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

	for c in "vip add 198.18.0.101" "vip del $VIP4" "vip list" "vip release $VIP4" "vip hide $VIP4" \
		"attach veth0" "detach veth0" "down" "stats" "status" "check" "apply -f /dev/null"; do
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
	figure "security: as nobody, the pin dir cannot be listed, bpftool map dump/update/delete and prog show on the pins fail, 12 lvip commands exit 1 with 'needs root (CAP_NET_ADMIN and CAP_BPF or CAP_SYS_ADMIN)' (--help works), state unchanged"
}

# ------------------------------------------------ security: no string reaches a shell

# no_marker: no payload ran: no marker file in the working dir, /tmp or /.
no_marker() {
	local f
	for f in "$CWD/$MARK" "/tmp/$MARK" "/$MARK" "$CWD/pw" "$CWD/pwned"; do
		[ ! -e "$f" ] || fail "$f was created: a string reached a shell"
	done
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

# ------------------------------------------------ memory safety: the sanitizer run

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
