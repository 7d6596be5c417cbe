package node

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/redisinfo"
	"github.com/batonkv/baton/node/keyspace"
	"github.com/redis/go-redis/v9"
)

// Test_Takeover_FreezeRefusesDataCommandsUntilUnfreeze: a frozen node
// refuses reads, writes, EXEC and PUBLISH with -TAKENOVER, its LSN stays
// where the freeze said, a parked BLPOP is released with -TAKENOVER, and
// only an UNFREEZE with the freeze's ID thaws it.
func Test_Takeover_FreezeRefusesDataCommandsUntilUnfreeze(t *testing.T) {
	n, c, ctx := newTestClient(t)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	epoch := n.repl.epoch.Load()
	popped := make(chan error, 1)
	blocker := mustClient(t, n)
	go func() { popped <- blocker.BLPop(ctx, 10*time.Second, "q").Err() }()
	waitBlocked(t, n, 1)
	tx := mustClient(t, n)
	pipe := tx.TxPipeline()
	lsnBefore := lsnOf(n)

	v, err := c.Do(ctx, "BATON.FREEZE", 7, epoch, 100).Slice()
	if err != nil || len(v) != 2 || v[0].(int64) != int64(lsnBefore) || v[1].(int64) != 0 {
		t.Fatalf("BATON.FREEZE = %v, %v; want [%d 0]", v, err, lsnBefore)
	}
	if err := <-popped; err == nil || !strings.HasPrefix(err.Error(), "TAKENOVER") {
		t.Fatalf("parked BLPOP got %v, want TAKENOVER", err)
	}
	for _, args := range [][]any{{"SET", "k", "w"}, {"GET", "k"}, {"PUBLISH", "ch", "m"}, {"LPUSH", "q", "x"}} {
		if got := doReply(t, c, args...); !strings.HasPrefix(got.(string), "ERR:TAKENOVER ") {
			t.Errorf("%v while frozen = %v, want TAKENOVER", args, got)
		}
	}
	pipe.Set(ctx, "t", "1", 0)
	if _, err := pipe.Exec(ctx); err == nil || !strings.Contains(err.Error(), "TAKENOVER") {
		t.Errorf("MULTI/SET/EXEC while frozen = %v, want it aborted with TAKENOVER", err)
	}
	if got := lsnOf(n); got != lsnBefore {
		t.Errorf("LSN moved while frozen: %d → %d", lsnBefore, got)
	}
	if got := doReply(t, c, "BATON.UNFREEZE", 6); got != int64(0) {
		t.Errorf("UNFREEZE with another ID = %v, want 0", got)
	}
	if got := doReply(t, c, "GET", "k"); !strings.HasPrefix(got.(string), "ERR:TAKENOVER") {
		t.Errorf("a wrong ID thawed the node: GET = %v", got)
	}
	if got := doReply(t, c, "BATON.UNFREEZE", 7); got != int64(1) {
		t.Errorf("UNFREEZE 7 = %v, want 1", got)
	}
	expectReplies(t, c, []replyCase{rc("OK", "SET", "k", "w"), rc("w", "GET", "k")})
}

// Test_Takeover_FreezeChecks: FREEZE names the epoch the coordinators
// froze, and a replica cannot be frozen.
func Test_Takeover_FreezeChecks(t *testing.T) {
	n, c, _ := newTestClient(t)
	epoch := n.repl.epoch.Load()
	expectReplies(t, c, []replyCase{
		rc("ERR:ERR BATON.FREEZE id epoch grace-ms: positive integers expected", "BATON.FREEZE", 0, epoch, 10),
		rc("ERR:ERR BATON.FREEZE: this node is at epoch 0, not 9", "BATON.FREEZE", 1, 9, 10),
		rc("ERR:ERR FAILOVER needs coordinators: this node runs without --coordinators", "FAILOVER"),
	})
}

