package keyspace

// List is a Redis list: a double-ended queue on a ring buffer, so
// pushes and pops at either end are O(1) amortized and indexing is O(1).
// The buffer's capacity is always zero or a power of two, so positions wrap
// with a mask. Contract used elsewhere (snapshot, digest, recovery):
// newList, Len, PushBack, PushFront, Index, Range.
type List struct {
	buf  [][]byte // ring storage; len(buf) is 0 or a power of two
	head int      // position of element 0 in buf
	n    int      // number of elements
}

// minListCap is the smallest non-empty ring.
const minListCap = 8

// newList returns an empty list.
func NewList() *List { return &List{} }

// Len is the number of elements.
func (l *List) Len() int { return l.n }

// pos maps an element index to its slot in buf.
func (l *List) pos(i int) int { return (l.head + i) & (len(l.buf) - 1) }

// resize moves the elements into a ring of capacity size (a power of two
// no smaller than l.n), with element 0 at slot 0.
func (l *List) resize(size int) {
	nb := make([][]byte, size)
	if l.n > 0 {
		end := l.head + l.n
		if end <= len(l.buf) {
			copy(nb, l.buf[l.head:end])
		} else {
			k := copy(nb, l.buf[l.head:])
			copy(nb[k:], l.buf[:end-len(l.buf)])
		}
	}
	l.buf = nb
	l.head = 0
}

// grow makes room for one more element.
func (l *List) grow() {
	if l.n < len(l.buf) {
		return
	}
	size := minListCap
	if len(l.buf) > 0 {
		size = len(l.buf) * 2
	}
	l.resize(size)
}

// shrink halves the ring when it is at most a quarter full, so a list that
// was large once does not pin its memory.
func (l *List) shrink() {
	if len(l.buf) > minListCap && l.n <= len(l.buf)/4 {
		size := len(l.buf) / 2
		for size > minListCap && l.n <= size/4 {
			size /= 2
		}
		l.resize(size)
	}
}

// PushBack appends v at the tail.
func (l *List) PushBack(v []byte) {
	l.grow()
	l.buf[l.pos(l.n)] = v
	l.n++
}

// PushFront inserts v at the head.
func (l *List) PushFront(v []byte) {
	l.grow()
	l.head = (l.head - 1) & (len(l.buf) - 1)
	l.buf[l.head] = v
	l.n++
}

// PopFront removes and returns the head element; the list must not be
// empty.
func (l *List) PopFront() []byte {
	v := l.buf[l.head]
	l.buf[l.head] = nil
	l.head = (l.head + 1) & (len(l.buf) - 1)
	l.n--
	l.shrink()
	return v
}

// PopBack removes and returns the tail element; the list must not be
// empty.
func (l *List) PopBack() []byte {
	p := l.pos(l.n - 1)
	v := l.buf[p]
	l.buf[p] = nil
	l.n--
	l.shrink()
	return v
}

// Pop removes an element from the head (left) or the tail.
func (l *List) Pop(left bool) []byte {
	if left {
		return l.PopFront()
	}
	return l.PopBack()
}

// Push adds an element at the head (left) or the tail.
func (l *List) Push(left bool, v []byte) {
	if left {
		l.PushFront(v)
	} else {
		l.PushBack(v)
	}
}

// Index returns the element at position i (0 = head), which must be valid.
func (l *List) Index(i int) []byte { return l.buf[l.pos(i)] }

// Set replaces the element at position i, which must be valid.
func (l *List) Set(i int, v []byte) { l.buf[l.pos(i)] = v }

// Range calls fn for each element from head to tail until fn returns false.
func (l *List) Range(fn func(v []byte) bool) {
	for i := 0; i < l.n; i++ {
		if !fn(l.buf[l.pos(i)]) {
			return
		}
	}
}

// Insert puts v before position i (0 ≤ i ≤ Len), shifting whichever side
// of the list is shorter.
func (l *List) Insert(i int, v []byte) {
	switch {
	case i == 0:
		l.PushFront(v)
		return
	case i == l.n:
		l.PushBack(v)
		return
	}
	l.grow()
	if i < l.n-i {
		// Shift the first i elements one slot towards the front.
		l.head = (l.head - 1) & (len(l.buf) - 1)
		for j := 0; j < i; j++ {
			l.buf[l.pos(j)] = l.buf[l.pos(j+1)]
		}
	} else {
		// Shift the elements from i on one slot towards the back.
		for j := l.n; j > i; j-- {
			l.buf[l.pos(j)] = l.buf[l.pos(j-1)]
		}
	}
	l.buf[l.pos(i)] = v
	l.n++
}

// Trim keeps only the elements in [start, stop] (inclusive, valid indexes
// with start ≤ stop) or empties the list when keep is false.
func (l *List) Trim(start, stop int, keep bool) {
	if !keep {
		l.clear()
		return
	}
	for i := 0; i < start; i++ {
		l.buf[l.pos(i)] = nil
	}
	for i := stop + 1; i < l.n; i++ {
		l.buf[l.pos(i)] = nil
	}
	l.head = l.pos(start)
	l.n = stop - start + 1
	l.shrink()
}

// clear removes every element.
func (l *List) clear() {
	l.buf, l.head, l.n = nil, 0, 0
}

// RemoveIf deletes the elements for which del returns true, scanning from
// the head (or from the tail when fromTail), and stopping after limit
// deletions (limit 0: no limit). It returns the number deleted.
func (l *List) RemoveIf(fromTail bool, limit int, del func(v []byte) bool) int {
	removed := 0
	if !fromTail {
		w := 0
		for r := 0; r < l.n; r++ {
			v := l.buf[l.pos(r)]
			if (limit == 0 || removed < limit) && del(v) {
				removed++
				continue
			}
			l.buf[l.pos(w)] = v
			w++
		}
		for i := w; i < l.n; i++ {
			l.buf[l.pos(i)] = nil
		}
		l.n = w
	} else {
		w := l.n - 1
		for r := l.n - 1; r >= 0; r-- {
			v := l.buf[l.pos(r)]
			if (limit == 0 || removed < limit) && del(v) {
				removed++
				continue
			}
			l.buf[l.pos(w)] = v
			w--
		}
		for i := 0; i <= w; i++ {
			l.buf[l.pos(i)] = nil
		}
		l.head = l.pos(w + 1)
		l.n -= removed
	}
	if l.n == 0 {
		l.clear()
	} else {
		l.shrink()
	}
	return removed
}
