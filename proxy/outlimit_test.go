package proxy

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/testutil"
	"github.com/batonkv/baton/node"
	"github.com/batonkv/baton/node/nodetest"
)

// waitClosed waits, within a bound, until the proxy has closed a hung
// client's connection (its side: the client itself may take long to see
// the end, while the kernel trickles what it had sent into the client's
// small receive window).
func waitClosed(t *testing.T, p *Proxy, nc net.Conn) {
	t.Helper()
	for range 300 {
		if p.out.lookup(nc.LocalAddr().String()) == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("hung client %s still open at the proxy", nc.LocalAddr())
}

// Test_Proxy_OutputLimit_HungClientsDoNotStallOthers: 10 clients that
// pipeline GETs of a 256 KB value and never read are closed at their
// output limit — 5 at once past the hard limit (16 MB of replies for 8),
// 5 after a second above the soft one (6 MB for 1, more than the kernel's
// socket buffers take) — counted in the
// metrics, while 20 writers through the same shared backend connections
// all complete their writes without an error (issue 17).
func Test_Proxy_OutputLimit_HungClientsDoNotStallOthers(t *testing.T) {
	ctx := context.Background()
	n := nodetest.StartAddr(t, node.Config{})
	p, addr := mustNewProxy(t, Config{Backend: n, PoolSize: 2,
		OutputLimit: OutputLimit{Hard: 8 << 20, Soft: 1 << 20, SoftFor: time.Second}})
	setup := newClient(t, addr, "")
	if err := setup.Set(ctx, "big", strings.Repeat("x", 256<<10), 0).Err(); err != nil {
		t.Fatal(err)
	}
	var hung []net.Conn
	for i := range 10 {
		gets := 64 // 16 MB: over the hard limit
		if i%2 == 1 {
			gets = 24 // 6 MB: over the soft limit only
		}
		hung = append(hung, testutil.HungClient(t, addr, "big", gets))
	}
	const writers, writes = 20, 200
	var wg sync.WaitGroup
	var errs atomic.Int64
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(t, addr, "")
			for i := range writes {
				if err := c.Set(wctx, fmt.Sprintf("w%d:%d", w, i), "v", 0).Err(); err != nil {
					errs.Add(1)
					t.Errorf("writer %d, write %d: %v", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if errs.Load() > 0 {
		t.Fatalf("%d writers failed", errs.Load())
	}
	for _, nc := range hung {
		waitClosed(t, p, nc)
	}
	if got := testutil.Value(t, p.reg, "baton_proxy_output_limit_closed_total", map[string]string{"class": "normal"}); got != 10 {
		t.Fatalf("output_limit_closed_total{class=normal} = %v, want 10", got)
	}
	// The proxy still serves, and holds no hung client.
	if err := setup.Get(ctx, "w0:0").Err(); err != nil {
		t.Fatalf("GET after the hung clients: %v", err)
	}
}

// Test_Proxy_ParseOutputLimits: Redis' syntax, 0 as "no bound".
func Test_Proxy_ParseOutputLimits(t *testing.T) {
	d := DefaultConfig()
	normal, pubsub, err := ParseOutputLimits("normal 0 0 0 pubsub 64mb 16mb 30 replica 256mb 64mb 60", d.OutputLimit, d.PubSubOutputLimit)
	if err != nil {
		t.Fatal(err)
	}
	if normal != (OutputLimit{Hard: -1, Soft: -1, SoftFor: -time.Second}) {
		t.Fatalf("normal = %+v", normal)
	}
	if pubsub != (OutputLimit{Hard: 64 << 20, Soft: 16 << 20, SoftFor: 30 * time.Second}) {
		t.Fatalf("pubsub = %+v", pubsub)
	}
	if n := limitWithDefaults(normal, d.OutputLimit); n != (OutputLimit{}) {
		t.Fatalf("normal 0 0 0 with defaults = %+v, want no bound", n)
	}
	for _, bad := range []string{"normal 1 2", "bogus 1 2 3", "normal x 2 3", "normal 1 2 -3"} {
		if _, _, err := ParseOutputLimits(bad, d.OutputLimit, d.PubSubOutputLimit); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// Test_Proxy_OutputLimit_HungSubscriberIsClosed: a subscriber through the
// proxy that never reads is closed at the pubsub class' limit — its pinned
// session keeps reading the node meanwhile — counted in the metrics, while
// the publisher sees no error (issue 17).
func Test_Proxy_OutputLimit_HungSubscriberIsClosed(t *testing.T) {
	ctx := context.Background()
	n := nodetest.StartAddr(t, node.Config{})
	p, addr := mustNewProxy(t, Config{Backend: n,
		PubSubOutputLimit: OutputLimit{Hard: 4 << 20, Soft: 1 << 20, SoftFor: time.Second}})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.(*net.TCPConn).SetReadBuffer(4096)
	if _, err := nc.Write([]byte("*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n")); err != nil {
		t.Fatal(err)
	}
	pub := newClient(t, addr, "")
	for range 300 { // wait for the subscription
		if v, _ := pub.PubSubNumSub(ctx, "ch").Result(); v["ch"] == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	msg := strings.Repeat("m", 64<<10)
	for i := 0; i < 400 && p.out.lookup(nc.LocalAddr().String()) != nil; i++ {
		if err := pub.Publish(ctx, "ch", msg).Err(); err != nil {
			t.Fatalf("PUBLISH %d: %v", i, err)
		}
	}
	waitClosed(t, p, nc)
	if got := testutil.Value(t, p.reg, "baton_proxy_output_limit_closed_total", map[string]string{"class": "pubsub"}); got != 1 {
		t.Fatalf("output_limit_closed_total{class=pubsub} = %v, want 1", got)
	}
}
