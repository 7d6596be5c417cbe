package consensus

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/batonkv/baton/coordapi"
	"github.com/hashicorp/raft"
)

// ApplyResult is what FSM.Apply returns for each log entry (as a value):
// the topology after the entry, or as it stood when the entry was refused,
// and the refusal (ErrStaleEpoch, ErrUnknownNode, ErrBadCommand).
type ApplyResult struct {
	Topology coordapi.Topology
	Err      error
}

// FSM is the raft.FSM over a Topology: a thin adapter that decodes
// commands and hands them to Apply, so the rules stay in plain,
// separately tested code.
type FSM struct {
	mu      sync.Mutex
	topo    coordapi.Topology
	changed chan struct{} // closed at the next successful change, then replaced
}

var _ raft.FSM = (*FSM)(nil)

// NewFSM returns an FSM holding an empty topology.
func NewFSM() *FSM {
	return &FSM{topo: coordapi.Topology{State: coordapi.StateStable}, changed: make(chan struct{})}
}

// Apply applies one committed log entry and returns an ApplyResult.
func (f *FSM) Apply(l *raft.Log) any {
	var c Command
	if err := json.Unmarshal(l.Data, &c); err != nil {
		f.mu.Lock()
		defer f.mu.Unlock()
		return ApplyResult{Topology: f.topo.Clone(), Err: fmt.Errorf("consensus: decode log entry %d: %w: %w", l.Index, ErrBadCommand, err)}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.Term != 0 && c.Term != l.Term {
		return ApplyResult{Topology: f.topo.Clone(), Err: fmt.Errorf("consensus: %s: %w: command of term %d in an entry of term %d", c.Op, ErrStaleTerm, c.Term, l.Term)}
	}
	if err := Apply(&f.topo, c); err != nil {
		return ApplyResult{Topology: f.topo.Clone(), Err: err}
	}
	f.signalLocked()
	return ApplyResult{Topology: f.topo.Clone()}
}

// Snapshot captures the current topology; Persist writes it as JSON.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := json.Marshal(f.topo)
	if err != nil {
		return nil, fmt.Errorf("consensus: snapshot: %w", err)
	}
	return fsmSnapshot(b), nil
}

// Restore replaces the topology with a snapshot written by Snapshot.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var t coordapi.Topology
	if err := json.NewDecoder(rc).Decode(&t); err != nil {
		return fmt.Errorf("consensus: restore snapshot: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.topo = t
	f.signalLocked()
	return nil
}

// Current returns a copy of the last applied topology.
func (f *FSM) Current() coordapi.Topology {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.topo.Clone()
}

// Changed returns a channel closed at the next successful change (an
// applied command or a restored snapshot). Call it again after it fires:
// read Current after taking the channel so no change is missed.
func (f *FSM) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

func (f *FSM) signalLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// fsmSnapshot is the JSON encoding of a topology taken under the FSM lock.
type fsmSnapshot []byte

// Persist writes the snapshot to sink.
func (s fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("consensus: persist snapshot: %w", err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("consensus: persist snapshot: %w", err)
	}
	return nil
}

// Release is a no-op: the snapshot holds no resources.
func (fsmSnapshot) Release() {}
