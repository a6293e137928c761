package linux

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDevEncoding(t *testing.T) {
	for _, tc := range []struct{ major, minor uint32 }{{1, 3}, {0, 42}, {136, 300}, {4095, 1 << 19}} {
		enc := encodeDev(tc.major, tc.minor)
		if got := decodeDev(uint32(enc)); got != unix.Mkdev(tc.major, tc.minor) {
			t.Errorf("decodeDev(encodeDev(%d, %d)) = %#x, want %#x", tc.major, tc.minor, got, unix.Mkdev(tc.major, tc.minor))
		}
		if unix.Major(enc) != tc.major || unix.Minor(enc) != tc.minor {
			t.Errorf("encodeDev(%d, %d) = %#x, which libc reads as %d:%d", tc.major, tc.minor, enc, unix.Major(enc), unix.Minor(enc))
		}
	}
}

// dirent64 builds one linux_dirent64 record.
func dirent64(ino, off uint64, typ uint8, name string) []byte {
	reclen := (direntNameOff + len(name) + 1 + 7) &^ 7
	b := make([]byte, reclen)
	binary.LittleEndian.PutUint64(b[0:], ino)
	binary.LittleEndian.PutUint64(b[8:], off)
	binary.LittleEndian.PutUint16(b[16:], uint16(reclen))
	b[18] = typ
	copy(b[direntNameOff:], name)
	return b
}

func TestDirentsToOld(t *testing.T) {
	names := []string{".", "..", "abcde", "a-name-of-exactly-twenty"}
	var buf []byte
	for i, n := range names {
		buf = append(buf, dirent64(uint64(100+i), uint64(i+1), unix.DT_REG, n)...)
	}
	direntsToOld(buf)
	for i, n := range names {
		reclen := int(binary.LittleEndian.Uint16(buf[16:]))
		rec := buf[:reclen]
		if ino := binary.LittleEndian.Uint64(rec); ino != uint64(100+i) {
			t.Errorf("record %d: d_ino = %d, want %d", i, ino, 100+i)
		}
		if got := string(rec[18 : 18+len(n)]); got != n || rec[18+len(n)] != 0 {
			t.Errorf("record %d: d_name = %q (NUL %v), want %q NUL-terminated", i, got, rec[18+len(n)] == 0, n)
		}
		if rec[reclen-1] != unix.DT_REG {
			t.Errorf("record %d: last byte (d_type) = %d, want DT_REG", i, rec[reclen-1])
		}
		buf = buf[reclen:]
	}
}

func TestStatfsFlags(t *testing.T) {
	got := statfsFlags(unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_RELATIME)
	want := int64(stValid | unix.ST_RDONLY | unix.ST_NOSUID | unix.ST_RELATIME)
	if got != want {
		t.Errorf("statfsFlags(MS_RDONLY|MS_NOSUID|MS_RELATIME) = %#x, want %#x", got, want)
	}
}

func TestRegisteredCallsHaveNames(t *testing.T) {
	for _, nr := range []uint64{unix.SYS_OPENAT2, unix.SYS_STATX, unix.SYS_GETDENTS, unix.SYS_PIPE2, unix.SYS_CLOSE_RANGE, unix.SYS_FACCESSAT2} {
		s := Lookup(nr)
		if s.Handler == nil || s.Name == "" {
			t.Errorf("syscall %d: entry %+v, want a named, registered handler", nr, s)
		}
	}
}
