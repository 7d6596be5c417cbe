package node

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/redis/go-redis/v9"
)

// unreachableCoordinator is an address where no coordinator listens: a
// node configured with it runs its coordination goroutines (they fail and
// retry) while tests set its lease and topology directly.
const unreachableCoordinator = "127.0.0.1:1"

// coordConfig is a coordinated node's config with an unreachable
// coordinator.
func coordConfig(id string) Config {
	return Config{Coordinators: []string{unreachableCoordinator}, NodeID: id}
}

// setLease gives n the primary role and a lease of epoch until until.
func setLease(t *testing.T, n *testNode, epoch uint64, until time.Time) {
	t.Helper()
	if err := n.raiseEpoch(epoch); err != nil {
		t.Fatal(err)
	}
	n.coord.Lease().Claim(epoch)
	// Timed from one hour before until: grant adds the duration to t0.
	if !n.coord.Lease().Grant(epoch, until.Add(-time.Hour), time.Hour) {
		t.Fatalf("grant refused")
	}
}

func Test_Coord_Fence(t *testing.T) {
	n := mustNewNode(t, coordConfig("n1"))
	c := mustClient(t, n)
	tryAgain := "ERR:TRYAGAIN no write lease (epoch 0): the primary role is being confirmed or moved; retry"
	expectReplies(t, c, []replyCase{
		rc(tryAgain, "set", "k", "v"),
		rc(tryAgain, "get", "k"),
		rc(tryAgain, "del", "k"),
		rc("PONG", "ping"),
	})
	if got := infoValue(t, c, "replication", "baton_coordinated"); got != "1" {
		t.Errorf("baton_coordinated = %q", got)
	}
	if got := infoValue(t, c, "replication", "baton_node_id"); got != "n1" {
		t.Errorf("baton_node_id = %q", got)
	}

	setLease(t, n, 1, time.Now().Add(time.Hour))
	expectReplies(t, c, []replyCase{
		rc("OK", "set", "k", "v"),
		rc("v", "get", "k"),
	})
	if got := infoValue(t, c, "replication", "baton_lease_epoch"); got != "1" {
		t.Errorf("baton_lease_epoch = %q", got)
	}
	if got := infoValue(t, c, "replication", "baton_lease_ms_left"); got == "0" || got == "" {
		t.Errorf("baton_lease_ms_left = %q with a lease", got)
	}

	// A newer epoch voids the lease (the node learned it elsewhere).
	if err := n.raiseEpoch(2); err != nil {
		t.Fatal(err)
	}
	expectReplies(t, c, []replyCase{
		rc(strings.Replace(tryAgain, "epoch 0", "epoch 2", 1), "set", "k", "w"),
	})

	// An expired lease refuses.
	setLease(t, n, 3, time.Now().Add(-time.Millisecond))
	expectReplies(t, c, []replyCase{
		rc(strings.Replace(tryAgain, "epoch 0", "epoch 3", 1), "set", "k", "w"),
		rc(strings.Replace(tryAgain, "epoch 0", "epoch 3", 1), "get", "k"),
	})
	if got := infoValue(t, c, "replication", "baton_lease_ms_left"); got != "0" {
		t.Errorf("baton_lease_ms_left = %q with an expired lease", got)
	}
}

func Test_Coord_FenceMulti(t *testing.T) {
	n := mustNewNode(t, coordConfig("n1"))
	ctx := context.Background()
	conn := mustConn(t, n, nil)
	do := func(args ...any) any {
		v, err := conn.Do(ctx, args...).Result()
		if err == redis.Nil {
			return nil
		}
		if err != nil {
			return "ERR:" + err.Error()
		}
		return v
	}
	check := func(want any, args ...any) {
		t.Helper()
		if got := do(args...); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%v = %#v, want %#v", args, got, want)
		}
	}

	// Without a lease a queued write flags the transaction.
	check("OK", "multi")
	check("ERR:TRYAGAIN no write lease (epoch 0): the primary role is being confirmed or moved; retry", "set", "k", "v")
	check("ERR:EXECABORT Transaction discarded because of previous errors.", "exec")

	// Queued under a lease that expires before EXEC: refused at EXEC.
	setLease(t, n, 1, time.Now().Add(time.Hour))
	check("OK", "multi")
	check("QUEUED", "set", "k", "v")
	check("QUEUED", "incr", "n")
	setLease(t, n, 1, time.Now().Add(-time.Millisecond))
	check("ERR:EXECABORT Transaction discarded because of: TRYAGAIN no write lease (epoch 1): the primary role is being confirmed or moved; retry", "exec")

	// A transaction of connection commands needs no lease.
	check("OK", "multi")
	check("QUEUED", "ping")
	check("[PONG]", "exec")

	// With a valid lease the transaction runs.
	setLease(t, n, 1, time.Now().Add(time.Hour))
	check(nil, "get", "k")
	check("OK", "multi")
	check("QUEUED", "set", "k", "v")
	check("[OK]", "exec")
	check("v", "get", "k")
}

