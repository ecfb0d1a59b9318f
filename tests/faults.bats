#!/usr/bin/env bats
# tests/faults.bats - what lvip does when the world misbehaves:
#
#  - environment faults: the pin dir not on a bpffs (tmpfs, a plain
#    directory, no bpffs at the default /sys/fs/bpf), the pin dir removed
#    underneath, the VIP map full, RLIMIT_MEMLOCK 0, no kernel BTF, netlink
#    dumps interrupted by address changes. Each must end in a clear
#    one-line error (and nothing half done) or in a documented fallback
#    (docs/cli.md);
#  - kill safety: lvip SIGKILLed at random moments never leaves a VIP on lo
#    without protection, and the next run recovers, with lvip's egress
#    through tcx and through clsact (LVIP_FORCE_CLSACT=1);
#  - interface churn under lvip: status and check stay true, nothing leaks;
#  - concurrency: concurrent lvip runs lose no update and never deadlock.
#
# Same rules as the other namespace tests (tests/lib/netns.bash): fresh
# namespaces named with the PID and a private bpffs per test, nothing in the
# root network namespace, only 198.18.0.0/15 and 2001:db8::/32, every loop
# bounded in count and time, only processes started here are killed, by PID.
# Mounts made here (a tmpfs, a tmpfs over /sys/kernel/btf) live in the
# test's temp dir or in a private mount namespace (unshare -m inside ip
# netns exec), never on the host's paths. Each long test prints its figure
# as "# figure: ..." (README, "Reliability"). The documented fallback of a
# kernel without bpf_cast_to_kern_ctx (< 6.3), lvip_tc_compat, is tested in
# operations.bats ("compat datapath", through LVIP_FORCE_COMPAT=1); in-place
# upgrades and pinned maps of another layout or ABI in upgrades.bats.

bats_require_minimum_version 1.5.0

load lib/netns
load lib/assertions

VIP4=198.18.0.100
VIP6=2001:db8::100

setup_file()    { lvip_env_check; lvip_tmp_setup; }
teardown_file() { lvip_tmp_teardown; }
setup() {
	lvip_env_require
	lvip_netns_setup
	TMPFS=
}
teardown() {
	local pid
	for pid in "${WORKER_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	WORKER_PIDS=()
	if [ -n "${TMPFS-}" ] && mountpoint -q "$TMPFS"; then
		umount "$TMPFS" || umount -l "$TMPFS"
	fi
	extra_ns_teardown p2
	lvip_netns_teardown
}
WORKER_PIDS=()

# ---------------------------------------------------------------- environment faults

# nothing_attached: veth0 carries neither XDP nor an egress filter.
nothing_attached() {
	assert_eq 0 "$(xdp_prog_id "$RS" veth0)" "XDP program on veth0"
	assert_eq "" "$(tc_egress_ids "$RS" veth0)" "egress filters on veth0"
}

@test "pin dir on a filesystem that is not bpffs (tmpfs): clear error, nothing attached, nothing left" {
	TMPFS=$BATS_TEST_TMPDIR/tmpfs
	mkdir -p "$TMPFS"
	mount -t tmpfs -o size=1m tmpfs "$TMPFS"

	run --separate-stderr lvip_at "$TMPFS/lvip" attach veth0
	assert_status 1
	assert_one_line
	assert_contains "$stderr" "not on a bpf filesystem" "the message"
	assert_contains "$stderr" "mount -t bpf" "the message (what to do)"
	nothing_attached
	[ ! -e "$TMPFS/lvip" ] || fail "attach left $TMPFS/lvip behind"

	# An existing pin dir there: vip add and down refuse the same way.
	mkdir -m 0700 "$TMPFS/lvip"
	run --separate-stderr lvip_at "$TMPFS/lvip" vip add "$VIP4"
	assert_status 1
	assert_one_line
	assert_contains "$stderr" "not on a bpf filesystem" "vip add's message"
	lo_has "$RS" "$VIP4/32" && fail "$VIP4 reached lo"
	run --separate-stderr lvip_at "$TMPFS/lvip" down
	assert_status 1
	assert_contains "$stderr" "not on a bpf filesystem" "down's message"
	run --separate-stderr lvip_at "$TMPFS/lvip" status --json
	assert_status 1
	json_assert "d['loaded'] is False" "$output"
	json_assert "any('not on a bpf filesystem' in p for p in d['problems'])" "$output"
	figure "fault: pin dir on tmpfs: attach, vip add, down exit 1 with one line ('not on a bpf filesystem (mount -t bpf ...)'), nothing attached or left; status names the problem"
}

