#!/usr/bin/env bats
# tests/packaging.bats - what a package ships, and that its parts agree with
# the binary: make install (PREFIX, DESTDIR, modes, the unit's ExecStart
# rewritten, /etc/lvip/lvip.conf only if absent), systemd-analyze verify on
# the installed units, mandoc -Tlint on the man page, the man page and the
# bash completion in step with `lvip --help` (every command, option and
# environment variable), the completion's interface names and VIPs (from a
# stub, and from a running lvip), the metrics unit's shell lines, the
# container recipe, the README's alert rules. No BPF, no namespace, no root
# needed but for the completion test with a running lvip (tests/lib/netns.bash:
# it skips without them, or fails when LVIP_REQUIRE_BPF=1); nothing is
# installed outside a temp dir.

load lib/netns
load lib/assertions

REPO=$LVIP_REPO
UNITS="lvip.service lvip-metrics.service lvip-metrics.timer"

setup_file() {
	lvip_env_check
	lvip_tmp_setup || return 1
	PKG_TMP=$(mktemp -d /tmp/lvip.pkg.XXXXXX)
	export PKG_TMP
	[ -x "$LVIP" ] || return 0 # each test reports the missing build
	make -s -C "$REPO" install DESTDIR="$PKG_TMP/root" PREFIX=/usr \
		> "$PKG_TMP/install.log" 2>&1
	echo $? > "$PKG_TMP/install.rc"
}

teardown_file() {
	case ${PKG_TMP-} in
	/tmp/lvip.pkg.*) rm -rf --one-file-system "$PKG_TMP" ;;
	esac
	lvip_tmp_teardown
}

setup() {
	[ -x "$LVIP" ] || fail "$LVIP is not built (make build/lvip)"
	ROOT=$PKG_TMP/root
}

teardown() {
	lvip_netns_teardown # the namespaces of the one test that makes them
}

# The long options in `lvip CMD --help`, one a line.
help_options() {
	"$LVIP" "$@" --help | grep -o -- '--[a-z][a-z-]*' | sort -u
}

# The global options: the "Options:" part of `lvip --help`.
help_global_options() {
	"$LVIP" --help | awk '/^Options:/ { on = 1; next } on && /^[^ ]/ { on = 0 } on' |
		grep -o -- '--[a-z][a-z-]*' | sort -u
}

# comp WORD...: what the bash completion offers for the command line
# WORD... (the last word is the one being completed), one a line.
comp() {
	bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=()
		_lvip
		printf "%s\n" "${COMPREPLY[@]}"' \
		comp "$REPO/packaging/lvip.bash-completion" "$@"
}

@test "make install DESTDIR=tmp PREFIX=/usr: every file, with its mode" {
	assert_eq 0 "$(cat "$PKG_TMP/install.rc")" "make install exit status" ||
		fail "$(cat "$PKG_TMP/install.log")"
	local got want
	got=$(cd "$ROOT" && find . -printf '%M %P\n' | sort -k2)
	# The tree, as TAP comments, for the record.
	printf '%s\n' "$got" | sed 's/^/# /' >&3
	got=$(cd "$ROOT" && find . -type f -printf '%m %P\n' | sort -k2)
	want=$(sort -k2 <<'EOF'
644 etc/lvip/lvip.conf
644 usr/lib/systemd/system/lvip-metrics.service
644 usr/lib/systemd/system/lvip-metrics.timer
644 usr/lib/systemd/system/lvip.service
755 usr/sbin/lvip
644 usr/share/bash-completion/completions/lvip
644 usr/share/doc/lvip/keepalived.conf.example
644 usr/share/doc/lvip/lvip.conf.example
755 usr/share/lvip/lvip-keepalived-notify
644 usr/share/man/man8/lvip.8
EOF
)
	assert_eq "$want" "$got" "installed files and modes"
	got=$(cd "$ROOT" && find . -type d -printf '%m\n' | sort -u)
	assert_eq 755 "$got" "directory modes"
	cmp "$REPO/build/lvip" "$ROOT/usr/sbin/lvip"
	cmp "$REPO/packaging/lvip.8" "$ROOT/usr/share/man/man8/lvip.8"
	cmp "$REPO/packaging/lvip.conf" "$ROOT/etc/lvip/lvip.conf"
	cmp "$REPO/packaging/lvip.conf" "$ROOT/usr/share/doc/lvip/lvip.conf.example"
	cmp "$REPO/packaging/lvip-keepalived-notify" "$ROOT/usr/share/lvip/lvip-keepalived-notify"
	grep -q '"/usr/share/lvip/lvip-keepalived-notify master' "$ROOT/usr/share/doc/lvip/keepalived.conf.example" ||
		fail "keepalived.conf.example does not name the installed notify script"
	run "$ROOT/usr/sbin/lvip" --version
	assert_status 0
}

