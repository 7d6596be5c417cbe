package proxy

import (
	"context"
	"fmt"
	"github.com/batonkv/baton/coordapi"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/consensus"
	"github.com/redis/go-redis/v9"
)

const coordSecret = "s3cret"

// coordGroup is three in-process coordinators (real Raft on loopback, real
// BoltDB files) and their API addresses.
type coordGroup struct {
	svcs  []*consensus.Service
	addrs []string
}

// freeAddr returns a loopback address nothing listens on (for Raft).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startCoordinators starts a 3-member group that never fails over on its
// own (DownAfter of an hour: the nodes in these tests renew no lease), and
// waits for a leader.
func startCoordinators(t *testing.T) *coordGroup {
	t.Helper()
	var lns []net.Listener
	var peers []consensus.Peer
	for i := 0; i < 3; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		peers = append(peers, consensus.Peer{ID: fmt.Sprintf("c%d", i+1), RaftAddr: freeAddr(t), APIAddr: ln.Addr().String()})
	}
	g := &coordGroup{}
	for i, peer := range peers {
		s, err := consensus.New(consensus.Config{
			ID: peer.ID, RaftAddr: peer.RaftAddr, APIAddr: peer.APIAddr, Dir: t.TempDir(), Peers: peers,
			Secret: coordSecret, DownAfter: time.Hour,
			HeartbeatTimeout: 200 * time.Millisecond, ElectionTimeout: 200 * time.Millisecond,
			Logger: testLogger(t).With("coordinator", peer.ID),
		})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Serve(lns[i])
		}()
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close %s: %v", peer.ID, err)
			}
			<-done
		})
		g.svcs = append(g.svcs, s)
		g.addrs = append(g.addrs, peer.APIAddr)
	}
	g.leaderClient(t)
	return g
}

// leaderClient waits for a leader and returns an authenticated client of it.
func (g *coordGroup) leaderClient(t *testing.T) *redis.Client {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for i, s := range g.svcs {
			if s.Raft().IsLeader() {
				c := redis.NewClient(&redis.Options{Addr: g.addrs[i], Password: coordSecret, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
				t.Cleanup(func() { c.Close() })
				return c
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no coordinator leader elected")
	return nil
}

// until sends args to the leader until done holds for the committed
// topology (bounded): a leader change under load can fail one attempt
// (NOLEADER, REDIRECT) or fail it after its commit.
func (g *coordGroup) until(t *testing.T, done func(coordapi.Topology) bool, args ...any) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(15 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		lc := g.leaderClient(t)
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
	a, b := mustNewNode(t), mustNewNode(t)
	// B replicates A (and holds A's history), so B may be failed over to.
	replicate(t, b, a)
	g := startCoordinators(t)
	var relays []*relay
	var coords []string
	for _, addr := range g.addrs {
		r := newRelay(t, addr)
		relays = append(relays, r)
		coords = append(coords, r.addr())
	}
	p, _ := mustNewProxy(t, Config{Coordinators: coords, ClusterSecret: coordSecret, noPoll: true})
	isPrimary := func(id string) func(coordapi.Topology) bool {
		return func(top coordapi.Topology) bool { return top.Primary == id }
	}

	// The first registration makes A primary of epoch 1.
	g.until(t, isPrimary("a"), "baton.register", "a", a)
	waitPrimary(t, p, a)
	// The second one does not move the epoch; the proxy still learns of
	// the new member (a replica it may read from).
	g.until(t, func(top coordapi.Topology) bool { return len(top.Members) == 2 }, "baton.register", "b", b)
	waitCandidates(t, p, a, []string{b})

	// Cut every watch stream, then fail over: the streams are reopened and
	// deliver epoch 2.
	before := 0
	for _, r := range relays {
		before += r.connections()
		r.cut()
	}
	g.until(t, isPrimary("b"), "baton.failover", "b")
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
