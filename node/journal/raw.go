package journal

import (
	"encoding/binary"
	"fmt"
)

// AppendRecord appends one raw record exactly as another journal encoded it
// (a replica journaling its primary's stream): the record must carry the
// next LSN, and it is stored without being re-encoded, so both journals hold
// the same bytes for the same LSN. Like Append it does no I/O.
func (j *Journal) AppendRecord(rec []byte) (uint64, error) {
	if len(rec) < recordHead+minPayload {
		return 0, fmt.Errorf("%w: record of %d bytes", ErrCorrupt, len(rec))
	}
	lsn := binary.LittleEndian.Uint64(rec[recordHead:])
	j.mu.Lock()
	defer j.mu.Unlock()
	if lsn != j.lsn+1 {
		return 0, fmt.Errorf("%w: record LSN %d after LSN %d", ErrGap, lsn, j.lsn)
	}
	j.lsn = lsn
	switch {
	case j.kick != nil:
		start := len(j.buf)
		j.buf = append(j.buf, rec...)
		if j.bl.limit > 0 {
			j.bl.add(lsn, j.buf[start:])
		}
	case j.bl.limit > 0:
		j.bl.add(lsn, rec)
	}
	for _, c := range j.bl.cursors {
		c.signal()
	}
	return lsn, nil
}

// EachRecord is DecodeRecords that also hands fn each record's raw bytes
// (aliasing b), for AppendRecord.
func EachRecord(b []byte, fn func(e Entry, raw []byte) error) (int, error) {
	off := 0
	for off < len(b) {
		e, n, err := decodeRecord(b[off:])
		if err != nil {
			return off, fmt.Errorf("record at offset %d: %w", off, err)
		}
		if err := fn(e, b[off:off+n]); err != nil {
			return off, err
		}
		off += n
	}
	return off, nil
}
