package coordapi

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Node is a datastore node of the shard, as the coordinator group knows it.
type Node struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
	// ReplAddr, when set, is where replicas reach this node for
	// replication (a separate network, or a path with its own faults in
	// chaos runs); clients, proxies and probes use Addr.
	ReplAddr string `json:"repl_addr,omitempty"`
}

// ReplicationAddr is the address replicas of n dial.
func (n Node) ReplicationAddr() string {
	if n.ReplAddr != "" {
		return n.ReplAddr
	}
	return n.Addr
}

// Coordinator is a member of the coordinator Raft group: its Raft address
// (peer links) and its API address (where nodes, proxies and ctl reach it).
// The list lives in the topology so that every member, leader or not, can
// tell a client where the others are.
type Coordinator struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	APIAddr  string `json:"api_addr"`
}

// State is the shard's phase with respect to changing its primary.
type State string

// The shard's states: stable (no change under way), failover (the leader is
// replacing a lost primary), takeover (a planned handover is in progress).
const (
	StateStable   State = "stable"
	StateFailover State = "failover"
	StateTakeover State = "takeover"
)

// Valid reports whether s is one of the known states.
func (s State) Valid() bool {
	return s == StateStable || s == StateFailover || s == StateTakeover
}

// Takeover records a planned handover in Raft so that a new coordinator
// leader can finish or roll back a takeover it did not start.
type Takeover struct {
	// ID is the topology Version at which the takeover was recorded; the
	// old primary is frozen and unfrozen under this ID, so a late message
	// of an earlier takeover never thaws a node a later one froze.
	ID       uint64    `json:"id"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Deadline time.Time `json:"deadline"`
	Step     string    `json:"step"`
}

// Promotion is the point in the replication histories at which the current
// primary was promoted: the replid it minted and the LSN its history starts
// after. Replicas that continue with it switch history at that LSN.
type Promotion struct {
	Replid string `json:"replid"`
	LSN    uint64 `json:"lsn"`
}

// Topology is the one record the coordinator group replicates per shard.
// Epoch moves only through Raft-committed compare-and-sets (see
// consensus.Apply): a primary is primary *of an epoch*, and nothing acts on
// an epoch before it is committed.
type Topology struct {
	// Version counts the commands applied: every change, including the
	// steps of a takeover at an unchanged epoch, moves it up by one, so
	// readers (proxies) can tell the newer of two records of one epoch.
	Version      uint64        `json:"version"`
	Epoch        uint64        `json:"epoch"`
	Primary      string        `json:"primary"`
	Members      []Node        `json:"members"`
	State        State         `json:"state"`
	Takeover     *Takeover     `json:"takeover"`
	PromotedAt   Promotion     `json:"promoted_at"`
	Coordinators []Coordinator `json:"coordinators"`
}

// Decode parses a topology record from its JSON.
func Decode(js string) (Topology, error) {
	var t Topology
	if err := json.Unmarshal([]byte(js), &t); err != nil {
		return Topology{}, fmt.Errorf("decode topology: %w", err)
	}
	return t, nil
}

// JSON encodes t as the API serves it.
func (t Topology) JSON() string {
	b, err := json.Marshal(t)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// Compare orders two records of the shard: the higher epoch is newer, and
// of one epoch the higher version. It returns +1 when t is newer than o, -1
// when o is newer, 0 when neither is. This is the only "which is newer"
// rule: epochs never go back, and within an epoch the version orders a
// takeover's start (hold) and its rollback (release).
func (t Topology) Compare(o Topology) int {
	if c := cmp.Compare(t.Epoch, o.Epoch); c != 0 {
		return c
	}
	return cmp.Compare(t.Version, o.Version)
}

// NewerThan reports whether t is newer than o (see Compare).
func (t Topology) NewerThan(o Topology) bool { return t.Compare(o) > 0 }

// Member returns the member with the given ID.
func (t Topology) Member(id string) (Node, bool) {
	for _, n := range t.Members {
		if n.ID == id {
			return n, true
		}
	}
	return Node{}, false
}

// AddrOf is the advertised address of node id ("" when not a member).
func (t Topology) AddrOf(id string) string {
	n, _ := t.Member(id)
	return n.Addr
}

// ReplAddrOf is the address to replicate from node id ("" when not a
// member).
func (t Topology) ReplAddrOf(id string) string {
	n, ok := t.Member(id)
	if !ok {
		return ""
	}
	return n.ReplicationAddr()
}

// PrimaryAddr returns the current primary's address, "" when the shard has
// no primary (or, which consensus.Apply prevents, the primary is not a
// member).
func (t Topology) PrimaryAddr() string {
	if t.Primary == "" {
		return ""
	}
	return t.AddrOf(t.Primary)
}

// InTakeover reports whether a planned handover is under way: the primary
// is about to refuse commands with -TAKENOVER, so a proxy holds them.
func (t Topology) InTakeover() bool { return t.State == StateTakeover }

// ReplicaIDs lists the members other than the primary, in member order.
func (t Topology) ReplicaIDs() []string {
	var out []string
	for _, m := range t.Members {
		if m.ID != t.Primary {
			out = append(out, m.ID)
		}
	}
	return out
}

// MemberAddrs lists the advertised addresses of every member.
func (t Topology) MemberAddrs() []string {
	out := make([]string, 0, len(t.Members))
	for _, m := range t.Members {
		out = append(out, m.Addr)
	}
	return out
}

// Coordinator returns the coordinator with the given ID.
func (t Topology) Coordinator(id string) (Coordinator, bool) {
	for _, c := range t.Coordinators {
		if c.ID == id {
			return c, true
		}
	}
	return Coordinator{}, false
}

// Clone returns a deep copy: callers may keep or modify it without touching
// the original (the FSM's state, a cached view).
func (t Topology) Clone() Topology {
	c := t
	c.Members = slices.Clone(t.Members)
	c.Coordinators = slices.Clone(t.Coordinators)
	if t.Takeover != nil {
		to := *t.Takeover
		c.Takeover = &to
	}
	return c
}
