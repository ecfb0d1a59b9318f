# shellcheck shell=bash
# tests/lab/lab.bash - the LVS-DR lab: build it, use it, tear it down.
#
#   source tests/lab/lab.bash
#   lab_build            # namespaces, bridge, addresses, HTTP servers, director
#   ...                  # lab_lvip rs1 attach eth0, cap_start/cap_stop, lab_http_many ...
#   lab_teardown         # whatever happened: processes, namespaces, bpffs, temp dir
#
# Topology (nothing in the root network namespace; every namespace is named
# lvip-lab-<PID>-<role>, the PID being the one of the script or bats run):
#
#                        namespace "sw": bridges br0 (lab) and br1 (mgmt)
#        +---------------+--------------+--------------+
#      client          dir            rs1            rs2
#   eth0 .1, ::1     eth0 .2, ::2   eth0 .11, ::11  eth0 .12, ::12     198.18.0.0/24
#   gateway .254/::fe VIP .100 ::100 lo: the VIPs (phase 1 by hand, then lvip)
#   eth1 198.18.1.1                 eth1 198.18.1.11 eth1 198.18.1.12  198.18.1.0/24 (br1)
#
#   VIPs 198.18.0.100 and 2001:db8::100. The director holds them on eth0 and
#   answers ARP/ND for them; packets for VIP:80/tcp are sent on to a real
#   server by rewriting only the Ethernet header (destination = the RS's
#   MAC chosen by a hash of the client's address and port, source = the
#   director's MAC), as IPVS-DR does: with ipvsadm when the kernel has IPVS,
#   otherwise with an nftables netdev ingress chain. The client is on the
#   same segment and also holds the real servers' default gateway addresses
#   (198.18.0.254, 2001:db8::fe): the RSs' replies (source VIP) go straight
#   to the client's MAC.
#
# Each RS runs its own lvip with its own pin dir ($LAB_BPFFS/rs1, .../rs2) on
# a private bpffs (ip netns exec hides /sys/fs/bpf). Sysctls are only ever set
# inside the RS namespaces (lab_build resets the ARP ones to the kernel's
# defaults there, since a new namespace inherits the root's IPv4 settings).

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_REPO=$(cd "$LAB_DIR/../.." && pwd)
# shellcheck source=tests/lab/lib.bash
. "$LAB_DIR/lib.bash"
: "${LVIP:=$LAB_REPO/build/lvip}"

VIP4=198.18.0.100
VIP6=2001:db8::100
CLIENT4=198.18.0.1
CLIENT6=2001:db8::1
GW4=198.18.0.254
GW6=2001:db8::fe
DIR4=198.18.0.2
DIR6=2001:db8::2
RS1_4=198.18.0.11
RS1_6=2001:db8::11
RS2_4=198.18.0.12
RS2_6=2001:db8::12
MGMT_CLIENT4=198.18.1.1
RS1_MGMT4=198.18.1.11
RS2_MGMT4=198.18.1.12

MAC_CLIENT=02:00:00:00:00:01
MAC_DIR=02:00:00:00:00:02
MAC_RS1=02:00:00:00:00:11
MAC_RS2=02:00:00:00:00:12
MAC_CLIENT_1=02:00:00:00:01:01
MAC_RS1_1=02:00:00:00:01:11
MAC_RS2_1=02:00:00:00:01:12

# lab_ns ROLE: the namespace of ROLE (sw, client, dir, rs1, rs2).
lab_ns() { echo "lvip-lab-$LAB_ID-$1"; }
# on ROLE CMD...: run CMD in ROLE's namespace.
on() { local r=$1; shift; ip netns exec "lvip-lab-$LAB_ID-$r" "$@"; }
# lab_lvip RS ARGS...: that RS's lvip, with its own pin dir.
lab_lvip() { local r=$1; shift; on "$r" "$LVIP" --pin-dir "$LAB_BPFFS/$r" "$@"; }
# rs_mac RS / rs_addr4 RS / rs_addr6 RS
rs_mac()   { case $1 in rs1) echo $MAC_RS1 ;; rs2) echo $MAC_RS2 ;; esac; }
rs_addr4() { case $1 in rs1) echo $RS1_4 ;; rs2) echo $RS2_4 ;; esac; }
rs_addr6() { case $1 in rs1) echo $RS1_6 ;; rs2) echo $RS2_6 ;; esac; }

