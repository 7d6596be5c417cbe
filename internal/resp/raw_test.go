package resp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func Test_Reader_ReadRawHostile(t *testing.T) {
	for _, in := range []string{"?x\r\n", ":12a\r\n", "$2\r\nabXY", "$-2\r\n",
		strings.Repeat("*1\r\n", DefaultMaxDepth+1) + ":1\r\n"} {
		if _, err := NewReader(strings.NewReader(in)).ReadRaw(nil); !errors.Is(err, ErrProtocol) {
			t.Errorf("ReadRaw(%q): err = %v, want ErrProtocol", in, err)
		}
	}
}

// MaxRaw bounds a whole value, its nested bulks included.
func Test_Reader_MaxRaw(t *testing.T) {
	in := "*2\r\n$3\r\nabc\r\n$3\r\ndef\r\n"
	r := NewReader(strings.NewReader(in + in))
	r.MaxRaw = len(in)
	if got, err := r.ReadRaw(nil); err != nil || string(got) != in {
		t.Fatalf("ReadRaw within MaxRaw = %q, %v", got, err)
	}
	r.MaxRaw = len(in) - 1
	if _, err := r.ReadRaw(nil); !errors.Is(err, ErrProtocol) {
		t.Fatalf("ReadRaw over MaxRaw: err = %v", err)
	}
}

// Reading replies into a reused buffer allocates nothing: the proxy
// forwards every reply of its shared path this way.
func Test_Reader_ReadRawAllocatesNothing(t *testing.T) {
	one := []byte("+OK\r\n$3\r\nxxx\r\n:42\r\n-ERR x\r\n*2\r\n$1\r\na\r\n$-1\r\n")
	src := bytes.NewReader(nil)
	r := NewReader(src)
	dst := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		src.Reset(one)
		for range 5 {
			var err error
			if dst, err = r.ReadRaw(dst[:0]); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("ReadRaw allocated %v times per run", allocs)
	}
}

// A Writer that is never written to never allocates its buffer.
func Test_Writer_Lazy(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	if err := w.Flush(); err != nil || w.bw != nil {
		t.Fatalf("Flush of an unused Writer: %v, buffer allocated %v", err, w.bw != nil)
	}
	if got := string(AppendCommandBytes(nil, []byte("GET"), []byte("k"))); got != "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" {
		t.Fatalf("AppendCommandBytes = %q", got)
	}
}

// Encoding a command and reading a small reply into a fresh buffer cost one
// allocation each.
func Test_OneAllocation(t *testing.T) {
	args := []string{"SET", "key:123", "xxx"}
	if n := testing.AllocsPerRun(100, func() { AppendCommand(nil, args...) }); n != 1 {
		t.Fatalf("AppendCommand allocated %v times", n)
	}
	in := []byte("$3\r\nxxx\r\n")
	src := bytes.NewReader(nil)
	r := NewReader(src)
	n := testing.AllocsPerRun(100, func() {
		src.Reset(in)
		if _, err := r.ReadRaw(nil); err != nil {
			t.Fatal(err)
		}
	})
	if n != 1 {
		t.Fatalf("ReadRaw of a small bulk allocated %v times", n)
	}
}
