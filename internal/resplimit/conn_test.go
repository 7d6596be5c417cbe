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
		// Lengths that do not parse are the scanner's to refuse, as Redis
		// does, never a RESP parser's to wrap (an int64 overflow).
		{"bulk-overflow", ping, "*2\r\n$4\r\nECHO\r\n$99999999999999999999\r\nxx\r\n", "invalid bulk length"},
		{"bulk-negative", ping, "*1\r\n$-5\r\n", "invalid bulk length"},
		{"bulk-leading-zero", ping, "*1\r\n$04\r\nPING\r\n", "invalid bulk length"},
		{"bulk-not-digits", ping, "*1\r\n$4x\r\nPING\r\n", "invalid bulk length"},
		{"bulk-no-dollar", ping, "*1\r\n+PING\r\n", "expected '$', got '+'"},
		{"bulk-empty-header", ping, "*1\r\n\r\n", "expected '$', got ' '"},
		{"multibulk-overflow", ping, "*18446744073709551616\r\n", "invalid multibulk length"},
		{"multibulk-not-digits", ping, "*1a\r\n$4\r\nPING\r\n", "invalid multibulk length"},
		{"empty-multibulk", ping + "*0\r\n*-1\r\n" + ping, "", ""},
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

// Test_Guard_HTTP: an HTTP request on a RESP port (a browser page's POST,
// any request's Host: line) ends the stream at once with ErrHTTP and no
// reply, however it is split; commands that merely start alike pass.
func Test_Guard_HTTP(t *testing.T) {
	lim := Limits{MaxBulk: 16, MaxMultibulk: 4, MaxQuery: 64, MaxInline: 32}
	for _, tc := range []struct {
		in   string
		http bool
		at   int // where the HTTP line starts: no line past it passes whole
	}{
		{"PING\r\nPOST / HTTP/1.1\r\n", true, 6},
		{"post /x HTTP/1.0\r\n", true, 0},
		{"GET / HTTP/1.1\r\nHost: example.com\r\n", true, 16},
		{"HOST:\r\n", true, 0},
		{"POSTMAN\r\nHOSTS x\r\nPOST\r\n", true, 18},
		{"POSTMAN\r\nHOSTS x\r\n", false, 0},
		{"PING\r\n", false, 0},
	} {
		for _, size := range []int{1, 3, 4096} {
			var w bytes.Buffer
			g := NewGuard(lim, strings.NewReader(tc.in), &w)
			passed, err := readAll(g, size)
			if tc.http != errors.Is(err, ErrHTTP) || w.Len() != 0 {
				t.Errorf("%q/%d: err %v reply %q; want HTTP %v and no reply", tc.in, size, err, w.String(), tc.http)
			}
			if !strings.HasPrefix(tc.in, passed) || (tc.http && len(passed) > tc.at && strings.Contains(passed[tc.at:], "\n")) {
				t.Errorf("%q/%d: passed the HTTP line: %q", tc.in, size, passed)
			}
		}
	}
}

// Test_Guard_PreAuth: a client that must authenticate is held to the
// pre-authentication bounds (10 arguments, 16384-byte bulks in Redis)
// until it does; an AUTH pipelined before a large request lifts them for
// that request, as Redis, which runs the AUTH before reading on, does.
func Test_Guard_PreAuth(t *testing.T) {
	lim := Limits{MaxBulk: 1 << 20, MaxMultibulk: 1000, MaxQuery: 1 << 21, MaxInline: 1 << 10, PreAuthMultibulk: 10, PreAuthBulk: 16384}
	big := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20000\r\n" + strings.Repeat("v", 20000) + "\r\n"
	many := "*11\r\n" + strings.Repeat("$1\r\nx\r\n", 11)
	auth := "AUTH pw\r\n"
	for _, tc := range []struct {
		name, in, reply string
	}{
		{"big-before-auth", "PING\r\n" + big, "unauthenticated bulk length"},
		{"many-before-auth", "PING\r\n" + many, "unauthenticated multibulk length"},
		{"big-after-auth", auth + big + many, ""},
		{"exactly-at-bounds", "*10\r\n" + strings.Repeat("$1\r\nx\r\n", 10) + "*1\r\n$16384\r\n" + strings.Repeat("v", 16384) + "\r\n", ""},
	} {
		for _, size := range []int{1, 7, 100, 1 << 16} {
			var w bytes.Buffer
			g := NewGuard(lim, strings.NewReader(tc.in), &w)
			// The "server": runs what passed, so the AUTH authenticates
			// before the guard's next Read.
			var passed strings.Builder
			g.SetAuthed(func() bool { return strings.Contains(passed.String(), auth) })
			buf := make([]byte, size)
			var err error
			for range 100000 {
				var n int
				n, err = g.Read(buf)
				passed.Write(buf[:n])
				if err != nil {
					break
				}
			}
			if tc.reply == "" {
				if err != io.EOF || passed.String() != tc.in || w.Len() != 0 {
					t.Errorf("%s/%d: err %v reply %q, passed %d of %d bytes", tc.name, size, err, w.String(), passed.Len(), len(tc.in))
				}
				continue
			}
			if !errors.Is(err, ErrLimit) || w.String() != "-ERR Protocol error: "+tc.reply+"\r\n" || len(passed.String()) >= len(tc.in) {
				t.Errorf("%s/%d: err %v reply %q passed %d of %d bytes; want %q", tc.name, size, err, w.String(), passed.Len(), len(tc.in), tc.reply)
			}
		}
	}
}
