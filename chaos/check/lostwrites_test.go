package check

import (
	"strings"
	"testing"
)

func TestLostWrites(t *testing.T) {
	tests := []struct {
		name  string
		ops   []Op
		final Final
		ok    bool
		// want lists the metrics to check (others are not checked).
		want map[string]float64
	}{
		{"empty", nil, Final{}, true, map[string]float64{"acked": 0, "lost": 0}},
		{"every acknowledged append present, processes interleaved", []Op{
			writeOp(0, "append", "l", "a", 0, 10), writeOp(1, "append", "l", "b", 5, 15),
			writeOp(0, "append", "l", "c", 20, 30), writeOp(1, "append", "l", "d", 20, 30),
		}, Final{Lists: map[string][]string{"l": {"b", "a", "d", "c"}}}, true,
			map[string]float64{"acked": 4, "lost": 0, "reordered": 0}},
		{"set members in any order", []Op{
			writeOp(0, "add", "s", "a", 0, 10), writeOp(0, "add", "s", "b", 20, 30),
		}, Final{Sets: map[string][]string{"s": {"b", "a"}}}, true, map[string]float64{"acked": 2}},
		{"unknown-outcome writes may be present or absent", []Op{
			writeOp(0, "append", "l", "a", 0, 10),
			unknown(writeOp(0, "append", "l", "b", 20, 30), "i/o timeout"),
			unknown(writeOp(1, "add", "s", "c", 20, 30), "EOF"),
			unknown(writeOp(1, "add", "s", "d", 40, 50), "EOF"),
		}, Final{Lists: map[string][]string{"l": {"a", "b"}}, Sets: map[string][]string{"s": {"d"}}}, true,
			map[string]float64{"acked": 1, "info_present": 2, "info_absent": 1}},
		{"refused writes absent", []Op{
			writeOp(0, "append", "l", "a", 0, 10), failed(writeOp(0, "append", "l", "b", 20, 30), "READONLY"),
		}, Final{Lists: map[string][]string{"l": {"a"}}}, true, map[string]float64{"acked": 1, "unexpected": 0}},
		{"same key name as list and set is two collections", []Op{
			writeOp(0, "append", "k", "a", 0, 10), writeOp(0, "add", "k", "b", 20, 30),
		}, Final{Lists: map[string][]string{"k": {"a"}}, Sets: map[string][]string{"k": {"b"}}}, true,
			map[string]float64{"acked": 2}},

		{"acknowledged append lost", []Op{
			writeOp(0, "append", "l", "a", 0, 10), writeOp(0, "append", "l", "b", 20, 30),
		}, Final{Lists: map[string][]string{"l": {"a"}}}, false, map[string]float64{"acked": 2, "lost": 1}},
		{"acknowledged add lost with its whole set", []Op{
			writeOp(0, "add", "s", "a", 0, 10),
		}, Final{}, false, map[string]float64{"lost": 1}},
		{"refused write present", []Op{
			failed(writeOp(0, "append", "l", "a", 0, 10), "TRYAGAIN no write lease"),
		}, Final{Lists: map[string][]string{"l": {"a"}}}, false, map[string]float64{"unexpected": 1}},
		{"retried write present twice", []Op{
			writeOp(0, "append", "l", "a", 0, 10), writeOp(0, "append", "l", "b", 20, 30),
		}, Final{Lists: map[string][]string{"l": {"a", "b", "b"}}}, false, map[string]float64{"duplicated": 1, "lost": 0}},
		{"value nobody wrote", []Op{
			writeOp(0, "add", "s", "a", 0, 10),
		}, Final{Sets: map[string][]string{"s": {"a", "ghost"}}}, false, map[string]float64{"unexpected": 1}},
		{"one process's appends out of order", []Op{
			writeOp(0, "append", "l", "a", 0, 10), writeOp(0, "append", "l", "b", 20, 30),
			writeOp(0, "append", "l", "c", 40, 50), writeOp(0, "append", "l", "d", 60, 70),
		}, Final{Lists: map[string][]string{"l": {"a", "d", "b", "c"}}}, false,
			map[string]float64{"reordered": 1, "lost": 0}}, // only d is out of place
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := LostWrites(tc.ops, tc.final)
			if res.OK != tc.ok || res.Name != "lost-writes" {
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

// TestLostWritesDetailsBounded: a broken build loses thousands of writes;
// the details keep the first few and count the rest.
func TestLostWritesDetailsBounded(t *testing.T) {
	var ops []Op
	for i := range 100 {
		ops = append(ops, writeOp(0, "add", "s", string(rune('a'+i)), i*10, i*10+5))
	}
	res := LostWrites(ops, Final{})
	if res.OK || res.Metrics["lost"] != 100 {
		t.Fatalf("OK=%v lost=%v", res.OK, res.Metrics["lost"])
	}
	if len(res.Details) != maxDetails+1 || !strings.Contains(res.Details[maxDetails], "80 more") {
		t.Errorf("%d detail lines, last %q", len(res.Details), res.Details[len(res.Details)-1])
	}
}
