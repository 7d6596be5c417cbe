package integration

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A replica that was stopped cleanly and comes back on its own data
// directory continues from its journal's LSN with a partial sync: the
// primary's backlog still covers what it missed.
func Test_Repl_PartialSyncAfterReplicaRestart(t *testing.T) {
	p := startNode(t, nil, "--dir", t.TempDir(), "--backlog-size", "8388608")
	rdir := t.TempDir()
	rargs := []string{"--dir", rdir, "--backlog-size", "8388608", "--replicaof", p.addr}
	r := startNode(t, nil, rargs...)
	pc := p.client(t)

	load := startReplLoad(t, p.addr)
	load.waitWrites(t, 3000)
	// Stopped mid-stream; the load ends right after, so what the replica
	// misses is a few milliseconds of load plus 300 small writes: far
	// less than the 8 MB backlog.
	stopNode(t, r)
	load.stop(t)
	writeValues(t, pc, "while-down", 300, 20)
	before := syncStatsOf(t, pc)

	r = restartNode(t, r, rargs...)
	waitCaughtUp(t, p, r)
	after := syncStatsOf(t, pc)
	if after.partialOK <= before.partialOK || after.full != before.full {
		t.Fatalf("primary's syncs before the restart %+v, after %+v: want one more partial sync and no full sync; replica log:\n%s",
			before, after, r.log.String())
	}
	assertSameDigest(t, p, r)
}

// A primary that restarts refills its backlog from its journal: a replica
// that was behind it when it went down continues with a partial sync.
func Test_Repl_PartialSyncAfterPrimaryRestart(t *testing.T) {
	pargs := []string{"--dir", t.TempDir(), "--backlog-size", "8388608"}
	p := startNode(t, nil, pargs...)
	rargs := []string{"--dir", t.TempDir(), "--replicaof", p.addr}
	r := startNode(t, nil, rargs...)
	pc := p.client(t)
	writeValues(t, pc, "before", 500, 20)
	waitCaughtUp(t, p, r)
	// The replica goes down, the primary takes more writes and restarts,
	// then the replica comes back 500 entries behind.
	stopNode(t, r)
	writeValues(t, pc, "behind", 500, 20)
	stopNode(t, p)
	p = restartNode(t, p, pargs...)
	r = restartNode(t, r, rargs...)
	pc = p.client(t)
	writeValues(t, pc, "after", 100, 20)
	waitCaughtUp(t, p, r)
	st := syncStatsOf(t, pc)
	if st.full != 0 || st.partialOK < 1 {
		t.Fatalf("restarted primary served %+v, want partial syncs only; replica log:\n%s", st, r.log.String())
	}
	assertSameDigest(t, p, r)
}

// A replica that missed more than the primary's backlog holds gets a full
// sync.
func Test_Repl_FullSyncAfterBacklogOverflow(t *testing.T) {
	p := startNode(t, nil, "--dir", t.TempDir(), "--backlog-size", "16384")
	rargs := []string{"--dir", t.TempDir(), "--replicaof", p.addr}
	r := startNode(t, nil, rargs...)
	pc := p.client(t)

	load := startReplLoad(t, p.addr)
	load.waitWrites(t, 2000)
	load.stop(t)
	waitCaughtUp(t, p, r)
	stopNode(t, r)
	// 5,000 SETs of 100 bytes: about 30 times the backlog.
	writeValues(t, pc, "overflow", 5000, 100)
	before := syncStatsOf(t, pc)

	r = restartNode(t, r, rargs...)
	waitCaughtUp(t, p, r)
	after := syncStatsOf(t, pc)
	if after.full <= before.full {
		t.Fatalf("primary's syncs before the restart %+v, after %+v: want a full sync; replica log:\n%s",
			before, after, r.log.String())
	}
	assertSameDigest(t, p, r)
}

