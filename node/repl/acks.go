package repl

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Acks tracks what the replicas streaming from a primary acknowledged, for
// WAIT and --sync-replicas: the peers, a generation that moves at every
// role change, and the high-water mark of what --sync-replicas replicas
// acknowledged in the current generation.
type Acks struct {
	// k is --sync-replicas (0: off).
	k int

	mu    sync.Mutex
	peers map[*Peer]struct{}
	// ch is closed and replaced whenever a replica's ack advances, so WAIT
	// and sync-replica waiters can sleep on it.
	ch chan struct{}

	// waiters counts clients waiting for acks: while any does, the stream
	// asks replicas to ack every batch at once.
	waiters atomic.Int32
	// gen counts role changes (promotion, demotion). Replicas' acks are
	// LSNs of the current history only: a write made in an earlier
	// generation may have been discarded with its history, so an ack of the
	// same LSN number in a later one proves nothing about it. Waiters
	// remember the generation of their write and fail when it moved.
	gen atomic.Uint64
	// floor is the highest LSN of this generation that --sync-replicas
	// replicas acknowledged (monotonic; 0 at a new generation).
	floor atomic.Uint64
	// counts is the node's rule for whether an acknowledgement arriving
	// now counts (SetGate); nil: every one does. Set before any replica
	// registers, read-only afterwards.
	counts func() bool
}

// NewAcks returns a tracker for a primary that requires k replicas'
// acknowledgements (--sync-replicas; 0 for none).
func NewAcks(k int) *Acks {
	return &Acks{k: k, peers: make(map[*Peer]struct{}), ch: make(chan struct{})}
}

// SetGate installs the node's rule for whether a replica's
// acknowledgement counts: counts is asked as each one arrives (and as a
// replica registers with the position it holds), and only an LSN
// acknowledged while it said yes is what AckedIn, the floor and Wait see.
//
// Invariant (issue 16, finding 3): an acknowledgement is judged when it
// arrives, never later: the replica held the write at that moment, so
// what matters is whether another node could have been made primary
// without that write by then — which the node can tell only at that
// moment, from its lease. Acks refused by the gate still move the
// replica's reported position (INFO, metrics, freshness); the next ack
// (every 100 ms) counts once the gate opens again. Call it before any
// replica registers.
func (a *Acks) SetGate(counts func() bool) { a.counts = counts }

// counting reports whether an acknowledgement arriving now counts.
func (a *Acks) counting() bool { return a.counts == nil || a.counts() }

// Add registers a streaming replica; the position it holds counts as
// acknowledged if acknowledgements count now (SetGate).
func (a *Acks) Add(p *Peer) {
	if a.counting() {
		p.counted.Store(p.ack.Load())
	}
	a.mu.Lock()
	a.peers[p] = struct{}{}
	a.mu.Unlock()
}

// Remove forgets a replica whose connection ended.
func (a *Acks) Remove(p *Peer) {
	a.mu.Lock()
	delete(a.peers, p)
	a.mu.Unlock()
}

// Peers lists the registered replicas.
func (a *Acks) Peers() []*Peer {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*Peer, 0, len(a.peers))
	for p := range a.peers {
		out = append(out, p)
	}
	return out
}

// Ack records p's acknowledgement of lsn at now (Unix ns); current reads
// the node's LSN (for the replica's freshness). It counts for waiters and
// the floor only if the gate (SetGate) lets it count as it arrives.
func (a *Acks) Ack(p *Peer, lsn uint64, now int64, current func() uint64) {
	p.ackAt.Store(now)
	p.noteFresh(lsn, now, current)
	if lsn > p.ack.Load() {
		p.ack.Store(lsn)
	}
	if lsn > p.counted.Load() && a.counting() {
		p.counted.Store(lsn)
		a.raiseFloor()
		a.signal()
	}
}

// Gen is the current generation.
func (a *Acks) Gen() uint64 { return a.gen.Load() }

// Floor is the highest LSN of the current generation that --sync-replicas
// replicas acknowledged.
func (a *Acks) Floor() uint64 { return a.floor.Load() }

// Waiting reports whether a client waits for acks (the stream then asks
// for an ack of every batch).
func (a *Acks) Waiting() bool { return a.waiters.Load() > 0 }

// NewGeneration records a role change and wakes every ack waiter: those of
// the previous generation fail (see Acks.gen).
func (a *Acks) NewGeneration() {
	a.gen.Add(1)
	a.floor.Store(0)
	a.signal()
}

