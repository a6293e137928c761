#!/bin/bash
# Runs the OCI runtime-tools validation suite (docs/oci.md, "Validation
# suite") against bin/runsc, and optionally against runc for comparison.
#
#   test/e2e/oci-validate.sh [--runc [PATH]] [--only REGEX] [--keep] [-v]
#
# runtime-tools comes from the Go module proxy only: the module is downloaded
# into the module cache, copied into a throwaway module under $OCI_WORK
# (default bin/oci-validate, never part of this repository's go.mod) with its
# dependencies pinned below, and its validation/*/ executables are built
# there. Each executable runs as root from that directory (it needs
# ./runtimetest and ./rootfs-amd64.tar.gz there), with a timeout, against a
# small wrapper that gives the runtime a state root of its own, and with
# TMPDIR (where the suite makes its bundles) under $OCI_WORK, so nothing the
# suite leaves behind mixes with other containers; whatever is left is
# force-deleted at the end. Logs stay in $OCI_WORK/logs.
#
# An executable passes when it exits 0 and its output has no "not ok", no
# "Bail out!" and no error diagnostic. The last line is the score; with
# OCI_MIN_PASS=N the script fails if runsc passes fewer than N.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
export PATH=$PATH:/usr/local/go/bin
export CGO_ENABLED=0
GO=${GO:-go}
RUNSC=${RUNSC:-$repo/bin/runsc}
OCI_WORK=${OCI_WORK:-$repo/bin/oci-validate}
RT_VERSION=${RUNTIME_TOOLS_VERSION:-v0.9.0}
TIMEOUT=${OCI_TIMEOUT:-60}
# runsc's flags: as docker's registration (runsc install), writes to the
# rootfs reach the bundle, as under runc; the suite reads back files that
# containers and hooks write there.
RUNSC_FLAGS=${RUNSC_FLAGS:---overlay=none}
OCI_MIN_PASS=${OCI_MIN_PASS:-0}

runc=""
only=""
keep=0
verbose=0
while [ $# -gt 0 ]; do
	case $1 in
	--runc)
		runc=/usr/sbin/runc
		if [ $# -gt 1 ] && [[ $2 == /* ]]; then runc=$2; shift; fi
		;;
	--only) only=$2; shift ;;
	--keep) keep=1 ;;
	-v) verbose=1 ;;
	-h | --help) sed -n '2,20p' "$0"; exit 0 ;;
	*) echo "oci-validate: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

say() { echo "oci-validate: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$RUNSC" ] || die "$RUNSC is missing (make runsc)"

# --- build the suite ------------------------------------------------------
src=$OCI_WORK/runtime-tools-$RT_VERSION
stamp=$src/.built
if [ ! -e "$stamp" ]; then
	say "building runtime-tools $RT_VERSION validation executables in $src"
	dir=$($GO mod download -json "github.com/opencontainers/runtime-tools@$RT_VERSION" |
		sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	[ -d "$dir" ] || die "go mod download of runtime-tools@$RT_VERSION failed"
	rm -rf "$src"
	mkdir -p "$src"
	cp -r "$dir/." "$src/"
	chmod -R u+w "$src"
	# v0.9.0 predates modules (it vendored with Godeps): pin its
	# dependencies to the proxy's releases nearest Godeps.json.
	cat >"$src/go.mod" <<-'EOF'
		module github.com/opencontainers/runtime-tools

		go 1.21

		require (
			github.com/blang/semver v3.5.0+incompatible
			github.com/hashicorp/go-multierror v1.0.0
			github.com/mndrix/tap-go v0.0.0-20171203230836-629fa407e90b
			github.com/mrunalp/fileutils v0.5.0
			github.com/opencontainers/runtime-spec v1.0.2
			github.com/opencontainers/selinux v1.6.0
			github.com/satori/go.uuid v1.2.0
			github.com/sirupsen/logrus v1.0.4
			github.com/stretchr/testify v1.2.0
			github.com/syndtr/gocapability v0.0.0-20200815063812-42c35b437635
			github.com/urfave/cli v1.19.1
			github.com/xeipuuv/gojsonschema v1.1.0
			golang.org/x/sys v0.50.0
		)
	EOF
	(
		cd "$src" &&
			$GO mod tidy >/dev/null 2>&1 &&
			$GO build -o runtimetest ./cmd/runtimetest &&
			mkdir -p tests &&
			$GO build -o tests/ ./validation/... &&
			rm -f tests/util
	) || die "building runtime-tools failed (cd $src && go build ./validation/...)"
	[ -f "$src/rootfs-amd64.tar.gz" ] || die "rootfs-amd64.tar.gz missing from the module"
	touch "$stamp"
fi

# --- run ------------------------------------------------------------------
# judge LOG RC prints pass or fail by the rule above. An error diagnostic is
# a YAML block with an "error" key that belongs to no test line: the
# suite's way of reporting that a check could not run or failed outside a
# numbered test (the "error" under an "ok" line is an expected error).
judge() {
	if [ "$2" != 0 ]; then echo fail; return; fi
	if grep -qE '^not ok|Bail out!' "$1"; then echo fail; return; fi
	if awk '
		/^(ok|not ok) / { attached = 1; next }
		/^  ---$/ { inblock = 1; next }
		/^  \.\.\.$/ { inblock = 0; attached = 0; next }
		inblock && !attached && /^    "error":/ { found = 1 }
		END { exit !found }' "$1"; then
		echo fail
		return
	fi
	echo pass
}

# unmount_under DIR lazily unmounts whatever is mounted at or under DIR,
# deepest first: a runtime that honours rootfsPropagation "shared" (runc)
# leaves its container's mounts in the host namespace, and rm must never
# walk into them.
unmount_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
}

