package check

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// WriteWindow is one window of a node's executed-writes log
// (node/coord.WriteLog): Node executed writes of Epoch as a primary at
// First and at Last (wall clock), and as the primary of Epoch throughout.
type WriteWindow struct {
	Node        string
	Epoch       uint64
	First, Last time.Time
}

// ParseWriteLog reads executed-writes logs in node/coord's format (see
// coord.WriteLog), one record a line, wall-clock microseconds:
//
//	node epoch first_us last_us
//
// The log rewrites an open window with a later last as writes go on, so
// lines of the same node, epoch and first are one window: the latest last
// wins. Several nodes' logs may be concatenated into r. Blank lines are
// skipped; a malformed line, or a window whose last is before its first,
// is an error naming the line.
func ParseWriteLog(r io.Reader) ([]WriteWindow, error) {
	type key struct {
		node  string
		epoch uint64
		first int64
	}
	last := map[key]int64{}
	var order []key
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 4 {
			return nil, fmt.Errorf("write log line %d %q: want 4 fields, got %d", n, sc.Text(), len(f))
		}
		epoch, err0 := strconv.ParseUint(f[1], 10, 64)
		first, err1 := strconv.ParseInt(f[2], 10, 64)
		l, err2 := strconv.ParseInt(f[3], 10, 64)
		switch {
		case err0 != nil || err1 != nil || err2 != nil:
			return nil, fmt.Errorf("write log line %d %q: bad number", n, sc.Text())
		case l < first:
			return nil, fmt.Errorf("write log line %d %q: last write before the first", n, sc.Text())
		}
		k := key{f[0], epoch, first}
		if prev, ok := last[k]; !ok {
			order = append(order, k)
			last[k] = l
		} else {
			last[k] = max(prev, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("write log: %w", err)
	}
	out := make([]WriteWindow, 0, len(order))
	for _, k := range order {
		out = append(out, WriteWindow{Node: k.node, Epoch: k.epoch, First: time.UnixMicro(k.first), Last: time.UnixMicro(last[k])})
	}
	return out, nil
}

// WriteOverlap is the split-brain checker on the writes nodes actually
// executed (the lease checker, SplitBrain, audits when they could): it
// fails if two different nodes executed writes at overlapping times — a
// window of one node (from its first to its last write of an epoch)
// sharing an instant with another node's — listing the overlaps
// (bounded). Windows are closed (both ends are real writes, at microsecond
// resolution), so two nodes writing in the same microsecond overlap.
// Overlaps no longer than tolerance are ignored (clock disagreement; the
// local target's processes share one clock: 0). Like SplitBrain it fails
// when there are no windows at all: an audit of nothing proves nothing.
//
// Metrics: nodes, windows, overlaps, and min_gap_ms — the smallest time
// between one node's last write and another node's first (the writes'
// handover time; negative when they overlap); absent when only one node
// ever wrote.
func WriteOverlap(windows []WriteWindow, tolerance time.Duration) Result {
	res := Result{Name: "split-brain-writes", Metrics: map[string]float64{}}
	// As half-open spans [first, last+1µs) shrunk by the tolerance, the
	// lease checker's merge and sweep apply unchanged.
	spans := make([]LeaseWindow, 0, len(windows))
	nodes := map[string]bool{}
	for _, w := range windows {
		nodes[w.Node] = true
		until := w.Last.Add(time.Microsecond - tolerance)
		if !until.After(w.First) {
			until = w.First.Add(time.Microsecond)
		}
		spans = append(spans, LeaseWindow{Node: w.Node, Epoch: w.Epoch, From: w.First, Until: until})
	}
	res.Metrics["nodes"] = float64(len(nodes))
	res.Metrics["windows"] = float64(len(windows))
	if len(windows) == 0 {
		res.Summary = "no executed-writes windows: nothing to audit"
		return res
	}
	var d details
	overlaps, minGap := sweepSpans(mergeWindows(spans), &d)
	res.Metrics["overlaps"] = float64(overlaps)
	if minGap != math.MaxInt64 {
		// sweepSpans measures from the span's end, one µs past the last
		// write (plus the tolerance taken off).
		res.Metrics["min_gap_ms"] = ms(minGap + time.Microsecond - tolerance)
	}
	res.OK = overlaps == 0
	res.Details = d.list()
	if res.OK {
		res.Summary = fmt.Sprintf("no overlap: %d windows of executed writes on %d nodes", len(windows), len(nodes))
	} else {
		res.Summary = fmt.Sprintf("SPLIT BRAIN: %d overlaps of writes executed by different nodes", overlaps)
	}
	return res
}
