package cmd

import (
	"fmt"
	"net"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// newConsole makes a host pseudo-terminal for a process whose spec asks
// for one, sends its master to the console socket (as runc does: the
// descriptor in SCM_RIGHTS, its name as the data) and returns the
// replica, which becomes the process's stdin, stdout and stderr.
func newConsole(socketPath string, size *specs.Box) (*os.File, error) {
	if socketPath == "" {
		return nil, fmt.Errorf("process.terminal needs --console-socket")
	}
	st, err := os.Stat(socketPath)
	if err != nil {
		return nil, fmt.Errorf("--console-socket: %w", err)
	}
	if st.Mode()&os.ModeSocket == 0 {
		return nil, fmt.Errorf("--console-socket=%s: not a socket", socketPath)
	}
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening a pseudo-terminal: %w", err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		return nil, fmt.Errorf("unlocking the pseudo-terminal: %w", err)
	}
	n, err := unix.IoctlGetUint32(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		return nil, fmt.Errorf("naming the pseudo-terminal: %w", err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	replica, err := os.OpenFile(name, os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", name, err)
	}
	if size != nil {
		unix.IoctlSetWinsize(int(replica.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(size.Height), Col: uint16(size.Width)})
	}
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: socketPath, Net: "unix"})
	if err != nil {
		replica.Close()
		return nil, fmt.Errorf("--console-socket: %w", err)
	}
	defer conn.Close()
	if _, _, err := conn.WriteMsgUnix([]byte(master.Name()), unix.UnixRights(int(master.Fd())), nil); err != nil {
		replica.Close()
		return nil, fmt.Errorf("--console-socket: sending the terminal: %w", err)
	}
	return replica, nil
}
