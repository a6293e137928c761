package linux

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCheckOpenFlags(t *testing.T) {
	for _, tc := range []struct {
		name        string
		flags, mode uint64
		want        error
	}{
		{"plain read", unix.O_RDONLY, 0, nil},
		{"create with mode", unix.O_CREAT | unix.O_WRONLY, 0644, nil},
		{"mode without create", unix.O_RDONLY, 0644, unix.EINVAL},
		{"mode with type bits", unix.O_CREAT | unix.O_WRONLY, unix.S_IFREG | 0644, unix.EINVAL},
		{"O_CREAT|O_DIRECTORY", unix.O_CREAT | unix.O_DIRECTORY, 0, unix.EINVAL},
		{"O_TMPFILE read-only", unix.O_TMPFILE | unix.O_RDONLY, 0600, unix.EINVAL},
		{"__O_TMPFILE without O_DIRECTORY", oTmpfileBit | unix.O_RDWR, 0600, unix.EINVAL},
		{"O_TMPFILE read-write", unix.O_TMPFILE | unix.O_RDWR, 0600, nil},
		{"O_PATH with O_NOFOLLOW", unix.O_PATH | unix.O_NOFOLLOW, 0, nil},
		{"O_PATH with O_APPEND", unix.O_PATH | unix.O_APPEND, 0, unix.EINVAL},
	} {
		if got := checkOpenFlags(tc.flags, tc.mode); got != tc.want {
			t.Errorf("%s: checkOpenFlags(%#x, %#o) = %v, want %v", tc.name, tc.flags, tc.mode, got, tc.want)
		}
	}
}

func TestOpenFlagsArgDropsUnknownFlags(t *testing.T) {
	flags, mode, err := openFlagsArg(unix.O_RDONLY|0x40000000, 0644)
	if err != nil {
		t.Fatalf("openFlagsArg with an unknown flag: %v, want success", err)
	}
	if flags&0x40000000 != 0 || mode != 0 {
		t.Errorf("openFlagsArg = %#x, %#o; want the unknown flag and the mode dropped", flags, mode)
	}
	flags, _, err = openFlagsArg(unix.O_PATH|unix.O_APPEND|unix.O_CLOEXEC, 0)
	if err != nil || flags != unix.O_PATH|unix.O_CLOEXEC {
		t.Errorf("openFlagsArg(O_PATH|O_APPEND|O_CLOEXEC) = %#x, %v; want O_PATH|O_CLOEXEC", flags, err)
	}
}

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
