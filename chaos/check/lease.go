package check

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ParseLeaseLog reads lease logs in node/coord's format (see
// coord.LeaseLog), one record a line, wall-clock microseconds:
//
//	node epoch from_us until_us   a lease window: node could accept writes of epoch in [from, until)
//	node epoch end at_us          a takeover froze node at at_us
//
// An end record cuts every window of the same node that began before at_us
// (whatever its epoch, and wherever the record sits in the log): the node
// accepted nothing after the freeze under those leases; a thaw logs what is
// left as a new window. Several nodes' logs may be concatenated into r.
// Blank lines are skipped; a malformed line, or a window that ends before
// it begins, is an error naming the line. Empty windows are dropped.
func ParseLeaseLog(r io.Reader) ([]LeaseWindow, error) {
	var windows []LeaseWindow
	ends := map[string][]time.Time{} // node → its end records
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		w, end, isEnd, err := parseLeaseLine(f)
		if err != nil {
			return nil, fmt.Errorf("lease log line %d %q: %w", n, sc.Text(), err)
		}
		if isEnd {
			ends[w.Node] = append(ends[w.Node], end)
		} else {
			windows = append(windows, w)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("lease log: %w", err)
	}
	out := windows[:0]
	for _, w := range windows {
		for _, end := range ends[w.Node] {
			if w.From.Before(end) && w.Until.After(end) {
				w.Until = end
			}
		}
		if w.Until.After(w.From) {
			out = append(out, w)
		}
	}
	return out, nil
}

// parseLeaseLine parses one record's fields: a window, or (isEnd) an end
// record of w.Node and w.Epoch at end.
func parseLeaseLine(f []string) (w LeaseWindow, end time.Time, isEnd bool, err error) {
	if len(f) != 4 {
		return w, end, false, fmt.Errorf("want 4 fields, got %d", len(f))
	}
	w.Node = f[0]
	if w.Epoch, err = strconv.ParseUint(f[1], 10, 64); err != nil {
		return w, end, false, fmt.Errorf("epoch: %w", err)
	}
	if f[2] == "end" {
		at, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			return w, end, false, fmt.Errorf("end time: %w", err)
		}
		return w, time.UnixMicro(at), true, nil
	}
	from, err1 := strconv.ParseInt(f[2], 10, 64)
	until, err2 := strconv.ParseInt(f[3], 10, 64)
	switch {
	case err1 != nil:
		return w, end, false, fmt.Errorf("from: %w", err1)
	case err2 != nil:
		return w, end, false, fmt.Errorf("until: %w", err2)
	case until < from:
		return w, end, false, fmt.Errorf("window ends before it begins")
	}
	w.From, w.Until = time.UnixMicro(from), time.UnixMicro(until)
	return w, end, false, nil
}