@test "pin dir in a plain directory (bpffs not mounted there): clear error, nothing attached" {
	local plain=$BATS_TEST_TMPDIR/plain
	mkdir -p "$plain"
	[ "$(stat -f -c %T "$plain")" != bpf_fs ] || fail "$plain is on bpffs: the test cannot run"
	run --separate-stderr lvip_at "$plain/lvip" attach veth0
	assert_status 1
	assert_one_line
	assert_contains "$stderr" "not on a bpf filesystem" "the message"
	nothing_attached
	[ ! -e "$plain/lvip" ] || fail "attach left $plain/lvip behind"

	# A pin dir whose parent does not exist.
	run --separate-stderr lvip_at "$plain/nonexistent/lvip" attach veth0
	assert_status 1
	assert_one_line
	assert_contains "$stderr" "$plain/nonexistent/lvip" "the message"
	nothing_attached
	figure "fault: pin dir in a plain directory: exit 1, one line, nothing attached; missing parent: exit 1, one line naming the path"
}

@test "bpffs not mounted at the default pin dir (/sys/fs/bpf inside ip netns exec is sysfs): clear error" {
	local fstype
	fstype=$(ip netns exec "$RS" stat -f -c %T /sys/fs/bpf 2>/dev/null)
	# Only where /sys/fs/bpf is really not a bpffs: never pin into the host's.
	[ "$fstype" != bpf_fs ] || fail "/sys/fs/bpf is a bpffs inside ip netns exec here: the test cannot run safely"
	run --separate-stderr env -u LVIP_PIN_DIR ip netns exec "$RS" "$LVIP" attach veth0
	assert_status 1
	assert_one_line
	nothing_attached
	figure "fault: no bpffs at the default /sys/fs/bpf: exit 1, one line, nothing attached; message: ${stderr#lvip: }"
	[[ "$stderr" == *"bpf filesystem"* || "$stderr" == *"bpffs"* || "$stderr" == *"mount -t bpf"* ]] ||
		fail "the error does not say that no bpffs is mounted at /sys/fs/bpf (what to do: mount -t bpf bpf /sys/fs/bpf): $stderr"
}

@test "pin dir removed underneath: status, check, vip add and attach say what happened and recover" {
	local js
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4" "$VIP6"
	assert_status 0
	rm -rf "$PIN"

	# The XDP link was held by its pin only: gone with it, and so was the tcx
	# link (a clsact filter, with LVIP_FORCE_CLSACT=1, would stay).
	assert_eq 0 "$(xdp_prog_id "$RS" veth0)" "XDP on veth0 once its link pin is removed"

	run --separate-stderr lvip status --json
	assert_status 1
	json_assert "d['loaded'] is False" "$output"
	json_assert "sum('$VIP4' in p or '$VIP6' in p for p in d['problems']) == 2" "$output"
	run --separate-stderr lvip check --json
	assert_status 1
	js=$output
	json_assert "sorted(f.get('address') for f in d['findings'] if f['severity'] == 'exposed' and f.get('address')) == sorted(['$VIP4', '$VIP6'])" "$js"
	json_assert "any(f['severity'] == 'exposed' and f.get('interface') == 'veth0' and not f.get('address') for f in d['findings'])" "$js"
	run --separate-stderr lvip vip add 198.18.0.101
	assert_status 1
	assert_one_line
	assert_contains "$stderr" "lvip attach" "vip add's message (what to do)"

	# attach starts afresh: one XDP program, one lvip_tc on egress, not doubled.
	run --separate-stderr lvip attach veth0
	assert_status 0
	[ "$(xdp_prog_id "$RS" veth0)" -gt 0 ] || fail "no XDP after attach"
	assert_eq "$(pinned_prog_id lvip_tc)" "$(tc_egress_ids "$RS" veth0)" "egress filters on veth0 (only the new lvip_tc)"
	# The VIPs still on lo are adopted (lvip's record of owning them went with the pins).
	run --separate-stderr lvip vip add "$VIP4" "$VIP6"
	assert_status 0
	run --separate-stderr lvip check
	assert_status 0
	run --separate-stderr lvip vip list --json
	json_assert "sorted((v['address'], v['on_lo']) for v in d) == sorted([('$VIP4', True), ('$VIP6', True)])" "$output"
	figure "fault: pin dir removed while attached: status 'not loaded', check exit 1 naming both VIPs and veth0, vip add exit 1 ('run lvip attach'), attach recovers (one tc filter), VIPs adopted, check exit 0"
}

