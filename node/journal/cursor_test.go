package journal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"
)

// recordBytes is the encoding of test entries from..to.
func recordBytes(from, to int) []byte {
	var b []byte
	for i := from; i <= to; i++ {
		b = appendRecord(b, uint64(i), entryArgs(i))
	}
	return b
}

// signalled reports whether c's channel holds a signal, consuming it.
func signalled(c *Cursor) bool {
	select {
	case <-c.C():
		return true
	default:
		return false
	}
}

func Test_Cursor_ReadsRawRecords(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		t.Run(fmt.Sprintf("on disk %v", dir != ""), func(t *testing.T) {
			j := mustOpen(t, Options{Dir: dir, Fsync: Always})
			for i := 1; i <= 10; i++ {
				j.Append(entryArgs(i))
			}
			c, err := j.NewCursor(3)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			prefix := []byte("prefix")
			out, last, err := c.Read(prefix, 1<<20)
			if err != nil || last != 10 || c.Pos() != 10 {
				t.Fatalf("Read = last %d, pos %d, %v; want 10", last, c.Pos(), err)
			}
			if !bytes.HasPrefix(out, prefix) || !bytes.Equal(out[len(prefix):], recordBytes(4, 10)) {
				t.Fatalf("Read did not append the records 4..10 as encoded")
			}
			if dir != "" {
				// Exactly the bytes on disk.
				if err := j.Sync(10); err != nil {
					t.Fatal(err)
				}
				file, err := os.ReadFile(onlySegment(t, dir))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasSuffix(file, out[len(prefix):]) {
					t.Fatalf("cursor bytes differ from the segment's")
				}
			}
			var got []Entry
			n, err := DecodeRecords(out[len(prefix):], func(e Entry) error {
				got = append(got, Entry{LSN: e.LSN, Args: append([][]byte(nil), e.Args...)})
				return nil
			})
			if err != nil || n != len(out)-len(prefix) {
				t.Fatalf("DecodeRecords consumed %d of %d: %v", n, len(out)-len(prefix), err)
			}
			checkEntries(t, got, 3, 7)
			// Nothing new: dst unchanged, position kept.
			again, last, err := c.Read(out[:0], 1<<20)
			if err != nil || len(again) != 0 || last != 10 {
				t.Fatalf("Read with nothing new = %d bytes, last %d, %v", len(again), last, err)
			}
		})
	}
}

func Test_Cursor_MaxBytes(t *testing.T) {
	j := mustOpen(t, Options{})
	for i := 1; i <= 5; i++ {
		j.Append(entryArgs(i))
	}
	c, err := j.NewCursor(0)
	if err != nil {
		t.Fatal(err)
	}
	// A limit below one record still returns that record.
	if out, last, err := c.Read(nil, 1); err != nil || last != 1 || !bytes.Equal(out, recordBytes(1, 1)) {
		t.Fatalf("Read(max 1) = %d bytes, last %d, %v", len(out), last, err)
	}
	// Reaching the limit exactly stops; one byte more takes the next.
	two := len(recordBytes(2, 2))
	if out, last, err := c.Read(nil, two); err != nil || last != 2 || len(out) != two {
		t.Fatalf("Read(max = one record) = %d bytes, last %d, %v", len(out), last, err)
	}
	if out, last, err := c.Read(nil, len(recordBytes(3, 3))+1); err != nil || last != 4 || !bytes.Equal(out, recordBytes(3, 4)) {
		t.Fatalf("Read(max = one record + 1) = %d bytes, last %d, %v", len(out), last, err)
	}
}

