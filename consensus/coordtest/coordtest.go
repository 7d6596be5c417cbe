// Package coordtest starts in-process coordinator groups (real Raft on
// loopback, real BoltDB files in t.TempDir()) for the tests of the
// packages that talk to coordinators, so they do not each clone the
// group start-up.
package coordtest

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/batonkv/baton/consensus"
	"github.com/batonkv/baton/internal/testutil"
	"github.com/redis/go-redis/v9"
)

// Secret is the cluster secret of a group unless a Config tweak sets one.
const Secret = "coordtest-secret"

// leaderLimit bounds the wait for a leader.
const leaderLimit = 10 * time.Second

// Group is n in-process coordinators and their API addresses.
type Group struct {
	Services []*consensus.Service
	Addrs    []string
	// Secret is the members' cluster secret.
	Secret string
}

// Start starts an n-member group (1 or 3) with fast elections, each
// member's Config passed to tweak (may be nil) first, and waits for a
// leader. The members are closed, their Serve awaited, when the test ends.
func Start(t testing.TB, n int, tweak func(*consensus.Config)) *Group {
	t.Helper()
	var lns []net.Listener
	var peers []consensus.Peer
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		peers = append(peers, consensus.Peer{ID: fmt.Sprintf("c%d", i+1), RaftAddr: testutil.FreeAddr(t), APIAddr: ln.Addr().String()})
	}
	g := &Group{}
	for i, peer := range peers {
		cfg := consensus.Config{
			ID: peer.ID, RaftAddr: peer.RaftAddr, APIAddr: peer.APIAddr, Dir: t.TempDir(), Peers: peers,
			Secret: Secret, HeartbeatTimeout: 200 * time.Millisecond, ElectionTimeout: 200 * time.Millisecond,
			Logger: testutil.Logger(t).With("coordinator", peer.ID),
		}
		if tweak != nil {
			tweak(&cfg)
		}
		s, err := consensus.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		g.Secret = cfg.Secret
		testutil.ServeOn(t, s, lns[i], true)
		g.Services = append(g.Services, s)
		g.Addrs = append(g.Addrs, peer.APIAddr)
	}
	g.Leader(t)
	return g
}

// Leader waits, bounded, for a leader and returns its index.
func (g *Group) Leader(t testing.TB) int {
	t.Helper()
	for deadline := time.Now().Add(leaderLimit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for i, s := range g.Services {
			if s.Raft().IsLeader() {
				return i
			}
		}
	}
	t.Fatalf("no coordinator leader elected within %v", leaderLimit)
	return -1
}

// LeaderClient waits for a leader and returns an authenticated client of
// it, closed when the test ends.
func (g *Group) LeaderClient(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: g.Addrs[g.Leader(t)], Password: g.Secret, MaxRetries: -1,
		Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}
