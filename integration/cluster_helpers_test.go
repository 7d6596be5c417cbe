package integration

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/proc"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// Timing of the test clusters: the coordinators' defaults made explicit, so
// the tests' bounds below can be read against them.
const (
	clusterLease     = time.Second
	clusterDownAfter = time.Second
	clusterProbe     = 100 * time.Millisecond
	// clusterSecret is the --cluster-secret of every test cluster.
	clusterSecret = "cluster-test-secret"
	// clusterStartLimit bounds one process start (its first stdout line).
	clusterStartLimit = 20 * time.Second
)

// startBaton starts `baton SUB args...` and returns once it printed
// `baton SUB listening on ADDR`; the process is killed when the test ends.
// The returned nodeProc works with the helpers of repl_helpers_test.go
// (digest, assertSameDigest, client...) whatever the subcommand.
func startBaton(t *testing.T, sub string, args []string) *nodeProc {
	t.Helper()
	return launch(t, nil, sub, args)
}

// launch starts `baton sub args…` with env added to the environment, keeps
// its output as the log, reads the address from its first stdout line
// ("baton SUB listening on ADDR"), and kills it when the test ends.
func launch(t testing.TB, env []string, sub string, args []string) *nodeProc {
	t.Helper()
	p := &nodeProc{log: &proc.Buffer{}}
	run, err := proc.Start(context.Background(), proc.Config{Name: "baton " + sub, Bin: batonBinary(t),
		Args: append([]string{sub}, args...), Env: env, Output: p.log,
		AddrPrefix: proc.Listening(sub), StartTimeout: clusterStartLimit})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Kill() })
	p.run, p.addr = run, run.Addr()
	return p
}

// freeAddrs returns n distinct loopback addresses nothing listens on: all
// are held open until the last is picked (freeAddr one at a time may hand
// out one port twice).
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	addrs, err := proc.FreeAddrs(n)
	if err != nil {
		t.Fatal(err)
	}
	return addrs
}

// member is one process of a test cluster with the flags it was started
// with, so it can be restarted with the same ones (same address and dir).
type member struct {
	id   string
	sub  string // "coordinator" or "node"
	args []string
	addr string // the RESP address (fixed in advance)
	proc *nodeProc
	// client talks to addr (AUTHed with the cluster secret for a
	// coordinator); it survives restarts.
	client *redis.Client
}

// alive reports whether the member's process has not exited.
func (m *member) alive() bool { return m.proc.run.Alive() }

// testCluster is 3 coordinators and 3 nodes of bin/baton on loopback.
type testCluster struct {
	t      *testing.T
	dir    string
	coords []*member // c1..c3
	nodes  []*member // n1..n3
}

// clusterOpts shapes a test cluster.
type clusterOpts struct {
	// syncReplicas is every node's --sync-replicas.
	syncReplicas int
	// coordinatorsOf, when set, returns the --coordinators addresses node i
	// (0-based) uses (toxiproxy proxies); default: the coordinators' own.
	coordinatorsOf func(i int, coordAPIs []string) []string
	// beforeNodes runs after the coordinators are up and before any node
	// starts (to create proxies to the coordinators).
	beforeNodes func(coordAPIs []string)
	// replicationAddr, when set, returns the --replication-addr of node i
	// (0-based) listening at addr: replicas dial it instead of addr (a
	// toxiproxy proxy puts faults on replication links only).
	replicationAddr func(i int, addr string) string
	// extraArgs, when set, returns more flags for the member with id
	// (c1..c3, n1..n3).
	extraArgs func(id string) []string
	// requirePass, when set, is every node's --requirepass (the
	// application password), which the members' clients AUTH with.
	requirePass string
}

