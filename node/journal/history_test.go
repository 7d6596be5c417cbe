package journal

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/testutil"
)

// appendRange appends test entries from..to (their LSNs must be exactly
// those) and waits until they are durable.
func appendRange(t *testing.T, j *Journal, from, to int) {
	t.Helper()
	var lsn uint64
	for i := from; i <= to; i++ {
		if lsn = j.Append(entryArgs(i)); lsn != uint64(i) {
			t.Fatalf("appended LSN %d, want %d", lsn, i)
		}
	}
	if err := j.WaitDurable(lsn); err != nil {
		t.Fatal(err)
	}
}

// twoHistories writes entries 1..5 in one history and 6..8 in the next one
// (NewHistory at 5) to a new directory and returns it with both ids.
func twoHistories(t *testing.T) (dir, a, b string) {
	t.Helper()
	dir = t.TempDir()
	j, err := Open(Options{Dir: dir, Fsync: Always})
	if err != nil {
		t.Fatal(err)
	}
	appendRange(t, j, 1, 5)
	a = j.Replid()
	h := j.NewHistory()
	b = h.Replid
	if want := (History{Replid: b, LSN: 5, PrevReplid: a, PrevEnd: 5}); h != want || !ValidReplid(b) || b == a {
		t.Fatalf("NewHistory = %+v, want %+v with a fresh id", h, want)
	}
	if j.Replid() != b || j.History() != h {
		t.Fatalf("Replid %s, History %+v after NewHistory %+v", j.Replid(), j.History(), h)
	}
	appendRange(t, j, 6, 8)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, a, b
}