@test "map full (attach --max-vips 4): vip add of 5 exits 1 with a clear error, nothing half-added" {
	local before
	run --separate-stderr lvip attach veth0 --max-vips 4
	assert_status 0
	before=$(lvip_state_snapshot)

	run --separate-stderr lvip vip add 198.18.0.101 198.18.0.102 198.18.0.103 198.18.0.104 198.18.0.105
	assert_status 1
	assert_one_line
	assert_contains "$stderr" "full" "the message"
	assert_contains "$stderr" "--max-vips" "the message (what to do)"
	assert_state_unchanged "$before" "state after the refused vip add"

	run --separate-stderr lvip vip add 2001:db8::101 2001:db8::102 2001:db8::103 2001:db8::104 2001:db8::105
	assert_status 1
	assert_one_line
	assert_state_unchanged "$before" "state after the refused IPv6 vip add"

	# Filled to capacity, one more is refused; the four stay as they were.
	run --separate-stderr lvip vip add 198.18.0.101 198.18.0.102 198.18.0.103 198.18.0.104
	assert_status 0
	before=$(lvip_state_snapshot)
	run --separate-stderr lvip vip add 198.18.0.105
	assert_status 1
	assert_one_line
	assert_contains "$stderr" "full" "the message"
	assert_state_unchanged "$before" "state after the refused fifth VIP"

	# apply too: all or nothing.
	printf '%s\n' "interface veth0" "vip 198.18.0.101" "vip 198.18.0.102" "vip 198.18.0.103" \
		"vip 198.18.0.104" "vip 198.18.0.105" "vip 198.18.0.106" >"$BATS_TEST_TMPDIR/full.conf"
	run --separate-stderr lvip apply -f "$BATS_TEST_TMPDIR/full.conf"
	assert_status 1
	assert_contains "$stderr" "full" "apply's message"
	assert_state_unchanged "$before" "state after the refused apply"
	figure "fault: VIP map full (--max-vips 4): 5 IPv4, 5 IPv6, a 5th VIP and apply of 6 each exit 1 with one line ('the VIP map is full ... --max-vips'), state byte-for-byte unchanged"
}

@test "memlock limit 0 that lvip cannot raise: on >= 5.11 BPF memory is charged to the memory cgroup, lvip works" {
	local -a cage=(prlimit --memlock=0:0 setpriv --bounding-set -sys_resource --inh-caps -sys_resource)
	local major minor
	# The cage holds: nothing in it can raise RLIMIT_MEMLOCK.
	run "${cage[@]}" prlimit --memlock=unlimited:unlimited true
	[ "$status" -ne 0 ] || fail "RLIMIT_MEMLOCK could be raised in the cage: the test proves nothing"
	IFS=. read -r major minor _ <<<"$(uname -r)"

	run --separate-stderr "${cage[@]}" ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" attach veth0
	if (( major > 5 || (major == 5 && minor >= 11) )); then
		assert_status 0
		run --separate-stderr "${cage[@]}" ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" vip add "$VIP4" "$VIP6"
		assert_status 0
		run --separate-stderr "${cage[@]}" ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" stats --json
		assert_status 0
		[ "$(xdp_prog_id "$RS" veth0)" -gt 0 ] || fail "no XDP program"
		lo_has "$RS" "$VIP4/32" || fail "$VIP4 not on lo"
		figure "memlock: RLIMIT_MEMLOCK 0 (CAP_SYS_RESOURCE dropped, so lvip cannot raise it): attach, vip add and stats work on $(uname -r): BPF memory is charged to the memory cgroup since 5.11"
	else
		# Before 5.11 the limit applies: a clear one-line error (docs/cli.md).
		assert_status 1
		assert_one_line
	fi
}