// startCluster starts 3 coordinators, then n1 alone until it is the primary
// of epoch 1, then n2 and n3, and returns once both are connected replicas.
// Every node logs its lease windows to its own file under the cluster dir.
func startCluster(t *testing.T, o clusterOpts) *testCluster {
	t.Helper()
	c := &testCluster{t: t, dir: t.TempDir()}
	addrs := freeAddrs(t, 6)
	raft, apis := addrs[:3], addrs[3:]
	var peers []string
	for i := 0; i < 3; i++ {
		peers = append(peers, fmt.Sprintf("c%d=%s/%s", i+1, raft[i], apis[i]))
	}
	for i := 0; i < 3; i++ {
		id := fmt.Sprintf("c%d", i+1)
		m := &member{id: id, sub: "coordinator", addr: apis[i], args: []string{
			"--id", id, "--raft-addr", raft[i], "--addr", apis[i],
			"--dir", filepath.Join(c.dir, id), "--peers", strings.Join(peers, ","),
			"--cluster-secret", clusterSecret, "--lease", clusterLease.String(),
			"--down-after", clusterDownAfter.String(), "--probe-interval", clusterProbe.String(),
			"--log-level", "warn",
		}}
		if o.extraArgs != nil {
			m.args = append(m.args, o.extraArgs(id)...)
		}
		m.client = redis.NewClient(&redis.Options{Addr: apis[i], Password: clusterSecret, MaxRetries: -1,
			Protocol: 2, DisableIdentity: true, DialTimeout: time.Second, ReadTimeout: 2 * time.Second})
		t.Cleanup(func() { m.client.Close() })
		c.coords = append(c.coords, m)
		c.start(m)
	}
	if o.beforeNodes != nil {
		o.beforeNodes(apis)
	}
	nodeAddrs := freeAddrs(t, 3)
	for i := 0; i < 3; i++ {
		id := fmt.Sprintf("n%d", i+1)
		addr := nodeAddrs[i]
		coords := apis
		if o.coordinatorsOf != nil {
			coords = o.coordinatorsOf(i, apis)
		}
		m := &member{id: id, sub: "node", addr: addr, args: []string{
			"--addr", addr, "--dir", filepath.Join(c.dir, id), "--coordinators", strings.Join(coords, ","),
			"--node-id", id, "--cluster-secret", clusterSecret,
			"--sync-replicas", strconv.Itoa(o.syncReplicas),
			"--lease-log", filepath.Join(c.dir, id+".leases"), "--log-level", "warn",
		}}
		if o.replicationAddr != nil {
			m.args = append(m.args, "--replication-addr", o.replicationAddr(i, addr))
		}
		if o.requirePass != "" {
			m.args = append(m.args, "--requirepass", o.requirePass)
		}
		if o.extraArgs != nil {
			m.args = append(m.args, o.extraArgs(id)...)
		}
		m.client = redis.NewClient(&redis.Options{Addr: addr, Password: o.requirePass, MaxRetries: -1, Protocol: 2, DisableIdentity: true,
			DialTimeout: time.Second, ReadTimeout: 2 * time.Second, PoolSize: 2})
		t.Cleanup(func() { m.client.Close() })
		c.nodes = append(c.nodes, m)
	}
	// The first node to register is primary of epoch 1.
	c.start(c.nodes[0])
	waitFor(t, "n1 to be the primary", func() (bool, string) {
		topo, err := c.topology()
		return err == nil && topo.Primary == "n1", fmt.Sprintf("%+v, %v", topo, err)
	})
	c.start(c.nodes[1])
	c.start(c.nodes[2])
	c.waitReplica(c.nodes[1])
	c.waitReplica(c.nodes[2])
	return c
}

// start starts (or restarts) m with its flags.
func (c *testCluster) start(m *member) {
	c.t.Helper()
	m.proc = startBaton(c.t, m.sub, m.args)
	if m.proc.addr != m.addr {
		c.t.Fatalf("%s listens on %s, want %s", m.id, m.proc.addr, m.addr)
	}
}

