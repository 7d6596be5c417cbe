package journal

import "fmt"

// Test-only views of the backlog: the product reads it through cursors
// (cursor.go); these let the tests look at it directly.

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