# lab_log MSG...: progress lines of the lab itself (quiet unless LAB_VERBOSE=1).
lab_log() { [ "${LAB_VERBOSE-0}" = 1 ] && printf 'lab: %s\n' "$*" >&2; return 0; }

# ---------------------------------------------------------------- processes

# lab_bg NAME LOG ROLE CMD...: start CMD in ROLE's namespace in the
# background (stdout and stderr to LOG, fd 3 closed for bats), record its PID
# in $LAB_TMP/pids, set LAB_BG_PID. `ip netns exec` execs CMD, so the PID is
# CMD's own (never start a shell function here: its PID would be a subshell's).
lab_bg() {
	local name=$1 log=$2 role=$3
	shift 3
	ip netns exec "$(lab_ns "$role")" "$@" </dev/null >"$log" 2>&1 3>&- &
	LAB_BG_PID=$!
	echo "$LAB_BG_PID $name" >>"$LAB_TMP/pids"
}

# _lab_alive PID: the process exists and is not a zombie (a process started
# in bats' setup_file is not a child of teardown_file: once it exits it is
# init's to reap).
_lab_alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $1 }') || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# _lab_ours PID: PID is still a process the lab started (our child, or its
# command line names the lab's temp dir), not a reused PID.
_lab_ours() {
	local ppid
	[ -r "/proc/$1/stat" ] || return 1
	ppid=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $2 }')
	[ "$ppid" = "${BASHPID:-$$}" ] && return 0
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "$LAB_TMP/"
}

# lab_stop PID [SIGNAL]: signal a process the lab started, wait for it (5 s
# at most, then SIGKILL), forget it.
lab_stop() {
	local pid=$1 sig=${2:-TERM} i
	grep -q "^$pid " "$LAB_TMP/pids" 2>/dev/null || return 0
	if ! _lab_ours "$pid"; then
		sed -i "/^$pid /d" "$LAB_TMP/pids"
		return 0
	fi
	kill -"$sig" "$pid" 2>/dev/null || true
	for (( i = 0; i < 100; i++ )); do
		_lab_alive "$pid" || break
		sleep 0.05
	done
	if _lab_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
	wait "$pid" 2>/dev/null || true
	sed -i "/^$pid /d" "$LAB_TMP/pids"
	return 0
}

# ---------------------------------------------------------------- build

_lab_host() {	# ROLE: a namespace with lo up
	ip netns add "$(lab_ns "$1")" || return 1
	ip -n "$(lab_ns "$1")" link set lo up
}

# _lab_port ROLE IF BRIDGE PORT MAC: veth IF in ROLE (MAC) <-> PORT on BRIDGE in sw.
_lab_port() {
	local ns sw
	ns=$(lab_ns "$1")
	sw=$(lab_ns sw)
	ip -n "$sw" link add "$4" type veth peer name "$2" netns "$ns" || return 1
	# addrgenmode before up, in a command of its own (the kernel applies
	# the up first when both are in one request)
	ip -n "$ns" link set dev "$2" address "$5"
	ip -n "$ns" link set dev "$2" addrgenmode none
	ip -n "$sw" link set dev "$4" addrgenmode none
	ip -n "$sw" link set dev "$4" master "$3" up
}

# _lab_rs_sysctls RS: the kernel's ARP defaults inside the RS namespace
# (before its interfaces exist, so that they inherit "default").
_lab_rs_sysctls() {
	local k
	for k in all default; do
		on "$1" sysctl -qw "net.ipv4.conf.$k.arp_ignore=0" "net.ipv4.conf.$k.arp_announce=0" \
			"net.ipv4.conf.$k.arp_filter=0" "net.ipv4.conf.$k.proxy_arp=0" >/dev/null ||
			return 1
	done
}