# run NAME RUNTIME runs every executable against RUNTIME and prints one line
# each; the score goes to $score_NAME.
run() {
	local name=$1 runtime=$2 flags=$3 t rc res pass=0 total=0 start end
	local logs=$OCI_WORK/logs/$name state=$OCI_WORK/state/$name
	local tmp=$OCI_WORK/tmp/$name
	unmount_under "$tmp"
	rm -rf --one-file-system "$logs" "$tmp"
	mkdir -p "$logs" "$state" "$tmp"
	# The wrapper gives the runtime its own --root (argv stays runc-like).
	local wrapper=$OCI_WORK/$name-wrapper
	printf '#!/bin/sh\nexec %q --root %q %s "$@"\n' "$runtime" "$state" "$flags" >"$wrapper"
	chmod +x "$wrapper"
	start=$(date +%s)
	for t in "$src"/tests/*; do
		t=$(basename "$t")
		[ -n "$only" ] && ! [[ $t =~ $only ]] && continue
		(cd "$src" && TMPDIR=$tmp RUNTIME=$wrapper timeout -k 5 "$TIMEOUT" "./tests/$t") >"$logs/$t.log" 2>&1
		rc=$?
		echo "$rc" >"$logs/$t.rc"
		res=$(judge "$logs/$t.log" "$rc")
		total=$((total + 1))
		[ "$res" = pass ] && pass=$((pass + 1))
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then res="$res (timeout)"; fi
		printf '%-8s %-40s %s\n' "$name" "$t" "$res"
		if [ "$verbose" = 1 ] && [[ $res != pass ]]; then sed 's/^/    /' "$logs/$t.log"; fi
	done
	end=$(date +%s)
	# Anything a failed executable left behind.
	local id
	for id in $("$wrapper" list -q 2>/dev/null); do
		"$wrapper" delete --force "$id" >/dev/null 2>&1
	done
	unmount_under "$tmp"
	[ "$keep" = 1 ] || rm -rf --one-file-system "$tmp"
	eval "score_$name='$pass/$total ($((end - start)) s)'"
	eval "passed_$name=$pass"
}

declare score_runsc score_runc passed_runsc=0
run runsc "$RUNSC" "$RUNSC_FLAGS"
[ -n "$runc" ] && run runc "$runc" ""
say "logs in $OCI_WORK/logs"
[ -n "$runc" ] && echo "runc:  $score_runc passed"
echo "runsc: $score_runsc passed"
[ "$passed_runsc" -ge "$OCI_MIN_PASS" ] || die "runsc passed $passed_runsc, fewer than OCI_MIN_PASS=$OCI_MIN_PASS"
