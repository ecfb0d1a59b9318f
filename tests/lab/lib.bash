# shellcheck shell=bash
# tests/lab/lib.bash - small helpers for the LVS-DR lab (tests/lab/lab.bash),
# the guided demo (tests/lab/demo.sh) and the lab's bats files.
#
# Nothing here touches a network namespace; see lab.bash for the lab itself.
# Rules kept: every loop is bounded in count and in time; only processes
# started by the lab are signalled, by PID.

# The python3 the lab runs: Debian's own when there (a python3 earlier in
# PATH may be a slow version-manager shim).
if [ -z "${LAB_PY-}" ]; then
	if [ -x /usr/bin/python3 ]; then LAB_PY=/usr/bin/python3; else LAB_PY=python3; fi
fi
export LAB_PY

# lab_wait TIMEOUT CMD...: poll CMD every 0.05 s until it succeeds; status 1
# after TIMEOUT seconds (whole seconds; bounded by count and by wall clock).
lab_wait() {
	local timeout=$1 i max deadline
	shift
	max=$(( timeout * 20 + 1 ))
	deadline=$(( $(date +%s) + timeout + 1 ))
	for (( i = 0; i < max; i++ )); do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(date +%s)" -le "$deadline" ] || break
		sleep 0.05
	done
	"$@" >/dev/null 2>&1
}

# lab_fail MESSAGE...: print to stderr and return 1.
lab_fail() {
	printf '%s\n' "$*" >&2
	return 1
}

# lab_json EXPR: read JSON on stdin as d, print the Python expression EXPR.
lab_json() {
	"$LAB_PY" -c '
import json, sys
d = json.load(sys.stdin)
r = eval(sys.argv[1])
print(json.dumps(r) if isinstance(r, (dict, list, bool)) or r is None else r)
' "$1"
}

# lab_env_reason: prints why the lab cannot run here (empty: it can).
lab_env_reason() {
	local c d
	if [ "$(id -u)" -ne 0 ]; then
		echo "not root (the lab needs network namespaces, bpffs and BPF)"
		return
	fi
	for c in ip tc nft bpftool tcpdump arping curl "$LAB_PY" mount umount mountpoint; do
		command -v "$c" >/dev/null 2>&1 || { echo "$c not installed"; return; }
	done
	grep -qw bpf /proc/filesystems || { echo "bpffs not supported by this kernel"; return; }
	bpftool prog show >/dev/null 2>&1 ||
		{ echo "BPF unavailable (bpftool prog show fails)"; return; }
	d=$(mktemp -d /tmp/lvip.probe.XXXXXX) || { echo "cannot create a temp dir"; return; }
	if mount -t bpf bpf "$d" 2>/dev/null; then
		umount "$d"
	else
		rmdir "$d"
		echo "cannot mount a bpffs"
		return
	fi
	rmdir "$d"
	if ip netns add "lvip-lab-$$-probe" 2>/dev/null; then
		ip netns del "lvip-lab-$$-probe"
	else
		echo "cannot create network namespaces"
	fi
}

# ---------------------------------------------------------------- pcaps

# pcap_count FILE FILTER: frames in FILE matching the tcpdump FILTER.
pcap_count() {
	tcpdump -r "$1" -nn "$2" 2>/dev/null | wc -l
}

# pcap_show FILE FILTER: matching frames, with MAC addresses, one per line.
pcap_show() {
	tcpdump -r "$1" -nn -e "$2" 2>/dev/null
}

# pcap_ip_bytes FILE FILTER: sum of the IP lengths (IPv4 total length, IPv6
# payload length + 40) of the matching frames.
pcap_ip_bytes() {
	tcpdump -r "$1" -nn -x "$2" 2>/dev/null | "$LAB_PY" -c '
import sys
total = 0
hexes = []
def flush():
    global total, hexes
    b = bytes.fromhex("".join(hexes))
    hexes = []
    if not b:
        return
    v = b[0] >> 4
    if v == 4:
        total += int.from_bytes(b[2:4], "big")
    elif v == 6:
        total += int.from_bytes(b[4:6], "big") + 40
for line in sys.stdin:
    if line.startswith("\t"):
        hexes.append("".join(line.split(":", 1)[1].split()))
    else:
        flush()
flush()
print(total)'
}

# arp_sender_is ADDR / arp_target_is ADDR: tcpdump filter fragments for the
# ARP sender / target protocol address (Ethernet + IPv4 ARP).
_ip4hex() {
	local IFS=. a b c d
	read -r a b c d <<<"$1"
	printf '0x%02x%02x%02x%02x' "$a" "$b" "$c" "$d"
}
arp_sender_is() { echo "(arp[14:4] = $(_ip4hex "$1"))"; }
arp_target_is() { echo "(arp[24:4] = $(_ip4hex "$1"))"; }
# arp_op N: 1 request, 2 reply.
arp_op() { echo "(arp[6:2] = $1)"; }

# icmp6_type N / nd_target_is ADDR6: ICMPv6 type, Neighbor Solicitation or
# Advertisement target (no extension headers before ICMPv6).
icmp6_type() { echo "(ip6 and ip6[6] = 58 and ip6[40] = $1)"; }
nd_target_is() {
	"$LAB_PY" - "$1" <<'EOF'
import ipaddress, sys
b = ipaddress.IPv6Address(sys.argv[1]).packed
w = [int.from_bytes(b[i:i + 4], "big") for i in range(0, 16, 4)]
print("(" + " and ".join("ip6[%d:4] = 0x%08x" % (48 + 4 * i, x) for i, x in enumerate(w)) + ")")
EOF
}

# pcap_macs FILE FILTER src|dst: the distinct source (or destination) MAC
# addresses of the matching frames, one per line, sorted.
pcap_macs() {
	tcpdump -r "$1" -nn -e "$2" 2>/dev/null | awk -v w="$3" '
		{ m = (w == "src") ? $2 : $4; sub(/,$/, "", m); print m }' | sort -u
}
