package repl

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/batonkv/baton/internal/resp"
)

// What the primary writes, a replica's bounded reader reads back.
func Test_Proto_FramesRoundTrip(t *testing.T) {
	var b bytes.Buffer
	w := resp.NewWriter(&b)
	WriteLogFrame(w, 7, true, []byte("records"))
	WriteSnapFrame(w, []byte("chunk"))
	WriteIntFrame(w, FrameSnapEnd, 1<<32-1)
	WriteIntFrame(w, FrameGetAck)
	w.Flush()
	r := resp.NewReader(&b)
	BoundFrames(r)
	want := [][]string{{"LOG", "7", "1", "records"}, {"SNAP", "chunk"}, {"SNAPEND", "4294967295"}, {"GETACK"}}
	var f resp.Frame
	for _, w := range want {
		if err := r.ReadFrame(&f); err != nil {
			t.Fatal(err)
		}
		got := make([]string, len(f.Args))
		for i, a := range f.Args {
			got[i] = string(a)
		}
		if strings.Join(got, " ") != strings.Join(w, " ") {
			t.Fatalf("frame %q, want %q", got, w)
		}
	}
	if n, err := FrameUint([]byte("18446744073709551615")); err != nil || n != 1<<64-1 {
		t.Fatalf("FrameUint = %d, %v", n, err)
	}
	if _, err := FrameUint([]byte("-1")); !errors.Is(err, ErrProtocol) {
		t.Fatalf("FrameUint(-1): %v", err)
	}
}

// A primary sending a frame with more elements than any frame has, or a
// bulk over the bound, is refused before anything is allocated for it.
func Test_Proto_BoundsRefuseHostileFrames(t *testing.T) {
	for _, in := range []string{"*9\r\n", "*1\r\n$536870913\r\n"} {
		r := resp.NewReader(strings.NewReader(in))
		BoundFrames(r)
		if err := r.ReadFrame(new(resp.Frame)); !errors.Is(err, resp.ErrProtocol) {
			t.Errorf("%q: err = %v", in, err)
		}
	}
}
