package node

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// txConn returns one dedicated connection of c (transactions are
// per-connection state).
func txConn(t *testing.T, c *redis.Client) *redis.Conn {
	t.Helper()
	conn := c.Conn()
	t.Cleanup(func() { conn.Close() })
	return conn
}

// txDo runs one command on conn and returns its value or error text.
func txDo(ctx context.Context, conn *redis.Conn, args ...any) (any, string) {
	v, err := conn.Do(ctx, args...).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return v, err.Error()
	}
	return v, ""
}

// txExpect runs args on conn and fails unless it replies want (or the
// error text wantErr when want is nil).
func txExpect(t *testing.T, ctx context.Context, conn *redis.Conn, want any, wantErr string, args ...any) {
	t.Helper()
	v, errText := txDo(ctx, conn, args...)
	if errText != wantErr {
		t.Fatalf("%v: error %q, want %q", args, errText, wantErr)
	}
	if wantErr == "" && !txEqual(v, want) {
		t.Fatalf("%v: reply %#v, want %#v", args, v, want)
	}
}

// txEqual compares go-redis replies (scalars and nested arrays).
func txEqual(a, b any) bool {
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok != bok {
		return false
	}
	if !aok {
		return a == b
	}
	if len(as) != len(bs) {
		return false
	}
	for i := range as {
		if !txEqual(as[i], bs[i]) {
			return false
		}
	}
	return true
}

func Test_Tx_MultiExec(t *testing.T) {
	_, c, ctx := newTestClient(t)
	conn := txConn(t, c)
	txExpect(t, ctx, conn, "OK", "", "multi")
	txExpect(t, ctx, conn, "QUEUED", "", "set", "a", "1")
	txExpect(t, ctx, conn, "QUEUED", "", "incr", "a")
	txExpect(t, ctx, conn, "QUEUED", "", "zadd", "a", "1", "x") // WRONGTYPE at run time
	txExpect(t, ctx, conn, "QUEUED", "", "get", "a")
	v, errText := txDo(ctx, conn, "exec")
	if errText != "" {
		t.Fatalf("exec: %s", errText)
	}
	got := v.([]any)
	if len(got) != 4 || got[0] != "OK" || got[1] != int64(2) || got[3] != "2" {
		t.Fatalf("exec replied %#v", got)
	}
	if e, ok := got[2].(error); !ok || !strings.HasPrefix(e.Error(), "WRONGTYPE") {
		t.Fatalf("exec reply 3 is %#v, want a WRONGTYPE error", got[2])
	}

	// Through go-redis' own transaction API.
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "b", "x", 0)
		p.Append(ctx, "b", "y")
		return nil
	})
	if err != nil || len(cmds) != 2 || cmds[1].(*redis.IntCmd).Val() != 2 {
		t.Fatalf("TxPipelined: %v %v", cmds, err)
	}
	txExpect(t, ctx, conn, "OK", "", "multi")
	txExpect(t, ctx, conn, []any{}, "", "exec")
}

func Test_Tx_Errors(t *testing.T) {
	_, c, ctx := newTestClient(t)
	conn := txConn(t, c)
	txExpect(t, ctx, conn, nil, "ERR EXEC without MULTI", "exec")
	txExpect(t, ctx, conn, nil, "ERR DISCARD without MULTI", "discard")
	txExpect(t, ctx, conn, "OK", "", "multi")
	txExpect(t, ctx, conn, nil, "ERR MULTI calls can not be nested", "multi")
	txExpect(t, ctx, conn, nil, "ERR WATCH inside MULTI is not allowed", "watch", "k")
	txExpect(t, ctx, conn, "QUEUED", "", "set", "k", "v")
	// Neither error above aborts the transaction (as in Redis).
	txExpect(t, ctx, conn, []any{"OK"}, "", "exec")

	// Queuing errors abort with EXECABORT and run nothing.
	for _, bad := range [][]any{{"set", "k2"}, {"nosuchcommand", "x"}} {
		txExpect(t, ctx, conn, "OK", "", "multi")
		txExpect(t, ctx, conn, "QUEUED", "", "set", "k2", "v")
		if _, errText := txDo(ctx, conn, bad...); errText == "" || !strings.HasPrefix(errText, "ERR") {
			t.Fatalf("%v queued: %q, want an ERR", bad, errText)
		}
		txExpect(t, ctx, conn, nil, "EXECABORT Transaction discarded because of previous errors.", "exec")
		if n := c.Exists(ctx, "k2").Val(); n != 0 {
			t.Fatalf("aborted transaction ran: EXISTS k2 = %d", n)
		}
	}
	// The connection is out of MULTI afterwards.
	txExpect(t, ctx, conn, "v", "", "get", "k")
}