// Test_Coord_ReplicaReadonly: a coordinated replica answers READONLY, not
// TRYAGAIN, and a standalone node has no fence.
func Test_Coord_ReplicaReadonly(t *testing.T) {
	prim := mustNewNode(t, Config{})
	n := mustNewNode(t, coordConfig("n1"))
	if _, err := n.replicaof(prim.addr); err != nil {
		t.Fatal(err)
	}
	expectReplies(t, mustClient(t, n), []replyCase{
		rc("ERR:"+errReadonly, "set", "k", "v"),
	})
	pc := mustClient(t, prim)
	expectReplies(t, pc, []replyCase{rc("OK", "set", "k", "v")})
	if got := infoValue(t, pc, "replication", "baton_coordinated"); got != "0" {
		t.Errorf("standalone baton_coordinated = %q", got)
	}
}

func Test_Coord_ConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"standalone", Config{}, true},
		{"coordinated", Config{Coordinators: []string{"127.0.0.1:6701"}, NodeID: "n1", AdvertiseAddr: "10.0.0.1:7001"}, true},
		{"no node id", Config{Coordinators: []string{"127.0.0.1:6701"}}, false},
		{"bad coordinator", Config{Coordinators: []string{"nohost"}, NodeID: "n1"}, false},
		{"bad advertise", Config{Coordinators: []string{"127.0.0.1:6701"}, NodeID: "n1", AdvertiseAddr: "x"}, false},
		{"node id alone", Config{NodeID: "n1"}, false},
	}
	for _, tc := range cases {
		err := tc.cfg.withDefaults().Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// Test_Coord_Reconcile drives reconcile with topologies (no coordinator):
// a coordinated node named primary takes the lease role; named replica, it
// drops the lease and replicates from the primary; an older topology
// changes nothing.
func Test_Coord_Reconcile(t *testing.T) {
	prim := mustNewNode(t, Config{})
	n := mustNewNode(t, coordConfig("n1"))
	doc := coordapi.Topology{Epoch: 2, Primary: "n1", Members: []coordapi.Node{{ID: "n1", Addr: n.addr}, {ID: "n2", Addr: prim.addr}}}

	n.coord.Reconcile(doc)
	if n.Epoch() != 2 {
		t.Fatalf("epoch = %d, want 2", n.Epoch())
	}
	if want := n.coord.Lease().Renewing(); want != 2 {
		t.Fatalf("lease role for epoch %d, want 2", want)
	}
	if !n.coord.Lease().Grant(2, time.Now(), time.Hour) {
		t.Fatalf("a grant for the claimed epoch was refused")
	}

	// Epoch 3 makes n2 primary: n1 drops its lease at once and follows it.
	if err := prim.raiseEpoch(3); err != nil {
		t.Fatal(err)
	}
	doc.Epoch, doc.Primary = 3, "n2"
	n.coord.Reconcile(doc)
	if left, e := n.coord.Lease().Left(time.Now()); e != 0 {
		t.Fatalf("lease kept after losing the primary role: epoch %d, %v left", e, left)
	}
	if want := n.coord.Lease().Renewing(); want != 0 {
		t.Fatalf("still renewing for epoch %d", want)
	}
	if v := n.view(); !v.Replica || v.Primary != prim.addr || v.Epoch != 3 {
		t.Fatalf("view after demotion = %+v, want replica of %s at epoch 3", v, prim.addr)
	}

	// An older topology naming n1 primary again is ignored.
	doc.Epoch, doc.Primary = 2, "n1"
	n.coord.Reconcile(doc)
	if v := n.view(); !v.Replica || v.Epoch != 3 {
		t.Fatalf("an older topology changed the node: %+v", v)
	}

	// Epoch 4 names n1 primary again: it promotes and takes the role.
	doc.Epoch = 4
	n.coord.Reconcile(doc)
	if v := n.view(); v.Replica || v.Epoch != 4 {
		t.Fatalf("view after promotion = %+v, want primary at epoch 4", v)
	}
	if want := n.coord.Lease().Renewing(); want != 4 {
		t.Fatalf("lease role for epoch %d, want 4", want)
	}
}

// Test_Coord_FenceReads: a coordinated primary serves reads only under a
// valid lease (issue 16, finding 4): without one a data read gets the
// write's -TRYAGAIN, inside MULTI too; a coordinated replica still serves
// reads, and admin commands (DIGEST) and connection commands need no lease.
func Test_Coord_FenceReads(t *testing.T) {
	n := mustNewNode(t, coordConfig("n1"))
	c := mustClient(t, n)
	tryAgain := func(epoch int) string {
		return fmt.Sprintf("ERR:TRYAGAIN no write lease (epoch %d): the primary role is being confirmed or moved; retry", epoch)
	}
	setLease(t, n, 1, time.Now().Add(time.Hour))
	expectReplies(t, c, []replyCase{
		rc("OK", "set", "k", "v"),
		rc("v", "get", "k"),
	})

	// The lease lapses (a primary cut off from the coordinators).
	setLease(t, n, 1, time.Now().Add(-time.Millisecond))
	expectReplies(t, c, []replyCase{
		rc(tryAgain(1), "get", "k"),
		rc(tryAgain(1), "exists", "k"),
		rc(tryAgain(1), "dbsize"),
		rc(tryAgain(1), "scan", "0"),
		rc(tryAgain(1), "hget", "h", "f"),
		rc("PONG", "ping"),
	})
	if got := doReply(t, c, "digest"); strings.HasPrefix(fmt.Sprint(got), "ERR:") {
		t.Errorf("DIGEST without a lease = %v", got)
	}

	// A transaction of reads: the queued read is refused and flags it.
	conn := mustConn(t, n, nil)
	ctx := context.Background()
	check := func(want any, args ...any) {
		t.Helper()
		v, err := conn.Do(ctx, args...).Result()
		got := any(v)
		if err == redis.Nil {
			got = nil
		} else if err != nil {
			got = "ERR:" + err.Error()
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%v = %#v, want %#v", args, got, want)
		}
	}
	check("OK", "multi")
	check(tryAgain(1), "get", "k")
	check("ERR:EXECABORT Transaction discarded because of previous errors.", "exec")
	// Queued under the lease, the lease lapses before EXEC: refused at EXEC.
	setLease(t, n, 1, time.Now().Add(time.Hour))
	check("OK", "multi")
	check("QUEUED", "get", "k")
	setLease(t, n, 1, time.Now().Add(-time.Millisecond))
	check("ERR:EXECABORT Transaction discarded because of: TRYAGAIN no write lease (epoch 1): the primary role is being confirmed or moved; retry", "exec")
	setLease(t, n, 1, time.Now().Add(time.Hour))
	check("OK", "multi")
	check("QUEUED", "get", "k")
	check("[v]", "exec")

	// A coordinated replica serves reads by its own rules, lease or not.
	prim := mustNewNode(t, Config{})
	expectReplies(t, mustClient(t, prim), []replyCase{rc("OK", "set", "r", "1")})
	rep := mustNewNode(t, coordConfig("n2"))
	if _, err := rep.replicaof(prim.addr); err != nil {
		t.Fatal(err)
	}
	rc2 := mustClient(t, rep)
	deadline := time.Now().Add(5 * time.Second)
	for doReply(t, rc2, "get", "r") != "1" {
		if time.Now().After(deadline) {
			t.Fatalf("replica GET r = %v", doReply(t, rc2, "get", "r"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Test_Coord_FencePipelineSticky: once a command of a pipeline is refused
// for want of a lease, every later data command of that pipeline is
// refused the same way, even if the lease is renewed meanwhile (issue 16,
// finding 6): the proxy replays the refused ones in order, so no later
// write may have run before an earlier refused one. The WAITs release the
// keyspace lock so that the lease can lapse and come back mid-pipeline.
func Test_Coord_FencePipelineSticky(t *testing.T) {
	n := mustNewNode(t, coordConfig("n1"))
	c := mustClient(t, n)
	setLease(t, n, 1, time.Now().Add(time.Hour))
	ctx := context.Background()
	lease := n.coord.Lease()
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		time.Sleep(150 * time.Millisecond) // in the first WAIT: the lease lapses
		lease.Grant(1, time.Now().Add(-time.Hour-time.Millisecond), time.Hour)
		time.Sleep(300 * time.Millisecond) // in the second WAIT: renewed
		lease.Grant(1, time.Now(), time.Hour)
	}()
	var cmds []*redis.Cmd
	c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, args := range [][]any{
			{"set", "a", "1"}, {"wait", 1, 300}, {"set", "b", "2"}, {"wait", 1, 300},
			{"set", "c", "3"}, {"get", "a"}, {"ping"},
		} {
			cmds = append(cmds, p.Do(ctx, args...))
		}
		return nil
	})
	var got []string
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			got = append(got, "ERR:"+err.Error())
		} else {
			got = append(got, fmt.Sprint(cmd.Val()))
		}
	}
	if len(got) != 7 || got[0] != "OK" || !strings.HasPrefix(got[2], "ERR:TRYAGAIN") {
		t.Fatalf("replies %q: want SET a OK and SET b refused", got)
	}
	for i := 4; i < 6; i++ {
		if got[i] != got[2] {
			t.Errorf("reply %d = %q after an earlier refusal %q in the pipeline; replies %q", i, got[i], got[2], got)
		}
	}
	if got[6] != "PONG" {
		t.Errorf("PING = %q", got[6])
	}
	// The next pipeline is judged afresh: the lease is back.
	<-renewed
	expectReplies(t, c, []replyCase{rc(nil, "get", "c"), rc("OK", "set", "c", "3")})
}
