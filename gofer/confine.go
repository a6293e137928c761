package gofer

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pseudoFilesystems are the host file systems a gofer never serves,
// whatever it is asked: they describe the host (its processes, devices,
// kernel state) rather than hold a container's files. Keyed by the type
// name /proc/self/mountinfo shows.
var pseudoFilesystems = map[string]bool{
	"proc": true, "sysfs": true, "devtmpfs": true, "devpts": true, "debugfs": true,
	"tracefs": true, "securityfs": true, "cgroup": true, "cgroup2": true, "bpf": true,
	"configfs": true, "efivarfs": true, "pstore": true, "fusectl": true, "binfmt_misc": true,
	"mqueue": true, "hugetlbfs": true, "nsfs": true, "selinuxfs": true, "autofs": true,
	"rpc_pipefs": true, "nfsd": true,
}

// pseudoMagics are statfs(2) f_type values of the same file systems, a
// check that needs no /proc. devtmpfs reports tmpfs's magic and is only
// told apart by its type name.
var pseudoMagics = map[int64]string{
	unix.PROC_SUPER_MAGIC: "proc", unix.SYSFS_MAGIC: "sysfs", unix.DEVPTS_SUPER_MAGIC: "devpts",
	unix.DEBUGFS_MAGIC: "debugfs", unix.TRACEFS_MAGIC: "tracefs", unix.SECURITYFS_MAGIC: "securityfs",
	unix.CGROUP_SUPER_MAGIC: "cgroup", unix.CGROUP2_SUPER_MAGIC: "cgroup2", unix.BPF_FS_MAGIC: "bpf",
	unix.EFIVARFS_MAGIC: "efivarfs", unix.PSTOREFS_MAGIC: "pstore", unix.NSFS_MAGIC: "nsfs",
	unix.SELINUX_MAGIC: "selinuxfs", unix.HUGETLBFS_MAGIC: "hugetlbfs", 0x19800202: "mqueue",
	0x42494e4d: "binfmt_misc", 0x62656570: "configfs", 0x65735543: "fusectl",
}

// CheckServable returns an error naming the file system if dir is not a
// directory a gofer may serve: one on a host pseudo-file system (proc,
// sysfs, devtmpfs, debugfs, tracefs, securityfs, cgroup, bpf, ...).
func CheckServable(dir string) error {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	return checkServableFD(dir, fd)
}

// checkServableFD is CheckServable for an open directory.
func checkServableFD(dir string, fd int) error {
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil {
		return &os.PathError{Op: "statfs", Path: dir, Err: err}
	}
	if name, ok := pseudoMagics[int64(sfs.Type)]; ok {
		return fmt.Errorf("%s is on the host's %s file system, which is never served", dir, name)
	}
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &stx); err != nil || stx.Mask&unix.STATX_MNT_ID == 0 {
		return nil // an old kernel: the magic number is all there is
	}
	if fstype := mountType(stx.Mnt_id); pseudoFilesystems[fstype] {
		return fmt.Errorf("%s is on the host's %s file system, which is never served", dir, fstype)
	}
	return nil
}

// mountType returns the file system type of the mount with the given id,
// from /proc/self/mountinfo, or "" if it is not found.
func mountType(id uint64) string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...] - TYPE SOURCE SUPEROPTS
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != strconv.FormatUint(id, 10) {
			continue
		}
		_, after, ok := strings.Cut(line, " - ")
		if !ok {
			return ""
		}
		if t := strings.Fields(after); len(t) > 0 {
			return t[0]
		}
	}
	return ""
}

// stagingDir is where Confine builds the gofer's new root, a tmpfs
// mounted over it in the gofer's own mount namespace (the host's /tmp is
// not touched).
const stagingDir = "/tmp"

