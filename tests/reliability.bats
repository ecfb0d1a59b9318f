#!/usr/bin/env bats
# tests/reliability.bats - kill safety, interface churn and concurrency: lvip
# killed at random moments, interfaces churning under it, and concurrent lvip
# runs.
#
# Same rules as the other namespace tests (tests/lib/netns.bash): fresh
# namespaces named with the PID and a private bpffs per test, nothing in the
# root network namespace, only 198.18.0.0/15 and 2001:db8::/32, every loop
# bounded in count and time, only processes started here are killed, by PID.
# Each test prints its figure as "# figure: ..." (README, "Reliability").

bats_require_minimum_version 1.5.0

load lib/netns
load lib/assertions

setup_file()    { lvip_env_check; lvip_tmp_setup; }
teardown_file() { lvip_tmp_teardown; }
setup()         { lvip_env_require; lvip_netns_setup; }
teardown() {
	local pid
	for pid in "${WORKER_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	WORKER_PIDS=()
	extra_ns_teardown p2
	lvip_netns_teardown
}
WORKER_PIDS=()

@test "kill safety: SIGKILL at ${LVIP_KILLS:-100} random moments of apply (500 VIPs), vip add, vip del and down" {
	local seed out
	seed=$(test_seed)
	lvip_add_veth2
	# Bounded: the driver stops at 150 s; timeout(1) is the backstop.
	run --separate-stderr timeout 240 python3 "$LVIP_LIB_DIR/killsafety.py" \
		--ns "$RS" --pin "$PIN" --lvip "$LVIP" --ifaces veth0,veth2 \
		--peer-ns "$PEER" --peer-dev veth1 --peer-addr "$PEER_ADDR4" --rs-addr "$RS_ADDR4" \
		--tmp "$BATS_TEST_TMPDIR" --kills "${LVIP_KILLS:-100}" --max-seconds 150 --seed "$seed"
	out=$output
	[ -n "$out" ] || fail "killsafety.py printed nothing (exit $status): $stderr"
	figure "$(json_eval '"kill safety: %d random kills (apply %d, apply from scratch %d, vip add %d, vip del %d, down %d) and %d aimed at %d narrow windows, %d violations, %d ARP probes of a VIP on lo unanswered; %d runs finished before the signal; seed %d; %.0f s" % (d["kills"], d["by_kind"].get("apply", 0), d["by_kind"].get("apply-scratch", 0), d["by_kind"].get("vip-add", 0), d["by_kind"].get("vip-del", 0), d["by_kind"].get("down", 0), d["aimed_kills"], d["aimed_points"], d["violations"], d["probes"], d["missed"], d["seed"], d["seconds"])' <<<"$out")"
	json_assert "d['problems'] == [] and d['violations'] == 0" "$out"
	json_assert "d['kills'] >= ${LVIP_KILLS:-100}" "$out"
	json_assert "d['aimed_kills'] == 2 * d['aimed_points']" "$out"
	assert_status 0

	# The last recovery left the base state; down leaves nothing behind.
	run --separate-stderr lvip down
	assert_status 0
	[ ! -e "$PIN" ] || fail "pin dir left after down: $(ls -la "$PIN")"
	assert_eq 0 "$(xdp_prog_id "$RS" veth0)" "XDP on veth0 after down"
	assert_eq "" "$(tc_egress_ids "$RS" veth0)" "egress filters on veth0 after down"
}

@test "interface churn: ${LVIP_CHURN_CYCLES:-50} cycles of re-create, rename, down/up, MTU, addresses, peer namespace gone" {
	local out
	run --separate-stderr timeout 200 python3 "$LVIP_LIB_DIR/churn.py" \
		--ns "$RS" --peer-ns "$(extra_ns p2)" --pin "$PIN" --lvip "$LVIP" \
		--cycles "${LVIP_CHURN_CYCLES:-50}" --max-seconds 150
	out=$output
	[ -n "$out" ] || fail "churn.py printed nothing (exit $status): $stderr"
	figure "$(json_eval '"interface churn: %d cycles, %d untruthful status/check reports or failed repairs; pins %d -> %d, lvip XDP links %d -> %d, lvip_ifstats entries %d -> %d, lvip_ifslot slots owned %d -> %d; %.0f s" % (d["cycles"], d["untruthful_or_failed"], d["before"]["pins"], d["after"]["pins"], d["before"]["lvip_links"], d["after"]["lvip_links"], d["before"]["ifstats_entries"], d["after"]["ifstats_entries"], d["before"]["ifslots_owned"], d["after"]["ifslots_owned"], d["seconds"])' <<<"$out")"
	json_assert "d['problems'] == []" "$out"
	json_assert "d['cycles'] == ${LVIP_CHURN_CYCLES:-50}" "$out"
	assert_status 0
}

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
