package resplimit

import (
	"bytes"
	"strconv"
)

// Limits are the request-size bounds a Scanner enforces.
type Limits struct {
	// MaxBulk bounds one bulk string of a request (proto-max-bulk-len).
	MaxBulk int64
	// MaxMultibulk bounds the number of arguments of one request.
	MaxMultibulk int64
	// MaxQuery bounds the bytes of one request not yet complete
	// (client-query-buffer-limit).
	MaxQuery int64
	// MaxInline bounds an inline (telnet-style) request line.
	MaxInline int64
	// PreAuthMultibulk and PreAuthBulk bound the arguments and the bulk
	// strings of a client that must still authenticate (Redis: 10 and
	// 16384, CVE-2021-32675); 0 means no separate bound.
	PreAuthMultibulk int64
	PreAuthBulk      int64
}

// Scanner states.
const (
	stStart = iota
	stInline
	stCount
	stBulkHeader
	stBulkBody
)

// Scanner follows the RESP request headers of one client's byte stream,
// fed in whatever pieces the socket delivers, and finds the first request
// over the Limits. It only reads headers ("*N", "$N") and skips bulk
// bodies whole, so its cost is per request, not per byte.
//
// It is also the one judge of malformed headers, with Redis' errors: a
// count or length that does not parse as a decimal integer (one that
// overflows int64 included) or a bulk header without '$' is a violation,
// never left to a RESP parser that might wrap it into a small number.
type Scanner struct {
	lim       Limits
	authed    func() bool // nil: the client never needs to authenticate
	state     int
	line      []byte // current header line
	remaining int64  // bulks left in the current multibulk
	need      int64  // body bytes (with CRLF) left in the current bulk
	reqBytes  int64  // bytes of the request in progress
	violation string // the limit broken, once one is
	kind      Kind   // what kind of violation
	before    *Scanner
}

// Kind tells what a violation calls for.
type Kind int

// Kinds of violations.
const (
	// KindLimit: reply the protocol error, then close.
	KindLimit Kind = iota
	// KindPreAuth: a bound for clients that did not authenticate. The
	// requests before it may still authenticate the client (a pipelined
	// AUTH); Resume re-judges the offending request then.
	KindPreAuth
	// KindHTTP: an HTTP request (POST, Host:) on a RESP port, as a
	// browser page can send: close at once, reply nothing (Redis'
	// cross-protocol scripting defence).
	KindHTTP
)

// NewScanner returns a scanner at the start of a stream.
func NewScanner(lim Limits) *Scanner {
	return &Scanner{lim: lim}
}

// SetAuthed installs the check of whether the client has authenticated;
// until it says so the PreAuth bounds apply. nil (the default) means the
// client needs no authentication.
func (s *Scanner) SetAuthed(authed func() bool) { s.authed = authed }

// preAuth reports whether the pre-authentication bounds apply now.
func (s *Scanner) preAuth() bool { return s.authed != nil && !s.authed() }

// Violation is the protocol error text (without "ERR Protocol error: ") of
// the limit the stream broke, or "".
func (s *Scanner) Violation() string { return s.violation }

// Kind is the kind of the violation found.
func (s *Scanner) Kind() Kind { return s.kind }

// Resume re-judges a KindPreAuth violation once the requests before it ran:
// if the client authenticated meanwhile, the scanner returns to where it
// stood before the offending piece (which the caller scans again) and
// reports true. Otherwise, or for another kind, it reports false and the
// violation stands.
func (s *Scanner) Resume() bool {
	if s.violation == "" || s.kind != KindPreAuth || s.before == nil || s.preAuth() {
		return false
	}
	*s = *s.before
	return true
}

// Scan advances over b and returns how many of its bytes are acceptable:
// len(b), or, once a limit is broken, the length of the prefix before the
// offending request's current piece (Violation then says which limit).
// However the stream is split, the same violation is found.
func (s *Scanner) Scan(b []byte) int {
	i := 0
	for i < len(b) {
		if s.state == stStart {
			s.reqBytes = 0
			if b[i] == '*' {
				s.state, s.line = stCount, s.line[:0]
				s.reqBytes++
				i++
				continue
			}
			s.state, s.line = stInline, s.line[:0]
		}
		start := i
		switch s.state {
		case stInline:
			if !s.inline(b, &i) {
				return start
			}
		case stCount, stBulkHeader:
			var saved Scanner
			if s.authed != nil {
				// What Resume returns to if this header breaks a
				// pre-authentication bound (line's bytes before its
				// length are never overwritten by the append).
				saved = *s
			}
			if !s.header(b, &i) {
				if s.kind == KindPreAuth {
					before := saved // saved itself stays on the stack
					s.before = &before
				}
				return start
			}
		case stBulkBody:
			s.body(b, &i)
		}
		if s.reqBytes > s.lim.MaxQuery {
			s.fail(KindLimit, "query buffer limit exceeded")
			return start
		}
	}
	return len(b)
}