func Test_History_NewHistoryReopensAsChain(t *testing.T) {
	dir, a, b := twoHistories(t)
	j, got, err := replay(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, got, 0, 8)
	if h, want := j.History(), (History{Replid: b, LSN: 8, PrevReplid: a, PrevEnd: 5}); h != want {
		t.Fatalf("History after reopen = %+v, want %+v", h, want)
	}
	segs := j.Segments()
	if len(segs) != 2 || filepath.Base(segs[1]) != segmentName(6) {
		t.Fatalf("segments %v, want the new history to start journal-…6", segs)
	}
	// A second promotion: the chain's last change wins.
	c := j.NewHistory().Replid
	appendRange(t, j, 9, 9)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j2, got, err := replay(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	checkEntries(t, got, 0, 9)
	if h, want := j2.History(), (History{Replid: c, LSN: 9, PrevReplid: b, PrevEnd: 8}); h != want {
		t.Fatalf("History after second promotion = %+v, want %+v", h, want)
	}
}

func Test_History_NewHistoryRelabelsEmptySegment(t *testing.T) {
	// A rotation whose segment is still empty (pending, or already created
	// by the writer) gets the new id instead of a second empty segment.
	for _, created := range []bool{false, true} {
		dir := t.TempDir()
		j, err := Open(Options{Dir: dir, Fsync: EverySec})
		if err != nil {
			t.Fatal(err)
		}
		appendRange(t, j, 1, 5)
		a := j.Replid()
		j.Rotate()
		if created {
			if err := j.Sync(5); err != nil {
				t.Fatal(err)
			}
			if n := len(j.Segments()); n != 2 {
				t.Fatalf("%d segments after Rotate and Sync, want 2", n)
			}
		}
		b := j.NewHistory().Replid
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		j2, got, err := replay(dir, 0)
		if err != nil {
			t.Fatalf("created=%v: %v", created, err)
		}
		checkEntries(t, got, 0, 5)
		if h, want := j2.History(), (History{Replid: b, LSN: 5, PrevReplid: a, PrevEnd: 5}); h != want {
			t.Fatalf("created=%v: History %+v, want %+v", created, h, want)
		}
		if n := len(j2.Segments()); n != 2 {
			t.Fatalf("created=%v: %d segments, want 2", created, n)
		}
		j2.Close()
	}
}

func Test_History_InMemory(t *testing.T) {
	j := mustOpen(t, Options{})
	j.Append(entryArgs(1))
	a := j.Replid()
	h := j.NewHistory()
	if h.PrevReplid != a || h.PrevEnd != 1 || h.Replid == a || h.LSN != 1 {
		t.Fatalf("NewHistory = %+v (old id %s)", h, a)
	}
	if lsn := j.Append(entryArgs(2)); lsn != 2 {
		t.Fatalf("LSN after NewHistory = %d, want 2", lsn)
	}
}

func Test_History_SnapshotIDAtBoundary(t *testing.T) {
	dir, a, b := twoHistories(t)
	for _, tc := range []struct {
		name   string
		replid string
		after  uint64
		ok     bool
	}{
		{"old history, snapshot at the boundary", a, 5, true},
		{"new history, snapshot at the boundary", b, 5, true},
		{"old history, inside its segment", a, 3, true},
		{"new history, inside the old segment", b, 3, false},
		{"old history, inside the new segment", a, 7, false},
		{"new history, inside its segment", b, 7, true},
		{"new history, at the end", b, 8, true},
		{"old history, at the end", a, 8, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			applied := 0
			j, err := Open(Options{Dir: testutil.CopyDir(t, dir), Replid: tc.replid, After: tc.after,
				Apply: func(Entry) error { applied++; return nil }})
			if !tc.ok {
				if !errors.Is(err, ErrOtherHistory) || applied != 0 {
					t.Fatalf("open = %v after applying %d, want ErrOtherHistory before applying", err, applied)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			if want := 8 - int(tc.after); applied != want {
				t.Fatalf("applied %d, want %d", applied, want)
			}
			if h, want := j.History(), (History{Replid: b, LSN: 8, PrevReplid: a, PrevEnd: 5}); h != want {
				t.Fatalf("History %+v, want %+v", h, want)
			}
		})
	}
}

func Test_History_BoundaryFromSnapshotWhenOldSegmentsCompacted(t *testing.T) {
	// The old history's segments are gone (compacted after the snapshot at
	// the promotion point): the snapshot's id is the previous history.
	dir, a, b := twoHistories(t)
	j, err := Open(Options{Dir: dir, Replid: a, After: 5})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := j.Compact(5); n != 1 || err != nil {
		t.Fatalf("Compact(5) = %d, %v", n, err)
	}
	j.Close()
	j2 := mustOpen(t, Options{Dir: dir, Replid: a, After: 5})
	if h, want := j2.History(), (History{Replid: b, LSN: 8, PrevReplid: a, PrevEnd: 5}); h != want {
		t.Fatalf("History %+v, want %+v", h, want)
	}
}

func Test_Reset_ThenReopen(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(Options{Dir: dir, Fsync: EverySec})
	if err != nil {
		t.Fatal(err)
	}
	appendRange(t, j, 1, 10)
	j.Rotate()
	appendRange(t, j, 11, 12)
	j.NewHistory()
	j.Append(entryArgs(13)) // pending, never written: discarded
	x := NewReplid()
	if err := j.Reset(x, 100); err != nil {
		t.Fatal(err)
	}
	if h, want := j.History(), (History{Replid: x, LSN: 100}); h != want || j.LSN() != 100 {
		t.Fatalf("after Reset: History %+v, LSN %d; want %+v", h, j.LSN(), want)
	}
	if segs := j.Segments(); len(segs) != 1 || filepath.Base(segs[0]) != segmentName(101) {
		t.Fatalf("segments after Reset %v, want only journal-…101", segs)
	}
	if got, err := listSegments(dir); err != nil || len(got) != 1 {
		t.Fatalf("files after Reset: %v, %v", got, err)
	}
	if lsn := j.Append(entryArgs(101)); lsn != 101 {
		t.Fatalf("Append after Reset = %d, want 101", lsn)
	}
	if err := j.Sync(101); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	var got []Entry
	j2, err := Open(Options{Dir: dir, Replid: x, After: 100, Apply: func(e Entry) error { got = append(got, e); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if len(got) != 1 || got[0].LSN != 101 {
		t.Fatalf("reopen after Reset applied %v, want LSN 101 only", got)
	}
	if h, want := j2.History(), (History{Replid: x, LSN: 101}); h != want {
		t.Fatalf("History after reopen %+v, want %+v", h, want)
	}
	// The reset history is the only one: a snapshot of another history
	// inside it is refused.
	if _, err := Open(Options{Dir: testutil.CopyDir(t, dir), Replid: NewReplid(), After: 101}); !errors.Is(err, ErrOtherHistory) {
		t.Fatalf("open with another id = %v, want ErrOtherHistory", err)
	}
}

func Test_Reset_EmptyTailReopens(t *testing.T) {
	// Reset to an LSN below what the journal had, nothing appended after.
	dir := t.TempDir()
	j, err := Open(Options{Dir: dir, Fsync: Always})
	if err != nil {
		t.Fatal(err)
	}
	appendRange(t, j, 1, 20)
	x := NewReplid()
	if err := j.Reset(x, 7); err != nil {
		t.Fatal(err)
	}
	if err := j.WaitDurable(20); !errors.Is(err, ErrReset) {
		t.Fatalf("WaitDurable for a discarded LSN = %v, want ErrReset", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := replay(dir, 0); !errors.Is(err, ErrGap) {
		t.Fatalf("reopen without the snapshot = %v, want ErrGap", err)
	}
	j3 := mustOpen(t, Options{Dir: dir, Replid: x, After: 7})
	if h := j3.History(); h != (History{Replid: x, LSN: 7}) {
		t.Fatalf("History %+v", h)
	}
}

func Test_Reset_InMemory(t *testing.T) {
	j := mustOpen(t, Options{BacklogBytes: 1 << 10})
	appendN(j, 5)
	c, err := j.NewCursor(2)
	if err != nil {
		t.Fatal(err)
	}
	x := NewReplid()
	if err := j.Reset(x, 50); err != nil {
		t.Fatal(err)
	}
	if h := j.History(); h != (History{Replid: x, LSN: 50}) {
		t.Fatalf("History %+v", h)
	}
	if _, _, err := c.Read(nil, 1<<10); !errors.Is(err, ErrNotInBacklog) {
		t.Fatalf("Read after Reset = %v, want ErrNotInBacklog", err)
	}
	if j.BacklogFirst() != 0 {
		t.Fatalf("backlog not emptied: first %d", j.BacklogFirst())
	}
	if lsn := j.Append(entryArgs(51)); lsn != 51 {
		t.Fatalf("Append after Reset = %d", lsn)
	}
	if err := j.Reset("not an id", 1); err == nil {
		t.Fatal("Reset accepted a bad replication id")
	}
}

func Test_Reset_ReleasesWaiters(t *testing.T) {
	// A flush is in progress (held in its fsync) and a client waits behind
	// it when Reset comes: the flush finishes, Reset runs, and the waiter
	// returns (nil if it flushed first, else ErrReset); nobody hangs.
	j := mustOpen(t, Options{Dir: t.TempDir(), Fsync: Always})
	inFsync, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	j.beforeFsync = func() { once.Do(func() { close(inFsync); <-release }) }
	errs, resetErr := make(chan error, 2), make(chan error, 1)
	go func() { errs <- j.WaitDurable(j.Append(entryArgs(1))) }()
	<-inFsync
	lsn := j.Append(entryArgs(2))
	go func() { errs <- j.WaitDurable(lsn) }()
	x := NewReplid()
	go func() { resetErr <- j.Reset(x, 0) }()
	close(release)
	deadline := time.After(10 * time.Second)
	for i := 0; i < 3; i++ {
		select {
		case err := <-errs:
			if err != nil && !errors.Is(err, ErrReset) {
				t.Fatalf("waiter: %v, want nil or ErrReset", err)
			}
		case err := <-resetErr:
			if err != nil {
				t.Fatalf("Reset: %v", err)
			}
		case <-deadline:
			t.Fatal("a waiter or Reset hung")
		}
	}
	if h := j.History(); h != (History{Replid: x, LSN: 0}) {
		t.Fatalf("History %+v after Reset", h)
	}
	if err := j.WaitDurable(j.Append(entryArgs(1))); err != nil {
		t.Fatalf("write after Reset: %v", err)
	}
}
