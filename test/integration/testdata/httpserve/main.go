// Command httpserve is a Go HTTP server for the interop load test: GET
// /hello answers "hello N" (N counts requests), GET /blob?n=BYTES answers
// that many bytes of a repeating pattern (at most 1 MiB). It prints
// "ready" once listening and exits after -max requests or -idle without
// one, so it always stops by itself.
package main

import (
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
	maxReq := flag.Int64("max", 100000, "exit after this many requests")
	idle := flag.Duration("idle", 60*time.Second, "exit after this long without a request")
	flag.Parse()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var n atomic.Int64
	last := make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %d", n.Add(1))
		select {
		case last <- struct{}{}:
		default:
		}
	})
	mux.HandleFunc("/blob", func(w http.ResponseWriter, r *http.Request) {
		size, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || size < 0 || size > 1<<20 {
			http.Error(w, "bad n", http.StatusBadRequest)
			return
		}
		n.Add(1)
		b := make([]byte, size)
		for i := range b {
			b[i] = byte('a' + i%26)
		}
		w.Write(b)
		select {
		case last <- struct{}{}:
		default:
		}
	})
	go http.Serve(l, mux)
	fmt.Println("ready")
	for n.Load() < *maxReq {
		select {
		case <-last:
		case <-time.After(*idle):
			fmt.Println("idle", n.Load())
			return
		}
	}
	fmt.Println("served", n.Load())
}
