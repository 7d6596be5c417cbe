package node

import (
	"context"

	"github.com/batonkv/baton/coordapi"
)

// coordClient adapts coordapi.Client to the reply shape of the node's
// FAILOVER command (cmd_failover.go), which sends BATON.TAKEOVER: Do sends
// it at most once.
type coordClient struct{ *coordapi.Client }

// newCoordClient returns a client for the coordinators at addrs.
func newCoordClient(addrs []string, secret string) *coordClient {
	return &coordClient{coordapi.NewClient(addrs, secret)}
}

// close drops the cached connection.
func (c *coordClient) close() { c.Close() }

// do sends one leader-only command, never twice, and returns its reply.
func (c *coordClient) do(ctx context.Context, args ...string) (reply, error) {
	v, err := c.Do(ctx, args...)
	return reply{kind: byte(v.Kind), str: v.Str}, err
}
