package keyspace

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

// compactScanMax is the size up to which Redis keeps small collections in
// a compact encoding that HSCAN/SSCAN/ZSCAN return whole, with cursor 0;
// Baton does the same, so clients see the same shape.
const compactScanMax = 128

// collectionScan is a parsed HSCAN/SSCAN/ZSCAN request.
type collectionScan struct {
	cursor uint64
	opts   scanOpts
}

// scanCollection parses `XSCAN key cursor [MATCH p] [COUNT n]` in Redis'
// order (cursor, key, type, options) and returns the value at key, which
// holds typ. A missing key gets the empty scan reply at once. ok is false
// once something was replied.
func scanCollection(c *Ctx, typ string) (any, collectionScan, bool) {
	var sc collectionScan
	cursor, ok := parseScanCursor(c.Args[2])
	if !ok {
		c.Err(ErrInvalidCursor)
		return nil, sc, false
	}
	v := c.lookup(c.Key(1))
	switch {
	case v == nil:
		c.W.WriteArray(2)
		c.W.WriteBulkString("0")
		c.W.WriteArray(0)
		return nil, sc, false
	case typeName(v) != typ:
		c.Err(ErrWrongType)
		return nil, sc, false
	}
	opts, ok := parseScanOpts(c, 3, false)
	if !ok {
		return nil, sc, false
	}
	sc.cursor, sc.opts = cursor, opts
	return v, sc, true
}

// reply writes one scan step over a collection of n names: the next cursor,
// then each matching name followed by what extra writes for it (a hash
// value, a score, or nothing). A compact collection is returned whole, in
// the order all yields, with cursor 0.
func (sc collectionScan) reply(c *Ctx, compact bool, n int, all func(yield func(string)), extra func(name string)) {
	var next uint64
	var names []string
	if compact {
		names = make([]string, 0, n)
		all(func(name string) { names = append(names, name) })
	} else {
		next, names = scanStep(sc.cursor, sc.opts.count, all)
	}
	out := names[:0]
	for _, name := range names {
		if sc.opts.match == nil || GlobMatch(sc.opts.match, []byte(name)) {
			out = append(out, name)
		}
	}
	per := 1
	if extra != nil {
		per = 2
	}
	c.W.WriteArray(2)
	c.W.WriteBulkString(strconv.FormatUint(next, 10))
	c.W.WriteArray(len(out) * per)
	for _, name := range out {
		c.W.WriteBulkString(name)
		if extra != nil {
			extra(name)
		}
	}
}
