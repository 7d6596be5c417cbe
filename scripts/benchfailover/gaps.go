package main

import (
	"sort"
	"time"
)

// window returns the write-unavailability window of one kill: the longest
// gap between consecutive acknowledged writes in [from, to]. acks are
// acknowledgement times on one monotonic clock, sorted ascending. The kill
// itself (from) and the end of the interval (to) count as boundaries: the
// first gap runs from the kill to the first acknowledgement after it, and
// if writes never resume the window is the whole interval. Clipping at from
// keeps writes acknowledged before the kill out of the window, so a window
// never includes load-generator idle time from the previous cycle.
func window(acks []time.Duration, from, to time.Duration) time.Duration {
	i := sort.Search(len(acks), func(i int) bool { return acks[i] > from })
	prev, longest := from, time.Duration(0)
	for ; i < len(acks) && acks[i] <= to; i++ {
		if g := acks[i] - prev; g > longest {
			longest = g
		}
		prev = acks[i]
	}
	if g := to - prev; g > longest {
		longest = g
	}
	return longest
}

// percentile returns the nearest-rank q-quantile (0 < q ≤ 1) of ds, which it
// sorts in place; zero for no values. With 20 kills, p99 is the maximum:
// nearest rank never interpolates a window that did not happen.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	rank := int(q*float64(len(ds)) + 0.999999999)
	if rank < 1 {
		rank = 1
	}
	if rank > len(ds) {
		rank = len(ds)
	}
	return ds[rank-1]
}
