// Package nodetest starts in-process Baton nodes for the tests of other
// packages (the proxy's, the coordinators'), so they do not each clone
// the start-serve-close dance. It uses only node's public API.
package nodetest

import (
	"testing"

	"github.com/batonkv/baton/internal/testutil"
	"github.com/batonkv/baton/node"
)

// Start starts a node with cfg on a free loopback port, its logs to t.Log
// (unless cfg.Logger is set); it is closed, and its Serve awaited, when
// the test ends. A node without cfg.Dir keeps its data in memory. Tests
// may close the node themselves: the second Close is not checked.
func Start(t testing.TB, cfg node.Config) (*node.Server, string) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Logger == nil {
		cfg.Logger = testutil.Logger(t)
	}
	srv, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, testutil.ServeLoopback(t, srv, false)
}

// StartAddr is Start for tests that need only the address.
func StartAddr(t testing.TB, cfg node.Config) string {
	t.Helper()
	_, addr := Start(t, cfg)
	return addr
}
