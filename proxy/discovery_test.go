package proxy

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonkv/baton/node"
	"github.com/batonkv/baton/node/nodetest"
	"github.com/tidwall/redcon"
)

// fakeCoordinator answers AUTH and BATON.TOPOLOGY LOCAL with a settable
// topology, like one coordinator member. It refuses BATON.WATCH, so tests
// with it run on the fallback poll alone.
type fakeCoordinator struct {
	mu     sync.Mutex
	topo   string
	secret string
	srv    *redcon.Server
	addr   string
}

func mustNewFakeCoordinator(t *testing.T, secret string) *fakeCoordinator {
	t.Helper()
	f := &fakeCoordinator{secret: secret}
	f.srv = redcon.NewServerNetwork("tcp", "", func(conn redcon.Conn, cmd redcon.Command) {
		authed, _ := conn.Context().(bool)
		switch strings.ToLower(string(cmd.Args[0])) {
		case "auth":
			if string(cmd.Args[1]) != f.secret {
				conn.WriteError("WRONGPASS bad secret")
				return
			}
			conn.SetContext(true)
			conn.WriteString("OK")
		case "baton.topology":
			if !authed {
				conn.WriteError("NOAUTH Authentication required.")
				return
			}
			f.mu.Lock()
			conn.WriteBulkString(f.topo)
			f.mu.Unlock()
		default:
			conn.WriteError("ERR unknown command")
		}
	}, nil, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() { defer close(done); f.srv.Serve(ln) }()
	t.Cleanup(func() { f.srv.Close(); <-done })
	return f
}

// set makes the coordinator report primary id at addr in epoch.
func (f *fakeCoordinator) set(epoch int, id, addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.topo = fmt.Sprintf(`{"epoch":%d,"primary":%q,"members":[{"id":%q,"addr":%q}]}`, epoch, id, id, addr)
}

func Test_Proxy_Coordinators_HighestEpochWins(t *testing.T) {
	ctx := context.Background()
	a, b := nodetest.StartAddr(t, node.Config{}), nodetest.StartAddr(t, node.Config{})
	c1, c2 := mustNewFakeCoordinator(t, "s3cret"), mustNewFakeCoordinator(t, "s3cret")
	c1.set(1, "a", a)
	c2.set(1, "a", a)
	p, addr := mustNewProxy(t, Config{Coordinators: []string{c1.addr, c2.addr}, ClusterSecret: "s3cret"})
	c := newClient(t, addr, "")
	if err := c.Set(ctx, "k", "on-a", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// One coordinator learns epoch 2 (primary b); the lagging one still
	// says epoch 1: the proxy must follow b and never go back.
	c2.set(2, "b", b)
	waitPrimary(t, p, b)
	for i := 0; i < 5; i++ {
		if err := c.Set(ctx, "k", "on-b", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(3 * pollInterval) // let the lagging coordinator be polled again
	if got, _ := p.primary(); got != b {
		t.Fatalf("primary = %s after a lagging coordinator answered, want %s", got, b)
	}
	if v, err := newClient(t, b, "").Get(ctx, "k").Result(); err != nil || v != "on-b" {
		t.Fatalf("B k = %q, %v", v, err)
	}
}

// waitPrimary polls until the proxy's primary is want (bounded).
func waitPrimary(t *testing.T, p *Proxy, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got, _ := p.primary(); got == want {
			return
		}
		if time.Now().After(deadline) {
			got, _ := p.primary()
			t.Fatalf("primary = %q, want %q", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Test_Proxy_LostConnection_WriteIsAmbiguous uses a backend that reads a
// command and hangs up without replying: a write must get the ambiguous
// error, never a silent retry.
func Test_Proxy_LostConnection_WriteIsAmbiguous(t *testing.T) {
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	received := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			if n, _ := nc.Read(buf); n > 0 {
				mu.Lock()
				received++
				mu.Unlock()
			}
			nc.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	_, addr := mustNewProxy(t, Config{Backend: ln.Addr().String(), HoldTimeout: 300 * time.Millisecond})
	c := newClient(t, addr, "")
	err = c.Set(ctx, "k", "v", 0).Err()
	if err == nil || !strings.Contains(err.Error(), "may or may not have been applied") {
		t.Fatalf("SET over a lost connection: %v", err)
	}
	mu.Lock()
	if received != 1 {
		t.Errorf("the write was sent %d times, want exactly 1", received)
	}
	mu.Unlock()
	// A read is retried (each attempt loses its connection) until the
	// hold timeout, then fails retriably.
	err = c.Get(ctx, "k").Err()
	if err == nil || !strings.Contains(err.Error(), "TRYAGAIN") {
		t.Fatalf("GET over lost connections: %v", err)
	}
	mu.Lock()
	if received < 3 {
		t.Errorf("the read was sent %d times in all, want retries", received-1)
	}
	mu.Unlock()
}
