package journal

import (
	"errors"
	"fmt"
	"testing"
)

// appendN appends n entries "set k<i> v<i>" numbered from the journal's
// next LSN.
func appendN(j *Journal, n int) {
	for i := 0; i < n; i++ {
		lsn := j.LSN() + 1
		j.Append([][]byte{[]byte("set"), []byte(fmt.Sprint("k", lsn)), []byte(fmt.Sprint("v", lsn))})
	}
}

func checkBacklogEntries(t *testing.T, got []Entry, from uint64) {
	t.Helper()
	for i, e := range got {
		lsn := from + uint64(i)
		if e.LSN != lsn || string(e.Args[1]) != fmt.Sprint("k", lsn) || string(e.Args[2]) != fmt.Sprint("v", lsn) {
			t.Fatalf("entry %d = %d %q, want LSN %d", i, e.LSN, e.Args, lsn)
		}
	}
}

func Test_Journal_BacklogServesRecentEntries(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		t.Run(fmt.Sprintf("on disk %v", dir != ""), func(t *testing.T) {
			j, err := Open(Options{Dir: dir, Fsync: No, BacklogBytes: 4096})
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			appendN(j, 10)
			got, err := j.EntriesAfter(3, 100)
			if err != nil || len(got) != 7 {
				t.Fatalf("EntriesAfter(3) = %d entries, %v", len(got), err)
			}
			checkBacklogEntries(t, got, 4)
			if got, err := j.EntriesAfter(10, 100); err != nil || len(got) != 0 {
				t.Fatalf("EntriesAfter(last) = %v, %v; want none", got, err)
			}
			if got, _ := j.EntriesAfter(0, 4); len(got) != 4 {
				t.Fatalf("max not honoured: %d entries", len(got))
			}
			// Far more than the backlog holds: the oldest entries go, the
			// newest 4 KiB or more stay, and asking for gone ones says so.
			appendN(j, 2000)
			first := j.BacklogFirst()
			if first <= 1 {
				t.Fatalf("backlog never trimmed (first = %d)", first)
			}
			if _, err := j.EntriesAfter(first-2, 10); !errors.Is(err, ErrNotInBacklog) {
				t.Fatalf("EntriesAfter before the backlog = %v, want ErrNotInBacklog", err)
			}
			got, err = j.EntriesAfter(first-1, 5000)
			if err != nil {
				t.Fatal(err)
			}
			if want := int(j.LSN() - first + 1); len(got) != want {
				t.Fatalf("backlog returned %d entries, holds %d", len(got), want)
			}
			j.mu.Lock()
			held := len(j.bl.buf)
			j.mu.Unlock()
			if held < 4096 || held > 2*4096+64 {
				t.Fatalf("backlog holds %d bytes, want between 4096 and twice that", held)
			}
			checkBacklogEntries(t, got, first)
		})
	}
}

func Test_Journal_BacklogEntriesDoNotAlias(t *testing.T) {
	j, err := Open(Options{BacklogBytes: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	appendN(j, 3)
	got, _ := j.EntriesAfter(0, 10)
	got[0].Args[1][0] = 'X'
	again, _ := j.EntriesAfter(0, 10)
	checkBacklogEntries(t, again, 1)
}

func Test_Journal_BacklogDisabled(t *testing.T) {
	j, err := Open(Options{BacklogBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	appendN(j, 3)
	if _, err := j.EntriesAfter(0, 10); !errors.Is(err, ErrNotInBacklog) {
		t.Fatalf("disabled backlog answered %v", err)
	}
}
