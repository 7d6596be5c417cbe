package coordapi

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/batonkv/baton/internal/resp"
)

// DefaultAttempts bounds how many coordinators (redirects included) one
// command of a Client tries before it gives up.
const DefaultAttempts = 6

// Client sends commands to the coordinator group's Raft leader over one
// cached connection: it follows -REDIRECT when it names a configured
// address and moves on to the next configured coordinator on -NOLEADER or
// when one cannot be reached. It is not safe for concurrent use.
type Client struct {
	addrs  []string
	secret string
	// Attempts bounds the coordinators tried per command (DefaultAttempts
	// from NewClient).
	Attempts int
	// Pause is slept after each pass over all the addresses without a
	// leader's answer (an election takes a few hundred ms); 0: none.
	Pause time.Duration
	// DialTimeout, when set, bounds one dial and AUTH (besides ctx), so a
	// coordinator that black-holes connections costs only that long.
	DialTimeout time.Duration
	// next is the index in addrs of the coordinator tried after a failure.
	next int
	// conn is the open connection (nil when none) and addr its
	// coordinator.
	conn *resp.Conn
	addr string
}

// NewClient returns a client for the coordinators at addrs (at least one)
// authenticating with secret ("" for none).
func NewClient(addrs []string, secret string) *Client {
	return &Client{addrs: addrs, secret: secret, Attempts: DefaultAttempts}
}

// LeaderDo sends one leader-only command with a one-off Client that tries
// every address up to rounds times, 100 ms apart, each dial bounded by a
// second; the command is never sent twice.
func LeaderDo(ctx context.Context, addrs []string, secret string, rounds int, args ...string) (resp.Value, error) {
	c := NewClient(addrs, secret)
	defer c.Close()
	c.Attempts, c.Pause, c.DialTimeout = rounds*len(addrs), 100*time.Millisecond, time.Second
	return c.Do(ctx, args...)
}

// Close drops the cached connection; the Client stays usable.
func (c *Client) Close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.addr = nil, ""
	}
}

// Do sends one command to the leader and returns its reply. It is sent at
// most once: only a coordinator that could not be reached (dial or AUTH
// failed, so nothing was sent), -REDIRECT and -NOLEADER move on to
// another; a connection that fails after sending is an error, since the
// command may have run (a BATON.TAKEOVER is never sent twice). ctx bounds
// the whole call. -NOTPRIMARY is ErrNotPrimary, -NOAUTH/-WRONGPASS ErrAuth,
// any other error reply an error wrapping its *resp.Error.
func (c *Client) Do(ctx context.Context, args ...string) (resp.Value, error) {
	return c.do(ctx, false, args)
}

// DoIdempotent is Do for commands that are safe to repeat (TOPOLOGY,
// REGISTER, LEASE): a connection that fails after sending moves on to the
// next coordinator too, so a cached connection to a coordinator that went
// away costs no request.
func (c *Client) DoIdempotent(ctx context.Context, args ...string) (resp.Value, error) {
	return c.do(ctx, true, args)
}

// Topology sends an idempotent command that replies with the record
// (BATON.REGISTER, BATON.TOPOLOGY) and decodes it.
func (c *Client) Topology(ctx context.Context, args ...string) (Topology, error) {
	v, err := c.DoIdempotent(ctx, args...)
	if err != nil {
		return Topology{}, err
	}
	t, err := FromReply(v)
	if err != nil {
		return Topology{}, fmt.Errorf("%s: %w", args[0], err)
	}
	return t, nil
}

// Lease asks for the write lease of epoch for node id and returns its
// length.
func (c *Client) Lease(ctx context.Context, id string, epoch uint64) (time.Duration, error) {
	return c.lease(ctx, id, strconv.FormatUint(epoch, 10))
}

// LeaseAcked is Lease reporting acked, the highest LSN the node's
// --sync-replicas replicas acknowledged, and replicas, its --sync-replicas
// (BATON.LEASE id epoch acked replicas): the coordinators promote no
// replica behind acked, and none while replicas that may hold a later
// acknowledged write are out of their sight.
func (c *Client) LeaseAcked(ctx context.Context, id string, epoch, acked uint64, replicas int) (time.Duration, error) {
	return c.lease(ctx, id, strconv.FormatUint(epoch, 10), strconv.FormatUint(acked, 10), strconv.Itoa(replicas))
}

