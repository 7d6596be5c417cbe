package check

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// SplitBrain checks that no two nodes could accept writes at the same
// instant: it fails if a lease window of one node overlaps a window of
// another (windows are half-open, so one ending exactly when the next
// begins is fine), listing the overlaps (bounded). It also fails when there
// are no windows at all: an audit of nothing proves nothing. Windows of one
// node overlap each other all the time (each renewal extends the last) and
// are merged first. The windows come from one host's clock (or clocks the
// caller trusts): the check is only as good as their agreement.
//
// Metrics: nodes, windows, overlaps, and min_gap_ms — the smallest time
// between one node's lease ending and another's beginning (negative when
// they overlap); absent when only one node ever held a lease.
func SplitBrain(windows []LeaseWindow) Result {
	res := Result{Name: "split-brain", Metrics: map[string]float64{}}
	spans := mergeWindows(windows)
	nodes := map[string]bool{}
	for _, s := range spans {
		nodes[s.node] = true
	}
	res.Metrics["nodes"] = float64(len(nodes))
	res.Metrics["windows"] = float64(len(windows))
	if len(windows) == 0 {
		res.Summary = "no lease windows: nothing to audit"
		return res
	}
	var d details
	overlaps, minGap := sweepSpans(spans, &d)
	res.Metrics["overlaps"] = float64(overlaps)
	if minGap != math.MaxInt64 {
		res.Metrics["min_gap_ms"] = ms(minGap)
	}
	res.OK = overlaps == 0
	res.Details = d.list()
	if res.OK {
		res.Summary = fmt.Sprintf("no overlap: %d windows of %d nodes", len(windows), len(nodes))
	} else {
		res.Summary = fmt.Sprintf("SPLIT BRAIN: %d overlapping lease spans of different nodes", overlaps)
	}
	return res
}

// leaseSpan is a maximal run of one node's overlapping or touching
// windows, with the epochs it covers.
type leaseSpan struct {
	node           string
	epochLo, epoch uint64
	from, until    time.Time
}

// mergeWindows merges each node's windows into spans, sorted by start.
func mergeWindows(windows []LeaseWindow) []leaseSpan {
	ws := append([]LeaseWindow(nil), windows...)
	sort.Slice(ws, func(i, j int) bool {
		if ws[i].Node != ws[j].Node {
			return ws[i].Node < ws[j].Node
		}
		return ws[i].From.Before(ws[j].From)
	})
	var spans []leaseSpan
	for _, w := range ws {
		if n := len(spans); n > 0 && spans[n-1].node == w.Node && !w.From.After(spans[n-1].until) {
			s := &spans[n-1]
			s.epochLo, s.epoch = min(s.epochLo, w.Epoch), max(s.epoch, w.Epoch)
			if w.Until.After(s.until) {
				s.until = w.Until
			}
			continue
		}
		spans = append(spans, leaseSpan{node: w.Node, epochLo: w.Epoch, epoch: w.Epoch, from: w.From, until: w.Until})
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].from.Before(spans[j].from) })
	return spans
}

// sweepSpans walks spans by start, reporting every pair of different
// nodes' spans that overlap, and returns their number and the smallest gap
// from a span's start back to the latest end of another node's earlier
// spans (math.MaxInt64 when there is no such pair).
func sweepSpans(spans []leaseSpan, d *details) (int, time.Duration) {
	var active []leaseSpan
	latest := map[string]time.Time{} // node → latest end among its spans so far
	overlaps, minGap := 0, time.Duration(math.MaxInt64)
	for _, s := range spans {
		kept := active[:0]
		for _, a := range active {
			if a.until.After(s.from) {
				kept = append(kept, a)
			}
		}
		active = kept
		for _, a := range active {
			if a.node != s.node {
				overlaps++
				d.addf("overlap of %v: %s [%s, %s) and %s [%s, %s)", minTime(a.until, s.until).Sub(s.from),
					a, stamp(a.from), stamp(a.until), s, stamp(s.from), stamp(s.until))
			}
		}
		for node, end := range latest {
			if node != s.node {
				minGap = min(minGap, s.from.Sub(end))
			}
		}
		if end, ok := latest[s.node]; !ok || s.until.After(end) {
			latest[s.node] = s.until
		}
		active = append(active, s)
	}
	return overlaps, minGap
}

// String names a span's node and epochs, e.g. "n2 epoch 7" or
// "n2 epochs 7-9".
func (s leaseSpan) String() string {
	if s.epochLo == s.epoch {
		return fmt.Sprintf("%s epoch %d", s.node, s.epoch)
	}
	return fmt.Sprintf("%s epochs %d-%d", s.node, s.epochLo, s.epoch)
}

// stamp formats a wall-clock instant to the microsecond (the logs'
// resolution), in UTC.
func stamp(t time.Time) string {
	return t.UTC().Format("15:04:05.000000")
}

// minTime returns the earlier of a and b.
func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
