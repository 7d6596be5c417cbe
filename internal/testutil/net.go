package testutil

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/proc"
)

// FreeAddr returns a loopback address nothing listens on (a Raft address,
// or a backend that refuses connections).
func FreeAddr(t testing.TB) string {
	t.Helper()
	addrs, err := proc.FreeAddrs(1)
	if err != nil {
		t.Fatal(err)
	}
	return addrs[0]
}

// Server is what ServeLoopback runs: a node, a proxy or a coordinator.
type Server interface {
	Serve(net.Listener) error
	Close() error
}

// ServeLoopback serves srv on a free loopback port until the test or
// benchmark ends; then it closes srv (checking the error when checkClose:
// tests that close srv themselves pass false) and waits for Serve to
// return. It returns the address.
func ServeLoopback(tb testing.TB, srv Server, checkClose bool) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return ServeOn(tb, srv, ln, checkClose)
}

// ServeOn is ServeLoopback on a listener the caller opened (an address
// fixed before the server exists, as a coordinator's peers need).
func ServeOn(tb testing.TB, srv Server, ln net.Listener, checkClose bool) string {
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(ln)
	}()
	tb.Cleanup(func() {
		if err := srv.Close(); err != nil && checkClose {
			tb.Errorf("close the server on %s: %v", ln.Addr(), err)
		}
		<-served
	})
	return ln.Addr().String()
}

// RawExchange sends req on a new connection to addr and returns all it
// reads until the server closes the connection (closed true) or goes quiet
// for 5 s (closed false). A failed write is not an error: a server may
// close before it read everything (a request over the limits), and the
// reply is what counts.
func RawExchange(t testing.TB, addr, req string) (reply string, closed bool) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	nc.Write([]byte(req))
	got, err := io.ReadAll(nc)
	var ne net.Error
	timedOut := errors.As(err, &ne) && ne.Timeout()
	return string(got), !timedOut
}
