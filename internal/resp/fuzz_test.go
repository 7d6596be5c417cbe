package resp

import (
	"bytes"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the Reader: it must return a value or
// an error, never panic or hang, and a value it decodes must read back the
// same bytes through ReadRaw.
func FuzzReader(f *testing.F) {
	for _, seed := range []string{
		"+OK\r\n", "-ERR x\r\n", ":1\r\n", "$3\r\nabc\r\n", "$-1\r\n", "*-1\r\n",
		"*2\r\n$8\r\ntopology\r\n$2\r\n{}\r\n", "*1\r\n*1\r\n*1\r\n:0\r\n",
		"$536870912\r\nabc", "*1048576\r\n", "$-2\r\n", "?\r\n", "+OK\n", "$2\r\nabXY",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in))
		r.MaxBulk, r.MaxArray = 1<<16, 1<<10
		if _, err := r.ReadValue(); err != nil {
			return
		}
		raw := NewReader(bytes.NewReader(in))
		raw.MaxBulk, raw.MaxArray = 1<<16, 1<<10
		got, err := raw.ReadRaw(nil)
		if err != nil || !bytes.HasPrefix(in, got) {
			t.Fatalf("ReadRaw after a good ReadValue: %q, %v", got, err)
		}
	})
}
