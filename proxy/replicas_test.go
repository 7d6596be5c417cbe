package proxy

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/redisinfo"
	"github.com/batonkv/baton/node"
	"github.com/batonkv/baton/node/nodetest"
	"github.com/redis/go-redis/v9"
)

// keyspaceHits is a node's INFO keyspace_hits: how many reads of an
// existing key it served (the proxy's INFO polls do not count).
func keyspaceHits(t *testing.T, addr string) int {
	t.Helper()
	info, err := redisinfo.Fetch(context.Background(), newClient(t, addr, ""), "stats")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(info["keyspace_hits"])
	if err != nil {
		t.Fatalf("keyspace_hits %q: %v", info["keyspace_hits"], err)
	}
	return n
}

// waitPick polls until the proxy's replica choice is want ("" for none).
func waitPick(t *testing.T, p *Proxy, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		primary, _ := p.primary()
		got := p.replicas.pick(primary, time.Now())
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica picked = %q, want %q", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// getN reads key n times through c and checks every value.
func getN(t *testing.T, c *redis.Client, key, want string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if v, err := c.Get(context.Background(), key).Result(); err != nil || v != want {
			t.Fatalf("GET %s #%d = %q, %v; want %q", key, i, v, err, want)
		}
	}
}

func Test_Proxy_ReadFromReplicas_ServedByReplica(t *testing.T) {
	ctx := context.Background()
	pa := nodetest.StartAddr(t, node.Config{})
	_, ra := nodetest.Start(t, node.Config{})
	replicate(t, ra, pa)
	// A generous lag bound: this test is about routing, not timing.
	p, addr := mustNewProxy(t, Config{Backend: pa, Replicas: []string{ra}, ReadFrom: ReadFromReplicas, MaxReplicaLag: time.Minute})
	waitPick(t, p, ra)
	c := newClient(t, addr, "")
	hp, hr := keyspaceHits(t, pa), keyspaceHits(t, ra)
	getN(t, c, "k", "v", 20)
	if got := keyspaceHits(t, ra) - hr; got != 20 {
		t.Errorf("the replica served %d of 20 GETs", got)
	}
	if got := keyspaceHits(t, pa) - hp; got != 0 {
		t.Errorf("the primary served %d of 20 GETs", got)
	}
	// Writes go to the primary, and a pipeline with a write stays whole on
	// it, so it reads its own write.
	cmds, err := c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Set(ctx, "k2", "w", 0)
		pipe.Get(ctx, "k2")
		return nil
	})
	if err != nil || cmds[1].(*redis.StringCmd).Val() != "w" {
		t.Fatalf("SET+GET pipeline: %v %v", cmds, err)
	}
	if got := keyspaceHits(t, pa) - hp; got != 1 {
		t.Errorf("the primary served %d reads of the SET+GET pipeline, want 1", got)
	}
}

// Test_Proxy_ReadFromReplicas_LinkCutFallsBackToPrimary detaches the
// replica (REPLICAOF NO ONE: it leaves the primary's history): it is no
// longer eligible, and reads, including of a write it never received, are
// served by the primary.
func Test_Proxy_ReadFromReplicas_LinkCutFallsBackToPrimary(t *testing.T) {
	ctx := context.Background()
	pa := nodetest.StartAddr(t, node.Config{})
	_, ra := nodetest.Start(t, node.Config{})
	replicate(t, ra, pa)
	p, addr := mustNewProxy(t, Config{Backend: pa, Replicas: []string{ra}, ReadFrom: ReadFromReplicas})
	waitPick(t, p, ra)
	c := newClient(t, addr, "")
	getN(t, c, "k", "v", 1)

	if err := newClient(t, ra, "").Do(ctx, "replicaof", "no", "one").Err(); err != nil {
		t.Fatal(err)
	}
	waitPick(t, p, "")
	if err := newClient(t, pa, "").Set(ctx, "k", "new", 0).Err(); err != nil {
		t.Fatal(err)
	}
	hp, hr := keyspaceHits(t, pa), keyspaceHits(t, ra)
	getN(t, c, "k", "new", 10)
	if got := keyspaceHits(t, ra) - hr; got != 0 {
		t.Errorf("the detached replica served %d GETs", got)
	}
	if got := keyspaceHits(t, pa) - hp; got != 10 {
		t.Errorf("the primary served %d of 10 GETs", got)
	}
}

