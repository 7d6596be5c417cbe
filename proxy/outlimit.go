package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/internal/outbuf"
)

// OutputLimit is one class of Redis' client-output-buffer-limit (see
// outbuf.Limit). In a Config, a zero field takes the default and a
// negative one means no bound.
type OutputLimit = outbuf.Limit

// Output limit classes (the class label of the closed-clients metric).
const (
	classNormal = outbuf.Normal
	classPubSub = outbuf.PubSub
)

// ParseOutputLimits parses Redis' client-output-buffer-limit syntax,
// "<class> <hard> <soft> <seconds>" repeated, classes normal and pubsub
// (replica is accepted and ignored: the proxy serves no replicas). Classes
// not named keep their value in normal and pubsub; Redis' 0 ("no bound")
// becomes -1, as a Config wants it.
func ParseOutputLimits(s string, normal, pubsub OutputLimit) (OutputLimit, OutputLimit, error) {
	ls, err := outbuf.Parse(s, outbuf.Limits{})
	if err != nil {
		return normal, pubsub, fmt.Errorf("client-output-buffer-limit %q: %w", s, err)
	}
	none := func(v int64) int64 {
		if v == 0 {
			return -1
		}
		return v
	}
	conv := func(l OutputLimit) OutputLimit {
		return OutputLimit{Hard: none(l.Hard), Soft: none(l.Soft), SoftFor: time.Duration(none(int64(l.SoftFor/time.Second))) * time.Second}
	}
	f := strings.Fields(strings.ToLower(s))
	for i := 0; i+3 < len(f); i += 4 {
		switch f[i] {
		case "normal":
			normal = conv(ls.Normal)
		case "pubsub":
			pubsub = conv(ls.PubSub)
		}
	}
	return normal, pubsub, nil
}

// errOutputLimit fails the writes of a client closed at its output limit.
var errOutputLimit = errors.New("proxy: client closed for overcoming its output buffer limit")

// outputCheckInterval is how often the watchdog looks at the clients
// blocked in a write (the soft limit's resolution).
const outputCheckInterval = 100 * time.Millisecond

// outConn is a client connection whose pending output is bounded. A write
// to it counts as pending until the client has taken all of it; the
// proxy's replies for a client are built whole before they are written
// (a pipeline's), so the bytes of one write are the client's output
// buffer, as Redis counts it. Over the hard limit the client is closed
// before writing; above the soft limit for its duration, the watchdog
// closes it while it is blocked. Closing means closing the socket: the
// blocked write returns, and the client's goroutine ends.
type outConn struct {
	net.Conn
	lim *outputLimits
	// pubsub selects the pubsub class (a subscribed pinned client).
	pubsub atomic.Bool
	// pending is the size of the write in progress (0: none); since is
	// when it began (Unix ns).
	pending, since atomic.Int64
	// queued is what a pinned session's writer holds for the client, not
	// yet handed to a write (clientWriter).
	queued atomic.Int64
	killed atomic.Bool
}

// limit is the client's current class and limit.
func (c *outConn) limit() (string, OutputLimit) {
	if c.pubsub.Load() {
		return classPubSub, c.lim.pubsub
	}
	return classNormal, c.lim.normal
}

// Write writes b unless it exceeds the hard limit.
func (c *outConn) Write(b []byte) (int, error) {
	if c.killed.Load() {
		return 0, errOutputLimit
	}
	if class, l := c.limit(); l.Hard > 0 && int64(len(b)) > l.Hard {
		c.kill(class, int64(len(b)), "hard")
		return 0, errOutputLimit
	}
	c.since.Store(time.Now().UnixNano())
	c.pending.Store(int64(len(b)))
	n, err := c.Conn.Write(b)
	c.pending.Store(0)
	if err != nil && c.killed.Load() {
		err = errOutputLimit
	}
	return n, err
}

