package integration

import (
	"os/exec"
	"strings"
	"testing"
)

// lockedMountsScript runs, as root inside the sandbox, what a guest might
// try to uncover what the sandbox's own mounts cover, and what it may do
// with them. Each line it prints is "WHAT STATUS" (the exit status of
// mount or umount) or a marker of a check that held.
const lockedMountsScript = `
for d in /proc /sys /dev /tmp; do
	umount $d 2>/dev/null; echo "umount $d $?"
	umount -l $d 2>/dev/null; echo "umount-l $d $?"
	mount --move $d /mnt 2>/dev/null; echo "move $d $?"
done
mount --bind / /mnt 2>/dev/null; echo "bind / $?"
mount --bind /dev /mnt 2>/dev/null; echo "bind /dev $?"
mount -o remount,bind,rw /sys 2>/dev/null; echo "remount-rw /sys $?"
mount -o remount,bind,suid,nodev,noexec /proc 2>/dev/null; echo "remount-suid /proc $?"
mount -t tmpfs none /tmp && touch /tmp/over && umount /tmp && test ! -e /tmp/over && echo tmpfs-over-tmp-ok
mount --rbind / /mnt || exit 1
test "$(cat /mnt/proc/1/comm)" = sh && echo rbind-proc-is-the-sandboxs
test "$(ls /mnt/proc | grep -c '^[0-9]')" -lt 10 && echo rbind-proc-is-small
umount /mnt/proc 2>/dev/null; echo "umount /mnt/proc $?"
umount -l /mnt && echo lazy-umount-of-copy-ok
test ! -e /mnt/proc/1 && echo copy-gone
`

// TestLockedSandboxMounts checks that the guest, root with CAP_SYS_ADMIN,
// can neither unmount, move nor bind around the mounts the sandbox is
// built with, nor remount them with fewer restrictions, while it can
// still mount over them and bind the tree recursively (vfs.LockMountTree).
func TestLockedSandboxMounts(t *testing.T) {
	for _, p := range []string{"mount", "umount", "sh", "cat", "ls", "grep", "touch"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("host has no %s: %v", p, err)
		}
	}
	r := sandboxed(t, "sh", "-c", lockedMountsScript)
	if r.status != 0 {
		t.Fatalf("script exited %d\nstdout:\n%s\nstderr:\n%s", r.status, r.stdout, r.stderr)
	}
	want := map[string]bool{
		"tmpfs-over-tmp-ok": false, "rbind-proc-is-the-sandboxs": false, "rbind-proc-is-small": false,
		"lazy-umount-of-copy-ok": false, "copy-gone": false,
	}
	attempts := 0
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if _, ok := want[line]; ok {
			want[line] = true
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Errorf("unexpected line %q", line)
			continue
		}
		attempts++
		if f[2] == "0" {
			t.Errorf("%s %s succeeded; the sandbox's mounts must stay as they are", f[0], f[1])
		}
	}
	if attempts != 4*3+5 {
		t.Errorf("%d attempts reported, want %d\n%s", attempts, 4*3+5, r.stdout)
	}
	for marker, seen := range want {
		if !seen {
			t.Errorf("%s missing\nstdout:\n%s\nstderr:\n%s", marker, r.stdout, r.stderr)
		}
	}
}
