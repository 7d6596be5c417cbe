package proxy

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/testutil"
	"github.com/batonkv/baton/node"
	"github.com/batonkv/baton/node/nodetest"
	"github.com/redis/go-redis/v9"
)

// mustNewProxy starts a proxy in front of backend and returns it and its
// address.
func mustNewProxy(t *testing.T, cfg Config) (*Proxy, string) {
	t.Helper()
	cfg.Logger = testutil.Logger(t)
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, testutil.ServeLoopback(t, p, true)
}

// newClient returns a go-redis client that shows every error (no retries).
func newClient(t *testing.T, addr string, pass string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, Password: pass, MaxRetries: -1, ReadTimeout: 10 * time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

func Test_Proxy_Commands(t *testing.T) {
	ctx := context.Background()
	n := nodetest.StartAddr(t, node.Config{})
	_, addr := mustNewProxy(t, Config{Backend: n})
	c := newClient(t, addr, "")
	if err := c.Set(ctx, "s", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "s").Result(); err != nil || v != "v" {
		t.Fatalf("GET = %q, %v", v, err)
	}
	if err := c.Get(ctx, "missing").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET missing: %v", err)
	}
	if err := c.HSet(ctx, "h", "a", "1", "b", "2").Err(); err != nil {
		t.Fatal(err)
	}
	if m, err := c.HGetAll(ctx, "h").Result(); err != nil || m["a"] != "1" || m["b"] != "2" {
		t.Fatalf("HGETALL = %v, %v", m, err)
	}
	if err := c.RPush(ctx, "l", "x", "y", "z").Err(); err != nil {
		t.Fatal(err)
	}
	if l, err := c.LRange(ctx, "l", 0, -1).Result(); err != nil || strings.Join(l, ",") != "x,y,z" {
		t.Fatalf("LRANGE = %v, %v", l, err)
	}
	// Backend errors pass through; arity is checked at the proxy.
	if err := c.Do(ctx, "get").Err(); err == nil || !strings.Contains(err.Error(), "wrong number") {
		t.Fatalf("GET without key: %v", err)
	}
	// A pipeline of 100 INCRs answers in order.
	cmds, err := c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i := 0; i < 100; i++ {
			pipe.Incr(ctx, "ctr")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, cmd := range cmds {
		if v := cmd.(*redis.IntCmd).Val(); v != int64(i+1) {
			t.Fatalf("pipeline reply %d = %d", i, v)
		}
	}
}

func Test_Proxy_ManyClientsShareBackends(t *testing.T) {
	ctx := context.Background()
	n := nodetest.StartAddr(t, node.Config{})
	_, addr := mustNewProxy(t, Config{Backend: n, PoolSize: 2})
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		go func() {
			c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
			defer c.Close()
			for i := 0; i < 50; i++ {
				if err := c.Incr(ctx, "shared").Err(); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for w := 0; w < 8; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if v, err := newClient(t, n, "").Get(ctx, "shared").Int(); err != nil || v != 400 {
		t.Fatalf("shared = %d, %v", v, err)
	}
}

func Test_Proxy_Pinned(t *testing.T) {
	ctx := context.Background()
	n := nodetest.StartAddr(t, node.Config{})
	_, addr := mustNewProxy(t, Config{Backend: n})
	c := newClient(t, addr, "")

	// MULTI/EXEC.
	res, err := c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Set(ctx, "tx", "1", 0)
		pipe.Incr(ctx, "tx")
		return nil
	})
	if err != nil || res[1].(*redis.IntCmd).Val() != 2 {
		t.Fatalf("MULTI/EXEC: %v %v", res, err)
	}

	// Pub/sub through the proxy, published by another proxy client.
	sub := c.Subscribe(ctx, "news")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // subscription confirmation
		t.Fatal(err)
	}
	pub := newClient(t, addr, "")
	if err := pub.Publish(ctx, "news", "hello").Err(); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	msg, err := sub.ReceiveMessage(rctx)
	if err != nil || msg.Payload != "hello" {
		t.Fatalf("message = %v, %v", msg, err)
	}

	// BLPOP served by a later push from another client.
	got := make(chan []string, 1)
	go func() {
		v, _ := c.BLPop(ctx, 5*time.Second, "q").Result()
		got <- v
	}()
	// Push until the popper has taken one (it may not be blocked yet).
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := pub.RPush(ctx, "q", "job").Err(); err != nil {
			t.Fatal(err)
		}
		select {
		case v := <-got:
			if len(v) != 2 || v[1] != "job" {
				t.Fatalf("BLPOP = %v", v)
			}
			return
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("BLPOP never served")
		}
	}
}

func Test_Proxy_RequirePass(t *testing.T) {
	ctx := context.Background()
	n := nodetest.StartAddr(t, node.Config{})
	_, addr := mustNewProxy(t, Config{Backend: n, RequirePass: "secret"})
	if err := newClient(t, addr, "").Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("PING without AUTH: %v", err)
	}
	if err := newClient(t, addr, "wrong").Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("PING with a wrong password: %v", err)
	}
	if err := newClient(t, addr, "secret").Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
}

func Test_Proxy_Switch_HeldCommandsCompleteOnNewPrimary(t *testing.T) {
	ctx := context.Background()
	a, b := nodetest.StartAddr(t, node.Config{}), nodetest.StartAddr(t, node.Config{})
	p, addr := mustNewProxy(t, Config{Backend: a, HoldTimeout: 10 * time.Second})
	c := newClient(t, addr, "")
	if err := c.Set(ctx, "k", "a", 0).Err(); err != nil {
		t.Fatal(err)
	}

	// No primary known: the write is held, then completes on B.
	p.setBackend("")
	done := make(chan error, 1)
	go func() { done <- c.Set(ctx, "held", "1", 0).Err() }()
	select {
	case err := <-done:
		t.Fatalf("write completed with no primary: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	p.setBackend(b)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, err := newClient(t, b, "").Get(ctx, "held").Result(); err != nil || v != "1" {
		t.Fatalf("B held = %q, %v", v, err)
	}

	// A becomes a replica of B and answers writes with -READONLY: a write
	// sent to A is held and replayed on B once the proxy follows B.
	demote(t, a, b)
	p.setBackend(a)
	go func() { done <- c.Set(ctx, "replayed", "1", 0).Err() }()
	select {
	case err := <-done:
		t.Fatalf("write to a read-only node completed: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	p.setBackend(b)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, err := newClient(t, b, "").Get(ctx, "replayed").Result(); err != nil || v != "1" {
		t.Fatalf("B replayed = %q, %v", v, err)
	}
}

func Test_Proxy_HoldTimeout(t *testing.T) {
	ctx := context.Background()
	n := nodetest.StartAddr(t, node.Config{})
	p, addr := mustNewProxy(t, Config{Backend: n, HoldTimeout: 100 * time.Millisecond})
	p.setBackend("")
	err := newClient(t, addr, "").Set(ctx, "k", "v", 0).Err()
	if err == nil || !strings.Contains(err.Error(), "TRYAGAIN") {
		t.Fatalf("SET with no primary: %v", err)
	}
}

// demote makes node a a replica of b and waits until a refuses writes
// (-READONLY), so a write the proxy sends there is refused before
// execution.
func demote(t *testing.T, a, b string) {
	t.Helper()
	ctx := context.Background()
	ca := newClient(t, a, "")
	host, port, _ := net.SplitHostPort(b)
	if err := ca.Do(ctx, "replicaof", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for ca.Set(ctx, "probe", "x", 0).Err() == nil {
		if time.Now().After(deadline) {
			t.Fatal("A never became read-only")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
