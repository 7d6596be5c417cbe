package resp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func Test_Frame_Read(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	w.WriteArray(4)
	w.WriteBulkString("LOG")
	w.WriteUint(1<<64 - 1)
	w.WriteInt(-1)
	w.WriteBulk([]byte("rec\r\nords"))
	w.WriteRaw([]byte("*1\r\n$6\r\nGETACK\r\n"))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r := NewReader(&b)
	var f Frame
	if err := r.ReadFrame(&f); err != nil {
		t.Fatal(err)
	}
	want := []string{"LOG", "18446744073709551615", "-1", "rec\r\nords"}
	if len(f.Args) != len(want) {
		t.Fatalf("frame %q, want %q", f.Args, want)
	}
	for i := range want {
		if string(f.Args[i]) != want[i] {
			t.Fatalf("frame %q, want %q", f.Args, want)
		}
	}
	// An element is clipped: appending to it cannot overwrite the next.
	if cap(f.Args[0]) != len(f.Args[0]) {
		t.Fatalf("element capacity %d beyond its length %d", cap(f.Args[0]), len(f.Args[0]))
	}
	if err := r.ReadFrame(&f); err != nil || len(f.Args) != 1 || string(f.Args[0]) != "GETACK" {
		t.Fatalf("second frame %q, %v", f.Args, err)
	}
	if err := r.ReadFrame(&f); err != io.EOF {
		t.Fatalf("end of stream: %v", err)
	}
}

func Test_Frame_Hostile(t *testing.T) {
	cases := map[string]struct {
		in   string
		want error
	}{
		"not an array":           {"+OK\r\n", ErrProtocol},
		"empty frame":            {"*0\r\n", ErrProtocol},
		"null frame":             {"*-1\r\n", ErrProtocol},
		"too many elements":      {"*9\r\n", ErrProtocol},
		"nested array":           {"*1\r\n*1\r\n:1\r\n", ErrProtocol},
		"null bulk":              {"*1\r\n$-1\r\n", ErrProtocol},
		"simple string element":  {"*1\r\n+OK\r\n", ErrProtocol},
		"bulk over max":          {"*1\r\n$1025\r\n", ErrProtocol},
		"huge bulk":              {"*1\r\n$99999999999\r\n", ErrProtocol},
		"bulk without CRLF":      {"*1\r\n$2\r\nabXY", ErrProtocol},
		"truncated header":       {"*2", io.ErrUnexpectedEOF},
		"truncated frame":        {"*2\r\n$3\r\nLOG\r\n", io.ErrUnexpectedEOF},
		"truncated bulk":         {"*1\r\n$10\r\nabc", io.ErrUnexpectedEOF},
		"declared max, sent 3":   {"*1\r\n$1024\r\nabc", io.ErrUnexpectedEOF},
		"line too long":          {"*1\r\n:" + strings.Repeat("1", maxLine) + "\r\n", ErrProtocol},
		"empty stream":           {"", io.EOF},
		"one whole frame":        {"*1\r\n:1\r\n", nil},
		"bad type in the middle": {"*2\r\n:1\r\n?\r\n", ErrProtocol},
	}
	for name, c := range cases {
		r := NewReader(strings.NewReader(c.in))
		r.MaxBulk, r.MaxArray = 1024, 8
		if err := r.ReadFrame(new(Frame)); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
	}
}

// A primary announcing the largest allowed bulk in a frame and sending a
// few bytes must cost about what it sent, not the announced size.
func Test_Frame_HugeDeclaredLengthDoesNotAllocate(t *testing.T) {
	in := "*2\r\n$4\r\nSNAP\r\n$536870912\r\nabc"
	var ms, ms2 runtimeMem
	ms.read()
	for range 5 {
		err := NewReader(strings.NewReader(in)).ReadFrame(new(Frame))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("truncated huge bulk: err = %v", err)
		}
	}
	ms2.read()
	if perRun := (ms2.total - ms.total) / 5; perRun > 8<<20 {
		t.Fatalf("reading a truncated huge frame allocated %d bytes per run", perRun)
	}
}

// Once its buffer has grown, a Frame reads the same stream without
// allocating.
func Test_Frame_ReusesItsBuffer(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	for range 200 {
		w.WriteArray(2)
		w.WriteBulkString("SNAP")
		w.WriteBulk(bytes.Repeat([]byte("x"), 100<<10))
	}
	w.Flush()
	r := NewReader(bytes.NewReader(b.Bytes()))
	var f Frame
	r.ReadFrame(&f)
	allocs := testing.AllocsPerRun(100, func() {
		if err := r.ReadFrame(&f); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Fatalf("%v allocations per frame", allocs)
	}
}

// FuzzFrame feeds arbitrary bytes to ReadFrame: an error or a frame, never
// a panic or a hang, and a frame's elements lie within the input.
func FuzzFrame(f *testing.F) {
	for _, seed := range []string{
		"*4\r\n$3\r\nLOG\r\n:1\r\n:0\r\n$5\r\nabcde\r\n", "*1\r\n$6\r\nGETACK\r\n",
		"*2\r\n$4\r\nSNAP\r\n$99999999999\r\n", "*3\r\n$4\r\nPING\r\n:1\r\n:2\r\n", "*1\r\n*1\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in))
		r.MaxBulk, r.MaxArray = 1<<16, 8
		var fr Frame
		for range 10 {
			if r.ReadFrame(&fr) != nil {
				return
			}
			n := 0
			for _, a := range fr.Args {
				n += len(a)
			}
			if n > len(in) {
				t.Fatalf("frame of %d bytes from %d bytes of input", n, len(in))
			}
		}
	})
}
