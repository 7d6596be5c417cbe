package repl

import (
	"errors"
	"sync/atomic"
	"time"
)

// Link states of a replica's connection to its primary, as Redis' ROLE
// names them.
const (
	LinkConnect    = "connect"    // not connected, retrying
	LinkConnecting = "connecting" // connected, handshaking
	LinkSync       = "sync"       // receiving a full sync
	LinkConnected  = "connected"  // streaming
)

// LinkStates lists every link state (metrics export one series each).
var LinkStates = []string{LinkConnect, LinkConnecting, LinkSync, LinkConnected}

// Errors callers branch on.
var (
	// ErrStaleEpoch means a primary's epoch is older than the newest this
	// node has seen: its stream must not be applied.
	ErrStaleEpoch = errors.New("stale epoch")
	// ErrSelf means a REPLICAOF pointed the node at itself.
	ErrSelf = errors.New("can't replicate from myself")
)

// Status is a replica link's state as ROLE, INFO and metrics read it. The
// zero value is ready (state LinkConnect).
type Status struct {
	state atomic.Value // string
	// Applied is the last LSN the replica applied (what it acknowledges).
	Applied atomic.Uint64
	// lastIO is when the replica last heard from its primary (Unix ns).
	lastIO atomic.Int64
	// synced is set once the replica completed a sync (partial or full)
	// with its current primary: only then is its LSN an offset of the
	// primary's history.
	synced atomic.Bool
}

// SetSynced records that the replica completed a sync with its current
// primary (true), or that it has none yet: a new primary, a promotion, a
// full sync under way (false).
func (st *Status) SetSynced(synced bool) { st.synced.Store(synced) }

// Synced reports whether the replica completed a sync with its current
// primary.
func (st *Status) Synced() bool { return st.synced.Load() }

// Offset is the offset a replica advertises given its LSN. A replica that
// has not completed its full sync in the current history reports offset
// 0, and is therefore never a failover candidate: it never advertises an
// offset of an older history (Valkey #885: a stale offset won an election
// and lost data). Callers read lsn and Offset under one hold of the lock
// that SetSynced(true) is called with.
func (st *Status) Offset(lsn uint64) uint64 {
	if !st.synced.Load() {
		return 0
	}
	return lsn
}

// State is the link's state, one of the Link* names.
func (st *Status) State() string {
	if s, ok := st.state.Load().(string); ok {
		return s
	}
	return LinkConnect
}

// setState moves the link to state.
func (st *Status) setState(state string) { st.state.Store(state) }

// heard records that the primary was heard from now.
func (st *Status) heard() { st.lastIO.Store(time.Now().UnixNano()) }

// LastIOSeconds is how long ago the primary was last heard from (INFO's
// master_last_io_seconds_ago), -1 if never.
func (st *Status) LastIOSeconds(now time.Time) int64 {
	t := st.lastIO.Load()
	if t == 0 {
		return -1
	}
	return int64(now.Sub(time.Unix(0, t)) / time.Second)
}
