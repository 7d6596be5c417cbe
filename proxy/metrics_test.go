package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/testutil"
	"github.com/batonkv/baton/node"
	"github.com/batonkv/baton/node/nodetest"
	"github.com/redis/go-redis/v9"
)

// cmdLabels are the labels of one command counter.
func cmdLabels(cmd, result string) map[string]string {
	return map[string]string{"cmd": cmd, "result": result}
}

// waitValue polls until the series of p's metrics has value want.
func waitValue(t *testing.T, p *Proxy, name string, labels map[string]string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, _ := testutil.Gather(t, p.Registry()).Sample(name, labels)
		if v == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s%v = %v, want %v", name, labels, v, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func Test_Proxy_Metrics_LintAndCommands(t *testing.T) {
	ctx := context.Background()
	p, addr := mustNewProxy(t, Config{Backend: nodetest.StartAddr(t, node.Config{})})
	c := newClient(t, addr, "")
	if _, err := c.Pipelined(ctx, func(pl redis.Pipeliner) error {
		pl.Set(ctx, "k", "v", 0)
		pl.Set(ctx, "k2", "v", 0)
		pl.LPush(ctx, "k", "x") // WRONGTYPE
		return nil
	}); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
		t.Fatalf("pipeline: %v, want WRONGTYPE for the LPUSH", err)
	}
	c.Do(ctx, "get") // arity, answered by the proxy
	// A transaction pins the client (the pinned path counts too).
	if _, err := c.TxPipelined(ctx, func(pl redis.Pipeliner) error {
		pl.Incr(ctx, "n")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	reg := p.Registry()
	for _, tc := range []struct {
		cmd, result string
		want        float64
	}{
		{"set", "ok", 2}, {"lpush", "wrongtype", 1}, {"get", "err", 1}, {"multi", "ok", 1}, {"exec", "ok", 1},
	} {
		if got := testutil.Value(t, reg, "baton_proxy_commands_total", cmdLabels(tc.cmd, tc.result)); got != tc.want {
			t.Errorf("commands_total{cmd=%s,result=%s} = %v, want %v", tc.cmd, tc.result, got, tc.want)
		}
	}
	if got := testutil.Value(t, reg, "baton_proxy_pipeline_duration_seconds", map[string]string{"path": "shared"}); got < 1 {
		t.Errorf("shared latency observations = %v, want at least 1", got)
	}
	if got := testutil.Value(t, reg, "baton_proxy_pipeline_duration_seconds", map[string]string{"path": "pinned"}); got < 3 {
		t.Errorf("pinned latency observations = %v, want at least 3 (MULTI, INCR, EXEC)", got)
	}
	if got := testutil.Value(t, reg, "baton_proxy_connected_clients", nil); got < 1 {
		t.Errorf("connected clients = %v", got)
	}
	if got := testutil.Value(t, reg, "baton_proxy_primary_known", nil); got != 1 {
		t.Errorf("primary known = %v, want 1", got)
	}
	testutil.Lint(t, reg)
}

func Test_Proxy_Metrics_SwitchoverHoldReplay(t *testing.T) {
	ctx := context.Background()
	a, b := nodetest.StartAddr(t, node.Config{}), nodetest.StartAddr(t, node.Config{})
	p, addr := mustNewProxy(t, Config{Backend: a, HoldTimeout: 10 * time.Second})
	c := newClient(t, addr, "")
	// A becomes a replica of B and answers writes with -READONLY: the
	// proxy holds the write and replays it once it follows B.
	demote(t, a, b)
	done := make(chan error, 1)
	go func() { done <- c.Set(ctx, "k", "v", 0).Err() }()
	waitValue(t, p, "baton_proxy_held_commands", nil, 1)
	if got := testutil.Value(t, p.Registry(), "baton_proxy_replayed_commands_total", nil); got < 1 {
		t.Errorf("replayed = %v while held, want at least 1", got)
	}
	p.setBackend(b)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	reg := p.Registry()
	if got := testutil.Value(t, reg, "baton_proxy_switchovers_total", nil); got != 1 {
		t.Errorf("switchovers = %v, want 1", got)
	}
	if got := testutil.Value(t, reg, "baton_proxy_hold_duration_seconds", nil); got != 1 {
		t.Errorf("hold observations = %v, want 1", got)
	}
	if got := testutil.Value(t, reg, "baton_proxy_held_commands", nil); got != 0 {
		t.Errorf("held = %v after the switch, want 0", got)
	}
	if got := testutil.Value(t, reg, "baton_proxy_commands_total", cmdLabels("set", "ok")); got != 1 {
		t.Errorf("commands_total{set,ok} = %v, want 1 (counted once, with its final reply)", got)
	}
}

func Test_Proxy_Metrics_HoldTimeout(t *testing.T) {
	p, addr := mustNewProxy(t, Config{Backend: nodetest.StartAddr(t, node.Config{}), HoldTimeout: 50 * time.Millisecond})
	p.setBackend("")
	if err := newClient(t, addr, "").Set(context.Background(), "k", "v", 0).Err(); err == nil {
		t.Fatal("SET with no primary succeeded")
	}
	reg := p.Registry()
	if got := testutil.Value(t, reg, "baton_proxy_hold_failures_total", map[string]string{"reason": "timeout"}); got != 1 {
		t.Errorf("hold failures{timeout} = %v, want 1", got)
	}
	if got := testutil.Value(t, reg, "baton_proxy_commands_total", cmdLabels("set", "tryagain")); got != 1 {
		t.Errorf("commands_total{set,tryagain} = %v, want 1", got)
	}
	if got := testutil.Value(t, reg, "baton_proxy_primary_known", nil); got != 0 {
		t.Errorf("primary known = %v, want 0", got)
	}
}

func Test_Proxy_Metrics_HTTP(t *testing.T) {
	p, addr := mustNewProxy(t, Config{Backend: nodetest.StartAddr(t, node.Config{}), HTTPAddr: "127.0.0.1:0"})
	if err := newClient(t, addr, "").Set(context.Background(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + p.HTTPAddr().String()
	page := testutil.HTTPGet(t, base+"/metrics", http.StatusOK)
	ms := testutil.ParseMetrics(t, page)
	if v, ok := ms.Sample("baton_proxy_commands_total", cmdLabels("set", "ok")); !ok || v != 1 {
		t.Errorf("/metrics: commands_total{set,ok} = %v (%v), want 1", v, ok)
	}
	var h Health
	if err := json.Unmarshal([]byte(testutil.HTTPGet(t, base+"/healthz", http.StatusOK)), &h); err != nil {
		t.Fatal(err)
	}
	if !h.Serving || h.Primary == "" {
		t.Errorf("/healthz = %+v, want serving with a primary", h)
	}
}