// lease sends BATON.LEASE with args and returns the lease granted.
func (c *Client) lease(ctx context.Context, id string, args ...string) (time.Duration, error) {
	v, err := c.DoIdempotent(ctx, append([]string{CmdLease, id}, args...)...)
	if err != nil {
		return 0, err
	}
	if v.Kind != resp.Integer || v.Int <= 0 {
		return 0, fmt.Errorf("%s: unexpected reply %q", CmdLease, v)
	}
	return time.Duration(v.Int) * time.Millisecond, nil
}

// FromReply decodes a reply that carries a record: a bulk string of JSON.
func FromReply(v resp.Value) (Topology, error) {
	if v.Kind != resp.BulkString || v.Null {
		return Topology{}, fmt.Errorf("unexpected reply %q", v)
	}
	return Decode(v.Str)
}

// do is Do and DoIdempotent: resend tells whether a failure after sending
// may move on to another coordinator.
func (c *Client) do(ctx context.Context, resend bool, args []string) (resp.Value, error) {
	target := c.addr
	if target == "" {
		target = c.rotate()
	}
	var last error = ErrNoLeader
	for hop := 0; hop < c.Attempts; hop++ {
		if hop > 0 && hop%len(c.addrs) == 0 {
			c.pause(ctx)
		}
		if err := ctx.Err(); err != nil {
			return resp.Value{}, fmt.Errorf("%s: %w (last: %v)", args[0], err, last)
		}
		if err := c.connect(ctx, target); err != nil {
			last, target = err, c.rotate()
			continue
		}
		v, err := c.conn.Do(ctx, args...)
		if err != nil {
			last = fmt.Errorf("%s to coordinator %s: %w", args[0], target, err)
			if !resend {
				c.Close()
				return resp.Value{}, last
			}
			target = c.rotate()
			continue
		}
		next, err := c.answer(v, target, args[0])
		if next == "" {
			return v, err
		}
		last, target = err, next
	}
	return resp.Value{}, fmt.Errorf("%s: gave up after %d attempts: %w", args[0], c.Attempts, last)
}

// answer classifies a reply from target: the coordinator to try next (""
// when the reply is final) and the error to report.
func (c *Client) answer(v resp.Value, target, cmd string) (next string, err error) {
	rerr := v.Err()
	if rerr == nil {
		return "", nil
	}
	switch resp.ErrorCode(rerr) {
	case ErrCodeRedirect:
		// Only the configured addresses are used: the leader's own
		// address may not be reachable from here (a proxy, another
		// network), and a lease renewed around a cut link would keep an
		// isolated primary writing. An unknown leader address means
		// trying the configured ones in turn.
		to, _ := RedirectAddr(rerr)
		err = fmt.Errorf("%s: redirected by %s to %s", cmd, target, to)
		if slices.Contains(c.addrs, to) {
			return to, err
		}
		return c.rotate(), err
	case ErrCodeNoLeader:
		return c.rotate(), fmt.Errorf("%w (%s: %w)", ErrNoLeader, target, rerr)
	case ErrCodeNotPrimary:
		return "", fmt.Errorf("%w: %w", ErrNotPrimary, rerr)
	case ErrCodeNoAuth, ErrCodeWrongPass:
		c.Close()
		return "", fmt.Errorf("%w: %s: %w", ErrAuth, target, rerr)
	}
	return "", fmt.Errorf("%s: coordinator %s: %w", cmd, target, rerr)
}

// connect makes c.conn a connection to target, reusing the cached one.
func (c *Client) connect(ctx context.Context, target string) error {
	if c.conn != nil && c.addr == target {
		return nil
	}
	c.Close()
	dctx, cancel := ctx, context.CancelFunc(func() {})
	if c.DialTimeout > 0 {
		dctx, cancel = context.WithTimeout(ctx, c.DialTimeout)
	}
	defer cancel()
	conn, err := resp.Dial(dctx, target, c.secret)
	if err != nil {
		if code := resp.ErrorCode(err); code == ErrCodeNoAuth || code == ErrCodeWrongPass {
			return fmt.Errorf("coordinator %s: %w: %w", target, ErrAuth, err)
		}
		return fmt.Errorf("coordinator %s: %w", target, err)
	}
	c.conn, c.addr = conn, target
	return nil
}

// rotate drops the connection and picks the next configured coordinator.
func (c *Client) rotate() string {
	c.Close()
	a := c.addrs[c.next%len(c.addrs)]
	c.next++
	return a
}

// pause sleeps c.Pause unless ctx ends first.
func (c *Client) pause(ctx context.Context) {
	if c.Pause <= 0 {
		return
	}
	t := time.NewTimer(c.Pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
