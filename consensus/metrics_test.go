package consensus

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/testutil"
)

func Test_Service_Metrics(t *testing.T) {
	g := startGroup(t, func(c *Config) {
		c.DownAfter, c.ProbeInterval = 300*time.Millisecond, 50*time.Millisecond
		c.HTTPAddr = "127.0.0.1:0"
	})
	li := g.leader(t)
	l := g.svcs[li]
	reg := l.Registry()
	// The state gauge follows Raft's leadership notifications, which may
	// trail IsLeader by a moment on a loaded machine.
	var state float64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if state = testutil.Value(t, reg, "baton_coordinator_raft_state", map[string]string{"state": "leader"}); state == 1 {
			break
		}
	}
	if state != 1 {
		t.Errorf("leader's raft_state{leader} = %v, want 1", state)
	}
	if got := testutil.Value(t, reg, "baton_coordinator_raft_term", nil); got < 1 {
		t.Errorf("raft_term = %v, want at least 1", got)
	}
	if got := testutil.Value(t, reg, "baton_coordinator_raft_leader_changes_total", nil); got < 1 {
		t.Errorf("leader changes = %v, want at least 1", got)
	}
	// n1 registers first (primary of epoch 1) and n2 after it; nothing
	// listens at their addresses, so every probe fails and the primary
	// is soon declared down, with no replica able to take over.
	ctx := context.Background()
	lc := g.client(t, li, testSecret)
	for _, n := range [][]string{{"n1", "127.0.0.1:1"}, {"n2", "127.0.0.1:2"}} {
		if err := lc.Do(ctx, "baton.register", n[0], n[1]).Err(); err != nil {
			t.Fatalf("register %s: %v", n[0], err)
		}
	}
	if got := testutil.Value(t, reg, "baton_coordinator_raft_apply_duration_seconds", map[string]string{"result": "committed"}); got < 2 {
		t.Errorf("committed applies = %v, want at least 2", got)
	}
	waitFor(t, "failed probes of n1 and a failover attempt without a candidate", func() bool {
		ms := testutil.Gather(t, reg)
		probes, _ := ms.Sample("baton_coordinator_probes_total", map[string]string{"node": "n1", "result": "error"})
		up, ok := ms.Sample("baton_coordinator_node_up", map[string]string{"node": "n1"})
		noCand, _ := ms.Sample("baton_coordinator_failovers_total", map[string]string{"outcome": "no_candidate"})
		return probes > 0 && ok && up == 0 && noCand > 0
	})
	if got := testutil.Value(t, reg, "baton_coordinator_epoch", nil); got != 1 {
		t.Errorf("epoch = %v, want 1 (no failover committed)", got)
	}
	testutil.Lint(t, reg)
	// A follower reports its state and serves the same page over HTTP.
	fi := (li + 1) % len(g.svcs)
	page := testutil.HTTPGet(t, "http://"+g.svcs[fi].HTTPAddr().String()+"/metrics", http.StatusOK)
	ms := testutil.ParseMetrics(t, page)
	if v, ok := ms.Sample("baton_coordinator_raft_state", map[string]string{"state": "follower"}); !ok || v != 1 {
		t.Errorf("follower's raft_state{follower} = %v (%v), want 1", v, ok)
	}
}
