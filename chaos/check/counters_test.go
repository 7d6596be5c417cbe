package check

import "testing"

func TestCounters(t *testing.T) {
	tests := []struct {
		name  string
		ops   []Op
		final map[string]int64
		ok    bool
		want  map[string]float64
	}{
		{"empty", nil, nil, true, map[string]float64{"keys": 0}},
		{"every acknowledged increment counted", []Op{
			incrOp(0, "c", "1", 0, 10), incrOp(1, "c", "2", 5, 15), incrOp(0, "c", "3", 20, 30),
		}, map[string]int64{"c": 3}, true, map[string]float64{"ok_incrs": 3, "lost": 0}},
		{"unknown increments may or may not count", []Op{
			incrOp(0, "c", "1", 0, 10), unknown(incrOp(0, "c", "", 20, 30), "i/o timeout"),
			unknown(incrOp(1, "c", "", 20, 30), "EOF"),
			incrOp(0, "d", "1", 0, 10), unknown(incrOp(0, "d", "", 20, 30), "i/o timeout"),
		}, map[string]int64{"c": 3, "d": 1}, true, map[string]float64{"ok_incrs": 2, "info_incrs": 3}},
		{"refused increments do not count", []Op{
			incrOp(0, "c", "1", 0, 10), failed(incrOp(0, "c", "", 20, 30), "TRYAGAIN no write lease"),
		}, map[string]int64{"c": 1}, true, map[string]float64{"extra": 0}},
		{"results not recorded are not compared", []Op{
			incrOp(0, "c", "", 0, 10), incrOp(0, "c", "", 20, 30),
		}, map[string]int64{"c": 2}, true, map[string]float64{"duplicate_results": 0}},

		{"acknowledged increment lost", []Op{
			incrOp(0, "c", "1", 0, 10), incrOp(0, "c", "2", 20, 30), unknown(incrOp(0, "c", "", 40, 50), "EOF"),
		}, map[string]int64{"c": 1}, false, map[string]float64{"lost": 1}},
		{"counter missing at the end", []Op{incrOp(0, "c", "1", 0, 10)}, nil, false, map[string]float64{"lost": 1}},
		{"refused increment applied", []Op{
			incrOp(0, "c", "1", 0, 10), failed(incrOp(0, "c", "", 20, 30), "READONLY"),
		}, map[string]int64{"c": 2}, false, map[string]float64{"extra": 1}},
		{"counter nobody incremented", nil, map[string]int64{"ghost": 4}, false, map[string]float64{"extra": 4, "keys": 1}},
		{"two increments saw the same value", []Op{
			incrOp(0, "c", "1", 0, 10), incrOp(1, "c", "1", 20, 30), unknown(incrOp(1, "c", "", 40, 50), "EOF"),
		}, map[string]int64{"c": 2}, false, map[string]float64{"duplicate_results": 1, "lost": 0, "extra": 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Counters(tc.ops, Final{Counters: tc.final})
			if res.OK != tc.ok || res.Name != "counters" {
				t.Fatalf("OK=%v, want %v: %s %q", res.OK, tc.ok, res.Summary, res.Details)
			}
			for k, v := range tc.want {
				if res.Metrics[k] != v {
					t.Errorf("metric %s = %v, want %v (%v)", k, res.Metrics[k], v, res.Metrics)
				}
			}
			if !tc.ok && len(res.Details) == 0 {
				t.Errorf("a failure without details: %s", res.Summary)
			}
		})
	}
}
