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
