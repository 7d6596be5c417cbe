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

// HoldsLease reports whether the node holds a valid lease of its current
// epoch at now (what FenceWrite requires). It takes no lock.
func (c *Coordinator) HoldsLease(now time.Time) bool {
	return c.lease.Valid(c.node.Epoch(), now)
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
