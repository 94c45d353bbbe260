//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCheckTarget(t *testing.T) {
	local := func() ([]netip.Prefix, error) {
		return []netip.Prefix{
			netip.MustParsePrefix("127.0.0.1/8"),
			netip.MustParsePrefix("10.250.0.1/30"),
			netip.MustParsePrefix("10.0.2.15/24"),
		}, nil
	}
	for _, tc := range []struct {
		target string
		allow  bool
		ok     bool
	}{
		{"127.0.0.1:9000", false, true},
		{"127.1.2.3:9000", false, true},
		{"[::1]:9000", false, true},
		{"10.250.0.2:9000", false, true},  // on-link lab address
		{"10.250.0.1:9000", false, false}, // our own address: not a peer
		{"10.250.1.2:9000", false, false}, // lab range but not on-link
		{"10.0.2.2:9000", false, false},   // on-link but not a lab range
		{"8.8.8.8:53", false, false},
		{"192.0.2.2:9000", false, false}, // TEST-NET but not on-link here
		{"8.8.8.8:53", true, true},
		{"localhost:9000", false, false}, // no names
		{"127.0.0.1:0", false, false},
		{"127.0.0.1", false, false},
	} {
		_, err := checkTarget(tc.target, tc.allow, local)
		if (err == nil) != tc.ok {
			t.Errorf("checkTarget(%q, allow=%v) = %v, want ok=%v", tc.target, tc.allow, err, tc.ok)
		}
	}
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args string
		ok   bool
	}{
		{"--target 127.0.0.1:9000", true},
		{"--sink", true},
		{"--sink --packets 0", true},
		{"", false}, // sender without target
		{"--target 127.0.0.1:9000 --duration 0s", false},
		{"--target 127.0.0.1:9000 --duration 11m", false},
		{"--target 127.0.0.1:9000 --packets 0", false},
		{"--target 127.0.0.1:9000 --packets 20000000000", false},
		{"--target 127.0.0.1:9000 --flows 0", false},
		{"--target 127.0.0.1:9000 --flows 5000", false},
		{"--target 127.0.0.1:9000 --size 70000", false},
		{"--target 127.0.0.1:9000 --rate -1", false},
		{"--target 127.0.0.1:9000 --cpus 0,x", false},
		{"--target 127.0.0.1:9000 --cpus 0-1,3", true},
	} {
		_, err := parseFlags(strings.Fields(tc.args), io.Discard)
		if (err == nil) != tc.ok {
			t.Errorf("parseFlags(%q) = %v, want ok=%v", tc.args, err, tc.ok)
		}
	}
	cpus, err := parseCPUList("0-2,5")
	if err != nil || len(cpus) != 4 || cpus[3] != 5 {
		t.Errorf("parseCPUList = %v, %v", cpus, err)
	}
}

// readyWriter signals the sink's ready line.
type readyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan string
	once  sync.Once
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if line, _, ok := strings.Cut(w.buf.String(), "\n"); ok && strings.Contains(line, `"ready":true`) {
		w.once.Do(func() {
			var r struct{ Listen string }
			json.Unmarshal([]byte(line), &r)
			w.ready <- r.Listen
		})
	}
	return len(p), nil
}

func TestLoopbackSendAndSink(t *testing.T) {
	const n = 2000
	var sinkOut bytes.Buffer
	sinkErr := &readyWriter{ready: make(chan string, 1)}
	sinkDone := make(chan int, 1)
	go func() {
		sinkDone <- run([]string{"--sink", "--listen", "127.0.0.1:0", "--duration", "10s",
			"--packets", "2000"}, &sinkOut, sinkErr)
	}()
	var addr string
	select {
	case addr = <-sinkErr.ready:
	case <-time.After(5 * time.Second):
		t.Fatal("sink not ready")
	}
	var sendOut, sendErr bytes.Buffer
	if rc := run([]string{"--target", addr, "--duration", "5s", "--packets", "2000",
		"--flows", "8", "--rate", "100000"}, &sendOut, &sendErr); rc != 0 {
		t.Fatalf("sender rc %d: %s", rc, sendErr.String())
	}
	var sr SenderResult
	if err := json.Unmarshal(sendOut.Bytes(), &sr); err != nil {
		t.Fatalf("sender output %q: %v", sendOut.String(), err)
	}
	if sr.Sent != n || sr.Flows != 8 {
		t.Errorf("sender result %+v, want sent %d over 8 flows", sr, n)
	}
	select {
	case rc := <-sinkDone:
		if rc != 0 {
			t.Fatalf("sink rc %d", rc)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("sink did not stop")
	}
	var kr SinkResult
	if err := json.Unmarshal(sinkOut.Bytes(), &kr); err != nil {
		t.Fatalf("sink output %q: %v", sinkOut.String(), err)
	}
	if kr.Received < n*9/10 {
		t.Errorf("sink received %d of %d", kr.Received, n)
	}
	t.Logf("sender %+v; sink %+v", sr, kr)
}
