package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/batonkv/baton/internal/benchkit"
	"github.com/batonkv/baton/internal/redisinfo"
)

// hungClients are connections straight to a primary that each sent a
// pipeline of 16 GETs of a 512 KB value and never read: the node is stuck
// writing their replies, as behind a hung application. A takeover must
// not wait for them past its grace.
type hungClients struct {
	conns []net.Conn
}

// hangClients opens n hung connections to addr and returns once the node
// has built their replies (CLIENT LIST shows n connections with omem ≥ 1 MB), so
// the takeover, not the node's copying, is measured.
func hangClients(ctx context.Context, addr string, n int, wait time.Duration) (*hungClients, error) {
	setup := benchkit.NewClient(addr, "")
	defer setup.Close()
	if err := setup.Set(ctx, "hang:big", strings.Repeat("x", 512<<10), 0).Err(); err != nil {
		return nil, fmt.Errorf("SET hang:big on %s: %w", addr, err)
	}
	var pipeline []byte
	for range 16 {
		pipeline = append(pipeline, "*2\r\n$3\r\nGET\r\n$8\r\nhang:big\r\n"...)
	}
	// A small receive buffer, set before connect so the window the node
	// sees is small from the handshake on.
	d := net.Dialer{Timeout: time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); err != nil {
			return err
		}
		return serr
	}}
	h := &hungClients{}
	for range n {
		nc, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			h.close()
			return nil, fmt.Errorf("hung client: %w", err)
		}
		h.conns = append(h.conns, nc)
		if _, err := nc.Write(pipeline); err != nil {
			h.close()
			return nil, fmt.Errorf("hung client write: %w", err)
		}
	}
	err := benchkit.Poll(ctx, fmt.Sprintf("%d hung clients on %s", n, addr), wait, func(ctx context.Context) error {
		list, err := setup.ClientList(ctx).Result()
		if err != nil {
			return err
		}
		// omem counts replies from the first one built: wait for all 16.
		if got := redisinfo.CountPendingOutput(list, 16*(512<<10)); got < n {
			return fmt.Errorf("%w: %d of %d connections with their replies built (omem ≥ 8 MB)", benchkit.ErrNotYet, got, n)
		}
		return nil
	})
	if err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

// close closes this side of every hung connection (the node may have
// force-closed its side already). A nil h has none.
func (h *hungClients) close() {
	if h == nil {
		return
	}
	for _, c := range h.conns {
		c.Close()
	}
	h.conns = nil
}
