package node

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonkv/baton/node/keyspace"
	"github.com/batonkv/baton/node/repl"
	"github.com/redis/go-redis/v9"
)

// replicaOf points replica at primary and fails the test on an error.
func replicaOf(t *testing.T, replica *redis.Client, primary *testNode) {
	t.Helper()
	host, port, _ := strings.Cut(primary.addr, ":")
	if err := replica.Do(context.Background(), "replicaof", host, port).Err(); err != nil {
		t.Fatalf("replicaof %s: %v", primary.addr, err)
	}
}

// newReplPair starts two standalone nodes (to become primary and replica)
// with a client each.
func newReplPair(t *testing.T) (primary, replica *testNode, pc, rc *redis.Client) {
	t.Helper()
	primary, replica = mustNewNode(t, Config{}), mustNewNode(t, Config{})
	return primary, replica, mustClient(t, primary), mustClient(t, replica)
}

// roleOf returns a replica's ROLE state and offset.
func roleOf(t *testing.T, c *redis.Client) (string, int64) {
	t.Helper()
	v, err := c.Do(context.Background(), "role").Slice()
	if err != nil || len(v) != 5 {
		t.Fatalf("role: %v %v", v, err)
	}
	return v[3].(string), v[4].(int64)
}

// infoValue returns one field of INFO section.
func infoValue(t *testing.T, c *redis.Client, section, field string) string {
	t.Helper()
	s, err := c.Info(context.Background(), section).Result()
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	for _, line := range strings.Split(s, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return v
		}
	}
	return ""
}

// waitSynced waits until the replica is connected at the primary's LSN and
// both hold the same data.
func waitSynced(t *testing.T, primary *testNode, replica *redis.Client) {
	t.Helper()
	pollUntil(t, "replica in sync", func() bool {
		state, off := roleOf(t, replica)
		return state == repl.LinkConnected && uint64(off) == primary.jr.LSN()
	})
	ctx := context.Background()
	if p, r := primary.Digest(), replica.Do(ctx, "digest").Val(); p != r {
		t.Fatalf("digest: primary %s, replica %v", p, r)
	}
}

// Test_Repl_FullSyncMidwayReportsOffsetZero holds a full sync after its
// first snapshot chunk: meanwhile the replica says state "sync" and offset
// 0 (never its old offset) and still serves its old data; once the sync
// completes it holds exactly the primary's data.
func Test_Repl_FullSyncMidwayReportsOffsetZero(t *testing.T) {
	hold := make(chan struct{})
	var once sync.Once
	step := 0
	oldStep := cowStepKeys
	t.Cleanup(func() { fullSyncStepHook, cowStepKeys = nil, oldStep })
	cowStepKeys = 10
	fullSyncStepHook = func() {
		if step++; step == 1 {
			<-hold
		}
	}
	release := func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release)

	primary, _, pc, rc := newReplPair(t)
	ctx := context.Background()
	for i := 0; i < 200; i++ {
		pc.Set(ctx, "k"+keyspace.Itoa(int64(i)), i, 0)
	}
	for i := 0; i < 50; i++ {
		rc.Set(ctx, "old"+keyspace.Itoa(int64(i)), i, 0)
	}
	replicaOf(t, rc, primary)
	pollUntil(t, "full sync under way", func() bool {
		state, _ := roleOf(t, rc)
		return state == repl.LinkSync
	})
	if state, off := roleOf(t, rc); state != repl.LinkSync || off != 0 {
		t.Fatalf("mid-sync ROLE: state %q offset %d, want sync and 0", state, off)
	}
	for field, want := range map[string]string{"master_sync_in_progress": "1", "slave_repl_offset": "0", "master_repl_offset": "0", "master_link_status": "down"} {
		if got := infoValue(t, rc, "replication", field); got != want {
			t.Errorf("mid-sync INFO %s = %q, want %q", field, got, want)
		}
	}
	if v, err := rc.Get(ctx, "old7").Result(); err != nil || v != "7" {
		t.Fatalf("mid-sync read of old data: %q %v", v, err)
	}
	pc.Set(ctx, "during", "sync", 0) // after the snapshot's LSN: streamed after it
	release()
	waitSynced(t, primary, rc)
	if n := rc.Exists(ctx, "old7").Val(); n != 0 {
		t.Fatalf("old data survived the full sync")
	}
	if v := rc.Get(ctx, "during").Val(); v != "sync" {
		t.Fatalf("write made during the sync: %q", v)
	}
	if got := infoValue(t, pc, "stats", "sync_full"); got != "1" {
		t.Fatalf("sync_full = %s, want 1", got)
	}
}

