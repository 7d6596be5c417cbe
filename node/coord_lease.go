package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/node/command"
)

// The write lease.
//
// Invariant: a coordinated node executes a client write only while it holds
// a lease for its current epoch that has not expired, read against the
// monotonic clock when the keyspace lock was taken. The node times each
// lease from the moment it *sent* the renewal (t0), so leaseUntil = t0 + L
// where L is the duration the coordinator granted. The coordinator times
// the same lease from the moment it *received* the request, which is after
// t0, and adds a margin before it lets another node become primary. So the
// node's view of the lease always ends before the coordinator's: once the
// coordinator considers the lease expired, this node has already stopped
// accepting writes, whatever the network did to the renewal or its reply.
//
// A lease is bound to an epoch: it counts only while the node's epoch equals
// the lease's, so learning a newer epoch (from the coordinators or from a
// replication stream) voids it at once.

const (
	// leaseFirstInterval is the renewal interval before the first grant
	// (afterwards: a third of the granted duration).
	leaseFirstInterval = 300 * time.Millisecond
	// leaseMinInterval bounds how often renewals are sent, whatever the
	// coordinator grants.
	leaseMinInterval = 10 * time.Millisecond
)

// leaseGrant is a lease the node holds: valid for epoch until until
// (a monotonic time.Time).
type leaseGrant struct {
	epoch uint64
	until time.Time
}

// leaseHolder is the node's lease state. Writers (the renewer, the
// reconciler) serialize on mu; the write path reads cur without locking.
type leaseHolder struct {
	mu sync.Mutex
	// want is the epoch the topology says this node is primary of (0:
	// none). A grant for any other epoch is discarded, so a renewal that
	// was in flight when the node lost the role cannot revive its lease.
	want uint64
	// changed is closed and replaced when want changes (wakes the
	// renewer).
	changed chan struct{}
	// interval is the renewer's current interval (lease/3).
	interval time.Duration
	// cur is the lease held, nil when none.
	cur atomic.Pointer[leaseGrant]
}

// newLeaseHolder returns a holder with no lease and no primary role.
func newLeaseHolder() *leaseHolder {
	return &leaseHolder{changed: make(chan struct{}), interval: leaseFirstInterval}
}

// claim records that the topology makes this node primary of epoch: the
// renewer starts (or keeps) renewing for it. A lease of another epoch is
// dropped.
func (h *leaseHolder) claim(epoch uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.want == epoch {
		return
	}
	h.want = epoch
	h.interval = leaseFirstInterval
	if g := h.cur.Load(); g != nil && g.epoch != epoch {
		h.cur.Store(nil)
	}
	close(h.changed)
	h.changed = make(chan struct{})
}

// release drops the lease at once and stops renewing: the topology says
// another node (or none) is primary.
func (h *leaseHolder) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cur.Store(nil)
	if h.want != 0 {
		h.want = 0
		close(h.changed)
		h.changed = make(chan struct{})
	}
}

// revoke drops the lease of epoch (the coordinator answered NOTPRIMARY) but
// keeps renewing until the reconciler decides otherwise.
func (h *leaseHolder) revoke(epoch uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if g := h.cur.Load(); g != nil && g.epoch == epoch {
		h.cur.Store(nil)
	}
	h.interval = leaseFirstInterval
}

// grant records a lease of d for epoch, timed from t0, the moment the
// renewal was sent. It reports false (and changes nothing) when the node is
// no longer meant to be primary of epoch.
func (h *leaseHolder) grant(epoch uint64, t0 time.Time, d time.Duration) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if epoch == 0 || h.want != epoch {
		return false
	}
	h.cur.Store(&leaseGrant{epoch: epoch, until: t0.Add(d)})
	h.interval = max(d/3, leaseMinInterval)
	return true
}

// wanted returns the epoch to renew for (0: none), the renewal interval,
// and a channel closed when the role changes.
func (h *leaseHolder) wanted() (uint64, time.Duration, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.want, h.interval, h.changed
}

// valid reports whether the node holds an unexpired lease of epoch at now.
func (h *leaseHolder) valid(epoch uint64, now time.Time) bool {
	g := h.cur.Load()
	return g != nil && g.epoch == epoch && now.Before(g.until)
}

// left is what remains of the lease at now (0 when none or expired) and
// its epoch (0 when none).
func (h *leaseHolder) left(now time.Time) (time.Duration, uint64) {
	g := h.cur.Load()
	if g == nil {
		return 0, 0
	}
	return max(g.until.Sub(now), 0), g.epoch
}

