package repl

import (
	"bytes"
	"fmt"

	"github.com/batonkv/baton/node/journal"
	"github.com/batonkv/baton/node/keyspace"
)

// Journal markers that bracket a transaction's effective writes, so a
// transaction is applied all or nothing by a replica and on recovery.
// MarkDiscard closes a transaction a crash cut short.
const (
	MarkMulti   = "multi"
	MarkExec    = "exec"
	MarkDiscard = "discard"
)

// Txn holds the records of a transaction whose exec marker has not arrived
// yet. They are neither journaled nor applied before it: the replica's
// journal and keyspace only ever hold whole transactions, and a link lost
// in the middle resumes (partial sync) from before the multi. The zero
// value is ready.
type Txn struct {
	open    bool
	entries []Record
	one     [1]Record
}

// Record is one record of the primary's stream: decoded, and raw as the
// primary's journal holds it (a replica journals it byte for byte).
type Record struct {
	journal.Entry
	Raw []byte
}

// Add takes the next record of the stream, raw as received; last is the
// LSN the replica journaled last, so the record must carry last+1 plus the
// records held. It returns the records now ready to journal, in order, and
// the part of them to apply: nothing while a transaction is open; its
// records at its exec (the markers journaled, not applied); none applied
// at a discard; a lone record otherwise. Ready records do not alias the
// stream's buffer (handlers keep argument slices as values) and are valid
// until the next Add.
func (t *Txn) Add(e journal.Entry, raw []byte, last uint64) (ready, apply []Record, err error) {
	want := last + 1 + uint64(len(t.entries))
	if e.LSN != want {
		return nil, nil, fmt.Errorf("%w: record LSN %d, expected %d", ErrProtocol, e.LSN, want)
	}
	if len(e.Args) == 0 {
		return nil, nil, fmt.Errorf("%w: empty record at LSN %d", ErrProtocol, e.LSN)
	}
	switch {
	case keyspace.EqFold(e.Args[0], MarkMulti):
		t.open = true
		t.entries = append(t.entries[:0], cloneRecord(e, raw))
		return nil, nil, nil
	case t.open && (keyspace.EqFold(e.Args[0], MarkExec) || keyspace.EqFold(e.Args[0], MarkDiscard)):
		ready = append(t.entries, Record{e, raw})
		t.open, t.entries = false, t.entries[:0]
		if keyspace.EqFold(e.Args[0], MarkExec) {
			return ready, ready[1 : len(ready)-1], nil
		}
		return ready, nil, nil
	case t.open:
		t.entries = append(t.entries, cloneRecord(e, raw))
		return nil, nil, nil
	}
	t.one[0] = Record{journal.Entry{LSN: e.LSN, Args: cloneArgs(e.Args)}, raw}
	return t.one[:], t.one[:], nil
}

// cloneRecord copies a record held back in a transaction out of the
// stream's buffer.
func cloneRecord(e journal.Entry, raw []byte) Record {
	return Record{journal.Entry{LSN: e.LSN, Args: cloneArgs(e.Args)}, bytes.Clone(raw)}
}

// cloneArgs copies arguments into one allocation (each clipped to its
// length, so no append through one reaches the next).
func cloneArgs(in [][]byte) [][]byte {
	n := 0
	for _, a := range in {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	args := make([][]byte, len(in))
	for i, a := range in {
		start := len(buf)
		buf = append(buf, a...)
		args[i] = buf[start:len(buf):len(buf)]
	}
	return args
}