func Test_Cursor_NewCursorPositions(t *testing.T) {
	j := mustOpen(t, Options{BacklogBytes: 4096})
	if c, err := j.NewCursor(0); err != nil {
		t.Fatalf("cursor at the (empty) end: %v", err)
	} else {
		c.Close()
	}
	appendN(j, 2000)
	first := j.BacklogFirst()
	if first <= 1 {
		t.Fatalf("backlog never trimmed")
	}
	for _, tc := range []struct {
		after uint64
		ok    bool
	}{
		{first - 1, true}, // first is the next record
		{first, true},
		{j.LSN(), true},
		{first - 2, false},
		{0, false},
		{j.LSN() + 1, false}, // ahead of the journal
	} {
		c, err := j.NewCursor(tc.after)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrNotInBacklog)) {
			t.Fatalf("NewCursor(%d) = %v, want ok %v", tc.after, err, tc.ok)
		}
		if c != nil {
			c.Close()
		}
	}
	// No backlog at all: only the end is a valid position, and reading
	// past it needs a full sync.
	nb := mustOpen(t, Options{BacklogBytes: -1})
	appendN(nb, 3)
	c, err := nb.NewCursor(3)
	if err != nil {
		t.Fatal(err)
	}
	appendN(nb, 1)
	if _, _, err := c.Read(nil, 1<<10); !errors.Is(err, ErrNotInBacklog) {
		t.Fatalf("Read without backlog = %v, want ErrNotInBacklog", err)
	}
}

func Test_Cursor_SignalledOnAppend(t *testing.T) {
	j := mustOpen(t, Options{Dir: t.TempDir()})
	c, err := j.NewCursor(0)
	if err != nil {
		t.Fatal(err)
	}
	if signalled(c) {
		t.Fatal("signalled before any Append")
	}
	j.Append(entryArgs(1))
	j.Append(entryArgs(2)) // the buffered signal coalesces; Append never blocks
	if !signalled(c) {
		t.Fatal("not signalled after Append")
	}
	if signalled(c) {
		t.Fatal("more than one pending signal")
	}
	c.Close()
	j.Append(entryArgs(3))
	if signalled(c) {
		t.Fatal("closed cursor still signalled")
	}
	if _, _, err := c.Read(nil, 1<<10); !errors.Is(err, ErrCursorClosed) {
		t.Fatalf("Read after Close = %v", err)
	}
	c.Close() // twice is harmless
}

// backlogBytes is how many bytes j's backlog holds.
func backlogBytes(j *Journal) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.bl.buf)
}

