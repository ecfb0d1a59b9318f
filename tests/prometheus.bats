#!/usr/bin/env bats
# lvip stats --prometheus: the text exposition format checked by promtool,
# counting real ARP requests sent from the peer namespace, and served by a
# real prometheus-node-exporter (textfile collector) started inside the real
# server's namespace. Nothing touches the root network namespace; the node
# exporter listens on 198.18.0.11 in the test namespace and is killed by PID.

load lib/netns

setup_file() {
	lvip_env_check
	local c
	for c in promtool prometheus-node-exporter curl arping; do
		[ -n "$LVIP_SKIP_REASON" ] && break
		command -v "$c" >/dev/null 2>&1 ||
			LVIP_SKIP_REASON="$c not installed (make deps installs it)"
	done
	export LVIP_SKIP_REASON
	lvip_tmp_setup
}
teardown_file() { lvip_tmp_teardown; }

setup() {
	lvip_env_require
	lvip_netns_setup
	NE_PID=
	TEXTFILE=$LVIP_T_TMP/textfile-$BATS_TEST_NUMBER
	mkdir -p "$TEXTFILE"
}

teardown() {
	# Only the node exporter this test started, by its PID.
	if [ -n "${NE_PID-}" ]; then
		kill "$NE_PID" 2>/dev/null
		wait "$NE_PID" 2>/dev/null
	fi
	lvip_netns_teardown
}

# protect_and_probe N: attach to veth0, two VIPs, then N ARP requests for
# the IPv4 VIP from the peer (none answered).
protect_and_probe() {
	lvip attach veth0 >/dev/null
	lvip vip add 198.18.0.100 2001:db8::100 >/dev/null
	assert_eq "$1 0" "$(arp_probe 198.18.0.100 "$1")" "ARP requests sent, replies"
}

# sample NAME{LABELS} < exposition: the value of one series (exact match of
# the series name and labels as written by lvip).
sample() {
	awk -v s="$1" '$1 == s { print $2; found = 1 } END { exit !found }'
}

@test "stats --prometheus passes promtool check metrics and counts the dropped ARP requests" {
	protect_and_probe 3
	run lvip stats --prometheus
	assert_status 0
	local out=$output
	printf '%s\n' "$out" | sed 's/^/# /' >&3

	run promtool check metrics <<<"$out"
	assert_status 0
	assert_eq "" "$output" "promtool check metrics output"

	# The same numbers as stats --json.
	local js
	js=$(lvip stats --json)
	assert_eq 3 "$(json_eval "d['reasons']['arp_in_dropped']" <<<"$js")" "arp_in_dropped (json)"
	assert_eq 3 "$(sample 'lvip_packets_total{reason="arp_in_dropped"}' <<<"$out")" arp_in_dropped
	local r
	for r in arp_in_dropped arp_out_dropped arp_out_rewritten nd_in_dropped nd_out_dropped vip_rx malformed; do
		assert_eq "$(json_eval "d['reasons']['$r']" <<<"$js")" \
			"$(sample "lvip_packets_total{reason=\"$r\"}" <<<"$out")" "lvip_packets_total $r" || return 1
		sample "lvip_interface_packets_total{interface=\"veth0\",reason=\"$r\"}" <<<"$out" >/dev/null ||
			fail "no lvip_interface_packets_total for veth0, $r"
	done
	assert_eq 3 "$(sample 'lvip_interface_packets_total{interface="veth0",reason="arp_in_dropped"}' <<<"$out")" "veth0 arp_in_dropped"
	assert_eq 3 "$(sample 'lvip_vip_dropped_total{vip="198.18.0.100",proto="arp"}' <<<"$out")" "VIP ARP dropped"
	assert_eq 0 "$(sample 'lvip_vip_dropped_total{vip="2001:db8::100",proto="nd"}' <<<"$out")" "VIP6 ND dropped"
	sample 'lvip_vip_packets_total{vip="198.18.0.100"}' <<<"$out" >/dev/null || fail "no lvip_vip_packets_total"
	sample 'lvip_vip_bytes_total{vip="2001:db8::100"}' <<<"$out" >/dev/null || fail "no lvip_vip_bytes_total"
	assert_eq 2 "$(sample lvip_vips <<<"$out")" lvip_vips
	assert_eq 1 "$(sample lvip_interfaces_attached <<<"$out")" lvip_interfaces_attached
	assert_eq 1 "$(sample 'lvip_vip_on_lo{vip="198.18.0.100"}' <<<"$out")" "lvip_vip_on_lo"

	# Every family has HELP and TYPE, of the right kind.
	local fam kind
	while read -r fam kind; do
		grep -q "^# HELP $fam " <<<"$out" || fail "no HELP for $fam"
		assert_eq "$kind" "$(awk -v f="$fam" '$1 == "#" && $2 == "TYPE" && $3 == f { print $4 }' <<<"$out")" "TYPE of $fam" || return 1
	done <<'EOF'
lvip_packets_total counter
lvip_interface_packets_total counter
lvip_vip_packets_total counter
lvip_vip_bytes_total counter
lvip_vip_dropped_total counter
lvip_vips gauge
lvip_interfaces_attached gauge
lvip_vip_on_lo gauge
EOF
}

