// Package kafkatape runs KafkaTape from Go tests: a mock broker serving a capture, a recording proxy,
// and a cassette that does one or the other. It starts the `kafkatape` binary (env KAFKATAPE, default
// "kafkatape" on PATH) with --ready-file, waits for that file, and stops it with SIGINT in t.Cleanup;
// a mock broker that missed requests fails the test.
//
//	func TestOrders(t *testing.T) {
//		bootstrap := kafkatape.Serve(t, "testdata/orders.ktape")
//		runOrdersClient(t, bootstrap)
//	}
package kafkatape

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func binary() string {
	if b := os.Getenv("KAFKATAPE"); b != "" {
		return b
	}
	return "kafkatape"
}

// start runs `kafkatape ARGS --ready-file F` and returns the address once F exists.
func start(t testing.TB, args ...string) (string, *exec.Cmd, *bytes.Buffer) {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	cmd := exec.Command(binary(), append(args, "--ready-file", ready)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("kafkatape %s: %v", args[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(ready); err == nil && strings.HasSuffix(string(b), "\n") {
			t.Cleanup(func() {
				cmd.Process.Signal(syscall.SIGINT)
				select {
				case err := <-exited:
					if err != nil {
						t.Errorf("kafkatape %s: %v\n%s", args[0], err, out.String())
					}
				case <-time.After(30 * time.Second):
					cmd.Process.Kill()
					t.Errorf("kafkatape %s did not stop", args[0])
				}
			})
			return strings.TrimSpace(string(b)), cmd, &out
		}
		select {
		case err := <-exited:
			t.Fatalf("kafkatape %s exited before it was ready: %v\n%s", args[0], err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cmd.Process.Kill()
	t.Fatalf("kafkatape %s was not ready within 20 s\n%s", args[0], out.String())
	return "", nil, nil
}

// Serve serves capture as a mock broker for the rest of the test and returns its bootstrap address.
// A request the recording does not have fails the test when it ends.
func Serve(t testing.TB, capture string) string {
	t.Helper()
	addr, _, _ := start(t, "serve", capture, "--listen", "127.0.0.1:0", "--latency", "none")
	return addr
}

// Record records through a proxy in front of upstream into capture (replacing it) for the rest of the
// test and returns the proxy's bootstrap address; the capture is complete when the test ends.
func Record(t testing.TB, upstream, capture string) string {
	t.Helper()
	addr, _, _ := start(t, "record", "--listen", "127.0.0.1:0", "--upstream", upstream, "--out", capture, "--overwrite")
	return addr
}

// Cassette records capture when KAFKATAPE_MODE=record (against KAFKATAPE_UPSTREAM), serves it otherwise,
// as VCR does; it returns the bootstrap address for the client under test.
func Cassette(t testing.TB, capture string) string {
	t.Helper()
	if os.Getenv("KAFKATAPE_MODE") == "record" {
		upstream := os.Getenv("KAFKATAPE_UPSTREAM")
		if upstream == "" {
			t.Fatal("KAFKATAPE_MODE=record needs KAFKATAPE_UPSTREAM=HOST:PORT")
		}
		return Record(t, upstream, capture)
	}
	return Serve(t, capture)
}
