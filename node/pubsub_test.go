package node

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/node/keyspace"
	"github.com/redis/go-redis/v9"
)

// psRaw is a raw RESP connection for byte-exact checks.
type psRaw struct {
	t  *testing.T
	nc net.Conn
	rd *bufio.Reader
}

// psDial opens a raw connection to n, closed when the test ends.
func psDial(t *testing.T, n *testNode) *psRaw {
	t.Helper()
	nc, err := net.Dial("tcp", n.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &psRaw{t: t, nc: nc, rd: bufio.NewReader(nc)}
}

// send writes one command as a RESP multibulk.
func (r *psRaw) send(args ...string) {
	r.t.Helper()
	var b strings.Builder
	b.WriteString("*" + keyspace.Itoa(int64(len(args))) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + keyspace.Itoa(int64(len(a))) + "\r\n" + a + "\r\n")
	}
	if _, err := r.nc.Write([]byte(b.String())); err != nil {
		r.t.Fatalf("send %v: %v", args, err)
	}
}

// expect reads exactly len(want) bytes and compares them. The deadline
// only turns a hang into a failure.
func (r *psRaw) expect(want string) {
	r.t.Helper()
	r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(r.rd, got); err != nil {
		r.t.Fatalf("read %q: %v (got %q)", want, err, got)
	}
	if string(got) != want {
		r.t.Fatalf("got %q, want %q", got, want)
	}
}

// psMsg is the RESP of a pub/sub push: kind, then bulk strings, then an
// optional count.
func psMsg(kind string, parts ...string) string {
	s := "*" + keyspace.Itoa(int64(len(parts)+1)) + "\r\n$" + keyspace.Itoa(int64(len(kind))) + "\r\n" + kind + "\r\n"
	for _, p := range parts {
		if strings.HasPrefix(p, ":") {
			s += p + "\r\n"
		} else {
			s += "$" + keyspace.Itoa(int64(len(p))) + "\r\n" + p + "\r\n"
		}
	}
	return s
}

func Test_PubSub_SubscribePublish(t *testing.T) {
	n, c, ctx := newTestClient(t)
	ps := c.Subscribe(ctx, "news", "sport")
	defer ps.Close()
	for i := 0; i < 2; i++ {
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatalf("subscribe confirmation: %v", err)
		}
	}
	pub := mustClient(t, n)
	if got := pub.Publish(ctx, "news", "hello").Val(); got != 1 {
		t.Fatalf("PUBLISH news = %d, want 1", got)
	}
	if got := pub.Publish(ctx, "nobody", "x").Val(); got != 0 {
		t.Fatalf("PUBLISH nobody = %d, want 0", got)
	}
	pub.Publish(ctx, "sport", "goal")
	ch := ps.Channel()
	for _, want := range []string{"news:hello", "sport:goal"} {
		m := <-ch
		if got := m.Channel + ":" + m.Payload; got != want {
			t.Fatalf("received %q, want %q", got, want)
		}
	}
	// PUBLISH inside MULTI delivers at EXEC.
	if _, err := pub.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Publish(ctx, "news", "tx")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if m := <-ch; m.Payload != "tx" {
		t.Fatalf("received %q, want tx", m.Payload)
	}
}

