// Command goprog exercises the Go runtime inside the sandbox: goroutines
// over several threads, timers (time.Sleep) and signal delivery via
// signal.Notify. It prints one deterministic line.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"
)

func main() {
	runtime.GOMAXPROCS(2)

	// Many goroutines each compute part of a sum.
	const workers = 100
	var mu sync.Mutex
	var wg sync.WaitGroup
	sum := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			part := 0
			for i := w * 1000; i < (w+1)*1000; i++ {
				part += i
			}
			mu.Lock()
			sum += part
			mu.Unlock()
		}(w)
	}
	wg.Wait()

	start := time.Now()
	time.Sleep(50 * time.Millisecond)
	slept := time.Since(start) >= 50*time.Millisecond

	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		fmt.Println("kill:", err)
		os.Exit(1)
	}
	var got string
	select {
	case s := <-ch:
		got = s.String()
	case <-time.After(10 * time.Second):
		got = "timeout"
	}
	fmt.Printf("sum=%d slept=%v signal=%s\n", sum, slept, got)
}
