#!/bin/sh
# check.sh - the Debian packages as an operator gets them.
#
#   make deb-test          (builds them with make deb, then runs this)
#   DEB_DIR=build/deb SHARED=../shared BUILD=build sh tests/deb/check.sh
#
# For each package: the files it must ship (programs, man pages, conffiles
# in /etc/icsentry, systemd units pointing at /usr/bin, the logrotate file,
# sysusers.d and tmpfiles.d), its Depends (from the shared libraries, and
# ieee-data for the agent), its maintainer scripts (sh -n; units enabled,
# never started).  Then the four packages are installed with dpkg into a
# throwaway root (dpkg --root --force-script-chrootless: the maintainer
# scripts run, against that root) and the installed agent checks the
# installed config (-t) and replays a capture: its alerts must equal the
# build tree's agent's.
#
# Ends with "N passed, N failed"; exit 0 only when nothing failed.

DEB_DIR=${DEB_DIR:-build/deb}
BUILD=${BUILD:-build}
SHARED=${SHARED:-../shared}
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok    $*"; }
bad() { fail=$((fail + 1)); echo "FAIL  $*"; }
check() {	# check DESCRIPTION COMMAND...
	d=$1; shift
	if "$@" >/dev/null 2>&1; then ok "$d"; else bad "$d"; fi
}

ver=$(sed -n '1s/.*(\(.*\)).*/\1/p' debian/changelog)
arch=$(dpkg --print-architecture)
deb() { echo "$DEB_DIR/$1_${ver}_$2.deb"; }
AGENT=$(deb icsentry-agent "$arch")
COLL=$(deb icsentry-collector "$arch")
TOOLS=$(deb icsentry-tools "$arch")
COMMON=$(deb icsentry-common all)
WEB=$(deb icsentry-web "$arch")
for p in "$AGENT" "$COLL" "$TOOLS" "$COMMON" "$WEB"; do
	check "built $(basename "$p")" test -s "$p"
done

has() {		# has DEB PATH: the package ships PATH
	dpkg-deb -c "$1" | awk '{ print $6 }' | grep -qx "\.$2"
}
for f in /usr/bin/icsentry-agent /usr/share/man/man1/icsentry-agent.1.gz \
    /etc/icsentry/agent.conf /lib/systemd/system/icsentry-agent.service \
    /etc/logrotate.d/icsentry-agent; do
	check "icsentry-agent ships $f" has "$AGENT" "$f"
done
for f in /usr/bin/icsentry-collector /usr/share/man/man1/icsentry-collector.1.gz \
    /etc/icsentry/collector.conf /lib/systemd/system/icsentry-collector.service \
    /usr/share/icsentry/broker/mosquitto.conf; do
	check "icsentry-collector ships $f" has "$COLL" "$f"
done
for f in /usr/bin/icsentry-log /usr/bin/icsentry-intel \
    /usr/share/man/man1/icsentry-log.1.gz /usr/share/man/man1/icsentry-intel.1.gz; do
	check "icsentry-tools ships $f" has "$TOOLS" "$f"
done
for f in /usr/bin/icsentry-web /usr/share/man/man1/icsentry-web.1.gz; do
	check "icsentry-web ships $f" has "$WEB" "$f"
done
for f in /usr/lib/sysusers.d/icsentry-common.conf \
    /usr/lib/tmpfiles.d/icsentry-common.conf; do
	check "icsentry-common ships $f" has "$COMMON" "$f"
done

dep() { dpkg-deb -f "$1" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep -qx "$2"; }
for d in ieee-data icsentry-common libpcap0.8 libc6; do
	check "icsentry-agent Depends: $d" dep "$AGENT" "$d"
done
check "icsentry-agent Depends: libndpi (shlibs)" sh -c \
    "dpkg-deb -f '$AGENT' Depends | grep -q 'libndpi'"
check "icsentry-collector Depends: libpq5 (shlibs)" dep "$COLL" libpq5
check "icsentry-tools Depends: libsqlite3-0 (shlibs)" dep "$TOOLS" libsqlite3-0
check "icsentry-web Depends: libmicrohttpd12 (shlibs)" dep "$WEB" libmicrohttpd12
check "icsentry-web Depends: libjs-chart.js (the page's charts)" dep "$WEB" libjs-chart.js
check "icsentry-common Depends: systemd-sysusers (or systemd)" sh -c \
    "dpkg-deb -f '$COMMON' Depends | grep -q 'systemd-sysusers'"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/icsentry-deb.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
for p in agent collector common; do
	eval "f=\$$(echo $p | tr a-z A-Z | sed 's/COLLECTOR/COLL/')"
	mkdir -p "$tmp/ctl-$p"
	dpkg-deb -e "$f" "$tmp/ctl-$p"
