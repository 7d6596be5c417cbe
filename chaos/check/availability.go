package check

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Availability reports how available writes were over a run that lasted
// end: the longest time without an acknowledged write (set, cas that
// swapped, append, add, incr), counting from the start of the run to the
// first and from the last to end, and the failed operations of every kind
// grouped by error kind (see ErrorKind), Fail and Info apart. Gaps are
// measured between acknowledgements (Return).
//
// Availability is reported, not judged: OK is true unless no write at all
// was acknowledged. Metrics: max_gap_ms, max_gap_from_ms (where the
// longest gap began, from the start of the run), ok_writes, errors_fail,
// errors_info.
func Availability(ops []Op, end time.Duration) Result {
	res := Result{Name: "availability", Metrics: map[string]float64{}}
	var acks []time.Duration
	fails, infos := map[string]int{}, map[string]int{}
	for _, op := range ops {
		switch {
		case op.Status == OK && isWrite(op):
			acks = append(acks, op.Return)
		case op.Status == Fail:
			fails[ErrorKind(op.Err)]++
		case op.Status == Info:
			infos[ErrorKind(op.Err)]++
		}
	}
	sort.Slice(acks, func(i, j int) bool { return acks[i] < acks[j] })
	gap, from := longestGap(acks, end)
	nFail, nInfo := errorLines(&res, "fail", fails), errorLines(&res, "info", infos)
	res.Details = append([]string{fmt.Sprintf("longest write gap %v, from %v to %v", gap, from, from+gap)}, res.Details...)
	res.Metrics["max_gap_ms"] = ms(gap)
	res.Metrics["max_gap_from_ms"] = ms(from)
	res.Metrics["ok_writes"] = float64(len(acks))
	res.Metrics["errors_fail"] = float64(nFail)
	res.Metrics["errors_info"] = float64(nInfo)
	res.OK = len(acks) > 0
	res.Summary = fmt.Sprintf("%d acknowledged writes, longest gap %v; %d failed and %d unknown-outcome operations",
		len(acks), gap.Round(time.Millisecond), nFail, nInfo)
	if !res.OK {
		res.Summary = "no write acknowledged in " + end.String()
	}
	return res
}

// isWrite reports whether op is a write that took effect when OK (a cas
// that did not swap wrote nothing).
func isWrite(op Op) bool {
	switch op.Kind {
	case "set", "append", "add", "incr":
		return true
	case "cas":
		return op.Out == "1"
	}
	return false
}

// longestGap returns the longest interval between consecutive instants of
// acks (sorted), the start of the run (0) and end, and where it began.
func longestGap(acks []time.Duration, end time.Duration) (gap, from time.Duration) {
	var prev time.Duration
	for _, t := range append(acks, end) {
		if t-prev > gap {
			gap, from = t-prev, prev
		}
		prev = max(prev, t)
	}
	return gap, from
}

// errorLines appends one Details line per error kind of counts (most
// frequent first) and returns the total.
func errorLines(res *Result, status string, counts map[string]int) int {
	kinds := make([]string, 0, len(counts))
	total := 0
	for k, n := range counts {
		kinds = append(kinds, k)
		total += n
	}
	sort.Slice(kinds, func(i, j int) bool {
		if counts[kinds[i]] != counts[kinds[j]] {
			return counts[kinds[i]] > counts[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	for _, k := range kinds {
		res.Details = append(res.Details, fmt.Sprintf("%s %s: %d", status, k, counts[k]))
	}
	return total
}

// netErrors are the transport errors ErrorKind recognizes anywhere in an
// error's text (Go wraps them: "read tcp 127.0.0.1:5->127.0.0.1:6: i/o
// timeout"), checked in this order.
var netErrors = []string{
	"i/o timeout", "connection refused", "connection reset", "broken pipe",
	"use of closed network connection", "no route to host", "context deadline exceeded",
	"context canceled", "pool timeout", "EOF",
}

// ErrorKind classifies an error text for error counts: a known transport
// error ("i/o timeout", "connection refused", "EOF", …) wherever it appears
// in the text, otherwise the first word — the Redis error code for a
// server error (TRYAGAIN, READONLY, ERR, …) — or "unknown" for no text.
func ErrorKind(err string) string {
	for _, n := range netErrors {
		if strings.Contains(err, n) {
			return n
		}
	}
	f := strings.Fields(err)
	if len(f) == 0 {
		return "unknown"
	}
	return strings.TrimSuffix(f[0], ":")
}
