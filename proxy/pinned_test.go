package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/internal/testutil"
	"github.com/batonkv/baton/node"
	"github.com/batonkv/baton/node/nodetest"
	"github.com/redis/go-redis/v9"
)

// pinnedWait bounds every wait of these tests.
const pinnedWait = 10 * time.Second

// waitUntil polls cond until it holds, failing the test after pinnedWait.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(pinnedWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// blockedClients is INFO clients' blocked_clients of the node c talks to.
func blockedClients(t *testing.T, c *redis.Client) int {
	t.Helper()
	s, err := c.Info(context.Background(), "clients").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "blocked_clients:"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("blocked_clients %q", v)
			}
			return n
		}
	}
	t.Fatal("INFO clients has no blocked_clients")
	return 0
}

// switchPrimary demotes the node at a to a replica of b, then points the
// proxy at b: the order of a real failover (the old primary stops taking
// writes before the proxies follow the new one).
func switchPrimary(t *testing.T, p *Proxy, a, b string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(b)
	if err := newClient(t, a, "").Do(context.Background(), "replicaof", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	p.setBackend(b)
}

func Test_Pinned_BlockingPopWaitingAtTheSwitchIsServedByTheNewPrimary(t *testing.T) {
	ctx := context.Background()
	f := parkPopOnA(t)
	p, a, b, c, cb, got, errc := f.p, f.a, f.b, f.c, f.cb, f.got, f.errc
	switchPrimary(t, p, a, b)
	// Pushed after the switch, on the new primary only.
	waitUntil(t, "the BLPOP to wait on B", func() bool { return blockedClients(t, cb) == 1 })
	if err := cb.RPush(ctx, "jobs", "j1").Err(); err != nil {
		t.Fatal(err)
	}
	v, err := <-got, <-errc
	if err != nil || len(v) != 2 || v[0] != "jobs" || v[1] != "j1" {
		t.Fatalf("BLPOP = %v, %v; want [jobs j1]", v, err)
	}
	if n, err := cb.LLen(ctx, "jobs").Result(); err != nil || n != 0 {
		t.Fatalf("LLEN jobs on B = %d, %v; want 0 (popped once)", n, err)
	}
	// The client's connection is still usable.
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
}

func Test_Pinned_PopReplayWaitsOnlyTheRestOfItsTimeout(t *testing.T) {
	now := time.Now()
	e := newEntry([][]byte{[]byte("BLPOP"), []byte("k"), []byte("2")})
	e.start = now.Add(-1500 * time.Millisecond)
	if b, expired := e.encode(nil, now); expired || string(b) != string(resp.AppendCommand(nil, "BLPOP", "k", "2")) {
		t.Fatalf("first send = %q, %v; want the command unchanged", b, expired)
	}
	e.sends = 1
	if b, expired := e.encode(nil, now); expired || string(b) != string(resp.AppendCommand(nil, "BLPOP", "k", "0.500")) {
		t.Fatalf("replay = %q, %v; want the timeout 0.500", b, expired)
	}
	m := newEntry([][]byte{[]byte("BLMPOP"), []byte("1"), []byte("1"), []byte("k"), []byte("LEFT")})
	m.start, m.sends = now.Add(-2*time.Second), 1
	if _, expired := m.encode(nil, now); !expired {
		t.Fatal("BLMPOP with its 1 s timeout spent: want expired")
	}
	z := newEntry([][]byte{[]byte("BRPOP"), []byte("k"), []byte("0")})
	z.start, z.sends = now.Add(-time.Hour), 1
	if b, expired := z.encode(nil, now); expired || string(b) != string(resp.AppendCommand(nil, "BRPOP", "k", "0")) {
		t.Fatalf("replay of timeout 0 = %q, %v; want 0 (forever)", b, expired)
	}
}

func Test_Pinned_ConnectionStateIsRestoredOnTheNewPrimary(t *testing.T) {
	ctx := context.Background()
	a, b := nodetest.StartAddr(t, node.Config{}), nodetest.StartAddr(t, node.Config{})
	p, addr := mustNewProxy(t, Config{Backend: a, HoldTimeout: pinnedWait})
	conn := newClient(t, addr, "").Conn()
	defer conn.Close()
	if err := conn.ClientSetName(ctx, "worker-7").Err(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Select(ctx, 0).Err(); err != nil {
		t.Fatal(err)
	}
	switchPrimary(t, p, a, b)
	if name, err := conn.ClientGetName(ctx).Result(); err != nil || name != "worker-7" {
		t.Fatalf("CLIENT GETNAME after the switch = %q, %v", name, err)
	}
	list, err := newClient(t, b, "").ClientList(ctx).Result()
	if err != nil || !strings.Contains(list, "name=worker-7") {
		t.Fatalf("CLIENT LIST on B = %q, %v; want the client named worker-7 there", list, err)
	}
	// Writes go to B.
	if err := conn.Set(ctx, "after", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := newClient(t, b, "").Get(ctx, "after").Result(); err != nil || v != "1" {
		t.Fatalf("B after = %q, %v", v, err)
	}
}

func Test_Pinned_TransactionAcrossTheSwitchIsDiscarded(t *testing.T) {
	ctx := context.Background()
	a, b := nodetest.StartAddr(t, node.Config{}), nodetest.StartAddr(t, node.Config{})
	p, addr := mustNewProxy(t, Config{Backend: a, HoldTimeout: pinnedWait})
	conn := newClient(t, addr, "").Conn()
	defer conn.Close()
	if err := conn.Do(ctx, "multi").Err(); err != nil {
		t.Fatal(err)
	}
	if s, err := conn.Do(ctx, "set", "tx", "1").Text(); err != nil || s != "QUEUED" {
		t.Fatalf("SET in MULTI = %q, %v", s, err)
	}
	switchPrimary(t, p, a, b)
	// Queued after the switch: refused, and EXEC fails.
	if err := conn.Do(ctx, "incr", "tx2").Err(); err == nil || !strings.Contains(err.Error(), "primary changed") {
		t.Fatalf("INCR in MULTI after the switch: %v", err)
	}
	err := conn.Do(ctx, "exec").Err()
	if err == nil || !strings.HasPrefix(err.Error(), "EXECABORT") || !strings.Contains(err.Error(), "primary changed") {
		t.Fatalf("EXEC after the switch: %v; want EXECABORT ... primary changed", err)
	}
	for _, n := range []string{a, b} {
		for _, k := range []string{"tx", "tx2"} {
			if err := newClient(t, n, "").Get(ctx, k).Err(); !errors.Is(err, redis.Nil) {
				t.Fatalf("GET %s on %s: %v; want nil (nothing applied)", k, n, err)
			}
		}
	}
	// The connection is usable, and a new transaction runs on B.
	res, err := conn.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Set(ctx, "tx", "2", 0)
		pipe.Incr(ctx, "tx")
		return nil
	})
	if err != nil || res[1].(*redis.IntCmd).Val() != 3 {
		t.Fatalf("MULTI/EXEC after the abort: %v, %v", res, err)
	}
	if v, err := newClient(t, b, "").Get(ctx, "tx").Result(); err != nil || v != "3" {
		t.Fatalf("B tx = %q, %v", v, err)
	}
}

func Test_Pinned_WatchAcrossTheSwitchFailsExec(t *testing.T) {
	ctx := context.Background()
	a, b := nodetest.StartAddr(t, node.Config{}), nodetest.StartAddr(t, node.Config{})
	p, addr := mustNewProxy(t, Config{Backend: a, HoldTimeout: pinnedWait})
	c := newClient(t, addr, "")
	err := c.Watch(ctx, func(tx *redis.Tx) error {
		if err := tx.Get(ctx, "w").Err(); !errors.Is(err, redis.Nil) {
			return fmt.Errorf("GET w: %w", err)
		}
		switchPrimary(t, p, a, b)
		_, err := tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.Set(ctx, "w", "1", 0)
			return nil
		})
		return err
	}, "w")
	if err == nil || !strings.Contains(err.Error(), "EXECABORT") {
		t.Fatalf("WATCH/switch/MULTI/EXEC: %v; want EXECABORT", err)
	}
	if err := newClient(t, b, "").Get(ctx, "w").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET w on B: %v; want nil", err)
	}
	// A WATCH made after the switch works as usual.
	err = c.Watch(ctx, func(tx *redis.Tx) error {
		_, err := tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.Set(ctx, "w", "2", 0)
			return nil
		})
		return err
	}, "w")
	if err != nil {
		t.Fatal(err)
	}
}

