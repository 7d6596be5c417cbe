package consensus

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/testutil"
	"github.com/hashicorp/raft"
)

// testCluster is an in-process coordinator group.
type testCluster struct {
	t       testing.TB
	log     *slog.Logger
	peers   []Peer
	dirs    map[string]string
	members map[string]*Raft // nil when closed
	tweak   func(*RaftConfig)
}

func mustNewCluster(t testing.TB, n int, tweak func(*RaftConfig)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, log: testutil.Logger(t), dirs: map[string]string{}, members: map[string]*Raft{}, tweak: tweak}
	base := t.TempDir()
	for i := range n {
		id := "c" + string(rune('1'+i))
		c.peers = append(c.peers, Peer{ID: id, RaftAddr: testutil.FreeAddr(t), APIAddr: "api-" + id})
		c.dirs[id] = filepath.Join(base, id)
	}
	t.Cleanup(c.closeAll)
	for _, p := range c.peers {
		c.open(p, c.peers)
	}
	return c
}

func (c *testCluster) config(p Peer, bootstrap []Peer) RaftConfig {
	cfg := RaftConfig{
		ID: p.ID, RaftAddr: p.RaftAddr, APIAddr: p.APIAddr, Dir: c.dirs[p.ID], Peers: bootstrap,
		Logger:           c.log.With("member", p.ID),
		HeartbeatTimeout: 150 * time.Millisecond, ElectionTimeout: 150 * time.Millisecond,
		LeaderLeaseTimeout: 100 * time.Millisecond, CommitTimeout: 5 * time.Millisecond,
	}
	if c.tweak != nil {
		c.tweak(&cfg)
	}
	return cfg
}

func (c *testCluster) open(p Peer, bootstrap []Peer) *Raft {
	c.t.Helper()
	r, err := OpenRaft(c.config(p, bootstrap))
	if err != nil {
		c.t.Fatalf("open %s: %v", p.ID, err)
	}
	c.members[p.ID] = r
	return r
}

func (c *testCluster) close(id string) {
	c.t.Helper()
	if r := c.members[id]; r != nil {
		if err := r.Close(); err != nil {
			c.t.Errorf("close %s: %v", id, err)
		}
		c.members[id] = nil
	}
}

func (c *testCluster) closeAll() {
	for id := range c.members {
		c.close(id)
	}
}

// waitFor polls cond until it holds or the bound passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// leader waits until exactly one open member leads and the others agree.
func (c *testCluster) leader() *Raft {
	c.t.Helper()
	var l *Raft
	waitFor(c.t, "a leader", func() bool {
		l = nil
		for _, r := range c.members {
			if r != nil && r.IsLeader() {
				if l != nil {
					return false
				}
				l = r
			}
		}
		if l == nil {
			return false
		}
		for _, r := range c.members {
			if r == nil {
				continue
			}
			if id, _ := r.Leader(); id != l.cfg.ID {
				return false
			}
		}
		return true
	})
	return l
}

func (c *testCluster) follower() *Raft {
	for _, r := range c.members {
		if r != nil && !r.IsLeader() {
			return r
		}
	}
	c.t.Fatal("no follower")
	return nil
}