@test "kernel BTF missing (tmpfs over /sys/kernel/btf in a private mount namespace): a clear error naming BTF" {
	# libbpf also looks in /boot, /lib/modules/R, /usr/lib/modules/R and
	# /usr/lib/debug: hidden too, in the same private mount namespace.
	run --separate-stderr ip netns exec "$RS" unshare -m sh -c '
		r=$(uname -r)
		for d in /sys/kernel/btf /boot /lib/modules/$r /usr/lib/modules/$r /usr/lib/debug; do
			[ -d "$d" ] || continue
			mount -t tmpfs -o size=1m none "$d" || exit 97
		done
		exec "$0" --pin-dir "$1" attach veth0' "$LVIP" "$PIN"
	[ "$status" -ne 97 ] || fail "could not hide the kernel BTF in a private mount namespace: $stderr"
	assert_status 1
	assert_one_line
	nothing_attached
	[ ! -e "$PIN" ] || fail "a pin dir was left behind: $(ls -la "$PIN")"
	figure "fault: no kernel BTF: exit 1, one line, nothing attached or pinned; message: ${stderr#lvip: }"
	[[ "$stderr" == *BTF* ]] ||
		fail "the error does not say that the kernel's BTF is missing (README: lvip needs kernel BTF): $stderr"
}

# toggle_addr NS DEV N: add and remove 198.18.9.1/32 on DEV, N times.
toggle_addr() {
	local i
	for ((i = 0; i < $3; i++)); do
		ip -n "$1" addr add 198.18.9.1/32 dev "$2" 2>/dev/null
		ip -n "$1" addr del 198.18.9.1/32 dev "$2" 2>/dev/null
	done
}

@test "addresses changing during lvip's netlink dumps (NLM_F_DUMP_INTR): check, vip list, status dump again and succeed" {
	local vips=() toggler fails=0 out i j
	for ((i = 10; i < 18; i++)); do
		for ((j = 1; j <= 250; j++)); do vips+=("198.18.$i.$j"); done
	done
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add "${vips[@]}"
	assert_status 0
	# 2,000 addresses on lo: a dump spans many reads, and every address
	# change in the namespace meanwhile marks it interrupted
	bg_start toggler timeout 120 bash -c "$(declare -f toggle_addr); toggle_addr $RS veth0 20000"
	for ((i = 0; i < 15; i++)); do
		out=$(lvip check --json 2>&1) || { fails=$((fails + 1)); echo "check: $out" | tail -n 1 >&2; }
		out=$(lvip vip list --json 2>&1) || { fails=$((fails + 1)); echo "vip list: $out" | tail -n 1 >&2; }
		[ "$(json_eval 'len(d)' <<<"$out" 2>/dev/null)" = 2000 ] || { fails=$((fails + 1)); echo "vip list: not 2000 VIPs" >&2; }
		out=$(lvip status --json 2>&1) || { fails=$((fails + 1)); echo "status: $out" | tail -n 1 >&2; }
	done
	kill -0 "$toggler" 2>/dev/null || fail "the address changes stopped before the last dump: nothing was tested"
	bg_stop "$toggler"
	assert_eq 0 "$fails" "lvip runs that failed or read a wrong state while addresses changed"
	figure "netlink dump interrupted by address changes (2,000 VIPs on lo, an address toggled meanwhile): 45 check/vip list/status runs, 0 failed (before the retry: 36 of 40 check runs failed with 'Interrupted system call')"
}

# ---------------------------------------------------------------- kill safety

# kill_safety PATH [--share]: the kill-safety run, lvip's egress through
# PATH (tcx, or clsact with LVIP_FORCE_CLSACT=1 exported by the caller);
# --share: XDP through libxdp's dispatcher.
kill_safety() {
	local path=$1 seed out
	shift
	seed=$(test_seed)
	lvip_add_veth2
	# Bounded: the driver stops at 150 s; timeout(1) is the backstop.
	run --separate-stderr timeout 240 python3 "$LVIP_LIB_DIR/killsafety.py" \
		--ns "$RS" --pin "$PIN" --lvip "$LVIP" --ifaces veth0,veth2 \
		--peer-ns "$PEER" --peer-dev veth1 --peer-addr "$PEER_ADDR4" --rs-addr "$RS_ADDR4" \
		--tmp "$BATS_TEST_TMPDIR" --kills "${LVIP_KILLS:-100}" --max-seconds 150 --seed "$seed" "$@"
	out=$output
	[ -n "$out" ] || fail "killsafety.py printed nothing (exit $status): $stderr"
	figure "$(json_eval '"kill safety ('"$path"'): %d random kills (apply %d, apply from scratch %d, vip add %d, vip del %d, down %d) and %d aimed at %d narrow windows, %d violations, %d ARP probes of a VIP on lo unanswered; %d runs finished before the signal; seed %d; %.0f s" % (d["kills"], d["by_kind"].get("apply", 0), d["by_kind"].get("apply-scratch", 0), d["by_kind"].get("vip-add", 0), d["by_kind"].get("vip-del", 0), d["by_kind"].get("down", 0), d["aimed_kills"], d["aimed_points"], d["violations"], d["probes"], d["missed"], d["seed"], d["seconds"])' <<<"$out")"
	json_assert "d['problems'] == [] and d['violations'] == 0" "$out"
	json_assert "d['kills'] >= ${LVIP_KILLS:-100}" "$out"
	json_assert "d['aimed_kills'] == 2 * d['aimed_points']" "$out"
	assert_status 0

	# The last recovery left the base state; down leaves nothing behind.
	run --separate-stderr lvip down
	assert_status 0
	[ ! -e "$PIN" ] || fail "pin dir left after down: $(ls -la "$PIN")"
	assert_eq 0 "$(xdp_prog_id "$RS" veth0)" "XDP on veth0 after down"
	assert_eq "" "$(tc_egress_ids "$RS" veth0)" "egress programs on veth0 after down"
}