@test "a VIP off lo reads lvip_vip_on_lo 0" {
	lvip attach veth0 >/dev/null
	lvip vip add --no-lo 198.18.0.100 >/dev/null
	run lvip stats --prometheus
	assert_status 0
	assert_eq 0 "$(sample 'lvip_vip_on_lo{vip="198.18.0.100"}' <<<"$output")" "lvip_vip_on_lo"
	run promtool check metrics <<<"$output"
	assert_status 0
}

@test "node_exporter's textfile collector serves lvip's series on /metrics" {
	protect_and_probe 2
	# As documented: write beside, then rename into place.
	lvip stats --prometheus > "$TEXTFILE/lvip.prom.$$"
	mv "$TEXTFILE/lvip.prom.$$" "$TEXTFILE/lvip.prom"

	# ip netns exec execs the command itself: $! is the node exporter.
	ip netns exec "$RS" prometheus-node-exporter \
		--web.listen-address="$RS_ADDR4:9100" \
		--collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$TEXTFILE" \
		> "$LVIP_T_TMP/node-exporter-$BATS_TEST_NUMBER.log" 2>&1 &
	NE_PID=$!
	wait_until 10 rs curl -sf -o /dev/null "http://$RS_ADDR4:9100/metrics" ||
		fail "node exporter not ready in 10 s: $(cat "$LVIP_T_TMP/node-exporter-$BATS_TEST_NUMBER.log")"
	assert_eq prometheus-node "$(cut -c1-15 "/proc/$NE_PID/comm")" "process behind NE_PID"

	# Scraped from the peer, across the veth lvip is attached to.
	local page
	page=$(peer curl -sf --max-time 10 "http://$RS_ADDR4:9100/metrics")
	assert_eq 2 "$(sample 'lvip_packets_total{reason="arp_in_dropped"}' <<<"$page")" "served arp_in_dropped"
	assert_eq 2 "$(sample 'lvip_vip_dropped_total{proto="arp",vip="198.18.0.100"}' <<<"$page")" "served VIP ARP dropped"
	assert_eq 2 "$(sample lvip_vips <<<"$page")" "served lvip_vips"
	assert_eq 1 "$(sample 'lvip_vip_on_lo{vip="2001:db8::100"}' <<<"$page")" "served lvip_vip_on_lo"
	grep -q '^# TYPE lvip_packets_total counter' <<<"$page" || fail "no TYPE on /metrics"
	assert_eq 0 "$(sample node_textfile_scrape_error <<<"$page")" node_textfile_scrape_error
	run promtool check metrics <<<"$page"
	assert_status 0

	# A new file is served at the next scrape: more ARP, rewrite, fetch.
	assert_eq "1 0" "$(arp_probe 198.18.0.100 1)" "ARP requests sent, replies"
	lvip stats --prometheus > "$TEXTFILE/lvip.prom.$$"
	mv "$TEXTFILE/lvip.prom.$$" "$TEXTFILE/lvip.prom"
	page=$(peer curl -sf --max-time 10 "http://$RS_ADDR4:9100/metrics")
	assert_eq 3 "$(sample 'lvip_packets_total{reason="arp_in_dropped"}' <<<"$page")" "served arp_in_dropped after more ARP"

	kill "$NE_PID"
	wait "$NE_PID" || true
	NE_PID=
}

@test "bash completion offers the VIPs of a running lvip for vip del" {
	lvip attach veth0 >/dev/null
	lvip vip add 198.18.0.100 2001:db8::100 >/dev/null
	# lvip as the completion calls it: COMP_WORDS[0] with the --pin-dir given.
	local w=$LVIP_T_TMP/lvip-in-ns
	printf '#!/bin/sh\nexec ip netns exec "%s" "%s" "$@"\n' "$RS" "$LVIP" > "$w"
	chmod +x "$w"
	run bash -c '
		source "$1"
		COMP_WORDS=("$2" --pin-dir "$3" vip del ""); COMP_CWORD=5; COMPREPLY=()
		_lvip
		printf "%s\n" "${COMPREPLY[@]}" | sort | xargs' \
		comp "$LVIP_REPO/packaging/lvip.bash-completion" "$w" "$PIN"
	assert_status 0
	assert_eq "198.18.0.100 2001:db8::100" "$output" "completed VIPs"
}
