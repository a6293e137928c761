package vfs_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

func TestOpenHowCheck(t *testing.T) {
	const oTmpfileBit = unix.O_TMPFILE &^ unix.O_DIRECTORY
	for _, tc := range []struct {
		name string
		how  vfs.OpenHow
		want error
	}{
		{"plain read", vfs.OpenHow{Flags: unix.O_RDONLY}, nil},
		{"create with mode", vfs.OpenHow{Flags: unix.O_CREAT | unix.O_WRONLY, Mode: 0o644}, nil},
		{"mode without create", vfs.OpenHow{Flags: unix.O_RDONLY, Mode: 0o644}, unix.EINVAL},
		{"mode with type bits", vfs.OpenHow{Flags: unix.O_CREAT | unix.O_WRONLY, Mode: unix.S_IFREG | 0o644}, unix.EINVAL},
		{"O_CREAT|O_DIRECTORY", vfs.OpenHow{Flags: unix.O_CREAT | unix.O_DIRECTORY}, unix.EINVAL},
		{"O_TMPFILE read-only", vfs.OpenHow{Flags: unix.O_TMPFILE | unix.O_RDONLY, Mode: 0o600}, unix.EINVAL},
		{"__O_TMPFILE without O_DIRECTORY", vfs.OpenHow{Flags: oTmpfileBit | unix.O_RDWR, Mode: 0o600}, unix.EINVAL},
		{"O_TMPFILE read-write", vfs.OpenHow{Flags: unix.O_TMPFILE | unix.O_RDWR, Mode: 0o600}, nil},
		{"O_PATH with O_NOFOLLOW", vfs.OpenHow{Flags: unix.O_PATH | unix.O_NOFOLLOW}, nil},
		{"O_PATH with O_APPEND", vfs.OpenHow{Flags: unix.O_PATH | unix.O_APPEND}, unix.EINVAL},
		{"unknown flag", vfs.OpenHow{Flags: 0x40000000}, unix.EINVAL},
		{"flag beyond 32 bits", vfs.OpenHow{Flags: 1 << 40}, unix.EINVAL},
		{"unknown resolve flag", vfs.OpenHow{Resolve: 0x1000}, unix.EINVAL},
		{"RESOLVE_BENEATH|RESOLVE_IN_ROOT", vfs.OpenHow{Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_IN_ROOT}, unix.EINVAL},
		{"RESOLVE_CACHED", vfs.OpenHow{Resolve: vfs.ResolveCached}, unix.EAGAIN},
		{"RESOLVE_CACHED with a bad mode", vfs.OpenHow{Mode: 0o644, Resolve: vfs.ResolveCached}, unix.EINVAL},
	} {
		if got := tc.how.Check(); got != tc.want {
			t.Errorf("%s: %+v.Check() = %v, want %v", tc.name, tc.how, got, tc.want)
		}
	}
}

func TestOpenHowFromFlagsDropsWhatOpenIgnores(t *testing.T) {
	how := vfs.OpenHowFromFlags(unix.O_RDONLY|0x40000000, 0o644)
	if err := how.Check(); err != nil {
		t.Fatalf("OpenHowFromFlags with an unknown flag: Check = %v, want success", err)
	}
	if how.Flags&0x40000000 != 0 || how.Mode != 0 {
		t.Errorf("OpenHowFromFlags = %+v; want the unknown flag and the mode dropped", how)
	}
	how = vfs.OpenHowFromFlags(unix.O_PATH|unix.O_APPEND|unix.O_CLOEXEC, 0)
	if err := how.Check(); err != nil || how.Flags != unix.O_PATH|unix.O_CLOEXEC {
		t.Errorf("OpenHowFromFlags(O_PATH|O_APPEND|O_CLOEXEC) = %+v, Check %v; want O_PATH|O_CLOEXEC", how, err)
	}
}

func TestOpenHowOptions(t *testing.T) {
	const largefile = 0x8000
	for _, tc := range []struct {
		name string
		how  vfs.OpenHow
		want vfs.OpenOptions
	}{
		{"create applies the umask", vfs.OpenHow{Flags: unix.O_CREAT | unix.O_WRONLY, Mode: 0o666}, vfs.OpenOptions{Flags: unix.O_CREAT | unix.O_WRONLY | largefile, Mode: 0o644}},
		{"O_PATH gets no O_LARGEFILE", vfs.OpenHow{Flags: unix.O_PATH}, vfs.OpenOptions{Flags: unix.O_PATH}},
		{"no create, no mode", vfs.OpenHow{Flags: unix.O_RDWR}, vfs.OpenOptions{Flags: unix.O_RDWR | largefile}},
	} {
		if got := tc.how.Options(0o022); got != tc.want {
			t.Errorf("%s: %+v.Options(022) = %+v, want %+v", tc.name, tc.how, got, tc.want)
		}
	}
}
