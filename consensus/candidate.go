package consensus

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/batonkv/baton/coordapi"
)

// ReplicaStatus is what a probe learned about one node (PING + ROLE).
type ReplicaStatus struct {
	ID        string
	Reachable bool
	// Following is the "host:port" the replica replicates from (ROLE), ""
	// if it is a primary.
	Following string
	// LinkState is ROLE's link state: connect, connecting, sync, connected.
	LinkState string
	// Offset is ROLE's offset: the replica's LSN in the current history, 0
	// until it completed a sync with its current primary.
	Offset uint64
	// Role is "master" or "slave".
	Role string
}

// ErrNoCandidate is returned by ChooseCandidate when no replica may be
// promoted without losing acknowledged history.
var ErrNoCandidate = errors.New("no eligible replica")

// ChooseCandidate picks the replica to promote when t's primary is lost. A
// candidate is a member other than the primary that is reachable, a
// replica ("slave") of t's primary address, not in a full sync, with a
// completed sync (Offset > 0): only such a replica is known to hold a prefix of the
// primary's history. The highest offset wins (it lost the least), ties go
// to the smallest ID so every coordinator picks the same node. Otherwise
// the error wraps ErrNoCandidate with a reason per member.
func ChooseCandidate(t coordapi.Topology, st []ReplicaStatus) (string, error) {
	return ChooseCandidateAtLeast(t, st, 0)
}

// ChooseCandidateAtLeast is ChooseCandidate among the replicas whose offset
// is at least acked, the highest LSN t's primary reported as acknowledged
// by its --sync-replicas replicas (0: none reported).
//
// Invariant: a failover never promotes a replica behind an LSN the primary
// reported as acknowledged: that replica's history lacks writes clients
// were told are durable, and promoting it discards them when the old
// primary's side rejoins. With no such replica there is no candidate: the
// caller retries on the next probe (a replica may catch up, or a partition
// heal) instead of promoting a stale one. See DESIGN.md, "The acknowledged
// LSN".
func ChooseCandidateAtLeast(t coordapi.Topology, st []ReplicaStatus, acked uint64) (string, error) {
	byID := make(map[string]ReplicaStatus, len(st))
	for _, s := range st {
		byID[s.ID] = s
	}
	primary, _ := t.Member(t.Primary)
	var best *ReplicaStatus
	var reasons []string
	for _, m := range t.Members {
		if m.ID == t.Primary {
			continue
		}
		s, ok := byID[m.ID]
		if !ok {
			reasons = append(reasons, m.ID+": no status")
			continue
		}
		if why := ineligible(s, primary); why != "" {
			reasons = append(reasons, m.ID+": "+why)
			continue
		}
		if s.Offset < acked {
			reasons = append(reasons, fmt.Sprintf("%s: offset %d behind the acknowledged LSN %d", m.ID, s.Offset, acked))
			continue
		}
		if best == nil || s.Offset > best.Offset || (s.Offset == best.Offset && s.ID < best.ID) {
			best = &s
		}
	}
	if best != nil {
		return best.ID, nil
	}
	slices.Sort(reasons)
	if len(reasons) == 0 {
		reasons = []string{"no replicas"}
	}
	return "", fmt.Errorf("%w (epoch %d, primary %s): %s", ErrNoCandidate, t.Epoch, t.Primary, strings.Join(reasons, ", "))
}

// ineligible returns why s may not be promoted, "" if it may.
func ineligible(s ReplicaStatus, primary coordapi.Node) string {
	switch {
	case !s.Reachable:
		return "unreachable"
	case s.Role != "slave":
		return "role " + s.Role
	case primary.Addr == "" || !replicatedFrom(primary, s.Following):
		// A replica of another primary holds another history.
		return "follows " + s.Following + ", not " + primary.ReplicationAddr()
	case s.LinkState == "sync":
		// Mid full sync: its data is neither the old nor a prefix of the
		// new. (Other states are fine: with the primary gone, a synced
		// replica's link is down — "connect" — while it retries.)
		return "state " + s.LinkState
	case s.Offset == 0:
		return "offset 0"
	}
	return ""
}

// replicatedFrom reports whether a replica that follows addr (ROLE)
// follows n: through its replication address or its client address.
func replicatedFrom(n coordapi.Node, addr string) bool {
	return addr != "" && (addr == n.Addr || addr == n.ReplAddr)
}

// CheckAckers reports an error (wrapping ErrNoCandidate) when a replica t's
// primary may have counted for an acknowledged write is not seen in st: a
// write acknowledged under --sync-replicas k lives on k replicas, so among
// t's n other members at least n-k+1 must be eligible (reachable, a synced
// replica of the primary: their offsets are known) for one of them to hold
// it — and then the highest offset among them holds it too. replicas is k
// as the primary reported it: 0 means no write was promised durable (no
// check); -1 means this leader has no report for the epoch (an older node,
// or the primary never renewed with this leader), and then every member
// must be seen.
//
// Invariant: this is what makes a failover safe for writes the primary
// acknowledged after its last report (between its last renewal and the end
// of its lease): the leader cannot know their LSNs, but it can see every
// replica that may hold them.
func CheckAckers(t coordapi.Topology, st []ReplicaStatus, replicas int) error {
	if replicas == 0 {
		return nil
	}
	byID := make(map[string]ReplicaStatus, len(st))
	for _, s := range st {
		byID[s.ID] = s
	}
	primary, _ := t.Member(t.Primary)
	n, seen := 0, 0
	var unseen []string
	for _, m := range t.Members {
		if m.ID == t.Primary {
			continue
		}
		n++
		if s, ok := byID[m.ID]; ok && ineligible(s, primary) == "" {
			seen++
		} else {
			unseen = append(unseen, m.ID)
		}
	}
	need := n
	if replicas > 0 {
		need = n - replicas + 1
	}
	if seen >= need {
		return nil
	}
	slices.Sort(unseen)
	k := "unknown"
	if replicas > 0 {
		k = fmt.Sprint(replicas)
	}
	return fmt.Errorf("%w (epoch %d, primary %s): %d of %d replicas seen, %d needed (sync-replicas %s): %s may hold acknowledged writes",
		ErrNoCandidate, t.Epoch, t.Primary, seen, n, need, k, strings.Join(unseen, ", "))
}
