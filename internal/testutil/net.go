package testutil

import (
	"errors"
	"fmt"
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

// HungClient opens a connection to addr that sends one pipeline of gets
// GETs of key and never reads a reply, as a hung application does (a
// small receive buffer, so the replies back up at the server at once). It
// is closed when the test ends.
func HungClient(t testing.TB, addr, key string, gets int) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.(*net.TCPConn).SetReadBuffer(4096)
	var pipeline []byte
	for range gets {
		pipeline = fmt.Appendf(pipeline, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(key), key)
	}
	if _, err := nc.Write(pipeline); err != nil {
		t.Fatalf("hung client's pipeline: %v", err)
	}
	return nc
}
