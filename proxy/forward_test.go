package proxy

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/internal/testutil"
	"github.com/batonkv/baton/node"
	"github.com/batonkv/baton/node/nodetest"
	"github.com/redis/go-redis/v9"
)

// Test_Proxy_MaxHeld: while the primary is unreachable the proxy holds at
// most MaxHeld commands; the ones beyond are answered at once (long before
// the hold timeout) with -TRYAGAIN, and the held ones complete once
// setBackend points at a live node.
func Test_Proxy_MaxHeld(t *testing.T) {
	ctx := context.Background()
	live := nodetest.StartAddr(t, node.Config{})
	const limit, n = 3, 5
	p, addr := mustNewProxy(t, Config{Backend: testutil.FreeAddr(t), HoldTimeout: time.Minute, MaxHeld: limit})
	results := make(chan error, n)
	for i := range n {
		c := newClient(t, addr, "")
		go func() { results <- c.Set(ctx, fmt.Sprintf("held:%d", i), i, 0).Err() }()
	}
	for range n - limit {
		select {
		case err := <-results:
			if err == nil || !strings.HasPrefix(err.Error(), "TRYAGAIN proxy: too many commands held") {
				t.Fatalf("a command beyond MaxHeld got %v, want the too-many-held TRYAGAIN", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the commands beyond MaxHeld were not refused while held")
		}
	}
	select {
	case err := <-results:
		t.Fatalf("a held command finished with no reachable primary: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if got := p.held.Load(); got != limit {
		t.Fatalf("held = %d, want %d", got, limit)
	}
	p.setBackend(live)
	for range limit {
		if err := <-results; err != nil { // bounded by the client's read timeout
			t.Fatalf("held command after setBackend: %v", err)
		}
	}
	keys, err := newClient(t, live, "").Keys(ctx, "held:*").Result()
	if err != nil || len(keys) != limit {
		t.Fatalf("keys on the live node = %v, %v; want %d", keys, err, limit)
	}
	if got := p.held.Load(); got != 0 {
		t.Fatalf("held = %d after the hold ended, want 0", got)
	}
}

// Test_Proxy_MaxHeld_Pipeline: one pipeline larger than MaxHeld keeps its
// first MaxHeld commands held and answers the rest with -TRYAGAIN, every
// reply in its place.
func Test_Proxy_MaxHeld_Pipeline(t *testing.T) {
	ctx := context.Background()
	live := nodetest.StartAddr(t, node.Config{})
	const limit, n = 3, 6
	p, addr := mustNewProxy(t, Config{Backend: testutil.FreeAddr(t), HoldTimeout: time.Minute, MaxHeld: limit})
	c := newClient(t, addr, "")
	done := make(chan []redis.Cmder, 1)
	go func() {
		cmds, _ := c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			for i := range n {
				pipe.Incr(ctx, fmt.Sprintf("pipe:%d", i))
			}
			return nil
		})
		done <- cmds
	}()
	// Wait until the pipeline is held, then release it.
	deadline := time.Now().Add(30 * time.Second)
	for p.held.Load() != limit {
		if time.Now().After(deadline) {
			t.Fatalf("held = %d, want %d", p.held.Load(), limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.setBackend(live)
	cmds := <-done
	for i, cmd := range cmds {
		err := cmd.Err()
		if i < limit && (err != nil || cmd.(*redis.IntCmd).Val() != 1) {
			t.Fatalf("reply %d = %v, want 1", i, cmd)
		}
		if i >= limit && (err == nil || !strings.Contains(err.Error(), "too many commands held")) {
			t.Fatalf("reply %d = %v, want the too-many-held TRYAGAIN", i, cmd)
		}
	}
}

// Test_Proxy_InlineAndLocalCommandsInOrder: inline (telnet-style)
// commands are forwarded as RESP, and replies to forwarded commands, to
// commands the proxy answers itself and to arity errors come back in the
// order of one pipeline.
func Test_Proxy_InlineAndLocalCommandsInOrder(t *testing.T) {
	n := nodetest.StartAddr(t, node.Config{})
	_, addr := mustNewProxy(t, Config{Backend: n})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	pipeline := "SET greeting \"hello world\"\r\n" +
		"*2\r\n$3\r\nGET\r\n$8\r\ngreeting\r\n" +
		"*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$8\r\nlib-name\r\n$1\r\nx\r\n" + // answered by the proxy
		"get\r\n" + // arity error, answered by the proxy
		"*2\r\n$4\r\nECHO\r\n$2\r\nok\r\n" +
		"GeT greeting\r\n"
	if _, err := nc.Write([]byte(pipeline)); err != nil {
		t.Fatal(err)
	}
	rr := resp.NewReader(nc)
	want := []string{
		"+OK\r\n",
		"$11\r\nhello world\r\n",
		"+OK\r\n",
		"-ERR wrong number of arguments for 'get' command\r\n",
		"$2\r\nok\r\n",
		"$11\r\nhello world\r\n",
	}
	for i, w := range want {
		got, err := rr.ReadRaw(nil)
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if string(got) != w {
			t.Fatalf("reply %d = %q, want %q", i, got, w)
		}
	}
}

// Test_Proxy_ManyClientsPipelinesStayInOrder: pipelines of many clients,
// coalesced onto few backend connections, each get their own replies in
// order.
func Test_Proxy_ManyClientsPipelinesStayInOrder(t *testing.T) {
	ctx := context.Background()
	n := nodetest.StartAddr(t, node.Config{})
	_, addr := mustNewProxy(t, Config{Backend: n, PoolSize: 2})
	const clients, rounds = 16, 20
	errs := make(chan error, clients)
	for w := range clients {
		c := newClient(t, addr, "")
		go func() {
			key := fmt.Sprintf("ctr:%d", w)
			next := int64(1)
			for r := range rounds {
				cmds, err := c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
					for range 1 + (w+r)%17 {
						pipe.Incr(ctx, key)
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
				for _, cmd := range cmds {
					if v := cmd.(*redis.IntCmd).Val(); v != next {
						errs <- fmt.Errorf("client %d: INCR = %d, want %d", w, v, next)
						return
					}
					next++
				}
			}
			errs <- nil
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