func Test_Pinned_RefusedCommandIsReplayedOnTheNewPrimary(t *testing.T) {
	ctx := context.Background()
	a, b := nodetest.StartAddr(t, node.Config{}), nodetest.StartAddr(t, node.Config{})
	p, addr := mustNewProxy(t, Config{Backend: a, HoldTimeout: pinnedWait})
	conn := newClient(t, addr, "").Conn()
	defer conn.Close()
	if err := conn.ClientSetName(ctx, "pinned").Err(); err != nil {
		t.Fatal(err)
	}
	// A is demoted but the proxy still points at it: the write is refused
	// (-READONLY) and held until the proxy follows B.
	host, port, _ := net.SplitHostPort(b)
	if err := newClient(t, a, "").Do(ctx, "replicaof", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- conn.Set(ctx, "held", "1", 0).Err() }()
	select {
	case err := <-done:
		t.Fatalf("write to a demoted node completed: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	p.setBackend(b)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, err := newClient(t, b, "").Get(ctx, "held").Result(); err != nil || v != "1" {
		t.Fatalf("B held = %q, %v", v, err)
	}
}

func Test_Pinned_PopCutByACrashIsAmbiguous(t *testing.T) {
	ctx := context.Background()
	srvA, a := nodetest.Start(t, node.Config{})
	b := nodetest.StartAddr(t, node.Config{})
	p, addr := mustNewProxy(t, Config{Backend: a, HoldTimeout: pinnedWait})
	c := newClient(t, addr, "")
	errc := make(chan error, 1)
	go func() { errc <- c.BLPop(ctx, 0, "jobs").Err() }()
	waitUntil(t, "the BLPOP to wait on A", func() bool { return blockedClients(t, newClient(t, a, "")) == 1 })
	// A stops without answering the pop: it may or may not have run.
	srvA.Close()
	p.setBackend(b)
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "may or may not have been applied") {
		t.Fatalf("BLPOP cut by a crash: %v; want the ambiguous-write error", err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
}

func Test_Pinned_SubscriberFollowsTheNewPrimary(t *testing.T) {
	ctx := context.Background()
	a, b := nodetest.StartAddr(t, node.Config{}), nodetest.StartAddr(t, node.Config{})
	p, addr := mustNewProxy(t, Config{Backend: a, HoldTimeout: pinnedWait})
	nc := dialRaw(t, addr)
	fmt.Fprint(nc, "*3\r\n$9\r\nSUBSCRIBE\r\n$4\r\nnews\r\n$5\r\nsport\r\n")
	r := bufio.NewReader(nc)
	expectLines(t, r, "*3", "$9", "subscribe", "$4", "news", ":1", "*3", "$9", "subscribe", "$5", "sport", ":2")
	switchPrimary(t, p, a, b)
	cb := newClient(t, b, "")
	// The subscriber is subscribed on B once B counts it.
	waitUntil(t, "the subscriber on B", func() bool {
		n, err := cb.PubSubNumSub(ctx, "sport").Result()
		return err == nil && n["sport"] == 1
	})
	if err := newClient(t, addr, "").Publish(ctx, "sport", "goal").Err(); err != nil {
		t.Fatal(err)
	}
	expectLines(t, r, "*3", "$7", "message", "$5", "sport", "$4", "goal")
}

func Test_Pinned_ClientLeavingWhileAPopWaitsTakesNothing(t *testing.T) {
	ctx := context.Background()
	a := nodetest.StartAddr(t, node.Config{})
	_, addr := mustNewProxy(t, Config{Backend: a})
	ca := newClient(t, a, "")
	nc := dialRaw(t, addr)
	fmt.Fprint(nc, "*3\r\n$5\r\nBLPOP\r\n$4\r\njobs\r\n$1\r\n0\r\n")
	waitUntil(t, "the BLPOP to wait", func() bool { return blockedClients(t, ca) == 1 })
	nc.Close()
	waitUntil(t, "the pop to be released", func() bool { return blockedClients(t, ca) == 0 })
	if err := ca.RPush(ctx, "jobs", "j1").Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := ca.LLen(ctx, "jobs").Result(); err != nil || n != 1 {
		t.Fatalf("LLEN jobs = %d, %v; want 1 (nobody popped it)", n, err)
	}
}

// dialRaw opens a raw client connection (go-redis would reconnect and
// resubscribe on its own), closed when the test ends.
func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(pinnedWait))
	return nc
}

