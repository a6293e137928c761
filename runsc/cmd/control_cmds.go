package cmd

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/subcommands"
	"github.com/palisade-sandbox/palisade/runsc/cgroup"
	"github.com/palisade-sandbox/palisade/runsc/config"
	"github.com/palisade-sandbox/palisade/runsc/container"
	"github.com/palisade-sandbox/palisade/runsc/control"
	"golang.org/x/sys/unix"
)

// runningContainer loads a container that must be in one of want.
func runningContainer(conf *config.Config, f *flag.FlagSet, want ...container.Status) (*container.Container, *container.Lock, error) {
	id, err := oneID(f)
	if err != nil {
		return nil, nil, err
	}
	ct, lock, err := container.LoadLocked(conf.Root, id)
	if err != nil {
		return nil, nil, err
	}
	st := ct.CurrentStatus()
	for _, w := range want {
		if st == w {
			return ct, lock, nil
		}
	}
	lock.Unlock()
	return nil, nil, fmt.Errorf("container %q is %s", id, st)
}

// NewPause is `runsc pause ID`: every task of the sandbox stops.
func NewPause() subcommands.Command {
	return &simpleCommand{name: "pause", synopsis: "stop every process of a container", usage: "pause <container-id>",
		run: func(conf *config.Config, f *flag.FlagSet) error {
			return setPaused(conf, f, &control.Request{Op: &control.Request_Pause{Pause: &control.PauseRequest{}}}, container.Running, container.Paused)
		}}
}

// NewResume is `runsc resume ID`.
func NewResume() subcommands.Command {
	return &simpleCommand{name: "resume", synopsis: "let a paused container's processes go on", usage: "resume <container-id>",
		run: func(conf *config.Config, f *flag.FlagSet) error {
			return setPaused(conf, f, &control.Request{Op: &control.Request_Resume{Resume: &control.ResumeRequest{}}}, container.Paused, container.Running)
		}}
}

// setPaused sends req (pause or resume) to a container that is from and
// records it as to.
func setPaused(conf *config.Config, f *flag.FlagSet, req *control.Request, from, to container.Status) error {
	ct, lock, err := runningContainer(conf, f, from)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	if _, err := control.Call(ct.Dir(), req, nil, controlTimeout); err != nil {
		return err
	}
	ct.Status = to
	return ct.Save()
}

// NewPs is `runsc ps ID`. With --format json it prints the host PIDs of
// the container's processes, as runc does (what docker top matches
// against the host's ps): for each guest process the host process (a
// stub) that runs it. The table shows the sandbox's own view.
func NewPs() subcommands.Command {
	var format string
	return &simpleCommand{name: "ps", synopsis: "list a container's processes", usage: "ps [--format table|json] <container-id>",
		setFlags: func(f *flag.FlagSet) {
			f.StringVar(&format, "format", "table", "table (the sandbox's view) or json (host PIDs)")
			f.StringVar(&format, "f", "table", "short for --format")
		},
		run: func(conf *config.Config, f *flag.FlagSet) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format=%q: must be table or json", format)
			}
			ct, err := loadContainer(conf, f)
			if err != nil {
				return err
			}
			id := ct.ID
			if st := ct.CurrentStatus(); st == container.Stopped {
				if format == "json" {
					fmt.Println("[]")
					return nil
				}
				return fmt.Errorf("container %q is not running", id)
			}
			resp, err := control.Call(ct.Dir(), &control.Request{Op: &control.Request_Processes{Processes: &control.ProcessesRequest{}}}, nil, controlTimeout)
			if err != nil {
				return err
			}
			procs := resp.GetProcesses().Processes
			if format == "json" {
				hostPIDs := hostPIDsOf(ct, procs)
				b, err := json.Marshal(hostPIDs)
				if err != nil {
					return err
				}
				fmt.Println(string(b))
				return nil
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
			fmt.Fprintln(w, "UID\tPID\tPPID\tSTAT\tTHREADS\tTIME\tCMD")
			for _, p := range procs {
				cpu := time.Duration(p.CpuNs).Truncate(time.Second)
				fmt.Fprintf(w, "%d\t%d\t%d\t%s\t%d\t%s\t%s\n", p.Uid, p.Pid, p.Ppid, p.State, p.Threads, cpu, p.Cmd)
			}
			return w.Flush()
		}}
}

// hostPIDsOf maps the guest processes to the host PIDs of the stubs that
// run them: the stubs live in the sandbox's PID namespace, so the host
// PIDs of the sandbox's processes are matched through the NSpid line of
// /proc/PID/status. Processes that have no stub (not run yet, zombies)
// are left out.
func hostPIDsOf(ct *container.Container, procs []*control.Process) []int {
	want := map[int]bool{}
	for _, p := range procs {
		if p.HostPid > 0 {
			want[int(p.HostPid)] = true
		}
	}
	out := []int{}
	if ct.CgroupPath == "" || len(want) == 0 {
		return out
	}
	cg, err := cgroup.Load(ct.CgroupPath)
	if err != nil {
		return out
	}
	pids, err := cg.Procs()
	if err != nil {
		return out
	}
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "NSpid:"); ok {
				f := strings.Fields(rest)
				if len(f) >= 2 {
					if n, err := strconv.Atoi(f[len(f)-1]); err == nil && want[n] {
						out = append(out, pid)
					}
				}
			}
		}
	}
	return out
}

// NewEvents is `runsc events ID`: with --stats one sample, else one
// every --interval until the container stops, in runc's JSON shape.
func NewEvents() subcommands.Command {
	var stats bool
	var interval time.Duration
	return &simpleCommand{name: "events", synopsis: "print a container's resource usage", usage: "events [--stats] [--interval D] <container-id>",
		setFlags: func(f *flag.FlagSet) {
			f.BoolVar(&stats, "stats", false, "print one sample and exit")
			f.DurationVar(&interval, "interval", 5*time.Second, "time between samples")
		},
		run: func(conf *config.Config, f *flag.FlagSet) error {
			if interval <= 0 {
				return fmt.Errorf("--interval=%s: must be positive", interval)
			}
			ct, err := loadContainer(conf, f)
			if err != nil {
				return err
			}
			id := ct.ID
			sample := func() error {
				if ct.CurrentStatus() == container.Stopped {
					return fmt.Errorf("container %q is not running", id)
				}
				ev, err := containerStats(ct)
				if err != nil {
					return err
				}
				b, err := json.Marshal(ev)
				if err != nil {
					return err
				}
				fmt.Println(string(b))
				return nil
			}
			if stats {
				return sample()
			}
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, unix.SIGINT, unix.SIGTERM)
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				if err := sample(); err != nil {
					return nil // the container stopped: events end
				}
				select {
				case <-tick.C:
				case <-sigs:
					return nil
				}
			}
		}}
}

// containerStats samples the container's host cgroup, with the guest's
// process count from the Sentry (the cgroup also counts the Sentry's own
// threads).
func containerStats(ct *container.Container) (*cgroup.Event, error) {
	if ct.CgroupPath == "" {
		return nil, fmt.Errorf("container %q has no cgroup", ct.ID)
	}
	cg, err := cgroup.Load(ct.CgroupPath)
	if err != nil {
		return nil, err
	}
	st, err := cg.Stats()
	if err != nil {
		return nil, err
	}
	if resp, err := control.Call(ct.Dir(), &control.Request{Op: &control.Request_Events{Events: &control.EventsRequest{}}}, nil, controlTimeout); err == nil {
		st.Pids.Current = resp.GetEvents().Pids
	}
	return &cgroup.Event{Type: "stats", ID: ct.ID, Data: st}, nil
}