func Test_Tx_Discard(t *testing.T) {
	_, c, ctx := newTestClient(t)
	conn := txConn(t, c)
	txExpect(t, ctx, conn, "OK", "", "watch", "w")
	txExpect(t, ctx, conn, "OK", "", "multi")
	txExpect(t, ctx, conn, "QUEUED", "", "set", "d", "1")
	txExpect(t, ctx, conn, "OK", "", "discard")
	if n := c.Exists(ctx, "d").Val(); n != 0 {
		t.Fatal("discarded command ran")
	}
	// DISCARD also dropped the WATCH: a change of w no longer aborts.
	c.Set(ctx, "w", "changed", 0)
	txExpect(t, ctx, conn, "OK", "", "multi")
	txExpect(t, ctx, conn, "QUEUED", "", "set", "d", "1")
	txExpect(t, ctx, conn, []any{"OK"}, "", "exec")
}

func Test_Tx_WatchAbortByOtherClient(t *testing.T) {
	_, c, ctx := newTestClient(t)
	other := txConn(t, c)
	c.Set(ctx, "counter", "1", 0)
	attempts := 0
	err := c.Watch(ctx, func(tx *redis.Tx) error {
		attempts++
		if _, err := tx.Get(ctx, "counter").Result(); err != nil {
			return err
		}
		if _, errText := txDo(ctx, other, "incr", "counter"); errText != "" {
			t.Fatalf("incr: %s", errText)
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "counter", "100", 0)
			return nil
		})
		return err
	}, "counter")
	if !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("watch transaction: %v, want TxFailedErr", err)
	}
	if v := c.Get(ctx, "counter").Val(); v != "2" {
		t.Fatalf("counter = %q, want 2 (the transaction must not have run)", v)
	}

	// The watching client's own write counts too, and UNWATCH clears it.
	conn := txConn(t, c)
	txExpect(t, ctx, conn, "OK", "", "watch", "counter")
	txExpect(t, ctx, conn, "OK", "", "set", "counter", "3")
	txExpect(t, ctx, conn, "OK", "", "multi")
	txExpect(t, ctx, conn, "QUEUED", "", "ping")
	txExpect(t, ctx, conn, nil, "", "exec")
	txExpect(t, ctx, conn, "OK", "", "watch", "counter")
	c.Set(ctx, "counter", "4", 0)
	txExpect(t, ctx, conn, "OK", "", "unwatch")
	txExpect(t, ctx, conn, "OK", "", "multi")
	txExpect(t, ctx, conn, "QUEUED", "", "ping")
	txExpect(t, ctx, conn, []any{"PONG"}, "", "exec")

	// A write that changes nothing is not a modification; a missing
	// watched key that stays missing does not abort either.
	txExpect(t, ctx, conn, "OK", "", "watch", "counter", "missing")
	c.Del(ctx, "missing")
	txExpect(t, ctx, conn, "OK", "", "multi")
	txExpect(t, ctx, conn, "QUEUED", "", "ping")
	txExpect(t, ctx, conn, []any{"PONG"}, "", "exec")
}