// expectLines reads one line per want and compares them.
func expectLines(t *testing.T, r *bufio.Reader, want ...string) {
	t.Helper()
	for _, w := range want {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading %q: %v", w, err)
		}
		if got := strings.TrimRight(line, "\r\n"); got != w {
			t.Fatalf("line %q, want %q", got, w)
		}
	}
}

func Test_Pinned_LongPipelineKeepsItsOrder(t *testing.T) {
	ctx := context.Background()
	_, addr := mustNewProxy(t, Config{Backend: nodetest.StartAddr(t, node.Config{})})
	conn := newClient(t, addr, "").Conn()
	defer conn.Close()
	if err := conn.ClientSetName(ctx, "piped").Err(); err != nil {
		t.Fatal(err)
	}
	// More commands than a session holds at once.
	const n = 3 * maxPinnedEntries
	cmds, err := conn.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for range n {
			pipe.Incr(ctx, "ctr")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, cmd := range cmds {
		if v := cmd.(*redis.IntCmd).Val(); v != int64(i+1) {
			t.Fatalf("reply %d = %d", i, v)
		}
	}
}

func Test_Pinned_ProxyAnswersItsOwnCommandsInOrder(t *testing.T) {
	_, addr := mustNewProxy(t, Config{Backend: nodetest.StartAddr(t, node.Config{})})
	nc := dialRaw(t, addr)
	r := bufio.NewReader(nc)
	fmt.Fprint(nc, "*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$1\r\nx\r\n"+
		"*1\r\n$4\r\nPING\r\n*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$8\r\nLIB-NAME\r\n$1\r\ny\r\n"+
		"*2\r\n$6\r\nCLIENT\r\n$7\r\nGETNAME\r\n*1\r\n$4\r\nQUIT\r\n")
	expectLines(t, r, "+OK", "+PONG", "+OK", "$1", "x", "+OK")
	if line, err := r.ReadString('\n'); err == nil {
		t.Fatalf("after QUIT: %q, want the connection closed", line)
	}
}

// Test_Pinned_DropAnswersByWhatMayHaveRun drives a session's state
// machine without a network: commands are sent on a backend connection,
// some replies arrive, then the connection is dropped (broken, or replaced
// after a refusal); every command gets what the switch rules say.
func Test_Pinned_DropAnswersByWhatMayHaveRun(t *testing.T) {
	const pending = "(replayed)"
	cases := []struct {
		name    string
		cmds    []string // sent before the drop
		replies []string // from the old primary
		after   []string // sent after the drop
		want    []string // per command, before and after
	}{
		{"read in flight is replayed", []string{"GET k"}, nil, nil, []string{pending}},
		{"write in flight is ambiguous", []string{"SET k v"}, nil, nil, []string{replyAmbiguous}},
		{"pop in flight is ambiguous", []string{"BLPOP k 0"}, nil, nil, []string{replyAmbiguous}},
		{"name in flight is replayed", []string{"CLIENT SETNAME n"}, nil, nil, []string{pending}},
		{"refused write is replayed", []string{"SET k v"}, []string{"-READONLY replica"}, nil, []string{pending}},
		{"released pop is replayed", []string{"BLPOP k 0"}, []string{"-UNBLOCKED force unblock"}, nil, []string{pending}},
		{"refused write before an answered read", []string{"SET k v", "GET k"}, []string{"-TRYAGAIN no write lease", "$-1"}, nil,
			[]string{pending, "$-1\r\n"}},
		{"EXEC in flight is ambiguous", []string{"MULTI", "SET k v", "EXEC"}, []string{"+OK", "+QUEUED"}, nil,
			[]string{"+OK\r\n", "+QUEUED\r\n", replyAmbiguous}},
		{"refused EXEC is discarded", []string{"MULTI", "SET k v", "EXEC"}, []string{"+OK", "+QUEUED", "-TRYAGAIN no write lease"}, nil,
			[]string{"+OK\r\n", "+QUEUED\r\n", replyTxAborted}},
		{"MULTI open at the drop", []string{"MULTI", "SET k v"}, []string{"+OK", "+QUEUED"}, []string{"INCR n", "EXEC", "GET k"},
			[]string{"+OK\r\n", "+QUEUED\r\n", replyTxQueued, replyTxAborted, pending}},
		{"queued write in flight", []string{"MULTI", "SET k v"}, []string{"+OK"}, []string{"DISCARD"},
			[]string{"+OK\r\n", replyTxQueued, replyOK}},
		{"WATCH open at the drop", []string{"WATCH k"}, []string{"+OK"}, []string{"MULTI", "SET k v", "EXEC", "MULTI"},
			[]string{"+OK\r\n", replyOK, replyTxQueued, replyTxAborted, pending}},
		{"WATCH then UNWATCH after the drop", []string{"WATCH k"}, []string{"+OK"}, []string{"UNWATCH", "MULTI"},
			[]string{"+OK\r\n", pending, pending}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc, peer := net.Pipe()
			defer peer.Close()
			p, err := New(Config{Backend: "old", Logger: testutil.Logger(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			s := &pinnedSession{p: p, be: &pinnedBackend{addr: "old", c: resp.NewConn(nc), out: make(chan []byte, 8)}}
			for _, c := range tc.cmds {
				s.accept(splitArgs(c))
				s.flushPending()
			}
			for _, r := range tc.replies {
				s.onReply([]byte(r + "\r\n"))
			}
			s.drop(len(s.awaiting) > 0)
			for _, c := range tc.after {
				s.accept(splitArgs(c))
			}
			if len(s.entries) != len(tc.want) {
				t.Fatalf("%d entries, want %d", len(s.entries), len(tc.want))
			}
			for i, e := range s.entries {
				got := string(e.reply)
				if e.status == entryPending {
					got = pending
				}
				if got != tc.want[i] {
					t.Errorf("%q: %q, want %q", strings.Join(stringArgs(e.args), " "), got, tc.want[i])
				}
			}
		})
	}
}

// splitArgs splits a command line on spaces.
func splitArgs(line string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(line) {
		out = append(out, []byte(f))
	}
	return out
}

// stringArgs is args as strings.
func stringArgs(args [][]byte) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out
}

// poppedAtA is a proxy in front of node A with a second node B beside it,
// and a client of the proxy parked in BLPOP 0 jobs on A; got and errc
// receive the pop's result.
type poppedAtA struct {
	p         *Proxy
	a, b      string
	c, ca, cb *redis.Client
	got       chan []string
	errc      chan error
}

func parkPopOnA(t *testing.T) poppedAtA {
	t.Helper()
	ctx := context.Background()
	a, b := nodetest.StartAddr(t, node.Config{}), nodetest.StartAddr(t, node.Config{})
	p, addr := mustNewProxy(t, Config{Backend: a, HoldTimeout: pinnedWait})
	f := poppedAtA{p: p, a: a, b: b, c: newClient(t, addr, ""), ca: newClient(t, a, ""), cb: newClient(t, b, ""),
		got: make(chan []string, 1), errc: make(chan error, 1)}
	go func() {
		v, err := f.c.BLPop(ctx, 0, "jobs").Result()
		f.got <- v
		f.errc <- err
	}()
	waitUntil(t, "the BLPOP to wait on A", func() bool { return blockedClients(t, f.ca) == 1 })
	return f
}
