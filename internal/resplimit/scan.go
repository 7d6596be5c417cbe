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
// Malformed headers are not its business: the scanner goes back to the
// start state and leaves them to the RESP parser, which replies its own
// protocol error.
type Scanner struct {
	lim       Limits
	state     int
	line      []byte // current header line
	remaining int64  // bulks left in the current multibulk
	need      int64  // body bytes (with CRLF) left in the current bulk
	reqBytes  int64  // bytes of the request in progress
	violation string // the limit broken, once one is
}

// NewScanner returns a scanner at the start of a stream.
func NewScanner(lim Limits) *Scanner {
	return &Scanner{lim: lim}
}

// Violation is the protocol error text (without "ERR Protocol error: ") of
// the limit the stream broke, or "".
func (s *Scanner) Violation() string { return s.violation }

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
			s.state = stInline
		}
		start := i
		switch s.state {
		case stInline:
			if !s.inline(b, &i) {
				return start
			}
		case stCount, stBulkHeader:
			if !s.header(b, &i) {
				return start
			}
		case stBulkBody:
			s.body(b, &i)
		}
		if s.reqBytes > s.lim.MaxQuery {
			s.violation = "query buffer limit exceeded"
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
		s.violation = "too big inline request"
		return false
	}
	if j >= 0 {
		s.state = stStart
	}
	*i += n
	return true
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
		s.violation = "invalid bulk length"
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

// headerDone handles a complete "*N\r" or "$N\r" line. Malformed headers
// are left for the RESP parser to reject with its own protocol error.
func (s *Scanner) headerDone() bool {
	line := s.line
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if s.state == stCount {
		n, err := strconv.ParseInt(string(line), 10, 64)
		if err != nil || n <= 0 {
			s.state = stStart // the parser replies the protocol error
			return true
		}
		if n > s.lim.MaxMultibulk {
			s.violation = "invalid multibulk length"
			return false
		}
		s.remaining, s.state, s.line = n, stBulkHeader, s.line[:0]
		return true
	}
	if len(line) == 0 || line[0] != '$' {
		s.state = stStart
		return true
	}
	n, err := strconv.ParseInt(string(line[1:]), 10, 64)
	if err != nil || n < 0 {
		s.state = stStart
		return true
	}
	if n > s.lim.MaxBulk {
		s.violation = "invalid bulk length"
		return false
	}
	s.need, s.state = n+2, stBulkBody
	return true
}
