package check

import (
	"fmt"
	"sort"
	"strings"
)

// NodeState is one node's replication offset and dataset digest, read at
// the end of a run once the cluster is healed.
type NodeState struct {
	Node string
	// Primary is true for the topology's primary.
	Primary bool
	// Offset is the node's replication offset (INFO replication's
	// master_repl_offset: the primary's last LSN, a replica's applied LSN).
	Offset uint64
	// Digest is the node's DIGEST ("" when unread).
	Digest string
	// Err is why the node could not be read ("" when it was).
	Err string
}

// Digests checks that every node holds the same data once healed: the
// caller waited (bounded) until every replica's offset reached the
// primary's and then read each node's DIGEST. It fails when a node could
// not be read, when the offsets never converged (a replica that never
// catches up is as good as a diverged one), when no node names the primary,
// or when the digests differ although the offsets agree — replicas that
// diverged silently. It fails on no nodes at all: an audit of nothing
// proves nothing.
//
// Details list every node's role, offset and digest (an 8-hex prefix).
// Metrics: nodes, distinct_digests, max_lag (the primary's offset minus
// the lowest replica offset, 0 when converged).
func Digests(states []NodeState) Result {
	res := Result{Name: "digests", Metrics: map[string]float64{"nodes": float64(len(states))}}
	if len(states) == 0 {
		res.Summary = "no node states: nothing to compare"
		return res
	}
	ss := append([]NodeState(nil), states...)
	sort.Slice(ss, func(i, j int) bool { return ss[i].Node < ss[j].Node })
	var d details
	var unread []string
	primary := -1
	digests := map[string]bool{}
	for i, s := range ss {
		role := "replica"
		if s.Primary {
			role, primary = "primary", i
		}
		if s.Err != "" {
			unread = append(unread, s.Node)
			d.addf("%s (%s): unreadable: %s", s.Node, role, s.Err)
			continue
		}
		digests[s.Digest] = true
		d.addf("%s (%s): offset %d digest %s", s.Node, role, s.Offset, short(s.Digest))
	}
	res.Metrics["distinct_digests"] = float64(len(digests))
	res.Details = d.list()
	if primary < 0 {
		res.Summary = "no node is the primary: offsets cannot be compared"
		return res
	}
	var behind []string
	lag := uint64(0)
	for _, s := range ss {
		if s.Err == "" && !s.Primary && s.Offset != ss[primary].Offset {
			behind = append(behind, fmt.Sprintf("%s at %d", s.Node, s.Offset))
			if s.Offset < ss[primary].Offset {
				lag = max(lag, ss[primary].Offset-s.Offset)
			}
		}
	}
	res.Metrics["max_lag"] = float64(lag)
	switch {
	case len(unread) > 0:
		res.Summary = "nodes unreadable: " + strings.Join(unread, ", ")
	case len(behind) > 0:
		res.Summary = fmt.Sprintf("offsets never converged: primary %s at %d, %s",
			ss[primary].Node, ss[primary].Offset, strings.Join(behind, ", "))
	case len(digests) > 1:
		res.Summary = fmt.Sprintf("DIVERGED: %d different digests at offset %d", len(digests), ss[primary].Offset)
	default:
		res.OK = true
		res.Summary = fmt.Sprintf("%d nodes agree at offset %d (digest %s)", len(ss), ss[primary].Offset, short(ss[primary].Digest))
	}
	return res
}

// short abbreviates a digest for the report.
func short(digest string) string {
	if len(digest) > 8 {
		return digest[:8]
	}
	if digest == "" {
		return `""`
	}
	return digest
}
