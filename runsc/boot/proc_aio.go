package boot

import (
	"context"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/aio"
	"github.com/palisade-sandbox/palisade/vfs/proc"
)

// aioProcFiles are /proc/sys/fs/aio-nr (the events the sandbox's AIO
// contexts hold) and aio-max-nr (their limit, writable by root up to
// aio.HardMaxNR, as it bounds the Sentry memory the rings take).
func aioProcFiles(k *kernel.Kernel) []proc.File {
	num := func(v func() uint64) func(context.Context) ([]byte, error) {
		return func(context.Context) ([]byte, error) {
			return []byte(strconv.FormatUint(v(), 10) + "\n"), nil
		}
	}
	return []proc.File{
		{Path: "sys/fs/aio-nr", Read: num(func() uint64 { return aio.For(k).NR() })},
		{
			Path: "sys/fs/aio-max-nr",
			Read: num(func() uint64 { return aio.For(k).MaxNR() }),
			Write: func(_ context.Context, src []byte) error {
				v, err := strconv.ParseUint(strings.TrimSpace(string(src)), 10, 64)
				if err != nil {
					return unix.EINVAL
				}
				return aio.For(k).SetMaxNR(v)
			},
		},
	}
}
