package node

import (
	"context"
	"errors"
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

// fakeClock is a manually advanced clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func Test_Lease_RenewTimedFromSend(t *testing.T) {
	h := newLeaseHolder()
	h.claim(5)
	clk := &fakeClock{t: time.Now()}
	t0 := clk.t
	// The renewal takes 2 s to come back (a slow network): the lease
	// still ends at t0 + L, not at receipt + L.
	d, err := h.renew(5, clk.now, func() (time.Duration, error) {
		clk.t = clk.t.Add(2 * time.Second)
		return 3 * time.Second, nil
	})
	if err != nil || d != 3*time.Second {
		t.Fatalf("renew = %v, %v", d, err)
	}
	if g := h.cur.Load(); g == nil || !g.until.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("lease = %v, want until t0+3s", g)
	}
	if !h.valid(5, t0.Add(2999*time.Millisecond)) {
		t.Errorf("lease invalid just before t0+L")
	}
	if h.valid(5, t0.Add(3*time.Second)) {
		t.Errorf("lease valid at t0+L")
	}
	if h.valid(6, t0) {
		t.Errorf("lease of epoch 5 valid for epoch 6")
	}
	if _, iv, _ := h.wanted(); iv != time.Second {
		t.Errorf("renewal interval = %v, want lease/3 = 1s", iv)
	}
	if left, e := h.left(t0.Add(time.Second)); left != 2*time.Second || e != 5 {
		t.Errorf("left = %v, %d; want 2s, 5", left, e)
	}
	if left, e := h.left(t0.Add(time.Hour)); left != 0 || e != 5 {
		t.Errorf("left after expiry = %v, %d; want 0, 5", left, e)
	}
}

func Test_Lease_Errors(t *testing.T) {
	h := newLeaseHolder()
	h.claim(5)
	clk := &fakeClock{t: time.Now()}
	t0 := clk.t
	ok := func() (time.Duration, error) { return 3 * time.Second, nil }
	if _, err := h.renew(5, clk.now, ok); err != nil {
		t.Fatal(err)
	}
	// A timeout keeps the old lease: it expires on its own.
	clk.t = t0.Add(time.Second)
	timeout := errors.New("i/o timeout")
	if _, err := h.renew(5, clk.now, func() (time.Duration, error) { return 0, timeout }); !errors.Is(err, timeout) {
		t.Fatalf("renew error = %v", err)
	}
	if g := h.cur.Load(); g == nil || !g.until.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("a failed renewal changed the lease: %v", g)
	}
	// NOTPRIMARY drops it at once, and the interval goes back to the
	// first one.
	notPrimary := fmt.Errorf("%w: epoch 5 is not current", coordapi.ErrNotPrimary)
	if _, err := h.renew(5, clk.now, func() (time.Duration, error) { return 0, notPrimary }); !errors.Is(err, coordapi.ErrNotPrimary) {
		t.Fatalf("renew error = %v", err)
	}
	if h.valid(5, clk.t) || h.cur.Load() != nil {
		t.Fatalf("lease kept after NOTPRIMARY")
	}
	if _, iv, _ := h.wanted(); iv != leaseFirstInterval {
		t.Errorf("interval after NOTPRIMARY = %v", iv)
	}
}

func Test_Lease_RoleChanges(t *testing.T) {
	h := newLeaseHolder()
	now := time.Now()
	if h.grant(0, now, time.Hour) {
		t.Fatalf("a grant for epoch 0 (no role) was accepted")
	}
	if h.grant(5, now, time.Hour) {
		t.Fatalf("a grant without the primary role was accepted")
	}
	_, _, changed := h.wanted()
	h.claim(5)
	select {
	case <-changed:
	default:
		t.Fatalf("claim did not wake the renewer")
	}
	if !h.grant(5, now, time.Hour) || !h.valid(5, now) {
		t.Fatalf("grant for the claimed epoch refused")
	}
	// A new epoch voids the old lease; a late reply for the old epoch
	// cannot revive it.
	h.claim(6)
	if h.cur.Load() != nil {
		t.Fatalf("lease of epoch 5 kept after claiming 6")
	}
	if h.grant(5, now, time.Hour) {
		t.Fatalf("a late grant for epoch 5 was accepted")
	}
	h.grant(6, now, time.Hour)
	_, _, changed = h.wanted()
	h.release()
	select {
	case <-changed:
	default:
		t.Fatalf("release did not wake the renewer")
	}
	if h.cur.Load() != nil {
		t.Fatalf("lease kept after release")
	}
	if h.grant(6, now, time.Hour) {
		t.Fatalf("a renewal in flight at release revived the lease")
	}
}

// setLease gives n the primary role and a lease of epoch until until.
func setLease(t *testing.T, n *testNode, epoch uint64, until time.Time) {
	t.Helper()
	if err := n.SetEpoch(epoch); err != nil {
		t.Fatal(err)
	}
	n.coord.lease.claim(epoch)
	// Timed from one hour before until: grant adds the duration to t0.
	if !n.coord.lease.grant(epoch, until.Add(-time.Hour), time.Hour) {
		t.Fatalf("grant refused")
	}
}

func Test_Coord_Fence(t *testing.T) {
	n := mustNewNode(t, coordConfig("n1"))
	c := mustClient(t, n)
	tryAgain := "ERR:TRYAGAIN no write lease (epoch 0): the primary role is being confirmed or moved; retry"
	expectReplies(t, c, []replyCase{
		rc(tryAgain, "set", "k", "v"),
		rc(nil, "get", "k"),
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
	if err := n.SetEpoch(2); err != nil {
		t.Fatal(err)
	}
	expectReplies(t, c, []replyCase{
		rc(strings.Replace(tryAgain, "epoch 0", "epoch 2", 1), "set", "k", "w"),
	})

	// An expired lease refuses.
	setLease(t, n, 3, time.Now().Add(-time.Millisecond))
	expectReplies(t, c, []replyCase{
		rc(strings.Replace(tryAgain, "epoch 0", "epoch 3", 1), "set", "k", "w"),
		rc("v", "get", "k"),
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
	check(nil, "get", "k")

	// A read-only transaction needs no lease.
	check("OK", "multi")
	check("QUEUED", "get", "k")
	check("[<nil>]", "exec")

	// With a valid lease the transaction runs.
	setLease(t, n, 1, time.Now().Add(time.Hour))
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

func Test_Coord_Backoff(t *testing.T) {
	want := []time.Duration{100, 200, 400, 800, 1600, 2000, 2000}
	for i, w := range want {
		if got := backoff(i); got != w*time.Millisecond {
			t.Errorf("backoff(%d) = %v, want %v", i, got, w*time.Millisecond)
		}
	}
	if got := backoff(1000); got != coordBackoffMax {
		t.Errorf("backoff(1000) = %v", got)
	}
}
