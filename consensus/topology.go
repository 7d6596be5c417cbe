package consensus

import (
	"errors"
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

// valid reports whether s is one of the known states.
func (s State) valid() bool {
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
// Epoch moves only through Raft-committed compare-and-sets (see Apply): a
// primary is primary *of an epoch*, and nothing acts on an epoch before it
// is committed.
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

// Member returns the member with the given ID.
func (t Topology) Member(id string) (Node, bool) {
	for _, n := range t.Members {
		if n.ID == id {
			return n, true
		}
	}
	return Node{}, false
}

// PrimaryAddr returns the current primary's address, "" when the shard has
// no primary (or, which Apply prevents, the primary is not a member).
func (t Topology) PrimaryAddr() string {
	if t.Primary == "" {
		return ""
	}
	n, ok := t.Member(t.Primary)
	if !ok {
		return ""
	}
	return n.Addr
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
// the FSM's state.
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

// Op names a topology change carried by the Raft log.
type Op string

// The operations a Command can carry; see Topology.Apply for their rules.
const (
	OpRegister          Op = "register"
	OpDeregister        Op = "deregister"
	OpPromote           Op = "promote"
	OpSetCoordinator    Op = "set_coordinator"
	OpRemoveCoordinator Op = "remove_coordinator"
	OpSetState          Op = "set_state"
)

// Command is one topology change as the Raft log carries it (JSON-encoded).
// Which fields matter depends on Op.
type Command struct {
	Op Op `json:"op"`
	// Node is the node to register.
	Node *Node `json:"node,omitempty"`
	// ID names the node to deregister or the coordinator to remove.
	ID string `json:"id,omitempty"`
	// FromEpoch is the epoch the proposer saw (promote, set_state): the
	// command applies only if Topology.Epoch still equals it.
	FromEpoch uint64 `json:"from_epoch,omitempty"`
	// Primary is the new primary's node ID (promote).
	Primary string `json:"primary,omitempty"`
	// PromotedAt is where the new primary's history starts (promote).
	PromotedAt *Promotion `json:"promoted_at,omitempty"`
	// Coordinator is the coordinator to add or update (set_coordinator).
	Coordinator *Coordinator `json:"coordinator,omitempty"`
	// FromVersion, when non-zero, is the Version the proposer saw: the
	// command applies only if nothing else was applied since. A takeover
	// chains its steps and its final promote this way, so a rollback
	// committed by another leader makes every later step of it fail.
	FromVersion uint64 `json:"from_version,omitempty"`
	// State and Takeover are the new phase (set_state).
	State    State     `json:"state,omitempty"`
	Takeover *Takeover `json:"takeover,omitempty"`
}

// Errors returned by Topology.Apply (and so by Raft.Apply); check them with
// errors.Is.
var (
	// ErrStaleEpoch: the command's FromEpoch is not the current epoch; some
	// other change won the compare-and-set. Re-read and decide again.
	ErrStaleEpoch = errors.New("stale epoch")
	// ErrUnknownNode: the command names a node that is not a member.
	ErrUnknownNode = errors.New("unknown node")
	// ErrBadCommand: the command is malformed or forbidden (e.g. removing
	// the current primary).
	ErrBadCommand = errors.New("bad command")
)

// Apply applies c to t. It is pure and deterministic, since every member
// applies the same log and must reach the same state. On error t is
// unchanged. Rules:
//   - register: add the node, or update its Addr; when the shard has no
//     primary, the registering node becomes primary and Epoch goes +1 (so
//     the first node of a fresh shard is primary of epoch 1).
//   - deregister: remove a member (ErrUnknownNode if absent); removing the
//     current primary is refused (ErrBadCommand).
//   - promote: FromEpoch must equal Epoch (else ErrStaleEpoch) and Primary
//     must be a member (else ErrUnknownNode); then Epoch+1, the new
//     primary, State stable, no takeover, PromotedAt as given (else zero).
//   - set_coordinator: add or update by ID; remove_coordinator: remove by
//     ID (absent is not an error, so retries are harmless).
//   - set_state: FromEpoch compare-and-set as promote; sets State and
//     Takeover, the epoch does not move.
//
// Any command with a non-zero FromVersion also needs Version to equal it
// (else ErrStaleEpoch). Every applied command increments Version.
func (t *Topology) Apply(c Command) error {
	if c.FromVersion != 0 && c.FromVersion != t.Version {
		return fmt.Errorf("consensus: %s: %w: command from version %d, topology at version %d",
			c.Op, ErrStaleEpoch, c.FromVersion, t.Version)
	}
	next := t.Clone()
	if err := next.apply(c); err != nil {
		return fmt.Errorf("consensus: %s: %w", c.Op, err)
	}
	next.Version++
	*t = next
	return nil
}

// apply mutates t in place; Apply calls it on a clone.
func (t *Topology) apply(c Command) error {
	switch c.Op {
	case OpRegister:
		return t.register(c)
	case OpDeregister:
		return t.deregister(c)
	case OpPromote:
		return t.promote(c)
	case OpSetCoordinator:
		if c.Coordinator == nil || c.Coordinator.ID == "" {
			return fmt.Errorf("%w: coordinator with an ID required", ErrBadCommand)
		}
		i := slices.IndexFunc(t.Coordinators, func(x Coordinator) bool { return x.ID == c.Coordinator.ID })
		if i < 0 {
			t.Coordinators = append(t.Coordinators, *c.Coordinator)
		} else {
			t.Coordinators[i] = *c.Coordinator
		}
		return nil
	case OpRemoveCoordinator:
		if c.ID == "" {
			return fmt.Errorf("%w: id required", ErrBadCommand)
		}
		t.Coordinators = slices.DeleteFunc(t.Coordinators, func(x Coordinator) bool { return x.ID == c.ID })
		return nil
	case OpSetState:
		if err := t.checkEpoch(c.FromEpoch); err != nil {
			return err
		}
		if !c.State.valid() {
			return fmt.Errorf("%w: unknown state %q", ErrBadCommand, c.State)
		}
		t.State = c.State
		t.Takeover = nil
		if c.Takeover != nil {
			to := *c.Takeover
			t.Takeover = &to
		}
		return nil
	default:
		return fmt.Errorf("%w: unknown op %q", ErrBadCommand, c.Op)
	}
}

func (t *Topology) register(c Command) error {
	if c.Node == nil || c.Node.ID == "" || c.Node.Addr == "" {
		return fmt.Errorf("%w: node with an ID and an address required", ErrBadCommand)
	}
	i := slices.IndexFunc(t.Members, func(n Node) bool { return n.ID == c.Node.ID })
	if i < 0 {
		t.Members = append(t.Members, *c.Node)
	} else {
		t.Members[i].Addr = c.Node.Addr
		t.Members[i].ReplAddr = c.Node.ReplAddr
	}
	if t.Primary == "" {
		// A fresh shard: its first node is primary of a new epoch. No
		// other node can hold that epoch, so no compare-and-set is needed.
		t.Primary = c.Node.ID
		t.Epoch++
		t.State = StateStable
		t.Takeover = nil
		t.PromotedAt = Promotion{}
	}
	if t.State == "" {
		t.State = StateStable
	}
	return nil
}

func (t *Topology) deregister(c Command) error {
	if c.ID == "" {
		return fmt.Errorf("%w: id required", ErrBadCommand)
	}
	if c.ID == t.Primary {
		return fmt.Errorf("%w: %s is the primary of epoch %d", ErrBadCommand, c.ID, t.Epoch)
	}
	if _, ok := t.Member(c.ID); !ok {
		return fmt.Errorf("%w: %s", ErrUnknownNode, c.ID)
	}
	t.Members = slices.DeleteFunc(t.Members, func(n Node) bool { return n.ID == c.ID })
	return nil
}

func (t *Topology) promote(c Command) error {
	if err := t.checkEpoch(c.FromEpoch); err != nil {
		return err
	}
	if c.Primary == "" {
		return fmt.Errorf("%w: primary required", ErrBadCommand)
	}
	if _, ok := t.Member(c.Primary); !ok {
		return fmt.Errorf("%w: %s", ErrUnknownNode, c.Primary)
	}
	// Epoch N -> N+1: the only way a primary changes.
	t.Epoch++
	t.Primary = c.Primary
	t.State = StateStable
	t.Takeover = nil
	t.PromotedAt = Promotion{}
	if c.PromotedAt != nil {
		t.PromotedAt = *c.PromotedAt
	}
	return nil
}

// checkEpoch is the compare-and-set guard of promote and set_state.
func (t *Topology) checkEpoch(from uint64) error {
	if from != t.Epoch {
		return fmt.Errorf("%w: command from epoch %d, topology at epoch %d", ErrStaleEpoch, from, t.Epoch)
	}
	return nil
}