@test "kill safety: SIGKILL at ${LVIP_KILLS:-100} random moments of apply (500 VIPs), vip add, vip del and down" {
	kill_safety tcx
}

@test "kill safety, egress through clsact (LVIP_FORCE_CLSACT=1): the same ${LVIP_KILLS:-100} kills" {
	export LVIP_FORCE_CLSACT=1
	kill_safety clsact
}

@test "kill safety, XDP shared through libxdp's dispatcher (interface ... share): the same ${LVIP_KILLS:-100} kills" {
	need_dispatcher
	kill_safety "libxdp dispatcher" --share
}

# ---------------------------------------------------------------- interface churn

# churn LABEL [--share]: the interface churn run.
churn() {
	local label=$1 out
	shift
	run --separate-stderr timeout 200 python3 "$LVIP_LIB_DIR/churn.py" \
		--ns "$RS" --peer-ns "$(extra_ns p2)" --pin "$PIN" --lvip "$LVIP" \
		--cycles "${LVIP_CHURN_CYCLES:-50}" --max-seconds 150 "$@"
	out=$output
	[ -n "$out" ] || fail "churn.py printed nothing (exit $status): $stderr"
	figure "$(json_eval '"interface churn ('"$label"'): %d cycles, %d untruthful status/check reports or failed repairs; pins %d -> %d, lvip XDP links %d -> %d, lvip_ifstats entries %d -> %d, lvip_ifslot slots owned %d -> %d; %.0f s" % (d["cycles"], d["untruthful_or_failed"], d["before"]["pins"], d["after"]["pins"], d["before"]["lvip_links"], d["after"]["lvip_links"], d["before"]["ifstats_entries"], d["after"]["ifstats_entries"], d["before"]["ifslots_owned"], d["after"]["ifslots_owned"], d["seconds"])' <<<"$out")"
	json_assert "d['problems'] == []" "$out"
	json_assert "d['cycles'] == ${LVIP_CHURN_CYCLES:-50}" "$out"
	assert_status 0
}

@test "interface churn: ${LVIP_CHURN_CYCLES:-50} cycles of re-create, rename, down/up, MTU, addresses, peer namespace gone" {
	churn "lvip's XDP link"
}

@test "interface churn, XDP shared through libxdp's dispatcher (attach --xdp-share): the same ${LVIP_CHURN_CYCLES:-50} cycles" {
	need_dispatcher
	churn "libxdp dispatcher" --share
}

# ---------------------------------------------------------------- concurrency

