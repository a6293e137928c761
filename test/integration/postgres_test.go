package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// postgresScript runs as the sandbox's root: it makes a fresh directory
// under /var/tmp (the sandbox's /tmp is a tmpfs of its own; /var/tmp is
// the root's in-memory overlay, so nothing reaches the host), gives it to
// nobody, and as nobody (PostgreSQL refuses to run as root) runs initdb,
// starts the server with pg_ctl, runs one psql session and stops the
// server with a fast shutdown. Every step is bounded: pg_ctl waits at
// most 20 s, psql's connection 10 s and its statements 20 s. The server
// is stopped whatever psql did; its log is printed when something failed
// or a server process died.
//
// $1 is PostgreSQL's bin directory, $2 the extra server options, $3 the
// host psql connects to (empty: the Unix socket in the data directory).
const postgresScript = `
set -u
B=$1 OPTS=$2 HOST=$3
D=$(mktemp -d /var/tmp/pgtest.XXXXXX) || exit 1
chown 65534:65534 "$D" || exit 1
setpriv --reuid=65534 --regid=65534 --clear-groups \
	env -i PATH=/usr/bin:/bin HOME="$D" LANG=C PGCONNECT_TIMEOUT=10 PGOPTIONS="-c statement_timeout=20s" \
	sh -c '
B=$1 D=$2 OPTS=$3 HOST=${4:-$2}
if ! "$B/initdb" -D "$D/data" -A trust -U postgres >"$D/initdb.log" 2>&1; then
	echo "initdb failed:"; cat "$D/initdb.log"; exit 1
fi
if ! "$B/pg_ctl" -D "$D/data" -l "$D/server.log" -w -t 20 -o "-k $D $OPTS" start >"$D/pg_ctl.log" 2>&1; then
	echo "pg_ctl start failed:"; cat "$D/pg_ctl.log" "$D/server.log"; "$B/pg_ctl" -D "$D/data" -w -t 10 -m immediate stop >/dev/null 2>&1; exit 1
fi
"$B/psql" -h "$HOST" -U postgres -d postgres -X -A -t -v ON_ERROR_STOP=1 \
	-c "CREATE TABLE fruit (id int PRIMARY KEY, name text NOT NULL)" \
	-c "INSERT INTO fruit VALUES (1, '"'"'apple'"'"'), (2, '"'"'pear'"'"'), (3, '"'"'plum'"'"')" \
	-c "CREATE TABLE big AS SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 50000) g" \
	-c "SELECT id, name FROM fruit WHERE id > 1 ORDER BY id" \
	-c "SELECT count(*) FROM big WHERE h LIKE '"'"'a%'"'"'" \
	-c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(*) FROM big WHERE h LIKE '"'"'a%'"'"'"
rc=$?
if ! "$B/pg_ctl" -D "$D/data" -w -t 20 -m fast stop >"$D/pg_ctl.log" 2>&1; then
	echo "pg_ctl stop failed:"; cat "$D/pg_ctl.log"; "$B/pg_ctl" -D "$D/data" -w -t 10 -m immediate stop >/dev/null 2>&1; rc=1
fi
if [ $rc != 0 ] || grep -q "terminated by signal" "$D/server.log"; then
	echo "server log:"; cat "$D/server.log"; rc=1
fi
exit $rc
' sh "$B" "$D" "$OPTS" "$HOST"
rc=$?
rm -rf "$D"
exit $rc
`

// postgresBin returns the bin directory of the newest PostgreSQL that
// Debian's packages installed, or "" if there is none.
func postgresBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, vj := filepath.Base(filepath.Dir(dirs[i])), filepath.Base(filepath.Dir(dirs[j]))
		if len(vi) != len(vj) {
			return len(vi) < len(vj)
		}
		return vi < vj
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i]
		}
	}
	return ""
}

// TestPostgres runs Debian's PostgreSQL in the sandbox (issue 12): as
// an unprivileged user, initdb on a fresh directory, pg_ctl start, a psql
// session that creates, fills and queries tables, and pg_ctl stop -m
// fast. The server's processes share System V or POSIX shared memory and
// semaphores, fork, signal each other and fsync; a query runs on parallel
// workers (dynamic shared memory). One case uses the System V kinds for
// both the main and the dynamic shared memory, and TCP on the sandbox's
// loopback.
func TestPostgres(t *testing.T) {
	pg := postgresBin()
	if pg == "" {
		t.Skip("needs PostgreSQL (scripts/install-deps.sh installs postgresql)")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("needs setpriv (util-linux)")
	}
	bin := runsc(t)
	before := stubCount(t)
	for _, tc := range []struct {
		name, opts, host string
	}{
		{"unix socket, posix shared memory", "-c listen_addresses=", ""},
		{"tcp loopback, sysv shared memory", "-c listen_addresses=127.0.0.1 -c shared_memory_type=sysv " +
			"-c dynamic_shared_memory_type=sysv", "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			// Parallel query whatever the table's size: the workers
			// are processes the server forks, sharing the query's
			// state through dynamic shared memory.
			opts := tc.opts + " -c max_parallel_workers_per_gather=2 -c parallel_setup_cost=0" +
				" -c parallel_tuple_cost=0 -c min_parallel_table_scan_size=0"
			cmd := exec.CommandContext(ctx, bin, "--network=none", "do", "sh", "-c", postgresScript, "sh", pg, opts, tc.host)
			cmd.Dir = "/"
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("hung (killed after 90s)\nstdout: %s\nstderr: %s", tail(out.String(), 4000), tail(errb.String(), 2000))
			}
			if err != nil {
				t.Fatalf("%v\nstdout: %s\nstderr: %s", err, tail(out.String(), 6000), tail(errb.String(), 2000))
			}
			// The count is how many md5 hashes of 1..50000 start
			// with "a" (as Python's hashlib says); then comes the plan
			// of the same query, which ran on two parallel workers.
			want := "CREATE TABLE\nINSERT 0 3\nSELECT 50000\n2|pear\n3|plum\n3079\n"
			got := out.String()
			if !strings.HasPrefix(got, want) {
				t.Errorf("psql printed %q, want it to start with %q\nstderr: %s", got, want, tail(errb.String(), 2000))
			} else if plan := got[len(want):]; !strings.Contains(plan, "Workers Launched: 2\n") {
				t.Errorf("the query's plan does not say two workers ran:\n%s", plan)
			}
		})
	}
	if after := stubCount(t); after > before {
		t.Errorf("%d stub processes leaked", after-before)
	}
}