@test "the installed units run \$PREFIX/sbin/lvip watch -f /etc/lvip/lvip.conf (PREFIX=/usr and /opt/lvip)" {
	local u
	grep -qx 'ExecStart=/usr/sbin/lvip watch -f /etc/lvip/lvip.conf' \
		"$ROOT/usr/lib/systemd/system/lvip.service"
	run make -s -C "$REPO" install DESTDIR="$PKG_TMP/opt" PREFIX=/opt/lvip
	assert_status 0
	[ -x "$PKG_TMP/opt/opt/lvip/sbin/lvip" ]
	[ -f "$PKG_TMP/opt/opt/lvip/share/man/man8/lvip.8" ]
	[ -f "$PKG_TMP/opt/etc/lvip/lvip.conf" ] || fail "/etc/lvip/lvip.conf must stay under DESTDIR/etc"
	grep -qx 'ExecStart=/opt/lvip/sbin/lvip watch -f /etc/lvip/lvip.conf' \
		"$PKG_TMP/opt/opt/lvip/lib/systemd/system/lvip.service"
	grep -qx 'Type=notify' "$PKG_TMP/opt/opt/lvip/lib/systemd/system/lvip.service"
	for u in $UNITS; do
		! grep -n '/usr/sbin/lvip' "$PKG_TMP/opt/opt/lvip/lib/systemd/system/$u" ||
			fail "$u still names /usr/sbin/lvip"
	done
	grep -q '/opt/lvip/sbin/lvip stats --prometheus' \
		"$PKG_TMP/opt/opt/lvip/lib/systemd/system/lvip-metrics.service"
}

@test "make install keeps an existing /etc/lvip/lvip.conf" {
	local d=$PKG_TMP/again
	mkdir -p "$d/etc/lvip"
	echo "vip 198.18.0.100  # the admin's" > "$d/etc/lvip/lvip.conf"
	chmod 0600 "$d/etc/lvip/lvip.conf"
	run make -s -C "$REPO" install DESTDIR="$d" PREFIX=/usr
	assert_status 0
	assert_eq "vip 198.18.0.100  # the admin's" "$(cat "$d/etc/lvip/lvip.conf")" "lvip.conf"
	assert_eq 600 "$(stat -c %a "$d/etc/lvip/lvip.conf")" "lvip.conf mode"
	cmp "$REPO/packaging/lvip.conf" "$d/usr/share/doc/lvip/lvip.conf.example"
}

@test "the shipped /etc/lvip/lvip.conf protects nothing until edited" {
	run grep -Ev '^[[:space:]]*(#|$)' "$ROOT/etc/lvip/lvip.conf"
	assert_status 1
	# Its examples use documentation addresses only.
	local a
	for a in $(grep -Eo '^#?vip [^ ]+' "$REPO/packaging/lvip.conf" | awk '{ print $2 }'); do
		[[ $a == 198.1[89].* || $a == 2001:db8:* ]] || fail "example address $a"
	done
}