# One worker: 50 random vip add/del, each run logged as
# "WORKER SEQ OP VIP T0 T1 EXIT" (T0/T1 around the run, $EPOCHREALTIME).
concurrency_worker() {
	local w=$1 n=$2 log=$3 i op vip t0 t1 rc
	local -a mine=("198.18.8.$((w * 8 + 1))" "198.18.8.$((w * 8 + 2))" "198.18.8.$((w * 8 + 3))"
		"198.18.8.$((w * 8 + 4))" "2001:db8:8::$w:1" "2001:db8:8::$w:2")
	local -a shared=(198.18.9.1 198.18.9.2 198.18.9.3 2001:db8:9::1)
	RANDOM=$(( CONC_SEED + w ))
	for (( i = 0; i < n; i++ )); do
		if (( RANDOM % 10 < 6 )); then
			vip=${mine[RANDOM % ${#mine[@]}]}
		else
			vip=${shared[RANDOM % ${#shared[@]}]}
		fi
		(( RANDOM % 2 )) && op=add || op=del
		t0=$EPOCHREALTIME
		timeout 30 ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" vip "$op" "$vip" >/dev/null 2>>"$log.err"
		rc=$?
		t1=$EPOCHREALTIME
		echo "$w $i $op $vip $t0 $t1 $rc" >>"$log"
	done
}

# The interface worker: attach and detach veth2, N times each, alongside
# the VIP workers; one line per run "OP EXIT" in LOG.
iface_worker() {
	local n=$1 log=$2 i op
	for (( i = 0; i < 2 * n; i++ )); do
		(( i % 2 )) && op=detach || op=attach
		timeout 30 ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" "$op" veth2 >/dev/null 2>>"$log.err"
		echo "$op $?" >>"$log"
	done
}

@test "concurrency: 8 lvip processes x 50 random vip add/del on own and shared VIPs, with attach/detach alongside" {
	local dir=$BATS_TEST_TMPDIR/conc w pid out start elapsed alive vip tx rx
	mkdir -p "$dir/logs"
	CONC_SEED=$(test_seed)
	lvip_add_veth2
	run --separate-stderr lvip attach veth0
	assert_status 0

	start=$(date +%s)
	for (( w = 0; w < 8; w++ )); do
		concurrency_worker "$w" 50 "$dir/logs/w$w" &
		WORKER_PIDS+=("$!")
	done
	iface_worker 25 "$dir/iface.log" &
	WORKER_PIDS+=("$!")
	# No deadlock: all 400 runs done within 120 s, else the workers are
	# killed (by PID) in teardown and the test fails.
	wait_until 120 bash -c 'for p in "$@"; do kill -0 "$p" 2>/dev/null && exit 1; done; exit 0' _ "${WORKER_PIDS[@]}" ||
		fail "workers still running after 120 s (deadlock?): $(tail -n 2 "$dir"/logs/w* 2>/dev/null)"
	for pid in "${WORKER_PIDS[@]}"; do wait "$pid"; done
	WORKER_PIDS=()
	elapsed=$(( $(date +%s) - start ))
	cat "$dir"/logs/*.err 2>/dev/null | grep -v '^$' | grep -vi 'nothing to do' | head -n 5 >&2 || true

	run --separate-stderr python3 "$LVIP_LIB_DIR/concurrency.py" verify "$dir/logs" "$RS" "$PIN" "$LVIP"
	out=$output
	[ -n "$out" ] || fail "concurrency.py printed nothing: $stderr"
	figure "$(json_eval '"concurrency: %d processes x 50 = %d runs (%d add, %d del) on %d own and %d shared VIPs, %d lost updates, %d failed runs, no deadlock; run latency median %.0f ms, max %.0f ms; seed %s" % (d["workers"], d["runs"], d["adds"], d["dels"], d["own_vips"], d["shared_vips"], d["lost_updates"], d["failed_runs"], d["latency_ms_median"], d["latency_ms_max"], "'"$CONC_SEED"'")' <<<"$out")"
	json_assert "d['runs'] == 400 and d['problems'] == [] and d['lost_updates'] == 0 and d['failed_runs'] == 0" "$out"
	assert_status 0
	assert_eq "50 0" "$(awk '{ n++; if ($2 != 0) bad++ } END { print n, bad + 0 }' "$dir/iface.log")" \
		"attach/detach runs of veth2, and how many failed: $(cat "$dir/iface.log.err" 2>/dev/null)"
	run lvip_state_invariant_veth0
	assert_status 0
	# The wire: every IPv4 VIP left on lo is unanswered on veth0.
	for vip in $(rs ip -4 -o addr show dev lo | awk '$4 != "127.0.0.1/8" { sub("/32", "", $4); print $4 }'); do
		read -r tx rx < <(arp_probe "$vip" 1)
		[ "$tx" -ge 1 ] && [ "$rx" -eq 0 ] || fail "ARP for VIP $vip: $tx sent, $rx answered"
	done
	lvip attach veth2   # the worker ended detached: an up interface to attach
	run --separate-stderr lvip check
	assert_status 0
}

lvip_state_invariant_veth0() {
	lvip_invariant strict veth0
}
