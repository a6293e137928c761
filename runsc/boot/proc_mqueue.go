package boot

import (
	"context"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/mqueue"
	"github.com/palisade-sandbox/palisade/vfs/proc"
)

// mqueueProcFiles are /proc/sys/fs/mqueue: the POSIX message queue limits,
// writable within Linux's hard bounds (msg_max 1..HARD_MSGMAX,
// msgsize_max 128..HARD_MSGSIZEMAX, queues_max at most HardQueuesMax
// here, as every queue costs the Sentry memory).
func mqueueProcFiles(k *kernel.Kernel) []proc.File {
	reg := func() *mqueue.Registry { return mqueue.For(k) }
	limit := func(name string, field func(*mqueue.Limits) *int64, lo, hi int64) proc.File {
		return proc.File{
			Path: "sys/fs/mqueue/" + name,
			Read: func(context.Context) ([]byte, error) {
				l := reg().Limits()
				return []byte(strconv.FormatInt(*field(&l), 10) + "\n"), nil
			},
			Write: func(_ context.Context, src []byte) error {
				v, err := strconv.ParseInt(strings.TrimSpace(string(src)), 10, 64)
				if err != nil || v < lo || v > hi {
					return unix.EINVAL
				}
				l := reg().Limits()
				*field(&l) = v
				reg().SetLimits(l)
				return nil
			},
		}
	}
	return []proc.File{
		limit("msg_default", func(l *mqueue.Limits) *int64 { return &l.MsgDefault }, 1, mqueue.HardMsgMax),
		limit("msg_max", func(l *mqueue.Limits) *int64 { return &l.MsgMax }, 1, mqueue.HardMsgMax),
		limit("msgsize_default", func(l *mqueue.Limits) *int64 { return &l.MsgSizeDefault }, 128, mqueue.HardMsgSizeMax),
		limit("msgsize_max", func(l *mqueue.Limits) *int64 { return &l.MsgSizeMax }, 128, mqueue.HardMsgSizeMax),
		limit("queues_max", func(l *mqueue.Limits) *int64 { return &l.QueuesMax }, 0, mqueue.HardQueuesMax),
	}
}
