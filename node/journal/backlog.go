package journal

import (
	"errors"
	"fmt"
)

// DefaultBacklogBytes is the replication backlog kept in memory when
// Options.BacklogBytes is zero (Redis' repl-backlog-size default).
const DefaultBacklogBytes = 1 << 20

// ErrNotInBacklog means the entries after an LSN are no longer (or not yet)
// in the in-memory backlog: a replica asking for them needs a full sync.
var ErrNotInBacklog = errors.New("journal: LSN not covered by the backlog")

// backlog keeps the most recent encoded records, at least limit bytes of
// them once that many were appended, so a replica that fell behind by less
// can continue from its LSN (partial sync) instead of a full sync. It is
// guarded by the journal's mutex.
type backlog struct {
	limit int
	buf   []byte
	first uint64 // LSN of the record at buf[0]; 0 when empty
	offs  []int  // offs[i] is where record first+i starts in buf
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

// trim drops the oldest records that are not needed to keep limit bytes,
// moving the rest to the front (amortized: it runs once the buffer
// doubled).
func (b *backlog) trim() {
	drop := 0
	for drop < len(b.offs)-1 && len(b.buf)-b.offs[drop+1] >= b.limit {
		drop++
	}
	cut := b.offs[drop]
	n := copy(b.buf, b.buf[cut:])
	b.buf = b.buf[:n]
	n = copy(b.offs, b.offs[drop:])
	b.offs = b.offs[:n]
	for i := range b.offs {
		b.offs[i] -= cut
	}
	b.first += uint64(drop)
}

// after returns up to max entries with LSN > lsn, up to last (the journal's
// last LSN).
func (b *backlog) after(lsn, last uint64, max int) ([]Entry, error) {
	if lsn >= last {
		return nil, nil
	}
	if b.first == 0 || lsn+1 < b.first {
		return nil, ErrNotInBacklog
	}
	i := int(lsn + 1 - b.first)
	var out []Entry
	for ; i < len(b.offs) && len(out) < max; i++ {
		e, _, err := decodeRecord(b.buf[b.offs[i]:])
		if err != nil {
			return nil, fmt.Errorf("backlog record %d: %w", b.first+uint64(i), err)
		}
		for k, a := range e.Args {
			e.Args[k] = append([]byte(nil), a...)
		}
		out = append(out, e)
	}
	return out, nil
}

// EntriesAfter returns up to max entries with LSN greater than lsn, oldest
// first, from the in-memory backlog — what a primary streams to a replica
// that holds everything up to lsn. ErrNotInBacklog means the backlog no
// longer reaches back to lsn+1 (a full sync is needed). Entries' Args do
// not alias the journal's memory.
func (j *Journal) EntriesAfter(lsn uint64, max int) ([]Entry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.bl.after(lsn, j.lsn, max)
}

// BacklogFirst is the oldest LSN the backlog still holds (0 when empty).
func (j *Journal) BacklogFirst() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.bl.first
}
