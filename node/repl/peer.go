package repl

import (
	"net"
	"strconv"
	"sync/atomic"
	"time"
)

// Peer is one replica streaming from this node, as the primary tracks its
// acknowledgements: registered with Acks.Add once it ran BATON.PSYNC,
// removed when its connection ends.
type Peer struct {
	// IP and Port identify the replica as INFO shows it (Port is its
	// listening port, from the handshake); Addr is its connection's remote
	// address.
	IP   string
	Port int
	Addr string
	// ack is the last LSN the replica acknowledged; ackAt when (Unix ns).
	ack   atomic.Uint64
	ackAt atomic.Int64
	// counted is the highest LSN the replica acknowledged while
	// acknowledgements counted (Acks.SetGate): what WAIT, --sync-replicas
	// and the floor see. It never exceeds ack.
	counted atomic.Uint64
	// online is set once a full sync's snapshot was sent (state "online"
	// in INFO; "send_bulk" before).
	online atomic.Bool
	// getack asks the sender to send GETACK.
	getack chan struct{}
	// freshAt (Unix ns) is a moment before which the replica holds every
	// write: the basis of its lag in seconds (metrics). target, targetAt
	// and checkedAt belong to the ack reader (noteFresh).
	freshAt   atomic.Int64
	target    uint64
	targetAt  int64
	checkedAt int64
}

// NewPeer returns a peer for a replica at addr (its connection's remote
// address) listening on port, that holds the stream up to lsn.
func NewPeer(addr string, port int, lsn uint64) *Peer {
	p := &Peer{Addr: addr, Port: port, getack: make(chan struct{}, 1)}
	p.IP, _, _ = net.SplitHostPort(addr)
	p.ack.Store(lsn)
	return p
}

// Acked is the last LSN the replica acknowledged.
func (p *Peer) Acked() uint64 { return p.ack.Load() }

// FreshAt is a moment (Unix ns, 0 if none yet) before which the replica
// held every write.
func (p *Peer) FreshAt() int64 { return p.freshAt.Load() }

// Online reports whether the replica is past its full sync.
func (p *Peer) Online() bool { return p.online.Load() }

// SetOnline marks the replica past its full sync (or in no need of one).
func (p *Peer) SetOnline() { p.online.Store(true) }

// GetAck is signalled when a waiter wants the replica to ack at once: the
// sender then sends GETACK.
func (p *Peer) GetAck() <-chan struct{} { return p.getack }

// freshCheckInterval bounds how often an ack reader reads the journal's
// LSN for noteFresh (acks may come once per frame under --sync-replicas).
const freshCheckInterval = int64(50 * time.Millisecond)

// noteFresh advances p.freshAt after an ack of lsn at now (Unix ns): the
// ack reader remembers the node's LSN at some moment (target, targetAt);
// once the replica acknowledged it, the replica held every write made
// before that moment, and the next target is the node's LSN now. A replica
// that acknowledged the node's current LSN is fresh as of now.
func (p *Peer) noteFresh(lsn uint64, now int64, current func() uint64) {
	if p.checkedAt != 0 && now-p.checkedAt < freshCheckInterval {
		return
	}
	p.checkedAt = now
	cur := current()
	switch {
	case lsn >= cur:
		p.freshAt.Store(now)
	case p.targetAt != 0 && lsn >= p.target:
		p.freshAt.Store(p.targetAt)
	case p.targetAt != 0:
		return // still short of the target
	}
	p.target, p.targetAt = cur, now
}

// Names labels each peer ip:port, as INFO shows it. Replicas behind one
// address translator (containers reached through toxiproxy, a NAT) can
// share it, and two series with one label break a whole metrics scrape:
// those are labelled by their connection's remote address instead.
func Names(peers []*Peer) map[*Peer]string {
	names := make(map[*Peer]string, len(peers))
	count := map[string]int{}
	for _, p := range peers {
		names[p] = net.JoinHostPort(p.IP, strconv.Itoa(p.Port))
		count[names[p]]++
	}
	for p, name := range names {
		if count[name] > 1 && p.Addr != "" {
			names[p] = p.Addr
		}
	}
	return names
}
