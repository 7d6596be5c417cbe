package integration

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonkv/baton/internal/testutil"
)

// Families every process of a kind must export with at least one series
// after load and a takeover (docs/OPERATIONS.md lists them all).
var (
	nodeFamilies = []string{
		"baton_node_commands_total", "baton_node_pipeline_duration_seconds", "baton_node_connected_clients",
		"baton_node_connections_total", "baton_node_lsn", "baton_node_role", "baton_node_epoch", "baton_node_frozen",
		"baton_node_lease_remaining_seconds", "baton_node_connected_replicas",
		"baton_node_journal_fsync_duration_seconds", "baton_node_journal_written_bytes_total",
		"baton_node_snapshot_duration_seconds", "baton_node_keys", "baton_node_takeover_freezes_total",
		"baton_node_takeover_closed_connections_total", "baton_node_replica_syncs_total", "baton_node_info",
		"go_memstats_heap_alloc_bytes", "process_resident_memory_bytes",
	}
	proxyFamilies = []string{
		"baton_proxy_commands_total", "baton_proxy_pipeline_duration_seconds", "baton_proxy_connected_clients",
		"baton_proxy_held_commands", "baton_proxy_hold_duration_seconds", "baton_proxy_switchovers_total",
		"baton_proxy_replayed_commands_total", "baton_proxy_ambiguous_commands_total",
		"baton_proxy_backend_errors_total", "baton_proxy_topology_epoch", "baton_proxy_replica_reads_total",
		"baton_proxy_hold_failures_total", "go_memstats_heap_alloc_bytes",
	}
	coordinatorFamilies = []string{
		"baton_coordinator_raft_state", "baton_coordinator_raft_term", "baton_coordinator_raft_leader_changes_total",
		"baton_coordinator_raft_apply_duration_seconds", "baton_coordinator_epoch", "baton_coordinator_is_leader",
		"baton_coordinator_failovers_total", "baton_coordinator_takeovers_total",
		"baton_coordinator_takeover_step_seconds", "go_memstats_heap_alloc_bytes",
	}
)

// Test_Metrics_EveryProcess: a cluster with --http-addr on every process
// (3 coordinators, 3 nodes, a proxy) serves /metrics and /healthz; after
// appends through the proxy and a takeover, every page lints clean, has
// the expected families, and the key metrics moved (the proxy switched,
// the old primary was frozen once, the leader counted one committed
// takeover), and every metric the dashboards query is exported.
// `baton healthcheck` exits 0 on every process and 1 on a port
// nothing serves.
func Test_Metrics_EveryProcess(t *testing.T) {
	ids := []string{"c1", "c2", "c3", "n1", "n2", "n3", "proxy"}
	addrs := freeAddrs(t, len(ids)+1)
	web := map[string]string{}
	for i, id := range ids {
		web[id] = addrs[i]
	}
	c := startCluster(t, clusterOpts{extraArgs: func(id string) []string { return []string{"--http-addr", web[id]} }})
	var apis []string
	for _, m := range c.coords {
		apis = append(apis, m.addr)
	}
	px := startBaton(t, "proxy", []string{"--addr", "127.0.0.1:0", "--coordinators", strings.Join(apis, ","),
		"--cluster-secret", clusterSecret, "--log-level", "warn", "--http-addr", web["proxy"]})
	l := startAppendLoad(t, px.addr, 4)
	l.waitProgress(200)
	old := c.clusterPrimary()
	rep := c.takeover()
	if rep.Outcome != "committed" {
		t.Fatalf("takeover: %+v", rep)
	}
	l.waitProgress(200)
	l.stop()
	if errs := l.errors(); len(errs) > 0 {
		t.Errorf("clients saw errors across the takeover: %v", errs)
	}
	c.waitReplica(old)
	primary := c.node(rep.To)
	waitFor(t, "the new primary to count both replicas", func() (bool, string) {
		v, _ := scrape(t, web[primary.id]).Sample("baton_node_connected_replicas", nil)
		return v == 2, ""
	})

	pages := map[string]testutil.Metrics{}
	for _, id := range ids {
		pages[id] = scrape(t, web[id])
		pages[id].Lint(t, id)
		want := coordinatorFamilies
		switch {
		case id == "proxy":
			want = proxyFamilies
		case strings.HasPrefix(id, "n"):
			want = nodeFamilies
		}
		for _, name := range want {
			if mf := pages[id].Family(name); mf == nil || len(mf.GetMetric()) == 0 {
				t.Errorf("%s /metrics: no samples of %s", id, name)
			}
		}
	}
	checkMoved(t, pages, old.id, primary.id, rep.Epoch, 400)
	checkDocumented(t, pages)
	checkDashboards(t, pages)
	for _, id := range ids {
		if code, out := healthcheck(t, "--http-addr", web[id]); code != 0 {
			t.Errorf("baton healthcheck of %s: exit %d: %s", id, code, out)
		}
	}
	if code, out := healthcheck(t, "--url", "http://"+addrs[len(ids)]+"/healthz", "--timeout", "1s"); code != 1 {
		t.Errorf("baton healthcheck of a closed port: exit %d, want 1: %s", code, out)
	}
}