// Test_Takeover_CheckpointClosesHungConnections: a connection stuck
// writing replies its client never reads misses the checkpoint and is
// closed after the grace; an idle one is left alone.
func Test_Takeover_CheckpointClosesHungConnections(t *testing.T) {
	n, c, ctx := newTestClient(t)
	if err := c.Set(ctx, "big", strings.Repeat("x", 512<<10), 0).Err(); err != nil {
		t.Fatal(err)
	}
	idle := mustClient(t, n)
	if err := idle.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	hung, err := net.Dial("tcp", n.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	hung.(*net.TCPConn).SetReadBuffer(4096)
	var pipeline []byte
	for range 16 {
		pipeline = append(pipeline, "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n"...)
	}
	if _, err := hung.Write(pipeline); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, "the hung connection to be stuck", func() bool {
		// Its replies are all built and waiting to be written (omem
		// counts them from the first one built: wait for all 16).
		list, _ := c.ClientList(ctx).Result()
		return redisinfo.CountPendingOutput(list, 16*(512<<10)) == 1
	})
	v, err := c.Do(ctx, "BATON.FREEZE", 3, n.repl.epoch.Load(), 50).Slice()
	if err != nil || v[1].(int64) != 1 {
		t.Fatalf("BATON.FREEZE = %v, %v; want one connection force-closed", v, err)
	}
	if got := doReply(t, idle, "PING"); got != "PONG" {
		t.Errorf("the idle connection was disturbed: PING = %v", got)
	}
}

// waitBlocked waits until n clients are parked on a blocking command.
func waitBlocked(t *testing.T, s *testNode, n int) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.addr, Protocol: 2, DisableIdentity: true})
	defer c.Close()
	pollUntil(t, "blocked clients", func() bool {
		info, _ := c.Info(context.Background(), "clients").Result()
		return strings.Contains(info, "blocked_clients:"+keyspace.Itoa(int64(n)))
	})
}

// lsnOf reads the node's last LSN under its lock.
func lsnOf(n *testNode) uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lastLSN
}

// Test_Takeover_LateFreezeAfterUnfreezeRefused: a rollback's UNFREEZE can
// overtake the FREEZE it undoes (the leader's FREEZE timed out but was
// still in flight). The late FREEZE must not freeze the node: that
// takeover is over, and nothing would ever thaw it but a topology change.
// Neither may a FREEZE of an older takeover after a thaw.
func Test_Takeover_LateFreezeAfterUnfreezeRefused(t *testing.T) {
	n, c, ctx := newTestClient(t)
	epoch := n.repl.epoch.Load()
	if got := doReply(t, c, "BATON.UNFREEZE", 5); got != int64(0) {
		t.Fatalf("UNFREEZE 5 on an active node = %v, want 0", got)
	}
	want := "ERR:ERR BATON.FREEZE: takeover 5 is over (this node thawed takeover 5)"
	if got := doReply(t, c, "BATON.FREEZE", 5, epoch, 10); got != want {
		t.Errorf("late FREEZE 5 = %v, want %q", got, want)
	}
	if got := doReply(t, c, "BATON.FREEZE", 4, epoch, 10); !strings.HasPrefix(fmt.Sprint(got), "ERR:ERR BATON.FREEZE: takeover 4 is over") {
		t.Errorf("FREEZE of an older takeover = %v, want it refused", got)
	}
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET after the late FREEZE: %v (the node froze)", err)
	}
	// A newer takeover still freezes, and after its UNFREEZE its own
	// retried FREEZE is refused too.
	if v, err := c.Do(ctx, "BATON.FREEZE", 6, epoch, 10).Slice(); err != nil || len(v) != 2 {
		t.Fatalf("FREEZE 6 = %v, %v", v, err)
	}
	if got := doReply(t, c, "BATON.UNFREEZE", 6); got != int64(1) {
		t.Fatalf("UNFREEZE 6 = %v, want 1", got)
	}
	if got := doReply(t, c, "BATON.FREEZE", 6, epoch, 10); !strings.HasPrefix(fmt.Sprint(got), "ERR:ERR BATON.FREEZE: takeover 6 is over") {
		t.Errorf("FREEZE 6 after its UNFREEZE = %v, want it refused", got)
	}
	if err := c.Set(ctx, "k", "w", 0).Err(); err != nil {
		t.Fatalf("SET after FREEZE 6 was retried: %v", err)
	}
}