// Test_Repl_ReplicaIsReadOnly checks READONLY for writes (also queued in a
// transaction, which then aborts) while reads work.
func Test_Repl_ReplicaIsReadOnly(t *testing.T) {
	primary, _, pc, rc := newReplPair(t)
	ctx := context.Background()
	pc.Set(ctx, "a", "1", 0)
	replicaOf(t, rc, primary)
	waitSynced(t, primary, rc)
	wantErr(t, "set on replica", rc.Set(ctx, "b", "2", 0).Err(), errReadonly)
	wantErr(t, "flushall on replica", rc.FlushAll(ctx).Err(), errReadonly)
	_, err := rc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "a")
		p.Incr(ctx, "a")
		return nil
	})
	if err == nil || !strings.HasPrefix(err.Error(), "EXECABORT") {
		t.Fatalf("transaction with a write on a replica: %v, want EXECABORT", err)
	}
	if v := rc.Get(ctx, "a").Val(); v != "1" {
		t.Fatalf("read on replica: %q", v)
	}
	wantErr(t, "WAIT on replica", rc.Do(ctx, "wait", "1", "0").Err(),
		"ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
}

// Test_Repl_TransactionsAndExpiryReplicate runs transactions and expiring
// keys through a replica: the replica never expires keys itself, the
// primary's DELs keep both identical.
func Test_Repl_TransactionsAndExpiryReplicate(t *testing.T) {
	primary, _, pc, rc := newReplPair(t)
	ctx := context.Background()
	replicaOf(t, rc, primary)
	waitSynced(t, primary, rc)
	for i := 0; i < 50; i++ {
		_, err := pc.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Incr(ctx, "counter")
			p.RPush(ctx, "list", i)
			p.Set(ctx, "short"+keyspace.Itoa(int64(i)), "x", 20*time.Millisecond)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	pollUntil(t, "short keys expired on the primary", func() bool {
		return pc.DBSize(ctx).Val() == 2
	})
	waitSynced(t, primary, rc)
	if n := rc.DBSize(ctx).Val(); n != 2 {
		t.Fatalf("replica dbsize %d, want 2", n)
	}
}

// Test_Repl_WaitInsideMultiDoesNotBlock: WAIT in a transaction replies at
// once with the replicas that acknowledged.
func Test_Repl_WaitInsideMultiDoesNotBlock(t *testing.T) {
	primary := mustNewNode(t, Config{})
	pc := mustClient(t, primary)
	ctx := context.Background()
	cmds, err := pc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "a", "1", 0)
		p.Do(ctx, "wait", "1", "0")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := cmds[1].(*redis.Cmd).Int(); err != nil || n != 0 {
		t.Fatalf("WAIT in MULTI = %d, %v; want 0", n, err)
	}
}

