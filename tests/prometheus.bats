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
