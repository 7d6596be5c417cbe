package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The coordinators' RESP API as a node uses it (the coordinator side lives in
// consensus/; node does not import it, so the few shapes it needs are
// declared here):
//
//	AUTH <secret>                       with a cluster secret, first
//	BATON.REGISTER <node-id> <addr> [<repl-addr>]  leader only → bulk topology JSON
//	BATON.TOPOLOGY                      leader only → bulk topology JSON
//	BATON.LEASE <node-id> <epoch>       leader only → :lease-ms | -NOTPRIMARY …
//	BATON.WATCH                         any member → pushes *2 "topology" JSON
//
// A follower answers leader-only commands with -REDIRECT <api-addr> or
// -NOLEADER.

// Errors the coordination code branches on.
var (
	// errNotPrimary is the coordinator's NOTPRIMARY: the node asked for a
	// lease of an epoch in which it is not (or no longer) the primary.
	errNotPrimary = errors.New("coordinator: not the primary of that epoch")
	// errNoLeader means no coordinator answered as leader (NOLEADER
	// everywhere, or none reachable).
	errNoLeader = errors.New("coordinator: no leader reachable")
	// errCoordAuth means a coordinator refused the cluster secret.
	errCoordAuth = errors.New("coordinator: authentication failed")
)

// coordMaxHops bounds how many coordinators (redirects included) one
// leader-only request tries before it gives up.
const coordMaxHops = 6

// coordTopology is the part of a coordinator's topology record a node acts
// on.
type coordTopology struct {
	// Epoch is the shard's primary epoch; it only grows.
	Epoch uint64 `json:"epoch"`
	// Primary is the node id of the primary of Epoch ("" when none).
	Primary string `json:"primary"`
	// Members are the registered nodes and the addresses they advertised.
	Members []coordMember `json:"members"`
	// Version counts the record's changes; State and Takeover tell
	// whether a takeover is under way (see thawIfOver).
	Version  uint64 `json:"version"`
	State    string `json:"state"`
	Takeover *struct {
		ID uint64 `json:"id"`
	} `json:"takeover"`
}

// coordMember is one registered node.
type coordMember struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
	// ReplAddr is where replicas dial it, when it differs from Addr.
	ReplAddr string `json:"repl_addr"`
}

// replAddrOf is the address to replicate from node id ("" when not a
// member).
func (t *coordTopology) replAddrOf(id string) string {
	for _, m := range t.Members {
		if m.ID == id && m.ReplAddr != "" {
			return m.ReplAddr
		}
	}
	return t.addrOf(id)
}

// addrOf is the advertised address of node id ("" when not a member).
func (t *coordTopology) addrOf(id string) string {
	for _, m := range t.Members {
		if m.ID == id {
			return m.Addr
		}
	}
	return ""
}

// parseTopology decodes a topology JSON document.
func parseTopology(s string) (coordTopology, error) {
	var t coordTopology
	if err := json.Unmarshal([]byte(s), &t); err != nil {
		return t, fmt.Errorf("decode topology: %w", err)
	}
	return t, nil
}

// dialCoord connects to a coordinator and, with a secret, authenticates.
// ctx bounds the whole exchange.
func dialCoord(ctx context.Context, addr, secret string) (*replConn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial coordinator %s: %w", addr, err)
	}
	rc := newReplConn(nc)
	if secret == "" {
		return rc, nil
	}
	stop := bindDeadline(ctx, nc)
	defer stop()
	r, err := rc.command("AUTH", secret)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("auth with coordinator %s: %w", addr, err)
	}
	if r.kind != '+' {
		nc.Close()
		return nil, fmt.Errorf("%w: %s: %s", errCoordAuth, addr, r.str)
	}
	return rc, nil
}

// bindDeadline makes nc's I/O fail when ctx ends (its deadline, or its
// cancellation by Close); the returned func undoes the binding.
func bindDeadline(ctx context.Context, nc net.Conn) func() {
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Now()) })
	return func() {
		stop()
		nc.SetDeadline(time.Time{})
	}
}

// coordClient sends leader-only requests to the coordinator group over one
// cached connection, following REDIRECTs and rotating through the
// configured coordinators on NOLEADER or connection failures. It is not
// safe for concurrent use: each coordination goroutine has its own.
type coordClient struct {
	addrs  []string
	secret string
	// next is the index in addrs of the coordinator tried after a failure.
	next int
	// rc is the open connection (nil when none) and addr its coordinator.
	rc   *replConn
	addr string
}

