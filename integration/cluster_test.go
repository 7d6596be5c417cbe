package integration

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
)

// The cluster tests run real processes: 3 coordinators (Raft) and 3 nodes
// with --coordinators, on loopback, with the lease and failure detection
// of cluster_helpers_test.go (lease 1 s, down-after 1 s, probes 100 ms).
// Every node logs its lease windows; auditLeases checks that no two nodes
// ever held overlapping windows, which is what makes a split brain
// impossible (every accepted write lies inside one of its node's windows).

func Test_Cluster_KillPrimaryUnderLoad(t *testing.T) {
	c := startCluster(t, clusterOpts{syncReplicas: 1})
	old := c.clusterPrimary()
	l := c.startClusterLoad(4)
	l.waitAcked(200)

	killed := time.Now()
	c.kill9(old)
	p := c.clusterPrimary(old.id)
	if took := time.Since(killed); took > 10*time.Second {
		t.Fatalf("a new primary accepted writes %v after kill -9 of %s, want ≤ 10s", took, old.id)
	}
	l.waitAcked(200)

	// The old primary comes back with its address, dir and id and must
	// follow the new one.
	c.start(old)
	c.waitReplica(old)
	l.waitAcked(100)
	acked, ambiguous := l.verify(p)
	t.Logf("%d acknowledged writes, %d ambiguous", acked, ambiguous)
	c.waitCaughtUpAll(p)
	assertSameDigest(t, c.nodeProcs(p)...)
	c.auditLeases(2)
}

func Test_Cluster_IsolatedPrimaryStopsBeforeAnotherStarts(t *testing.T) {
	t.Run("LinkDown", testIsolatedByToxiproxy)
	t.Run("SIGSTOP", testIsolatedBySIGSTOP)
}

// isolationBound is how soon after its link to the coordinators is cut a
// primary must stop acknowledging writes: its last lease was granted at
// most lease/3 before the cut and ends lease after it was requested, so
// lease plus the coordinators' margin (lease/10 + 20 ms) and some
// scheduling slack is generous.
const isolationBound = 1200 * time.Millisecond

// testIsolatedByToxiproxy cuts the primary's links to all three
// coordinators (one toxiproxy proxy per node and coordinator) under load.
func testIsolatedByToxiproxy(t *testing.T) {
	tp := startToxiproxy(t)
	proxies := make([][]*toxiclient.Proxy, 3)
	c := startCluster(t, clusterOpts{
		syncReplicas: 1,
		beforeNodes: func(apis []string) {
			for i := range proxies {
				for j, api := range apis {
					proxies[i] = append(proxies[i], tp.proxy(t, fmt.Sprintf("n%d-c%d", i+1, j+1), api))
				}
			}
		},
		coordinatorsOf: func(i int, _ []string) []string {
			var out []string
			for _, p := range proxies[i] {
				out = append(out, p.Listen)
			}
			return out
		},
	})
	old := c.clusterPrimary()
	before, err := c.topology()
	if err != nil {
		t.Fatal(err)
	}
	l := c.startClusterLoad(4)
	l.waitAcked(200)

	oldIdx := int(old.id[1] - '1')
	cut := time.Now()
	for _, p := range proxies[oldIdx] {
		if err := p.Disable(); err != nil {
			t.Fatalf("disable proxy %s: %v", p.Name, err)
		}
	}
	probe := pollWrites(old, cut)
	// The old primary must refuse before any other node can be promoted:
	// look a little after the bound.
	time.Sleep(time.Until(cut.Add(isolationBound + 800*time.Millisecond)))
	if r := probe.result(); r.firstRefusal < 0 || r.lastOK > isolationBound {
		renewed := 0
		for _, w := range c.leaseWindows() {
			if w.node == old.id && w.from > cut.UnixMicro() {
				renewed++
			}
		}
		t.Fatalf("isolated primary %s still acknowledges writes %v after its three coordinator proxies were disabled "+
			"(want refusals within %v): %s; it logged %d lease windows granted after the cut, so its renewals still reach the leader",
			old.id, time.Since(cut).Round(time.Millisecond), isolationBound, r, renewed)
	}
	p := c.clusterPrimary(old.id)
	r := probe.stop()
	t.Logf("isolated %s: %s", old.id, r)
	if r.lastOK > isolationBound {
		t.Errorf("isolated primary %s acknowledged a write sent %v after the cut, want ≤ %v", old.id, r.lastOK, isolationBound)
	}
	if r.okAfterRefusal {
		t.Errorf("isolated primary %s acknowledged a write after it had refused one: %s", old.id, r)
	}
	l.waitAcked(200)
	assertHandover(t, c.auditLeases(2), old.id, before.Epoch, p.id)

	// Heal: the old primary learns the new epoch and follows.
	for _, px := range proxies[oldIdx] {
		if err := px.Enable(); err != nil {
			t.Fatalf("enable proxy %s: %v", px.Name, err)
		}
	}
	c.checkAfterFailover(l, old, p)
}