// REPLICAOF v2 under load: a switch that cannot complete (nothing listens,
// authentication refused, the node itself) fails and leaves the replica
// streaming from its old primary; one that can (a chained replica)
// succeeds without losing anything.
func Test_Repl_ReplicaofSwitchUnderLoad(t *testing.T) {
	p := startNode(t, nil, "--dir", t.TempDir())
	r1 := startNode(t, nil, "--dir", t.TempDir(), "--replicaof", p.addr)
	r2 := startNode(t, nil, "--dir", t.TempDir(), "--replicaof", p.addr)
	r1c, r2c := r1.client(t), r2.client(t)
	load := startReplLoad(t, p.addr)
	load.waitWrites(t, 1000)
	waitFor(t, "R1 and R2 connected", func() (bool, string) {
		a, b := roleOf(t, r1c), roleOf(t, r2c)
		return a.state == "connected" && b.state == "connected", fmt.Sprintf("R1 %+v, R2 %+v", a, b)
	})

	// (a) Nothing listens at the target.
	closed := freeAddr(t)
	err := replicaOf(r1c, closed)
	assertFailedSwitch(t, err, "", closed)
	assertStillReplicating(t, r1c, p.addr)

	// (b) The target requires a password this node does not have.
	q := startNode(t, nil, "--requirepass", "secret")
	err = replicaOf(r1c, q.addr)
	assertFailedSwitch(t, err, "", q.addr)
	assertStillReplicating(t, r1c, p.addr)

	// (c) R2 follows R1 (a chain) while the load goes on.
	mustReplicaOf(t, r2c, r1.addr)
	waitFor(t, "R2 streaming from R1", func() (bool, string) {
		rr := roleOf(t, r2c)
		return fmt.Sprintf("%s:%d", rr.host, rr.port) == r1.addr && rr.state == "connected", fmt.Sprintf("%+v", rr)
	})
	assertStillReplicating(t, r2c, r1.addr)

	// (d) The node itself.
	err = replicaOf(r1c, r1.addr)
	assertFailedSwitch(t, err, "", r1.addr)
	assertStillReplicating(t, r1c, p.addr)

	load.stop(t)
	waitCaughtUp(t, p, r1)
	waitCaughtUp(t, r1, r2)
	assertSameDigest(t, p, r1, r2)
}

// assertFailedSwitch checks that REPLICAOF to target failed with the v2
// error, which also mentions want.
func assertFailedSwitch(t *testing.T, err error, want, target string) {
	t.Helper()
	prefix := "ERR REPLICAOF " + target + " failed, nothing changed"
	if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), want) {
		t.Fatalf("REPLICAOF %s = %v, want an error starting %q and mentioning %q", target, err, prefix, want)
	}
}

// assertStillReplicating checks that the replica c talks to follows
// primary, is streaming, and applies more of the load.
func assertStillReplicating(t *testing.T, c *redis.Client, primary string) {
	t.Helper()
	r := roleOf(t, c)
	if r.kind != "slave" || net.JoinHostPort(r.host, strconv.FormatInt(r.port, 10)) != primary || r.state != "connected" {
		t.Fatalf("ROLE of %s = %+v, want a connected replica of %s", c.Options().Addr, r, primary)
	}
	waitFor(t, c.Options().Addr+" applying more of the load", func() (bool, string) {
		now := roleOf(t, c)
		return now.offset > r.offset && now.state == "connected", fmt.Sprintf("ROLE was %+v, now %+v", r, now)
	})
}

// Promotions and repoints within one family of histories only ever need
// partial syncs: the promoted node remembers the history it continues
// (master_replid2), and the old primary rejoins as its replica.
func Test_Repl_ChainedPromoteAndRepointPartialOnly(t *testing.T) {
	p := startNode(t, nil, "--dir", t.TempDir())
	r1 := startNode(t, nil, "--dir", t.TempDir(), "--replicaof", p.addr)
	r2 := startNode(t, nil, "--dir", t.TempDir(), "--replicaof", p.addr)
	pc, r1c, r2c := p.client(t), r1.client(t), r2.client(t)
	load := startReplLoad(t, p.addr)
	load.waitWrites(t, 2000)
	load.stop(t)
	waitCaughtUp(t, p, r1, r2)
	oldReplid := infoField(t, pc, "replication", "master_replid")

	// Round 1: R1 takes over; R2 and the old primary follow it.
	mustPromote(t, r1c)
	if got := infoField(t, r1c, "replication", "master_replid2"); got != oldReplid {
		t.Fatalf("promoted R1's master_replid2 = %s, want the old history %s", got, oldReplid)
	}
	if got := infoField(t, r1c, "replication", "master_replid"); got == oldReplid {
		t.Fatalf("promoted R1 kept the old history id %s", got)
	}
	mustReplicaOf(t, r2c, r1.addr)
	mustReplicaOf(t, pc, r1.addr)
	writeValues(t, r1c, "round1", 500, 20)
	waitCaughtUp(t, r1, r2, p)
	assertSameDigest(t, r1, r2, p)
	if st := syncStatsOf(t, r1c); st.full != 0 || st.partialOK < 2 {
		t.Fatalf("R1 served %+v, want no full sync and at least 2 partial ones; R2 log:\n%s\nP log:\n%s", st, r2.log.String(), p.log.String())
	}

	// Round 2: R2 takes over from R1; R1 and P follow it.
	mustPromote(t, r2c)
	mustReplicaOf(t, r1c, r2.addr)
	mustReplicaOf(t, pc, r2.addr)
	writeValues(t, r2c, "round2", 500, 20)
	waitCaughtUp(t, r2, r1, p)
	assertSameDigest(t, r2, r1, p)
	if st := syncStatsOf(t, r2c); st.full != 0 || st.partialOK < 2 {
		t.Fatalf("R2 served %+v, want no full sync and at least 2 partial ones; R1 log:\n%s\nP log:\n%s", st, r1.log.String(), p.log.String())
	}
}

