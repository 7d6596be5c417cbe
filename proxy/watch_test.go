package proxy

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/consensus"
	"github.com/batonkv/baton/consensus/coordtest"
	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/node"
	"github.com/batonkv/baton/node/nodetest"
)

const coordSecret = "s3cret"

// until sends args to the leader until done holds for the committed
// topology (bounded): a leader change under load can fail one attempt
// (NOLEADER, REDIRECT) or fail it after its commit.
func until(t *testing.T, g *coordtest.Group, done func(coordapi.Topology) bool, args ...any) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(15 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		lc := g.LeaderClient(t)
		if js, err := lc.Do(ctx, coordapi.CmdTopology).Text(); err == nil {
			if top, err := coordapi.Decode(js); err == nil && done(top) {
				return
			}
		}
		if lastErr = lc.Do(ctx, args...).Err(); lastErr != nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Fatalf("%v never took effect (last error: %v)", args, lastErr)
}

// waitCandidates polls until the proxy's replica candidates (besides
// primary) are want (bounded).
func waitCandidates(t *testing.T, p *Proxy, primary string, want []string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Equal(p.replicaCandidates(primary), want) {
		if time.Now().After(deadline) {
			t.Fatalf("replica candidates = %v, want %v", p.replicaCandidates(primary), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Test_Proxy_Watch_FollowsCoordinatorGroup runs the proxy with the fallback
// poll turned off, so everything it learns of a real coordinator group
// comes through BATON.WATCH: the first registration (epoch 1), a second
// one (same epoch, a new member), and a failover (epoch 2) committed after
// every watch connection was cut (through relays) and had to be reopened.
func Test_Proxy_Watch_FollowsCoordinatorGroup(t *testing.T) {
	a, b := nodetest.StartAddr(t, node.Config{}), nodetest.StartAddr(t, node.Config{})
	// B replicates A (and holds A's history), so B may be failed over to.
	replicate(t, b, a)
	// The group never fails over on its own (DownAfter of an hour: the
	// nodes in this test renew no lease).
	g := coordtest.Start(t, 3, func(c *consensus.Config) { c.Secret, c.DownAfter = coordSecret, time.Hour })
	var relays []*relay
	var coords []string
	for _, addr := range g.Addrs {
		r := newRelay(t, addr)
		relays = append(relays, r)
		coords = append(coords, r.addr())
	}
	p, _ := mustNewProxy(t, Config{Coordinators: coords, ClusterSecret: coordSecret, noPoll: true})
	isPrimary := func(id string) func(coordapi.Topology) bool {
		return func(top coordapi.Topology) bool { return top.Primary == id }
	}

	// The first registration makes A primary of epoch 1.
	until(t, g, isPrimary("a"), "baton.register", "a", a)
	waitPrimary(t, p, a)
	// The second one does not move the epoch; the proxy still learns of
	// the new member (a replica it may read from).
	until(t, g, func(top coordapi.Topology) bool { return len(top.Members) == 2 }, "baton.register", "b", b)
	waitCandidates(t, p, a, []string{b})

	// Cut every watch stream, then fail over: the streams are reopened and
	// deliver epoch 2.
	before := 0
	for _, r := range relays {
		before += r.connections()
		r.cut()
	}
	until(t, g, isPrimary("b"), "baton.failover", "b")
	waitPrimary(t, p, b)
	after := 0
	for _, r := range relays {
		after += r.connections()
	}
	if after <= before {
		t.Fatalf("no watch connection was reopened after the cut (%d connections before, %d after)", before, after)
	}
	waitCandidates(t, p, b, []string{a})
}

// replicate makes the node at replica a replica of the node at primary,
// writes a key on the primary, and waits until the replica has it.
func replicate(t *testing.T, replica, primary string) {
	t.Helper()
	ctx := context.Background()
	rc, pc := newClient(t, replica, ""), newClient(t, primary, "")
	host, port, _ := net.SplitHostPort(primary)
	if err := rc.Do(ctx, "replicaof", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	if err := pc.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, _ := rc.Get(ctx, "k").Result()
		info, _ := rc.Info(ctx, "replication").Result()
		if v == "v" && strings.Contains(info, "master_link_status:up") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica never synced: k=%q\n%s", v, info)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