func Test_Cursor_PinsBacklogUpToHardCap(t *testing.T) {
	const soft, hard = 4 << 10, 64 << 10
	j := mustOpen(t, Options{BacklogBytes: soft, BacklogHardBytes: hard})
	c, err := j.NewCursor(0)
	if err != nil {
		t.Fatal(err)
	}
	// Far past the soft limit, below the hard cap: nothing the cursor has
	// not read goes.
	for backlogBytes(j) < hard/2 {
		appendN(j, 1)
	}
	if first := j.BacklogFirst(); first != 1 {
		t.Fatalf("pinned backlog trimmed to %d", first)
	}
	out, last, err := c.Read(nil, 1<<30)
	if err != nil || last != j.LSN() {
		t.Fatalf("Read = last %d, %v; want %d", last, err, j.LSN())
	}
	n, err := DecodeRecords(out, func(e Entry) error { return nil })
	if err != nil || n != len(out) {
		t.Fatalf("decode pinned records: %d of %d, %v", n, len(out), err)
	}
	// A cursor that keeps up: the soft limit applies again.
	for i := 0; i < 500; i++ {
		appendN(j, 1)
		if _, _, err := c.Read(nil, 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	if first := j.BacklogFirst(); first <= 1 {
		t.Fatal("backlog not trimmed once the cursor read it")
	}
	if held := backlogBytes(j); held > 2*soft+256 {
		t.Fatalf("backlog holds %d bytes with nothing pinned, soft limit %d", held, soft)
	}
	// A cursor that stops reading is dropped past the hard cap.
	pos := c.Pos()
	for j.BacklogFirst() <= pos+1 {
		appendN(j, 1)
		if held := backlogBytes(j); held > hard+1024 {
			t.Fatalf("backlog holds %d bytes, hard cap %d", held, hard)
		}
	}
	if _, _, err := c.Read(nil, 1<<20); !errors.Is(err, ErrNotInBacklog) {
		t.Fatalf("Read of a cursor left behind = %v, want ErrNotInBacklog", err)
	}
	if c.Pos() != pos {
		t.Fatalf("failed Read moved the cursor")
	}
	// A closed cursor pins nothing.
	c2, err := j.NewCursor(j.LSN())
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
	from := j.LSN()
	appendN(j, 400)
	if j.BacklogFirst() <= from+1 {
		t.Fatal("a closed cursor still pins the backlog")
	}
}

func Test_Cursor_ResetInvalidates(t *testing.T) {
	j := mustOpen(t, Options{Dir: t.TempDir()})
	appendN(j, 5)
	c, err := j.NewCursor(5)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Reset(NewReplid(), 5); err != nil {
		t.Fatal(err)
	}
	if !signalled(c) {
		t.Fatal("Reset did not wake the cursor's reader")
	}
	appendN(j, 1)
	if _, _, err := c.Read(nil, 1<<10); !errors.Is(err, ErrNotInBacklog) {
		t.Fatalf("Read after Reset = %v, want ErrNotInBacklog", err)
	}
	c.Close()
	// A new cursor works in the new history.
	c2, err := j.NewCursor(5)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if out, last, err := c2.Read(nil, 1<<10); err != nil || last != 6 || len(out) == 0 {
		t.Fatalf("new cursor after Reset: last %d, %v", last, err)
	}
}

func Test_Cursor_AppendDoesNotAllocate(t *testing.T) {
	j := mustOpen(t, Options{BacklogBytes: 64 << 10})
	cs := make([]*Cursor, 4)
	for i := range cs {
		c, err := j.NewCursor(0)
		if err != nil {
			t.Fatal(err)
		}
		cs[i] = c
	}
	args := entryArgs(5)
	dst := make([]byte, 0, 1<<20)
	step := func() {
		j.Append(args)
		for _, c := range cs {
			dst, _, _ = c.Read(dst[:0], 1<<20)
			signalled(c)
		}
	}
	for i := 0; i < 20000; i++ { // warm up: buffers reach their steady size
		step()
	}
	if a := testing.AllocsPerRun(1000, step); a != 0 {
		t.Fatalf("Append + Read allocate %.1f times per entry", a)
	}
}

func Test_DecodeRecords_RefusesPartialAndCorrupt(t *testing.T) {
	b := recordBytes(1, 3)
	whole := len(recordBytes(1, 2))
	for cut := whole + 1; cut < len(b); cut++ {
		var n int
		consumed, err := DecodeRecords(b[:cut], func(Entry) error { n++; return nil })
		if !errors.Is(err, ErrCorrupt) || consumed != whole || n != 2 {
			t.Fatalf("cut at %d: consumed %d, %d entries, %v; want %d, 2, ErrCorrupt", cut, consumed, n, err, whole)
		}
	}
	bad := bytes.Clone(b)
	bad[whole+10] ^= 1
	if consumed, err := DecodeRecords(bad, func(Entry) error { return nil }); !errors.Is(err, ErrCorrupt) || consumed != whole {
		t.Fatalf("flipped byte: consumed %d, %v", consumed, err)
	}
	stop := errors.New("stop")
	if consumed, err := DecodeRecords(b, func(e Entry) error {
		if e.LSN == 2 {
			return stop
		}
		return nil
	}); err != stop || consumed != len(recordBytes(1, 1)) {
		t.Fatalf("fn error: consumed %d, %v", consumed, err)
	}
	if n, err := DecodeRecords(nil, nil); n != 0 || err != nil {
		t.Fatalf("empty input: %d, %v", n, err)
	}
}
