package node

import (
	"github.com/batonkv/baton/node/keyspace"
	"github.com/batonkv/baton/node/repl"
)

// Journal markers of a transaction (see repl.MarkMulti).
const (
	journalMulti   = repl.MarkMulti
	journalExec    = repl.MarkExec
	journalDiscard = repl.MarkDiscard
)

// txnReplay applies journal entries in order, holding back the entries
// between a multi marker and its exec until the exec is seen.
type txnReplay struct {
	open    bool
	pending [][][]byte
}

// apply handles one entry; apply is the function that applies a write.
func (t *txnReplay) apply(args [][]byte, apply func([][]byte) error) error {
	switch {
	case keyspace.EqFold(args[0], journalMulti):
		t.open, t.pending = true, t.pending[:0]
	case keyspace.EqFold(args[0], journalExec):
		pending := t.pending
		t.open, t.pending = false, nil
		for _, a := range pending {
			if err := apply(a); err != nil {
				return err
			}
		}
	case keyspace.EqFold(args[0], journalDiscard):
		t.open, t.pending = false, nil
	case t.open:
		t.pending = append(t.pending, args)
	default:
		return apply(args)
	}
	return nil
}

// unfinished returns the number of held-back entries of a transaction that
// never saw its exec, or -1 when no transaction is open.
func (t *txnReplay) unfinished() int {
	if !t.open {
		return -1
	}
	return len(t.pending)
}
