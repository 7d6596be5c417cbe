package check

import (
	"strings"
	"testing"
	"time"
)

// checkTimeout is generous: every history here is tiny, and a timeout
// would show up as Unknown, which the tests reject.
const checkTimeout = time.Minute

func TestLinearizable(t *testing.T) {
	tests := []struct {
		name string
		ops  []Op
		ok   bool
	}{
		{"empty history", nil, true},
		{"sequential set then get", []Op{setOp(0, "x", "a", 0, 10), getOp(1, "x", "a", 20, 30)}, true},
		{"missing key read before any write", []Op{getOp(0, "x", "∅", 0, 10), setOp(1, "x", "a", 20, 30)}, true},
		{"concurrent get may see the old value", []Op{
			setOp(0, "x", "a", 0, 10), setOp(0, "x", "b", 20, 40), getOp(1, "x", "a", 25, 35)}, true},
		{"concurrent get may see the new value", []Op{
			setOp(0, "x", "a", 0, 10), setOp(0, "x", "b", 20, 40), getOp(1, "x", "b", 25, 35)}, true},
		{"empty string is a value, not a missing key", []Op{
			setOp(0, "x", "", 0, 10), getOp(1, "x", "", 20, 30)}, true},
		{"cas swaps a matching value, refuses another", []Op{
			setOp(0, "x", "a", 0, 10), casOp(1, "x", "a", "b", true, 20, 30),
			casOp(2, "x", "a", "c", false, 40, 50), getOp(0, "x", "b", 60, 70)}, true},
		{"cas with empty expect creates an absent key", []Op{
			casOp(0, "x", "", "a", true, 0, 10), getOp(1, "x", "a", 20, 30)}, true},
		{"info set may take effect long after its call", []Op{
			setOp(0, "x", "a", 0, 10), unknown(setOp(1, "x", "b", 20, 30), "i/o timeout"),
			getOp(2, "x", "a", 100, 110), getOp(2, "x", "b", 200, 210)}, true},
		{"info set may never take effect", []Op{
			setOp(0, "x", "a", 0, 10), unknown(setOp(1, "x", "b", 20, 30), "i/o timeout"),
			getOp(2, "x", "a", 500, 510)}, true},
		{"info cas may have swapped", []Op{
			setOp(0, "x", "a", 0, 10), unknown(casOp(1, "x", "a", "b", false, 20, 30), "EOF"),
			getOp(2, "x", "b", 100, 110)}, true},
		{"info cas may not have swapped", []Op{
			setOp(0, "x", "a", 0, 10), unknown(casOp(1, "x", "a", "b", true, 20, 30), "EOF"),
			getOp(2, "x", "a", 100, 110)}, true},
		{"info get tells nothing", []Op{
			setOp(0, "x", "a", 0, 10), unknown(getOp(1, "x", "zzz", 20, 30), "i/o timeout")}, true},
		{"keys are independent registers", []Op{
			setOp(0, "x", "a", 0, 10), setOp(0, "y", "b", 20, 30),
			getOp(1, "x", "a", 40, 50), getOp(1, "y", "b", 40, 50)}, true},
		{"non-register kinds are ignored", []Op{
			setOp(0, "x", "a", 0, 10), writeOp(1, "append", "x", "q", 5, 6), incrOp(1, "x", "7", 8, 9),
			getOp(1, "x", "a", 20, 30)}, true},

		{"stale read after an acknowledged write", []Op{
			setOp(0, "x", "a", 0, 10), setOp(0, "x", "b", 20, 30), getOp(1, "x", "a", 40, 50)}, false},
		{"read of a refused write", []Op{
			setOp(0, "x", "a", 0, 10), failed(setOp(1, "x", "b", 20, 30), "TRYAGAIN no write lease"),
			getOp(2, "x", "b", 40, 50)}, false},
		{"read of a value never written", []Op{setOp(0, "x", "a", 0, 10), getOp(1, "x", "b", 20, 30)}, false},
		{"missing key after an acknowledged set", []Op{setOp(0, "x", "", 0, 10), getOp(1, "x", "∅", 20, 30)}, false},
		{"cas swapped a value that did not match", []Op{
			setOp(0, "x", "a", 0, 10), casOp(1, "x", "z", "b", true, 20, 30)}, false},
		{"cas refused a value that matched", []Op{
			setOp(0, "x", "a", 0, 10), casOp(1, "x", "a", "b", false, 20, 30)}, false},
		{"info set seen, then undone", []Op{
			setOp(0, "x", "a", 0, 10), unknown(setOp(1, "x", "b", 20, 30), "i/o timeout"),
			getOp(2, "x", "b", 40, 50), getOp(2, "x", "a", 60, 70)}, false},
		{"one bad key among good ones", []Op{
			setOp(0, "good", "a", 0, 10), getOp(1, "good", "a", 20, 30),
			setOp(0, "bad", "a", 0, 10), setOp(0, "bad", "b", 20, 30), getOp(1, "bad", "a", 40, 50)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Linearizable(tc.ops, checkTimeout)
			if res.OK != tc.ok || res.Unknown || res.Name != "linearizable" {
				t.Fatalf("OK=%v Unknown=%v, want OK=%v: %s %q", res.OK, res.Unknown, tc.ok, res.Summary, res.Details)
			}
			if _, has := res.Artifacts["linearizability.html"]; has == tc.ok {
				t.Errorf("visualization present=%v, want it exactly on failure", has)
			}
		})
	}
}

