package main

import (
	"fmt"
	"sort"
	"strconv"
	"time"
)

// checkList compares a writer's list with its acknowledged values: the
// list must be strictly increasing (no duplicate, no reordering) and hold
// every acknowledged value. Values whose append failed ambiguously may be
// present or not. It returns "" when the list is right, else what is wrong.
func checkList(list []string, acked []int64) string {
	prev := int64(-1)
	present := make(map[int64]bool, len(list))
	for i, s := range list {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Sprintf("element %d is %q, not a sequence number", i, s)
		}
		if v <= prev {
			return fmt.Sprintf("element %d is %d after %d: duplicated or reordered append", i, v, prev)
		}
		prev = v
		present[v] = true
	}
	lost := 0
	first := int64(-1)
	for _, v := range acked {
		if !present[v] {
			if lost == 0 {
				first = v
			}
			lost++
		}
	}
	if lost > 0 {
		return fmt.Sprintf("%d acknowledged appends missing (first: %d)", lost, first)
	}
	return ""
}

// sortDurations sorts ds ascending.
func sortDurations(ds []time.Duration) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
}

// longestInFlight returns the op with the longest latency (reply - send)
// among the ops in flight at some point of [from, to]: sent by to and
// answered at or after from. Its latency is the write pause a client saw
// around an event; the zero op when none was in flight.
func longestInFlight(ops []op, from, to time.Duration) op {
	var longest op
	for _, o := range ops {
		if o.send <= to && o.reply >= from && o.reply-o.send > longest.reply-longest.send {
			longest = o
		}
	}
	return longest
}
