package proxy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/batonkv/baton/internal/lifecycle"
	"github.com/batonkv/baton/internal/resp"
)

// Errors of the backend side.
var (
	// errBackendLost means a backend connection broke (or was closed)
	// before every reply it owed had arrived.
	errBackendLost = errors.New("proxy: backend connection lost")
	// errBadReply means a backend's reply stream is out of step or not
	// RESP (resp.ErrProtocol counts as it too).
	errBadReply = errors.New("proxy: invalid RESP from backend")
)

// maxReplyBytes bounds one backend reply held in memory (Redis' default
// proto-max-bulk-len plus framing).
const maxReplyBytes = 512<<20 + 1024

// dialTimeout bounds connecting (and authenticating) to a node or a
// coordinator.
const dialTimeout = time.Second

// dialBackend connects to a node within dialTimeout and, with a password,
// authenticates. Its reader takes replies of any shape up to
// maxReplyBytes: they are forwarded, not decoded.
func dialBackend(ctx context.Context, addr, password string) (*resp.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	c, err := resp.Dial(ctx, addr, password)
	if err != nil {
		return nil, err
	}
	c.MaxArray, c.MaxRaw = maxReplyBytes, maxReplyBytes
	return c, nil
}

// pool is a fixed number of shared connections to one node address, dialed
// lazily and replaced when they break. Many clients' batches are
// multiplexed onto them round-robin.
type pool struct {
	addr     string
	password string
	// life owns the connections' read and flush loops.
	life *lifecycle.Lifecycle

	mu     sync.Mutex
	conns  []*backendConn
	next   int
	closed bool
}

// get returns a healthy connection, dialing one if the chosen slot is empty
// or broken.
func (pl *pool) get(ctx context.Context) (*backendConn, error) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.closed {
		return nil, fmt.Errorf("%w: proxy closed", errBackendLost)
	}
	// A connection with a write about to start takes the batch along:
	// one write then carries more clients' batches.
	for _, bc := range pl.conns {
		if bc != nil && bc.flushing.Load() && !bc.isBroken() {
			return bc, nil
		}
	}
	i := pl.next % len(pl.conns)
	pl.next++
	if bc := pl.conns[i]; bc != nil && !bc.isBroken() {
		return bc, nil
	}
	// Dialing under the lock serializes dials to this node, which is what
	// we want while it is down: one attempt at a time, not one per client.
	c, err := dialBackend(ctx, pl.addr, pl.password)
	if err != nil {
		return nil, err
	}
	bc := newBackendConn(c)
	pl.conns[i] = bc
	// Past Close they do not start; close (run by Close) still fails the
	// connection and its batches.
	pl.life.Go(func(context.Context) { bc.readLoop() })
	pl.life.Go(func(context.Context) { bc.flushLoop() })
	return bc, nil
}

// breakConns fails every connection (and the batches waiting on them);
// the next get dials afresh.
func (pl *pool) breakConns() {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	for _, bc := range pl.conns {
		if bc != nil {
			bc.close()
		}
	}
}

// close closes every connection; get fails afterwards.
func (pl *pool) close() {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.closed = true
	for _, bc := range pl.conns {
		if bc != nil {
			bc.close()
		}
	}
}
