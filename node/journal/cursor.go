package journal

import (
	"errors"
	"fmt"
)

// ErrCursorClosed is returned by Read on a cursor that was closed.
var ErrCursorClosed = errors.New("journal: cursor closed")

// Cursor reads the backlog from a position on, for a primary's sender
// goroutine that streams the journal to one replica. While it is open the
// backlog keeps the records it has not read yet (up to
// Options.BacklogHardBytes). A Cursor is used by one goroutine at a time;
// its methods lock the journal only briefly.
type Cursor struct {
	j *Journal
	// ch receives a token whenever records are appended.
	ch chan struct{}
	// pos is the last LSN read; dead is set by Reset and closed by Close.
	// Both are guarded by j.mu.
	pos    uint64
	dead   bool
	closed bool
}

// NewCursor returns a cursor positioned after LSN after, so that its first
// Read returns the records from after+1 on. It fails with ErrNotInBacklog
// unless the backlog holds after+1 or after is the journal's last LSN
// (nothing to read yet: always fine, even with an empty backlog); a
// position beyond the last LSN (a replica ahead of this journal) is
// ErrNotInBacklog too.
func (j *Journal) NewCursor(after uint64) (*Cursor, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if after != j.lsn && (after > j.lsn || j.bl.first == 0 || after+1 < j.bl.first) {
		return nil, fmt.Errorf("cursor after LSN %d (last %d, backlog from %d): %w",
			after, j.lsn, j.bl.first, ErrNotInBacklog)
	}
	c := &Cursor{j: j, ch: make(chan struct{}, 1), pos: after}
	j.bl.cursors = append(j.bl.cursors, c)
	return c, nil
}

// signal tells the cursor's reader there may be records, never blocking.
func (c *Cursor) signal() {
	select {
	case c.ch <- struct{}{}:
	default:
	}
}

// C receives a value (buffered, at most one pending) after records were
// appended, and when Reset invalidated the cursor, so a sender can wait for
// work in a select alongside its context and a ticker. A value may be stale:
// Read then simply returns nothing.
func (c *Cursor) C() <-chan struct{} { return c.ch }

// Pos is the last LSN the cursor read (or was positioned after).
func (c *Cursor) Pos() uint64 {
	c.j.mu.Lock()
	defer c.j.mu.Unlock()
	return c.pos
}

// Read appends to dst the raw encoded records ([len][crc][payload], the
// on-disk record format, which DecodeRecords parses) with LSNs after the
// cursor's position, oldest first, and advances the position past them. It
// stops once it appended maxBytes or more (always after at least one
// record, however large), so maxBytes also bounds how long it holds the
// journal's lock. last is the new position, the LSN of the last record
// appended. With nothing new it returns dst unchanged, the position and a
// nil error. ErrNotInBacklog means the records it needs were trimmed away
// (the cursor fell behind past the hard cap) or discarded by Reset: the
// replica needs a full sync.
func (c *Cursor) Read(dst []byte, maxBytes int) (out []byte, last uint64, err error) {
	j := c.j
	j.mu.Lock()
	defer j.mu.Unlock()
	switch {
	case c.closed:
		return dst, c.pos, ErrCursorClosed
	case c.dead:
		return dst, c.pos, fmt.Errorf("cursor at LSN %d: reset: %w", c.pos, ErrNotInBacklog)
	case c.pos >= j.lsn:
		return dst, c.pos, nil
	}
	b := &j.bl
	if b.first == 0 || c.pos+1 < b.first {
		return dst, c.pos, fmt.Errorf("cursor at LSN %d, backlog from %d: %w", c.pos, b.first, ErrNotInBacklog)
	}
	i := int(c.pos + 1 - b.first)
	start := b.offs[i]
	k := i + 1 // records i .. k-1 are returned
	for k < len(b.offs) && b.offs[k]-start < maxBytes {
		k++
	}
	end := len(b.buf)
	if k < len(b.offs) {
		end = b.offs[k]
	}
	c.pos = b.first + uint64(k) - 1
	return append(dst, b.buf[start:end]...), c.pos, nil
}

// Close unregisters the cursor, so it pins nothing any more. Later Reads
// return ErrCursorClosed. Closing twice is harmless.
func (c *Cursor) Close() {
	j := c.j
	j.mu.Lock()
	defer j.mu.Unlock()
	c.closed = true
	cs := j.bl.cursors
	for i, o := range cs {
		if o == c {
			last := len(cs) - 1
			cs[i], cs[last] = cs[last], nil
			j.bl.cursors = cs[:last]
			return
		}
	}
}

// DecodeRecords decodes consecutive raw records from b (as Cursor.Read
// returns them), verifying each checksum, and calls fn for each in order.
// It returns the bytes consumed. A truncated or corrupt record is an error
// wrapping ErrCorrupt: the replication stream frames records whole, so a
// partial record is corruption, not a torn tail. The entries' Args alias
// b: fn must copy what it keeps beyond b's lifetime. An error from fn stops
// decoding and is returned as is, with the bytes consumed before that
// record.
func DecodeRecords(b []byte, fn func(Entry) error) (int, error) {
	return EachRecord(b, func(e Entry, _ []byte) error { return fn(e) })
}
