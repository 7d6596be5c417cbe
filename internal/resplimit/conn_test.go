package resplimit

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// readAll drains g in reads of at most size bytes and returns what it
// handed on and the error that ended it.
func readAll(g *Guard, size int) (string, error) {
	var got strings.Builder
	buf := make([]byte, size)
	for range 1000 {
		n, err := g.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			return got.String(), err
		}
	}
	return got.String(), errors.New("read loop did not end")
}

// Test_Guard: valid requests pass whole, however the stream is split into
// reads; a request over a limit is answered with the protocol error after
// the requests before it passed, and never passes whole itself.
func Test_Guard(t *testing.T) {
	lim := Limits{MaxBulk: 16, MaxMultibulk: 4, MaxQuery: 64, MaxInline: 32}
	ping := "*1\r\n$4\r\nPING\r\n"
	bulk16 := "$16\r\n0123456789abcdef\r\n"
	cases := []struct{ name, valid, bad, reply string }{
		{"valid", ping + "PING\r\n" + "*2\r\n$4\r\nECHO\r\n" + bulk16, "", ""},
		{"bulk", ping, "*2\r\n$4\r\nECHO\r\n$17\r\n01234567890123456\r\n", "invalid bulk length"},
		{"multibulk", ping, "*5\r\n", "invalid multibulk length"},
		{"inline", "PING\r\n", "PING " + strings.Repeat("x", 40) + "\r\n", "too big inline request"},
		{"query", ping, "*4\r\n" + strings.Repeat(bulk16, 4), "query buffer limit exceeded"},
	}
	for _, tc := range cases {
		for _, size := range []int{1, 5, 4096} {
			in := tc.valid + tc.bad
			var w bytes.Buffer
			g := NewGuard(lim, strings.NewReader(in), &w)
			passed, err := readAll(g, size)
			if !strings.HasPrefix(in, passed) || len(passed) < len(tc.valid) || (tc.bad != "" && len(passed) >= len(in)) {
				t.Errorf("%s/%d: passed %q of %q", tc.name, size, passed, in)
			}
			wantErr, wantReply := io.EOF, ""
			if tc.reply != "" {
				wantErr, wantReply = ErrLimit, "-ERR Protocol error: "+tc.reply+"\r\n"
			}
			if !errors.Is(err, wantErr) || w.String() != wantReply {
				t.Errorf("%s/%d: err %v reply %q, want %v %q", tc.name, size, err, w.String(), wantErr, wantReply)
			}
			if n, err := g.Read(make([]byte, 8)); tc.reply != "" && (n != 0 || err != ErrLimit) {
				t.Errorf("%s/%d: read after the violation = %d, %v", tc.name, size, n, err)
			}
		}
	}
}
