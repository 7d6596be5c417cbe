package journal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/testutil"
)

// entryArgs is the deterministic argument vector of test entry i.
func entryArgs(i int) [][]byte {
	return [][]byte{[]byte("set"), []byte(fmt.Sprintf("key:%d", i)), bytes.Repeat([]byte{byte(i)}, i%7)}
}

// mustOpen opens a journal and closes it when the test ends.
func mustOpen(t *testing.T, opts Options) *Journal {
	t.Helper()
	j, err := Open(opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// writeEntries appends n test entries to a fresh journal in dir, waits until
// they are durable and closes it.
func writeEntries(t *testing.T, dir string, n int) {
	t.Helper()
	j, err := Open(Options{Dir: dir, Fsync: Always})
	if err != nil {
		t.Fatal(err)
	}
	var lsn uint64
	for i := 1; i <= n; i++ {
		lsn = j.Append(entryArgs(i))
	}
	if err := j.WaitDurable(lsn); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

// replay opens dir and returns the entries it applies.
func replay(dir string, after uint64) (*Journal, []Entry, error) {
	var got []Entry
	j, err := Open(Options{Dir: dir, Fsync: Always, After: after, Apply: func(e Entry) error {
		got = append(got, e)
		return nil
	}})
	return j, got, err
}

// checkEntries asserts that got are test entries from+1 .. from+len(got).
func checkEntries(t *testing.T, got []Entry, from, want int) {
	t.Helper()
	if len(got) != want {
		t.Fatalf("replayed %d entries, want %d", len(got), want)
	}
	for k, e := range got {
		i := from + k + 1
		if e.LSN != uint64(i) {
			t.Fatalf("entry %d has LSN %d", i, e.LSN)
		}
		if fmt.Sprint(e.Args) != fmt.Sprint(entryArgs(i)) {
			t.Fatalf("entry %d args %q, want %q", i, e.Args, entryArgs(i))
		}
	}
}

// onlySegment returns the path of the single segment in dir.
func onlySegment(t *testing.T, dir string) string {
	t.Helper()
	segs, err := listSegments(dir)
	if err != nil || len(segs) != 1 {
		t.Fatalf("segments %v, %v: want exactly one", segs, err)
	}
	return segs[0].path
}

func Test_Journal_AppendReopenContinuesLSN(t *testing.T) {
	dir := t.TempDir()
	writeEntries(t, dir, 100)
	j, got, err := replay(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, got, 0, 100)
	if j.LSN() != 100 {
		t.Fatalf("LSN after reopen = %d, want 100", j.LSN())
	}
	replid := j.Replid()
	if !ValidReplid(replid) {
		t.Fatalf("replid %q", replid)
	}
	if lsn := j.Append(entryArgs(101)); lsn != 101 {
		t.Fatalf("next LSN = %d, want 101", lsn)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j2, got, err := replay(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	checkEntries(t, got, 0, 101)
	if j2.Replid() != replid {
		t.Fatalf("replid changed across reopen: %s → %s", replid, j2.Replid())
	}
	if _, got, err := replay(testutil.CopyDir(t, dir), 60); err != nil {
		t.Fatal(err)
	} else {
		checkEntries(t, got, 60, 41)
	}
}

func Test_Journal_TornTailAtEveryOffsetIsCut(t *testing.T) {
	dir := t.TempDir()
	const n = 20
	writeEntries(t, dir, n)
	path := onlySegment(t, dir)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lastLen := len(appendRecord(nil, n, entryArgs(n)))
	lastStart := len(data) - lastLen
	check := func(t *testing.T, mutated []byte, what string) {
		d := t.TempDir()
		p := filepath.Join(d, filepath.Base(path))
		if err := os.WriteFile(p, mutated, 0o644); err != nil {
			t.Fatal(err)
		}
		j, got, err := replay(d, 0)
		if err != nil {
			t.Fatalf("%s: open refused a torn tail: %v", what, err)
		}
		checkEntries(t, got, 0, n-1)
		info := j.Recovery()
		if info.TornFile != p || info.TornOffset != int64(lastStart) {
			t.Fatalf("%s: recovery info %+v, want torn file %s at %d", what, info, p, lastStart)
		}
		// The cut is durable and the journal continues at the torn LSN.
		if lsn := j.Append(entryArgs(n)); lsn != n {
			t.Fatalf("%s: next LSN %d, want %d", what, lsn, n)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		j2, got, err := replay(d, 0)
		if err != nil {
			t.Fatalf("%s: reopen after cut: %v", what, err)
		}
		j2.Close()
		checkEntries(t, got, 0, n)
	}
	for cut := lastStart + 1; cut < len(data); cut++ {
		check(t, data[:cut], fmt.Sprintf("truncated at %d", cut))
	}
	for off := lastStart; off < len(data); off++ {
		bad := bytes.Clone(data)
		bad[off] ^= 0x5a
		check(t, bad, fmt.Sprintf("byte %d flipped", off))
	}
	// Zeros where the last record should be (file size extended, data
	// never written) are a torn tail too.
	zeroed := bytes.Clone(data)
	clear(zeroed[lastStart:])
	check(t, zeroed, "zeroed tail")
}

func Test_Journal_MidFileCorruptionIsRefused(t *testing.T) {
	dir := t.TempDir()
	writeEntries(t, dir, 20)
	path := onlySegment(t, dir)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Offset of record 10.
	off := headerSize
	for i := 1; i < 10; i++ {
		off += len(appendRecord(nil, uint64(i), entryArgs(i)))
	}
	for _, delta := range []int{0, 3, 8, 12, 20} { // length, crc, lsn, argc, body
		bad := bytes.Clone(data)
		bad[off+delta] ^= 0xff
		d := t.TempDir()
		p := filepath.Join(d, filepath.Base(path))
		os.WriteFile(p, bad, 0o644)
		applied := 0
		_, err := Open(Options{Dir: d, Apply: func(Entry) error { applied++; return nil }})
		if err == nil || !errors.Is(err, ErrCorrupt) {
			t.Fatalf("byte %d flipped: open = %v, want ErrCorrupt", off+delta, err)
		}
		if want := fmt.Sprintf("offset %d", off); !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not name the file and %s", err, want)
		}
		after, _ := os.ReadFile(p)
		if !bytes.Equal(after, bad) {
			t.Fatalf("a refused journal was modified")
		}
	}
}

func Test_Journal_GroupCommitSharesFsyncs(t *testing.T) {
	j := mustOpen(t, Options{Dir: t.TempDir(), Fsync: Always})
	const writers = 64
	// Hold the first fsync until every writer has appended: the writers
	// that arrive meanwhile must then all be served by one more fsync.
	release := make(chan struct{})
	var once sync.Once
	j.beforeFsync = func() { once.Do(func() { <-release }) }
	var lock sync.Mutex // the server's keyspace lock
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lock.Lock()
			lsn := j.Append(entryArgs(w))
			lock.Unlock()
			errs <- j.WaitDurable(lsn)
		}()
	}
	for j.LSN() < writers {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if f := j.Fsyncs(); f > 2 {
		t.Fatalf("%d concurrent writers needed %d fsyncs, want at most 2", writers, f)
	}
	t.Logf("%d concurrent writers, %d fsyncs", writers, j.Fsyncs())
}

func Test_Journal_GroupCommitUnderLoad(t *testing.T) {
	// Free-running: no hook, a real disk. Reported, and checked only in
	// the direction that cannot be flaky (never more fsyncs than writes).
	for _, writers := range []int{1, 16, 64} {
		j := mustOpen(t, Options{Dir: t.TempDir(), Fsync: Always})
		var lock sync.Mutex
		var wg sync.WaitGroup
		const per = 50
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < per; i++ {
					lock.Lock()
					lsn := j.Append(entryArgs(i))
					lock.Unlock()
					if err := j.WaitDurable(lsn); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if f := j.Fsyncs(); f > int64(writers*per) {
			t.Fatalf("%d fsyncs for %d writes", f, writers*per)
		}
		t.Logf("%2d writers × %d writes: %d fsyncs (%.1f writes per fsync)",
			writers, per, j.Fsyncs(), float64(writers*per)/float64(j.Fsyncs()))
	}
}

func Test_Journal_EverysecWritesPromptly(t *testing.T) {
	for _, p := range []Policy{EverySec, No} {
		dir := t.TempDir()
		j := mustOpen(t, Options{Dir: dir, Fsync: p})
		lsn := j.Append(entryArgs(1))
		if err := j.WaitDurable(lsn); err != nil {
			t.Fatal(err)
		}
		path := onlySegment(t, dir)
		want := int64(headerSize + len(appendRecord(nil, 1, entryArgs(1))))
		deadline := time.Now().Add(5 * time.Second)
		for {
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Size() == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: entry not written to the file (size %d, want %d)", p, st.Size(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

func Test_Journal_WriteErrorIsSticky(t *testing.T) {
	j := mustOpen(t, Options{Dir: t.TempDir(), Fsync: Always})
	if err := j.WaitDurable(j.Append(entryArgs(1))); err != nil {
		t.Fatal(err)
	}
	// Break the writer's file underneath it: the next write fails.
	fail := errors.New("disk on fire")
	j.writeHook = func() error { return fail }
	lsn := j.Append(entryArgs(2))
	if err := j.WaitDurable(lsn); !errors.Is(err, fail) {
		t.Fatalf("WaitDurable after failed write = %v, want %v", err, fail)
	}
	j.writeHook = nil
	if err := j.WaitDurable(j.Append(entryArgs(3))); !errors.Is(err, fail) {
		t.Fatalf("error not sticky: %v", err)
	}
	if err := j.Close(); !errors.Is(err, fail) {
		t.Fatalf("Close = %v, want the sticky error", err)
	}
}

func Test_Journal_RotateAndCompact(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(Options{Dir: dir, Fsync: EverySec})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 10; i++ {
		j.Append(entryArgs(i))
	}
	if first := j.Rotate(); first != 11 {
		t.Fatalf("Rotate = %d, want 11", first)
	}
	if first := j.Rotate(); first != 11 {
		t.Fatalf("second Rotate on an empty segment = %d, want 11", first)
	}
	for i := 11; i <= 15; i++ {
		j.Append(entryArgs(i))
	}
	if err := j.Sync(15); err != nil {
		t.Fatal(err)
	}
	if n := len(j.Segments()); n != 2 {
		t.Fatalf("%d segments after rotate, want 2", n)
	}
	if n, err := j.Compact(9); n != 0 || err != nil {
		t.Fatalf("Compact(9) deleted %d (%v); segment 1 still holds LSN 10", n, err)
	}
	if n, err := j.Compact(10); n != 1 || err != nil {
		t.Fatalf("Compact(10) = %d, %v; want 1 deleted", n, err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	// Recovery after a snapshot at 10 needs only the second segment.
	_, got, err := replay(testutil.CopyDir(t, dir), 10)
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, got, 10, 5)
	// Without the snapshot, the deleted entries are a gap.
	if _, _, err := replay(testutil.CopyDir(t, dir), 0); !errors.Is(err, ErrGap) {
		t.Fatalf("replay from 0 without segment 1 = %v, want ErrGap", err)
	}
}

func Test_Journal_GapBetweenSegmentsIsRefused(t *testing.T) {
	dir := t.TempDir()
	writeEntries(t, dir, 5)
	// A segment that starts at 8 while the first ends at 5.
	f, _, err := createSegment(dir, mustReplid(t, dir), 8)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(appendRecord(nil, 8, entryArgs(8)))
	f.Close()
	if _, _, err := replay(dir, 0); !errors.Is(err, ErrGap) {
		t.Fatalf("open = %v, want ErrGap", err)
	}
}

func Test_Journal_GapInsideSegmentIsRefused(t *testing.T) {
	dir := t.TempDir()
	writeEntries(t, dir, 5)
	path := onlySegment(t, dir)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(appendRecord(nil, 7, entryArgs(7)))
	f.Close()
	if _, _, err := replay(dir, 0); !errors.Is(err, ErrGap) {
		t.Fatalf("open = %v, want ErrGap", err)
	}
}

func Test_Journal_SnapshotAheadOfJournal(t *testing.T) {
	// A snapshot at 8 with a journal that reached only 5: appending
	// continues at 9 in a new segment, and a reopen works.
	dir := t.TempDir()
	writeEntries(t, dir, 5)
	replid := mustReplid(t, dir)
	j, got, err := func() (*Journal, []Entry, error) {
		var got []Entry
		j, err := Open(Options{Dir: dir, Replid: replid, After: 8, Apply: func(e Entry) error { got = append(got, e); return nil }})
		return j, got, err
	}()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 || j.LSN() != 8 {
		t.Fatalf("applied %d, LSN %d; want 0 and 8", len(got), j.LSN())
	}
	if lsn := j.Append(entryArgs(9)); lsn != 9 {
		t.Fatalf("next LSN %d", lsn)
	}
	j.Close()
	_, got, err = replay(dir, 8)
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, got, 8, 1)
}

func Test_Journal_OtherHistoryIsRefused(t *testing.T) {
	dir := t.TempDir()
	writeEntries(t, dir, 3)
	if _, err := Open(Options{Dir: dir, Replid: NewReplid()}); err == nil || !strings.Contains(err.Error(), "another history") {
		t.Fatalf("open with another replid = %v", err)
	}
}

func Test_Journal_InMemory(t *testing.T) {
	j := mustOpen(t, Options{})
	for i := uint64(1); i <= 3; i++ {
		if lsn := j.Append(entryArgs(int(i))); lsn != i {
			t.Fatalf("LSN %d, want %d", lsn, i)
		}
		if err := j.WaitDurable(i); err != nil {
			t.Fatal(err)
		}
	}
	if !ValidReplid(j.Replid()) {
		t.Fatalf("replid %q", j.Replid())
	}
}

// mustReplid reads the replication id of the first segment in dir.
func mustReplid(t *testing.T, dir string) string {
	t.Helper()
	segs, err := listSegments(dir)
	if err != nil || len(segs) == 0 {
		t.Fatalf("no segments: %v", err)
	}
	b, err := os.ReadFile(segs[0].path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := decodeHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	return h.Replid
}