// renew makes one renewal for epoch: it notes t0 = now() *before* send,
// and on a grant of L records a lease until t0 + L however long send took.
// NOTPRIMARY revokes the lease; other errors leave the old lease to expire
// on its own.
func (h *leaseHolder) renew(epoch uint64, now func() time.Time, send func() (time.Duration, error)) (time.Duration, error) {
	t0 := now()
	d, err := send()
	if err != nil {
		if errors.Is(err, coordapi.ErrNotPrimary) {
			h.revoke(epoch)
		}
		return 0, err
	}
	h.grant(epoch, t0, d)
	return d, nil
}

// leaseLoop renews the write lease while the topology makes this node the
// primary of an epoch, every lease/3 (300 ms before the first grant), each
// request bounded by that interval.
func (s *Server) leaseLoop(ctx context.Context) {
	co := s.coord
	cc := coordapi.NewClient(s.cfg.Coordinators, s.cfg.ClusterSecret)
	defer cc.Close()
	for {
		epoch, interval, changed := co.lease.wanted()
		if epoch == 0 {
			select {
			case <-ctx.Done():
				return
			case <-changed:
			}
			continue
		}
		next := time.Now().Add(interval)
		var t0 time.Time
		d, err := co.lease.renew(epoch, func() time.Time { t0 = time.Now(); return t0 }, func() (time.Duration, error) {
			rctx, cancel := context.WithTimeout(ctx, interval)
			defer cancel()
			return cc.Lease(rctx, s.cfg.NodeID, epoch)
		})
		switch {
		case err == nil:
			s.logLease(epoch, t0, d)
		case errors.Is(err, coordapi.ErrNotPrimary):
			s.log.Warn("coordinator refused the write lease; checking the topology", "epoch", epoch, "err", err)
			co.pollSoon()
		case ctx.Err() != nil:
			return
		default:
			s.log.Debug("lease renewal failed", "epoch", epoch, "err", err)
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// logLease appends a granted lease window to the lease log, if configured:
// `node epoch from_us until_us` in wall-clock microseconds. Every write
// this node accepts lies inside one of its windows, so a checker comparing
// the windows of all nodes (on one host, one clock) proves that no two
// nodes accepted writes at the same time. Written with write(2) at once: a
// kill -9 loses nothing.
//
// A takeover's freeze ends the node's windows early: it appends
// `node epoch end at_us`, which cuts every window that began before at_us;
// a thaw (rollback) logs the rest of its lease as a new window. Grants
// that land while frozen are not logged: nothing is accepted under them.
func (s *Server) logLease(epoch uint64, t0 time.Time, d time.Duration) {
	if s.cfg.LeaseLog == "" || s.frozen() {
		return
	}
	s.appendLeaseLog(fmt.Sprintf("%s %d %d %d\n", s.cfg.NodeID, epoch, t0.UnixMicro(), t0.Add(d).UnixMicro()))
}

// logLeaseEnd records in the lease log that the node stopped accepting
// writes at t (a takeover froze it).
func (s *Server) logLeaseEnd(epoch uint64, t time.Time) {
	if s.cfg.LeaseLog == "" {
		return
	}
	s.appendLeaseLog(fmt.Sprintf("%s %d end %d\n", s.cfg.NodeID, epoch, t.UnixMicro()))
}

// appendLeaseLog appends one line to the lease log.
func (s *Server) appendLeaseLog(line string) {
	f, err := os.OpenFile(s.cfg.LeaseLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.log.Warn("lease log", "err", err)
		return
	}
	f.WriteString(line)
	f.Close()
}

// fenceWrite reports why a write must be refused on this (non-replica)
// node, or "" when it may run: a coordinated node needs a valid lease of
// its current epoch now. The caller holds s.mu.
func (s *Server) fenceWrite() string {
	co := s.coord
	if co == nil {
		return ""
	}
	// The clock is read for every write, not once per pipeline: a long
	// pipeline must not run writes past the lease's end.
	now := time.Now()
	epoch := s.repl.epoch.Load()
	if co.lease.valid(epoch, now) {
		return ""
	}
	return coordapi.ErrCodeTryAgain + " no write lease (epoch " + strconv.FormatUint(epoch, 10) +
		"): the primary role is being confirmed or moved; retry"
}

// multiWrites reports whether cl's queued transaction holds a write.
func multiWrites(cl *client) bool {
	for _, args := range cl.multiQueue {
		if cmd := command.Lookup(args[0]); cmd != nil && cmd.Flags&command.FlagWrite != 0 {
			return true
		}
	}
	return false
}

// leaseInfo is INFO's view of the lease: milliseconds left and its epoch.
func (s *Server) leaseInfo(now time.Time) (string, string) {
	if s.coord == nil {
		return "0", "0"
	}
	d, e := s.coord.lease.left(now)
	return strconv.FormatInt(d.Milliseconds(), 10), strconv.FormatUint(e, 10)
}

// String describes a grant (logs, test failures).
func (g *leaseGrant) String() string {
	return fmt.Sprintf("epoch %d until %s", g.epoch, g.until.Format(time.RFC3339Nano))
}
