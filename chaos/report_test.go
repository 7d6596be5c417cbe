package chaos

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/chaos/check"
)

// sampleRun is a run whose lost-writes checker failed and whose
// linearizability check timed out.
func sampleRun(t *testing.T, out string) RunReport {
	t.Helper()
	rr := RunReport{Scenario: "kill9", Seed: 3, Dir: "kill9-seed3",
		Faults: []Fault{{N: 1, What: "kill -9 n1 (primary)", At: time.Second, HealedAt: 3 * time.Second, HealthyAt: 4 * time.Second}}}
	if err := os.MkdirAll(filepath.Join(out, rr.Dir), 0o755); err != nil {
		t.Fatal(err)
	}
	ops := []check.Op{{Process: 1, Kind: "append", Key: "list:0", Value: "w0-1", Status: check.OK},
		{Process: 1, Kind: "incr", Key: "ctr:0", Status: check.Info, Err: "EOF"}}
	results := []check.Result{
		{Name: "linearizable", OK: true, Unknown: true, Summary: "unknown", Artifacts: map[string][]byte{"linearizability.html": []byte("<html>")}},
		{Name: "lost-writes", Summary: "1 lost", Metrics: map[string]float64{"lost": 1}},
		{Name: "counters", OK: true, Metrics: map[string]float64{"lost": 0}},
		{Name: "availability", OK: true, Metrics: map[string]float64{"max_gap_ms": 1234}},
	}
	rr.fill(ops, results)
	if err := rr.writeArtifacts(filepath.Join(out, rr.Dir), ops, results); err != nil {
		t.Fatal(err)
	}
	return rr
}

func Test_Report_WritesJSONHTMLAndSummary(t *testing.T) {
	out := t.TempDir()
	rep := &Report{Target: "local", Seed: 3, Seeds: 1, Runs: []RunReport{sampleRun(t, out)}}
	rr := rep.Runs[0]
	if rr.Passed || rr.LostWrites != 1 || rr.MaxGapMs != 1234 || rr.Linearizable != "unknown" || rr.InfoOps != 1 {
		t.Fatalf("run summary %+v", rr)
	}
	if err := rep.write(out); err != nil {
		t.Fatal(err)
	}
	var back Report
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil || json.Unmarshal(b, &back) != nil || len(back.Runs) != 1 || back.Runs[0].Results[1].Name != "lost-writes" {
		t.Fatalf("report.json: %v %s", err, b)
	}
	art := back.Runs[0].Results[0].Artifacts
	if len(art) != 1 || art[0] != "kill9-seed3/linearizability.html" {
		t.Fatalf("artifacts %v", art)
	}
	if _, err := os.Stat(filepath.Join(out, art[0])); err != nil {
		t.Fatal(err)
	}
	if h, err := os.ReadFile(filepath.Join(out, "kill9-seed3", "history.jsonl")); err != nil || strings.Count(string(h), "\n") != 2 {
		t.Fatalf("history.jsonl: %v %q", err, h)
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	for _, want := range []string{"kill -9 n1 (primary)", "FAIL (lost-writes)", `href="kill9-seed3/linearizability.html"`, "without --sync-replicas"} {
		if !strings.Contains(strings.ToLower(string(html)), strings.ToLower(want)) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	var sum strings.Builder
	rep.Summary(&sum)
	for _, want := range []string{"LOST WRITES", "1234 ms", "FAIL (lost-writes)", "0 of 1 runs passed", "counts the acknowledged writes"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
}
