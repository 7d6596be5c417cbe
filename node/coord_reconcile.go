package node

import (
	"fmt"
	"net"

	"github.com/batonkv/baton/coordapi"
)

// Reconciliation: every topology the node learns (REGISTER's reply, the
// watch stream, the poll) is turned into an action by decide, a pure
// function of the topology and the node's state, and then carried out by
// reconcile. Order matters for safety: a node that is no longer primary
// drops its lease before anything else (it stops taking writes at once);
// a node that becomes primary adopts the epoch and promotes before it asks
// for a lease, so no write runs under an epoch it has not persisted.

// nodeView is the part of the node's state reconciliation looks at.
type nodeView struct {
	// id is this node's id.
	id string
	// epoch is the newest epoch the node has seen.
	epoch uint64
	// replica is true when the node is a replica, following primary.
	replica bool
	primary string
}

// coordAction is what the node must do about one topology.
type coordAction struct {
	// ignore: the topology is older than the node's epoch; do nothing.
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

// decide maps a topology and the node's state to an action. A topology whose
// epoch is older than the node's is ignored (epochs never go back; a
// lagging coordinator follower may still send one). Otherwise the node
// adopts the epoch and either leads it or follows its primary.
func decide(t coordapi.Topology, v nodeView) coordAction {
	if t.Epoch < v.epoch {
		return coordAction{ignore: true, reason: fmt.Sprintf("topology epoch %d is older than ours (%d)", t.Epoch, v.epoch)}
	}
	a := coordAction{epoch: t.Epoch}
	switch {
	case t.Primary == "":
		a.reason = "the topology names no primary"
	case t.Primary == v.id:
		a.lead = true
		a.promote = v.replica
	default:
		addr := normalizeAddr(t.ReplAddrOf(t.Primary))
		switch {
		case addr == "":
			a.reason = fmt.Sprintf("primary %q has no address in the topology", t.Primary)
		case v.replica && normalizeAddr(v.primary) == addr:
			// Already following it.
		default:
			a.follow = addr
		}
	}
	return a
}

// normalizeAddr writes "host:port" the way REPLICAOF stores it, so the
// topology's address compares equal to the node's current primary ("" when
// it does not parse).
func normalizeAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || port == "" {
		return ""
	}
	return net.JoinHostPort(host, port)
}

// view snapshots the node's state for decide.
func (s *Server) view() nodeView {
	s.mu.Lock()
	defer s.mu.Unlock()
	return nodeView{
		id:      s.cfg.NodeID,
		epoch:   s.repl.epoch.Load(),
		replica: s.isReplica(),
		primary: s.repl.primary,
	}
}

// reconcile carries out the action a topology calls for. Failures (a
// REPLICAOF whose handshake fails, an epoch that cannot be persisted) are
// logged and reported: the caller retries soon (a new primary often has
// not adopted its epoch yet when its replicas first knock), and at every
// later topology or poll: the node never gives up.
func (s *Server) reconcile(t coordapi.Topology) (failed bool) {
	co := s.coord
	s.thawIfOver(t)
	a := decide(t, s.view())
	if a.ignore {
		s.log.Debug("topology ignored", "reason", a.reason)
		return false
	}
	if !a.lead {
		// First of all: stop taking writes.
		co.lease.release()
	}
	if err := s.raiseEpoch(a.epoch); err != nil {
		s.log.Error("cannot adopt the topology's epoch", "epoch", a.epoch, "err", err)
		return true
	}
	switch {
	case a.lead:
		if a.promote {
			s.log.Info("topology names this node primary; promoting", "epoch", a.epoch)
			s.promote()
		}
		co.lease.claim(a.epoch)
	case a.follow != "":
		if a.follow == co.advertised() {
			s.log.Error("topology's primary has this node's address; not replicating from myself",
				"primary", t.Primary, "addr", a.follow)
			return false
		}
		s.log.Info("following the topology's primary", "epoch", a.epoch, "primary", t.Primary, "addr", a.follow)
		if _, err := s.replicaof(a.follow); err != nil {
			s.log.Warn("replicaof the topology's primary failed; will retry", "primary", t.Primary, "addr", a.follow, "err", err)
			return true
		}
	case a.reason != "":
		s.log.Debug("no primary to follow", "epoch", a.epoch, "reason", a.reason)
	}
	return false
}

// thawIfOver leaves TAKEN_OVER when the record shows the takeover that
// froze this node over (rolled back, or replaced by a newer one) while the
// node is still the primary of the record's epoch: a lost UNFREEZE must
// not leave the shard without a writable primary. A record older than the
// freeze (Version not above its ID) proves nothing and is ignored; a
// committed takeover moved the epoch, and demotion thaws instead.
func (s *Server) thawIfOver(t coordapi.Topology) {
	id := s.freeze.id.Load()
	if id == 0 || t.Version <= id || t.Primary != s.cfg.NodeID || t.Epoch != s.repl.epoch.Load() {
		return
	}
	if t.State == coordapi.StateTakeover && t.Takeover != nil && t.Takeover.ID == id {
		return
	}
	s.thaw(id, "the coordinators' record shows the takeover over")
}
