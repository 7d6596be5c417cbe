package check

import (
	"strings"
	"testing"
)

func TestSplitBrain(t *testing.T) {
	tests := []struct {
		name    string
		windows []LeaseWindow
		ok      bool
		want    map[string]float64
		noGap   bool // min_gap_ms must be absent
	}{
		{"no windows is an audit of nothing", nil, false, map[string]float64{"windows": 0}, true},
		{"one node renewing", []LeaseWindow{win("n1", 1, 0, 3000), win("n1", 1, 1000, 4000), win("n1", 1, 2000, 5000)},
			true, map[string]float64{"nodes": 1, "windows": 3, "overlaps": 0}, true},
		{"handover with a gap", []LeaseWindow{
			win("n1", 1, 0, 3000), win("n1", 1, 1000, 4000), win("n2", 2, 6000, 9000), win("n2", 2, 7000, 10000)},
			true, map[string]float64{"nodes": 2, "windows": 4, "min_gap_ms": 2}, false},
		{"handover back and forth: the tightest gap counts", []LeaseWindow{
			win("n1", 1, 0, 3000), win("n2", 2, 8000, 9000), win("n1", 3, 9500, 12000)},
			true, map[string]float64{"nodes": 2, "min_gap_ms": 0.5}, false},
		{"windows touching end to start do not overlap", []LeaseWindow{win("n1", 1, 0, 3000), win("n2", 2, 3000, 5000)},
			true, map[string]float64{"min_gap_ms": 0}, false},

		{"two nodes at once", []LeaseWindow{win("n1", 1, 0, 3000), win("n1", 1, 1000, 4000), win("n2", 2, 3500, 7000)},
			false, map[string]float64{"overlaps": 1, "min_gap_ms": -0.5}, false},
		{"a window inside another node's", []LeaseWindow{win("n1", 1, 0, 10000), win("n2", 2, 2000, 3000), win("n3", 3, 20000, 21000)},
			false, map[string]float64{"overlaps": 1, "nodes": 3}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := SplitBrain(tc.windows)
			if res.OK != tc.ok || res.Name != "split-brain" {
				t.Fatalf("OK=%v, want %v: %s %q", res.OK, tc.ok, res.Summary, res.Details)
			}
			for k, v := range tc.want {
				if got, has := res.Metrics[k]; !has || got != v {
					t.Errorf("metric %s = %v (present %v), want %v", k, got, has, v)
				}
			}
			if _, has := res.Metrics["min_gap_ms"]; has == tc.noGap {
				t.Errorf("min_gap_ms present=%v: %v", has, res.Metrics)
			}
			if !tc.ok && res.Metrics["windows"] > 0 && (len(res.Details) == 0 || !strings.Contains(res.Details[0], "overlap")) {
				t.Errorf("details %q, want the overlap listed", res.Details)
			}
		})
	}
}

// TestSplitBrainFromLog runs the log parser and the checker together on a
// takeover: the old primary's lease outlives the new primary's first
// window, and only the freeze's end record makes that safe.
func TestSplitBrainFromLog(t *testing.T) {
	const log = "n1 4 1000000 4000000\nn1 4 2000000 5000000\nn1 4 end 2500000\nn2 5 2600000 5600000\n"
	ws, err := ParseLeaseLog(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if res := SplitBrain(ws); !res.OK || res.Metrics["min_gap_ms"] != 100 {
		t.Errorf("with the end record: OK=%v %s %v", res.OK, res.Summary, res.Metrics)
	}
	ws, err = ParseLeaseLog(strings.NewReader(strings.Replace(log, "n1 4 end 2500000\n", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	res := SplitBrain(ws)
	if res.OK || res.Metrics["overlaps"] != 1 || !strings.Contains(res.Details[0], "n1 epoch 4") ||
		!strings.Contains(res.Details[0], "n2 epoch 5") {
		t.Errorf("without it: OK=%v %s %q", res.OK, res.Summary, res.Details)
	}
}

// TestSplitBrainDetailsBounded: many overlaps are counted, a few listed.
func TestSplitBrainDetailsBounded(t *testing.T) {
	var ws []LeaseWindow
	for i := range 50 {
		ws = append(ws, win("n1", 1, int64(i)*10000, int64(i)*10000+5000), win("n2", 2, int64(i)*10000+1000, int64(i)*10000+2000))
	}
	res := SplitBrain(ws)
	if res.OK || res.Metrics["overlaps"] != 50 || len(res.Details) != maxDetails+1 {
		t.Errorf("OK=%v overlaps=%v, %d detail lines", res.OK, res.Metrics["overlaps"], len(res.Details))
	}
}
