package node

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// wantErr fails the test unless err's text is exactly want.
func wantErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil || err.Error() != want {
		t.Fatalf("%s: error = %v, want %q", what, err, want)
	}
}

// pollUntil polls cond until it holds or a generous deadline passes.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mustConn returns a single pinned connection to n (go-redis' Conn), so
// connection state (name, auth, pause) stays on one socket.
func mustConn(t *testing.T, n *testNode, opt *redis.Options) *redis.Conn {
	t.Helper()
	o := redis.Options{Addr: n.addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true}
	if opt != nil {
		o.Password = opt.Password
	}
	c := redis.NewClient(&o)
	conn := c.Conn()
	t.Cleanup(func() { conn.Close(); c.Close() })
	return conn
}

func Test_Conn_PingEchoSelect(t *testing.T) {
	_, c, ctx := newTestClient(t)
	if got, err := c.Do(ctx, "PING", "hi").Text(); err != nil || got != "hi" {
		t.Fatalf("PING hi = %q, %v", got, err)
	}
	if got, err := c.Echo(ctx, "e").Result(); err != nil || got != "e" {
		t.Fatalf("ECHO = %q, %v", got, err)
	}
	if err := c.Do(ctx, "SELECT", "0").Err(); err != nil {
		t.Fatalf("SELECT 0: %v", err)
	}
	wantErr(t, "SELECT 1", c.Do(ctx, "SELECT", "1").Err(), "ERR DB index is out of range")
	wantErr(t, "SELECT x", c.Do(ctx, "SELECT", "x").Err(), "ERR value is not an integer or out of range")
}

func Test_Conn_QuitClosesConnection(t *testing.T) {
	n, _, _ := newTestClient(t)
	got := rawExchange(t, n.addr, "QUIT\r\nPING\r\n")
	if got != "+OK\r\n" {
		t.Fatalf("QUIT then PING = %q, want only +OK", got)
	}
}

func Test_Conn_AuthFlow(t *testing.T) {
	n := mustNewNode(t, Config{RequirePass: "sekret"})
	ctx := context.Background()
	conn := mustConn(t, n, nil)
	wantErr(t, "PING before AUTH", conn.Ping(ctx).Err(), "NOAUTH Authentication required.")
	wantErr(t, "HELLO before AUTH", conn.Do(ctx, "HELLO", "2").Err(), errHelloNoAuth)
	wantErr(t, "AUTH bad", conn.Do(ctx, "AUTH", "bad").Err(), errWrongPass)
	wantErr(t, "AUTH other user", conn.Do(ctx, "AUTH", "bob", "sekret").Err(), errWrongPass)
	wantErr(t, "AUTH too many", conn.Do(ctx, "AUTH", "a", "b", "c").Err(), "ERR syntax error")
	wantErr(t, "still NOAUTH", conn.Ping(ctx).Err(), "NOAUTH Authentication required.")
	if err := conn.Do(ctx, "AUTH", "sekret").Err(); err != nil {
		t.Fatalf("AUTH sekret: %v", err)
	}
	if err := conn.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after AUTH: %v", err)
	}
	if err := conn.Do(ctx, "AUTH", "default", "sekret").Err(); err != nil {
		t.Fatalf("AUTH default sekret: %v", err)
	}

	// A go-redis client with a password authenticates through HELLO 3,
	// falls back after NOPROTO, and works.
	c := redis.NewClient(&redis.Options{Addr: n.addr, MaxRetries: -1, Password: "sekret"})
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET with password client: %v", err)
	}

	// HELLO AUTH authenticates a fresh connection.
	fresh := mustConn(t, n, nil)
	wantErr(t, "HELLO bad AUTH", fresh.Do(ctx, "HELLO", "2", "AUTH", "default", "nope").Err(), errWrongPass)
	if err := fresh.Do(ctx, "HELLO", "2", "AUTH", "default", "sekret").Err(); err != nil {
		t.Fatalf("HELLO 2 AUTH: %v", err)
	}
	if err := fresh.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after HELLO AUTH: %v", err)
	}
}

