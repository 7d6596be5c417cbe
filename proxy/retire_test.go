package proxy

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/batonkv/baton/node"
	"github.com/batonkv/baton/node/nodetest"
)

// silentBackend accepts connections and reads commands but never answers
// nor closes: a primary whose host vanished (no RST reaches the proxy).
// received is closed once the first command arrived.
func silentBackend(t *testing.T) (addr string, received <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 4096)
				for {
					if _, err := nc.Read(buf); err != nil {
						return
					}
					once.Do(func() { close(got) })
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, nc := range conns {
			nc.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String(), got
}

// Test_Proxy_SwitchRetiresASilentPrimary: a write sent to a primary that
// went silent does not wait for it forever once the proxy moved to a new
// primary: it gets the ambiguous error (it may have been applied), and
// the next write lands on the new primary.
func Test_Proxy_SwitchRetiresASilentPrimary(t *testing.T) {
	ctx := context.Background()
	silent, received := silentBackend(t)
	p, addr := mustNewProxy(t, Config{Backend: silent})
	c := newClient(t, addr, "") // reads time out after 10 s
	errc := make(chan error, 1)
	go func() { errc <- c.Set(ctx, "k", "v1", 0).Err() }()
	<-received
	_, next := nodetest.Start(t, node.Config{})
	p.setBackend(next)
	err := <-errc
	if err == nil || !strings.Contains(err.Error(), "may or may not have been applied") {
		t.Fatalf("SET in flight on the silent primary: %v, want the ambiguous error once the proxy moved", err)
	}
	if err := c.Set(ctx, "k", "v2", 0).Err(); err != nil {
		t.Fatalf("SET after the switch: %v", err)
	}
}

// Test_Pinned_PopOnADeposedLivePrimaryMovesToTheNewPrimary: a BLPOP 0
// parked on A when the proxy switches to B, while A stays up and never
// answers it (deposed without knowing it: no -UNBLOCKED comes), moves to B
// within about retireGrace and is served by a push on B.
func Test_Pinned_PopOnADeposedLivePrimaryMovesToTheNewPrimary(t *testing.T) {
	ctx := context.Background()
	f := parkPopOnA(t)
	p, b, c, ca, cb, got, errc := f.p, f.b, f.c, f.ca, f.cb, f.got, f.errc
	// A is not demoted: it stays a primary, alive, with the pop parked.
	p.setBackend(b)
	waitUntil(t, "the BLPOP to move to B", func() bool { return blockedClients(t, cb) == 1 })
	if n := blockedClients(t, ca); n != 0 {
		t.Fatalf("blocked clients on A after the move = %d, want 0 (its connection retired)", n)
	}
	if err := cb.RPush(ctx, "jobs", "j1").Err(); err != nil {
		t.Fatal(err)
	}
	v, err := <-got, <-errc
	if err != nil || len(v) != 2 || v[0] != "jobs" || v[1] != "j1" {
		t.Fatalf("BLPOP = %v, %v; want [jobs j1]", v, err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
}

// Test_Pinned_WriteOnASilentPrimaryIsAmbiguousAfterTheSwitch: a pinned
// client's write sent to a primary that went silent gets the ambiguous
// error once the proxy moved, and the session goes on on the new primary
// with its database restored.
func Test_Pinned_WriteOnASilentPrimaryIsAmbiguousAfterTheSwitch(t *testing.T) {
	silent, received := silentBackend(t)
	p, addr := mustNewProxy(t, Config{Backend: silent, HoldTimeout: pinnedWait})
	nc := dialRaw(t, addr)
	r := bufio.NewReader(nc)
	// CLIENT SETNAME pins the session; the silent primary never answers it
	// (replayable), nor the SET after it (ambiguous).
	fmt.Fprint(nc, "*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$2\r\nme\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
	<-received
	_, next := nodetest.Start(t, node.Config{})
	p.setBackend(next)
	expectLines(t, r, "+OK")
	line, err := r.ReadString('\n')
	if err != nil || !strings.Contains(line, "may or may not have been applied") {
		t.Fatalf("SET in flight on the silent primary: %q, %v; want the ambiguous error", line, err)
	}
	fmt.Fprint(nc, "*2\r\n$6\r\nCLIENT\r\n$7\r\nGETNAME\r\n")
	expectLines(t, r, "$2", "me")
}