// raiseFloor moves the high-water mark of what --sync-replicas k replicas
// acknowledged in this generation up to the k-th highest ack.
func (a *Acks) raiseFloor() {
	if a.k <= 0 {
		return
	}
	gen := a.gen.Load()
	floor := a.kthAck(a.k)
	for {
		cur := a.floor.Load()
		if floor <= cur || a.gen.Load() != gen {
			return
		}
		if a.floor.CompareAndSwap(cur, floor) {
			return
		}
	}
}

// kthAck is the highest LSN at least k replicas acknowledged (in acks
// that counted).
func (a *Acks) kthAck(k int) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	acks := make([]uint64, 0, len(a.peers))
	for p := range a.peers {
		acks = append(acks, p.counted.Load())
	}
	if len(acks) < k || k <= 0 {
		return 0
	}
	// k-th highest: a partial selection is not worth it for a handful.
	for i := 0; i < k; i++ {
		for j := i + 1; j < len(acks); j++ {
			if acks[j] > acks[i] {
				acks[i], acks[j] = acks[j], acks[i]
			}
		}
	}
	return acks[k-1]
}

// FloorCovers reports whether lsn of generation gen was acknowledged by
// --sync-replicas replicas at some point: once acknowledged it stays so,
// even if those replicas went away since.
func (a *Acks) FloorCovers(lsn, gen uint64) bool {
	if a.gen.Load() != gen {
		return false
	}
	covered := lsn <= a.floor.Load()
	return covered && a.gen.Load() == gen
}

// signal wakes every client waiting for acknowledgements.
func (a *Acks) signal() {
	a.mu.Lock()
	close(a.ch)
	a.ch = make(chan struct{})
	a.mu.Unlock()
}

// acked counts the replicas that acknowledged lsn (in acks that counted).
func (a *Acks) acked(lsn uint64) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for p := range a.peers {
		if p.counted.Load() >= lsn {
			n++
		}
	}
	return n
}

// AckedIn counts the replicas that acknowledged lsn of generation gen: 0
// once the generation moved on.
func (a *Acks) AckedIn(lsn, gen uint64) int {
	if a.gen.Load() != gen {
		return 0
	}
	n := a.acked(lsn)
	if a.gen.Load() != gen {
		return 0
	}
	return n
}

// Wait waits until n replicas acknowledged lsn, the deadline passes (zero:
// no deadline), gone is closed (the waiting client disconnected) or ctx
// ends, asking every replica for an ack at once, and returns how many did
// and whether gone ended it.
//
// gen is the generation lsn belongs to: once the node changed role the
// wait ends with 0 (acks of a new history say nothing about lsn).
func (a *Acks) Wait(ctx context.Context, lsn, gen uint64, n int, deadline time.Time, gone <-chan struct{}) (got int, left bool) {
	a.waiters.Add(1)
	defer a.waiters.Add(-1)
	a.requestAcks()
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	for {
		a.mu.Lock()
		ch := a.ch
		a.mu.Unlock()
		got := a.AckedIn(lsn, gen)
		if got >= n || a.gen.Load() != gen {
			return got, false
		}
		if n <= a.k && a.FloorCovers(lsn, gen) {
			return n, false
		}
		select {
		case <-ch:
		case <-timeout:
			return a.AckedIn(lsn, gen), false
		case <-gone:
			return a.AckedIn(lsn, gen), true
		case <-ctx.Done():
			return a.AckedIn(lsn, gen), false
		}
	}
}

// requestAcks asks every replica to acknowledge now (GETACK).
func (a *Acks) requestAcks() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for p := range a.peers {
		select {
		case p.getack <- struct{}{}:
		default:
		}
	}
}

// PeerInfo is one replica as INFO and ROLE show it.
type PeerInfo struct {
	IP    string
	Port  int
	State string
	Ack   uint64
	// LagSec is how long ago its last ack came, -1 before any.
	LagSec int64
}

// Infos lists the connected replicas.
func (a *Acks) Infos(now time.Time) []PeerInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]PeerInfo, 0, len(a.peers))
	for p := range a.peers {
		pi := PeerInfo{IP: p.IP, Port: p.Port, State: "send_bulk", Ack: p.ack.Load(), LagSec: -1}
		if p.online.Load() {
			pi.State = "online"
		}
		if at := p.ackAt.Load(); at > 0 {
			pi.LagSec = int64(now.Sub(time.Unix(0, at)) / time.Second)
		}
		out = append(out, pi)
	}
	return out
}

// InfoLine renders INFO's slaveN value; lsn is the node's last LSN.
func (pi PeerInfo) InfoLine(lsn uint64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ip=%s,port=%d,state=%s,offset=%d,lag=%d,lag_lsn=%d",
		pi.IP, pi.Port, pi.State, pi.Ack, max(pi.LagSec, 0), lsn-min(lsn, pi.Ack))
	return b.String()
}