// kill9 kills m with SIGKILL and waits for it to exit.
func (c *testCluster) kill9(m *member) {
	c.t.Helper()
	if !m.alive() {
		c.t.Fatalf("kill -9 %s: already exited", m.id)
	}
	if err := m.proc.run.Kill(); err != nil {
		c.t.Fatalf("kill -9 %s: %v", m.id, err)
	}
}

// signal sends sig to m.
func (c *testCluster) signal(m *member, sig syscall.Signal) {
	c.t.Helper()
	if err := m.proc.run.Signal(sig); err != nil {
		c.t.Fatalf("signal %v to %s: %v", sig, m.id, err)
	}
}

// stop stops m with SIGTERM and checks that it exits cleanly.
func (c *testCluster) stop(m *member) {
	c.t.Helper()
	c.signal(m, syscall.SIGTERM)
	if code := m.proc.waitExit(c.t, 15*time.Second); code != 0 {
		c.t.Fatalf("%s exit code %d after SIGTERM; log:\n%s", m.id, code, m.proc.log.String())
	}
}

// node returns the node member with id.
func (c *testCluster) node(id string) *member {
	c.t.Helper()
	for _, m := range c.nodes {
		if m.id == id {
			return m
		}
	}
	c.t.Fatalf("no node %q", id)
	return nil
}

// topology returns the newest topology any live coordinator has applied
// (BATON.TOPOLOGY LOCAL, the newest by coordapi's rule), so a lagging or dead member does
// not hide a failover.
func (c *testCluster) topology() (coordapi.Topology, error) {
	var best coordapi.Topology
	var lastErr error
	found := false
	for _, m := range c.coords {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, err := m.client.Do(ctx, coordapi.CmdTopology, "LOCAL").Text()
		cancel()
		if err != nil {
			lastErr = fmt.Errorf("%s: %w", m.id, err)
			continue
		}
		topo, err := coordapi.Decode(s)
		if err != nil {
			lastErr = fmt.Errorf("%s: BATON.TOPOLOGY %q: %w", m.id, s, err)
			continue
		}
		if !found || topo.NewerThan(best) {
			best, found = topo, true
		}
	}
	if !found {
		return best, fmt.Errorf("no coordinator answered BATON.TOPOLOGY LOCAL: %w", lastErr)
	}
	return best, nil
}

// primaryAddr returns the address of the primary the coordinators name.
func (c *testCluster) primaryAddr() (string, error) {
	topo, err := c.topology()
	if err != nil {
		return "", err
	}
	for _, m := range topo.Members {
		if m.ID == topo.Primary {
			return m.Addr, nil
		}
	}
	return "", fmt.Errorf("topology epoch %d names no live primary (%q)", topo.Epoch, topo.Primary)
}

// roleNow is ROLE of m without failing the test (a node may be down).
func roleNow(m *member) (role, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	v, err := m.client.Do(ctx, "role").Slice()
	if err != nil {
		return role{}, err
	}
	if len(v) < 2 {
		return role{}, fmt.Errorf("ROLE = %v", v)
	}
	r := role{kind: fmt.Sprint(v[0])}
	if r.kind == "slave" && len(v) == 5 {
		r.host, _ = v[1].(string)
		r.port, _ = v[2].(int64)
		r.state, _ = v[3].(string)
		r.offset, _ = v[4].(int64)
	}
	return r, nil
}

// writeProbe SETs a probe key on m and returns the reply's error.
func writeProbe(m *member, key string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return m.client.Set(ctx, key, "probe", 0).Err()
}

// clusterPrimary waits until one node other than any in not is primary by
// the coordinators, says ROLE master and acknowledges a write; it returns
// that node. (A primary with --sync-replicas acknowledges only once a
// replica does.)
func (c *testCluster) clusterPrimary(not ...string) *member {
	c.t.Helper()
	return c.waitPrimary(true, not...)
}

