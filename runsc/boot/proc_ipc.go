package boot

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/ipc"
	"github.com/palisade-sandbox/palisade/vfs/proc"
)

// ipcProcFiles are the /proc files of System V IPC: the limits in
// /proc/sys/kernel (writable, each bounded as the ipc package says) and
// /proc/sysvipc/{shm,sem,msg}, which ipcs(1) reads.
func ipcProcFiles(k *kernel.Kernel) []proc.File {
	ns := k.IPCNamespace
	text := func(f func() string) func(context.Context) ([]byte, error) {
		return func(context.Context) ([]byte, error) { return []byte(f()), nil }
	}
	// limit serves one number of ipc.Limits.
	limit := func(name string, get func(*ipc.Limits) uint64, set func(*ipc.Limits, uint64), max uint64) proc.File {
		return proc.File{
			Path: "sys/kernel/" + name,
			Read: text(func() string {
				l := ns().Limits()
				return strconv.FormatUint(get(&l), 10) + "\n"
			}),
			Write: func(_ context.Context, src []byte) error {
				v, err := strconv.ParseUint(strings.TrimSpace(string(src)), 10, 64)
				if err != nil || v > max {
					return unix.EINVAL
				}
				l := ns().Limits()
				set(&l, v)
				ns().SetLimits(l)
				return nil
			},
		}
	}
	i32 := func(p func(*ipc.Limits) *int32) (func(*ipc.Limits) uint64, func(*ipc.Limits, uint64)) {
		return func(l *ipc.Limits) uint64 { return uint64(*p(l)) },
			func(l *ipc.Limits, v uint64) { *p(l) = int32(v) }
	}
	u64 := func(p func(*ipc.Limits) *uint64) (func(*ipc.Limits) uint64, func(*ipc.Limits, uint64)) {
		return func(l *ipc.Limits) uint64 { return *p(l) },
			func(l *ipc.Limits, v uint64) { *p(l) = v }
	}
	g, s := u64(func(l *ipc.Limits) *uint64 { return &l.ShmMax })
	files := []proc.File{limit("shmmax", g, s, 1<<64-1)}
	g, s = u64(func(l *ipc.Limits) *uint64 { return &l.ShmAll })
	files = append(files, limit("shmall", g, s, 1<<64-1))
	g, s = u64(func(l *ipc.Limits) *uint64 { return &l.ShmMNI })
	files = append(files, limit("shmmni", g, s, ipc.IPCMNI))
	g, s = i32(func(l *ipc.Limits) *int32 { return &l.MsgMax })
	files = append(files, limit("msgmax", g, s, ipc.MaxMsgMax))
	g, s = i32(func(l *ipc.Limits) *int32 { return &l.MsgMNB })
	files = append(files, limit("msgmnb", g, s, ipc.MaxMsgMNB))
	g, s = i32(func(l *ipc.Limits) *int32 { return &l.MsgMNI })
	files = append(files, limit("msgmni", g, s, ipc.IPCMNI))
	files = append(files, proc.File{
		Path: "sys/kernel/sem",
		Read: text(func() string {
			l := ns().Limits()
			return fmt.Sprintf("%d\t%d\t%d\t%d\n", l.SemMSL, l.SemMNS, l.SemOPM, l.SemMNI)
		}),
		Write: func(_ context.Context, src []byte) error {
			f := strings.Fields(string(src))
			if len(f) == 0 || len(f) > 4 {
				return unix.EINVAL
			}
			l := ns().Limits()
			dst := []*int32{&l.SemMSL, &l.SemMNS, &l.SemOPM, &l.SemMNI}
			bound := []int64{ipc.MaxSemMSL, ipc.MaxSemMNS, ipc.MaxSemOPM, ipc.IPCMNI}
			for i, w := range f {
				v, err := strconv.ParseInt(w, 10, 32)
				if err != nil || v < 0 || v > bound[i] {
					return unix.EINVAL
				}
				*dst[i] = int32(v)
			}
			ns().SetLimits(l)
			return nil
		},
	})
	files = append(files,
		proc.File{Path: "sysvipc/shm", Read: text(func() string { return ns().ProcShm() })},
		proc.File{Path: "sysvipc/sem", Read: text(func() string { return ns().ProcSem() })},
		proc.File{Path: "sysvipc/msg", Read: text(func() string { return ns().ProcMsg() })},
	)
	return files
}