// newCoordClient returns a client for the coordinators at addrs.
func newCoordClient(addrs []string, secret string) *coordClient {
	return &coordClient{addrs: addrs, secret: secret}
}

// close drops the cached connection.
func (c *coordClient) close() {
	if c.rc != nil {
		c.rc.nc.Close()
		c.rc, c.addr = nil, ""
	}
}

// rotate drops the connection and picks the next configured coordinator.
func (c *coordClient) rotate() string {
	c.close()
	a := c.addrs[c.next%len(c.addrs)]
	c.next++
	return a
}

// do sends one leader-only command and returns its reply. REDIRECT is
// followed when it names a configured coordinator address, NOLEADER and connection errors move on to another coordinator,
// at most coordMaxHops times; NOTPRIMARY is errNotPrimary; any other error
// reply is returned as an error. ctx bounds the whole request.
func (c *coordClient) do(ctx context.Context, args ...string) (reply, error) {
	target := c.addr
	if target == "" {
		target = c.rotate()
	}
	var last error = errNoLeader
	for hop := 0; hop < coordMaxHops; hop++ {
		if err := ctx.Err(); err != nil {
			return reply{}, fmt.Errorf("%s: %w (last: %v)", args[0], err, last)
		}
		if c.rc == nil || c.addr != target {
			c.close()
			rc, err := dialCoord(ctx, target, c.secret)
			if err != nil {
				last = err
				target = c.rotate()
				continue
			}
			c.rc, c.addr = rc, target
		}
		stop := bindDeadline(ctx, c.rc.nc)
		r, err := c.rc.command(args...)
		stop()
		if err != nil {
			last = fmt.Errorf("%s to coordinator %s: %w", args[0], target, err)
			target = c.rotate()
			continue
		}
		if r.kind != '-' {
			return r, nil
		}
		code, rest, _ := strings.Cut(r.str, " ")
		switch code {
		case "REDIRECT":
			// Only the configured addresses are used: the leader's own
			// address may not be reachable from here (a proxy, another
			// network), and a lease renewed around a cut link would keep
			// an isolated primary writing. An unknown leader address means
			// trying the configured ones in turn.
			last = fmt.Errorf("%s: redirected by %s to %s", args[0], target, rest)
			if to := strings.TrimSpace(rest); slices.Contains(c.addrs, to) {
				target = to
			} else {
				target = c.rotate()
			}
		case "NOLEADER":
			last = fmt.Errorf("%w (%s: %s)", errNoLeader, target, r.str)
			target = c.rotate()
		case "NOTPRIMARY":
			return r, fmt.Errorf("%w: %s", errNotPrimary, rest)
		case "NOAUTH", "WRONGPASS":
			c.close()
			return r, fmt.Errorf("%w: %s: %s", errCoordAuth, target, r.str)
		default:
			return r, fmt.Errorf("%s: coordinator %s: %s", args[0], target, r.str)
		}
	}
	return reply{}, fmt.Errorf("%s: gave up after %d attempts: %w", args[0], coordMaxHops, last)
}

// topologyCmd sends a command that replies with a topology (REGISTER,
// TOPOLOGY) and decodes it.
func (c *coordClient) topologyCmd(ctx context.Context, args ...string) (coordTopology, error) {
	r, err := c.do(ctx, args...)
	if err != nil {
		return coordTopology{}, err
	}
	if r.kind != '$' {
		return coordTopology{}, fmt.Errorf("%s: unexpected reply %q", args[0], string(r.kind)+r.str)
	}
	return parseTopology(r.str)
}

// lease asks for the write lease of epoch and returns its duration.
func (c *coordClient) lease(ctx context.Context, id string, epoch uint64) (time.Duration, error) {
	r, err := c.do(ctx, "BATON.LEASE", id, strconv.FormatUint(epoch, 10))
	if err != nil {
		return 0, err
	}
	ms, perr := strconv.ParseInt(r.str, 10, 64)
	if r.kind != ':' || perr != nil || ms <= 0 {
		return 0, fmt.Errorf("BATON.LEASE: unexpected reply %q", string(r.kind)+r.str)
	}
	return time.Duration(ms) * time.Millisecond, nil
}
