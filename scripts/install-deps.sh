#!/usr/bin/env bash
# Installs the Debian packages that building and testing Palisade need,
# when they are missing. Safe to run again; does nothing if all are there.
set -euo pipefail

packages=(gcc libc6-dev make busybox-static python3 perl)
# Tools test/integration/tools_test.go runs in the sandbox: ps, top, free
# (procps), df, head, seq (coreutils), mount, script (util-linux), tar,
# gzip, diff, git, sqlite3.
packages+=(procps coreutils mount util-linux bsdutils tar gzip diffutils sed git sqlite3)
# Network interop tests (test/integration/interop_test.go) and benchmarks
# (test/bench/run): Linux peers in a network namespace of the test's own.
# dnsmasq-base is the binary alone, without a system service.
packages+=(iproute2 curl iperf3 dnsmasq-base iputils-ping)
# CPython's own network test modules (test/integration/pymodules_test.go).
packages+=(libpython3.11-testsuite)
# test/integration/ptrace_test.go traces programs in the sandbox.
packages+=(strace gdb)
# test/integration/postgres_test.go runs PostgreSQL's server and psql in
# the sandbox, in a cluster of its own (not the one the package may set up).
packages+=(postgresql)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "install-deps: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v go >/dev/null; then
	for g in /usr/local/go/bin/go /usr/lib/go/bin/go; do
		[ -x "$g" ] && exit 0
	done
	echo "install-deps: Go is not installed; installing golang-go"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq golang-go >/dev/null
fi
