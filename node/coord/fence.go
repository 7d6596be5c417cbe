package coord

import (
	"strconv"
	"time"

	"github.com/batonkv/baton/coordapi"
)

// FenceWrite reports why a data command (a write, or on a primary a
// keyspace read) must be refused on this (non-replica) node — the
// -TRYAGAIN error reply — or "" when it may run: a coordinated node needs
// a valid lease of its current epoch now. The caller holds the keyspace
// lock. It allocates only the refusal.
func (c *Coordinator) FenceWrite() string {
	// The clock is read for every command, not once per pipeline: a long
	// pipeline must not run writes, nor serve reads, past the lease's end.
	now := time.Now()
	epoch := c.node.Epoch()
	if c.lease.Valid(epoch, now) {
		return ""
	}
	return coordapi.ErrCodeTryAgain + " no write lease (epoch " + strconv.FormatUint(epoch, 10) +
		"): the primary role is being confirmed or moved; retry"
}

// AcksCount reports whether a replica's acknowledgement arriving at now
// counts for WAIT and --sync-replicas (repl.Acks.SetGate). It takes no
// lock.
//
// Invariant (issue 16, finding 3): an acknowledgement counts only if,
// when it arrives, no node other than this one can have been made primary
// without the write. Two cases are safe:
//   - The node holds a valid lease of its current epoch (what FenceWrite
//     requires): the coordinators promote nobody else before that lease
//     ends in their view, which is after it ends in ours.
//   - The node is frozen by a takeover and the lease last granted for its
//     current epoch has not ended, although the takeover revoked it (the
//     coordinators refuse its renewals from the takeover's intent on).
//     Frozen, the node writes nothing past the freeze LSN, so every LSN a
//     replica acknowledges is at most that; a failover still waits for
//     that lease's end; and the takeover commits the target only once it
//     holds the freeze LSN. So whoever may lead holds the write. These
//     acks are what lets the writes in flight at the freeze settle during
//     its checkpoint, after the renewals stopped: otherwise a takeover
//     under replication latency would answer them NOREPL.
//
// Anything else — a lease that lapsed, a node deposed by a failover, a
// node that learned a newer epoch — does not count: the coordinators may
// already have made another node primary whose history lacks the write,
// and a replica that has not heard of it yet would still acknowledge it.
func (c *Coordinator) AcksCount(now time.Time) bool {
	epoch := c.node.Epoch()
	if c.lease.Valid(epoch, now) {
		return true
	}
	return c.node.FrozenBy() != 0 && c.lease.Granted(epoch, now)
}

// Thawed logs, as the node leaves a takeover's freeze at now, what is left
// of its lease as a new window: writes resume under it (the audit's view
// stays a superset).
func (c *Coordinator) Thawed(now time.Time) {
	if left, epoch := c.lease.Left(now); left > 0 {
		c.logWindow(epoch, now, left)
	}
}

// logWindow appends a granted lease window to the lease log, unless the
// node is frozen: nothing is accepted under a grant that lands then.
func (c *Coordinator) logWindow(epoch uint64, from time.Time, d time.Duration) {
	if c.node.FrozenBy() != 0 {
		return
	}
	c.leaseLog.Window(epoch, from, d)
}
