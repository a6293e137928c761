// Command httpload is a bounded HTTP load generator for the interop load
// test: it makes -n GET requests of -url with -c connections at once
// (keep-alive, plus a share of fresh connections), checks each answer
// with -want (a prefix) and -size (an exact length, -1 for any), and
// prints "ok N" or the first failures. It never runs longer than
// -deadline.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "", "URL to fetch")
	total := flag.Int("n", 1000, "requests")
	conns := flag.Int("c", 8, "concurrent clients")
	want := flag.String("want", "", "required body prefix")
	size := flag.Int("size", -1, "required body length (-1: any)")
	deadline := flag.Duration("deadline", 2*time.Minute, "give up after")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *deadline)
	defer cancel()
	var next, ok atomic.Int64
	var mu sync.Mutex
	var failures []string
	fail := func(s string) {
		mu.Lock()
		if len(failures) < 5 {
			failures = append(failures, s)
		}
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for c := 0; c < *conns; c++ {
		// Every fourth client opens a connection per request.
		tr := &http.Transport{DisableKeepAlives: c%4 == 3, MaxIdleConnsPerHost: 1}
		client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(*total) && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", *url, nil)
				resp, err := client.Do(req)
				if err != nil {
					fail(err.Error())
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case err != nil:
					fail(err.Error())
				case resp.StatusCode != 200:
					fail(resp.Status)
				case !strings.HasPrefix(string(body), *want):
					fail(fmt.Sprintf("body %.40q", body))
				case *size >= 0 && len(body) != *size:
					fail(fmt.Sprintf("%d bytes, want %d", len(body), *size))
				default:
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if int(ok.Load()) != *total {
		fmt.Printf("failed: %d of %d ok; %s\n", ok.Load(), *total, strings.Join(failures, "; "))
		os.Exit(1)
	}
	fmt.Println("ok", ok.Load())
}
