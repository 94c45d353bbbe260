//go:build linux

package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// startLimitedServer serves the exporter's handler on 127.0.0.1 through
// newServer, the binary's constructor, with the header timeout shortened.
func startLimitedServer(t *testing.T, headerTimeout time.Duration) string {
	t.Helper()
	h, err := newHandler(fixtureExporter(t, false), &serveOptions{metricsPath: "/metrics", maxRequests: 40}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	limits := defaultLimits
	limits.readHeaderTimeout = headerTimeout
	server := newServer(h, limits)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go server.Serve(l)
	t.Cleanup(func() { server.Close() })
	return l.Addr().String()
}

// answer reads what the server sends on conn until it closes it, at most
// 10 s: the status code of a response ("431"), or "closed" when it closed
// without one, or "open" when it held the connection.
func answer(conn net.Conn) string {
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		return resp.Status[:3]
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "open"
	}
	return "closed" // EOF, or a reset: the server closed with our bytes unread
}

// TestServerHeaderLimits: 100 clients each sending 1 MiB of headers that
// never end get 431 or a closed connection, not a server that reads and
// keeps it all; the exporter still answers a scrape afterwards.
func TestServerHeaderLimits(t *testing.T) {
	addr := startLimitedServer(t, 10*time.Second)
	filler := strings.Repeat("a", 1<<20)
	var wg sync.WaitGroup
	answers := make(chan string, 100)
	for range 100 {
		wg.Go(func() {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				answers <- err.Error()
				return
			}
			defer conn.Close()
			// Written while the answer is read: the server stops reading
			// long before the end, and the write then fails.
			go io.WriteString(conn, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Filler: "+filler)
			answers <- answer(conn)
		})
	}
	wg.Wait()
	close(answers)
	count := map[string]int{}
	for a := range answers {
		count[a]++
	}
	if count["431"]+count["closed"] != 100 {
		t.Errorf("answers to 1 MiB of headers: %v, want only 431 or closed", count)
	}
	t.Logf("answers to 1 MiB of headers: %v", count)
	httpGet(t, "http://"+addr+"/metrics")
}

// TestServerSlowloris: a client that trickles its headers, a byte at a
// time, is cut off at the header timeout.
func TestServerSlowloris(t *testing.T) {
	addr := startLimitedServer(t, 300*time.Millisecond)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() {
		if _, err := io.WriteString(conn, "GET /metrics HTTP/1.1\r\nHost: x\r\n"); err != nil {
			return
		}
		for {
			time.Sleep(50 * time.Millisecond)
			if _, err := conn.Write([]byte("X")); err != nil {
				return
			}
		}
	}()
	// Go answers 400 or 408 to the partial request, or just closes.
	if got := answer(conn); got != "closed" && !strings.HasPrefix(got, "4") {
		t.Errorf("slowloris connection: %s after 10 s, want closed at the 300 ms header timeout", got)
	}
	httpGet(t, "http://"+addr+"/metrics")
}
