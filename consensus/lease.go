package consensus

import (
	"sync"
	"time"
)

// leaseTable is the leader's record of the write leases it granted. It lives
// only in the leader's memory: a new leader does not know what its
// predecessor granted, so it starts with a floor one full lease (plus
// margin) after it took office, before which it treats every primary as
// possibly still leased.
//
// Invariant: for every node, expiry(node) is no earlier than the end of
// any lease that node may still believe it holds. The node times its lease
// from the moment it sent the renewal; the leader times it from after it
// verified its leadership for that renewal, and adds leaseMargin: the
// node's view always ends first.
type leaseTable struct {
	mu sync.Mutex
	// term is the Raft term this table belongs to (enterTerm).
	term uint64
	// floor bounds leases granted by earlier leaders.
	floor time.Time
	// granted is, per node, the end of the last lease granted (leader's
	// clock, margin included).
	granted map[string]time.Time
	// revoked holds, per node, the failovers moving the role away from it:
	// per failover (its hold, newHold), the epoch up to which the node's
	// renewals are refused. A failover that commits keeps its hold (the
	// epoch moved on anyway); one that commits nothing releases it, so the
	// primary it did not replace can renew again.
	revoked map[string]map[uint64]uint64
	// holds numbers the failovers' holds.
	holds uint64
	// renewed is, per node, when it last renewed; since is when the
	// current primary became due to renew (term start or its epoch's
	// commit), for nodes that have not renewed since.
	renewed map[string]time.Time
	since   time.Time
	// acked is, per node, the highest acknowledged LSN it reported with a
	// renewal (BATON.LEASE node epoch acked-lsn) and the epoch it reported
	// it in. Unlike grants it outlives a term: the acknowledged LSN only
	// grows within an epoch, so an older report is still a lower bound.
	acked map[string]ackedReport
}

// ackedReport is a primary's report, with a granted renewal in epoch, of
// the highest LSN its --sync-replicas replicas acknowledged (lsn) and of
// --sync-replicas itself (replicas; -1 when the node did not say: the
// two-argument form of older nodes).
type ackedReport struct {
	epoch, lsn uint64
	replicas   int
}

// noteAcked records a report of node, primary of epoch (the highest LSN of
// the epoch is kept).
func (lt *leaseTable) noteAcked(node string, epoch, lsn uint64, replicas int) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if lt.acked == nil {
		lt.acked = make(map[string]ackedReport)
	}
	r, ok := lt.acked[node]
	if ok && r.epoch > epoch {
		return
	}
	if !ok || r.epoch < epoch {
		r = ackedReport{epoch: epoch}
	}
	r.lsn, r.replicas = max(r.lsn, lsn), replicas
	lt.acked[node] = r
}

// ackedBy is node's last report as primary of epoch; ok is false when this
// member has none (it did not lead when node last renewed).
func (lt *leaseTable) ackedBy(node string, epoch uint64) (r ackedReport, ok bool) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	r, ok = lt.acked[node]
	if !ok || r.epoch != epoch {
		return ackedReport{}, false
	}
	return r, true
}

// reset starts a leadership term at now.
func (lt *leaseTable) reset(now time.Time, lease time.Duration) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	lt.floor = now.Add(lease + leaseMargin(lease))
	lt.granted = make(map[string]time.Time)
	lt.revoked = make(map[string]map[uint64]uint64)
	lt.renewed = make(map[string]time.Time)
	lt.since = now
}

// enterTerm starts leadership term term at now unless the table already
// belongs to it; it reports whether it started it. Whoever sees a term
// first (the leader loop, a failover's lease wait) starts it: the floor is
// then a full lease after that moment, later than the term's real start,
// so still a bound on every lease an earlier leader granted.
func (lt *leaseTable) enterTerm(term uint64, now time.Time, lease time.Duration) bool {
	lt.mu.Lock()
	same := lt.term == term && lt.granted != nil
	lt.mu.Unlock()
	if same {
		return false
	}
	lt.reset(now, lease)
	lt.mu.Lock()
	lt.term = term
	lt.mu.Unlock()
	return true
}

// dueFrom notes that the current primary is due to renew from now on: a
// new epoch's primary, or a primary whose takeover ended (its renewals were
// refused while the takeover ran, so the time before says nothing about
// it).
func (lt *leaseTable) dueFrom(now time.Time) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	lt.since = now
}

// lastRenewal is when node last renewed in this term, or when it became
// due to, whichever is later.
func (lt *leaseTable) lastRenewal(node string) time.Time {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if r := lt.renewed[node]; r.After(lt.since) {
		return r
	}
	return lt.since
}

// renewedSince reports whether node renewed (was granted a lease) at or
// after at, in this term.
func (lt *leaseTable) renewedSince(node string, at time.Time) bool {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	r, ok := lt.renewed[node]
	return ok && !r.Before(at)
}

// grant records a lease for node in epoch, unless renewals of that node in
// that epoch are revoked; it reports whether it granted.
func (lt *leaseTable) grant(node string, epoch uint64, now time.Time, lease time.Duration) bool {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	for _, r := range lt.revoked[node] {
		if epoch <= r {
			return false
		}
	}
	if lt.granted == nil {
		lt.granted = make(map[string]time.Time)
		lt.renewed = make(map[string]time.Time)
	}
	lt.granted[node] = now.Add(lease + leaseMargin(lease))
	lt.renewed[node] = now
	return true
}

// newHold returns a new failover's hold (revoke, release).
func (lt *leaseTable) newHold() uint64 {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	lt.holds++
	return lt.holds
}

// revoke refuses node's renewals up to epoch from now on, under hold.
func (lt *leaseTable) revoke(node string, epoch, hold uint64) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if lt.revoked == nil {
		lt.revoked = make(map[string]map[uint64]uint64)
	}
	if lt.revoked[node] == nil {
		lt.revoked[node] = make(map[uint64]uint64)
	}
	lt.revoked[node][hold] = max(lt.revoked[node][hold], epoch)
}

// release lifts hold's refusal of node's renewals (other holds stay).
//
// Invariant: only a failover that certainly committed nothing releases:
// the node is then still the primary of its epoch, and a lease granted to
// it is as legitimate as before the failover began. A failover whose
// promote may have committed keeps its hold.
func (lt *leaseTable) release(node string, hold uint64) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	delete(lt.revoked[node], hold)
}

// expiry is when any lease node may hold has surely ended.
func (lt *leaseTable) expiry(node string) time.Time {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	end := lt.floor
	if g := lt.granted[node]; g.After(end) {
		end = g
	}
	return end
}
