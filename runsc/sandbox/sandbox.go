// Package sandbox starts the processes of an OCI container's sandbox: its
// gofer (runsc gofer, serving the bundle's rootfs and bind mounts) and the
// sandbox itself (runsc boot, the Sentry), and talks to a running one over
// its control socket.
package sandbox

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/gofer"
	"github.com/palisade-sandbox/palisade/gofer/protocol"
	"github.com/palisade-sandbox/palisade/runsc/boot"
	"github.com/palisade-sandbox/palisade/runsc/config"
	"github.com/palisade-sandbox/palisade/runsc/container"
	"github.com/palisade-sandbox/palisade/runsc/control"
	"github.com/palisade-sandbox/palisade/runsc/network"
)

// Names the sandbox's processes show in ps (their argv[0]).
const (
	SandboxProcessName = "runsc-sandbox"
	GoferProcessName   = "runsc-gofer"
)

// maxFileMount is the largest regular file a bind mount may name: such
// files are copied into the sandbox (docker's /etc/hosts, /etc/hostname,
// /etc/resolv.conf).
const maxFileMount = 4 << 20

// Options say how to start a container's sandbox.
type Options struct {
	Conf *config.Config
	// Stdio is the first process's stdin, stdout and stderr.
	Stdio [3]*os.File
	// Overlay is --overlay=memory.
	Overlay bool
	// NetNSPath is a network namespace to start the sandbox in ("": a
	// new one).
	NetNSPath string
	// Log receives the sandbox's and gofer's own messages.
	Log *os.File
	// Null is /dev/null, opened before runsc joined the container's
	// cgroup (whose device rules may deny it afterwards): the standard
	// streams the gofer and a stdio left nil get.
	Null *os.File
}

// StartupError is a failure of the sandbox to start its command, with the
// status a shell gives it (127: not found, 126: not executable).
type StartupError struct {
	Status int
	Msg    string
}

// Error implements error.
func (e *StartupError) Error() string { return e.Msg }

// served is a host directory the gofer serves and where it goes.
type served struct {
	dir      string
	readOnly bool
	index    int // in spec.Mounts
}

