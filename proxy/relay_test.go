package proxy

import (
	"io"
	"net"
	"sync"
	"testing"
)

// relay is a TCP forwarder in front of one address, so a test can cut
// every connection that goes through it (a network cut between the proxy
// and a coordinator) while new connections still get through.
type relay struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	accepted int
	closed   bool
}

// newRelay starts a relay to target; the test's cleanup stops it.
func newRelay(t *testing.T, target string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go r.serve()
	t.Cleanup(r.close)
	return r
}

// addr is where clients connect.
func (r *relay) addr() string { return r.ln.Addr().String() }

// serve accepts until close, piping each connection to a new one to target.
func (r *relay) serve() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", r.target)
		if err != nil {
			c.Close()
			continue
		}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			c.Close()
			u.Close()
			continue
		}
		r.conns[c], r.conns[u] = struct{}{}, struct{}{}
		r.accepted++
		r.wg.Add(2)
		r.mu.Unlock()
		go r.pipe(c, u)
		go r.pipe(u, c)
	}
}

// pipe copies src to dst until either ends, then closes both.
func (r *relay) pipe(dst, src net.Conn) {
	defer r.wg.Done()
	io.Copy(dst, src)
	dst.Close()
	src.Close()
	r.mu.Lock()
	delete(r.conns, dst)
	delete(r.conns, src)
	r.mu.Unlock()
}

// cut closes every connection through the relay now.
func (r *relay) cut() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		c.Close()
	}
}

// connections is how many connections the relay has accepted in all.
func (r *relay) connections() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.accepted
}

// close stops accepting, cuts everything and waits for the pipes.
func (r *relay) close() {
	r.ln.Close()
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cut()
	r.wg.Wait()
}
