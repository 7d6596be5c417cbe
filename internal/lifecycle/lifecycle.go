// Package lifecycle is the one server lifecycle shared by the node, the
// proxy and the coordinator: a context that ends at Close, goroutines owned
// by the server and waited for, one listener, tracked connections, and a
// Close that undoes start-up in reverse order.
//
// Close runs, once, in this order:
//  1. the context is cancelled and Closing reports true, so loops end and
//     no new goroutine or connection is admitted;
//  2. the listener and the RESP server stop accepting;
//  3. every tracked connection is closed (detached ones too, which redcon's
//     Close does not reach);
//  4. the stop hooks run, last registered first: they wake or end what the
//     owned goroutines wait on (replication links, parked clients, pools);
//  5. every owned goroutine is waited for;
//  6. the close hooks run, last registered first: they release what the
//     goroutines used (journal, Raft, the metrics HTTP server), so a
//     resource opened before another is closed after it.
package lifecycle

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
)

// ErrClosed is returned by Serve after Close has begun.
var ErrClosed = errors.New("server closed")

// Stopper is what stops accepting: a RESP server (redcon's *Server).
type Stopper interface{ Close() error }

// Lifecycle tracks one server's goroutines, listener and connections. The
// zero value is not usable: create it with New.
type Lifecycle struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu sync.Mutex
	// closed is set, under mu, when Close begins; it is read without mu
	// on hot paths (Closing).
	closed  atomic.Bool
	ln      net.Listener
	srv     Stopper
	conns   map[net.Conn]struct{}
	onStop  []func()
	onClose []func() error
	done    chan struct{}
	err     error
}

// New returns a lifecycle whose context ends at Close.
func New() *Lifecycle {
	ctx, cancel := context.WithCancel(context.Background())
	return &Lifecycle{ctx: ctx, cancel: cancel, conns: make(map[net.Conn]struct{}), done: make(chan struct{})}
}

// Context ends when Close begins.
func (l *Lifecycle) Context() context.Context { return l.ctx }

// Closing reports whether Close has begun.
func (l *Lifecycle) Closing() bool {
	return l.closed.Load()
}

// Go runs fn on a goroutine the server owns: fn must return once ctx is
// done, and Close waits for it. After Close has begun fn does not run.
func (l *Lifecycle) Go(fn func(ctx context.Context)) {
	if !l.Own() {
		return
	}
	go func() {
		defer l.wg.Done()
		fn(l.ctx)
	}()
}

// Own registers one more owned goroutine unless Close has begun; the
// caller's goroutine must call Done when it ends.
func (l *Lifecycle) Own() bool { return l.OwnN(1) }

// OwnN registers n owned goroutines at once, or none once Close has begun
// (goroutines that only work together: a reader and its writer).
func (l *Lifecycle) OwnN(n int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return false
	}
	l.wg.Add(n)
	return true
}

// Done ends a goroutine registered with Own or OwnN.
func (l *Lifecycle) Done() { l.wg.Done() }

// OnStop registers fn to run at Close before the owned goroutines are
// waited for (step 4 of the package comment). Registered once Close has
// begun (a resource opened while the server stops), fn runs at once.
func (l *Lifecycle) OnStop(fn func()) {
	l.hook(func() { l.onStop = append(l.onStop, fn) }, fn)
}

// OnClose registers fn to run at Close after every owned goroutine ended
// (step 6); the first error is Close's result. Registered once Close has
// begun, fn runs at once and its error is dropped.
func (l *Lifecycle) OnClose(fn func() error) {
	l.hook(func() { l.onClose = append(l.onClose, fn) }, func() { fn() })
}

// hook runs add under the lock while Close has not begun, else runNow
// outside it.
func (l *Lifecycle) hook(add, runNow func()) {
	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		runNow()
		return
	}
	defer l.mu.Unlock()
	add()
}

// Serve records ln and srv and runs serve(ln), which returns when srv
// stops. After Close it closes ln and returns ErrClosed at once.
func (l *Lifecycle) Serve(ln net.Listener, srv Stopper, serve func(net.Listener) error) error {
	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		ln.Close()
		return ErrClosed
	}
	l.ln, l.srv = ln, srv
	l.mu.Unlock()
	return serve(ln)
}

// Addr is the listener's address once Serve has started, or nil.
func (l *Lifecycle) Addr() net.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln == nil {
		return nil
	}
	return l.ln.Addr()
}

// Track adds a connection that Close must close; it reports false (and
// closes nc) once Close has begun.
func (l *Lifecycle) Track(nc net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		nc.Close()
		return false
	}
	l.conns[nc] = struct{}{}
	return true
}

// Untrack forgets a connection that closed by itself.
func (l *Lifecycle) Untrack(nc net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.conns, nc)
}

// Close stops the server in the order of the package comment. Later calls
// wait for the first to finish and return its result.
func (l *Lifecycle) Close() error {
	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		<-l.done
		return l.err
	}
	l.closed.Store(true)
	ln, srv, conns, onStop, onClose := l.ln, l.srv, l.conns, l.onStop, l.onClose
	l.conns = nil
	l.mu.Unlock()
	defer close(l.done)

	l.cancel()
	if ln != nil {
		srv.Close()
		// srv.Close may run before the server has taken the listener (it
		// then only answers "not serving"): closing the listener too makes
		// Serve return in every case.
		ln.Close()
	}
	for nc := range conns {
		nc.Close()
	}
	for i := len(onStop) - 1; i >= 0; i-- {
		onStop[i]()
	}
	l.wg.Wait()
	for i := len(onClose) - 1; i >= 0; i-- {
		if err := onClose[i](); err != nil && l.err == nil {
			l.err = err
		}
	}
	return l.err
}
