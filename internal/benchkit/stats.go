package benchkit

import (
	"fmt"
	"sort"
	"time"
)

// LongestGap returns the longest gap between consecutive acknowledged
// writes in [from, to]: the write-unavailability window of an event at
// from. acks are acknowledgement times on one monotonic clock, sorted
// ascending. from and to count as boundaries: the first gap runs from the
// event to the first acknowledgement after it, and if writes never resume
// the window is the whole interval. Clipping at from keeps writes
// acknowledged before the event out of the window, so a window never
// includes load-generator idle time from the previous cycle.
func LongestGap(acks []time.Duration, from, to time.Duration) time.Duration {
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

// Percentile returns the nearest-rank q-quantile (0 < q ≤ 1) of ds, which it
// sorts in place; zero for no values. With 20 samples, p99 is the maximum:
// nearest rank never interpolates a value that did not happen.
func Percentile(ds []time.Duration, q float64) time.Duration {
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

// Ms formats d as whole milliseconds, for the Markdown tables.
func Ms(d time.Duration) string {
	return fmt.Sprintf("%d", d.Round(time.Millisecond).Milliseconds())
}
