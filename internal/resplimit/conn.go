package resplimit

import (
	"errors"
	"io"
	"net"
)

// ErrLimit is returned by Guard.Read once it replied a protocol error for a
// request over the limits; the server then closes the connection.
var ErrLimit = errors.New("request over limits")

// Guard hands on a client's bytes that passed a Scanner. A violation is
// reported on the Read after the one that found it, so the server first
// answers the valid requests before the offending one: that Read writes
// "-ERR Protocol error: …" to the client and fails with ErrLimit, and so
// does every Read after it.
type Guard struct {
	src    io.Reader // the client's raw bytes
	w      io.Writer // where the protocol error goes
	scan   Scanner
	failed error
}

// NewGuard returns a guard reading from src and replying errors to w.
func NewGuard(lim Limits, src io.Reader, w io.Writer) *Guard {
	return &Guard{src: src, w: w, scan: Scanner{lim: lim}}
}

// Read reads from src and returns the bytes that pass the limits.
func (g *Guard) Read(p []byte) (int, error) {
	if g.failed != nil {
		return 0, g.failed
	}
	if v := g.scan.Violation(); v != "" {
		g.w.Write([]byte("-ERR Protocol error: " + v + "\r\n"))
		g.failed = ErrLimit
		return 0, ErrLimit
	}
	n, err := g.src.Read(p)
	if n > 0 {
		if ok := g.scan.Scan(p[:n]); ok < n {
			if ok == 0 {
				return g.Read(p) // nothing valid to hand on: reply now
			}
			return ok, nil
		}
	}
	return n, err
}

// Conn is a client connection whose reads pass a Guard.
type Conn struct {
	net.Conn
	guard *Guard
}

// NewConn wraps c.
func NewConn(c net.Conn, lim Limits) *Conn {
	return &Conn{Conn: c, guard: NewGuard(lim, c, c)}
}

// Read returns the client's bytes that pass the limits.
func (c *Conn) Read(p []byte) (int, error) { return c.guard.Read(p) }

// Listener wraps every accepted connection in a Conn.
type Listener struct {
	net.Listener
	Limits Limits
}

// Accept waits for the next client and wraps it.
func (l Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return NewConn(c, l.Limits), nil
}
