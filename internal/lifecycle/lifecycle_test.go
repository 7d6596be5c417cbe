package lifecycle

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// closeServer is a Stopper that closes the listener its serve loop reads.
type closeServer struct {
	mu  sync.Mutex
	ln  net.Listener
	log *[]string
}

func (s *closeServer) Close() error {
	*s.log = append(*s.log, "stop accepting")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return s.ln.Close()
	}
	return nil
}

func (s *closeServer) serve(ln net.Listener) error {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			return nil
		}
		c.Close()
	}
}

// Test_Lifecycle_CloseOrder: cancel, stop accepting, close connections,
// stop hooks (reverse), wait goroutines, close hooks (reverse).
func Test_Lifecycle_CloseOrder(t *testing.T) {
	var log []string
	var logMu sync.Mutex
	add := func(s string) {
		logMu.Lock()
		defer logMu.Unlock()
		log = append(log, s)
	}
	l := New()
	srv := &closeServer{log: &log}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- l.Serve(ln, srv, srv.serve) }()
	a, b := net.Pipe()
	defer b.Close()
	if !l.Track(a) {
		t.Fatal("Track refused before Close")
	}
	release := make(chan struct{})
	l.Go(func(ctx context.Context) {
		<-ctx.Done()
		<-release // ended by a stop hook
		add("goroutine ended")
	})
	l.OnClose(func() error { add("close journal"); return errors.New("journal: boom") })
	l.OnClose(func() error { add("close web"); return nil })
	l.OnStop(func() { add("stop 1"); close(release) })
	l.OnStop(func() { add("stop 2") })
	for l.Addr() == nil {
		time.Sleep(time.Millisecond)
	}
	if err := l.Close(); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Close = %v, want the close hook's error", err)
	}
	want := "stop accepting,stop 2,stop 1,goroutine ended,close web,close journal"
	if got := strings.Join(log, ","); got != want {
		t.Fatalf("order %s\nwant  %s", got, want)
	}
	if _, err := a.Write([]byte("x")); err == nil {
		t.Fatal("tracked connection still open after Close")
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v", err)
	}
	if err := l.Close(); err == nil {
		t.Fatal("second Close lost the first's result")
	}
}

// Test_Lifecycle_NothingStartsAfterClose: Serve, Go, Own and Track refuse
// once Close has begun.
func Test_Lifecycle_NothingStartsAfterClose(t *testing.T) {
	l := New()
	if l.Closing() {
		t.Fatal("closing before Close")
	}
	l.Close()
	if !l.Closing() || l.Context().Err() == nil {
		t.Fatal("Close did not cancel the context")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Serve(ln, nil, func(net.Listener) error { t.Fatal("served after Close"); return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Serve after Close = %v", err)
	}
	if _, err := ln.Accept(); err == nil {
		t.Fatal("listener left open")
	}
	ran := false
	l.Go(func(context.Context) { ran = true })
	if l.Own() || l.OwnN(2) || ran {
		t.Fatal("goroutine admitted after Close")
	}
	a, b := net.Pipe()
	defer b.Close()
	if l.Track(a) {
		t.Fatal("connection admitted after Close")
	}
	if _, err := a.Write([]byte("x")); err == nil {
		t.Fatal("refused connection left open")
	}
}

// Test_Lifecycle_HooksAfterClose: a hook registered once Close has begun (a
// resource opened while the server stops) runs at once, never racing with
// Close.
func Test_Lifecycle_HooksAfterClose(t *testing.T) {
	l := New()
	started := make(chan struct{})
	l.OnStop(func() { close(started) })
	go l.Close()
	<-started
	var stopped, closed bool
	l.OnStop(func() { stopped = true })
	l.OnClose(func() error { closed = true; return nil })
	if !stopped || !closed {
		t.Fatalf("hooks registered during Close: stop ran %v, close ran %v", stopped, closed)
	}
	l.Close()
}

// Test_Lifecycle_ConcurrentClose: every caller returns after the one Close
// has finished.
func Test_Lifecycle_ConcurrentClose(t *testing.T) {
	l := New()
	slow := make(chan struct{})
	finished := false
	l.OnClose(func() error { <-slow; finished = true; return nil })
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.Close()
			if !finished {
				t.Error("a Close returned before the close hooks finished")
			}
		}()
	}
	time.Sleep(10 * time.Millisecond)
	close(slow)
	wg.Wait()
}

// Test_Lifecycle_OwnNWaitsForAll: Close waits for every goroutine OwnN
// registered.
func Test_Lifecycle_OwnNWaitsForAll(t *testing.T) {
	l := New()
	if !l.OwnN(2) {
		t.Fatal("OwnN refused before Close")
	}
	var ended sync.WaitGroup
	ended.Add(2)
	var mu sync.Mutex
	done := 0
	for i := 0; i < 2; i++ {
		go func() {
			defer l.Done()
			<-l.Context().Done()
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			done++
			mu.Unlock()
			ended.Done()
		}()
	}
	l.Close()
	mu.Lock()
	defer mu.Unlock()
	if done != 2 {
		t.Fatalf("Close returned with %d of 2 goroutines ended", done)
	}
	ended.Wait()
}
