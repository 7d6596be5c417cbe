package node

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/tidwall/redcon"
)

// writerLayout mirrors the fields of redcon.Writer up to its reply buffer.
// redcon offers only Buffer(), which copies the whole buffer: called once
// per command of a pipeline it made a pipeline of N large replies cost
// O(N²) in copying (issue 17). writerLen reads the length in place.
type writerLayout struct {
	_ any    // w io.Writer
	b []byte // the unflushed replies
}

// init checks that redcon.Writer still has the layout writerLayout
// assumes; a redcon upgrade that changes it fails at start, never silently.
func init() {
	t := reflect.TypeOf(redcon.Writer{})
	f, ok := t.FieldByName("b")
	if !ok || f.Type != reflect.TypeOf([]byte(nil)) || f.Offset != unsafe.Offsetof(writerLayout{}.b) {
		panic(fmt.Sprintf("node: redcon.Writer layout changed (%v); update writerLayout", t))
	}
}

// writerLen is len(w.Buffer()) without the copy.
func writerLen(w *redcon.Writer) int {
	return len((*writerLayout)(unsafe.Pointer(w)).b)
}

// growFrom is the reply buffer size from which writerReserve doubles it.
const growFrom = 256 << 10

// writerReserve doubles w's buffer when it is large and nearly full,
// before the next command of a pipeline adds its reply: append grows a
// large slice by 1.25× only, which copied a pipeline of big replies about
// five times over.
func writerReserve(w *redcon.Writer) {
	l := (*writerLayout)(unsafe.Pointer(w))
	if len(l.b) >= growFrom && cap(l.b)-len(l.b) < len(l.b)/4 {
		nb := make([]byte, len(l.b), 2*cap(l.b))
		copy(nb, l.b)
		l.b = nb
	}
}