// testIsolatedBySIGSTOP freezes the primary until another node is primary:
// when it runs again, its lease has run out, so it must refuse.
func testIsolatedBySIGSTOP(t *testing.T) {
	c := startCluster(t, clusterOpts{syncReplicas: 1})
	old := c.clusterPrimary()
	before, err := c.topology()
	if err != nil {
		t.Fatal(err)
	}
	l := c.startClusterLoad(4)
	l.waitAcked(200)

	c.signal(old, syscall.SIGSTOP)
	t.Cleanup(func() { old.proc.run.Signal(syscall.SIGCONT) })
	p := c.clusterPrimary(old.id)
	c.signal(old, syscall.SIGCONT)
	err = writeProbe(old, "probe:after-sigcont")
	if err == nil || !isRefusalReply(err) {
		t.Errorf("first write on %s after SIGCONT: %v, want TRYAGAIN or READONLY", old.id, err)
	}
	c.waitReplica(old)
	l.waitAcked(200)
	acked, ambiguous := l.verify(p)
	t.Logf("%d acknowledged writes, %d ambiguous", acked, ambiguous)
	c.waitCaughtUpAll(p)
	assertSameDigest(t, c.nodeProcs(p)...)
	assertHandover(t, c.auditLeases(2), old.id, before.Epoch, p.id)
}

// assertHandover checks that every lease window old held in epochs up to
// oldEpoch ended before the first window of newID in a later epoch began.
func assertHandover(t *testing.T, ws []leaseWindow, old string, oldEpoch uint64, newID string) {
	t.Helper()
	var lastOld, firstNew *leaseWindow
	for i, w := range ws {
		if w.node == old && w.epoch <= oldEpoch && (lastOld == nil || w.until > lastOld.until) {
			lastOld = &ws[i]
		}
		if w.node == newID && w.epoch > oldEpoch && (firstNew == nil || w.from < firstNew.from) {
			firstNew = &ws[i]
		}
	}
	if lastOld == nil || firstNew == nil {
		t.Fatalf("lease logs lack windows of %s (epoch ≤ %d: %v) or %s (epoch > %d: %v)", old, oldEpoch, lastOld, newID, oldEpoch, firstNew)
	}
	if lastOld.until > firstNew.from {
		t.Errorf("old primary %s's last window (epoch %d) ends at %d µs, after new primary %s's first (epoch %d) begins at %d µs",
			old, lastOld.epoch, lastOld.until, newID, firstNew.epoch, firstNew.from)
	}
	t.Logf("handover %s → %s: %v between the windows", old, newID, time.Duration(firstNew.from-lastOld.until)*time.Microsecond)
}

// writePoll SETs keys on one node in a loop and records, relative to a
// start time, when the last acknowledged write was sent and when the first
// refusal came.
type writePoll struct {
	mu   sync.Mutex
	res  pollResult
	halt chan struct{}
	done chan struct{}
}

// pollResult is what a writePoll saw.
type pollResult struct {
	sent           int
	lastOK         time.Duration // send time of the last +OK; -1: none
	firstRefusal   time.Duration // reply time of the first TRYAGAIN/READONLY; -1: none
	okAfterRefusal bool
	lastErr        string
}

func (r pollResult) String() string {
	return fmt.Sprintf("%d writes, last +OK sent at %v, first refusal at %v, +OK after a refusal %v, last error %q",
		r.sent, r.lastOK, r.firstRefusal, r.okAfterRefusal, r.lastErr)
}

