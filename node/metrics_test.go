package node

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/batonkv/baton/internal/testutil"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// mustSample is the value of a series of g that must exist.
func mustSample(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	return testutil.Value(t, g, name, labels)
}

// sample is the value of a series of g, and whether it exists.
func sample(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	return testutil.Gather(t, g).Sample(name, labels)
}

// cmdLabels are the labels of one command counter.
func cmdLabels(cmd, result string) map[string]string {
	return map[string]string{"cmd": cmd, "result": result}
}

func Test_Metrics_LintAndCommandsMove(t *testing.T) {
	n := mustNewNode(t, Config{Fsync: FsyncAlways})
	c := mustClient(t, n)
	ctx := context.Background()
	reg := n.Registry()
	before := mustSample(t, reg, "baton_node_journal_fsync_duration_seconds", nil)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	c.LPush(ctx, "k", "x")     // WRONGTYPE
	c.Do(ctx, "nosuchcommand") // unknown
	c.Do(ctx, "get")           // arity
	if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "k2", "v", 0)
		p.Get(ctx, "k2")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cmd, result string
		want        float64
	}{
		{"set", "ok", 2}, {"get", "ok", 1}, {"get", "err", 1}, {"lpush", "wrongtype", 1}, {"unknown", "err", 1},
	} {
		if got := mustSample(t, reg, "baton_node_commands_total", cmdLabels(tc.cmd, tc.result)); got != tc.want {
			t.Errorf("commands_total{cmd=%s,result=%s} = %v, want %v", tc.cmd, tc.result, got, tc.want)
		}
	}
	if got := mustSample(t, reg, "baton_node_keys", nil); got != 2 {
		t.Errorf("keys = %v, want 2", got)
	}
	if got := mustSample(t, reg, "baton_node_lsn", nil); got != 2 {
		t.Errorf("lsn = %v, want 2", got)
	}
	if got := mustSample(t, reg, "baton_node_role", map[string]string{"role": "primary"}); got != 1 {
		t.Errorf("role{primary} = %v, want 1", got)
	}
	// Every pipeline is observed (HELLO/CLIENT SETINFO of the client's
	// handshake too), and the writes were fsynced (policy always).
	if got := mustSample(t, reg, "baton_node_pipeline_duration_seconds", nil); got < 5 {
		t.Errorf("pipeline observations = %v, want at least 5", got)
	}
	if got := mustSample(t, reg, "baton_node_journal_fsync_duration_seconds", nil); got <= before {
		t.Errorf("fsync observations = %v, want more than %v", got, before)
	}
	if got := mustSample(t, reg, "baton_node_journal_written_bytes_total", nil); got == 0 {
		t.Errorf("journal bytes written = 0 after writes")
	}
	if err := c.Do(ctx, "save").Err(); err != nil {
		t.Fatal(err)
	}
	if got := mustSample(t, reg, "baton_node_snapshot_duration_seconds", map[string]string{"mode": "save"}); got != 1 {
		t.Errorf("snapshot observations (save) = %v, want 1", got)
	}
	testutil.Lint(t, reg)
}

func Test_Metrics_TakeoverFreeze(t *testing.T) {
	n := mustNewNode(t, Config{})
	c := mustClient(t, n)
	ctx := context.Background()
	reg := n.Registry()
	if err := c.Do(ctx, "baton.freeze", 7, 0, 100).Err(); err != nil {
		t.Fatal(err)
	}
	if got := mustSample(t, reg, "baton_node_frozen", nil); got != 1 {
		t.Errorf("frozen = %v, want 1", got)
	}
	if err := c.Set(ctx, "k", "v", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "TAKENOVER") {
		t.Fatalf("SET while frozen: %v, want TAKENOVER", err)
	}
	if got := mustSample(t, reg, "baton_node_commands_total", cmdLabels("set", "takenover")); got != 1 {
		t.Errorf("commands_total{set,takenover} = %v, want 1", got)
	}
	if got := mustSample(t, reg, "baton_node_takeover_freezes_total", nil); got != 1 {
		t.Errorf("freezes = %v, want 1", got)
	}
	if err := c.Do(ctx, "baton.unfreeze", 7).Err(); err != nil {
		t.Fatal(err)
	}
	if got := mustSample(t, reg, "baton_node_frozen", nil); got != 0 {
		t.Errorf("frozen after UNFREEZE = %v, want 0", got)
	}
}

func Test_Metrics_Replication(t *testing.T) {
	primary, replica, pc, rc := newReplPair(t)
	replicaOf(t, rc, primary)
	ctx := context.Background()
	for i := range 10 {
		if err := pc.Set(ctx, "k"+string(rune('a'+i)), "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	waitSynced(t, primary, rc)
	preg, rreg := primary.Registry(), replica.Registry()
	pollUntil(t, "the replica's acknowledgement of LSN 10", func() bool {
		v, ok := sample(t, preg, "baton_node_replica_acked_lsn", nil)
		return ok && v == 10
	})
	if got := mustSample(t, preg, "baton_node_connected_replicas", nil); got != 1 {
		t.Errorf("connected replicas = %v, want 1", got)
	}
	if got := mustSample(t, preg, "baton_node_replica_lag_lsn", nil); got != 0 {
		t.Errorf("replica lag = %v entries, want 0", got)
	}
	if got := mustSample(t, preg, "baton_node_replica_lag_seconds", nil); got != 0 {
		t.Errorf("replica lag = %v s, want 0 (caught up)", got)
	}
	if got := mustSample(t, rreg, "baton_node_replication_link_state", map[string]string{"state": "connected"}); got != 1 {
		t.Errorf("replica link_state{connected} = %v, want 1", got)
	}
	if got := mustSample(t, rreg, "baton_node_role", map[string]string{"role": "replica"}); got != 1 {
		t.Errorf("replica role{replica} = %v, want 1", got)
	}
	if got := mustSample(t, rreg, "baton_node_lsn", nil); got != 10 {
		t.Errorf("replica lsn = %v, want 10", got)
	}
	if got := mustSample(t, preg, "baton_node_replica_syncs_total", map[string]string{"kind": "partial"}); got != 1 {
		t.Errorf("partial syncs served = %v, want 1 (an empty replica continues from the start)", got)
	}
	testutil.Lint(t, preg)
	testutil.Lint(t, rreg)
}

func Test_Metrics_HTTP(t *testing.T) {
	n := mustNewNode(t, Config{HTTPAddr: "127.0.0.1:0"})
	c := mustClient(t, n)
	if err := c.Set(context.Background(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + n.HTTPAddr().String()
	body := testutil.HTTPGet(t, base+"/metrics", http.StatusOK)
	for _, want := range []string{`baton_node_commands_total{cmd="set",result="ok"} 1`, "go_memstats_heap_alloc_bytes", "baton_node_epoch 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	var h Health
	if err := json.Unmarshal([]byte(testutil.HTTPGet(t, base+"/healthz", http.StatusOK)), &h); err != nil {
		t.Fatal(err)
	}
	if !h.Serving || h.Role != "primary" || h.LSN != 1 {
		t.Errorf("/healthz = %+v, want serving primary at LSN 1", h)
	}
}
