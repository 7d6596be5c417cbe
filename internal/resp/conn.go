package resp

import (
	"context"
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
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	c := NewConn(nc)
	if secret == "" {
		return c, nil
	}
	v, err := c.Do(ctx, "AUTH", secret)
	if err == nil {
		err = v.Err()
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("auth with %s: %w", addr, err)
	}
	return c, nil
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