// pollWrites starts polling m with writes every 10 ms.
func pollWrites(m *member, start time.Time) *writePoll {
	w := &writePoll{res: pollResult{lastOK: -1, firstRefusal: -1}, halt: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for i := 0; ; i++ {
			select {
			case <-w.halt:
				return
			case <-time.After(10 * time.Millisecond):
			}
			sent := time.Since(start)
			err := writeProbe(m, "isolated:"+strconv.Itoa(i))
			got := time.Since(start)
			w.mu.Lock()
			w.res.sent++
			switch {
			case err == nil:
				w.res.lastOK = sent
				if w.res.firstRefusal >= 0 {
					w.res.okAfterRefusal = true
				}
			case isRefusalReply(err):
				if w.res.firstRefusal < 0 {
					w.res.firstRefusal = got
				}
			default:
				w.res.lastErr = err.Error()
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// result returns what the poll saw so far.
func (w *writePoll) result() pollResult {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.res
}

// stop ends the poll and returns what it saw.
func (w *writePoll) stop() pollResult {
	close(w.halt)
	<-w.done
	return w.result()
}

func Test_Cluster_RaftLeaderKilledMidFailover(t *testing.T) {
	c := startCluster(t, clusterOpts{syncReplicas: 1})
	old := c.clusterPrimary()
	leader, _ := c.raftLeader()
	l := c.startClusterLoad(4)
	l.waitAcked(200)

	killed := time.Now()
	c.kill9(old)
	time.Sleep(300 * time.Millisecond)
	c.kill9(leader)
	p := c.clusterPrimary(old.id)
	if took := time.Since(killed); took > 15*time.Second {
		t.Fatalf("a new primary accepted writes %v after kill -9 of %s and of Raft leader %s, want ≤ 15s", took, old.id, leader.id)
	}
	newLeader, _ := c.raftLeader()
	t.Logf("primary %s → %s, Raft leader %s → %s, writes accepted again after %v", old.id, p.id, leader.id, newLeader.id, time.Since(killed))
	l.waitAcked(200)

	// The killed coordinator rejoins with its state: it sees the group of
	// three, a leader, and the topology of the failover it missed.
	c.start(leader)
	want, err := c.topology()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, leader.id+" to rejoin the group and apply the current topology", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		ls, err := leader.client.Do(ctx, "BATON.MEMBERS").StringSlice()
		if err != nil {
			return false, err.Error()
		}
		leaders := 0
		for _, line := range ls {
			if strings.HasSuffix(line, " leader") {
				leaders++
			}
		}
		s, err := leader.client.Do(ctx, "BATON.TOPOLOGY", "LOCAL").Text()
		if err != nil {
			return false, err.Error()
		}
		wantEpoch := fmt.Sprintf(`"epoch":%d,`, want.Epoch)
		return len(ls) == 3 && leaders == 1 && strings.Contains(s, wantEpoch), fmt.Sprintf("members %q; topology %s, want epoch %d", ls, s, want.Epoch)
	})
	if _, lines := c.raftLeader(); len(lines) != 3 {
		t.Fatalf("BATON.MEMBERS = %q, want 3 members", lines)
	}

	c.start(old)
	c.checkAfterFailover(l, old, p)
}

func Test_Cluster_FullRestartKeepsTopology(t *testing.T) {
	c := startCluster(t, clusterOpts{syncReplicas: 1})
	p := c.clusterPrimary()
	writeValues(t, p.client, "data", 3000, 64)
	c.waitCaughtUpAll(p)
	before, err := c.topology()
	if err != nil {
		t.Fatal(err)
	}
	want := digest(t, p.addr)

	for _, m := range c.nodes {
		c.stop(m)
	}
	for _, m := range c.coords {
		c.stop(m)
	}
	for _, m := range c.coords {
		c.start(m)
	}
	for _, m := range c.nodes {
		c.start(m)
	}

	// No writes until the digests are compared: waitPrimary(false).
	p2 := c.waitPrimary(false)
	after, err := c.topology()
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case after.Epoch < before.Epoch:
		t.Fatalf("epoch went back across the restart: %d → %d", before.Epoch, after.Epoch)
	case after.Epoch == before.Epoch && after.Primary != before.Primary:
		t.Fatalf("epoch %d names primary %s after the restart, %s before", after.Epoch, after.Primary, before.Primary)
	}
	t.Logf("before: epoch %d primary %s; after: epoch %d primary %s", before.Epoch, before.Primary, after.Epoch, after.Primary)
	for _, m := range c.nodes {
		if m != p2 {
			c.waitReplica(m)
		}
	}
	c.waitCaughtUpAll(p2)
	for _, m := range c.nodes {
		if got := digest(t, m.addr); got != want {
			t.Errorf("DIGEST of %s after the restart = %s, before = %s", m.id, got, want)
		}
	}
	// And the cluster takes writes again.
	c.clusterPrimary()
	c.auditLeases(1)
}

// failoverKills is how many kill -9s Test_Cluster_SyncReplicasLoseNoAcknowledgedWrite
// makes: BATON_FAILOVER_KILLS, default 20.
func failoverKills(t *testing.T) int {
	s := os.Getenv("BATON_FAILOVER_KILLS")
	if s == "" {
		return 20
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("BATON_FAILOVER_KILLS=%q: want a positive integer", s)
	}
	return n
}

func Test_Cluster_SyncReplicasLoseNoAcknowledgedWrite(t *testing.T) {
	kills := failoverKills(t)
	c := startCluster(t, clusterOpts{syncReplicas: 1})
	p := c.clusterPrimary()
	l := c.startClusterLoad(8)
	l.waitAcked(200)
	began := time.Now()
	var gaps []time.Duration
	for k := 0; k < kills; k++ {
		at := l.since()
		c.kill9(p)
		np := c.clusterPrimary(p.id)
		l.waitAcked(50)
		gaps = append(gaps, l.longestGap(at, l.since()).Round(time.Millisecond))
		// Two replicas again before the next kill: the killed node is
		// back and connected.
		c.start(p)
		c.waitReplica(p)
		for _, m := range c.nodes {
			if m != np {
				c.waitReplica(m)
			}
		}
		p = np
	}
	took := time.Since(began)
	acked, ambiguous := l.verify(p)
	longest := time.Duration(0)
	for _, g := range gaps {
		longest = max(longest, g)
	}
	t.Logf("%d kills in %v: %d acknowledged writes, %d ambiguous, %d refused; longest write gap %v; gaps per kill %v",
		kills, took.Round(time.Millisecond), acked, ambiguous, len(l.refused), longest, gaps)
	c.waitCaughtUpAll(p)
	assertSameDigest(t, c.nodeProcs(p)...)
	// Candidates tie-break by id, so the role may alternate between two
	// nodes: two is all the audit can demand.
	c.auditLeases(2)
}
