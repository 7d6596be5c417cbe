package journal

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// Test_AppendRecord_CopiesAnotherJournal streams one journal's raw records
// into another, as a replica does: the second holds the same bytes for the
// same LSNs, serves them to its own cursors, and refuses a record that does
// not carry its next LSN.
func Test_AppendRecord_CopiesAnotherJournal(t *testing.T) {
	src := mustOpen(t, Options{})
	for i := 1; i <= 20; i++ {
		src.Append(entryArgs(i))
	}
	c, err := src.NewCursor(0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw, _, err := c.Read(nil, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dst := mustOpen(t, Options{Dir: dir, Fsync: Always})
	sub, err := dst.NewCursor(0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var recs [][]byte
	if _, err := EachRecord(raw, func(_ Entry, rec []byte) error {
		recs = append(recs, rec)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.AppendRecord(recs[1]); !errors.Is(err, ErrGap) {
		t.Fatalf("record 2 first: %v, want ErrGap", err)
	}
	for i, rec := range recs {
		if lsn, err := dst.AppendRecord(rec); err != nil || lsn != uint64(i+1) {
			t.Fatalf("AppendRecord %d = %d, %v", i+1, lsn, err)
		}
	}
	if _, err := dst.AppendRecord(recs[5]); !errors.Is(err, ErrGap) {
		t.Fatalf("replayed record: %v, want ErrGap", err)
	}
	if _, err := dst.AppendRecord(recs[0][:10]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("short record: %v, want ErrCorrupt", err)
	}
	if !signalled(sub) {
		t.Fatalf("the copy's cursor was not signalled")
	}
	again, _, err := sub.Read(nil, 1<<20)
	if err != nil || !bytes.Equal(again, raw) {
		t.Fatalf("the copy's cursor serves different bytes (%v)", err)
	}
	if err := dst.Sync(20); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(onlySegment(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(file, raw) {
		t.Fatalf("the copy's segment differs from the source's records")
	}
}

// Test_Recovery_RefillsBacklog reopens a journal: the recovered tail is in
// the backlog again, so a replica behind the restarted node can continue.
func Test_Recovery_RefillsBacklog(t *testing.T) {
	dir := t.TempDir()
	j := mustOpen(t, Options{Dir: dir, Fsync: Always})
	for i := 1; i <= 30; i++ {
		j.Append(entryArgs(i))
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	re := mustOpen(t, Options{Dir: dir, Fsync: Always, After: 10})
	c, err := re.NewCursor(5)
	if err != nil {
		t.Fatalf("cursor at 5 after reopening: %v", err)
	}
	defer c.Close()
	out, last, err := c.Read(nil, 1<<20)
	if err != nil || last != 30 || !bytes.Equal(out, recordBytes(6, 30)) {
		t.Fatalf("records after reopening: last %d, %v", last, err)
	}
	re.Append(entryArgs(31))
	if out, last, err = c.Read(nil, 1<<20); err != nil || last != 31 || !bytes.Equal(out, recordBytes(31, 31)) {
		t.Fatalf("record appended after reopening: last %d, %v", last, err)
	}
}