// waitAll waits until every open member has applied want.
func (c *testCluster) waitAll(want coordapi.Topology) {
	c.t.Helper()
	waitFor(c.t, "members to converge", func() bool {
		for _, r := range c.members {
			if r != nil && !reflect.DeepEqual(r.Local(), want) {
				return false
			}
		}
		return true
	})
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// seed registers n1, n2 and promotes n2, returning the final topology.
func seed(t testing.TB, l *Raft) coordapi.Topology {
	t.Helper()
	ctx := ctxT(t)
	for _, n := range []coordapi.Node{{ID: "n1", Addr: "h1:1"}, {ID: "n2", Addr: "h2:1"}} {
		if _, err := l.Apply(ctx, Command{Op: OpRegister, Node: &n}); err != nil {
			t.Fatalf("register %s: %v", n.ID, err)
		}
	}
	top, err := l.Apply(ctx, Command{Op: OpPromote, FromEpoch: 1, Primary: "n2", PromotedAt: &coordapi.Promotion{Replid: "r2", LSN: 10}})
	if err != nil {
		t.Fatalf("promote: %v", err)
	}
	if top.Epoch != 2 || top.Primary != "n2" {
		t.Fatalf("after promote: %+v", top)
	}
	return top
}

func coordinatorsOf(ps []Peer) []coordapi.Coordinator {
	var cs []coordapi.Coordinator
	for _, p := range ps {
		cs = append(cs, coordapi.Coordinator{ID: p.ID, RaftAddr: p.RaftAddr, APIAddr: p.APIAddr})
	}
	return cs
}

// waitCoordinators waits until the leader has recorded every bootstrap peer.
func (c *testCluster) waitCoordinators(l *Raft) coordapi.Topology {
	c.t.Helper()
	var top coordapi.Topology
	waitFor(c.t, "coordinators recorded", func() bool {
		top = l.Local()
		return len(top.Coordinators) == len(c.peers) && func() bool {
			for _, want := range coordinatorsOf(c.peers) {
				if got, ok := top.Coordinator(want.ID); !ok || got != want {
					return false
				}
			}
			return true
		}()
	})
	return top
}

func Test_MultiNode_ReplicateAndRedirect(t *testing.T) {
	c := mustNewCluster(t, 3, nil)
	l := c.leader()
	c.waitCoordinators(l)
	top := seed(t, l)
	c.waitAll(top)

	// A follower refuses, naming the leader.
	f := c.follower()
	_, err := f.Apply(ctxT(t), Command{Op: OpRegister, Node: &coordapi.Node{ID: "n3", Addr: "h3:1"}})
	var nle *NotLeaderError
	if !errors.As(err, &nle) || !errors.Is(err, ErrNotLeader) || nle.LeaderID != l.cfg.ID || nle.LeaderRaftAddr != l.cfg.RaftAddr {
		t.Fatalf("follower apply: %v (%+v)", err, nle)
	}
	if _, err := f.Read(ctxT(t)); !errors.As(err, &nle) {
		t.Fatalf("follower read: %v", err)
	}

	// A promote from the old epoch loses the compare-and-set.
	got, err := l.Apply(ctxT(t), Command{Op: OpPromote, FromEpoch: 1, Primary: "n1"})
	if !errors.Is(err, ErrStaleEpoch) || got.Epoch != 2 || got.Primary != "n2" {
		t.Fatalf("stale promote: %+v, %v", got, err)
	}
	read, err := l.Read(ctxT(t))
	if err != nil || !reflect.DeepEqual(read, top) {
		t.Fatalf("read %+v, %v; want %+v", read, err, top)
	}
}

func Test_MultiNode_LeaderLoss(t *testing.T) {
	c := mustNewCluster(t, 3, nil)
	l := c.leader()
	c.waitCoordinators(l)
	top := seed(t, l)
	c.waitAll(top)

	old := l.cfg.ID
	changes := c.follower().LeaderChanges()
	for len(changes) > 0 { // drain the election's signal
		<-changes
	}
	c.close(old)
	nl := c.leader()
	if nl.cfg.ID == old {
		t.Fatal("closed member still leads")
	}
	select {
	case <-changes:
	default:
		t.Fatal("LeaderChanges did not signal")
	}
	read, err := nl.Read(ctxT(t))
	if err != nil || !reflect.DeepEqual(read, top) {
		t.Fatalf("read on new leader: %+v, %v", read, err)
	}
	top, err = nl.Apply(ctxT(t), Command{Op: OpPromote, FromEpoch: 2, Primary: "n1"})
	if err != nil || top.Epoch != 3 {
		t.Fatalf("promote on new leader: %+v, %v", top, err)
	}
}

func Test_MultiNode_FullRestart(t *testing.T) {
	c := mustNewCluster(t, 3, nil)
	l := c.leader()
	c.waitCoordinators(l)
	top := seed(t, l)
	c.waitAll(top)
	c.closeAll()

	for _, p := range c.peers {
		c.open(p, nil) // no bootstrap: the state is in Dir
	}
	l = c.leader()
	read, err := l.Read(ctxT(t))
	if err != nil || !reflect.DeepEqual(read, top) {
		t.Fatalf("read after restart %+v, %v; want %+v", read, err, top)
	}
	c.waitAll(top)
}

func Test_MultiNode_SnapshotRestore(t *testing.T) {
	c := mustNewCluster(t, 3, func(cfg *RaftConfig) {
		cfg.SnapshotThreshold = 4
		cfg.SnapshotInterval = 50 * time.Millisecond
	})
	l := c.leader()
	c.waitCoordinators(l)
	ctx := ctxT(t)
	var top coordapi.Topology
	for i := range 10 {
		n := coordapi.Node{ID: "n1", Addr: "h1:" + string(rune('0'+i))}
		var err error
		if top, err = l.Apply(ctx, Command{Op: OpRegister, Node: &n}); err != nil {
			t.Fatal(err)
		}
	}
	c.waitAll(top)
	// Wait until every member's latest snapshot covers all it applied, so
	// a restart restores top from the snapshot alone.
	for _, p := range c.peers {
		r := c.members[p.ID]
		applied := r.raft.AppliedIndex()
		// The low threshold has taken snapshots already; take one more
		// for the entries since the last (fewer than the threshold).
		if err := r.raft.Snapshot().Error(); err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
			t.Fatalf("snapshot %s: %v", p.ID, err)
		}
		n, err := strconv.ParseUint(r.raft.Stats()["last_snapshot_index"], 10, 64)
		if err != nil || n < applied {
			t.Fatalf("%s: last snapshot index %d (%v), applied %d", p.ID, n, err, applied)
		}
	}
	c.closeAll()
	for _, p := range c.peers {
		r := c.open(p, nil)
		// The FSM is restored from the snapshot when Raft starts, before
		// any leader exists or any entry is replayed.
		if got := r.Local(); !reflect.DeepEqual(got, top) {
			t.Fatalf("%s restored %+v, want %+v", p.ID, got, top)
		}
	}
	l = c.leader()
	read, err := l.Read(ctxT(t))
	if err != nil || !reflect.DeepEqual(read, top) {
		t.Fatalf("read after restart %+v, %v; want %+v", read, err, top)
	}
}

