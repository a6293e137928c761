#!/bin/bash
# Prepares this machine for the docker end-to-end tests (docs/e2e.md), from
# a clean Debian 12 as root, without a registry: installs docker.io and
# busybox-static when absent, starts dockerd when no daemon answers, builds
# the palisade-busybox and palisade-debian images from host files when
# missing, and registers $RUNSC (default: bin/runsc of this tree) as the
# docker runtime "runsc". Running it again changes nothing that is in place.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
RUNSC=${RUNSC:-$repo/bin/runsc}
RUNTIME_NAME=${RUNTIME_NAME:-runsc}
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/palisade-dockerd.log}
DAEMON_JSON=/etc/docker/daemon.json

say() { echo "e2e setup: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"

# poll CMD... runs CMD every 0.2 s until it succeeds, for at most 60 s.
poll() {
	local i
	for i in $(seq 300); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	return 1
}

# --- packages -------------------------------------------------------------
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
missing=()
for p in docker.io busybox-static; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${missing[@]}" ||
		{ apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; }
fi

# --- dockerd --------------------------------------------------------------
# No systemd here: start dockerd ourselves, in its own session so it
# outlives this script, when nothing answers on the socket.
if ! docker info >/dev/null 2>&1; then
	say "starting dockerd (log: $DOCKERD_LOG)"
	setsid dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
	dpid=$!
	# up waits for the daemon to answer, or for it to exit.
	up() {
		local i
		for i in $(seq 300); do
			docker info >/dev/null 2>&1 && return 0
			kill -0 "$dpid" 2>/dev/null || return 1
			sleep 0.2
		done
		return 1
	}
	if ! up; then
		# dockerd needs iptables for its default bridge; where the kernel
		# lacks it, run without the bridge (tests use --network none and
		# the containers' loopback only).
		if kill -0 "$dpid" 2>/dev/null; then die "dockerd did not answer within 60 s; see $DOCKERD_LOG"; fi
		grep -qi iptables "$DOCKERD_LOG" || die "dockerd exited; see $DOCKERD_LOG"
		say "dockerd failed on iptables: restarting it with --iptables=false --bridge=none"
		setsid dockerd --iptables=false --bridge=none >>"$DOCKERD_LOG" 2>&1 </dev/null &
		dpid=$!
		up || die "dockerd did not start; see $DOCKERD_LOG"
	fi
fi

# --- images ---------------------------------------------------------------
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# users writes the /etc/passwd and /etc/group both images share.
users() {
	mkdir -p "$1/etc"
	cat >"$1/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		user:x:1000:1000:user:/home/user:/bin/sh
		nobody:x:65534:65534:nobody:/nonexistent:/bin/false
	EOF
	cat >"$1/etc/group" <<-'EOF'
		root:x:0:
		user:x:1000:
		nogroup:x:65534:
	EOF
	mkdir -p "$1/tmp" "$1/root" "$1/home/user"
	chmod 1777 "$1/tmp"
	chown 1000:1000 "$1/home/user"
}

if ! have_image palisade-busybox; then
	say "building image palisade-busybox from /bin/busybox"
	r=$work/busybox
	mkdir -p "$r/bin"
	cp /bin/busybox "$r/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
	done
	users "$r"
	tar -C "$r" --numeric-owner -c . |
		docker import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - palisade-busybox >/dev/null
fi

if ! have_image palisade-debian; then
	say "building image palisade-debian from host binaries"
	r=$work/debian
	mkdir -p "$r/usr/bin" "$r/usr/sbin" "$r/usr/lib" "$r/usr/lib64"
	# Debian 12 has merged /usr: the top-level directories are links.
	for d in bin sbin lib lib64; do ln -s "usr/$d" "$r/$d"; done
	# copyin FILE copies FILE to the same canonical directory in the image,
	# keeping its own name (a library's soname, a command's link name).
	copyin() {
		local dir
		dir=$(realpath "$(dirname "$1")")
		mkdir -p "$r$dir"
		cp -L "$1" "$r$dir/$(basename "$1")"
	}
	for c in bash sh cat id chown chmod ls mkdir rmdir touch rm cp mv ln echo \
		sleep tty stty sha256sum head tail env pwd hostname uname wc tr dd seq \
		true false grep sed stat ip ping; do
		p=$(type -P "$c") || continue
		copyin "$p"
		ldd "$p" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do copyin "$lib"; done
	done
	users "$r"
	sed -i 's#/bin/sh$#/bin/bash#' "$r/etc/passwd"
	tar -C "$r" --numeric-owner -c . |
		docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
			-c 'CMD ["/bin/bash"]' - palisade-debian >/dev/null
fi

# --- runtime --------------------------------------------------------------
runtime_known() {
	local rts
	rts=$(docker info --format '{{json .Runtimes}}') && [[ $rts == *"\"$RUNTIME_NAME\""* ]]
}
if [ ! -x "$RUNSC" ]; then
	say "$RUNSC is missing (make runsc): runtime $RUNTIME_NAME not registered"
elif [[ $("$RUNSC" help 2>&1) != *$'\n'"	install "* ]]; then
	say "$RUNSC has no install command: runtime $RUNTIME_NAME not registered"
else
	before=$(cat "$DAEMON_JSON" 2>/dev/null || true)
	"$RUNSC" install --config-file="$DAEMON_JSON" --runtime="$RUNTIME_NAME" 2>/dev/null
	after=$(cat "$DAEMON_JSON")
	if [ "$before" != "$after" ] || ! runtime_known; then
		say "registered $RUNSC as runtime $RUNTIME_NAME; reloading dockerd"
		pid=$(pidof dockerd) || die "no dockerd process to reload"
		kill -HUP $pid
		poll runtime_known || die "dockerd did not pick up runtime $RUNTIME_NAME; see $DOCKERD_LOG"
	fi
fi

# --- smoke test -----------------------------------------------------------
out=$(timeout 60 docker run --rm --runtime=runc palisade-busybox echo hi) && [ "$out" = hi ] ||
	die "docker run --runtime=runc palisade-busybox echo hi failed: $out"
say "ready: storage driver $(docker info --format '{{.Driver}}'), cgroup driver $(docker info --format '{{.CgroupDriver}}') v$(docker info --format '{{.CgroupVersion}}')"
