package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// nodeServer is an HTTP server for node: GET / answers "hello from node";
// it prints "ready" once listening and exits once MAX responses have been
// handed to the kernel (so none is cut short) or after 60 s without a
// request.
const nodeServer = `
const http = require('http');
const max = parseInt(process.argv[3], 10);
let n = 0, finished = 0, timer;
const idle = () => { clearTimeout(timer); timer = setTimeout(() => process.exit(0), 60000); };
const srv = http.createServer((req, res) => {
  n++;
  res.on('finish', () => { if (++finished >= max) { srv.close(); process.exit(0); } });
  res.end('hello from node ' + n);
  idle();
});
srv.listen(parseInt(process.argv[2], 10), '::', () => { console.log('ready'); idle(); });
`

// TestInteropServersUnderLoad runs a Go and a node HTTP server in the
// sandbox (sandbox mode, over the test's veth) and a bounded load
// generator in the peer namespace: every request must be answered
// correctly (issue 11: "node/Go HTTP servers inside answer a load
// generator outside"). The servers and the generator stop by themselves.
func TestInteropServersUnderLoad(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("needs node")
	}
	e := newInterop(t, "sandbox")
	build := func(name string) string {
		out := filepath.Join(e.dir, name)
		cmd := exec.Command("go", "build", "-o", out, "./testdata/"+name)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", name, err, b)
		}
		return out
	}
	serve, load := build("httpserve"), build("httpload")
	if err := os.WriteFile(filepath.Join(e.dir, "server.js"), []byte(nodeServer), 0644); err != nil {
		t.Fatal(err)
	}
	const requests = "2000"
	check := func(t *testing.T, what, out, n string) {
		t.Helper()
		if strings.TrimSpace(out) != "ok "+n {
			t.Errorf("%s: %s", what, out)
		}
	}
	t.Run("Go server", func(t *testing.T) {
		srv := start(t, "httpserve in the sandbox", e.do(serve, "-addr", ":8090", "-max", "2200"), "ready")
		check(t, "small responses", output(t, "httpload in the peer",
			e.peer(load, "-url", "http://"+sandbox4+":8090/hello", "-n", requests, "-c", "16", "-want", "hello ")), requests)
		check(t, "64 KiB responses over IPv6", output(t, "httpload in the peer",
			e.peer(load, "-url", "http://["+sandbox6+"]:8090/blob?n=65536", "-n", "200", "-c", "8", "-size", "65536")), "200")
		// The server stops by itself once it answered all 2200.
		if got := srv.result(t, "httpserve in the sandbox"); got != "served 2200" {
			t.Errorf("httpserve in the sandbox: %q, want \"served 2200\"", got)
		}
	})
	t.Run("node server", func(t *testing.T) {
		srv := start(t, "node in the sandbox", e.do(node, e.script("server.js"), "8091", requests), "ready")
		check(t, "node", output(t, "httpload in the peer",
			e.peer(load, "-url", "http://"+sandbox4+":8091/", "-n", requests, "-c", "16", "-want", "hello from node")), requests)
		srv.result(t, "node in the sandbox")
	})
}
