package node

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Test_Repl_SyncReplicasLateServedPop parks blocking pops (BLPOP, BRPOP,
// BLMOVE, BRPOPLPUSH) on a primary
// that needs one replica ack and has none, then pushes from another
// client: the pop served by that push (on the pusher's goroutine) must
// answer NOREPL within about the sync timeout, like an immediate pop,
// never the element (a failover would bring the element back). With a
// live replica the same pop delivers the element.
func Test_Repl_SyncReplicasLateServedPop(t *testing.T) {
	const syncTimeout = 200 * time.Millisecond
	primary := mustNewNode(t, Config{SyncReplicas: 1, SyncTimeout: syncTimeout})
	pc := mustClient(t, primary)
	ctx := context.Background()
	pops := []struct {
		name string
		pop  func(c *redis.Client, key string) error
		push func(key string) error
	}{
		{"blpop", func(c *redis.Client, key string) error {
			return c.BLPop(ctx, 0, key).Err()
		}, func(key string) error { return pc.RPush(ctx, key, "x").Err() }},
		{"brpop", func(c *redis.Client, key string) error {
			return c.BRPop(ctx, 0, key).Err()
		}, func(key string) error { return pc.RPush(ctx, key, "x").Err() }},
		{"blmove", func(c *redis.Client, key string) error {
			return c.BLMove(ctx, key, key+":dst", "LEFT", "RIGHT", 0).Err()
		}, func(key string) error { return pc.RPush(ctx, key, "x").Err() }},
		{"brpoplpush", func(c *redis.Client, key string) error {
			return c.BRPopLPush(ctx, key, key+":dst", 0).Err()
		}, func(key string) error { return pc.RPush(ctx, key, "x").Err() }},
	}
	run := func(t *testing.T, key string, pop func(*redis.Client, string) error, push func(string) error) (error, time.Duration) {
		t.Helper()
		popper := mustClient(t, primary)
		done := make(chan error, 1)
		go func() { done <- pop(popper, key) }()
		pollUntil(t, "pop parked", func() bool {
			primary.mu.Lock()
			defer primary.mu.Unlock()
			return len(primary.blocked[key]) > 0
		})
		start := time.Now()
		_ = push(key) // NOREPL too without a replica; it stays applied
		select {
		case err := <-done:
			return err, time.Since(start)
		case <-time.After(10 * syncTimeout):
			t.Fatal("the served pop did not reply")
			return nil, 0
		}
	}
	for _, p := range pops {
		t.Run(p.name+"/no replica", func(t *testing.T) {
			err, took := run(t, "nr:"+p.name, p.pop, p.push)
			if err == nil || !strings.HasPrefix(err.Error(), "NOREPL write applied and journaled at LSN ") {
				t.Fatalf("a pop no replica acknowledged answered %v; want NOREPL", err)
			}
			if took > 5*syncTimeout {
				t.Fatalf("NOREPL after %s; sync timeout %s", took, syncTimeout)
			}
		})
	}
	replica := mustNewNode(t, Config{})
	rc := mustClient(t, replica)
	replicaOf(t, rc, primary)
	waitSynced(t, primary, rc)
	for _, p := range pops {
		t.Run(p.name+"/live replica", func(t *testing.T) {
			if err, _ := run(t, "ok:"+p.name, p.pop, p.push); err != nil {
				t.Fatalf("a pop the replica acknowledged answered %v", err)
			}
		})
	}
}

// Test_Repl_SyncReplicasServedPopInPipelines serves a parked BLPOP, with
// a command pipelined behind it, from a pipeline that pushes and then
// reads the list, without the replica the primary needs: only the pop's
// reply (and the push's) become NOREPL, the command behind the pop keeps
// its reply, and the pusher's read does not see the element (served
// right after the push, as in Redis).
func Test_Repl_SyncReplicasServedPopInPipelines(t *testing.T) {
	primary := mustNewNode(t, Config{SyncReplicas: 1, SyncTimeout: 100 * time.Millisecond})
	pc, popper := mustClient(t, primary), mustClient(t, primary)
	ctx := context.Background()
	done := make(chan []redis.Cmder, 1)
	go func() {
		cmds, _ := popper.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.BLPop(ctx, 0, "k")
			p.Echo(ctx, "after")
			return nil
		})
		done <- cmds
	}()
	pollUntil(t, "pop parked", func() bool {
		primary.mu.Lock()
		defer primary.mu.Unlock()
		return len(primary.blocked["k"]) > 0
	})
	pushed, _ := pc.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, "k", "x")
		p.LLen(ctx, "k")
		return nil
	})
	if err := pushed[0].Err(); err == nil || !strings.HasPrefix(err.Error(), "NOREPL write") {
		t.Fatalf("RPUSH reply: %v, want NOREPL", err)
	}
	if n, err := pushed[1].(*redis.IntCmd).Result(); err == nil && n != 0 {
		t.Fatalf("LLEN after the push saw %d elements: the pop was not served right after the push", n)
	}
	var cmds []redis.Cmder
	select {
	case cmds = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the served pipeline did not reply")
	}
	if err := cmds[0].Err(); err == nil || !strings.HasPrefix(err.Error(), "NOREPL write applied and journaled at LSN ") {
		t.Fatalf("BLPOP reply: %v, want NOREPL", err)
	}
	if v, err := cmds[1].(*redis.StringCmd).Result(); err != nil || v != "after" {
		t.Fatalf("ECHO behind the pop: %q %v", v, err)
	}
}
