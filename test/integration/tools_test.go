package integration

import (
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestTools runs everyday system tools (issue 5: "tools such as ps, top,
// free, df, mount, script, tar, git and sqlite behave as natively") in the
// sandbox. Their output cannot be byte-identical to a native run, since the
// sandbox has its own process table and mounts, so each case checks what
// must hold inside a sandbox instead. As in TestRuntimes, a case the Sentry
// cannot run yet is skipped with the first cause found; set
// RUNTIMES_NO_SKIP=1 to run the skipped cases anyway.
func TestTools(t *testing.T) {
	for _, tc := range []struct {
		name string
		// needs are the host programs the case uses (scripts/install-deps.sh
		// installs them).
		needs []string
		argv  []string
		// check inspects a run that exited 0.
		check func(t *testing.T, out string)
		// skip, when set, is why the Sentry cannot run this case yet.
		skip string
	}{
		{
			name:  "ps lists exactly the sandbox processes",
			needs: []string{"ps", "sleep"},
			argv:  []string{"sh", "-c", "sleep 5 & ps -e -o pid=,comm=; kill $!"},
			check: func(t *testing.T, out string) {
				procs := psTable(t, out)
				if procs[1] != "sh" {
					t.Errorf("pid 1 is %q, want sh (the shell that runs ps)\n%s", procs[1], out)
				}
				var comms []string
				for _, c := range procs {
					comms = append(comms, c)
				}
				sort.Strings(comms)
				if got := strings.Join(comms, " "); got != "ps sh sleep" {
					t.Errorf("processes %q, want exactly ps, sh and sleep\n%s", got, out)
				}
			},
		},
		{
			name:  "ps reports resident memory",
			needs: []string{"ps"},
			argv:  []string{"sh", "-c", "ps -o rss= -p $$"},
			check: func(t *testing.T, out string) {
				if rss, err := strconv.Atoi(strings.TrimSpace(out)); err != nil || rss <= 0 {
					t.Errorf("rss of the shell %q, want a positive number of KiB", out)
				}
			},
		},
		{
			name:  "top batch mode",
			needs: []string{"top", "sleep"},
			argv:  []string{"sh", "-c", "sleep 5 & top -b -n 1; kill $!"},
			check: func(t *testing.T, out string) {
				line := lineWith(out, "Tasks:")
				f := strings.Fields(line)
				if len(f) < 3 || f[2] != "total," {
					t.Fatalf("no \"Tasks: N total\" line\n%s", trim(out))
				}
				// sh, sleep and top: the host's tasks must not show.
				if n, err := strconv.Atoi(f[1]); err != nil || n != 3 {
					t.Errorf("%q: want 3 tasks (sh, sleep, top)", line)
				}
				for _, c := range []string{"sh", "sleep", "top"} {
					if !hasLineEnding(out, " "+c) {
						t.Errorf("no task line for %s\n%s", c, trim(out))
					}
				}
			},
		},
		{
			name:  "free",
			needs: []string{"free"},
			argv:  []string{"free", "-b"},
			check: func(t *testing.T, out string) {
				f := strings.Fields(lineWith(out, "Mem:"))
				if len(f) < 7 {
					t.Fatalf("no Mem: line with 6 numbers\n%s", out)
				}
				var n [6]uint64
				for i := range n {
					v, err := strconv.ParseUint(f[i+1], 10, 64)
					if err != nil {
						t.Fatalf("Mem: field %d %q is not a number\n%s", i+1, f[i+1], out)
					}
					n[i] = v
				}
				total, used, free, avail := n[0], n[1], n[2], n[5]
				if total == 0 || used > total || free > total || avail > total {
					t.Errorf("total %d used %d free %d available %d: want 0 < total and used, free, available <= total", total, used, free, avail)
				}
			},
		},
		{
			name:  "df tmpfs and root",
			needs: []string{"df"},
			argv:  []string{"sh", "-c", "df -hT /tmp && df /"},
			check: func(t *testing.T, out string) {
				// Type column: the source column says "none" in the
				// sandbox where Linux says "tmpfs".
				f := strings.Fields(lineWith(out, " /tmp"))
				if len(f) != 7 || f[1] != "tmpfs" || f[6] != "/tmp" {
					t.Errorf("no tmpfs line for /tmp\n%s", out)
				}
				var root []string
				for _, l := range strings.Split(out, "\n") {
					if g := strings.Fields(l); len(g) == 6 && g[5] == "/" {
						root = g
					}
				}
				if root == nil {
					t.Fatalf("no line for /\n%s", out)
				}
				if _, err := strconv.ParseUint(root[1], 10, 64); err != nil {
					t.Errorf("size of / %q is not a number of 1K-blocks\n%s", root[1], out)
				}
			},
		},
		{
			name:  "df sees tmpfs usage grow",
			needs: []string{"df", "head"},
			argv: []string{"sh", "-c", "df -B1 --output=used /tmp | tail -1; " +
				"head -c 8388608 /dev/zero > /tmp/big; df -B1 --output=used /tmp | tail -1"},
			check: func(t *testing.T, out string) {
				f := strings.Fields(out)
				if len(f) != 2 {
					t.Fatalf("want two Used numbers\n%s", out)
				}
				before, err1 := strconv.ParseUint(f[0], 10, 64)
				after, err2 := strconv.ParseUint(f[1], 10, 64)
				if err1 != nil || err2 != nil || after < before+8388608 {
					t.Errorf("Used went from %s to %s after writing 8 MiB, want it to grow by at least 8 MiB", f[0], f[1])
				}
			},
		},
		{
			name:  "mount and /proc/mounts",
			needs: []string{"mount", "cat"},
			argv:  []string{"sh", "-c", "mount && echo --- && cat /proc/mounts"},
			check: func(t *testing.T, out string) {
				mount, procMounts, ok := strings.Cut(out, "---\n")
				if !ok {
					t.Fatalf("no separator\n%s", out)
				}
				for _, m := range []struct{ dir, typ string }{{"/proc", "proc"}, {"/tmp", "tmpfs"}, {"/dev", ""}} {
					if !mountsHas(mount, m.dir, m.typ, 2, 4) {
						t.Errorf("mount does not list %s (type %q)\n%s", m.dir, m.typ, mount)
					}
					if !mountsHas(procMounts, m.dir, m.typ, 1, 2) {
						t.Errorf("/proc/mounts does not list %s (type %q)\n%s", m.dir, m.typ, procMounts)
					}
				}
			},
		},
		{
			name:  "script runs a command on a pty",
			needs: []string{"script"},
			argv:  []string{"script", "-qec", "echo inside-pty", "/dev/null"},
			check: func(t *testing.T, out string) {
				if !strings.Contains(out, "inside-pty") {
					t.Errorf("output %q does not contain inside-pty", out)
				}
			},
		},
		{
			name:  "tar create list extract",
			needs: []string{"tar", "gzip", "diff", "seq"},
			argv: []string{"sh", "-c", `set -e
mkdir -p /tmp/src/a/b /tmp/dst
echo one > /tmp/src/f1
echo two > /tmp/src/a/f2
chmod 600 /tmp/src/a/f2
seq 1 20000 > /tmp/src/a/b/f3
ln -s ../f1 /tmp/src/a/link
cd /tmp
tar -czf t.tgz src
tar -tzf t.tgz | sort
tar -xzf t.tgz -C /tmp/dst
diff -r /tmp/src /tmp/dst/src
test "$(stat -c %a /tmp/dst/src/a/f2)" = 600
test "$(readlink /tmp/dst/src/a/link)" = ../f1
echo same`},
			check: func(t *testing.T, out string) {
				want := "src/\nsrc/a/\nsrc/a/b/\nsrc/a/b/f3\nsrc/a/f2\nsrc/a/link\nsrc/f1\nsame\n"
				if out != want {
					t.Errorf("got %q, want %q", out, want)
				}
			},
		},
		{
			name:  "git init add commit log",
			needs: []string{"git", "wc"},
			argv: []string{"sh", "-c", "git init -q /tmp/r && cd /tmp/r && " +
				"git config user.email a@b && git config user.name n && " +
				"echo x > f && git add f && git commit -qm m && git log --oneline | wc -l && " +
				"git cat-file -p HEAD:f && git status --porcelain"},
			check: func(t *testing.T, out string) {
				if want := "1\nx\n"; out != want {
					t.Errorf("got %q, want %q (one commit, f holds x, clean tree)", out, want)
				}
			},
		},
		{
			name:  "sqlite3 transaction",
			needs: []string{"sqlite3", "seq", "sed"},
			argv: []string{"sh", "-c", `set -e
{
	echo "create table t(i integer primary key, s text);"
	echo "begin;"
	seq 1 1000 | sed "s/.*/insert into t(s) values('row &');/"
	echo "commit;"
	echo "select count(*), max(i) from t;"
} | sqlite3 -bail /tmp/db.sqlite
sqlite3 /tmp/db.sqlite "select s from t where i = 500;"`},
			check: func(t *testing.T, out string) {
				if want := "1000|1000\nrow 500\n"; out != want {
					t.Errorf("got %q, want %q", out, want)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip != "" {
				if os.Getenv("RUNTIMES_NO_SKIP") == "" {
					t.Skip(tc.skip)
				}
				t.Logf("expected to fail (RUNTIMES_NO_SKIP set): %s", tc.skip)
			}
			for _, p := range tc.needs {
				if _, err := exec.LookPath(p); err != nil {
					t.Fatalf("%s is not installed on the host (run scripts/install-deps.sh)", p)
				}
			}
			got := sandboxed(t, tc.argv...)
			if got.status != 0 {
				t.Fatalf("exit status %d, want 0\nstdout: %s\nstderr: %s", got.status, trim(got.stdout), trim(strings.TrimSpace(got.stderr)))
			}
			tc.check(t, got.stdout)
		})
	}
}

// psTable parses `ps -o pid=,comm=` output into comm by pid.
func psTable(t *testing.T, out string) map[int]string {
	t.Helper()
	procs := map[int]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			t.Fatalf("ps line %q is not \"pid comm\"\n%s", l, out)
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			t.Fatalf("ps line %q: bad pid", l)
		}
		procs[pid] = f[1]
	}
	return procs
}

// lineWith returns the first line of out containing s, or "".
func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// hasLineEnding reports whether a line of out ends with s (ignoring
// trailing blanks).
func hasLineEnding(out, s string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasSuffix(strings.TrimRight(l, " "), s) {
			return true
		}
	}
	return false
}

// mountsHas reports whether a line of a mount table has dir in field
// dirField and, unless typ is empty, typ in field typField. `mount` prints
// "SRC on DIR type TYPE (OPTS)" (fields 2 and 4), /proc/mounts
// "SRC DIR TYPE OPTS 0 0" (fields 1 and 2).
func mountsHas(table, dir, typ string, dirField, typField int) bool {
	for _, l := range strings.Split(table, "\n") {
		f := strings.Fields(l)
		if len(f) > dirField && len(f) > typField && f[dirField] == dir && (typ == "" || f[typField] == typ) {
			return true
		}
	}
	return false
}
