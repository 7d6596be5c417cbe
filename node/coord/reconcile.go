package coord

import (
	"fmt"
	"net"

	"github.com/batonkv/baton/coordapi"
)

// Reconciliation: every record the node learns (REGISTER's reply, the watch
// stream, the poll) is turned into an action by decide, a pure function of
// the record and the node's state, and then carried out by Reconcile.
//
// Invariants:
//   - Epochs only grow: a record older than the node's epoch is ignored,
//     and a newer epoch is persisted before the node acts on it.
//   - A node that learns of a newer epoch in which it is not primary
//     demotes itself: it follows that epoch's primary.
//   - Order matters for safety: a node that is no longer primary drops its
//     lease before anything else (it stops taking writes at once); a node
//     that becomes primary adopts the epoch and promotes before it asks for
//     a lease, so no write runs under an epoch it has not persisted.

// action is what the node must do about one record.
type action struct {
	// ignore: the record is older than the node's epoch; do nothing.
	ignore bool
	// epoch is the epoch to adopt (raise to) before anything else.
	epoch uint64
	// lead: this node is primary of epoch; keep (or start) the lease.
	lead bool
	// promote: lead, and the node is a replica that must become primary.
	promote bool
	// follow is the primary's address to replicate from ("" when the
	// node already does, or leads, or the primary is unknown).
	follow string
	// reason explains a non-leading action without a target (logs).
	reason string
}

// decide maps a record and the node's state to an action. A record whose
// epoch is older than the node's is ignored (epochs never go back; a
// lagging coordinator follower may still send one). Otherwise the node
// adopts the epoch and either leads it or follows its primary.
func decide(t coordapi.Topology, v View) action {
	if t.Epoch < v.Epoch {
		return action{ignore: true, reason: fmt.Sprintf("topology epoch %d is older than ours (%d)", t.Epoch, v.Epoch)}
	}
	a := action{epoch: t.Epoch}
	switch {
	case t.Primary == "":
		a.reason = "the topology names no primary"
	case t.Primary == v.ID:
		a.lead = true
		a.promote = v.Replica
	default:
		addr := normalizeAddr(t.ReplAddrOf(t.Primary))
		switch {
		case addr == "":
			a.reason = fmt.Sprintf("primary %q has no address in the topology", t.Primary)
		case v.Replica && normalizeAddr(v.Primary) == addr:
			// Already following it.
		default:
			a.follow = addr
		}
	}
	return a
}

// normalizeAddr writes "host:port" the way REPLICAOF stores it, so the
// record's address compares equal to the node's current primary ("" when
// it does not parse).
func normalizeAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || port == "" {
		return ""
	}
	return net.JoinHostPort(host, port)
}

// Reconcile carries out the action a record calls for. Failures (a
// REPLICAOF whose handshake fails, an epoch that cannot be persisted) are
// logged and reported: the caller retries soon (a new primary often has
// not adopted its epoch yet when its replicas first knock), and at every
// later record or poll: the node never gives up.
func (c *Coordinator) Reconcile(t coordapi.Topology) (failed bool) {
	c.thawIfOver(t)
	a := decide(t, c.node.View())
	if a.ignore {
		c.log.Debug("topology ignored", "reason", a.reason)
		return false
	}
	if !a.lead {
		// First of all: stop taking writes.
		c.lease.Release()
	}
	if err := c.node.RaiseEpoch(a.epoch); err != nil {
		c.log.Error("cannot adopt the topology's epoch", "epoch", a.epoch, "err", err)
		return true
	}
	switch {
	case a.lead:
		if a.promote {
			c.log.Info("topology names this node primary; promoting", "epoch", a.epoch)
			c.node.Promote()
		}
		c.lease.Claim(a.epoch)
	case a.follow != "":
		return c.follow(t, a)
	case a.reason != "":
		c.log.Debug("no primary to follow", "epoch", a.epoch, "reason", a.reason)
	}
	return false
}

// follow makes the node replicate from the record's primary at a.follow
// (demoting it if it was primary); failed reports a REPLICAOF to retry.
func (c *Coordinator) follow(t coordapi.Topology, a action) (failed bool) {
	if a.follow == c.advertised() {
		c.log.Error("topology's primary has this node's address; not replicating from myself",
			"primary", t.Primary, "addr", a.follow)
		return false
	}
	c.log.Info("following the topology's primary", "epoch", a.epoch, "primary", t.Primary, "addr", a.follow)
	if err := c.node.ReplicaOf(a.follow); err != nil {
		c.log.Warn("replicaof the topology's primary failed; will retry", "primary", t.Primary, "addr", a.follow, "err", err)
		return true
	}
	return false
}

// thawIfOver leaves TAKEN_OVER when the record shows the takeover that
// froze this node over (rolled back, or replaced by a newer one) while the
// node is still the primary of the record's epoch: a lost UNFREEZE must
// not leave the shard without a writable primary. A record older than the
// freeze (Version not above its ID) proves nothing and is ignored; a
// committed takeover moved the epoch, and demotion thaws instead.
func (c *Coordinator) thawIfOver(t coordapi.Topology) {
	id := c.node.FrozenBy()
	if id == 0 || t.Version <= id || t.Primary != c.cfg.NodeID || t.Epoch != c.node.Epoch() {
		return
	}
	if t.State == coordapi.StateTakeover && t.Takeover != nil && t.Takeover.ID == id {
		return
	}
	c.node.Thaw(id, "the coordinators' record shows the takeover over")
}