// Test_Repl_SyncReplicasFailsOnlyTheWrites pipelines reads and writes
// against a primary that needs one replica ack and has none: only the
// writes' replies become NOREPL errors (a read of nothing unreplicated
// keeps its reply), a later read of the unreplicated data is refused too
// (no dirty read), and the writes stay applied.
func Test_Repl_SyncReplicasFailsOnlyTheWrites(t *testing.T) {
	primary := mustNewNode(t, Config{SyncReplicas: 1, SyncTimeout: 100 * time.Millisecond})
	pc := mustClient(t, primary)
	ctx := context.Background()
	cmds, _ := pc.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "missing")
		p.Set(ctx, "a", "1", 0)
		p.Echo(ctx, "between")
		p.Incr(ctx, "n")
		return nil
	})
	if err := cmds[0].Err(); err != redis.Nil {
		t.Fatalf("GET reply: %v", err)
	}
	for _, i := range []int{1, 3} {
		if err := cmds[i].Err(); err == nil || !strings.HasPrefix(err.Error(), "NOREPL ") {
			t.Fatalf("write %d reply: %v, want NOREPL", i, err)
		}
	}
	if v := cmds[2].(*redis.StringCmd).Val(); v != "between" {
		t.Fatalf("ECHO reply: %q", v)
	}
	if err := pc.Get(ctx, "a").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOREPL read") {
		t.Fatalf("a read of unreplicated data: %v, want NOREPL read", err)
	}
	replica := mustNewNode(t, Config{})
	rc := mustClient(t, replica)
	replicaOf(t, rc, primary)
	if err := pc.Set(ctx, "b", "2", 0).Err(); err != nil {
		t.Fatalf("write with a replica: %v", err)
	}
	if v := rc.Get(ctx, "b").Val(); v != "2" {
		t.Fatalf("replica lacks an acknowledged write: %q", v)
	}
	if v := pc.Get(ctx, "a").Val(); v != "1" {
		t.Fatalf("the NOREPL write did not stay applied: %q", v)
	}
}

// Test_Repl_FailedReplicaofChangesNothing points a replica at a port with
// nothing listening: the error leaves it replicating from its primary.
func Test_Repl_FailedReplicaofChangesNothing(t *testing.T) {
	primary, replica, pc, rc := newReplPair(t)
	ctx := context.Background()
	replicaOf(t, rc, primary)
	waitSynced(t, primary, rc)
	err := rc.Do(ctx, "replicaof", "127.0.0.1", "1").Err()
	if err == nil || !strings.Contains(err.Error(), "nothing changed") {
		t.Fatalf("replicaof to a closed port: %v", err)
	}
	err = rc.Do(ctx, "replicaof", strings.Split(replica.addr, ":")[0], strings.Split(replica.addr, ":")[1]).Err()
	if err == nil || !strings.Contains(err.Error(), "myself") {
		t.Fatalf("replicaof to itself: %v", err)
	}
	pc.Set(ctx, "after", "1", 0)
	waitSynced(t, primary, rc)
	if v := infoValue(t, rc, "replication", "master_port"); v != strings.Split(primary.addr, ":")[1] {
		t.Fatalf("master_port %s after failed switches", v)
	}
}

// Test_Repl_LongFullSyncIsNotDropped makes a full sync last several link
// timeouts, with chunks flowing all along: a replica sends no acks while it
// loads, and the primary must not take that silence for a dead replica.
func Test_Repl_LongFullSyncIsNotDropped(t *testing.T) {
	oldStep, oldTimeout := cowStepKeys, linkTimeout
	t.Cleanup(func() { fullSyncStepHook, cowStepKeys, linkTimeout = nil, oldStep, oldTimeout })
	cowStepKeys, linkTimeout = 10, 300*time.Millisecond
	fullSyncStepHook = func() { time.Sleep(20 * time.Millisecond) }

	primary, _, pc, rc := newReplPair(t)
	ctx := context.Background()
	for i := 0; i < 500; i++ { // 50 chunks: about 1 s, over 3 link timeouts
		pc.Set(ctx, "k"+keyspace.Itoa(int64(i)), i, 0)
	}
	rc.Set(ctx, "own", "history", 0) // so the replica needs a full sync
	replicaOf(t, rc, primary)
	waitSynced(t, primary, rc)
	if got := infoValue(t, pc, "stats", "sync_full"); got != "1" {
		t.Fatalf("sync_full = %s, want 1 (the first full sync was dropped and retried)", got)
	}
}