// inline consumes an inline request line (or its part in b) from b[*i:].
func (s *Scanner) inline(b []byte, i *int) bool {
	j := bytes.IndexByte(b[*i:], '\n')
	n := len(b) - *i
	if j >= 0 {
		n = j + 1
	}
	s.reqBytes += int64(n)
	// The line's bytes before its '\n' (one of them may be '\r'), counted
	// the same whether or not the '\n' has arrived.
	content := s.reqBytes
	if j >= 0 {
		content--
	}
	if content > s.lim.MaxInline+1 {
		s.fail(KindLimit, "too big inline request")
		return false
	}
	if s.httpVerb(b[*i:*i+n], j >= 0) {
		s.fail(KindHTTP, "HTTP request on a RESP port")
		return false
	}
	if j >= 0 {
		s.state, s.line = stStart, s.line[:0]
	}
	*i += n
	return true
}

// httpVerb follows the first word of an inline request (kept in line, at
// most len("host:")+1 bytes) and reports whether it is one an HTTP request
// starts with: "POST" or "Host:", in any case, as Redis treats them.
func (s *Scanner) httpVerb(piece []byte, complete bool) bool {
	const keep = 6
	if len(s.line) < keep {
		s.line = append(s.line, piece[:min(len(piece), keep-len(s.line))]...)
	}
	word := s.line
	if k := bytes.IndexAny(word, " \t\r\n"); k >= 0 {
		word = word[:k]
	} else if !complete && len(word) < keep {
		return false // the word may go on
	}
	return bytes.EqualFold(word, []byte("post")) || bytes.EqualFold(word, []byte("host:"))
}

// fail records the first violation.
func (s *Scanner) fail(k Kind, v string) {
	s.kind, s.violation = k, v
}

// header consumes a "*N" or "$N" header line (or its part in b) from
// b[*i:] and, once it is complete, checks it.
func (s *Scanner) header(b []byte, i *int) bool {
	j := bytes.IndexByte(b[*i:], '\n')
	end := len(b)
	if j >= 0 {
		end = *i + j
	}
	if len(s.line)+end-*i > 32 {
		// No valid count or length is this long (Redis: no leading
		// zeros, at most 20 characters).
		s.fail(KindLimit, s.lengthError())
		return false
	}
	s.line = append(s.line, b[*i:end]...)
	s.reqBytes += int64(end - *i)
	if j < 0 {
		*i = end
		return true
	}
	s.reqBytes++
	*i = end + 1
	return s.headerDone()
}

// body skips the bytes of the current bulk string in b[*i:].
func (s *Scanner) body(b []byte, i *int) {
	skip := min(int64(len(b)-*i), s.need)
	s.need -= skip
	s.reqBytes += skip
	*i += int(skip)
	if s.need == 0 {
		s.remaining--
		s.state, s.line = stBulkHeader, s.line[:0]
		if s.remaining == 0 {
			s.state = stStart
		}
	}
}

// lengthError is the error for a malformed header in the current state.
func (s *Scanner) lengthError() string {
	if s.state == stCount {
		return "invalid multibulk length"
	}
	return "invalid bulk length"
}

// headerDone checks a complete "*N\r" or "$N\r" line, as Redis does.
func (s *Scanner) headerDone() bool {
	line := s.line
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if s.state == stCount {
		n, ok := parseLength(line)
		switch {
		case !ok || n > s.lim.MaxMultibulk:
			s.fail(KindLimit, "invalid multibulk length")
			return false
		case n <= 0:
			s.state, s.line = stStart, s.line[:0] // an empty request
			return true
		case s.lim.PreAuthMultibulk > 0 && n > s.lim.PreAuthMultibulk && s.preAuth():
			s.fail(KindPreAuth, "unauthenticated multibulk length")
			return false
		}
		s.remaining, s.state, s.line = n, stBulkHeader, s.line[:0]
		return true
	}
	if len(line) == 0 || line[0] != '$' {
		got := byte(' ') // Redis prints the byte, CR and LF as spaces
		if len(line) > 0 && line[0] != '\r' && line[0] != '\n' {
			got = line[0]
		}
		s.fail(KindLimit, "expected '$', got '"+string(got)+"'")
		return false
	}
	n, ok := parseLength(line[1:])
	switch {
	case !ok || n < 0 || n > s.lim.MaxBulk:
		s.fail(KindLimit, "invalid bulk length")
		return false
	case s.lim.PreAuthBulk > 0 && n > s.lim.PreAuthBulk && s.preAuth():
		s.fail(KindPreAuth, "unauthenticated bulk length")
		return false
	}
	s.need, s.state = n+2, stBulkBody
	return true
}

// parseLength parses a count or a length as Redis' string2ll does: an
// optional '-', decimal digits without leading zeros, within int64.
func parseLength(b []byte) (int64, bool) {
	digits := b
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || (digits[0] == '0' && len(b) > 1) {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}
