package resp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// Conn is a client connection: a Reader and a Writer over one net.Conn.
type Conn struct {
	*Reader
	*Writer
	nc net.Conn
}

// NewConn wraps an open connection.
func NewConn(nc net.Conn) *Conn {
	return &Conn{Reader: NewReader(nc), Writer: NewWriter(nc), nc: nc}
}

// Dial connects to addr and, when secret is not empty, authenticates with
// AUTH secret. ctx bounds the whole exchange (its deadline and its
// cancellation apply to the socket). A refused AUTH is an error wrapping the
// server's *Error (NOAUTH, WRONGPASS, …).
func Dial(ctx context.Context, addr, secret string) (*Conn, error) {
	return DialAs(ctx, addr, "", secret)
}

// DialAs is Dial authenticating as user (AUTH user secret) when user is
// not empty: the appliance's internal identity on a node.
func DialAs(ctx context.Context, addr, user, secret string) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	c := NewConn(nc)
	if secret == "" {
		return c, nil
	}
	args := []string{"AUTH", secret}
	if user != "" {
		args = []string{"AUTH", user, secret}
	}
	v, err := c.Do(ctx, args...)
	if err == nil {
		err = v.Err()
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("auth with %s: %w", addr, err)
	}
	return c, nil
}

// ErrBuffered is Resize's error when the connection holds bytes it read
// but did not decode yet.
var ErrBuffered = errors.New("resp: bytes buffered")

// Resize gives the connection buffers of size bytes (see NewReaderSize and
// NewWriterSize), for a connection that turns into a stream of large
// values once its exchange of commands is over. It flushes what is
// written, and fails with ErrBuffered when bytes were read but not decoded
// (they would be lost with the old buffer).
func (c *Conn) Resize(size int) error {
	if n := c.Reader.Buffered(); n > 0 {
		return fmt.Errorf("resize: %w: %d", ErrBuffered, n)
	}
	if err := c.Flush(); err != nil {
		return err
	}
	r := NewReaderSize(c.nc, size)
	r.MaxBulk, r.MaxArray, r.MaxDepth, r.MaxRaw = c.MaxBulk, c.MaxArray, c.MaxDepth, c.MaxRaw
	c.Reader, c.Writer = r, NewWriterSize(c.nc, size)
	return nil
}

// NetConn is the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// Do sends one command and reads its reply, both bounded by ctx. An error
// reply is returned as a Value (see Value.Err), not as an error.
func (c *Conn) Do(ctx context.Context, args ...string) (Value, error) {
	defer c.Bind(ctx)()
	if err := c.Send(args...); err != nil {
		return Value{}, err
	}
	return c.ReadValue()
}

// Send writes one command and flushes it.
func (c *Conn) Send(args ...string) error {
	c.WriteCommand(args...)
	return c.Flush()
}

// Bind makes the connection's I/O fail when ctx ends (at its deadline, or
// at once when it is cancelled); the returned func undoes the binding and
// clears the deadline.
func (c *Conn) Bind(ctx context.Context) (unbind func()) {
	if dl, ok := ctx.Deadline(); ok {
		c.nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Now()) })
	return func() {
		stop()
		c.nc.SetDeadline(time.Time{})
	}
}