# _lab_up ROLE IF ADDR...: addresses on IF (IPv6 without DAD, plus a fixed
# link-local one), then IF up.
_lab_up() {
	local r=$1 ifc=$2 ll=$3 a
	shift 3
	for a in "$@"; do
		case $a in
		*:*) ip -n "$(lab_ns "$r")" addr add "$a" dev "$ifc" nodad || return 1 ;;
		*)   ip -n "$(lab_ns "$r")" addr add "$a" dev "$ifc" || return 1 ;;
		esac
	done
	[ -n "$ll" ] && ip -n "$(lab_ns "$r")" addr add "$ll/64" dev "$ifc" nodad
	ip -n "$(lab_ns "$r")" link set "$ifc" up
}

_lab_carrier() { ip -n "$(lab_ns "$1")" link show dev "$2" | grep -q LOWER_UP; }
_lab_listening() { on "$1" ss -Hltn 'sport = :80' | grep -q .; }

# _lab_carriers NS:DEV...: each link has carrier within 5 s.
_lab_carriers() {
	local r
	for r in "$@"; do
		lab_wait 5 _lab_carrier "${r%:*}" "${r#*:}" ||
			{ lab_fail "lab: ${r%:*} ${r#*:} has no carrier"; return 1; }
	done
}

# _lab_httpds: the HTTP servers of rs1 and rs2 started and listening.
_lab_httpds() {
	local r
	for r in rs1 rs2; do
		: >"$LAB_TMP/httpd-$r.log"
		lab_bg "httpd-$r" "$LAB_TMP/httpd-$r.err" $r "$LAB_PY" "$LAB_DIR/httpd.py" $r 80 "$LAB_TMP/httpd-$r.log"
	done
	for r in rs1 rs2; do
		lab_wait 10 _lab_listening $r ||
			{ lab_fail "lab: the HTTP server of $r does not listen"; return 1; }
	done
}

# lab_tmp_mount: the lab's temp dir (LAB_TMP, its pid list) and a private
# bpffs in it (LAB_BPFFS); exports both, and LVIP.
lab_tmp_mount() {
	export LAB_TMP LAB_BPFFS LVIP
	LAB_TMP=$(mktemp -d /tmp/lvip.lab.XXXXXX) || return 1
	LAB_BPFFS=$LAB_TMP/bpffs
	: >"$LAB_TMP/pids"
	mkdir -p "$LAB_BPFFS" && mount -t bpf bpf "$LAB_BPFFS" ||
		{ lab_fail "lab: cannot mount a bpffs on $LAB_BPFFS"; return 1; }
}

# lab_build: the whole lab, HTTP servers answering and the director in
# place. Sets and exports LAB_ID, LAB_TMP, LAB_BPFFS, LAB_DIRECTOR.
lab_build() {
	local r sw
	export LAB_ID=${LAB_ID:-$$}
	lab_tmp_mount || return 1

	for r in sw client dir rs1 rs2; do _lab_host "$r" || return 1; done
	_lab_rs_sysctls rs1 && _lab_rs_sysctls rs2 || return 1
	sw=$(lab_ns sw)
	# mcast_snooping off: solicited-node multicast (NS) reaches every port,
	# as on a plain switch, whatever MLD reports were seen.
	ip -n "$sw" link add br0 type bridge mcast_snooping 0 || return 1
	ip -n "$sw" link add br1 type bridge mcast_snooping 0 || return 1
	ip -n "$sw" link set br0 addrgenmode none
	ip -n "$sw" link set br1 addrgenmode none
	ip -n "$sw" link set br0 up
	ip -n "$sw" link set br1 up

	_lab_port client eth0 br0 p-client $MAC_CLIENT &&
	_lab_port dir    eth0 br0 p-dir    $MAC_DIR &&
	_lab_port rs1    eth0 br0 p-rs1    $MAC_RS1 &&
	_lab_port rs2    eth0 br0 p-rs2    $MAC_RS2 &&
	_lab_port client eth1 br1 m-client $MAC_CLIENT_1 &&
	_lab_port rs1    eth1 br1 m-rs1    $MAC_RS1_1 &&
	_lab_port rs2    eth1 br1 m-rs2    $MAC_RS2_1 || return 1

	# The gateway addresses are secondary (IPv4) and deprecated (IPv6): the
	# client's own requests always leave from .1 and ::1.
	_lab_up client eth0 fe80::1 $CLIENT4/24 $GW4/24 $CLIENT6/64 &&
	ip -n "$(lab_ns client)" addr add $GW6/64 dev eth0 nodad preferred_lft 0 &&
	_lab_up client eth1 "" $MGMT_CLIENT4/24 &&
	_lab_up dir eth0 fe80::2 $DIR4/24 $VIP4/32 $DIR6/64 $VIP6/128 &&
	_lab_up rs1 eth0 fe80::11 $RS1_4/24 $RS1_6/64 &&
	_lab_up rs1 eth1 "" $RS1_MGMT4/24 &&
	_lab_up rs2 eth0 fe80::12 $RS2_4/24 $RS2_6/64 &&
	_lab_up rs2 eth1 "" $RS2_MGMT4/24 || return 1
	for r in rs1 rs2; do
		ip -n "$(lab_ns $r)" route add default via $GW4 dev eth0 || return 1
		ip -n "$(lab_ns $r)" -6 route add default via $GW6 dev eth0 || return 1
	done
	_lab_carriers client:eth0 client:eth1 dir:eth0 rs1:eth0 rs1:eth1 rs2:eth0 rs2:eth1 || return 1
	_lab_httpds || return 1
	lab_director_up || return 1
	lab_log "built lab lvip-lab-$LAB_ID-* (director: $LAB_DIRECTOR_DESC)"
}

