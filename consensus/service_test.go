package consensus

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/testutil"
	"github.com/redis/go-redis/v9"
)

// svcGroup is three in-process coordinators on loopback (real Raft, real
// BoltDB files), with a cluster secret.
type svcGroup struct {
	svcs  []*Service
	addrs []string // API addresses
}

const testSecret = "s3cret"

// svcListen returns a loopback listener on a free port.
func svcListen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// startGroup starts three coordinators and waits for a leader.
func startGroup(t *testing.T, mod func(*Config)) *svcGroup {
	t.Helper()
	var lns []net.Listener
	var peers []Peer
	for i := 0; i < 3; i++ {
		ln := svcListen(t)
		lns = append(lns, ln)
		peers = append(peers, Peer{ID: fmt.Sprintf("c%d", i+1), RaftAddr: testutil.FreeAddr(t), APIAddr: ln.Addr().String()})
	}
	g := &svcGroup{}
	for i, p := range peers {
		cfg := Config{
			ID: p.ID, RaftAddr: p.RaftAddr, APIAddr: p.APIAddr, Dir: t.TempDir(), Peers: peers,
			Secret: testSecret, HeartbeatTimeout: 200 * time.Millisecond, ElectionTimeout: 200 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(testutil.LogWriter(t), &slog.HandlerOptions{Level: slog.LevelWarn})),
		}
		if mod != nil {
			mod(&cfg)
		}
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		testutil.ServeOn(t, s, lns[i], true)
		g.svcs = append(g.svcs, s)
		g.addrs = append(g.addrs, p.APIAddr)
	}
	g.leader(t)
	return g
}

// leader waits for a leader and returns its index.
func (g *svcGroup) leader(t *testing.T) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for i, s := range g.svcs {
			if s != nil && s.raft.IsLeader() {
				return i
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no leader elected")
	return -1
}

// client returns an authenticated client of member i.
func (g *svcGroup) client(t *testing.T, i int, secret string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: g.addrs[i], Password: secret, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// topo parses a BATON.TOPOLOGY-style reply.
func topo(t *testing.T, cmd *redis.Cmd) coordapi.Topology {
	t.Helper()
	s, err := cmd.Text()
	if err != nil {
		t.Fatalf("topology reply: %v", err)
	}
	return parseTopology(t, s)
}

// parseTopology decodes topology JSON.
func parseTopology(t *testing.T, s string) coordapi.Topology {
	t.Helper()
	top, err := coordapi.Decode(s)
	if err != nil {
		t.Fatalf("topology JSON %q: %v", s, err)
	}
	return top
}

func Test_Service_AuthRedirectAndRegister(t *testing.T) {
	g := startGroup(t, nil)
	ctx := context.Background()
	li := g.leader(t)
	fi := (li + 1) % 3

	if err := g.client(t, li, "").Do(ctx, "baton.topology").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Fatalf("no AUTH: %v, want NOAUTH", err)
	}
	if err := g.client(t, li, "wrong").Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
		t.Fatalf("wrong secret: %v, want WRONGPASS", err)
	}
	err := g.client(t, fi, testSecret).Do(ctx, "baton.register", "n1", "127.0.0.1:1").Err()
	if err == nil || err.Error() != "REDIRECT "+g.addrs[li] {
		t.Fatalf("REGISTER on a follower: %v, want REDIRECT %s", err, g.addrs[li])
	}
	lc := g.client(t, li, testSecret)
	top := topo(t, lc.Do(ctx, "baton.register", "n1", "127.0.0.1:1"))
	if top.Epoch != 1 || top.Primary != "n1" {
		t.Fatalf("first registration: epoch %d primary %q, want 1 and n1", top.Epoch, top.Primary)
	}
	top = topo(t, lc.Do(ctx, "baton.register", "n2", "127.0.0.1:2"))
	if top.Epoch != 1 || top.Primary != "n1" || len(top.Members) != 2 {
		t.Fatalf("second registration: %+v", top)
	}
	// The new leader records the bootstrap members' API addresses shortly
	// after its election.
	deadline := time.Now().Add(10 * time.Second)
	for len(top.Coordinators) != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("coordinators recorded: %+v, want all 3", top.Coordinators)
		}
		time.Sleep(20 * time.Millisecond)
		top = topo(t, lc.Do(ctx, "baton.topology"))
	}
	local := topo(t, g.client(t, fi, testSecret).Do(ctx, "baton.topology", "local"))
	if local.Epoch > top.Epoch {
		t.Fatalf("a follower's local topology is ahead of the leader's")
	}
}