// waitPrimary is clusterPrimary; with write false it writes nothing (the
// dataset stays as it is) and only waits for ROLE master.
func (c *testCluster) waitPrimary(write bool, not ...string) *member {
	c.t.Helper()
	var found *member
	n := 0
	waitFor(c.t, fmt.Sprintf("a primary other than %v (write %v)", not, write), func() (bool, string) {
		topo, err := c.topology()
		if err != nil {
			return false, err.Error()
		}
		var m *member
		for _, x := range c.nodes {
			if x.id == topo.Primary {
				m = x
			}
		}
		for _, x := range not {
			if topo.Primary == x {
				m = nil
			}
		}
		if m == nil {
			return false, fmt.Sprintf("topology %+v", topo)
		}
		r, err := roleNow(m)
		if err != nil || r.kind != "master" {
			return false, fmt.Sprintf("topology %+v; %s ROLE %+v, %v", topo, m.id, r, err)
		}
		if write {
			n++
			if err := writeProbe(m, fmt.Sprintf("probe:%s:%d", m.id, n)); err != nil {
				return false, fmt.Sprintf("topology %+v; write on %s: %v", topo, m.id, err)
			}
		}
		found = m
		return true, ""
	})
	return found
}

// waitReplica waits until m is a replica whose link to the primary the
// coordinators name is up.
func (c *testCluster) waitReplica(m *member) {
	c.t.Helper()
	waitFor(c.t, m.id+" to be a connected replica of the primary", func() (bool, string) {
		topo, err := c.topology()
		if err != nil {
			return false, err.Error()
		}
		r, err := roleNow(m)
		if err != nil {
			return false, err.Error()
		}
		following := net.JoinHostPort(r.host, strconv.FormatInt(r.port, 10))
		ok := false
		for _, p := range topo.Members {
			if p.ID == topo.Primary && (following == p.Addr || following == p.ReplAddr) {
				ok = r.kind == "slave" && r.state == "connected"
			}
		}
		return ok, fmt.Sprintf("primary %s; %s ROLE %+v", topo.Primary, m.id, r)
	})
}

// checkAfterFailover ends a failover scenario: the old primary is back as a
// connected replica, every write the load saw acknowledged is on the new
// primary p, all nodes hold the same data, and no two nodes' lease windows
// overlapped.
func (c *testCluster) checkAfterFailover(l *clusterLoad, old, p *member) {
	c.t.Helper()
	c.waitReplica(old)
	acked, ambiguous := l.verify(p)
	c.t.Logf("%d acknowledged writes, %d ambiguous", acked, ambiguous)
	c.waitCaughtUpAll(p)
	assertSameDigest(c.t, c.nodeProcs(p)...)
	c.auditLeases(2)
}

// waitCaughtUpAll waits until every node but primary is a connected replica
// at primary's offset (no writes may be running).
func (c *testCluster) waitCaughtUpAll(primary *member) {
	c.t.Helper()
	var replicas []*nodeProc
	for _, m := range c.nodes {
		if m != primary {
			replicas = append(replicas, m.proc)
		}
	}
	waitCaughtUp(c.t, primary.proc, replicas...)
}

// nodeProcs returns the nodes' processes, primary first.
func (c *testCluster) nodeProcs(primary *member) []*nodeProc {
	out := []*nodeProc{primary.proc}
	for _, m := range c.nodes {
		if m != primary {
			out = append(out, m.proc)
		}
	}
	return out
}

