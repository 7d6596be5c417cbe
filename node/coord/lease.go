package coord

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/coordapi"
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

// grant is a lease the node holds: valid for epoch until until (a
// monotonic time.Time).
type grant struct {
	epoch uint64
	until time.Time
}

// String describes a grant (logs, test failures).
func (g *grant) String() string {
	return fmt.Sprintf("epoch %d until %s", g.epoch, g.until.Format(time.RFC3339Nano))
}

// Lease is the node's write lease state. Writers (the renewer, the
// reconciler) serialize on mu; the write path reads cur without locking.
type Lease struct {
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
	cur atomic.Pointer[grant]
	// last is the newest grant received, which revocation and release do
	// not clear: they stop this node's writes early, but the coordinators
	// still count that lease until its end (Granted).
	last atomic.Pointer[grant]
}

// newLease returns a lease state with no lease and no primary role.
func newLease() *Lease {
	return &Lease{changed: make(chan struct{}), interval: leaseFirstInterval}
}

// Claim records that the topology makes this node primary of epoch: the
// renewer starts (or keeps) renewing for it. A lease of another epoch is
// dropped.
func (h *Lease) Claim(epoch uint64) {
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

// Release drops the lease at once and stops renewing: the topology says
// another node (or none) is primary.
func (h *Lease) Release() {
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
func (h *Lease) revoke(epoch uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if g := h.cur.Load(); g != nil && g.epoch == epoch {
		h.cur.Store(nil)
	}
	h.interval = leaseFirstInterval
}

// Grant records a lease of d for epoch, timed from t0, the moment the
// renewal was sent. It reports false (and changes nothing) when the node is
// no longer meant to be primary of epoch.
func (h *Lease) Grant(epoch uint64, t0 time.Time, d time.Duration) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if epoch == 0 || h.want != epoch {
		return false
	}
	g := &grant{epoch: epoch, until: t0.Add(d)}
	h.cur.Store(g)
	h.last.Store(g)
	h.interval = max(d/3, leaseMinInterval)
	return true
}

// Renewing is the epoch the lease is renewed for: the one the topology
// makes this node primary of, 0 when none.
func (h *Lease) Renewing() uint64 {
	epoch, _, _ := h.wanted()
	return epoch
}

// wanted returns the epoch to renew for (0: none), the renewal interval,
// and a channel closed when the role changes.
func (h *Lease) wanted() (uint64, time.Duration, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.want, h.interval, h.changed
}

// Valid reports whether the node holds an unexpired lease of epoch at now.
func (h *Lease) Valid(epoch uint64, now time.Time) bool {
	g := h.cur.Load()
	return g != nil && g.epoch == epoch && now.Before(g.until)
}

// Granted reports whether the newest lease granted to this node was of
// epoch and has not expired at now, even if it was revoked or released
// since: until its end no failover can have made another node primary
// (the coordinators time it to end later still), only a takeover that
// froze this node.
func (h *Lease) Granted(epoch uint64, now time.Time) bool {
	g := h.last.Load()
	return g != nil && g.epoch == epoch && now.Before(g.until)
}

// GrantedUntil is when the newest lease granted to this node ends if it
// was of epoch (the zero time otherwise), revoked or not: the last moment
// a replica's acknowledgement can count (Coordinator.AcksCount).
func (h *Lease) GrantedUntil(epoch uint64) time.Time {
	g := h.last.Load()
	if g == nil || g.epoch != epoch {
		return time.Time{}
	}
	return g.until
}

// Left is what remains of the lease at now (0 when none or expired) and
// its epoch (0 when none).
func (h *Lease) Left(now time.Time) (time.Duration, uint64) {
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
func (h *Lease) renew(epoch uint64, now func() time.Time, send func() (time.Duration, error)) (time.Duration, error) {
	t0 := now()
	d, err := send()
	if err != nil {
		if errors.Is(err, coordapi.ErrNotPrimary) {
			h.revoke(epoch)
		}
		return 0, err
	}
	h.Grant(epoch, t0, d)
	return d, nil
}