# ---------------------------------------------------------------- director

# lab_ipvs_available: the kernel has IPVS (module loadable or built in) and
# ipvsadm is installed. LAB_DIRECTOR=nft|ipvs forces the choice.
lab_ipvs_available() {
	command -v ipvsadm >/dev/null 2>&1 || return 1
	if [ ! -e /proc/net/ip_vs ] && command -v modprobe >/dev/null 2>&1; then
		modprobe -q ip_vs 2>/dev/null || return 1
	fi
	on dir test -e /proc/net/ip_vs
}

lab_director_up() {
	local want=${LAB_DIRECTOR:-auto}
	if [ "$want" = ipvs ] || { [ "$want" = auto ] && lab_ipvs_available; }; then
		LAB_DIRECTOR=ipvs
		LAB_DIRECTOR_DESC="IPVS (ipvsadm, direct routing -g, round robin)"
		on dir ipvsadm -A -t $VIP4:80 -s rr &&
		on dir ipvsadm -a -t $VIP4:80 -r $RS1_4:80 -g &&
		on dir ipvsadm -a -t $VIP4:80 -r $RS2_4:80 -g &&
		on dir ipvsadm -A -t "[$VIP6]:80" -s rr &&
		on dir ipvsadm -a -t "[$VIP6]:80" -r "[$RS1_6]:80" -g &&
		on dir ipvsadm -a -t "[$VIP6]:80" -r "[$RS2_6]:80" -g ||
			{ lab_fail "lab: ipvsadm failed"; return 1; }
	else
		LAB_DIRECTOR=nft
		LAB_DIRECTOR_DESC="nftables netdev ingress on the director (no IPVS in this kernel): Ethernet header rewritten, jhash(client address, port) -> RS MAC, fwd to eth0"
		on dir nft -f - <<EOF || { lab_fail "lab: nft failed"; return 1; }
table netdev lvip_lab_dr {
	chain ingress {
		type filter hook ingress device "eth0" priority 0; policy accept;
		ip daddr $VIP4 tcp dport 80 counter ether saddr set $MAC_DIR ether daddr set jhash ip saddr . tcp sport mod 2 seed 0x1c1a map { 0 : $MAC_RS1, 1 : $MAC_RS2 } fwd to "eth0"
		ip6 daddr $VIP6 tcp dport 80 counter ether saddr set $MAC_DIR ether daddr set jhash ip6 saddr . tcp sport mod 2 seed 0x1c1a map { 0 : $MAC_RS1, 1 : $MAC_RS2 } fwd to "eth0"
	}
}
EOF
	fi
	export LAB_DIRECTOR LAB_DIRECTOR_DESC
}

# ---------------------------------------------------------------- teardown