// checkMoved checks the key metrics after the load (at least appends
// acknowledged RPUSHes) and the takeover from old to primary (epoch).
func checkMoved(t *testing.T, pages map[string]testutil.Metrics, old, primary string, epoch uint64, appends int) {
	t.Helper()
	value := func(id, name string, labels map[string]string) float64 {
		v, ok := pages[id].Sample(name, labels)
		if !ok {
			t.Errorf("%s: no series %s%v", id, name, labels)
		}
		return v
	}
	px := "proxy"
	if v := value(px, "baton_proxy_switchovers_total", nil); v < 1 {
		t.Errorf("proxy switchovers = %v, want at least 1", v)
	}
	if v := value(px, "baton_proxy_commands_total", map[string]string{"cmd": "rpush", "result": "ok"}); v < float64(appends) {
		t.Errorf("proxy commands_total{rpush,ok} = %v, want at least %d", v, appends)
	}
	if v := value(px, "baton_proxy_topology_epoch", nil); v != float64(epoch) {
		t.Errorf("proxy topology epoch = %v, want %d", v, epoch)
	}
	if v := value(old, "baton_node_takeover_freezes_total", nil); v != 1 {
		t.Errorf("%s (old primary) freezes = %v, want 1", old, v)
	}
	if v := value(old, "baton_node_role", map[string]string{"role": "replica"}); v != 1 {
		t.Errorf("%s (old primary) role{replica} = %v, want 1", old, v)
	}
	if v := value(primary, "baton_node_role", map[string]string{"role": "primary"}); v != 1 {
		t.Errorf("%s (new primary) role{primary} = %v, want 1", primary, v)
	}
	if v := value(primary, "baton_node_epoch", nil); v != float64(epoch) {
		t.Errorf("%s epoch = %v, want %d", primary, v, epoch)
	}
	if mf := pages[primary].Family("baton_node_replica_acked_lsn"); mf == nil || len(mf.GetMetric()) != 2 {
		t.Errorf("%s: replica_acked_lsn series = %v, want 2", primary, mf)
	}
	committed, leaders := 0.0, 0.0
	for _, id := range []string{"c1", "c2", "c3"} {
		v, _ := pages[id].Sample("baton_coordinator_takeovers_total", map[string]string{"outcome": "committed"})
		committed += v
		l, _ := pages[id].Sample("baton_coordinator_raft_state", map[string]string{"state": "leader"})
		leaders += l
	}
	if committed != 1 || leaders != 1 {
		t.Errorf("coordinators: %v committed takeovers and %v leaders, want 1 and 1", committed, leaders)
	}
}

// checkDocumented fails for every baton_ family of pages that
// docs/OPERATIONS.md does not list.
func checkDocumented(t *testing.T, pages map[string]testutil.Metrics) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "OPERATIONS.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ms := range pages {
		for _, mf := range ms {
			name := mf.GetName()
			if strings.HasPrefix(name, "baton_") && !seen[name] && !strings.Contains(string(doc), "`"+name+"`") {
				t.Errorf("docs/OPERATIONS.md does not list %s", name)
			}
			seen[name] = true
		}
	}
}

// scrape GETs http://addr/metrics and parses it.
func scrape(t *testing.T, addr string) testutil.Metrics {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %s, %v", addr, resp.Status, err)
	}
	return testutil.ParseMetrics(t, string(body))
}

// healthcheck runs `baton healthcheck args…` and returns its exit code and
// output; a 0 must come with a JSON body.
func healthcheck(t *testing.T, args ...string) (int, string) {
	t.Helper()
	out, err := exec.Command(batonBinary(t), append([]string{"healthcheck"}, args...)...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	case err != nil:
		t.Fatalf("baton healthcheck %v: %v", args, err)
	}
	if !json.Valid(out) {
		t.Errorf("baton healthcheck %v printed %q, want the /healthz JSON", args, out)
	}
	return 0, string(out)
}
