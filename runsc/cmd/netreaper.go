package cmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/google/subcommands"
	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/runsc/caps"
	"github.com/palisade-sandbox/palisade/runsc/network"
)

// NetReaper is `runsc netreaper`, started by `runsc do --network=sandbox`
// in the host's initial network namespace before it changes the host:
// it holds the sandbox's locked state file (network.StateDir/sb-ID) and
// removes what the sandbox's NAT added to the host (network.Cleanup) once
// the sandbox is gone, whoever dies first and however (kill -9 of runsc
// do or of the boot process included). It keeps CAP_NET_ADMIN alone.
//
// Its control socket (--ctl-fd, SOCK_SEQPACKET, runsc do holds the other
// end) carries at most one message, with the boot process's pidfd. It
// cleans up when that pidfd is readable (boot has exited), or when the
// socket closes before a pidfd came (runsc do died or gave up before
// starting boot); then it writes "done" on the socket and exits.
type NetReaper struct {
	id             string
	stateFD, ctlFD int
}

// Name implements subcommands.Command.
func (*NetReaper) Name() string { return "netreaper" }

// Synopsis implements subcommands.Command.
func (*NetReaper) Synopsis() string {
	return "remove a sandbox's NAT from the host when the sandbox is gone (internal)"
}

// Usage implements subcommands.Command.
func (*NetReaper) Usage() string {
	return "netreaper --id=ID --state-fd=FD --ctl-fd=FD\n"
}

// SetFlags implements subcommands.Command.
func (r *NetReaper) SetFlags(f *flag.FlagSet) {
	f.StringVar(&r.id, "id", "", "sandbox network id")
	f.IntVar(&r.stateFD, "state-fd", -1, "the sandbox's locked state file")
	f.IntVar(&r.ctlFD, "ctl-fd", -1, "control socket from runsc do")
}

// Execute implements subcommands.Command.
func (r *NetReaper) Execute(ctx context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	fail := func(err error) subcommands.ExitStatus {
		fmt.Fprintf(os.Stderr, "runsc netreaper: %v\n", err)
		return subcommands.ExitFailure
	}
	if r.id == "" || r.stateFD < 0 || r.ctlFD < 0 {
		return fail(errors.New("--id, --state-fd and --ctl-fd are required"))
	}
	// A terminal's signals never reach it (own session), and it must
	// outlive runsc do; SIGTERM too would leave the host changed.
	signal.Ignore(unix.SIGINT, unix.SIGHUP, unix.SIGTERM, unix.SIGQUIT, unix.SIGPIPE)
	if err := limitReaper(); err != nil {
		// Still clean up: the host state must not outlive the sandbox.
		fmt.Fprintf(os.Stderr, "runsc netreaper: %v\n", err)
	}
	r.wait()
	err := network.Cleanup(network.StateDir, r.id)
	unix.Write(r.ctlFD, []byte("done"))
	if err != nil {
		return fail(err)
	}
	return subcommands.ExitSuccess
}

// limitReaper leaves the reaper CAP_NET_ADMIN alone (netlink, nftables,
// the ip_forward sysctl; its files in network.StateDir are root's own)
// and no_new_privs.
func limitReaper() error {
	if _, _, e := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0); e != 0 {
		return fmt.Errorf("no_new_privs: %w", e)
	}
	if err := caps.DropBounding(unix.CAP_NET_ADMIN); err != nil {
		return err
	}
	return caps.Limit(unix.CAP_NET_ADMIN)
}

// wait returns once the sandbox is gone: its pidfd is readable, or the
// control socket closed before a pidfd came.
func (r *NetReaper) wait() {
	pidfd := -1
	ctlOpen := true
	for {
		fds := []unix.PollFd{}
		if ctlOpen {
			fds = append(fds, unix.PollFd{Fd: int32(r.ctlFD), Events: unix.POLLIN})
		}
		if pidfd >= 0 {
			fds = append(fds, unix.PollFd{Fd: int32(pidfd), Events: unix.POLLIN})
		}
		if len(fds) == 0 {
			return
		}
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return
		}
		for _, p := range fds {
			if p.Revents == 0 {
				continue
			}
			if int(p.Fd) == pidfd {
				return
			}
			buf := make([]byte, 16)
			oob := make([]byte, unix.CmsgSpace(4))
			n, oobn, _, _, err := unix.Recvmsg(r.ctlFD, buf, oob, unix.MSG_CMSG_CLOEXEC)
			if err == unix.EINTR || err == unix.EAGAIN {
				continue
			}
			if err != nil || (n == 0 && oobn == 0) {
				ctlOpen = false
				if pidfd < 0 {
					return
				}
				continue
			}
			if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
				for _, m := range msgs {
					if fds, err := unix.ParseUnixRights(&m); err == nil {
						for _, fd := range fds {
							if pidfd < 0 {
								pidfd = fd
							} else {
								unix.Close(fd)
							}
						}
					}
				}
			}
		}
	}
}

// natReaper is runsc do's handle on its sandbox's netreaper.
type natReaper struct {
	cmd *exec.Cmd
	ctl *os.File
}

// startNATReaper starts `runsc netreaper` for sandbox id, handing it the
// locked state file: from then on the reaper owns the host state.
func startNATReaper(self string, flags []string, id string, state *os.File) (*natReaper, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socketpair", err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "netreaper-ctl"), os.NewFile(uintptr(fds[1]), "netreaper-ctl")
	defer theirs.Close()
	c := exec.Command(self, append(flags, "netreaper", "--id="+id, "--state-fd=3", "--ctl-fd=4")...)
	c.ExtraFiles = []*os.File{state, theirs}
	c.Stderr = os.Stderr
	// Its own session: the caller's terminal signals do not reach it.
	// No parent-death signal: it must outlive runsc do.
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.Start(); err != nil {
		ours.Close()
		return nil, fmt.Errorf("starting netreaper: %w", err)
	}
	return &natReaper{cmd: c, ctl: ours}, nil
}

// watch hands the reaper boot's pidfd (pid is runsc do's child, not yet
// waited for, so the pid cannot have been reused).
func (r *natReaper) watch(pid int) error {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return os.NewSyscallError("pidfd_open", err)
	}
	defer unix.Close(pidfd)
	return unix.Sendmsg(int(r.ctl.Fd()), []byte("pid"), unix.UnixRights(pidfd), nil, 0)
}

// finish tells the reaper runsc do is done (a shutdown of the socket)
// and waits, at most a minute, for its "done": the host is clean when
// runsc do returns.
func (r *natReaper) finish() {
	fd := int(r.ctl.Fd())
	unix.Shutdown(fd, unix.SHUT_WR)
	deadline := time.Now().Add(time.Minute)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			fmt.Fprintln(os.Stderr, "runsc do: the network reaper did not finish in a minute; it goes on alone")
			r.ctl.Close()
			return
		}
		p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		_, err := unix.Poll(p, int(left.Milliseconds())+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil || p[0].Revents != 0 {
			break
		}
	}
	buf := make([]byte, 16)
	unix.Read(fd, buf)
	r.ctl.Close()
	r.cmd.Wait()
}