func Test_Service_LeaseOnlyForThePrimaryOfTheEpoch(t *testing.T) {
	g := startGroup(t, func(c *Config) { c.Lease = 900 * time.Millisecond })
	ctx := context.Background()
	lc := g.client(t, g.leader(t), testSecret)
	lc.Do(ctx, "baton.register", "n1", "127.0.0.1:1")
	lc.Do(ctx, "baton.register", "n2", "127.0.0.1:2")
	if ms, err := lc.Do(ctx, "baton.lease", "n1", "1").Int64(); err != nil || ms != 900 {
		t.Fatalf("LEASE n1 1 = %d, %v; want 900", ms, err)
	}
	for _, args := range [][]any{{"baton.lease", "n2", "1"}, {"baton.lease", "n1", "0"}, {"baton.lease", "n1", "2"}} {
		if err := lc.Do(ctx, args...).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOTPRIMARY") {
			t.Fatalf("%v = %v, want NOTPRIMARY", args, err)
		}
	}
}

func Test_Service_WatchPushesCommittedChanges(t *testing.T) {
	g := startGroup(t, nil)
	ctx := context.Background()
	li := g.leader(t)
	fi := (li + 2) % 3
	nc, err := net.Dial("tcp", g.addrs[fi])
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	rc := newWatchReader(nc)
	fmt.Fprintf(nc, "AUTH %s\r\nBATON.WATCH\r\n", testSecret)
	if line, err := rc.ReadString('\n'); err != nil || line != "+OK\r\n" {
		t.Fatalf("AUTH: %q %v", line, err)
	}
	first := readPush(t, rc, nc)
	lc := g.client(t, li, testSecret)
	lc.Do(ctx, "baton.register", "n1", "127.0.0.1:1")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		top := readPush(t, rc, nc)
		if top.Epoch == first.Epoch+1 && top.Primary == "n1" {
			return
		}
	}
	t.Fatal("the watch never pushed the registration")
}

// newWatchReader buffers a watch connection.
func newWatchReader(nc net.Conn) *bufio.Reader { return bufio.NewReader(nc) }

// readPush reads one ["topology", json] push.
func readPush(t *testing.T, r *bufio.Reader, nc net.Conn) coordapi.Topology {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var lines []string
	for len(lines) < 5 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("watch read: %v", err)
		}
		lines = append(lines, strings.TrimRight(line, "\r\n"))
	}
	if lines[0] != "*2" || lines[2] != "topology" {
		t.Fatalf("watch push %q", lines)
	}
	return parseTopology(t, lines[4])
}

func Test_Service_JoinRemoveAndHTTP(t *testing.T) {
	g := startGroup(t, nil)
	ctx := context.Background()
	li := g.leader(t)
	// A fourth member joins through a follower (redirected to the leader).
	ln := svcListen(t)
	httpAddr := testutil.FreeAddr(t)
	s4, err := New(Config{
		ID: "c4", RaftAddr: testutil.FreeAddr(t), APIAddr: ln.Addr().String(), Dir: t.TempDir(),
		Join: g.addrs[(li+1)%3], Secret: testSecret, HTTPAddr: httpAddr,
		HeartbeatTimeout: 200 * time.Millisecond, ElectionTimeout: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(testutil.LogWriter(t), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	testutil.ServeOn(t, s4, ln, false)
	lc := g.client(t, li, testSecret)
	members := func() []string {
		v, err := lc.Do(ctx, "baton.members").StringSlice()
		if err != nil {
			t.Fatalf("BATON.MEMBERS: %v", err)
		}
		return v
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(members()) != 4 {
		if time.Now().After(deadline) {
			t.Fatalf("c4 never joined: %v", members())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// It follows the group: its local topology lists all coordinators.
	deadline = time.Now().Add(10 * time.Second)
	for len(s4.raft.Local().Coordinators) != 4 {
		if time.Now().After(deadline) {
			t.Fatalf("c4's topology lists %v", s4.raft.Local().Coordinators)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get("http://" + httpAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health map[string]any
	json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if resp.StatusCode != 200 || health["id"] != "c4" || health["leader"] == "" {
		t.Fatalf("/healthz = %d %v", resp.StatusCode, health)
	}
	resp, err = http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "baton_coordinator_is_leader 0") {
		t.Fatalf("/metrics lacks the leader gauge:\n%s", body)
	}
	if err := lc.Do(ctx, "baton.remove", "c4").Err(); err != nil {
		t.Fatalf("BATON.REMOVE c4: %v", err)
	}
	if n := len(members()); n != 3 {
		t.Fatalf("after removal: %d members", n)
	}
}
