package check

import (
	"strings"
	"testing"
	"time"
)

// wwin is an executed-writes window; times in microseconds.
func wwin(node string, epoch uint64, first, last int64) WriteWindow {
	return WriteWindow{Node: node, Epoch: epoch, First: time.UnixMicro(first), Last: time.UnixMicro(last)}
}

func TestWriteOverlap(t *testing.T) {
	tests := []struct {
		name      string
		windows   []WriteWindow
		tolerance time.Duration
		ok        bool
		want      map[string]float64
	}{
		{"no windows is an audit of nothing", nil, 0, false, map[string]float64{"windows": 0}},
		{"one node across epochs", []WriteWindow{wwin("n1", 1, 0, 3000), wwin("n1", 3, 5000, 9000)},
			0, true, map[string]float64{"nodes": 1, "overlaps": 0}},
		{"failover: the new primary writes after the old one's last write", []WriteWindow{
			wwin("n1", 1, 0, 3000), wwin("n2", 2, 4500, 9000), wwin("n1", 3, 10000, 12000)},
			0, true, map[string]float64{"nodes": 2, "overlaps": 0, "min_gap_ms": 1}},
		{"adjacent microseconds do not overlap", []WriteWindow{wwin("n1", 1, 0, 3000), wwin("n2", 2, 3001, 5000)},
			0, true, map[string]float64{"min_gap_ms": 0.001}},

		{"the same microsecond on two nodes overlaps", []WriteWindow{wwin("n1", 1, 0, 3000), wwin("n2", 2, 3000, 5000)},
			0, false, map[string]float64{"overlaps": 1}},
		{"the deposed primary writes on after the new one began", []WriteWindow{
			wwin("n1", 1, 0, 3000), wwin("n1", 1, 0, 8000), wwin("n2", 2, 4000, 9000)},
			0, false, map[string]float64{"overlaps": 1, "nodes": 2, "windows": 3}},
		{"a burst inside another node's window", []WriteWindow{wwin("n1", 4, 0, 10000), wwin("n3", 5, 2000, 2100)},
			0, false, map[string]float64{"overlaps": 1}},
		{"an overlap within the tolerance is ignored", []WriteWindow{wwin("n1", 1, 0, 3000), wwin("n2", 2, 2500, 5000)},
			time.Millisecond, true, map[string]float64{"overlaps": 0}},
		{"one beyond it is not", []WriteWindow{wwin("n1", 1, 0, 3000), wwin("n2", 2, 1000, 5000)},
			time.Millisecond, false, map[string]float64{"overlaps": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := WriteOverlap(tc.windows, tc.tolerance)
			if res.OK != tc.ok || res.Name != "split-brain-writes" {
				t.Fatalf("OK=%v, want %v: %s %q", res.OK, tc.ok, res.Summary, res.Details)
			}
			for k, v := range tc.want {
				if got, has := res.Metrics[k]; !has || got != v {
					t.Errorf("metric %s = %v (present %v), want %v", k, got, has, v)
				}
			}
			if !tc.ok && len(tc.windows) > 0 && (len(res.Details) == 0 || !strings.Contains(res.Details[0], "overlap")) {
				t.Errorf("details %q, want the overlap listed", res.Details)
			}
		})
	}
}

// TestWriteOverlapFromLog runs the parser and the checker on logs as two
// nodes write them: each open window rewritten with a later last. The old
// primary's late write (a deposed node writing on) is split brain.
func TestWriteOverlapFromLog(t *testing.T) {
	const n1 = "n1 4 1000000 1000200\nn1 4 1000000 1900000\n"
	const n2 = "n2 5 2100000 2100050\nn2 5 2100000 2600000\n"
	ws, err := ParseWriteLog(strings.NewReader(n1 + n2))
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || ws[0].Last != time.UnixMicro(1900000) {
		t.Fatalf("parsed %+v, want 2 windows, the first ending at its latest last", ws)
	}
	if res := WriteOverlap(ws, 0); !res.OK || res.Metrics["min_gap_ms"] != 200 {
		t.Errorf("handover: OK=%v %s %v", res.OK, res.Summary, res.Metrics)
	}
	ws, err = ParseWriteLog(strings.NewReader(n1 + n2 + "n1 4 1000000 2300000\n"))
	if err != nil {
		t.Fatal(err)
	}
	res := WriteOverlap(ws, 0)
	if res.OK || res.Metrics["overlaps"] != 1 || !strings.Contains(res.Details[0], "n1 epoch 4") ||
		!strings.Contains(res.Details[0], "n2 epoch 5") {
		t.Errorf("late write of the old primary: OK=%v %s %q", res.OK, res.Summary, res.Details)
	}
}

func TestParseWriteLogErrors(t *testing.T) {
	for _, bad := range []string{"n1 4 1000\n", "n1 x 1 2\n", "n1 4 5 3\n"} {
		if _, err := ParseWriteLog(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%q: err %v, want one naming line 1", bad, err)
		}
	}
}
