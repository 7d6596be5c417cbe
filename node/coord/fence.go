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
	// Valid for AckGuard more: a write runs only if its replicas' acks
	// have time to arrive before the lease ends, after which they no
	// longer count (AcksCount) and it would answer NOREPL. Refused here,
	// it is a TRYAGAIN the proxy retries on whoever holds the lease.
	if c.lease.Valid(epoch, now.Add(AckGuard)) {
		return ""
	}
	return coordapi.ErrCodeTryAgain + " no write lease (epoch " + strconv.FormatUint(epoch, 10) +
		"): the primary role is being confirmed or moved; retry"
}

// AckGuard is how long before its lease ends a primary stops running data
// commands (FenceWrite): room for the acknowledgements of the last writes
// it ran, which count only until then.
const AckGuard = 50 * time.Millisecond

// AckDeadline is the last moment a replica's acknowledgement can count
// (AcksCount): the end of the newest lease granted for the node's epoch, or
// the zero time. A write waiting for acknowledgements stops waiting then,
// unless the lease was renewed meanwhile.
func (c *Coordinator) AckDeadline() time.Time {
	return c.lease.GrantedUntil(c.node.Epoch())
}

// AcksCount reports whether a replica's acknowledgement arriving at now
// counts for WAIT and --sync-replicas (repl.Acks.SetGate). It takes no
// lock.
//
// Invariant (issue 16, finding 3): an acknowledgement counts only if,
// when it arrives, no node other than this one can have been made primary
// without the write: while the newest lease granted to this node for its
// current epoch has not ended, revoked or not. Until then
//   - no failover promotes another node: the coordinators wait for that
//     lease to end in their view, which is later than in ours (the node
//     times it from before its renewal was sent);
//   - a takeover may commit another node only after freezing this one and
//     seeing the target hold the freeze LSN; frozen, this node writes
//     nothing past it, so every LSN a replica acknowledges is in the
//     target's history.
//
// After it — a lease that lapsed, a node deposed by a failover, a node
// that learned a newer epoch (its epoch moved: no grant of it) — none
// counts: another node may lead without the write, and a replica that has
// not heard of it yet would still acknowledge it. Writes still waiting
// stop at that moment (AckDeadline) and answer NOREPL; FenceWrite's
// AckGuard leaves the last writes run room for their acks.
func (c *Coordinator) AcksCount(now time.Time) bool {
	return c.lease.Granted(c.node.Epoch(), now)
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
