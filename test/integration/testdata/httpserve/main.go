// Command httpserve is a Go HTTP server for the interop load test: GET
// /hello answers "hello N" (N counts requests), GET /blob?n=BYTES answers
// that many bytes of a repeating pattern (at most 1 MiB). It prints
// "ready" once listening and stops by itself: after -max requests have
// been answered (it then shuts down gracefully, so responses still in
// flight complete) or after -idle without a request.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", ":8090", "listen address")
	maxReq := flag.Int64("max", 100000, "exit after this many requests were answered")
	idle := flag.Duration("idle", 60*time.Second, "exit after this long without a request")
	flag.Parse()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var started, answered atomic.Int64
	done := make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %d", started.Add(1))
	})
	mux.HandleFunc("/blob", func(w http.ResponseWriter, r *http.Request) {
		size, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || size < 0 || size > 1<<20 {
			http.Error(w, "bad n", http.StatusBadRequest)
			return
		}
		started.Add(1)
		b := make([]byte, size)
		for i := range b {
			b[i] = byte('a' + i%26)
		}
		w.Write(b)
	})
	// A request counts once its handler has returned; the last one to
	// count wakes the main loop.
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		answered.Add(1)
		select {
		case done <- struct{}{}:
		default:
		}
	})
	srv := &http.Server{Handler: counted}
	go srv.Serve(l)
	fmt.Println("ready")
	for answered.Load() < *maxReq {
		select {
		case <-done:
		case <-time.After(*idle):
			fmt.Println("idle", answered.Load())
			return
		}
	}
	// Shutdown waits until every connection is idle: the responses of
	// requests that are still being written reach their clients.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	fmt.Println("served", answered.Load())
}