// Create starts the gofer and the sandbox of c and waits until the
// sandbox is ready to start the first process. It records the processes
// in c (the caller saves it). On failure everything started is killed.
func Create(c *container.Container, o Options) (err error) {
	spec := c.Spec
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cc := &boot.ContainerConfig{ID: c.ID, Spec: spec, Overlay: o.Overlay, MountFDs: map[int]int{}, Files: map[int]boot.FileCopy{}}
	rootRO := !(!o.Overlay && !spec.Root.Readonly)
	if err := gofer.CheckServable(c.Rootfs); err != nil {
		return fmt.Errorf("root.path: %w", err)
	}
	var dirs []served
	for i, m := range spec.Mounts {
		if !isBind(m) || boot.SentryShm(m) {
			continue
		}
		src := m.Source
		if !filepath.IsAbs(src) {
			src = filepath.Join(c.Bundle, src)
		}
		st, err := os.Stat(src)
		if err != nil {
			return fmt.Errorf("mounts[%d] (%s): source: %w", i, m.Destination, err)
		}
		if !st.IsDir() {
			if !st.Mode().IsRegular() || st.Size() > maxFileMount {
				return fmt.Errorf("mounts[%d] (%s): bind mounts of anything but directories and regular files of at most %d bytes are not supported", i, m.Destination, maxFileMount)
			}
			b, err := os.ReadFile(src)
			if err != nil {
				return fmt.Errorf("mounts[%d] (%s): %w", i, m.Destination, err)
			}
			cc.Files[i] = boot.FileCopy{Data: b, Mode: uint32(st.Mode().Perm())}
			continue
		}
		if err := gofer.CheckServable(src); err != nil {
			return fmt.Errorf("mounts[%d] (%s): %w", i, m.Destination, err)
		}
		dirs = append(dirs, served{dir: src, readOnly: hasOption(m.Options, "ro"), index: i})
	}

	var closeAfter []*os.File
	defer func() {
		for _, f := range closeAfter {
			f.Close()
		}
	}()
	goferEnd, sentryEnd, err := protocol.Socketpair()
	if err != nil {
		return err
	}
	closeAfter = append(closeAfter, goferEnd, sentryEnd)
	goferArgs := append(childFlags(o.Conf), "gofer", "--root="+c.Rootfs, "--fd=3", fmt.Sprintf("--read-only=%t", rootRO))
	goferFiles := []*os.File{goferEnd}
	bootFiles := []*os.File{sentryEnd}
	for _, d := range dirs {
		g, s, err := protocol.Socketpair()
		if err != nil {
			return err
		}
		closeAfter = append(closeAfter, g, s)
		flag := "--mount"
		if !d.readOnly {
			flag = "--rw-mount"
		}
		goferArgs = append(goferArgs, fmt.Sprintf("%s=%s:%d", flag, d.dir, 3+len(goferFiles)))
		goferFiles = append(goferFiles, g)
		cc.MountFDs[d.index] = 3 + len(bootFiles)
		bootFiles = append(bootFiles, s)
	}

	gcmd := exec.Command(self, goferArgs...)
	gcmd.Args[0] = GoferProcessName
	gcmd.ExtraFiles = goferFiles
	goferLog, err := logFor(o.Conf, c.ID, "gofer", o.Log)
	if err != nil {
		return err
	}
	gcmd.Stdin, gcmd.Stdout, gcmd.Stderr = o.Null, o.Null, goferLog
	gcmd.SysProcAttr = &syscall.SysProcAttr{
		// A cgroup namespace too (rooted at the container's cgroup,
		// which runsc joined): as runc gives a container, and the host's
		// cgroup tree stays out of sight.
		Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP,
		Setsid:     true,
	}
	if err := gcmd.Start(); err != nil {
		return fmt.Errorf("starting gofer: %w", err)
	}
	c.Gofer = container.ProcessOf(gcmd.Process.Pid)
	defer func() {
		if err != nil {
			gcmd.Process.Kill()
			gcmd.Wait()
		}
	}()

	ctl, err := control.Listen(c.Dir())
	if err != nil {
		return err
	}
	closeAfter = append(closeAfter, ctl)
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer statusR.Close()
	closeAfter = append(closeAfter, statusW)
	ccR, ccW, err := os.Pipe()
	if err != nil {
		return err
	}
	closeAfter = append(closeAfter, ccR)
	bootArgs := append(childFlags(o.Conf), "boot", "--gofer-fd=3")
	base := 3 + len(bootFiles)
	bootArgs = append(bootArgs, fmt.Sprintf("--status-fd=%d", base), fmt.Sprintf("--container-fd=%d", base+1), fmt.Sprintf("--control-fd=%d", base+2), fmt.Sprintf("--log-fd=%d", base+3))
	bootLog, err := logFor(o.Conf, c.ID, "boot", o.Log)
	if err != nil {
		return err
	}
	bootFiles = append(bootFiles, statusW, ccR, ctl, bootLog)

	bcmd := exec.Command(self, bootArgs...)
	bcmd.Args[0] = SandboxProcessName
	bcmd.ExtraFiles = bootFiles
	bcmd.Stdin, bcmd.Stdout, bcmd.Stderr = o.Stdio[0], o.Stdio[1], o.Stdio[2]
	flags := uintptr(unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP)
	if o.NetNSPath == "" && o.Conf.Network != "host" {
		// --network=host: the sandbox's sockets are host sockets in
		// runsc's network namespace.
		flags |= unix.CLONE_NEWNET
	}
	idMap := []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(c.HostUID), Size: 1}}
	bcmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: flags, Setsid: true,
		UidMappings: idMap, GidMappings: idMap, GidMappingsEnableSetgroups: false,
		Credential: &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true},
	}
	if err := startIn(bcmd, o.NetNSPath); err != nil {
		return fmt.Errorf("starting sandbox: %w", err)
	}
	c.Sandbox = container.ProcessOf(bcmd.Process.Pid)
	defer func() {
		if err != nil {
			bcmd.Process.Kill()
			bcmd.Wait()
		}
	}()
	for _, f := range closeAfter {
		f.Close()
	}
	closeAfter = nil
	b, err := json.Marshal(cc)
	if err != nil {
		return err
	}
	go func() {
		ccW.Write(b)
		ccW.Close()
	}()
	line, _ := bufio.NewReader(statusR).ReadString('\n')
	line = strings.TrimSpace(line)
	switch {
	case line == "ok":
		return nil
	case strings.HasPrefix(line, "nocmd "):
		code, msg, _ := strings.Cut(strings.TrimPrefix(line, "nocmd "), " ")
		n, _ := strconv.Atoi(code)
		return &StartupError{Status: n, Msg: msg}
	case strings.HasPrefix(line, "error "):
		return errors.New(strings.TrimPrefix(line, "error "))
	}
	return errors.New("the sandbox failed to start (see the log)")
}