@test "systemd-analyze verify: the installed units, clean" {
	local d=$PKG_TMP/verify u
	mkdir -p "$d"
	# verify checks that ExecStart's binary exists: point the installed units
	# at the installed binary (in DESTDIR); everything else is verbatim, and
	# the units they name (network-pre.target, sysinit.target,
	# timers.target...) are the host's. Documentation=man:lvip(8) is checked
	# with `man`, found through MANPATH in the installed tree.
	for u in $UNITS; do
		sed "s|/usr/sbin/lvip|$ROOT/usr/sbin/lvip|g" \
			"$ROOT/usr/lib/systemd/system/$u" > "$d/$u"
	done
	run env MANPATH="$ROOT/usr/share/man" systemd-analyze verify \
		"$d/lvip.service" "$d/lvip-metrics.service" "$d/lvip-metrics.timer"
	assert_status 0
	assert_eq "" "$output" "systemd-analyze verify output"

	# The check is live: a unit whose binary is missing is refused.
	mkdir -p "$d/broken"
	sed "s|$ROOT/usr/sbin/lvip|$d/no-such-lvip|g" "$d/lvip.service" > "$d/broken/lvip.service"
	run env MANPATH="$ROOT/usr/share/man" systemd-analyze verify "$d/broken/lvip.service"
	[ "$status" -ne 0 ] || fail "verify accepted a unit with a missing ExecStart binary"
	[[ $output == *no-such-lvip* ]] || fail "$output"
}

@test "lvip.service: before the network, restarts on failure, never runs lvip down" {
	local u=$REPO/packaging/lvip.service
	directive() { grep -E "^$1=" "$u" | cut -d= -f2-; }
	assert_eq no "$(directive DefaultDependencies)" DefaultDependencies
	[[ " $(directive Before) " == *" network-pre.target "* ]] || fail "Before=$(directive Before)"
	[[ " $(directive Wants) " == *" network-pre.target "* ]] || fail "Wants=$(directive Wants)"
	[[ " $(directive After) " == *" local-fs.target "* ]] || fail "After=$(directive After)"
	[[ " $(directive After) " == *" sys-fs-bpf.mount "* ]] || fail "After=$(directive After)"
	assert_eq on-failure "$(directive Restart)" Restart
	assert_eq "/usr/sbin/lvip watch -f /etc/lvip/lvip.conf" "$(directive ExecStart)" ExecStart
	# Stopping the unit leaves protection: no ExecStop*, nothing runs `down`.
	run grep -nE '^ExecStop' "$u"
	assert_status 1
	run grep -nE '^Exec.*[[:space:]]down([[:space:]]|$)' "$u"
	assert_status 1
}