// Test_Proxy_ReadFromReplicas_ClosedReplicaRetriedOnPrimary stops the
// replica while the proxy still counts it as eligible (its INFO is polled
// once, at start): the read that finds its connection broken is retried on
// the primary and succeeds, and the replica leaves the rotation.
func Test_Proxy_ReadFromReplicas_ClosedReplicaRetriedOnPrimary(t *testing.T) {
	pa := nodetest.StartAddr(t, node.Config{})
	rs, ra := nodetest.Start(t, node.Config{})
	replicate(t, ra, pa)
	p, addr := mustNewProxy(t, Config{
		Backend: pa, Replicas: []string{ra}, ReadFrom: ReadFromReplicas,
		MaxReplicaLag: time.Hour, replicaPoll: time.Hour,
	})
	waitPick(t, p, ra)
	c := newClient(t, addr, "")
	hr := keyspaceHits(t, ra)
	getN(t, c, "k", "v", 1)
	if got := keyspaceHits(t, ra) - hr; got != 1 {
		t.Fatalf("the replica served %d of 1 GET", got)
	}
	if err := rs.Close(); err != nil {
		t.Fatal(err)
	}
	hp := keyspaceHits(t, pa)
	getN(t, c, "k", "v", 3)
	if got := keyspaceHits(t, pa) - hp; got != 3 {
		t.Errorf("the primary served %d of 3 GETs after the replica stopped", got)
	}
	waitPick(t, p, "")
}

func Test_caughtUpAt(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := []lsnSample{{t0, 10}, {t0.Add(time.Second), 10}, {t0.Add(2 * time.Second), 15}, {t0.Add(3 * time.Second), 20}}
	for _, tc := range []struct {
		off  uint64
		want time.Time
		ok   bool
	}{
		{5, time.Time{}, false},         // behind every sample: unknown
		{10, t0.Add(time.Second), true}, // the newest sample at LSN 10
		{14, t0.Add(time.Second), true},
		{20, t0.Add(3 * time.Second), true},
		{25, t0.Add(3 * time.Second), true},
	} {
		if got, ok := caughtUpAt(s, tc.off); ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("caughtUpAt(%d) = %v %v, want %v %v", tc.off, got, ok, tc.want, tc.ok)
		}
	}
}

func Test_replicaTracker_addSampleKeepsTheLagWindow(t *testing.T) {
	rt := &replicaTracker{maxLag: time.Second}
	t0 := time.Unix(1000, 0)
	for i := 0; i < 20; i++ {
		rt.addSample(lsnSample{at: t0.Add(time.Duration(i) * 200 * time.Millisecond), lsn: uint64(i)})
	}
	// Samples older than maxLag before the newest cannot make a replica
	// eligible: 3.8 s is the newest, so 2.8 s is the oldest kept.
	if n := len(rt.samples); n != 6 || rt.samples[0].lsn != 14 {
		t.Fatalf("kept %d samples from LSN %d, want 6 from 14", n, rt.samples[0].lsn)
	}
}

func Test_syncedOffset(t *testing.T) {
	ok := map[string]string{"role": "slave", "master_link_status": "up", "master_sync_in_progress": "0", "master_replid": "r1", "slave_repl_offset": "42"}
	if off, good := syncedOffset(ok, "r1"); !good || off != 42 {
		t.Fatalf("synced replica: %d %v", off, good)
	}
	for k, v := range map[string]string{"role": "master", "master_link_status": "down", "master_sync_in_progress": "1", "master_replid": "r0", "slave_repl_offset": "x"} {
		bad := map[string]string{}
		for k2, v2 := range ok {
			bad[k2] = v2
		}
		bad[k] = v
		if _, good := syncedOffset(bad, "r1"); good {
			t.Errorf("%s=%s counted as synced", k, v)
		}
	}
	if _, good := syncedOffset(nil, "r1"); good {
		t.Error("unknown (nil INFO) counted as synced")
	}
}

func Test_Config_ValidateReadFrom(t *testing.T) {
	c := Config{Backend: "h:1"}.withDefaults()
	if err := c.Validate(); err != nil || c.ReadFrom != ReadFromPrimary || c.MaxReplicaLag != DefaultConfig().MaxReplicaLag {
		t.Fatalf("defaults: %v %+v", err, c)
	}
	for _, bad := range []Config{
		{Backend: "h:1", ReadFrom: "nearest"},
		{Backend: "h:1", MaxReplicaLag: -time.Second},
		{Backend: "h:1", HoldTimeout: -time.Second},
		{Backend: "h:1", PoolSize: -1},
		{Coordinators: []string{"c:1"}, Replicas: []string{"r:1"}},
	} {
		if err := bad.withDefaults().Validate(); err == nil || !strings.HasPrefix(err.Error(), "proxy: ") {
			t.Errorf("%+v: %v, want an error", bad, err)
		}
	}
}