func Test_Conn_AuthWithoutPassword(t *testing.T) {
	_, c, ctx := newTestClient(t)
	wantErr(t, "AUTH x", c.Do(ctx, "AUTH", "x").Err(), errAuthNoPass)
	if err := c.Do(ctx, "AUTH", "default", "anything").Err(); err != nil {
		t.Fatalf("AUTH default anything (nopass user): %v", err)
	}
	wantErr(t, "AUTH bob x", c.Do(ctx, "AUTH", "bob", "x").Err(), errWrongPass)
}

func Test_Conn_Hello(t *testing.T) {
	n, c, ctx := newTestClient(t)
	conn := mustConn(t, n, nil)
	id, err := conn.ClientID(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	got, err := conn.Do(ctx, "HELLO", "2", "SETNAME", "myname").Slice()
	if err != nil {
		t.Fatalf("HELLO 2: %v", err)
	}
	want := []any{"server", "redis", "version", "7.0.15", "proto", int64(2), "id", id,
		"mode", "standalone", "role", "master", "modules", []any{}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("HELLO 2 = %v, want %v", got, want)
	}
	if name, err := conn.ClientGetName(ctx).Result(); err != nil || name != "myname" {
		t.Fatalf("name after HELLO SETNAME = %q, %v", name, err)
	}
	wantErr(t, "HELLO 3", c.Do(ctx, "HELLO", "3").Err(), "NOPROTO unsupported protocol version")
	wantErr(t, "HELLO 1", c.Do(ctx, "HELLO", "1").Err(), "NOPROTO unsupported protocol version")
	wantErr(t, "HELLO abc", c.Do(ctx, "HELLO", "abc").Err(), "ERR Protocol version is not an integer or out of range")
	wantErr(t, "HELLO 2 foo", c.Do(ctx, "HELLO", "2", "foo").Err(), "ERR Syntax error in HELLO option 'foo'")
	wantErr(t, "HELLO bad name", c.Do(ctx, "HELLO", "2", "SETNAME", "a b").Err(), errClientName)
	if got, err := c.Do(ctx, "HELLO").Slice(); err != nil || len(got) != 14 {
		t.Fatalf("HELLO = %v, %v", got, err)
	}
}

func Test_Conn_Reset(t *testing.T) {
	n := mustNewNode(t, Config{RequirePass: "pw"})
	ctx := context.Background()
	conn := mustConn(t, n, nil)
	if err := conn.Do(ctx, "AUTH", "pw").Err(); err != nil {
		t.Fatal(err)
	}
	if err := conn.ClientSetName(ctx, "before").Err(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Do(ctx, "MULTI").Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := conn.Do(ctx, "RESET").Text(); err != nil || got != "RESET" {
		t.Fatalf("RESET = %q, %v", got, err)
	}
	wantErr(t, "PING after RESET", conn.Ping(ctx).Err(), "NOAUTH Authentication required.")
	if err := conn.Do(ctx, "AUTH", "pw").Err(); err != nil {
		t.Fatal(err)
	}
	if name, err := conn.ClientGetName(ctx).Result(); err != redis.Nil {
		t.Fatalf("name after RESET = %q, %v; want nil", name, err)
	}
	// Not in MULTI any more: PING runs at once.
	if got, err := conn.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING after RESET = %q, %v", got, err)
	}
}

func Test_Conn_ClientIdNameInfoList(t *testing.T) {
	n, _, ctx := newTestClient(t)
	a, b := mustConn(t, n, nil), mustConn(t, n, nil)
	idA, err := a.ClientID(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	idB, _ := b.ClientID(ctx).Result()
	if idA == idB || idA <= 0 {
		t.Fatalf("client ids %d and %d", idA, idB)
	}
	if _, err := a.ClientGetName(ctx).Result(); err != redis.Nil {
		t.Fatalf("GETNAME before SETNAME: %v, want nil", err)
	}
	if err := a.ClientSetName(ctx, "alpha").Err(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "SETNAME with space", a.Do(ctx, "CLIENT", "SETNAME", "a b").Err(), errClientName)
	info, err := a.Do(ctx, "CLIENT", "INFO").Text()
	if err != nil {
		t.Fatal(err)
	}
	wantPrefix := fmt.Sprintf("id=%d addr=", idA)
	if !strings.HasPrefix(info, wantPrefix) || !strings.HasSuffix(info, " user=default redir=-1 resp=2\n") ||
		!strings.Contains(info, " name=alpha ") || !strings.Contains(info, " cmd=client|info ") ||
		!strings.Contains(info, " flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 ") {
		t.Fatalf("CLIENT INFO = %q", info)
	}
	list, err := b.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list, fmt.Sprintf("id=%d ", idA)) || !strings.Contains(list, fmt.Sprintf("id=%d ", idB)) {
		t.Fatalf("CLIENT LIST misses a client: %q", list)
	}
	only, err := b.Do(ctx, "CLIENT", "LIST", "ID", fmt.Sprint(idA)).Text()
	if err != nil || strings.Count(only, "\n") != 1 || !strings.HasPrefix(only, wantPrefix) {
		t.Fatalf("CLIENT LIST ID = %q, %v", only, err)
	}
	if got, err := b.Do(ctx, "CLIENT", "LIST", "TYPE", "pubsub").Text(); err != nil || got != "" {
		t.Fatalf("CLIENT LIST TYPE pubsub = %q, %v", got, err)
	}
	wantErr(t, "LIST TYPE foo", b.Do(ctx, "CLIENT", "LIST", "TYPE", "foo").Err(), "ERR Unknown client type 'foo'")
	wantErr(t, "LIST ID x", b.Do(ctx, "CLIENT", "LIST", "ID", "x").Err(), "ERR Invalid client ID")
	wantErr(t, "CLIENT foo", b.Do(ctx, "CLIENT", "foo").Err(), "ERR unknown subcommand 'foo'. Try CLIENT HELP.")
	wantErr(t, "CLIENT ID x", b.Do(ctx, "CLIENT", "ID", "x").Err(), "ERR wrong number of arguments for 'client|id' command")
	if err := b.Do(ctx, "CLIENT", "NO-EVICT", "on").Err(); err != nil {
		t.Fatalf("CLIENT NO-EVICT on: %v", err)
	}
}

func Test_Conn_ClientKill(t *testing.T) {
	n, _, ctx := newTestClient(t)
	killer, victim := mustConn(t, n, nil), mustConn(t, n, nil)
	vid, err := victim.ClientID(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := killer.Do(ctx, "CLIENT", "KILL", "ID", fmt.Sprint(vid)).Int(); err != nil || got != 1 {
		t.Fatalf("CLIENT KILL ID = %d, %v", got, err)
	}
	if err := victim.Ping(ctx).Err(); err == nil {
		t.Fatalf("killed client's PING succeeded")
	}
	pollUntil(t, "killed client gone from CLIENT LIST", func() bool {
		list, _ := killer.ClientList(ctx).Result()
		return !strings.Contains(list, fmt.Sprintf("id=%d ", vid))
	})

	// Old form by address.
	victim2 := mustConn(t, n, nil)
	info, err := victim2.Do(ctx, "CLIENT", "INFO").Text()
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(strings.Fields(info)[1], "addr=")
	if err := killer.Do(ctx, "CLIENT", "KILL", addr).Err(); err != nil {
		t.Fatalf("CLIENT KILL %s: %v", addr, err)
	}
	if err := victim2.Ping(ctx).Err(); err == nil {
		t.Fatalf("client killed by address still answers")
	}

	// SKIPME defaults to yes: killing by our own id kills nobody.
	kid, _ := killer.ClientID(ctx).Result()
	if got, err := killer.Do(ctx, "CLIENT", "KILL", "ID", fmt.Sprint(kid)).Int(); err != nil || got != 0 {
		t.Fatalf("CLIENT KILL own ID = %d, %v", got, err)
	}
	wantErr(t, "KILL unknown addr", killer.Do(ctx, "CLIENT", "KILL", "1.2.3.4:5").Err(), "ERR No such client")
	wantErr(t, "KILL ID x", killer.Do(ctx, "CLIENT", "KILL", "ID", "x").Err(), "ERR client-id should be greater than 0")
	wantErr(t, "KILL foo bar", killer.Do(ctx, "CLIENT", "KILL", "foo", "bar").Err(), "ERR syntax error")
	wantErr(t, "KILL USER nobody", killer.Do(ctx, "CLIENT", "KILL", "USER", "nobody").Err(), "ERR No such user 'nobody'")
	// SKIPME no with our own id: the reply arrives, then the connection closes.
	if got, err := killer.Do(ctx, "CLIENT", "KILL", "ID", fmt.Sprint(kid), "SKIPME", "no").Int(); err != nil || got != 1 {
		t.Fatalf("CLIENT KILL own ID SKIPME no = %d, %v", got, err)
	}
	if err := killer.Ping(ctx).Err(); err == nil {
		t.Fatalf("self-killed client still answers")
	}
}

func Test_Conn_ClientPauseWrite(t *testing.T) {
	n, c, ctx := newTestClient(t)
	if err := c.Set(ctx, "k", "old", 0).Err(); err != nil {
		t.Fatal(err)
	}
	admin := mustConn(t, n, nil)
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "60000", "WRITE").Err(); err != nil {
		t.Fatalf("CLIENT PAUSE: %v", err)
	}
	writer := mustClient(t, n)
	done := make(chan error, 1)
	go func() { done <- writer.Set(ctx, "k", "new", 0).Err() }()
	pollUntil(t, "the SET to be held by the pause", func() bool { return n.admin.pause.waiting.Load() == 1 })
	// Reads go through, and the held write has not happened.
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "old" {
		t.Fatalf("GET during pause = %q, %v", got, err)
	}
	select {
	case err := <-done:
		t.Fatalf("SET finished during CLIENT PAUSE WRITE: %v", err)
	default:
	}
	if err := admin.Do(ctx, "CLIENT", "UNPAUSE").Err(); err != nil {
		t.Fatalf("CLIENT UNPAUSE: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("held SET: %v", err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "new" {
		t.Fatalf("GET after unpause = %q, %v", got, err)
	}
}

func Test_Conn_ClientPauseAllAndTimeout(t *testing.T) {
	n, c, ctx := newTestClient(t)
	if err := c.Do(ctx, "CLIENT", "PAUSE", "60000", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	reader := mustClient(t, n)
	done := make(chan error, 1)
	go func() { done <- reader.Get(ctx, "k").Err() }()
	pollUntil(t, "the GET to be held by PAUSE ALL", func() bool { return n.admin.pause.waiting.Load() == 1 })
	select {
	case err := <-done:
		t.Fatalf("GET finished during CLIENT PAUSE ALL: %v", err)
	default:
	}
	n.admin.pause.unpause() // CLIENT UNPAUSE would itself be held by ALL
	if err := <-done; err != redis.Nil {
		t.Fatalf("held GET = %v, want nil reply", err)
	}

	// A pause ends by itself at its timeout.
	if err := c.Do(ctx, "CLIENT", "PAUSE", "1", "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	if err := reader.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET after pause timeout: %v", err)
	}

	wantErr(t, "PAUSE no timeout", c.Do(ctx, "CLIENT", "PAUSE").Err(), "ERR wrong number of arguments for 'client|pause' command")
	wantErr(t, "PAUSE x", c.Do(ctx, "CLIENT", "PAUSE", "x").Err(), "ERR timeout is not an integer or out of range")
	wantErr(t, "PAUSE -1", c.Do(ctx, "CLIENT", "PAUSE", "-1").Err(), "ERR timeout is negative")
	wantErr(t, "PAUSE mode", c.Do(ctx, "CLIENT", "PAUSE", "10", "foo").Err(), "ERR CLIENT PAUSE mode must be WRITE or ALL")
}

func Test_Conn_ClientPauseKilledWriteDropped(t *testing.T) {
	n, c, ctx := newTestClient(t)
	if err := c.Do(ctx, "CLIENT", "PAUSE", "60000", "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	held := mustConn(t, n, nil)
	id, err := held.ClientID(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- held.Set(ctx, "k", "v", 0).Err() }()
	pollUntil(t, "the SET to be held", func() bool { return n.admin.pause.waiting.Load() == 1 })
	if got, err := c.Do(ctx, "CLIENT", "KILL", "ID", fmt.Sprint(id)).Int(); err != nil || got != 1 {
		t.Fatalf("CLIENT KILL = %d, %v", got, err)
	}
	if err := <-done; err == nil {
		t.Fatalf("held SET of a killed client succeeded")
	}
	pollUntil(t, "the held command to be dropped", func() bool { return n.admin.pause.waiting.Load() == 0 })
	if err := c.Do(ctx, "CLIENT", "UNPAUSE").Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Exists(ctx, "k").Result(); err != nil || got != 0 {
		t.Fatalf("the killed client's held write ran: EXISTS = %d, %v", got, err)
	}
}
