package consensus

import (
	"errors"
	"fmt"
	"slices"

	"github.com/batonkv/baton/coordapi"
)

// Op names a topology change carried by the Raft log.
type Op string

// The operations a Command can carry; see Apply for their rules.
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
	Node *coordapi.Node `json:"node,omitempty"`
	// ID names the node to deregister or the coordinator to remove.
	ID string `json:"id,omitempty"`
	// FromEpoch is the epoch the proposer saw (promote, set_state): the
	// command applies only if Topology.Epoch still equals it.
	FromEpoch uint64 `json:"from_epoch,omitempty"`
	// Primary is the new primary's node ID (promote).
	Primary string `json:"primary,omitempty"`
	// PromotedAt is where the new primary's history starts (promote).
	PromotedAt *coordapi.Promotion `json:"promoted_at,omitempty"`
	// Coordinator is the coordinator to add or update (set_coordinator).
	Coordinator *coordapi.Coordinator `json:"coordinator,omitempty"`
	// FromVersion, when non-zero, is the Version the proposer saw: the
	// command applies only if nothing else was applied since. A takeover
	// chains its steps and its final promote this way, so a rollback
	// committed by another leader makes every later step of it fail.
	FromVersion uint64 `json:"from_version,omitempty"`
	// Term, when non-zero, binds the command to the Raft term it was
	// proposed in (the FSM checks the log entry's term): a failover's
	// promote is valid only in the term whose lease wait it follows.
	Term uint64 `json:"term,omitempty"`
	// State and Takeover are the new phase (set_state).
	State    coordapi.State     `json:"state,omitempty"`
	Takeover *coordapi.Takeover `json:"takeover,omitempty"`
}

// Errors returned by Apply (and so by Raft.Apply); check them with
// errors.Is.
var (
	// ErrStaleEpoch: the command's FromEpoch is not the current epoch; some
	// other change won the compare-and-set. Re-read and decide again.
	ErrStaleEpoch = errors.New("stale epoch")
	// ErrUnknownNode: the command names a node that is not a member.
	ErrUnknownNode = errors.New("unknown node")
	// ErrStaleTerm: the command was bound to a Raft term (Command.Term)
	// and its log entry belongs to another; leadership moved meanwhile.
	ErrStaleTerm = errors.New("stale term")
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
func Apply(t *coordapi.Topology, c Command) error {
	if c.FromVersion != 0 && c.FromVersion != t.Version {
		return fmt.Errorf("consensus: %s: %w: command from version %d, topology at version %d",
			c.Op, ErrStaleEpoch, c.FromVersion, t.Version)
	}
	next := t.Clone()
	if err := apply(&next, c); err != nil {
		return fmt.Errorf("consensus: %s: %w", c.Op, err)
	}
	next.Version++
	*t = next
	return nil
}

// apply mutates t in place; Apply calls it on a clone.
func apply(t *coordapi.Topology, c Command) error {
	switch c.Op {
	case OpRegister:
		return register(t, c)
	case OpDeregister:
		return deregister(t, c)
	case OpPromote:
		return promote(t, c)
	case OpSetCoordinator:
		if c.Coordinator == nil || c.Coordinator.ID == "" {
			return fmt.Errorf("%w: coordinator with an ID required", ErrBadCommand)
		}
		i := slices.IndexFunc(t.Coordinators, func(x coordapi.Coordinator) bool { return x.ID == c.Coordinator.ID })
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
		t.Coordinators = slices.DeleteFunc(t.Coordinators, func(x coordapi.Coordinator) bool { return x.ID == c.ID })
		return nil
	case OpSetState:
		if err := checkEpoch(t, c.FromEpoch); err != nil {
			return err
		}
		if !c.State.Valid() {
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

func register(t *coordapi.Topology, c Command) error {
	if c.Node == nil || c.Node.ID == "" || c.Node.Addr == "" {
		return fmt.Errorf("%w: node with an ID and an address required", ErrBadCommand)
	}
	i := slices.IndexFunc(t.Members, func(n coordapi.Node) bool { return n.ID == c.Node.ID })
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
		t.State = coordapi.StateStable
		t.Takeover = nil
		t.PromotedAt = coordapi.Promotion{}
	}
	if t.State == "" {
		t.State = coordapi.StateStable
	}
	return nil
}

func deregister(t *coordapi.Topology, c Command) error {
	if c.ID == "" {
		return fmt.Errorf("%w: id required", ErrBadCommand)
	}
	if c.ID == t.Primary {
		return fmt.Errorf("%w: %s is the primary of epoch %d", ErrBadCommand, c.ID, t.Epoch)
	}
	if _, ok := t.Member(c.ID); !ok {
		return fmt.Errorf("%w: %s", ErrUnknownNode, c.ID)
	}
	t.Members = slices.DeleteFunc(t.Members, func(n coordapi.Node) bool { return n.ID == c.ID })
	return nil
}

func promote(t *coordapi.Topology, c Command) error {
	if err := checkEpoch(t, c.FromEpoch); err != nil {
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
	t.State = coordapi.StateStable
	t.Takeover = nil
	t.PromotedAt = coordapi.Promotion{}
	if c.PromotedAt != nil {
		t.PromotedAt = *c.PromotedAt
	}
	return nil
}

// checkEpoch is the compare-and-set guard of promote and set_state.
func checkEpoch(t *coordapi.Topology, from uint64) error {
	if from != t.Epoch {
		return fmt.Errorf("%w: command from epoch %d, topology at epoch %d", ErrStaleEpoch, from, t.Epoch)
	}
	return nil
}