// raftLeader returns the coordinator BATON.MEMBERS (asked of every live
// member) marks as the Raft leader, and the member lines of that reply;
// it waits until the live members agree on one.
func (c *testCluster) raftLeader() (*member, []string) {
	c.t.Helper()
	var leader *member
	var lines []string
	waitFor(c.t, "a Raft leader the coordinators agree on", func() (bool, string) {
		leader, lines = nil, nil
		var state []string
		for _, m := range c.coords {
			if !m.alive() {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			ls, err := m.client.Do(ctx, "BATON.MEMBERS").StringSlice()
			cancel()
			if err != nil {
				return false, fmt.Sprintf("%s: %v", m.id, err)
			}
			state = append(state, fmt.Sprintf("%s: %q", m.id, ls))
			var l *member
			for _, line := range ls {
				f := strings.Fields(line)
				if len(f) == 4 && f[3] == "leader" {
					for _, x := range c.coords {
						if x.id == f[0] {
							l = x
						}
					}
				}
			}
			if l == nil || (leader != nil && l != leader) {
				return false, strings.Join(state, "; ")
			}
			leader, lines = l, ls
		}
		return leader != nil && leader.alive(), strings.Join(state, "; ")
	})
	return leader, lines
}

// leaseWindow is one line of a lease log: node held the write lease of
// epoch in [from, until) (wall-clock µs).
type leaseWindow struct {
	node        string
	epoch       uint64
	from, until int64
}

// leaseWindows reads every node's lease log.
func (c *testCluster) leaseWindows() []leaseWindow {
	c.t.Helper()
	var out []leaseWindow
	for _, m := range c.nodes {
		b, err := os.ReadFile(filepath.Join(c.dir, m.id+".leases"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			c.t.Fatalf("lease log of %s: %v", m.id, err)
		}
		var mine []leaseWindow
		var ends []int64
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var w leaseWindow
			var end int64
			if _, err := fmt.Sscanf(line, "%s %d end %d", &w.node, &w.epoch, &end); err == nil {
				ends = append(ends, end)
				continue
			}
			if _, err := fmt.Sscanf(line, "%s %d %d %d", &w.node, &w.epoch, &w.from, &w.until); err != nil || w.until <= w.from {
				c.t.Fatalf("lease log of %s: bad line %q (%v)", m.id, line, err)
			}
			mine = append(mine, w)
		}
		out = append(out, cutLeaseWindows(mine, ends)...)
	}
	return out
}

// cutLeaseWindows applies a node's "end" records (a takeover froze it at
// that instant): every window that began before an end stops there.
func cutLeaseWindows(ws []leaseWindow, ends []int64) []leaseWindow {
	var out []leaseWindow
	for _, w := range ws {
		for _, end := range ends {
			if w.from < end && w.until > end {
				w.until = end
			}
		}
		if w.until > w.from {
			out = append(out, w)
		}
	}
	return out
}

// auditLeases fails the test if two windows of different nodes overlap —
// two nodes could then both have accepted writes at one instant — or if
// fewer than minNodes nodes ever held a lease (an audit of nothing). It
// returns the windows sorted by start.
func (c *testCluster) auditLeases(minNodes int) []leaseWindow {
	c.t.Helper()
	ws := c.leaseWindows()
	sort.Slice(ws, func(i, j int) bool { return ws[i].from < ws[j].from })
	// Sweeping by start: a window overlaps an earlier-starting window of
	// node X iff X's latest end so far lies after its start.
	latest := map[string]leaseWindow{}
	for _, w := range ws {
		for node, prev := range latest {
			if node != w.node && prev.until > w.from {
				c.t.Errorf("lease windows overlap: %s epoch %d [%d, %d) and %s epoch %d [%d, %d) (µs)",
					prev.node, prev.epoch, prev.from, prev.until, w.node, w.epoch, w.from, w.until)
			}
		}
		if prev, ok := latest[w.node]; !ok || w.until > prev.until {
			latest[w.node] = w
		}
	}
	if len(latest) < minNodes {
		c.t.Errorf("lease logs name %d nodes (%d windows), want at least %d", len(latest), len(ws), minNodes)
	}
	return ws
}

// ackedWrite is one SET the load sent: key and value, and when it was sent
// and answered (since the load started, monotonic).
type ackedWrite struct {
	key, val   string
	sent, done time.Duration
}

// clusterLoad is a write load that follows the primary: writers SET unique
// keys (writer and sequence in the key) and, on any error, look the
// primary up again. Every outcome is recorded: acknowledged (+OK),
// refused (TRYAGAIN/READONLY or connection refused: never applied) and ambiguous (anything else,
// e.g. no reply because the node died: may or may not be applied).
type clusterLoad struct {
	c     *testCluster
	start time.Time
	halt  atomic.Bool
	wg    sync.WaitGroup
	// addr is the primary's address as the writers last learned it.
	addr atomic.Pointer[string]

	mu        sync.Mutex
	acked     []ackedWrite
	refused   []ackedWrite
	ambiguous []ackedWrite
	lastErr   string
	once      sync.Once
}

// startClusterLoad starts writers goroutines; the load stops at the latest
// when the test ends.
func (c *testCluster) startClusterLoad(writers int) *clusterLoad {
	l := &clusterLoad{c: c, start: time.Now()}
	for w := 0; w < writers; w++ {
		l.wg.Add(1)
		go l.run(w)
	}
	c.t.Cleanup(l.shutdown)
	return l
}

// since is the load's clock.
func (l *clusterLoad) since() time.Duration { return time.Since(l.start) }

// run is one writer.
func (l *clusterLoad) run(w int) {
	defer l.wg.Done()
	clients := map[string]*redis.Client{}
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	for seq := 0; !l.halt.Load(); seq++ {
		ap := l.addr.Load()
		if ap == nil {
			a, err := l.c.primaryAddr()
			if err != nil {
				l.noteErr(err)
				time.Sleep(50 * time.Millisecond)
				continue
			}
			ap = &a
			l.addr.CompareAndSwap(nil, ap)
		}
		cl, ok := clients[*ap]
		if !ok {
			cl = redis.NewClient(&redis.Options{Addr: *ap, MaxRetries: -1, PoolSize: 1, Protocol: 2,
				DisableIdentity: true, DialTimeout: time.Second, ReadTimeout: 3 * time.Second, WriteTimeout: time.Second})
			clients[*ap] = cl
		}
		wr := ackedWrite{key: fmt.Sprintf("load:w%d:%d", w, seq), val: fmt.Sprintf("v%d-%d@%s", w, seq, *ap), sent: l.since()}
		err := cl.Set(context.Background(), wr.key, wr.val, 0).Err()
		wr.done = l.since()
		l.mu.Lock()
		switch {
		case err == nil:
			l.acked = append(l.acked, wr)
		case isRefusal(err):
			l.refused = append(l.refused, wr)
		default:
			l.ambiguous = append(l.ambiguous, wr)
		}
		l.mu.Unlock()
		if err != nil {
			l.noteErr(err)
			// Forget the primary: the next write asks the coordinators.
			l.addr.CompareAndSwap(ap, nil)
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// isRefusal reports whether err guarantees the write did not happen: a
// TRYAGAIN or READONLY reply, or a refused connection (nothing was sent).
func isRefusal(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || isRefusalReply(err)
}

// isRefusalReply reports whether err is a TRYAGAIN (no write lease) or
// READONLY (replica) reply.
func isRefusalReply(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	s := re.Error()
	return strings.HasPrefix(s, "TRYAGAIN") || strings.HasPrefix(s, "READONLY")
}

// noteErr keeps the last error for failure messages.
func (l *clusterLoad) noteErr(err error) {
	l.mu.Lock()
	l.lastErr = err.Error()
	l.mu.Unlock()
}

// shutdown stops the writers and waits for them.
func (l *clusterLoad) shutdown() {
	l.once.Do(func() {
		l.halt.Store(true)
		l.wg.Wait()
	})
}

// ackedCount is how many writes were acknowledged so far.
func (l *clusterLoad) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// waitAcked waits until n more writes than now were acknowledged.
func (l *clusterLoad) waitAcked(n int) {
	l.c.t.Helper()
	from := l.ackedCount()
	waitFor(l.c.t, fmt.Sprintf("%d acknowledged writes of the load", n), func() (bool, string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.acked)-from >= n, fmt.Sprintf("%d acknowledged, last error %q", len(l.acked)-from, l.lastErr)
	})
}

// longestGap is the longest time between two consecutive
// acknowledgements (on the load's clock) among those that overlap the
// interval [from, to]: the write unavailability a failure at from caused,
// when to is after writes were acknowledged again.
func (l *clusterLoad) longestGap(from, to time.Duration) time.Duration {
	l.mu.Lock()
	done := make([]time.Duration, 0, len(l.acked))
	for _, w := range l.acked {
		done = append(done, w.done)
	}
	l.mu.Unlock()
	sort.Slice(done, func(i, j int) bool { return done[i] < done[j] })
	longest := time.Duration(0)
	for i := 1; i < len(done); i++ {
		if done[i] > from && done[i-1] < to {
			longest = max(longest, done[i]-done[i-1])
		}
	}
	return longest
}

// verify stops the load and reads every key back from m: every
// acknowledged write must be there with its value, and no refused one may
// be. It returns the counts of acknowledged and ambiguous writes.
func (l *clusterLoad) verify(m *member) (acked, ambiguous int) {
	t := l.c.t
	t.Helper()
	l.shutdown()
	ctx := context.Background()
	read := func(ws []ackedWrite) []any {
		out := make([]any, 0, len(ws))
		for start := 0; start < len(ws); start += 1000 {
			keys := make([]string, 0, 1000)
			for _, w := range ws[start:min(len(ws), start+1000)] {
				keys = append(keys, w.key)
			}
			v, err := m.client.MGet(ctx, keys...).Result()
			if err != nil {
				t.Fatalf("MGET on %s: %v", m.id, err)
			}
			out = append(out, v...)
		}
		return out
	}
	missing := 0
	for i, v := range read(l.acked) {
		if s, ok := v.(string); !ok || s != l.acked[i].val {
			if missing < 10 {
				t.Errorf("acknowledged SET %s = %s (sent at %v) reads %v on %s", l.acked[i].key, l.acked[i].val, l.acked[i].sent, v, m.id)
			}
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged writes missing on %s", missing, len(l.acked), m.id)
	}
	appeared := 0
	for i, v := range read(l.refused) {
		if v != nil {
			if appeared < 10 {
				t.Errorf("refused SET %s (sent at %v) reads %v on %s", l.refused[i].key, l.refused[i].sent, v, m.id)
			}
			appeared++
		}
	}
	if appeared > 0 {
		t.Errorf("%d of %d refused writes present on %s", appeared, len(l.refused), m.id)
	}
	return len(l.acked), len(l.ambiguous)
}

// toxi is an embedded toxiproxy server driven through its client, as a
// toxiproxy deployment would be.
type toxi struct {
	client *toxiclient.Client
}

// startToxiproxy serves toxiproxy's API on a free loopback port until the
// test ends; then the API and every proxy are closed.
func startToxiproxy(t *testing.T) *toxi {
	t.Helper()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// Serving Routes on our own listener (rather than srv.Listen) makes the
	// API ready at once and lets Cleanup close it without a race.
	hs := &http.Server{Handler: srv.Routes(), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		hs.Serve(ln)
	}()
	t.Cleanup(func() {
		hs.Close()
		<-served
		srv.Collection.Clear()
	})
	return &toxi{client: toxiclient.NewClient(ln.Addr().String())}
}

// proxy creates a proxy named name from a free loopback port to upstream
// and returns it.
func (x *toxi) proxy(t *testing.T, name, upstream string) *toxiclient.Proxy {
	t.Helper()
	p, err := x.client.CreateProxy(name, "127.0.0.1:0", upstream)
	if err != nil {
		t.Fatalf("toxiproxy: create %s → %s: %v", name, upstream, err)
	}
	return p
}
