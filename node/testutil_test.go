package node

import (
	"context"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonkv/baton/node/keyspace"
	"github.com/redis/go-redis/v9"
)

// testNode is an in-process node listening on loopback.
type testNode struct {
	*Server
	addr string
}

// mustNewNode starts a node on 127.0.0.1:0 with cfg (DataDir defaults to a
// temp dir) and stops it when the test ends.
func mustNewNode(t testing.TB, cfg Config) *testNode {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("new node: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close node: %v", err)
		}
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("node Serve did not return after Close")
		}
	})
	return &testNode{Server: s, addr: ln.Addr().String()}
}

// mustClient returns a go-redis client for n with retries disabled, closed
// when the test ends.
func mustClient(t testing.TB, n *testNode) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: n.addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// newTestClient is mustNewNode with defaults plus one client.
func newTestClient(t testing.TB) (*testNode, *redis.Client, context.Context) {
	t.Helper()
	n := mustNewNode(t, Config{})
	return n, mustClient(t, n), context.Background()
}

// testLogger sends a node's warnings and errors to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// doReply runs a raw command and returns its reply, nil for a null reply,
// or "ERR:<text>" for an error reply, so tables compare exactly what the
// node sent.
func doReply(t testing.TB, c *redis.Client, args ...any) any {
	t.Helper()
	v, err := c.Do(context.Background(), args...).Result()
	if err == redis.Nil {
		return nil
	}
	if err != nil {
		return "ERR:" + err.Error()
	}
	return v
}

// replyCase is one command and its expected reply (as doReply returns it).
type replyCase struct {
	args []any
	want any
}

// rc builds a replyCase.
func rc(want any, args ...any) replyCase { return replyCase{args: args, want: want} }

// expectReplies runs cases in order on c and checks each reply.
func expectReplies(t testing.TB, c *redis.Client, cases []replyCase) {
	t.Helper()
	for _, tc := range cases {
		if got := doReply(t, c, tc.args...); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v = %#v, want %#v", tc.args, got, tc.want)
		}
	}
}

// strs builds the []any of strings go-redis returns for an array of bulks.
func strs(s ...string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// journalLog records every journal entry a server appends.
type journalLog struct {
	mu      sync.Mutex
	entries [][][]byte
}

// tapJournal starts recording s's journal entries.
func tapJournal(s *Server) *journalLog {
	l := &journalLog{}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.journalTap = func(args [][]byte) {
		cp := make([][]byte, len(args))
		for i, a := range args {
			cp[i] = append([]byte(nil), a...)
		}
		l.mu.Lock()
		l.entries = append(l.entries, cp)
		l.mu.Unlock()
	}
	return l
}

// lines returns the entries recorded so far, each as its words joined by
// spaces.
func (l *journalLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, len(l.entries))
	for i, e := range l.entries {
		words := make([]string, len(e))
		for j, w := range e {
			words[j] = string(w)
		}
		out[i] = strings.Join(words, " ")
	}
	return out
}

// checkReplay replays the recorded entries on an empty memory-only node, as
// recovery does (transactions all or nothing), and fails t unless the
// result has the same DIGEST as live.
func (l *journalLog) checkReplay(t testing.TB, live *Server) {
	t.Helper()
	r, err := New(Config{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	l.mu.Lock()
	entries := l.entries
	l.mu.Unlock()
	var txn txnReplay
	r.mu.Lock()
	for _, e := range entries {
		if err := txn.apply(e, r.applyEntry); err != nil {
			t.Errorf("replay %q: %v", e, err)
		}
	}
	r.mu.Unlock()
	now := time.Now().UnixMilli()
	live.mu.Lock()
	want := keyspace.Digest(live.db, now)
	live.mu.Unlock()
	r.mu.Lock()
	got := keyspace.Digest(r.db, now)
	r.mu.Unlock()
	if got != want {
		t.Errorf("replaying the journal gives another dataset: digest %s, want %s\njournal: %q", got, want, l.lines())
	}
}

// expectPrefixes checks the recorded entries one by one against want, each
// a prefix of its entry (so absolute times can be left out).
func (l *journalLog) expectPrefixes(t testing.TB, want []string) {
	t.Helper()
	entries := l.lines()
	if len(entries) != len(want) {
		t.Fatalf("journal = %q, want %d entries", entries, len(want))
	}
	for i, got := range entries {
		if !strings.HasPrefix(got, want[i]) {
			t.Errorf("entry %d = %q, want prefix %q", i, got, want[i])
		}
	}
}
