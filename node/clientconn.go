package node

import (
	"bytes"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"
)

// errLimit is returned by clientConn.Read after it replied a protocol error
// for a request over the configured limits; redcon then closes the
// connection.
var errLimit = errors.New("request over limits")

// limits are the request-size bounds a clientConn enforces.
type limits struct {
	maxBulk, maxMultibulk, maxQuery, maxInline int64
}

// scanner states.
const (
	stStart = iota
	stInline
	stCount
	stBulkHeader
	stBulkBody
)

// clientConn wraps an accepted connection. It enforces request limits on the
// raw byte stream before redcon buffers it (redcon's read buffer grows
// without a cap), and it can watch a client for disconnection while the
// connection's goroutine is parked in a blocking command.
type clientConn struct {
	net.Conn
	lim limits

	// RESP header scanner, fed with every byte handed to redcon.
	state     int
	line      []byte // current header line
	remaining int64  // bulks left in the current multibulk
	need      int64  // body bytes (with CRLF) left in the current bulk
	reqBytes  int64  // bytes of the request in progress
	limitErr  string // pending protocol error to reply on the next Read
	failedErr error

	// Probe state: bytes read while the owner was blocked, served first.
	mu      sync.Mutex
	pending []byte
	readErr error
}

func newClientConn(c net.Conn, lim limits) *clientConn {
	return &clientConn{Conn: c, lim: lim}
}

// Read hands redcon bytes that passed the limit scanner. A violation is
// reported on the following Read, after redcon has replied to the valid
// requests before it.
func (c *clientConn) Read(p []byte) (int, error) {
	if c.failedErr != nil {
		return 0, c.failedErr
	}
	if c.limitErr != "" {
		c.Conn.Write([]byte("-ERR Protocol error: " + c.limitErr + "\r\n"))
		c.failedErr = errLimit
		return 0, errLimit
	}
	n, err := c.readRaw(p)
	if n > 0 {
		if ok := c.scan(p[:n]); ok < n {
			if ok == 0 {
				return c.Read(p)
			}
			return ok, nil
		}
	}
	return n, err
}

// readRaw serves probed bytes first, then the socket.
func (c *clientConn) readRaw(p []byte) (int, error) {
	c.mu.Lock()
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		c.mu.Unlock()
		return n, nil
	}
	if err := c.readErr; err != nil {
		c.mu.Unlock()
		return 0, err
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

// scan advances the header scanner over b and returns how many bytes are
// acceptable; on a violation it records limitErr and returns the length of
// the valid prefix. Header lines are found with IndexByte and bulk bodies
// are skipped whole, so the cost is per request, not per byte.
func (c *clientConn) scan(b []byte) int {
	i := 0
	for i < len(b) {
		if c.state == stStart {
			c.reqBytes = 0
			if b[i] == '*' {
				c.state, c.line = stCount, c.line[:0]
				c.reqBytes++
				i++
				continue
			}
			c.state = stInline
		}
		start := i
		switch c.state {
		case stInline:
			j := bytes.IndexByte(b[i:], '\n')
			n := len(b) - i
			if j >= 0 {
				n = j + 1
			}
			c.reqBytes += int64(n)
			// The line's bytes before its '\n' (one of them may be '\r'),
			// counted the same whether or not the '\n' has arrived.
			content := c.reqBytes
			if j >= 0 {
				content--
			}
			if content > c.lim.maxInline+1 {
				c.limitErr = "too big inline request"
				return start
			}
			if j >= 0 {
				c.state = stStart
			}
			i += n
		case stCount, stBulkHeader:
			j := bytes.IndexByte(b[i:], '\n')
			end := len(b)
			if j >= 0 {
				end = i + j
			}
			if len(c.line)+end-i > 32 {
				c.limitErr = "invalid bulk length"
				return start
			}
			c.line = append(c.line, b[i:end]...)
			c.reqBytes += int64(end - i)
			if j < 0 {
				i = end
				break
			}
			c.reqBytes++
			i = end + 1
			if !c.headerDone() {
				return start
			}
		case stBulkBody:
			skip := int64(len(b) - i)
			if skip > c.need {
				skip = c.need
			}
			c.need -= skip
			c.reqBytes += skip
			i += int(skip)
			if c.need == 0 {
				c.remaining--
				c.state, c.line = stBulkHeader, c.line[:0]
				if c.remaining == 0 {
					c.state = stStart
				}
			}
		}
		if c.reqBytes > c.lim.maxQuery {
			c.limitErr = "query buffer limit exceeded"
			return start
		}
	}
	return len(b)
}

// headerDone handles a complete "*N\r" or "$N\r" line. Malformed headers
// are left for redcon to reject with its own protocol error.
func (c *clientConn) headerDone() bool {
	line := c.line
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if c.state == stCount {
		n, err := strconv.ParseInt(string(line), 10, 64)
		if err != nil || n <= 0 {
			c.state = stStart // redcon replies the protocol error
			return true
		}
		if n > c.lim.maxMultibulk {
			c.limitErr = "invalid multibulk length"
			return false
		}
		c.remaining, c.state, c.line = n, stBulkHeader, c.line[:0]
		return true
	}
	if len(line) == 0 || line[0] != '$' {
		c.state = stStart
		return true
	}
	n, err := strconv.ParseInt(string(line[1:]), 10, 64)
	if err != nil || n < 0 {
		c.state = stStart
		return true
	}
	if n > c.lim.maxBulk {
		c.limitErr = "invalid bulk length"
		return false
	}
	c.need, c.state = n+2, stBulkBody
	return true
}

// watchClose reads the socket in the background while the connection's
// goroutine is parked (a blocking pop), so a disconnect is noticed at once
// instead of handing data to a dead client. Bytes that arrive meanwhile are
// kept and served to redcon later. stop ends the watch and must be called
// before the connection is read again.
func (c *clientConn) watchClose() (gone <-chan struct{}, stop func()) {
	ch := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := c.Conn.Read(buf)
			c.mu.Lock()
			if int64(len(c.pending)+n) > c.lim.maxQuery {
				err = errLimit
			}
			c.pending = append(c.pending, buf[:n]...)
			if err != nil {
				var ne net.Error
				if !(errors.As(err, &ne) && ne.Timeout()) {
					c.readErr = err
					close(ch)
				}
				c.mu.Unlock()
				return
			}
			c.mu.Unlock()
		}
	}()
	return ch, func() {
		c.Conn.SetReadDeadline(time.Now())
		<-done
		c.Conn.SetReadDeadline(time.Time{})
	}
}

// limitListener wraps accepted connections in clientConn.
type limitListener struct {
	net.Listener
	lim limits
}

func (l limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newClientConn(c, l.lim), nil
}