// overBatch reports, for replies of n bytes about to be written, whether
// they exceed the hard limit; it closes the client if so.
func (c *outConn) overBatch(n int64) bool {
	if c == nil {
		return false
	}
	class, l := c.limit()
	if l.Hard > 0 && n > l.Hard {
		c.kill(class, n, "hard")
		return true
	}
	return false
}

// hardLimit is the hard limit of the client's class (0: none).
func (c *outConn) hardLimit() int64 {
	if c == nil {
		return 0
	}
	_, l := c.limit()
	return l.Hard
}

// check closes the client if its blocked write is over the soft limit
// for longer than allowed.
func (c *outConn) check(now time.Time) {
	n := c.pending.Load() + c.queued.Load()
	if n == 0 || c.killed.Load() {
		return
	}
	class, l := c.limit()
	switch {
	case l.Hard > 0 && n > l.Hard:
		c.kill(class, n, "hard")
	case l.Soft > 0 && n > l.Soft && c.pending.Load() > 0 && now.Sub(time.Unix(0, c.since.Load())) >= l.SoftFor:
		// Blocked in one write for the soft limit's seconds with more
		// than the soft limit pending.
		c.kill(class, n, "soft")
	}
}

// kill closes the client for its output limit, once: counted and logged.
func (c *outConn) kill(class string, pending int64, which string) {
	if !c.killed.CompareAndSwap(false, true) {
		return
	}
	c.lim.closed(class)
	c.lim.log.Warn("client closed for overcoming its output buffer limit",
		"client", c.RemoteAddr().String(), "class", class, "limit", which, "pending_bytes", pending)
	c.Conn.Close()
}

// Close closes the connection and forgets it.
func (c *outConn) Close() error {
	c.lim.forget(c)
	return c.Conn.Close()
}

// outputLimits tracks the clients' connections for their output limits.
type outputLimits struct {
	normal, pubsub OutputLimit
	log            *slog.Logger
	closed         func(class string)

	mu sync.Mutex
	// conns maps a client's remote address (redcon's key for it) to its
	// connection.
	conns map[string]*outConn
}

// wrap tracks c.
func (o *outputLimits) wrap(c net.Conn) *outConn {
	oc := &outConn{Conn: c, lim: o}
	o.mu.Lock()
	o.conns[c.RemoteAddr().String()] = oc
	o.mu.Unlock()
	return oc
}

// lookup returns the connection of the client at addr (nil if unknown).
func (o *outputLimits) lookup(addr string) *outConn {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.conns[addr]
}

// forget stops tracking c.
func (o *outputLimits) forget(c *outConn) {
	o.mu.Lock()
	if o.conns[c.RemoteAddr().String()] == c {
		delete(o.conns, c.RemoteAddr().String())
	}
	o.mu.Unlock()
}

// watch checks every client blocked in a write each outputCheckInterval
// until done is closed.
func (o *outputLimits) watch(done <-chan struct{}) {
	t := time.NewTicker(outputCheckInterval)
	defer t.Stop()
	var blocked []*outConn
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			blocked = blocked[:0]
			o.mu.Lock()
			for _, c := range o.conns {
				if c.pending.Load() > 0 || c.queued.Load() > 0 {
					blocked = append(blocked, c)
				}
			}
			o.mu.Unlock()
			for _, c := range blocked {
				c.check(now)
			}
			clear(blocked)
		}
	}
}

// outListener wraps accepted connections in outConn.
type outListener struct {
	net.Listener
	lim *outputLimits
}

// Accept waits for the next client and wraps it.
func (l outListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.lim.wrap(c), nil
}

// limitWithDefaults fills l's zero fields from d; negative ones become 0
// (no bound).
func limitWithDefaults(l, d OutputLimit) OutputLimit {
	pick := func(v, d int64) int64 {
		switch {
		case v < 0:
			return 0
		case v == 0:
			return d
		}
		return v
	}
	return OutputLimit{Hard: pick(l.Hard, d.Hard), Soft: pick(l.Soft, d.Soft),
		SoftFor: time.Duration(pick(int64(l.SoftFor), int64(d.SoftFor)))}
}
