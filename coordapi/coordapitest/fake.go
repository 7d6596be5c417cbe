// Package coordapitest holds test helpers for clients of the coordinators'
// API: a fake coordinator that answers each command with canned RESP, for
// tests of leader following, redirects and at-most-once sends without a
// Raft group.
package coordapitest

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/batonkv/baton/internal/resp"
)

// Fake is a coordinator on loopback that answers every command with
// reply(args) (raw RESP; "" closes the connection without answering) and
// counts the commands it received. It stops, with every goroutine it
// started, when the test ends.
type Fake struct {
	// Addr is where it listens.
	Addr  string
	count atomic.Int64
	reply func(args []string) string

	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// NewFake starts a fake coordinator answering with reply.
func NewFake(t testing.TB, reply func(args []string) string) *Fake {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &Fake{Addr: ln.Addr().String(), reply: reply, ln: ln, conns: map[net.Conn]struct{}{}}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(f.close)
	return f
}

// Count is how many commands the fake has received.
func (f *Fake) Count() int64 { return f.count.Load() }

// accept serves each connection on a goroutine of its own until close.
func (f *Fake) accept() {
	defer f.wg.Done()
	for {
		nc, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns[nc] = struct{}{}
		f.wg.Add(1)
		f.mu.Unlock()
		go f.serve(nc)
	}
}

// serve answers one connection's commands in order.
func (f *Fake) serve(nc net.Conn) {
	defer f.wg.Done()
	defer func() {
		f.mu.Lock()
		delete(f.conns, nc)
		f.mu.Unlock()
		nc.Close()
	}()
	r := resp.NewReader(nc)
	for {
		v, err := r.ReadValue()
		if err != nil {
			return
		}
		args := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			args[i] = e.Str
		}
		f.count.Add(1)
		out := f.reply(args)
		if out == "" {
			return
		}
		if _, err := nc.Write([]byte(out)); err != nil {
			return
		}
	}
}

// close stops accepting, closes open connections and waits for the
// goroutines.
func (f *Fake) close() {
	f.ln.Close()
	f.mu.Lock()
	for nc := range f.conns {
		nc.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}