// WAIT replies how many replicas acknowledged the connection's last write,
// blocking until enough did or the timeout passed.
func Test_Repl_WaitSemantics(t *testing.T) {
	p := startNode(t, nil)
	r1 := startNode(t, nil, "--replicaof", p.addr)
	r2 := startNode(t, nil, "--replicaof", p.addr)
	waitCaughtUp(t, p, r1, r2)
	ctx := context.Background()
	// WAIT counts acks of this connection's last write: one connection.
	conn := p.client(t).Conn()
	defer conn.Close()
	if err := conn.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if n, err := conn.Do(ctx, "wait", 2, 5000).Int64(); err != nil || n != 2 {
		t.Fatalf("WAIT 2 5000 = %d, %v; want 2", n, err)
	}
	start := time.Now()
	n, err := conn.Do(ctx, "wait", 3, 300).Int64()
	waited := time.Since(start)
	if err != nil || n != 2 {
		t.Fatalf("WAIT 3 300 = %d, %v; want 2", n, err)
	}
	if waited < 250*time.Millisecond {
		t.Fatalf("WAIT 3 300 with 2 replicas returned after %v, before its timeout", waited)
	}
	// WAIT 0 0 must not block (timeout 0 would mean forever): the
	// client's read timeout bounds it.
	if n, err := conn.Do(ctx, "wait", 0, 0).Int64(); err != nil || n != 2 {
		t.Fatalf("WAIT 0 0 = %d, %v; want 2 at once", n, err)
	}
	if err := r1.client(t).Do(ctx, "wait", 1, 100).Err(); err == nil {
		t.Fatal("WAIT on a replica succeeded, want an error")
	}
}

// With --sync-replicas 1 a write's reply means a replica has it; without a
// replica the write stays applied but its client gets NOREPL, and other
// clients are served meanwhile.
func Test_Repl_SyncReplicas(t *testing.T) {
	p := startNode(t, nil, "--dir", t.TempDir(), "--sync-replicas", "1", "--sync-timeout", "500ms")
	rargs := []string{"--dir", t.TempDir(), "--replicaof", p.addr}
	r := startNode(t, nil, rargs...)
	waitCaughtUp(t, p, r)
	ctx := context.Background()
	pc, rc := p.client(t), r.client(t)
	assertSyncedWrites(t, pc, rc, "before")

	stopNode(t, r)
	setDone := make(chan error, 1)
	go func() { setDone <- pc.Set(ctx, "unreplicated", "v", 0).Err() }()
	// Another client reads while that write waits for an ack (after a
	// moment, so the SET is most likely already waiting).
	time.Sleep(50 * time.Millisecond)
	other := p.client(t)
	if _, err := other.Get(ctx, "before:0").Result(); err != nil {
		t.Fatalf("GET on the primary while a write waits for acks: %v", err)
	}
	select {
	case err := <-setDone:
		t.Fatalf("the SET (reply %v) completed before a GET sent after it: the GET was held up behind the waiting write", err)
	default:
	}
	var err error
	select {
	case err = <-setDone:
	case <-time.After(replWaitLimit):
		t.Fatal("SET without a replica never replied")
	}
	if err == nil || !strings.HasPrefix(err.Error(), "NOREPL ") {
		t.Fatalf("SET without a replica = %v, want a NOREPL error", err)
	}
	// No dirty read: the primary does not show the unreplicated value.
	if err := pc.Get(ctx, "unreplicated").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOREPL read") {
		t.Fatalf("GET of the NOREPL write on the primary = %v; want NOREPL read", err)
	}

	r = restartNode(t, r, rargs...)
	waitCaughtUp(t, p, r)
	rc = r.client(t)
	// The NOREPL write stayed applied: it reaches the replica, and the
	// primary shows it once it is replicated.
	if v, err := rc.Get(ctx, "unreplicated").Result(); err != nil || v != "v" {
		t.Fatalf("GET of the NOREPL write on the replica = %q, %v; want it applied", v, err)
	}
	if v, err := pc.Get(ctx, "unreplicated").Result(); err != nil || v != "v" {
		t.Fatalf("GET of the NOREPL write on the primary = %q, %v; want it once replicated", v, err)
	}
	assertSyncedWrites(t, pc, rc, "after")
	assertSameDigest(t, p, r)
}

