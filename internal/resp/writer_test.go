package resp

import (
	"bytes"
	"strings"
	"testing"
)

func Test_Writer_Command(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	w.WriteCommand("SET", "k", "a\r\nb", "")
	w.WriteArray(2)
	w.WriteBulk([]byte("LOG"))
	w.WriteInt(-3)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n$0\r\n\r\n*2\r\n$3\r\nLOG\r\n:-3\r\n"
	if b.String() != want {
		t.Fatalf("wrote %q, want %q", b.String(), want)
	}
	if got := string(AppendCommand([]byte("x"), "PING")); got != "x*1\r\n$4\r\nPING\r\n" {
		t.Fatalf("AppendCommand = %q", got)
	}
}

// Whatever the Writer encodes, the Reader decodes back.
func Test_Writer_RoundTrip(t *testing.T) {
	args := []string{"BATON.REGISTER", "n1", strings.Repeat("x", 200<<10), "\x00\r\n"}
	var b bytes.Buffer
	w := NewWriter(&b)
	w.WriteCommand(args...)
	w.Flush()
	v, err := NewReader(&b).ReadValue()
	if err != nil || v.Kind != Array || len(v.Elems) != len(args) {
		t.Fatalf("ReadValue = %v, %v", v.Kind, err)
	}
	for i, a := range args {
		if v.Elems[i].Str != a {
			t.Fatalf("element %d differs", i)
		}
	}
}

func Test_Sanitize(t *testing.T) {
	if got := Sanitize("a\r\nb", 10); got != "a  b" {
		t.Fatalf("Sanitize = %q", got)
	}
	if got := Sanitize("abcdef\n", 3); got != "abc" {
		t.Fatalf("Sanitize bounded = %q", got)
	}
}

// Test_Writer_AnyFirstWrite: the lazily allocated buffer is there whatever
// the first call is (each of these once wrote through a nil buffer).
func Test_Writer_AnyFirstWrite(t *testing.T) {
	for name, first := range map[string]func(w *Writer){
		"WriteRaw":         func(w *Writer) { w.WriteRaw([]byte("+OK\r\n")) },
		"WriteUint":        func(w *Writer) { w.WriteUint(7) },
		"WriteBulkString":  func(w *Writer) { w.WriteBulkString("x") },
		"WriteBulk":        func(w *Writer) { w.WriteBulk([]byte("x")) },
		"WriteInt":         func(w *Writer) { w.WriteInt(-1) },
		"WriteArrayHeader": func(w *Writer) { w.WriteArray(0) },
	} {
		var out bytes.Buffer
		w := NewWriter(&out)
		first(w)
		if err := w.Flush(); err != nil || out.Len() == 0 {
			t.Errorf("%s first: flushed %q, %v", name, out.String(), err)
		}
	}
}