// startIn starts cmd in the network namespace at nsPath ("" for the
// caller's): the forking thread joins it for the fork and returns.
func startIn(cmd *exec.Cmd, nsPath string) error {
	if nsPath == "" {
		return cmd.Start()
	}
	ns, err := os.Open(nsPath)
	if err != nil {
		return fmt.Errorf("linux.namespaces: network: %w", err)
	}
	defer ns.Close()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return err
	}
	defer orig.Close()
	runtime.LockOSThread()
	if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("linux.namespaces: joining network namespace %s: %w", nsPath, err)
	}
	err = cmd.Start()
	if rerr := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); rerr != nil {
		// The thread stays locked and dies with its goroutine rather
		// than serve others in the wrong namespace.
		return errors.Join(err, rerr)
	}
	runtime.UnlockOSThread()
	return err
}

// isBind reports whether m is a bind mount.
func isBind(m specs.Mount) bool {
	return m.Type == "bind" || hasOption(m.Options, "bind") || hasOption(m.Options, "rbind")
}

func hasOption(opts []string, o string) bool {
	for _, x := range opts {
		if x == o {
			return true
		}
	}
	return false
}

// childFlags are the global flags for a sandbox process: its log is a
// descriptor runsc opens (logFor), since the process cannot open host
// files as root.
func childFlags(conf *config.Config) []string {
	c := *conf
	c.DebugLog = ""
	return c.ToFlags()
}

// logFor opens the log of the sandbox process kind of container id: a
// file per process and container in a --debug-log directory, the
// --debug-log file, or else fallback.
func logFor(conf *config.Config, id, kind string, fallback *os.File) (*os.File, error) {
	if conf.DebugLog == "" {
		return fallback, nil
	}
	p := conf.DebugLog
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		p = filepath.Join(p, id+"."+kind+".log")
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0644)
	if err != nil {
		return nil, fmt.Errorf("--debug-log: %w", err)
	}
	return f, nil
}

// AttachNetwork takes over the interfaces of the container's network
// namespace netns (--network=sandbox) and hands each to its running
// sandbox. runsc create calls it after the prestart and createRuntime
// hooks, which may have configured the namespace (docker's libnetwork
// moves the container's veth in from its prestart hook). The namespace is
// the sandbox's for its life: the addresses are not put back (the
// namespace goes with the container).
func AttachNetwork(c *container.Container, netns string) error {
	tk, err := network.TakeOver(netns)
	if err != nil {
		return fmt.Errorf("--network=sandbox: %w", err)
	}
	defer func() {
		for _, f := range tk.Files {
			f.Close()
		}
	}()
	for i, l := range tk.Links {
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		req := &control.Request{Op: &control.Request_AttachLink{AttachLink: &control.AttachLinkRequest{LinkJson: string(b)}}}
		resp, err := control.Call(c.Dir(), req, []int{int(tk.Files[i].Fd())}, 30*time.Second)
		if err != nil {
			return fmt.Errorf("--network=sandbox: interface %s: %w", l.Name, err)
		}
		if resp.Error != "" {
			return fmt.Errorf("--network=sandbox: interface %s: %s", l.Name, resp.Error)
		}
	}
	return nil
}
