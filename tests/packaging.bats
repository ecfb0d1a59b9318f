#!/usr/bin/env bats
# tests/packaging.bats - what a package ships, and that its parts agree with
# the binary: make install (PREFIX, DESTDIR, modes, the unit's ExecStart
# rewritten, /etc/lvip/lvip.conf only if absent), systemd-analyze verify on
# the installed units, mandoc -Tlint on the man page, the man page and the
# bash completion in step with `lvip --help` (every command, option and
# environment variable), the completion's interface names and VIPs (from a
# stub, and from a running lvip), the metrics unit's shell lines, the
# container recipe and the DaemonSet (its structure and its probes' commands
# against a watch in a namespace), the README's alert rules, the
# Debian package (make deb into a temp dir, in a network namespace with no
# network: lintian, its files, conffile and maintainer scripts, dpkg --root
# install, remove and purge in a throwaway root), the licence, the loader's
# module layering (tests/lib/layering.py over the objects). No BPF, no
# namespace, no root needed but for the tests with a running lvip
# (tests/lib/netns.bash: it skips without them, or fails when
# LVIP_REQUIRE_BPF=1) and for dpkg --root (it chroots; the same); nothing is
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
	# The Debian package, once for the tests that inspect it (about 10 s).
	# In a network namespace of its own (no interface but a down lo) where
	# unshare can make one: the build must not need the network.
	if command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null; then
		local -a offline=()
		if unshare --net true 2>/dev/null; then
			offline=(unshare --net)
			echo offline > "$PKG_TMP/deb.net"
		else
			echo "with the host's network (unshare --net failed)" > "$PKG_TMP/deb.net"
		fi
		"${offline[@]}" make -s -C "$REPO" deb DEB_OUT="$PKG_TMP/deb" > "$PKG_TMP/deb.log" 2>&1
		echo $? > "$PKG_TMP/deb.rc"
	fi
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

@test "lvip.service: before the network, restarts on failure, reload validates first, never runs lvip down" {
	local u=$REPO/packaging/lvip.service
	directive() { grep -E "^$1=" "$u" | cut -d= -f2-; }
	assert_eq no "$(directive DefaultDependencies)" DefaultDependencies
	[[ " $(directive Before) " == *" network-pre.target "* ]] || fail "Before=$(directive Before)"
	[[ " $(directive Wants) " == *" network-pre.target "* ]] || fail "Wants=$(directive Wants)"
	[[ " $(directive After) " == *" local-fs.target "* ]] || fail "After=$(directive After)"
	[[ " $(directive After) " == *" sys-fs-bpf.mount "* ]] || fail "After=$(directive After)"
	assert_eq on-failure "$(directive Restart)" Restart
	assert_eq "/usr/sbin/lvip watch -f /etc/lvip/lvip.conf" "$(directive ExecStart)" ExecStart
	# Reload validates the files first; systemd stops at the first failing line.
	assert_eq "/usr/sbin/lvip apply --check -f /etc/lvip/lvip.conf"$'\n''/bin/kill -HUP $MAINPID' \
		"$(directive ExecReload)" ExecReload
	# Stopping the unit leaves protection: no ExecStop*, nothing runs `down`.
	run grep -nE '^ExecStop' "$u"
	assert_status 1
	run grep -nE '^Exec.*[[:space:]]down([[:space:]]|$)' "$u"
	assert_status 1
}