# lab_teardown: idempotent, whatever state the lab is in: stop the lab's
# processes (by PID), lvip down in each RS, delete the namespaces, unmount
# the bpffs, remove the temp dir.
lab_teardown() {
	local pid name ns r i
	[ -n "${LAB_ID-}" ] || return 0
	if [ -n "${LAB_TMP-}" ] && [ -s "$LAB_TMP/pids" ]; then
		while read -r pid name; do
			case $name in tcpdump*) lab_stop "$pid" INT ;; *) lab_stop "$pid" TERM ;; esac
		done < <(cat "$LAB_TMP/pids")
	fi
	if [ -n "${LAB_BPFFS-}" ] && mountpoint -q "$LAB_BPFFS" 2>/dev/null; then
		for r in rs1 rs2; do
			if [ -d "$LAB_BPFFS/$r" ] && ip netns list | grep -q "^$(lab_ns $r)\b"; then
				lab_lvip "$r" down >/dev/null 2>&1 || true
			fi
		done
	fi
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep "^lvip-lab-$LAB_ID-"); do
		ip netns del "$ns" 2>/dev/null || true
	done
	if [ -n "${LAB_TMP-}" ] && [ -d "$LAB_TMP" ]; then
		for (( i = 0; i < 10; i++ )); do
			mountpoint -q "$LAB_BPFFS" || break
			umount "$LAB_BPFFS" 2>/dev/null || sleep 0.1
		done
		if mountpoint -q "$LAB_BPFFS"; then umount -l "$LAB_BPFFS" || true; fi
		case $LAB_TMP in
		/tmp/lvip.lab.*) rm -rf --one-file-system "$LAB_TMP" ;;
		esac
	fi
	return 0
}

# lab_leftovers: what of this lab is still there (empty when nothing).
lab_leftovers() {
	ip netns list 2>/dev/null | awk '{ print $1 }' | grep "^lvip-lab-$LAB_ID-"
	[ -n "${LAB_TMP-}" ] && grep -F " $LAB_TMP/" /proc/mounts
	[ -n "${LAB_TMP-}" ] && [ -e "$LAB_TMP" ] && echo "$LAB_TMP"
	[ -n "${LAB_TMP-}" ] && lab_procs
	return 0
}

# lab_procs: processes whose command line names the lab's temp dir (its
# HTTP servers and tcpdumps), as "pid command" lines. Only reads /proc.
lab_procs() {
	local f pid
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}; pid=${pid%/cmdline}
		[ "$pid" = "$$" ] && continue
		tr '\0' ' ' <"$f" 2>/dev/null | grep -qF "$LAB_TMP/" &&
			echo "pid $pid: $(tr '\0' ' ' <"$f" 2>/dev/null)"
	done
	return 0
}

# ---------------------------------------------------------------- capture

# cap_start TAG [BRIDGE]: tcpdump on the switch's BRIDGE (br0, the lab's
# segment, by default; br1 is the management segment), promiscuous so that it
# sees every frame the bridge forwards, into $LAB_TMP/TAG.pcap; returns once
# tcpdump listens. Sets CAP_PID and CAP_FILE.
cap_start() {
	CAP_FILE=$LAB_TMP/$1.pcap
	rm -f "$CAP_FILE"
	lab_bg "tcpdump-$1" "$LAB_TMP/$1.tcpdump" sw tcpdump -i "${2:-br0}" --immediate-mode -U -nn -s 256 -w "$CAP_FILE"
	CAP_PID=$LAB_BG_PID
	lab_wait 5 grep -q 'listening on' "$LAB_TMP/$1.tcpdump" ||
		{ lab_fail "lab: tcpdump did not start: $(cat "$LAB_TMP/$1.tcpdump")"; return 1; }
}

# cap_stop: SIGINT to tcpdump, wait for it (the pcap is flushed).
cap_stop() {
	[ -n "${CAP_PID-}" ] && lab_stop "$CAP_PID" INT
	CAP_PID=
}

# ---------------------------------------------------------------- traffic

# lab_curl URL: one HTTP GET from the client; prints the body (the RS name).
lab_curl() {
	on client env -u http_proxy -u https_proxy -u HTTP_PROXY -u all_proxy \
		curl -sS --noproxy '*' --connect-timeout 4 --max-time 6 "$1"
}