@test "lvip-metrics.service: its shell lines write lvip_check.prom and lvip.prom atomically" {
	local d=$PKG_TMP/metrics line
	local -a script=()
	mkdir -p "$d/textfile"
	# Each ExecStart= line as systemd hands it to sh ($$ is a literal $),
	# pointed at a stub lvip and a temp textfile dir.
	while IFS= read -r line; do
		line=${line#ExecStart=/bin/sh -c \'}
		line=${line%\'}
		line=${line//\$\$/\$}
		line=${line//\/var\/lib\/prometheus\/node-exporter/$d\/textfile}
		script+=("${line//\/usr\/sbin\/lvip/$d\/stub}")
	done < <(grep '^ExecStart=' "$REPO/packaging/lvip-metrics.service")
	assert_eq 2 "${#script[@]}" "ExecStart= lines"
	[[ ${script[0]} == *"stub check"* ]] || fail "the check runs first: ${script[0]}"
	[[ ${script[1]} == *"stub stats --prometheus"* ]] || fail "then the stats: ${script[1]}"
	[[ ${script[*]} != *%* && ${script[*]} != *\\* ]] ||
		fail "a % specifier or a C escape that systemd would rewrite"

	# The stub: check exits $CHECK_RC, stats prints a gauge or fails.
	cat > "$d/stub" <<'STUB'
#!/bin/sh
case $1 in
check) exit "${CHECK_RC:-0}" ;;
stats)
	[ -z "$STATS_FAIL" ] || { echo partial; exit 1; }
	echo '# HELP lvip_vips VIPs.'; echo '# TYPE lvip_vips gauge'; echo 'lvip_vips 2' ;;
esac
STUB
	chmod +x "$d/stub"
	CHECK_RC=1 run sh -c "${script[0]}"
	assert_status 0
	assert_eq "lvip_check_exit_code 1" "$(grep -v '^#' "$d/textfile/lvip_check.prom")" lvip_check.prom
	if command -v promtool >/dev/null; then
		promtool check metrics < "$d/textfile/lvip_check.prom"
	fi
	run sh -c "${script[0]}"
	assert_status 0
	assert_eq "lvip_check_exit_code 0" "$(grep -v '^#' "$d/textfile/lvip_check.prom")" lvip_check.prom
	run sh -c "${script[1]}"
	assert_status 0
	assert_eq "lvip_vips 2" "$(grep -v '^#' "$d/textfile/lvip.prom")" lvip.prom
	assert_eq "lvip.prom lvip_check.prom" "$(ls "$d/textfile" | xargs)" "textfile dir"

	# stats fails: the line fails, the old lvip.prom stays, no temp file.
	STATS_FAIL=1 run sh -c "${script[1]}"
	assert_status 1
	assert_eq "lvip_vips 2" "$(grep -v '^#' "$d/textfile/lvip.prom")" "lvip.prom after a failure"
	assert_eq "lvip.prom lvip_check.prom" "$(ls "$d/textfile" | xargs)" "textfile dir after a failure"
}

@test "mandoc -Tlint: the man page is clean" {
	run mandoc -Tlint "$REPO/packaging/lvip.8"
	# mandoc checks each .Xr against the system's manuals; with no
	# mandoc.db (Debian uses man-db) it finds them by file name and says
	# "outdated mandoc.db lacks X entry" for each one it *found*. That is
	# about the machine's database, not the page: drop those lines only.
	# A reference that is not found, or any lint message, still fails.
	local rest
	rest=$(printf '%s\n' "$output" | grep -v '^mandoc: outdated mandoc.db lacks [^ ]* entry, run makewhatis' || true)
	assert_eq "" "$rest" "mandoc -Tlint output"
	assert_status 0
}

@test "the man page documents every command, option and environment variable lvip has" {
	local man=$REPO/packaging/lvip.8 c o v
	while read -r c; do
		grep -qE "^\.(Cm|It Cm) $c( |$)" "$man" || fail "command '$c' (from lvip --help) missing in lvip.8"
	done < <(help_commands)
	[ "$(help_commands | wc -l)" -ge 11 ] || fail "lvip --help lists too few commands: $(help_commands)"
	for o in $(help_global_options) $(help_options); do
		grep -qE "Fl -${o#--}( |$)" "$man" || fail "option $o (lvip --help) missing in lvip.8"
	done
	for c in attach detach vip stats status check apply watch down; do
		for o in $(help_options "$c"); do
			grep -qE "Fl -${o#--}( |$)" "$man" || fail "option $o of $c missing in lvip.8"
		done
	done
	for v in $(grep -oh 'getenv("[A-Z_]*")' "$REPO"/loader/*.c | grep -o 'LVIP_[A-Z_]*' | sort -u); do
		grep -q "^\.It Ev $v" "$man" || fail "environment variable $v missing in lvip.8"
	done
	for c in 0 1 2; do
		sed -n '/^\.Sh EXIT STATUS/,/^\.Sh/p' "$man" | grep -qx "\.It $c" || fail "exit status $c"
	done
	grep -q '^\.Sh EXAMPLES' "$man" && grep -q 'LVS-DR' "$man"
	grep -q '/etc/lvip/lvip.conf' "$man" && grep -q '/sys/fs/bpf/lvip' "$man"
}

@test "bash completion: commands and every command's options, as lvip --help has them" {
	local c o got
	got=$(comp lvip '')
	while read -r c; do
		[[ $c == vip\ * ]] && c=vip
		grep -qx "$c" <<<"$got" || fail "command $c not completed: $got"
	done < <(help_commands)
	got=$(comp lvip --)
	for o in $(help_global_options); do
		grep -qx -- "$o" <<<"$got" || fail "global option $o not completed: $got"
	done
	for c in attach detach stats status check apply watch down; do
		got=$(comp lvip "$c" --)
		for o in $(help_options "$c"); do
			grep -qx -- "$o" <<<"$got" || fail "option $o of $c not completed: $got"
		done
	done
	assert_eq "$(help_commands | awk '$1 == "vip" { print $2 }' | xargs)" "$(comp lvip vip '' | xargs)" "vip subcommands"
	assert_eq "--keep-lo --help" "$(comp lvip vip del -- | xargs)" "vip del options"
	assert_eq "--no-lo --help" "$(comp lvip vip add -- | xargs)" "vip add options"
	assert_eq "--json --help" "$(comp lvip vip list -- | xargs)" "vip list options"
	assert_eq "auto native generic" "$(comp lvip attach eth0 --mode '' | xargs)" "--mode values"
}

@test "bash completion: interface names from /sys/class/net, VIPs from lvip vip list --json" {
	local d=$PKG_TMP/comp want
	mkdir -p "$d"
	want=$(ls /sys/class/net | grep -vx lo | sort | xargs)
	assert_eq "$want" "$(comp lvip attach '' | sort | xargs)" "attach IFACE"
	assert_eq "$want" "$(comp lvip detach '' | sort | xargs)" "detach IFACE"
	# A stub lvip answering vip list --json, recording its arguments.
	cat > "$d/lvip" <<EOF
#!/bin/sh
echo "\$*" > "$d/args"
cat <<'JSON'
[{"address": "198.18.0.100", "family": 4, "on_lo": true, "owner": "lvip"},
 {"address":"2001:db8::100","family":6,"on_lo":false,"owner":"found"}]
JSON
EOF
	chmod +x "$d/lvip"
	assert_eq "198.18.0.100 2001:db8::100" "$(comp "$d/lvip" vip del '' | xargs)" "vip del ADDR"
	assert_eq "vip list --json" "$(cat "$d/args")" "lvip's arguments"
	assert_eq "2001:db8::100" "$(comp "$d/lvip" --pin-dir /tmp/x vip del 2001 | xargs)" "vip del 2001<TAB>"
	assert_eq "--pin-dir /tmp/x vip list --json" "$(cat "$d/args")" "lvip's arguments with --pin-dir"
}

@test "bash completion offers the VIPs of a running lvip for vip del" {
	lvip_env_require
	lvip_netns_setup
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

@test "container recipe and DaemonSet: the pieces a node needs" {
	local f=$REPO/packaging/Dockerfile k=$REPO/packaging/daemonset.yaml
	grep -q '^FROM debian:12 AS build' "$f"
	grep -qE '^RUN make( |$)' "$f"
	for p in libbpf1 libelf1 libmnl0 libjson-c5 zlib1g; do
		grep -qw "$p" "$f" || fail "runtime package $p missing from the Dockerfile"
	done
	grep -q 'COPY --from=build .*/usr/sbin/lvip /usr/sbin/lvip' "$f"
	grep -q 'hostNetwork: true' "$k"
	grep -q 'privileged: true' "$k"
	grep -q 'mountPath: /sys/fs/bpf' "$k"
	grep -q 'mountPropagation: Bidirectional' "$k"
	grep -q 'path: /sys/fs/bpf' "$k"
	grep -q 'mountPath: /etc/lvip' "$k"
	grep -q 'configMap:' "$k"
	grep -q 'command: \["/usr/sbin/lvip", "watch", "-f", "/etc/lvip/lvip.conf"\]' "$k"
	# Both YAML documents parse, where a YAML module is at hand.
	if python3 -c 'import yaml' 2>/dev/null; then
		python3 -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
assert [d["kind"] for d in docs] == ["ConfigMap", "DaemonSet"], docs
' "$k"
	fi
}

@test "README: the example alert rules pass promtool check rules" {
	command -v promtool >/dev/null || skip "promtool not installed (make deps installs prometheus)"
	local f=$PKG_TMP/rules.yml
	awk '/^Example alert rules:/ { f = 1 } f && /^```yaml/ { g = 1; next } g && /^```/ { exit } g' \
		"$REPO/README.md" > "$f"
	[ -s "$f" ] || fail "no alert rules found in README.md"
	run promtool check rules "$f"
	assert_status 0
	[[ $output == *"SUCCESS: 4 rules found"* ]] || fail "$output"
}