func Test_MultiNode_AddRemoveVoter(t *testing.T) {
	c := mustNewCluster(t, 3, nil)
	l := c.leader()
	c.waitCoordinators(l)
	top := seed(t, l)

	p4 := Peer{ID: "c4", RaftAddr: testutil.FreeAddr(t), APIAddr: "api-c4"}
	c.dirs["c4"] = filepath.Join(t.TempDir(), "c4")
	r4 := c.open(p4, nil) // empty Peers: waits to be added
	if err := l.AddVoter(ctxT(t), p4); err != nil {
		t.Fatal(err)
	}
	servers, err := l.Servers()
	if err != nil || len(servers) != 4 {
		t.Fatalf("servers %+v, %v", servers, err)
	}
	waitFor(t, "c4 to catch up", func() bool {
		got := r4.Local()
		co, ok := got.Coordinator("c4")
		return got.Epoch == top.Epoch && got.Primary == top.Primary && ok && co.APIAddr == "api-c4"
	})

	if err := l.RemoveServer(ctxT(t), "c4"); err != nil {
		t.Fatal(err)
	}
	servers, err = l.Servers()
	if err != nil || len(servers) != 3 {
		t.Fatalf("servers after remove %+v, %v", servers, err)
	}
	read, err := l.Read(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := read.Coordinator("c4"); ok || len(read.Coordinators) != 3 {
		t.Fatalf("coordinators after remove: %+v", read.Coordinators)
	}
}

func Test_MultiNode_ChangedFires(t *testing.T) {
	c := mustNewCluster(t, 3, nil)
	l := c.leader()
	c.waitCoordinators(l)
	f := c.follower()
	ch := f.Changed()
	if _, err := l.Apply(ctxT(t), Command{Op: OpRegister, Node: &coordapi.Node{ID: "n1", Addr: "h1:1"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("follower's Changed did not fire")
	}
	waitFor(t, "follower to apply", func() bool { return f.Local().Primary == "n1" })
}

func Test_OpenRaft_Validate(t *testing.T) {
	if _, err := OpenRaft(RaftConfig{ID: "c1", RaftAddr: testutil.FreeAddr(t)}); err == nil {
		t.Fatal("OpenRaft without Dir succeeded")
	}
	if _, err := OpenRaft(RaftConfig{ID: "c1", RaftAddr: testutil.FreeAddr(t), Dir: t.TempDir(), Peers: []Peer{{ID: "c2", RaftAddr: "x"}}}); err == nil {
		t.Fatal("OpenRaft with peers not including itself succeeded")
	}
}

func Test_NotLeaderError(t *testing.T) {
	if got := (&NotLeaderError{}).Error(); got != "no leader" {
		t.Fatalf("Error() = %q", got)
	}
	if got := (&NotLeaderError{LeaderID: "c2"}).Error(); got != "not the leader (leader: c2)" {
		t.Fatalf("Error() = %q", got)
	}
}