// Test_Repl_DivergentTailIsDiscardedAndCounted: a replica is promoted while
// its old primary goes on taking writes (no coordinator here to fence it);
// when the old primary then follows the new one, its extra entries exist
// nowhere else: the new primary counts and logs them, and the full sync
// replaces them with the new history.
func Test_Repl_DivergentTailIsDiscardedAndCounted(t *testing.T) {
	oldp := mustNewNode(t, Config{})
	newp := mustNewNode(t, Config{})
	oc, nc := mustClient(t, oldp), mustClient(t, newp)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		oc.Set(ctx, "k"+keyspace.Itoa(int64(i)), i, 0)
	}
	replicaOf(t, nc, oldp)
	waitSynced(t, oldp, nc)
	if err := nc.Do(ctx, "replicaof", "no", "one").Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 7; i++ { // the divergent tail
		oc.Set(ctx, "lost"+keyspace.Itoa(int64(i)), i, 0)
	}
	nc.Set(ctx, "new", "history", 0)
	replicaOf(t, oc, newp)
	waitSynced(t, newp, oc)
	if got := infoValue(t, nc, "stats", "baton_divergent_entries_discarded"); got != "7" {
		t.Fatalf("divergent entries counted: %s, want 7", got)
	}
	if n := oc.Exists(ctx, "lost0").Val(); n != 0 {
		t.Fatalf("the divergent tail survived")
	}
	if v := oc.Get(ctx, "new").Val(); v != "history" {
		t.Fatalf("the old primary lacks the new history: %q", v)
	}
}

// Test_Repl_SyncWaitEndsWithItsHistory: a write waiting for its replica
// ack when its primary is demoted never gets +OK from acks of a later
// history, even one whose LSNs pass the write's: the node leaves and
// re-takes the primary role while the write waits, a replica of the new
// history acks beyond its LSN, and the write still answers NOREPL. (The
// chaos suite found a write acknowledged this way after its history had
// been discarded.)
func Test_Repl_SyncWaitEndsWithItsHistory(t *testing.T) {
	p := mustNewNode(t, Config{SyncReplicas: 1, SyncTimeout: 20 * time.Second})
	q := mustNewNode(t, Config{})
	pc, qc := mustClient(t, p), mustClient(t, q)
	ctx := context.Background()
	reply := make(chan error, 1)
	wc := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true, ReadTimeout: 30 * time.Second})
	defer wc.Close()
	go func() { reply <- wc.Set(ctx, "lost", "1", 0).Err() }()
	pollUntil(t, "the write to wait for its ack", func() bool { return lsnOf(p) > 0 })
	// P becomes a replica of Q (its unreplicated write is discarded by the
	// full sync), Q moves past P's LSN, then the roles swap back.
	for i := range 10 {
		if err := qc.Set(ctx, fmt.Sprint("q", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	replicaOf(t, pc, q)
	pollUntil(t, "P to sync from Q", func() bool { st, off := roleOf(t, pc); return st == "connected" && off >= 10 })
	if err := pc.Do(ctx, "replicaof", "no", "one").Err(); err != nil {
		t.Fatal(err)
	}
	replicaOf(t, qc, p)
	for i := range 10 {
		if err := pc.Set(ctx, fmt.Sprint("p", i), i, 0).Err(); err != nil {
			t.Fatalf("write in the new history: %v", err)
		}
	}
	select {
	case err := <-reply:
		if err == nil || !strings.HasPrefix(err.Error(), "NOREPL") {
			t.Fatalf("a write whose history was discarded answered %v; want NOREPL", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the waiting write did not end with its history")
	}
	if v, err := pc.Get(ctx, "lost").Result(); err != redis.Nil {
		t.Fatalf("the discarded write reads %q, %v", v, err)
	}
}
