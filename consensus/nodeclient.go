package consensus

import (
	"context"
	"sync"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/resp"
)

// maxIdleNodeConns bounds the idle connections a nodeClient keeps: the
// leader loop's probe and a takeover's may overlap, more never do.
const maxIdleNodeConns = 2

// nodeClient sends commands to one datastore node over internal/resp. Each
// call takes an idle connection or makes exactly one dial attempt (a dead
// node must cost one timeout, not a series of retries), sends one command
// and reads its reply, bounded by its context and by the client's timeouts.
// It is safe for concurrent use.
type nodeClient struct {
	addr       string
	user, pass string // see Service.nodeCreds
	// fallback is the default user's password, for a node that has no
	// internal identity (no cluster secret: a node registered by hand).
	fallback string
	// dialTimeout bounds connecting and authenticating; ioTimeout, when
	// positive, bounds the command's write and read (the context alone
	// otherwise).
	dialTimeout, ioTimeout time.Duration

	mu   sync.Mutex
	idle []*resp.Conn
}

// do sends one command and returns its reply; an error reply is returned
// as an error (a *resp.Error), after which the connection is kept.
func (n *nodeClient) do(ctx context.Context, args ...string) (resp.Value, error) {
	c, err := n.get(ctx)
	if err != nil {
		return resp.Value{}, err
	}
	ioCtx := ctx
	if n.ioTimeout > 0 {
		var cancel context.CancelFunc
		ioCtx, cancel = context.WithTimeout(ctx, n.ioTimeout)
		defer cancel()
	}
	v, err := c.Do(ioCtx, args...)
	if err != nil {
		c.Close()
		return resp.Value{}, err
	}
	n.put(c)
	return v, v.Err()
}

// get returns an idle connection or dials one.
func (n *nodeClient) get(ctx context.Context) (*resp.Conn, error) {
	n.mu.Lock()
	if k := len(n.idle); k > 0 {
		c := n.idle[k-1]
		n.idle = n.idle[:k-1]
		n.mu.Unlock()
		return c, nil
	}
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, n.dialTimeout)
	defer cancel()
	n.mu.Lock()
	user, pass := n.user, n.pass
	n.mu.Unlock()
	c, err := resp.DialAs(ctx, n.addr, user, pass)
	if err != nil && user != "" && coordapi.HasCode(err, coordapi.ErrCodeWrongPass) {
		// A node without a cluster secret knows no internal identity:
		// it runs control commands for its default user.
		n.mu.Lock()
		n.user, n.pass = "", n.fallback
		n.mu.Unlock()
		return resp.DialAs(ctx, n.addr, "", n.fallback)
	}
	return c, err
}

// put keeps c for the next call, or closes it when enough are idle.
func (n *nodeClient) put(c *resp.Conn) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.idle) >= maxIdleNodeConns {
		c.Close()
		return
	}
	n.idle = append(n.idle, c)
}

// close closes the idle connections; a later call dials again.
func (n *nodeClient) close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, c := range n.idle {
		c.Close()
	}
	n.idle = nil
}

// nodeClient returns a client for one-off calls to a datastore node (the
// takeover's): one dial attempt within a second, then only the call's
// context bounds it.
func (c *Service) nodeClient(addr string) *nodeClient {
	user, pass := c.nodeCreds()
	return &nodeClient{addr: addr, user: user, pass: pass, fallback: c.cfg.NodeAuth, dialTimeout: time.Second}
}

// nodeCreds is how a coordinator authenticates to a node: as the
// appliance's internal identity (coordapi.InternalUser, the cluster
// secret), which alone runs a node's control commands (BATON.EPOCH,
// BATON.FREEZE, REPLICAOF...); with no cluster secret, as the default user
// with NodeAuth (the nodes' --requirepass, if any).
func (c *Service) nodeCreds() (user, pass string) {
	if c.cfg.Secret != "" {
		return coordapi.InternalUser, c.cfg.Secret
	}
	return "", c.cfg.NodeAuth
}

// nodeCall sends one command to a node on a one-off client.
func (c *Service) nodeCall(ctx context.Context, addr string, args ...string) (resp.Value, error) {
	cl := c.nodeClient(addr)
	defer cl.close()
	return cl.do(ctx, args...)
}