// Confine makes the calling process's root an empty, read-only tmpfs that
// holds one non-recursive bind mount of each directory in dirs, at "/0",
// "/1", ..., and returns those paths. It must run in a mount namespace of
// the gofer's own (runsc starts it with CLONE_NEWNS) and needs
// CAP_SYS_ADMIN; the caller must hold no descriptor of a directory outside
// dirs.
//
// A non-recursive bind carries a directory's own file system and nothing
// mounted below it: the host's /proc, /sys, /dev or /tmp under a served
// root "/" are the empty directories they are on the root file system, and
// a mount made on the host later does not propagate (every mount is made
// private first). Directories on host pseudo-file systems are refused
// (CheckServable). With readOnly the binds are read-only mounts too, so
// even a compromised gofer cannot write through them.
//
// The old root is pivoted away and detached, so no host path stays
// reachable. If pivot_root is refused (runsc itself runs chrooted, so its
// root is not a mount), Confine chroots into the new root instead.
func Confine(dirs []string, readOnly bool) ([]string, error) {
	ro := make([]bool, len(dirs))
	for i := range ro {
		ro[i] = readOnly
	}
	return ConfineEach(dirs, ro)
}

// ConfineEach is Confine with a read-only choice per directory.
func ConfineEach(dirs []string, readOnly []bool) ([]string, error) {
	if len(readOnly) != len(dirs) {
		return nil, fmt.Errorf("confine: %d directories but %d read-only flags", len(dirs), len(readOnly))
	}
	fds := make([]int, 0, len(dirs))
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, dir := range dirs {
		fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: dir, Err: err}
		}
		fds = append(fds, fd)
		if err := checkServableFD(dir, fd); err != nil {
			return nil, err
		}
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return nil, os.NewSyscallError("making mounts private", err)
	}
	if err := unix.Mount("palisade-gofer", stagingDir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=16k,nr_inodes=1024,mode=0700"); err != nil {
		return nil, os.NewSyscallError("mounting the gofer's root", err)
	}
	if err := unix.Chdir(stagingDir); err != nil {
		return nil, os.NewSyscallError("chdir", err)
	}
	paths := make([]string, len(dirs))
	for i, fd := range fds {
		name := strconv.Itoa(i)
		if err := unix.Mkdir(name, 0o700); err != nil {
			return nil, os.NewSyscallError("mkdir", err)
		}
		// The magic link names exactly the directory opened above,
		// whatever has been mounted over its path since.
		src := fmt.Sprintf("/proc/self/fd/%d", fd)
		if err := unix.Mount(src, name, "", unix.MS_BIND, ""); err != nil {
			return nil, fmt.Errorf("binding %s: %w", dirs[i], os.NewSyscallError("mount", err))
		}
		bindFlags := uintptr(unix.MS_REMOUNT | unix.MS_BIND | unix.MS_NOSUID | unix.MS_NODEV)
		if readOnly[i] {
			bindFlags |= unix.MS_RDONLY
		}
		if err := unix.Mount("", name, "", bindFlags, ""); err != nil {
			return nil, fmt.Errorf("remounting %s: %w", dirs[i], os.NewSyscallError("mount", err))
		}
		paths[i] = "/" + name
	}
	if err := pivotHere(); err != nil {
		return nil, err
	}
	// The tmpfs holding the mount points is read-only from now on.
	if err := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return nil, os.NewSyscallError("remounting the gofer's root read-only", err)
	}
	return paths, nil
}

// pivotHere makes the working directory, a mount point, the root, and
// detaches the old root (pivot_root(".", ".") stacks the old root on the
// new one, where unmounting "." removes it).
func pivotHere() error {
	if err := unix.PivotRoot(".", "."); err != nil {
		if err != unix.EINVAL {
			return os.NewSyscallError("pivot_root", err)
		}
		if err := unix.Chroot("."); err != nil {
			return os.NewSyscallError("chroot", err)
		}
		return os.NewSyscallError("chdir", unix.Chdir("/"))
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return os.NewSyscallError("detaching the old root", err)
	}
	return os.NewSyscallError("chdir", unix.Chdir("/"))
}