# lab_http_many N FAMILY: N GETs to the VIP of FAMILY (4 or 6) from the
# client. Prints "rs1=N rs2=N failed=N".
lab_http_many() {
	local url
	if [ "$2" = 6 ]; then url="http://[$VIP6]/"; else url="http://$VIP4/"; fi
	lab_http_tally "$1" lab_curl "$url"
}

# lab_http_tally N CMD...: run CMD N times; each answer names the real
# server that served it. Prints "rs1=N rs2=N failed=N".
lab_http_tally() {
	local n=$1 i body r1=0 r2=0 bad=0
	shift
	for (( i = 0; i < n; i++ )); do
		body=$("$@" 2>/dev/null) || body=""
		case $body in
		rs1) r1=$((r1 + 1)) ;;
		rs2) r2=$((r2 + 1)) ;;
		*)   bad=$((bad + 1)) ;;
		esac
	done
	echo "rs1=$r1 rs2=$r2 failed=$bad"
}

# lab_hits RS: requests served so far by RS's HTTP server.
lab_hits() { wc -l <"$LAB_TMP/httpd-$1.log"; }

# lab_client_neigh ADDR: the client's neighbour entry for ADDR ("MAC STATE"
# or "none").
lab_client_neigh() {
	local out
	out=$(on client ip neigh show "$1" dev eth0 | awk '{ for (i = 1; i <= NF; i++) if ($i == "lladdr") m = $(i + 1); s = $NF } END { if (m != "") print m, s; else print "none" }')
	echo "${out:-none}"
}

# mac_name MAC: which host owns MAC.
mac_name() {
	case $1 in
	"$MAC_CLIENT") echo client ;; "$MAC_DIR") echo director ;;
	"$MAC_RS1") echo rs1 ;; "$MAC_RS2") echo rs2 ;; *) echo "$1" ;;
	esac
}

# lab_nd ROLE ns|na SRCMAC DSTMAC SRCIP DSTIP TARGET [FLAGS] [COUNT]: send
# Neighbor Solicitations / Advertisements crafted by tests/lab/nd.py from
# ROLE's eth0. Prints "sent N dropped M".
lab_nd() {
	local r=$1
	shift
	on "$r" "$LAB_PY" "$LAB_DIR/nd.py" eth0 "$@"
}

# lab_from_vip RS DST: RS flushes its neighbours and sends one UDP datagram
# from the VIP to DST: its kernel has to ask "who-has DST tell ...".
lab_from_vip() {
	on "$1" ip neigh flush dev eth0
	on "$1" ip neigh flush dev eth1
	on "$1" "$LAB_PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.sendto(b"lvip lab", (sys.argv[2], 9))' "${3:-$VIP4}" "$2"
}

# lab_rs_neigh RS ADDR [IFACE]: the MAC RS has for ADDR (empty if none).
lab_rs_neigh() {
	on "$1" ip neigh show "$2" dev "${3:-eth0}" | awk '{ for (i = 1; i <= NF; i++) if ($i == "lladdr") print $(i + 1) }'
}
lab_rs_resolved() { [ -n "$(lab_rs_neigh "$1" "$2" "${3:-eth0}")" ]; }

# lab_stats RS: lvip stats --json of RS.
lab_stats() { lab_lvip "$1" stats --json; }
# stat_of JSON REASON: a global counter from lab_stats output.
stat_of() { lab_json "d['reasons']['$2']" <<<"$1"; }
# vip_stat_of JSON VIP FIELD: a per-VIP counter from lab_stats output.
vip_stat_of() {
	lab_json "[v['$3'] for v in d['vips'] if v['address'] == '$2'][0]" <<<"$1"
}

# lab_quiet: wait (2 s at most) until neither RS counts a new packet for
# 0.1 s, so that a capture stopped now holds all that the counters count.
_lab_vip_rx_both() { { lab_stats rs1; lab_stats rs2; } 2>/dev/null | grep -o '"vip_rx": *[0-9]*' | tr '\n' ' '; }
lab_quiet() {
	local a b i
	a=$(_lab_vip_rx_both)
	for (( i = 0; i < 20; i++ )); do
		sleep 0.1
		b=$(_lab_vip_rx_both)
		[ "$a" = "$b" ] && return 0
		a=$b
	done
	return 0
}

