package node

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Test_Server_IdleTimeout: with CONFIG SET timeout, a client idle for
// longer is closed, while one parked in BLPOP 0 and a subscriber stay;
// CONFIG SET timeout answers as Redis does for bad values.
func Test_Server_IdleTimeout(t *testing.T) {
	redisAddr := startRedisServer(t)
	n := mustNewNode(t, Config{})
	ctx := context.Background()
	ref := redis.NewClient(&redis.Options{Addr: redisAddr, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer ref.Close()
	admin := mustClient(t, n)
	for _, v := range []string{"abc", "-1", "2147483648"} {
		want := ref.ConfigSet(ctx, "timeout", v).Err()
		if got := admin.ConfigSet(ctx, "timeout", v).Err(); got == nil || want == nil || got.Error() != want.Error() {
			t.Errorf("CONFIG SET timeout %s: %v; redis-server: %v", v, got, want)
		}
	}
	if err := admin.ConfigSet(ctx, "timeout", "1").Err(); err != nil {
		t.Fatal(err)
	}
	if v := admin.ConfigGet(ctx, "timeout").Val()["timeout"]; v != "1" {
		t.Fatalf("CONFIG GET timeout = %q", v)
	}

	idle := redis.NewClient(&redis.Options{Addr: n.addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true, PoolSize: 1})
	defer idle.Close()
	idleConn := idle.Conn()
	defer idleConn.Close()
	if err := idleConn.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	blocked := redis.NewClient(&redis.Options{Addr: n.addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true, ReadTimeout: -1})
	defer blocked.Close()
	popped := make(chan error, 1)
	go func() { popped <- blocked.BLPop(ctx, 0, "q").Err() }()
	sub := redis.NewClient(&redis.Options{Addr: n.addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer sub.Close()
	ps := sub.Subscribe(ctx, "ch")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}

	// The idle client is closed within a few checks (the timeout plus one
	// check interval, on a loaded machine a little more).
	var err error
	for range 100 {
		time.Sleep(100 * time.Millisecond)
		if err = idleConn.Ping(ctx).Err(); err != nil {
			break
		}
		// Pinging keeps it busy: wait quietly for the rest.
		time.Sleep(3 * time.Second)
	}
	if err == nil {
		t.Fatal("an idle client was never closed")
	}
	if err := admin.RPush(ctx, "q", "x").Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-popped:
		if err != nil {
			t.Errorf("the parked BLPOP was cut: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the parked BLPOP never returned")
	}
	if err := admin.Publish(ctx, "ch", "m").Err(); err != nil {
		t.Fatal(err)
	}
	if msg, err := ps.ReceiveTimeout(ctx, 5*time.Second); err != nil {
		t.Errorf("the subscriber was closed: %v (%v)", err, msg)
	}
}