@test "lvip.service: skipped while lvip.conf has no directive (ExecCondition), run once it has one" {
	local u=$ROOT/usr/lib/systemd/system/lvip.service d=$PKG_TMP/cond line
	local -a cond
	mkdir -p "$d"
	line=$(grep '^ExecCondition=' "$u")
	assert_eq 1 "$(grep -c '^ExecCondition=' "$u")" "ExecCondition= lines"
	# Its words as systemd splits them (no quotes, no specifier, no $), the
	# file pointed at a temp copy.
	[[ $line != *[\'\"%\$\\]* ]] || fail "quoting or a specifier systemd would rewrite: $line"
	read -ra cond <<<"${line#ExecCondition=}"
	[ "${cond[-1]}" = /etc/lvip/lvip.conf ] || fail "the condition reads ${cond[-1]}"
	[ -x "${cond[0]}" ] || fail "${cond[0]} is not a program here"
	cond[-1]=$d/lvip.conf
	# Exit 1 to 254: systemd skips the unit (it is not failed); 0: it runs.
	cp "$ROOT/etc/lvip/lvip.conf" "$d/lvip.conf"
	run "${cond[@]}"
	assert_status 1
	printf '\n   \n\t# vip 198.18.0.100\n  #interface eth0\n' > "$d/lvip.conf"
	run "${cond[@]}"
	assert_status 1
	{ cat "$ROOT/etc/lvip/lvip.conf"; echo '  vip 198.18.0.100'; } > "$d/lvip.conf"
	run "${cond[@]}"
	assert_status 0
	# An edited file lvip refuses still runs watch, which fails the unit.
	echo 'vipp 198.18.0.100' > "$d/lvip.conf"
	run "${cond[@]}"
	assert_status 0
	run "$LVIP" --pin-dir "$d/pins" apply --dry-run -f "$d/lvip.conf"
	assert_status 2
	# The shipped file: the condition skips it, and watch would refuse it.
	run "$LVIP" --pin-dir "$d/pins" apply --dry-run -f "$ROOT/etc/lvip/lvip.conf"
	assert_status 2
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
	# The options the unit passes are ones lvip takes (parsed before --help).
	local statsopts=${script[1]#*stub stats }
	statsopts=${statsopts%% >*}
	[[ $statsopts == *"--vip-series "* ]] || fail "the per-VIP series are not bounded: $statsopts"
	# shellcheck disable=SC2086 # the unit's words, split as sh splits them
	run "$LVIP" stats $statsopts --help
	assert_status 0
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

# deb_require: the package built by setup_file (make deb into the temp dir),
# as DEB; skip without the Debian tools, or fail when LVIP_REQUIRE_BPF=1.
deb_require() {
	need_cmds dpkg-buildpackage dh dpkg-deb lintian
	[ -f "$PKG_TMP/deb.rc" ] || fail "make deb did not run"
	assert_eq 0 "$(cat "$PKG_TMP/deb.rc")" "make deb exit status" ||
		fail "$(cat "$PKG_TMP/deb.log")"
	DEB=$(echo "$PKG_TMP"/deb/lvip_"$(make_version)"_*.deb)
	[ -f "$DEB" ] || fail "no lvip_$(make_version)_ARCH.deb in $(ls "$PKG_TMP/deb")"
}

make_version() {
	sed -n 's/^VERSION *:= *//p' "$REPO/Makefile"
}

@test "make deb: dpkg-buildpackage builds lvip_VERSION_ARCH.deb with no network; lintian: no error, no warning" {
	deb_require
	if [ "$(cat "$PKG_TMP/deb.net")" != offline ]; then
		[ "${LVIP_REQUIRE_BPF-}" = 1 ] && fail "LVIP_REQUIRE_BPF=1: built $(cat "$PKG_TMP/deb.net")"
		skip "built $(cat "$PKG_TMP/deb.net"): not root?"
	fi
	assert_eq "3.0 (native)" "$(cat "$REPO/debian/source/format")" "source format"
	grep -q 'debhelper-compat (= 13)' "$REPO/debian/control"
	assert_eq "$(make_version)" "$(dpkg-parsechangelog -l "$REPO/debian/changelog" -S Version)" \
		"debian/changelog version"
	run lintian --version
	echo "# $output" >&3
	# lintian complains about root on stderr; the findings are on stdout.
	lintian --pedantic "$DEB" > "$PKG_TMP/lintian.out" 2> "$PKG_TMP/lintian.err" ||
		fail "lintian failed: $(cat "$PKG_TMP/lintian.out" "$PKG_TMP/lintian.err")"
	sed 's/^/# /' "$PKG_TMP/lintian.out" >&3
	run grep -E '^[EW]: ' "$PKG_TMP/lintian.out"
	assert_status 1
}

@test "the package: its files and modes, control fields, the conffile, the units as packaging/ has them" {
	deb_require
	local got want x=$PKG_TMP/debx
	got=$(dpkg-deb -c "$DEB" | awk '{ print $1, $2, $6 }')
	want=$(cat <<'EOF'
drwxr-xr-x root/root ./
drwxr-xr-x root/root ./etc/
drwxr-xr-x root/root ./etc/lvip/
-rw-r--r-- root/root ./etc/lvip/lvip.conf
drwxr-xr-x root/root ./lib/
drwxr-xr-x root/root ./lib/systemd/
drwxr-xr-x root/root ./lib/systemd/system/
-rw-r--r-- root/root ./lib/systemd/system/lvip-metrics.service
-rw-r--r-- root/root ./lib/systemd/system/lvip-metrics.timer
-rw-r--r-- root/root ./lib/systemd/system/lvip.service
drwxr-xr-x root/root ./usr/
drwxr-xr-x root/root ./usr/sbin/
-rwxr-xr-x root/root ./usr/sbin/lvip
drwxr-xr-x root/root ./usr/share/
drwxr-xr-x root/root ./usr/share/bash-completion/
drwxr-xr-x root/root ./usr/share/bash-completion/completions/
-rw-r--r-- root/root ./usr/share/bash-completion/completions/lvip
drwxr-xr-x root/root ./usr/share/doc/
drwxr-xr-x root/root ./usr/share/doc/lvip/
-rw-r--r-- root/root ./usr/share/doc/lvip/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/lvip/copyright
-rw-r--r-- root/root ./usr/share/doc/lvip/keepalived.conf.example
-rw-r--r-- root/root ./usr/share/doc/lvip/lvip.conf.example
drwxr-xr-x root/root ./usr/share/lvip/
-rwxr-xr-x root/root ./usr/share/lvip/lvip-keepalived-notify
drwxr-xr-x root/root ./usr/share/man/
drwxr-xr-x root/root ./usr/share/man/man8/
-rw-r--r-- root/root ./usr/share/man/man8/lvip.8.gz
EOF
)
	assert_eq "$want" "$got" "dpkg-deb -c"
	assert_eq lvip "$(dpkg-deb -f "$DEB" Package)" Package
	assert_eq "$(make_version)" "$(dpkg-deb -f "$DEB" Version)" Version
	local dep
	for dep in libbpf1 libc6 libjson-c5 libmnl0; do
		[[ ", $(dpkg-deb -f "$DEB" Depends)" == *", $dep "* ]] ||
			fail "Depends lacks $dep (\${shlibs:Depends}): $(dpkg-deb -f "$DEB" Depends)"
	done
	mkdir -p "$x"
	dpkg-deb -e "$DEB" "$x/DEBIAN"
	assert_eq /etc/lvip/lvip.conf "$(cat "$x/DEBIAN/conffiles")" conffiles
	dpkg-deb -x "$DEB" "$x"
	cmp "$REPO/packaging/lvip.conf" "$x/etc/lvip/lvip.conf"
	cmp "$REPO/packaging/lvip.conf" "$x/usr/share/doc/lvip/lvip.conf.example"
	for u in $UNITS; do
		cmp "$REPO/packaging/$u" "$x/lib/systemd/system/$u"
	done
	cmp "$REPO/packaging/lvip.bash-completion" "$x/usr/share/bash-completion/completions/lvip"
	cmp "$REPO/packaging/lvip.8" <(zcat "$x/usr/share/man/man8/lvip.8.gz")
	cmp "$REPO/debian/copyright" "$x/usr/share/doc/lvip/copyright"
	run "$x/usr/sbin/lvip" --version
	assert_status 0
	[[ $output == *"$(make_version)"* ]] || fail "lvip --version: $output"
}

@test "the package's maintainer scripts: enable and start lvip.service and lvip-metrics.timer, stop them on remove, never run lvip" {
	deb_require
	local c=$PKG_TMP/debctl s
	dpkg-deb -e "$DEB" "$c"
	assert_eq "conffiles control md5sums postinst postrm prerm" "$(ls "$c" | xargs)" "control files"
	for s in postinst prerm postrm; do
		sh -n "$c/$s" || fail "$s: syntax"
		! grep -nE 'lvip (down|detach|vip)|/usr/sbin/lvip' "$c/$s" || fail "$s runs lvip"
	done
	grep -q "deb-systemd-helper enable 'lvip.service'" "$c/postinst"
	grep -q "deb-systemd-helper enable 'lvip-metrics.timer'" "$c/postinst"
	! grep -q "enable 'lvip-metrics.service'" "$c/postinst" || fail "the timer starts the metrics service"
	grep -q "deb-systemd-invoke \$_dh_action 'lvip-metrics.timer' 'lvip.service'" "$c/postinst"
	grep -q "deb-systemd-invoke stop 'lvip-metrics.timer' 'lvip.service'" "$c/prerm"
	grep -q "deb-systemd-helper purge 'lvip-metrics.timer' 'lvip.service'" "$c/postrm"
}

@test "dpkg installs the package into a throwaway root: conffile registered, units enabled; remove keeps the edited conffile, purge deletes it" {
	deb_require
	[ "$(id -u)" -eq 0 ] || {
		[ "${LVIP_REQUIRE_BPF-}" = 1 ] && fail "LVIP_REQUIRE_BPF=1: not root (dpkg --root chroots)"
		skip "not root (dpkg --root runs the maintainer scripts in a chroot)"
	}
	local d=$PKG_TMP/dpkgroot host_before lib
	local -a dpkg=(dpkg --root="$d" --log="$d/dpkg.log" --force-depends)
	host_before=$(dpkg-query -W -f='${Status}' lvip 2>&1 || true)
	# The maintainer scripts run chrooted in $d: give it a /bin/sh, and a
	# deb-systemd-helper that records its arguments. There is no
	# /run/systemd/system in $d, so the scripts start and stop nothing.
	mkdir -p "$d/var/lib/dpkg/info" "$d/var/lib/dpkg/updates" "$d/bin" "$d/usr/bin" "$d/dev"
	: > "$d/var/lib/dpkg/status"
	: > "$d/dev/null"
	cp /bin/dash "$d/bin/sh"
	for lib in $(ldd /bin/dash | grep -o '/[^ ]*'); do
		mkdir -p "$d$(dirname "$lib")"
		cp "$lib" "$d$lib"
	done
	printf '#!/bin/sh\necho "$*" >> /helper.log\n' > "$d/usr/bin/deb-systemd-helper"
	chmod 755 "$d/usr/bin/deb-systemd-helper"

	run "${dpkg[@]}" -i "$DEB"
	assert_status 0
	admin() { dpkg-query --admindir="$d/var/lib/dpkg" -W -f="\${$1}" lvip; }
	assert_eq "install ok installed" "$(admin Status)" "status after install"
	assert_eq "/etc/lvip/lvip.conf $(md5sum < "$REPO/packaging/lvip.conf" | cut -d' ' -f1)" \
		"$(admin Conffiles | sed -n 's/^ //p')" "registered conffiles"
	[ -x "$d/usr/sbin/lvip" ] && [ -f "$d/lib/systemd/system/lvip.service" ]
	grep -qx 'enable lvip.service' "$d/helper.log" || fail "$(cat "$d/helper.log")"
	grep -qx 'enable lvip-metrics.timer' "$d/helper.log" || fail "$(cat "$d/helper.log")"

	# Remove: the files go, the edited conffile stays.
	echo 'vip 198.18.0.100' >> "$d/etc/lvip/lvip.conf"
	run "${dpkg[@]}" -r lvip
	assert_status 0
	assert_eq "deinstall ok config-files" "$(admin Status)" "status after remove"
	[ ! -e "$d/usr/sbin/lvip" ] && [ ! -e "$d/lib/systemd/system/lvip.service" ]
	assert_eq "vip 198.18.0.100" "$(tail -n 1 "$d/etc/lvip/lvip.conf")" "the edited conffile after remove"

	# Purge: the conffile goes too, and the units' enablement state.
	run "${dpkg[@]}" -P lvip
	assert_status 0
	[ ! -e "$d/etc/lvip/lvip.conf" ] || fail "purge left /etc/lvip/lvip.conf"
	grep -qx 'purge lvip-metrics.timer lvip.service' "$d/helper.log" || fail "$(cat "$d/helper.log")"
	run dpkg-query --admindir="$d/var/lib/dpkg" -W lvip
	[ "$status" -ne 0 ] || [[ $output != *0.* ]] || fail "still known after purge: $output"
	# The host's dpkg database never saw it.
	assert_eq "$host_before" "$(dpkg-query -W -f='${Status}' lvip 2>&1 || true)" "the host's lvip status"
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
	for c in attach detach vip stats status check apply watch save down; do
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
		[[ $c == vip\ * || $c == tunnel\ * ]] && c=${c%% *}
		grep -qx "$c" <<<"$got" || fail "command $c not completed: $got"
	done < <(help_commands)
	got=$(comp lvip --)
	for o in $(help_global_options); do
		grep -qx -- "$o" <<<"$got" || fail "global option $o not completed: $got"
	done
	for c in attach detach stats status check apply watch save down; do
		got=$(comp lvip "$c" --)
		for o in $(help_options "$c"); do
			grep -qx -- "$o" <<<"$got" || fail "option $o of $c not completed: $got"
		done
	done
	assert_eq "$(help_commands | awk '$1 == "vip" { print $2 }' | xargs)" "$(comp lvip vip '' | xargs)" "vip subcommands"
	assert_eq "--keep-lo --help" "$(comp lvip vip del -- | xargs)" "vip del options"
	assert_eq "--no-lo --help" "$(comp lvip vip add -- | xargs)" "vip add options"
	assert_eq "--json --exact --help" "$(comp lvip vip list -- | xargs)" "vip list options"
	assert_eq "$(help_commands | awk '$1 == "tunnel" { print $2 }' | xargs)" "$(comp lvip tunnel '' | xargs)" "tunnel subcommands"
	assert_eq "ipip gue gre" "$(comp lvip tunnel add '' | xargs)" "tunnel types"
	assert_eq "--port --peer --mss --help" "$(comp lvip tunnel add gue -- | xargs)" "tunnel add options"
	assert_eq "--json --help" "$(comp lvip tunnel list -- | xargs)" "tunnel list options"
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
	# The structure, with python3-yaml (make deps installs it).
	python3 -c 'import yaml' 2>/dev/null || {
		[ "${LVIP_REQUIRE_BPF-}" = 1 ] && fail "LVIP_REQUIRE_BPF=1: python3-yaml not installed (make deps installs it)"
		skip "python3-yaml not installed (make deps installs it)"
	}
	daemonset_check "$k"
}

# daemonset_check FILE: the manifest's structure and its probes.
daemonset_check() {
	python3 - "$1" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
assert [d["kind"] for d in docs] == ["ConfigMap", "DaemonSet"], docs
cm, ds = docs
assert cm["apiVersion"] == "v1" and ds["apiVersion"] == "apps/v1"
assert cm["metadata"]["namespace"] == ds["metadata"]["namespace"] == "kube-system"
assert isinstance(cm["data"]["lvip.conf"], str)
spec = ds["spec"]
pod = spec["template"]["spec"]
assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
assert pod["hostNetwork"] is True
(c,) = pod["containers"]
assert c["command"] == ["/usr/sbin/lvip", "watch", "-f", "/etc/lvip/lvip.conf"], c["command"]
assert c["securityContext"]["privileged"] is True
volumes = {v["name"]: v for v in pod["volumes"]}
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
assert all(m["name"] in volumes for m in mounts.values()), (mounts, volumes)
bpf = mounts["/sys/fs/bpf"]
assert bpf["mountPropagation"] == "Bidirectional"
assert volumes[bpf["name"]]["hostPath"]["path"] == "/sys/fs/bpf"
assert volumes[mounts["/etc/lvip"]["name"]]["configMap"]["name"] == cm["metadata"]["name"]

# The probes: exec, lvip's exit status. Readiness: check (nothing exposed).
# Liveness and startup: stats (the pins are there), never check or status,
# which fail on a transient exposure; liveness tolerates a minute of failures.
def probe(name):
    p = c[name]
    assert set(p) <= {"exec", "periodSeconds", "timeoutSeconds", "failureThreshold",
                      "successThreshold", "initialDelaySeconds"}, p
    assert p["timeoutSeconds"] >= 5 and p["periodSeconds"] >= 2, p
    return p, p["exec"]["command"]
p, cmd = probe("readinessProbe")
assert cmd == ["/usr/sbin/lvip", "check"], cmd
p, cmd = probe("livenessProbe")
assert cmd == ["/usr/sbin/lvip", "stats"], cmd
assert p["periodSeconds"] * p["failureThreshold"] >= 60, p
p, cmd = probe("startupProbe")
assert cmd == ["/usr/sbin/lvip", "stats"], cmd
assert p["periodSeconds"] * p["failureThreshold"] >= 60, p
PY
}

@test "the DaemonSet's probe commands: stats fails only when lvip is not loaded, check on an exposure; its lvip.conf is valid" {
	lvip_env_require
	python3 -c 'import yaml' 2>/dev/null || fail "python3-yaml not installed (make deps installs it)"
	lvip_netns_setup
	local conf=$LVIP_T_TMP/daemonset.conf log=$LVIP_T_TMP/watch.log pid
	python3 -c '
import sys, yaml
cm = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d][0]
sys.stdout.write(cm["data"]["lvip.conf"])' "$REPO/packaging/daemonset.yaml" > "$conf"
	# The ConfigMap's file as watch reads it: valid (its uplink glob
	# matches nothing here). Then the same file with veth0 as the uplink
	# (and so no `ignore veth*`), as a node's.
	run lvip apply --dry-run -f "$conf"
	assert_status 0
	sed -i -e 's/^interface eth\*$/interface veth0/' -e '/^ignore veth\*$/d' "$conf"
	grep -qx 'interface veth0' "$conf"

	# Startup: not loaded yet, stats (startup and liveness) fails.
	run lvip stats
	assert_status 1
	bg_start pid ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" watch -f "$conf" 2>"$log"
	wait_until 10 lvip stats >/dev/null 2>&1 || fail "stats never succeeded: $(cat "$log")"
	wait_until 10 lvip check >/dev/null 2>&1 || fail "check never clean: $(lvip check)"

	# An exposure (an address on lo that is not in the map): not Ready, but
	# alive, with watch running.
	rs ip addr add 198.18.0.200/32 dev lo
	run lvip check
	assert_status 1
	[[ $output == *198.18.0.200* ]] || fail "$output"
	run lvip stats
	assert_status 0
	rs ip addr del 198.18.0.200/32 dev lo
	wait_until 10 lvip check >/dev/null 2>&1 || fail "check not clean again: $(lvip check)"
	kill -0 "$pid" || fail "watch exited: $(cat "$log")"
	bg_stop "$pid"
	# The pins outlive the pod: stats still passes after watch stopped.
	run lvip stats
	assert_status 0
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

@test "LICENSE: GPL-2.0 for the BPF programs and the rest, the GPL-2 text; debian/copyright machine-readable" {
	local gpl=/usr/share/common-licenses/GPL-2 f=$REPO/LICENSE obj
	[ -f "$gpl" ] || fail "$gpl missing (base-files)"
	cmp <(tail -n "$(wc -l < "$gpl")" "$f") "$gpl" || fail "LICENSE does not end with $gpl"
	grep -q 'version 2 only (SPDX-License-Identifier: GPL-2.0' "$f"
	grep -q '^- The BPF programs (bpf/lvip.bpf.c' "$f"
	grep -q '^- Everything else' "$f"
	# What LICENSE says is what the files say: every SPDX header is GPL-2.0,
	# and the BPF object declares "GPL".
	run bash -c 'cd "$1" && grep -rhoIE --exclude-dir=build --exclude-dir=.git \
		"^(// |/\* |# )SPDX-License-Identifier: [A-Za-z0-9.+-]+" . |
		sed "s/.*: //" | sort | uniq -c' _ "$REPO"
	assert_status 0
	[[ $output =~ ^\ *[0-9]+\ GPL-2\.0$ ]] || fail "SPDX identifiers: $output"
	echo "# SPDX headers: $output" >&3
	obj=$(dirname "$LVIP")/lvip.bpf.o
	[ -f "$obj" ] || fail "$obj is not built"
	run readelf -p license "$obj"
	assert_status 0
	[[ $output == *"]  GPL"* ]] || fail "license section: $output"
	# debian/copyright: the machine-readable format, each Files paragraph
	# GPL-2, and the licence paragraph pointing at common-licenses.
	python3 - "$REPO/debian/copyright" <<'PY'
import re, sys
paras = [p for p in re.split(r"\n\s*\n", open(sys.argv[1]).read()) if p.strip()]
def fields(p):
    return dict(re.findall(r"^([A-Za-z-]+):[ \t]*(.*)$", p, re.M))
head = fields(paras[0])
assert head["Format"] == "https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/", head
assert head["Upstream-Name"] == "lvip", head
files = [fields(p) for p in paras[1:] if p.startswith("Files:")]
assert files and files[0]["Files"] == "*", files
assert any(f["Files"] == "bpf/*" for f in files), files
for f in files:
    assert f["License"] == "GPL-2" and f["Copyright"], f
lic = [p for p in paras[1:] if p.startswith("License: GPL-2")]
assert len(lic) == 1 and "/usr/share/common-licenses/GPL-2" in lic[0], lic
PY
}

@test "the loader's modules call only the modules above them in loader/loader.h (no dependency cycle)" {
	[ -x "$LVIP" ] || fail "no build: $LVIP"
	run python3 "$LVIP_TESTS_DIR/lib/layering.py" "$REPO" "${LVIP_BUILD:-$REPO/build}/loader"
	printf '%s\n' "$output"
	assert_status 0
}
