package node

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/batonkv/baton/internal/resplimit"
)

// clientConn wraps an accepted connection. It enforces request limits on the
// raw byte stream before redcon buffers it (redcon's read buffer grows
// without a cap; see package resplimit), and it can watch a client for
// disconnection while the connection's goroutine is parked in a blocking
// command.
type clientConn struct {
	net.Conn
	guard    *resplimit.Guard // reads through the limit scanner
	maxQuery int64            // bounds what watchClose keeps

	// Probe state: bytes read while the owner was blocked, served first.
	mu      sync.Mutex
	pending []byte
	readErr error
}

// newClientConn wraps c, enforcing lim on what it reads.
func newClientConn(c net.Conn, lim resplimit.Limits) *clientConn {
	cc := &clientConn{Conn: c, maxQuery: lim.MaxQuery}
	cc.guard = resplimit.NewGuard(lim, rawReader{cc}, c)
	return cc
}

// Read hands redcon bytes that passed the limit scanner. A violation is
// reported on the following Read, after redcon has replied to the valid
// requests before it.
func (c *clientConn) Read(p []byte) (int, error) { return c.guard.Read(p) }

// rawReader is the guard's source: the client's bytes, probed ones first.
type rawReader struct{ c *clientConn }

// Read is readRaw.
func (r rawReader) Read(p []byte) (int, error) { return r.c.readRaw(p) }

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
			if int64(len(c.pending)+n) > c.maxQuery {
				err = resplimit.ErrLimit // ends the connection, like the guard
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
	lim resplimit.Limits
}

// Accept waits for the next client and wraps it.
func (l limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newClientConn(c, l.lim), nil
}
