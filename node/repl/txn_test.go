package repl

import (
	"errors"
	"testing"

	"github.com/batonkv/baton/node/journal"
)

func rec(lsn uint64, args ...string) journal.Entry {
	e := journal.Entry{LSN: lsn}
	for _, a := range args {
		e.Args = append(e.Args, []byte(a))
	}
	return e
}

// A transaction's records are held until its exec (then journaled with
// their markers, applied without them) or its discard (journaled, not
// applied); a lone record is ready at once; LSNs must follow on.
func Test_Txn_HoldsTransactions(t *testing.T) {
	var tx Txn
	if ready, apply, err := tx.Add(rec(1, "set", "a", "1"), []byte("r1"), 0); err != nil || len(ready) != 1 || len(apply) != 1 {
		t.Fatalf("lone record: %d ready, %d to apply, %v", len(ready), len(apply), err)
	}
	for i, args := range [][]string{{"MULTI"}, {"incr", "n"}, {"incr", "m"}} {
		if ready, _, err := tx.Add(rec(uint64(2+i), args...), nil, 1); err != nil || ready != nil {
			t.Fatalf("record %v in a transaction: %d ready, %v", args, len(ready), err)
		}
	}
	ready, apply, err := tx.Add(rec(5, "exec"), nil, 1)
	if err != nil || len(ready) != 4 || len(apply) != 2 || string(apply[1].Args[1]) != "m" {
		t.Fatalf("exec: %d ready, %d to apply, %v", len(ready), len(apply), err)
	}
	tx.Add(rec(6, "multi"), nil, 5)
	if ready, apply, _ := tx.Add(rec(7, "discard"), nil, 5); len(ready) != 2 || apply != nil {
		t.Fatalf("discard: %d ready, %d to apply", len(ready), len(apply))
	}
	if _, _, err := tx.Add(rec(9, "set", "a", "2"), nil, 7); !errors.Is(err, ErrProtocol) {
		t.Fatalf("a gap in LSNs: %v", err)
	}
	if _, _, err := tx.Add(rec(8), nil, 7); !errors.Is(err, ErrProtocol) {
		t.Fatalf("an empty record: %v", err)
	}
}