// assertSyncedWrites SETs keys on the primary and checks each is on the
// replica as soon as its reply arrived.
func assertSyncedWrites(t *testing.T, pc, rc *redis.Client, prefix string) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		k, v := fmt.Sprintf("%s:%d", prefix, i), strconv.Itoa(i)
		if err := pc.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatalf("SET %s with a sync replica: %v", k, err)
		}
		if got, err := rc.Get(ctx, k).Result(); err != nil || got != v {
			t.Fatalf("GET %s on the replica right after SET's reply = %q, %v; want %q", k, got, err, v)
		}
	}
}

// A replica never follows a primary of an older epoch: not at REPLICAOF,
// not on an established stream once it learns a newer epoch; it resumes
// when the primary's epoch catches up.
func Test_Repl_StaleEpochRefused(t *testing.T) {
	ctx := context.Background()
	p := startNode(t, nil, "--dir", t.TempDir(), "--epoch", "1")
	r := startNode(t, nil, "--dir", t.TempDir(), "--epoch", "5")
	pc, rc := p.client(t), r.client(t)
	err := replicaOf(rc, p.addr)
	assertFailedSwitch(t, err, "stale epoch", p.addr)
	if got := roleOf(t, rc); got.kind != "master" {
		t.Fatalf("ROLE after a refused REPLICAOF = %+v, want master", got)
	}

	r2 := startNode(t, nil, "--dir", t.TempDir(), "--replicaof", p.addr)
	r2c := r2.client(t)
	load := startReplLoad(t, p.addr)
	load.waitWrites(t, 1000)
	waitFor(t, "R2 adopting the primary's epoch", func() (bool, string) {
		e, err := r2c.Do(ctx, "baton.epoch").Int64()
		return err == nil && e == 1, fmt.Sprintf("BATON.EPOCH = %d, %v", e, err)
	})

	if err := r2c.Do(ctx, "baton.epoch", 7).Err(); err != nil {
		t.Fatalf("BATON.EPOCH 7 on R2: %v", err)
	}
	waitFor(t, "R2 dropping the stale stream", func() (bool, string) {
		f := info(t, r2c, "replication")
		n, _ := strconv.Atoi(f["baton_epoch_refusals"])
		return n >= 1 && f["master_link_status"] == "down", fmt.Sprintf("refusals=%s link=%s", f["baton_epoch_refusals"], f["master_link_status"])
	})
	load.stop(t)
	if err := pc.Set(ctx, "after-refusal", "v", 0).Err(); err != nil {
		t.Fatalf("SET on P: %v", err)
	}
	// Heartbeats and the stream run every few ms; half a second is ample
	// for the write to arrive if the link had (wrongly) survived.
	time.Sleep(500 * time.Millisecond)
	if v, err := r2c.Get(ctx, "after-refusal").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET on R2 of a write P made after R2 refused its epoch = %q, %v; want nil", v, err)
	}

	if err := pc.Do(ctx, "baton.epoch", 9).Err(); err != nil {
		t.Fatalf("BATON.EPOCH 9 on P: %v", err)
	}
	waitCaughtUp(t, p, r2)
	assertSameDigest(t, p, r2)
	if e, err := r2c.Do(ctx, "baton.epoch").Int64(); err != nil || e != 9 {
		t.Fatalf("R2's epoch after resyncing = %d, %v; want 9", e, err)
	}
}

// A REPLICAOF to a server that speaks RESP but not Baton's replication (a
// real redis-server) fails at the handshake and changes nothing.
func Test_Repl_ReplicaofIncompatiblePrimaryChangesNothing(t *testing.T) {
	redisAddr := freeAddr(t)
	_, port, _ := net.SplitHostPort(redisAddr)
	rs := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := rs.Start(); err != nil {
		t.Fatalf("redis-server (installed by `make deps`): %v", err)
	}
	t.Cleanup(func() {
		rs.Process.Kill()
		rs.Wait()
	})
	rcl := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { rcl.Close() })
	waitFor(t, "redis-server up", func() (bool, string) {
		err := rcl.Ping(context.Background()).Err()
		return err == nil, fmt.Sprint(err)
	})

	p := startNode(t, nil)
	r := startNode(t, nil, "--replicaof", p.addr)
	rc := r.client(t)
	waitCaughtUp(t, p, r)
	load := startReplLoad(t, p.addr)
	load.waitWrites(t, 500)
	assertFailedSwitch(t, replicaOf(rc, redisAddr), "not a compatible Baton node", redisAddr)
	assertStillReplicating(t, rc, p.addr)
	load.stop(t)
	waitCaughtUp(t, p, r)
	assertSameDigest(t, p, r)
}