func Test_PubSub_Psubscribe(t *testing.T) {
	n, c, ctx := newTestClient(t)
	ps := c.PSubscribe(ctx, "user.*", "user.?")
	defer ps.Close()
	for i := 0; i < 2; i++ {
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pub := mustClient(t, n)
	if got := pub.Publish(ctx, "user.1", "a").Val(); got != 2 {
		t.Fatalf("PUBLISH user.1 = %d, want 2 (two matching patterns)", got)
	}
	if got := pub.Publish(ctx, "user.42", "b").Val(); got != 1 {
		t.Fatalf("PUBLISH user.42 = %d, want 1", got)
	}
	seen := map[string]bool{}
	ch := ps.Channel()
	for i := 0; i < 3; i++ {
		m := <-ch
		seen[m.Pattern+" "+m.Channel+" "+m.Payload] = true
	}
	for _, want := range []string{"user.* user.1 a", "user.? user.1 a", "user.* user.42 b"} {
		if !seen[want] {
			t.Fatalf("missing pmessage %q in %v", want, seen)
		}
	}
}

func Test_PubSub_Introspection(t *testing.T) {
	n, c, ctx := newTestClient(t)
	a := c.Subscribe(ctx, "c1", "c2")
	defer a.Close()
	b := c.Subscribe(ctx, "c1")
	defer b.Close()
	p := c.PSubscribe(ctx, "c*")
	defer p.Close()
	for _, s := range []*redis.PubSub{a, a, b, p} {
		if _, err := s.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	q := mustClient(t, n)
	got := q.PubSubNumSub(ctx, "c1", "c2", "c3").Val()
	if got["c1"] != 2 || got["c2"] != 1 || got["c3"] != 0 {
		t.Fatalf("NUMSUB = %v", got)
	}
	if v := q.PubSubNumPat(ctx).Val(); v != 1 {
		t.Fatalf("NUMPAT = %d, want 1", v)
	}
	if v, _ := q.Do(ctx, "pubsub", "channels").StringSlice(); strings.Join(v, ",") != "c1,c2" {
		t.Fatalf("CHANNELS = %v", v)
	}
	if v := q.PubSubChannels(ctx, "*2").Val(); strings.Join(v, ",") != "c2" {
		t.Fatalf("CHANNELS *2 = %v", v)
	}
	if err := q.Do(ctx, "pubsub", "numpat", "x").Err(); err == nil || err.Error() != "ERR wrong number of arguments for 'pubsub|numpat' command" {
		t.Fatalf("PUBSUB NUMPAT x: %v", err)
	}
	if err := q.Do(ctx, "pubsub", "foo").Err(); err == nil || err.Error() != "ERR unknown subcommand 'foo'. Try PUBSUB HELP." {
		t.Fatalf("PUBSUB foo: %v", err)
	}
	// Closing a subscriber's connection removes its subscriptions.
	a.Close()
	for q.PubSubNumSub(ctx, "c2").Val()["c2"] != 0 {
	}
}

func Test_PubSub_RawReplies(t *testing.T) {
	n, c, ctx := newTestClient(t)
	r := psDial(t, n)
	r.send("unsubscribe")
	r.expect("*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n")
	r.send("punsubscribe", "x")
	r.expect(psMsg("punsubscribe", "x", ":0"))
	r.send("subscribe", "b", "a", "b")
	r.expect(psMsg("subscribe", "b", ":1") + psMsg("subscribe", "a", ":2") + psMsg("subscribe", "b", ":2"))
	r.send("psubscribe", "p*")
	r.expect(psMsg("psubscribe", "p*", ":3"))
	r.send("get", "k")
	r.expect("-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n")
	r.send("ping")
	r.expect("*2\r\n$4\r\npong\r\n$0\r\n\r\n")
	c.Publish(ctx, "pq", "m")
	r.expect(psMsg("pmessage", "p*", "pq", "m"))
	r.send("unsubscribe")
	r.expect(psMsg("unsubscribe", "a", ":2") + psMsg("unsubscribe", "b", ":1"))
	r.send("unsubscribe")
	r.expect("*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:1\r\n")
	r.send("punsubscribe")
	r.expect(psMsg("punsubscribe", "p*", ":0"))
	// Out of subscribed mode, the connection runs ordinary commands again.
	r.send("set", "k", "v")
	r.expect("+OK\r\n")
	r.send("get", "k")
	r.expect("$1\r\nv\r\n")
	r.send("multi")
	r.expect("+OK\r\n")
	r.send("subscribe", "t")
	r.expect("+QUEUED\r\n")
	r.send("exec")
	r.expect("*1\r\n" + psMsg("subscribe", "t", ":1"))
	c.Publish(ctx, "t", "after-exec")
	r.expect(psMsg("message", "t", "after-exec"))
	r.send("quit")
	r.expect("+OK\r\n")
	if _, err := r.rd.ReadByte(); err == nil {
		t.Fatal("connection still open after QUIT")
	}
	for c.PubSubNumSub(ctx, "t").Val()["t"] != 0 {
	}
}

func Test_PubSub_HungSubscriberIsDisconnected(t *testing.T) {
	n, c, ctx := newTestClient(t)
	n.pubsub().outLimit.Store(4 << 20)
	hung := psDial(t, n)
	hung.send("subscribe", "flood")
	hung.expect(psMsg("subscribe", "flood", ":1"))
	// A healthy subscriber on the same channel keeps receiving.
	good := c.Subscribe(ctx, "flood")
	defer good.Close()
	if _, err := good.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			if _, err := good.ReceiveMessage(ctx); err != nil {
				return
			}
		}
	}()
	payload := strings.Repeat("x", 128<<10)
	pub := mustClient(t, n)
	// The hung subscriber never reads: once the socket buffers are full
	// its queue passes the limit and it is dropped, while every PUBLISH
	// answers (go-redis' read timeout would fail a stalled one).
	for i := 0; ; i++ {
		if i == 1000 { // 128 MB: far beyond the limit plus socket buffers
			t.Fatal("hung subscriber never disconnected")
		}
		if err := pub.Publish(ctx, "flood", payload).Err(); err != nil {
			t.Fatalf("PUBLISH %d: %v", i, err)
		}
		if pub.PubSubNumSub(ctx, "flood").Val()["flood"] == 1 {
			break
		}
	}
	// Its socket is closed: reading drains what was sent, then ends.
	hung.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, hung.rd); err != nil {
		t.Fatalf("hung subscriber's connection not closed: %v", err)
	}
	if got := pub.Publish(ctx, "flood", "small").Val(); got != 1 {
		t.Fatalf("PUBLISH after the drop = %d, want 1", got)
	}
}

func Test_PubSub_CloseWithSubscribers(t *testing.T) {
	n, c, ctx := newTestClient(t)
	n.pubsub().outLimit.Store(64 << 20)
	hung := psDial(t, n)
	hung.send("subscribe", "x")
	hung.expect(psMsg("subscribe", "x", ":1"))
	ps := c.Subscribe(ctx, "x")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	quiet := psDial(t, n)
	quiet.send("psubscribe", "*")
	quiet.expect(psMsg("psubscribe", "*", ":1"))
	pub := mustClient(t, n)
	payload := strings.Repeat("y", 1<<20)
	for i := 0; i < 16; i++ { // more than the socket buffers hold
		pub.Publish(ctx, "x", payload)
	}
	// Close must return with subscribers detached, one of them stuck in a
	// write; the detached loops are tracked by the server's WaitGroup.
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	quiet.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, quiet.rd); err != nil {
		t.Fatalf("subscriber connection not closed by Close: %v", err)
	}
	// Close waited for the detached loops, which forgot their clients.
	reg := n.pubsub()
	reg.mu.Lock()
	left := len(reg.channels) + len(reg.patterns)
	reg.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d subscriptions left after Close", left)
	}
}