done
check "agent conffiles: /etc/icsentry/agent.conf" \
    grep -qx /etc/icsentry/agent.conf "$tmp/ctl-agent/conffiles"
check "agent conffiles: /etc/logrotate.d/icsentry-agent" \
    grep -qx /etc/logrotate.d/icsentry-agent "$tmp/ctl-agent/conffiles"
check "collector conffiles: /etc/icsentry/collector.conf" \
    grep -qx /etc/icsentry/collector.conf "$tmp/ctl-collector/conffiles"
for p in agent collector common; do
	for s in postinst prerm postrm; do
		[ -f "$tmp/ctl-$p/$s" ] || continue
		check "$p $s: sh -n" sh -n "$tmp/ctl-$p/$s"
	done
done
check "agent postinst enables icsentry-agent.service" \
    grep -q 'deb-systemd-helper.* enable .*icsentry-agent.service\|deb-systemd-helper enable .*icsentry-agent.service' \
    "$tmp/ctl-agent/postinst"
check "agent postinst does not start it" sh -c \
    "! grep -q 'deb-systemd-invoke.*start' '$tmp/ctl-agent/postinst'"
check "collector postinst does not start it" sh -c \
    "! grep -q 'deb-systemd-invoke.*start' '$tmp/ctl-collector/postinst'"
check "common postinst creates the icsentry user" \
    grep -q 'systemd-sysusers.*icsentry-common.conf' "$tmp/ctl-common/postinst"
check "unit runs /usr/bin/icsentry-agent with /etc/icsentry/agent.conf" sh -c \
    "dpkg-deb --fsys-tarfile '$AGENT' | tar -xOf - ./lib/systemd/system/icsentry-agent.service |
     grep -qx 'ExecStart=/usr/bin/icsentry-agent -c /etc/icsentry/agent.conf'"
check "logrotate signals USR1 (reopen, no reload)" sh -c \
    "dpkg-deb --fsys-tarfile '$AGENT' | tar -xOf - ./etc/logrotate.d/icsentry-agent |
     grep -q 'signal=USR1 icsentry-agent.service'"

# ---- install into a throwaway root ------------------------------------
root="$tmp/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" \
    "$root/var/lib/dpkg/triggers" "$root/etc" "$root/var/log"
: >"$root/var/lib/dpkg/status"
# the dependencies are the host's; the root holds only our packages
if dpkg --root="$root" --force-script-chrootless --force-depends \
    --force-not-root --log="$tmp/dpkg.log" -i "$COMMON" "$AGENT" "$COLL" "$TOOLS" \
    >"$tmp/install.out" 2>&1; then
	ok "dpkg --root installs the four packages (maintainer scripts run)"
else
	bad "dpkg --root installs the four packages"; sed 's/^/    /' "$tmp/install.out"
fi
check "installed: status says icsentry-agent is installed" sh -c \
    "dpkg --root='$root' -s icsentry-agent | grep -qx 'Status: install ok installed'"
check "installed: the icsentry system user exists in the root" \
    grep -q '^icsentry:x:[0-9]*:[0-9]*:icsentry OT security monitor:/var/lib/icsentry:/usr/sbin/nologin$' \
    "$root/etc/passwd"
check "installed: /var/lib/icsentry and /var/log/icsentry exist" \
    test -d "$root/var/lib/icsentry" -a -d "$root/var/log/icsentry"
check "installed: unit enabled (multi-user.target.wants symlink)" \
    test -L "$root/etc/systemd/system/multi-user.target.wants/icsentry-agent.service"
check "installed: collector unit enabled" \
    test -L "$root/etc/systemd/system/multi-user.target.wants/icsentry-collector.service"

A="$root/usr/bin/icsentry-agent"
check "installed agent: ldd finds every library" sh -c "! ldd '$A' | grep -q 'not found'"
check "installed agent -t accepts the installed /etc/icsentry/agent.conf" \
    "$A" -t -c "$root/etc/icsentry/agent.conf"
pcap="$BUILD/scenarios/fast-attacks.pcap"
"$BUILD/icsentry-agent" -r "$pcap" --alerts-out "$tmp/want.jsonl" 2>/dev/null
"$A" -r "$pcap" --alerts-out "$tmp/got.jsonl" 2>"$tmp/got.err"
rc=$?
check "installed agent replays $(basename "$pcap") (exit 0)" test "$rc" -eq 0
n=$(wc -l <"$tmp/got.jsonl" 2>/dev/null || echo 0)
check "installed agent raised alerts ($n)" test "$n" -gt 0
check "installed agent's alerts equal the build tree's" cmp -s "$tmp/want.jsonl" "$tmp/got.jsonl"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
