package repl

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/batonkv/baton/node/journal"
)

// Host is the node as replication sees it: everything server-specific the
// replica link and the primary's sender need, without this package
// importing node. "The lock" below is the node's keyspace lock.
type Host interface {
	// Logger is the node's logger.
	Logger() *slog.Logger
	// Go runs fn on a goroutine the node owns (its Close waits for it),
	// or reports false, without running fn, when the node is closing.
	Go(fn func()) bool
	// Local is what a replica says of itself to its primary.
	Local() Local
	// LinkTimeout is how long a link may hear nothing before it is dropped.
	LinkTimeout() time.Duration

	// Epoch is the newest primary epoch the node has seen.
	Epoch() uint64
	// RaiseEpoch persists and adopts a newer epoch; an older one is an
	// error wrapping ErrStaleEpoch.
	RaiseEpoch(epoch uint64) error
	// RefuseEpoch records (counts, logs) a stream from primary refused
	// for its older epoch.
	RefuseEpoch(primary string, theirs uint64)

	// Journal is the node's journal: its history, cursors over its
	// backlog, its LSN.
	Journal() *journal.Journal
	// Status is the replica link's state, shared with the node's ROLE,
	// INFO and metrics.
	Status() *Status
	// Acks tracks the replicas streaming from the node.
	Acks() *Acks
	// Count adds n to the counter of ev.
	Count(ev Event, n int64)

	// ContinueSync adopts the primary's history replid after a partial
	// sync at lsn (the node's own LSN, or an error) and marks the node in
	// sync (Status.SetSynced under the lock).
	ContinueSync(replid string, lsn uint64) error
	// FullSync loads the snapshot body at (replid, lsn) and installs it
	// in place of the node's keyspace and journal, then marks the node in
	// sync (Status.SetSynced under the lock).
	FullSync(ctx context.Context, body io.Reader, replid string, lsn uint64) error
	// ApplyRecords journals and applies raw journal records of the
	// primary's stream under the lock, tx holding a transaction's records
	// until its end, and moves Status.Applied.
	ApplyRecords(tx *Txn, records []byte) error

	// StartSnapshot begins a copy-on-write snapshot of the keyspace at
	// the journal's current LSN for a full sync; the caller holds the
	// lock. next takes the lock for one step and returns the bytes
	// serialized so far (reusing spare's memory once it was sent), done
	// with the last; stop, after next or instead, releases the snapshot
	// (it takes the lock).
	StartSnapshot() (next func(spare []byte) (chunk []byte, done bool, err error), stop func())
}

// Local is what a replica says of itself when it handshakes: its run id
// (a node never follows itself), its listening port, and the password of
// its primaries.
type Local struct {
	RunID string
	Port  int
	// User and Auth are the credentials for the primary: the appliance's
	// internal identity (coordapi.InternalUser and the cluster secret) on a
	// node with a cluster secret, else the default user and masterauth.
	User, Auth string
}

// Event names a counter the host keeps for replication.
type Event int

// Events counted through Host.Count.
const (
	// SyncFull: a full sync served to a replica.
	SyncFull Event = iota
	// SyncPartialOK: a partial sync served.
	SyncPartialOK
	// SyncPartialErr: a partial sync asked for in a known history that
	// the backlog no longer covered.
	SyncPartialErr
	// DivergentTail: a replica came back with n entries of a previous
	// history beyond this node's branch point (its full sync discards
	// them).
	DivergentTail
)
