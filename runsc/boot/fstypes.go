package boot

import (
	"context"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/mqueue"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/tmpfs"
)

// registerFilesystemTypes makes the filesystem types guests may mount
// known to k: tmpfs (a new instance per mount, limited to totalRAM/2
// unless size= says otherwise), and proc, sysfs and mqueue, whose
// instances are shared by every mount as Linux shares them within a PID,
// network and IPC namespace.
func registerFilesystemTypes(k *kernel.Kernel, mf *memory.File, totalRAM uint64, procFS, sysFS *vfs.Filesystem) {
	k.RegisterFilesystemType("tmpfs", func(ctx context.Context, source string, flags uint32, data string) (*vfs.Filesystem, error) {
		opts, err := parseTmpfsOptions(data, totalRAM)
		if err != nil {
			return nil, err
		}
		opts.Mem = mf
		return tmpfs.New(ctx, opts)
	})
	// One mqueue instance shows the sandbox's queues wherever it is
	// mounted (an IPC namespace's, as on Linux).
	mqFS := mqueue.NewFilesystem(mqueue.For(k))
	for name, fs := range map[string]*vfs.Filesystem{"proc": procFS, "sysfs": sysFS, "mqueue": mqFS} {
		fs := fs
		k.RegisterFilesystemType(name, func(context.Context, string, uint32, string) (*vfs.Filesystem, error) {
			fs.IncRef()
			return fs, nil
		})
	}
}

// parseTmpfsOptions parses tmpfs's mount options: size= (bytes, with a
// k, m, g or t suffix, or a percentage of RAM), mode= (octal), uid=,
// gid=; nr_inodes=, nr_blocks=, huge=, mpol= and inode64 are accepted
// and ignored. Unknown options fail with EINVAL.
func parseTmpfsOptions(data string, totalRAM uint64) (tmpfs.Options, error) {
	opts := tmpfs.Options{RootMode: 01777, SizeLimit: totalRAM / 2}
	for _, o := range strings.Split(data, ",") {
		if o == "" {
			continue
		}
		key, val, _ := strings.Cut(o, "=")
		var err error
		switch key {
		case "size":
			opts.SizeLimit, err = parseTmpfsSize(val, totalRAM)
		case "mode":
			var m uint64
			m, err = strconv.ParseUint(val, 8, 32)
			if err == nil && m&^07777 != 0 {
				err = unix.EINVAL
			}
			opts.RootMode = uint32(m)
		case "uid", "gid":
			var id uint64
			id, err = strconv.ParseUint(val, 10, 32)
			if key == "uid" {
				opts.RootUID = uint32(id)
			} else {
				opts.RootGID = uint32(id)
			}
		case "nr_inodes", "nr_blocks", "huge", "mpol", "inode64", "inode32", "noswap":
		default:
			return opts, unix.EINVAL
		}
		if err != nil {
			return opts, unix.EINVAL
		}
	}
	return opts, nil
}

// parseTmpfsSize parses size='s value.
func parseTmpfsSize(val string, totalRAM uint64) (uint64, error) {
	if p, ok := strings.CutSuffix(val, "%"); ok {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil || n == 0 {
			return 0, unix.EINVAL
		}
		return totalRAM / 100 * n, nil
	}
	mult := uint64(1)
	if len(val) > 0 {
		switch val[len(val)-1] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		case 't', 'T':
			mult = 1 << 40
		}
		if mult != 1 {
			val = val[:len(val)-1]
		}
	}
	n, err := strconv.ParseUint(val, 10, 64)
	if err != nil || n > ^uint64(0)/mult {
		return 0, unix.EINVAL
	}
	return n * mult, nil
}
