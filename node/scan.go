package node

import (
	"container/heap"
	"hash/maphash"
	"strconv"
)

// scanSeed orders names for SCAN cursors. It is fixed per process, so a
// cursor stays meaningful for as long as the node runs.
var scanSeed = maphash.MakeSeed()

// scanHash is a name's position in SCAN order. Zero is reserved for "start"
// and "done", so no name hashes to it.
func scanHash(name string) uint64 {
	h := maphash.String(scanSeed, name)
	if h == 0 {
		h = 1
	}
	return h
}

// scanStep returns up to about count names from all (each yields every
// name of the collection) whose scan hash is at or after cursor, in hash
// order, and the cursor that continues after them (0 when done). Names that
// exist for the whole scan are returned exactly once, whatever is added or
// removed in between, like Redis' SCAN guarantee. Each step costs O(N log
// count) over the collection.
func scanStep(cursor uint64, count int, all func(yield func(name string))) (uint64, []string) {
	if count < 1 {
		count = 10
	}
	h := &scanHeap{}
	all(func(name string) {
		sh := scanHash(name)
		if sh < cursor {
			return
		}
		if h.Len() < count+1 {
			heap.Push(h, scanItem{sh, name})
		} else if sh < (*h)[0].hash {
			(*h)[0] = scanItem{sh, name}
			heap.Fix(h, 0)
		}
	})
	if h.Len() <= count {
		out := make([]string, 0, h.Len())
		for _, it := range *h {
			out = append(out, it.name)
		}
		return 0, out
	}
	// The largest kept item starts the next step; all names with a
	// smaller hash are returned now (equal hashes stay together).
	next := (*h)[0].hash
	out := make([]string, 0, count)
	for _, it := range *h {
		if it.hash < next {
			out = append(out, it.name)
		}
	}
	return next, out
}

// parseCursor parses a SCAN cursor argument.
func parseCursor(b []byte) (uint64, bool) {
	n, err := strconv.ParseUint(string(b), 10, 64)
	return n, err == nil
}

type scanItem struct {
	hash uint64
	name string
}

// scanHeap is a max-heap on hash, keeping the count+1 smallest hashes.
type scanHeap []scanItem

func (h scanHeap) Len() int           { return len(h) }
func (h scanHeap) Less(i, j int) bool { return h[i].hash > h[j].hash }
func (h scanHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *scanHeap) Push(x any)        { *h = append(*h, x.(scanItem)) }
func (h *scanHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
