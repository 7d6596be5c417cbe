package node

// listValue is a Redis list. This is a plain slice placeholder; the list
// family owns its implementation. Contract used elsewhere (snapshot, digest):
// newList, Len, PushBack, PushFront, Index, Range.
type listValue struct {
	items [][]byte
}

func newList() *listValue { return &listValue{} }

// Len is the number of elements.
func (l *listValue) Len() int { return len(l.items) }

// PushBack appends v at the tail.
func (l *listValue) PushBack(v []byte) { l.items = append(l.items, v) }

// PushFront inserts v at the head.
func (l *listValue) PushFront(v []byte) {
	l.items = append([][]byte{v}, l.items...)
}

// Index returns the element at position i (0 = head), which must be valid.
func (l *listValue) Index(i int) []byte { return l.items[i] }

// Range calls fn for each element from head to tail until fn returns false.
func (l *listValue) Range(fn func(v []byte) bool) {
	for _, v := range l.items {
		if !fn(v) {
			return
		}
	}
}
