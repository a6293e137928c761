// Package resident lets a long-lived runsc process (a container's sandbox
// or gofer) drop its page-table mappings of the runsc executable's
// read-only pages once start-up is over. Those pages stay in the host's
// page cache; only the ones the process runs again are mapped back, on
// their next use, so an idle sandbox holds its working set of runsc's code
// rather than everything start-up touched (docs/performance.md).
package resident

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Text is the read-only mappings of the executable, found before the
// process confines itself (it reads /proc/self/maps).
type Text struct {
	ranges [][2]uintptr
}

// FindText returns the mappings of the running executable that are
// neither writable nor anonymous.
func FindText() (*Text, error) {
	var exe unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &exe); err != nil {
		return nil, os.NewSyscallError("stat /proc/self/exe", err)
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t := &Text{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset major:minor inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 {
			continue
		}
		if strings.Contains(fields[1], "w") {
			// Private writable mappings hold changed data that
			// MADV_DONTNEED would throw away.
			continue
		}
		ino, err := strconv.ParseUint(fields[4], 10, 64)
		if err != nil || ino != exe.Ino {
			continue
		}
		maj, min, ok := strings.Cut(fields[3], ":")
		ma, err1 := strconv.ParseUint(maj, 16, 32)
		mi, err2 := strconv.ParseUint(min, 16, 32)
		if !ok || err1 != nil || err2 != nil || unix.Mkdev(uint32(ma), uint32(mi)) != exe.Dev {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || end <= start {
			return nil, fmt.Errorf("malformed /proc/self/maps line %q", sc.Text())
		}
		t.ranges = append(t.ranges, [2]uintptr{uintptr(start), uintptr(end)})
	}
	return t, sc.Err()
}

// Drop unmaps the text's pages from the process's page tables
// (MADV_DONTNEED on clean, read-only file pages: they fault back in
// from the page cache when next used).
func (t *Text) Drop() {
	if t == nil {
		return
	}
	for _, r := range t.ranges {
		unix.Syscall(unix.SYS_MADVISE, r[0], r[1]-r[0], unix.MADV_DONTNEED)
	}
}

// dropInterval is how often DropEvery drops the text again: the pages a
// busy process uses come back at the cost of a few hundred minor faults;
// an idle one keeps only what its last few seconds touched.
const dropInterval = 10 * time.Second

// DropEvery drops the text now, a second from now (the end of a
// container's start-up) and then every dropInterval, for the life of the
// process.
func (t *Text) DropEvery() {
	if t == nil {
		return
	}
	t.Drop()
	go func() {
		time.Sleep(time.Second)
		for {
			t.Drop()
			time.Sleep(dropInterval)
		}
	}()
}