func Test_Tx_WatchAbortByExpiry(t *testing.T) {
	n, c, ctx := newTestClient(t)
	conn := txConn(t, c)

	// Deleted by expiry (lazily, by another client's read).
	c.Set(ctx, "e", "v", 0)
	c.PExpire(ctx, "e", 30e6) // long, then shortened below without a write
	txExpect(t, ctx, conn, "OK", "", "watch", "e")
	n.mu.Lock()
	n.db.SetExpire("e", 1) // now in the past: the key is logically expired
	n.mu.Unlock()
	if v := c.Exists(ctx, "e").Val(); v != 0 {
		t.Fatalf("EXISTS of an expired key = %d", v)
	}
	txExpect(t, ctx, conn, "OK", "", "multi")
	txExpect(t, ctx, conn, "QUEUED", "", "ping")
	txExpect(t, ctx, conn, nil, "", "exec")

	// Expired but not deleted yet when EXEC runs.
	c.Set(ctx, "e2", "v", 0)
	txExpect(t, ctx, conn, "OK", "", "watch", "e2")
	n.mu.Lock()
	n.db.SetExpire("e2", 1)
	n.mu.Unlock()
	txExpect(t, ctx, conn, "OK", "", "multi")
	txExpect(t, ctx, conn, "QUEUED", "", "ping")
	txExpect(t, ctx, conn, nil, "", "exec")

	// A real TTL running out, found by active or lazy expiry.
	for ttl := int64(200); ; ttl *= 2 {
		c.Set(ctx, "e3", "v", 0)
		c.PExpire(ctx, "e3", time.Duration(ttl)*time.Millisecond)
		txExpect(t, ctx, conn, "OK", "", "watch", "e3")
		n.mu.Lock()
		ws := n.pubsub().watches["e3"]
		alive := len(ws) == 1
		for _, expiredAtWatch := range ws {
			alive = alive && !expiredAtWatch
		}
		n.mu.Unlock()
		if alive {
			break
		}
		txExpect(t, ctx, conn, "OK", "", "unwatch") // too slow: retry longer
	}
	for c.Exists(ctx, "e3").Val() != 0 {
	}
	txExpect(t, ctx, conn, "OK", "", "multi")
	txExpect(t, ctx, conn, "QUEUED", "", "ping")
	txExpect(t, ctx, conn, nil, "", "exec")

	// Already expired when WATCHed, then deleted: no visible change.
	c.Set(ctx, "e4", "v", 0)
	n.mu.Lock()
	n.db.SetExpire("e4", 1)
	n.mu.Unlock()
	txExpect(t, ctx, conn, "OK", "", "watch", "e4")
	if v := c.Exists(ctx, "e4").Val(); v != 0 {
		t.Fatalf("EXISTS of an expired key = %d", v)
	}
	txExpect(t, ctx, conn, "OK", "", "multi")
	txExpect(t, ctx, conn, "QUEUED", "", "ping")
	txExpect(t, ctx, conn, []any{"PONG"}, "", "exec")
}

func Test_Tx_WatchAbortByFlush(t *testing.T) {
	_, c, ctx := newTestClient(t)
	conn := txConn(t, c)
	for _, flush := range []string{"flushall", "flushdb"} {
		c.Set(ctx, "f", "v", 0)
		txExpect(t, ctx, conn, "OK", "", "watch", "f")
		if err := c.Do(ctx, flush).Err(); err != nil {
			t.Fatal(err)
		}
		txExpect(t, ctx, conn, "OK", "", "multi")
		txExpect(t, ctx, conn, "QUEUED", "", "ping")
		txExpect(t, ctx, conn, nil, "", "exec")
	}
}

func Test_Tx_JournalBracketsAndRecovery(t *testing.T) {
	dir := t.TempDir()
	n := mustNewNode(t, Config{DataDir: dir})
	c := mustClient(t, n)
	ctx := context.Background()
	log := tapJournal(n.Server)
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "a", "1", 0)
		p.Get(ctx, "a")
		p.Incr(ctx, "n")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A read-only transaction leaves no trace in the journal.
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "a")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(log.lines(), "|")
	if want := "multi|set a 1|incr n|exec"; got != want {
		t.Fatalf("journal %q, want %q", got, want)
	}
	want := n.Digest()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n2 := mustNewNode(t, Config{DataDir: dir})
	if got := n2.Digest(); got != want {
		t.Fatalf("digest after recovery %s, want %s", got, want)
	}
	c2 := mustClient(t, n2)
	if v := c2.Get(ctx, "n").Val(); v != "1" {
		t.Fatalf("n = %q after recovery, want 1", v)
	}
}

func Test_Tx_ExecRejectedAborts(t *testing.T) {
	_, c, ctx := newTestClient(t)
	conn := txConn(t, c)
	txExpect(t, ctx, conn, "OK", "", "multi")
	txExpect(t, ctx, conn, "QUEUED", "", "set", "r", "1")
	txExpect(t, ctx, conn, nil, "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command", "exec", "x")
	txExpect(t, ctx, conn, nil, "ERR EXEC without MULTI", "exec")
	if n := c.Exists(ctx, "r").Val(); n != 0 {
		t.Fatal("rejected EXEC ran the transaction")
	}
}
