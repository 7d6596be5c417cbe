package check

import (
	"strings"
	"testing"
)

func TestDigests(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	st := func(node string, primary bool, off uint64, digest string) NodeState {
		return NodeState{Node: node, Primary: primary, Offset: off, Digest: digest}
	}
	tests := []struct {
		name    string
		states  []NodeState
		ok      bool
		summary string
		want    map[string]float64
	}{
		{"no nodes is an audit of nothing", nil, false, "nothing to compare", map[string]float64{"nodes": 0}},
		{"all agree", []NodeState{st("n2", false, 40, a), st("n1", true, 40, a), st("n3", false, 40, a)},
			true, "3 nodes agree at offset 40", map[string]float64{"nodes": 3, "distinct_digests": 1, "max_lag": 0}},
		{"a lone primary agrees with itself", []NodeState{st("n1", true, 7, a)}, true, "1 nodes agree", nil},

		{"diverged at equal offsets", []NodeState{st("n1", true, 40, a), st("n2", false, 40, a), st("n3", false, 40, b)},
			false, "DIVERGED: 2 different digests at offset 40", map[string]float64{"distinct_digests": 2}},
		{"a replica never caught up", []NodeState{st("n1", true, 40, a), st("n2", false, 31, a), st("n3", false, 40, a)},
			false, "offsets never converged: primary n1 at 40, n2 at 31", map[string]float64{"max_lag": 9}},
		{"a replica ahead of the primary", []NodeState{st("n1", true, 40, a), st("n2", false, 45, a)},
			false, "offsets never converged: primary n1 at 40, n2 at 45", map[string]float64{"max_lag": 0}},
		{"a node unreadable", []NodeState{st("n1", true, 40, a), {Node: "n2", Err: "connection refused"}},
			false, "nodes unreadable: n2", nil},
		{"no primary", []NodeState{st("n1", false, 40, a), st("n2", false, 40, a)},
			false, "no node is the primary", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Digests(tc.states)
			if res.OK != tc.ok || res.Name != "digests" || !strings.Contains(res.Summary, tc.summary) {
				t.Fatalf("OK=%v %q, want OK=%v containing %q; details %q", res.OK, res.Summary, tc.ok, tc.summary, res.Details)
			}
			for k, v := range tc.want {
				if got, has := res.Metrics[k]; !has || got != v {
					t.Errorf("metric %s = %v (present %v), want %v", k, got, has, v)
				}
			}
			if len(res.Details) != len(tc.states) {
				t.Errorf("details %q: want one line per node", res.Details)
			}
		})
	}
	res := Digests([]NodeState{st("n1", true, 40, a), st("n2", false, 40, b)})
	if !strings.Contains(strings.Join(res.Details, "\n"), "n2 (replica): offset 40 digest bbbbbbbb") {
		t.Errorf("details %q: want each node's offset and digest prefix", res.Details)
	}
}