# lab_delta BEFORE NOW: the growth of every counter between two lab_stats
# outputs, as "KEY N" lines; KEY is REASON, VIP/FIELD or IFACE:REASON.
lab_delta() {
	"$LAB_PY" -c '
import json, sys
def flat(d):
    out = dict(d["reasons"])
    for v in d["vips"]:
        for k in ("packets", "bytes", "arp_dropped", "nd_dropped"):
            out["%s/%s" % (v["address"], k)] = v[k]
    for i in d["interfaces"]:
        for k, x in i["reasons"].items():
            out["%s:%s" % (i["name"], k)] = x
    return out
a, b = flat(json.loads(sys.argv[1])), flat(json.loads(sys.argv[2]))
for k in sorted(b):
    print(k, b[k] - a.get(k, 0))' "$1" "$2"
}

# lab_bpftool_sum RS MAP FIELD: FIELD summed over CPUs and entries of the
# pinned MAP, as plain bpftool prints it (BTF field names).
lab_bpftool_sum() {
	bpftool -j map dump pinned "$LAB_BPFFS/$1/$2" | "$LAB_PY" -c '
import json, sys
total = 0
for e in json.load(sys.stdin):
    e = e.get("formatted", e)
    for v in e.get("values", [{"value": e.get("value")}]):
        total += int(v["value"][sys.argv[1]])
print(total)' "$3"
}

# lab_rs_protect RS: lvip attach eth0 + vip add VIP4 VIP6 on RS.
lab_rs_protect() {
	lab_lvip "$1" attach eth0 >/dev/null && lab_lvip "$1" vip add $VIP4 $VIP6 >/dev/null
}

# pcap_hosts FILE FILTER src|dst: the hosts (client, director, rs1, rs2)
# whose MAC is the source (destination) of matching frames, space separated;
# "nobody" when no frame matches.
pcap_hosts() {
	local m out=""
	for m in $(pcap_macs "$@"); do out="$out $(mac_name "$m")"; done
	out=${out# }
	echo "${out:-nobody}"
}

# ---------------------------------------------------------------- bats

# lab_bats_setup_file NAME [BUILD]: in a bats file's setup_file: decide
# whether the lab can run here (the reason it cannot is exported as
# LAB_SKIP_REASON for lab_bats_require), then build one lab for the whole
# file with BUILD (default lab_build; tun_build for the TUN lab), named
# lvip-lab-<PID>-NAME-*.
lab_bats_setup_file() {
	export LAB_SKIP_REASON
	LAB_SKIP_REASON=$(lab_env_reason)
	[ -z "$LAB_SKIP_REASON" ] || return 0
	[ -x "$LVIP" ] || return 0
	export LAB_ID="$$-$1"
	if ! "${2:-lab_build}"; then
		lab_teardown
		lab_fail "the lab could not be built"
		return 1
	fi
}

# lab_bats_require: in setup: skip with the reason the lab cannot run, or
# fail loudly when LVIP_REQUIRE_BPF=1; a missing build/lvip always fails.
lab_bats_require() {
	if [ -n "${LAB_SKIP_REASON-}" ]; then
		if [ "${LVIP_REQUIRE_BPF-}" = 1 ]; then
			lab_fail "LVIP_REQUIRE_BPF=1 but the lab cannot run here: $LAB_SKIP_REASON"
			return 1
		fi
		skip "$LAB_SKIP_REASON (set LVIP_REQUIRE_BPF=1 to make this a failure)"
	fi
	[ -x "$LVIP" ] || { lab_fail "$LVIP is not built (make)"; return 1; }
	[ -n "${LAB_TMP-}" ] && [ -d "$LAB_TMP" ] || { lab_fail "no lab (setup_file failed)"; return 1; }
}

# assert_eq EXPECTED GOT WHAT
assert_eq() {
	[ "$1" = "$2" ] && return 0
	lab_fail "$3: expected '$1', got '$2'"
}
