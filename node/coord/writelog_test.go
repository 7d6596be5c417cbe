package coord

import (
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWriteLog: one window per epoch, rewritten with a later last as
// writes go on; the tail of a burst reaches the file by the timer without
// a later write; Close flushes; the file is 0600; a nil log and an empty
// path log nothing.
func TestWriteLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n1.writes")
	l := NewWriteLog(path, "n1", slog.Default())
	l.Wrote(4) // the first write is flushed at once
	time.Sleep(time.Millisecond)
	l.Wrote(4) // within writeLogFlush of it: the timer flushes it
	// The timer flushes the burst's tail within a few flush intervals.
	var lines []string
	for range 200 {
		lines = readLines(t, path)
		if n := len(lines); n > 0 && lastOf(t, lines[n-1]) > firstOf(t, lines[n-1]) {
			break
		}
		time.Sleep(writeLogFlush)
	}
	if n := len(lines); n != 2 || lastOf(t, lines[1]) <= firstOf(t, lines[1]) || firstOf(t, lines[0]) != firstOf(t, lines[1]) {
		t.Fatalf("lines %q, want the window written at its first write and rewritten with a later last", lines)
	}
	l.Wrote(5)
	l.Close()
	l.Wrote(6) // after Close: not logged
	lines = readLines(t, path)
	epochs := map[string]bool{}
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) != 4 || f[0] != "n1" {
			t.Fatalf("line %q, want `n1 epoch first last`", line)
		}
		if lastOf(t, line) < firstOf(t, line) {
			t.Errorf("line %q: last before first", line)
		}
		epochs[f[1]] = true
	}
	if !epochs["4"] || !epochs["5"] || epochs["6"] {
		t.Errorf("epochs logged %v, want 4 and 5 only: %q", epochs, lines)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("write log mode %v (%v), want 0600 like every file a node writes", info.Mode().Perm(), err)
	}
	if NewWriteLog("", "n1", nil) != nil {
		t.Error("an empty path gives a log")
	}
	var none *WriteLog
	none.Wrote(1)
	none.Close()
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// field returns a log line's field i as a number.
func field(t *testing.T, line string, i int) int64 {
	t.Helper()
	f := strings.Fields(line)
	if len(f) != 4 {
		t.Fatalf("line %q: want 4 fields", line)
	}
	n, err := strconv.ParseInt(f[i], 10, 64)
	if err != nil {
		t.Fatalf("line %q: %v", line, err)
	}
	return n
}

func firstOf(t *testing.T, line string) int64 { return field(t, line, 2) }
func lastOf(t *testing.T, line string) int64  { return field(t, line, 3) }
