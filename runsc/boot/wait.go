package boot

import (
	"fmt"
)

// Wait waits for the sandbox's first process to exit and returns its
// shell-style status (128+N when killed by signal N). It returns an error
// instead when the sandbox cannot go on: the Sentry crashed (a panic on a
// task goroutine, see kernel.Kernel.Crashed) or the gofer's connection
// ended while the guest ran, after which every host file would fail. The
// caller must then end the process, which kills every stub.
func (s *Sandbox) Wait() (int, error) {
	exited := make(chan int, 1)
	go func() { exited <- s.k.Wait().ShellStatus() }()
	select {
	case status := <-exited:
		if s.console != nil {
			// Every process is gone: what they wrote to the
			// terminal goes out before the sandbox does.
			s.console.flush()
		}
		return status, nil
	case <-s.k.Crashed():
		return 0, s.k.CrashReason()
	case <-s.gofer.Done():
		// The gofer serves the guest's files until the Sentry closes
		// its end, which it never does while the guest runs: the gofer
		// died or broke the protocol.
		err := fmt.Errorf("lost the gofer, which serves the sandbox's host files: %v", s.gofer.Err())
		s.k.Crash(err)
		return 0, err
	}
}
