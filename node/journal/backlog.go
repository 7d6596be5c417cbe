package journal

import (
	"errors"
)

// DefaultBacklogBytes is the replication backlog kept in memory when
// Options.BacklogBytes is zero (Redis' repl-backlog-size default).
const DefaultBacklogBytes = 1 << 20

// DefaultBacklogHardBytes is the least hard cap on the backlog while
// cursors pin it (see Options.BacklogHardBytes): Redis' default
// client-output-buffer-limit for replicas.
const DefaultBacklogHardBytes = 256 << 20

// ErrNotInBacklog means the entries after an LSN are no longer (or not yet)
// in the in-memory backlog: a replica asking for them needs a full sync.
var ErrNotInBacklog = errors.New("journal: LSN not covered by the backlog")

// backlog keeps the most recent encoded records, at least limit bytes of
// them once that many were appended, so a replica that fell behind by less
// can continue from its LSN (partial sync) instead of a full sync. Records
// an open cursor has not read yet stay too (pinned), up to hard bytes. It
// is guarded by the journal's mutex, cursors' positions included.
//
// Invariant: when not empty, buf holds records first .. the journal's last
// LSN, back to back, with no gap.
type backlog struct {
	limit, hard int
	buf         []byte
	first       uint64 // LSN of the record at buf[0]; 0 when empty
	offs        []int  // offs[i] is where record first+i starts in buf
	// cursors are the open cursors, in no particular order.
	cursors []*Cursor
}

// add appends the encoding of record lsn (the next LSN).
func (b *backlog) add(lsn uint64, rec []byte) {
	if b.first == 0 {
		b.first = lsn
	}
	b.offs = append(b.offs, len(b.buf))
	b.buf = append(b.buf, rec...)
	if len(b.buf) > 2*b.limit && len(b.offs) > 1 {
		b.trim()
	}
}

// trim drops the oldest records that are not needed to keep limit bytes
// and that no cursor still needs, moving the rest to the front. It copies
// only when that frees at least half the buffer, so the copying is
// amortized O(1) per appended byte even while a cursor pins the backlog;
// past the hard cap it drops what the cursors need too.
func (b *backlog) trim() {
	// drop = the largest count with len(buf)-offs[drop] >= limit (binary
	// search: offs is increasing), at most len(offs)-1.
	target := len(b.buf) - b.limit
	lo, hi := 0, len(b.offs)-1
	for lo < hi {
		mid := int(uint(lo+hi+1) >> 1)
		if b.offs[mid] <= target {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	drop := lo
	if len(b.buf) <= b.hard {
		if pin, ok := b.pin(); ok && pin < b.first+uint64(drop) {
			drop = int(pin - b.first)
		}
	}
	if drop == 0 {
		return
	}
	cut := b.offs[drop]
	if cut < len(b.buf)/2 && len(b.buf) <= b.hard {
		return // not worth a copy yet
	}
	if cap(b.buf) > 8*max(b.limit, len(b.buf)-cut) {
		// A pinned backlog grew far past limit: give the memory back.
		b.buf = append(make([]byte, 0, 2*b.limit+len(b.buf)-cut), b.buf[cut:]...)
	} else {
		b.buf = b.buf[:copy(b.buf, b.buf[cut:])]
	}
	b.offs = b.offs[:copy(b.offs, b.offs[drop:])]
	for i := range b.offs {
		b.offs[i] -= cut
	}
	b.first += uint64(drop)
}

// pin returns the lowest LSN an open cursor still needs (its position + 1)
// among the cursors the backlog still serves; ok is false when none does.
func (b *backlog) pin() (lsn uint64, ok bool) {
	for _, c := range b.cursors {
		if next := c.pos + 1; next >= b.first && (!ok || next < lsn) {
			lsn, ok = next, true
		}
	}
	return lsn, ok
}

// reset empties the backlog and invalidates every open cursor (Reset):
// their next Read returns ErrNotInBacklog.
func (b *backlog) reset() {
	b.buf, b.offs, b.first = b.buf[:0], b.offs[:0], 0
	if cap(b.buf) > 4*max(b.limit, 1) {
		b.buf = nil
	}
	for i, c := range b.cursors {
		c.dead = true
		c.signal()
		b.cursors[i] = nil
	}
	b.cursors = b.cursors[:0]
}
