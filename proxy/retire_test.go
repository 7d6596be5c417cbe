package proxy

import (
	"context"
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