// TestLinearizableStaleRead feeds the classic violation — a read returns
// a value overwritten by an acknowledged write that finished before the
// read began — and checks the verdict, the key named in Details, and the
// HTML visualization.
func TestLinearizableStaleRead(t *testing.T) {
	ops := []Op{
		setOp(0, "ok", "1", 0, 5), getOp(1, "ok", "1", 6, 8),
		setOp(0, "reg", "v1", 0, 10),
		setOp(0, "reg", "v2", 20, 30),
		getOp(1, "reg", "v1", 40, 50),
	}
	res := Linearizable(ops, checkTimeout)
	if res.OK || res.Unknown {
		t.Fatalf("OK=%v Unknown=%v, want a violation: %s", res.OK, res.Unknown, res.Summary)
	}
	if !strings.HasPrefix(res.Summary, "NOT linearizable") || res.Metrics["ops"] != 5 || res.Metrics["keys"] != 2 {
		t.Errorf("summary %q metrics %v", res.Summary, res.Metrics)
	}
	if len(res.Details) != 1 || !strings.Contains(res.Details[0], "key reg:") {
		t.Errorf("details %q, want one line naming key reg only", res.Details)
	}
	html := string(res.Artifacts["linearizability.html"])
	for _, want := range []string{"<html", "get(reg)", `set(reg, \"v2\")`} {
		if !strings.Contains(html, want) {
			t.Errorf("visualization (%d bytes) lacks %q", len(html), want)
		}
	}
}

// TestLinearizableTimeoutIsUnknown gives porcupine a history it cannot
// settle quickly (30 concurrent writes and an impossible read: proving the
// violation means trying every subset of writes) and a short timeout: the
// result must be Unknown and OK, not a violation, with the visualization.
func TestLinearizableTimeoutIsUnknown(t *testing.T) {
	var ops []Op
	for i := range 30 {
		ops = append(ops, setOp(i, "x", string(rune('A'+i)), 0, 100))
	}
	ops = append(ops, getOp(30, "x", "never written", 0, 100))
	res := Linearizable(ops, 50*time.Millisecond)
	if !res.OK || !res.Unknown {
		t.Fatalf("OK=%v Unknown=%v, want an unknown verdict: %s", res.OK, res.Unknown, res.Summary)
	}
	if !strings.HasPrefix(res.Summary, "unknown") || len(res.Artifacts["linearizability.html"]) == 0 {
		t.Errorf("summary %q, %d artifacts", res.Summary, len(res.Artifacts))
	}
}
