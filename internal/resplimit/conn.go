package resplimit

import (
	"errors"
	"io"
	"net"
)

// ErrLimit is returned by Guard.Read once it replied a protocol error for a
// request over the limits; the server then closes the connection.
var ErrLimit = errors.New("request over limits")

// ErrHTTP is returned by Guard.Read once the client sent what starts an
// HTTP request (POST, Host:): nothing is replied, the server closes the
// connection and may log it as a possible cross-protocol attack.
var ErrHTTP = errors.New("HTTP request on a RESP port")

// Guard hands on a client's bytes that passed a Scanner. A violation is
// reported on the Read after the one that found it, so the server first
// answers the valid requests before the offending one: that Read writes
// "-ERR Protocol error: …" to the client and fails with ErrLimit, and so
// does every Read after it. A pre-authentication bound is judged again on
// that Read: if the requests before it authenticated the client (a
// pipelined AUTH), the held bytes are scanned again and pass.
type Guard struct {
	src    io.Reader // the client's raw bytes
	w      io.Writer // where the protocol error goes
	scan   Scanner
	held   []byte // read past a pre-authentication violation, not yet handed on
	failed error
}

// NewGuard returns a guard reading from src and replying errors to w.
func NewGuard(lim Limits, src io.Reader, w io.Writer) *Guard {
	return &Guard{src: src, w: w, scan: Scanner{lim: lim}}
}

// SetAuthed installs the client's authentication check (Scanner.SetAuthed).
// Call it before the first Read.
func (g *Guard) SetAuthed(authed func() bool) { g.scan.SetAuthed(authed) }

// Read reads from src and returns the bytes that pass the limits.
func (g *Guard) Read(p []byte) (int, error) {
	if g.failed != nil {
		return 0, g.failed
	}
	if g.scan.Violation() != "" && !g.scan.Resume() {
		return 0, g.fail()
	}
	if len(g.held) > 0 {
		n := copy(p, g.held)
		g.held = g.held[n:]
		return g.pass(p, n, nil)
	}
	n, err := g.src.Read(p)
	return g.pass(p, n, err)
}

// pass scans the n bytes read into p and returns how many of them go on.
func (g *Guard) pass(p []byte, n int, err error) (int, error) {
	if n == 0 {
		return 0, err
	}
	ok := g.scan.Scan(p[:n])
	if ok == n {
		return n, err
	}
	if g.scan.Kind() == KindHTTP {
		// Nothing of what came with it runs either (Redis frees such a
		// client before it answers anything it read along).
		return 0, g.fail()
	}
	if g.scan.Kind() == KindPreAuth {
		// Kept for Resume; bounded by one read (and what an earlier
		// Resume left of it).
		g.held = append(append([]byte(nil), p[ok:n]...), g.held...)
	}
	if ok == 0 {
		return g.Read(p) // nothing valid to hand on: judge it now
	}
	return ok, nil
}

// fail ends the stream for the violation found: the protocol error is
// replied (nothing for an HTTP request) and every Read fails from now on.
func (g *Guard) fail() error {
	g.held = nil
	if g.scan.Kind() == KindHTTP {
		g.failed = ErrHTTP
		return ErrHTTP
	}
	g.w.Write([]byte("-ERR Protocol error: " + g.scan.Violation() + "\r\n"))
	g.failed = ErrLimit
	return ErrLimit
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

// SetAuthed installs the client's authentication check (Guard.SetAuthed).
func (c *Conn) SetAuthed(authed func() bool) { c.guard.SetAuthed(authed) }

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
