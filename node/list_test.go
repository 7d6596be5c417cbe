package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/node/keyspace"
	"github.com/redis/go-redis/v9"
)

// li builds the []any of int64 go-redis returns for an array of integers.
func li(n ...int64) []any {
	out := make([]any, len(n))
	for i, v := range n {
		out[i] = v
	}
	return out
}

// listKeyExists looks at the keyspace directly, so a key left holding an
// empty list would show.
func listKeyExists(n *testNode, key string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.db.Keys[key]
	return ok
}

// listWaitBlocked polls until want clients are parked on key.
func listWaitBlocked(t *testing.T, n *testNode, key string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n.mu.Lock()
		got := len(n.blocked[key])
		n.mu.Unlock()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d clients blocked on %q, want %d", got, key, want)
		}
		time.Sleep(time.Millisecond)
	}
}

const wrongType = "ERR:" + keyspace.ErrWrongType

func Test_List_PushPopLenRangeIndex(t *testing.T) {
	n, c, ctx := newTestClient(t)
	c.Set(ctx, "str", "x", 0)
	expectReplies(t, c, []replyCase{
		rc(int64(3), "rpush", "l", "a", "b", "c"),
		rc(int64(5), "lpush", "l", "y", "z"), // z y a b c
		rc(strs("z", "y", "a", "b", "c"), "lrange", "l", "0", "-1"),
		rc(int64(6), "rpushx", "l", "d"),
		rc(int64(7), "lpushx", "l", "x"),
		rc(int64(0), "lpushx", "nokey", "a"),
		rc(int64(0), "rpushx", "nokey", "a", "b"),
		rc(int64(7), "llen", "l"),
		rc(int64(0), "llen", "nokey"),
		rc(strs("x", "z", "y", "a", "b", "c", "d"), "lrange", "l", "0", "-1"),
		rc(strs("a", "b"), "lrange", "l", "3", "4"),
		rc(strs("c", "d"), "lrange", "l", "-2", "100"),
		rc(strs("x"), "lrange", "l", "-100", "0"),
		rc(strs(), "lrange", "l", "5", "2"),
		rc(strs(), "lrange", "l", "7", "10"),
		rc(strs(), "lrange", "nokey", "0", "-1"),
		rc("ERR:"+keyspace.ErrNotInteger, "lrange", "l", "a", "1"),
		rc("ERR:"+keyspace.ErrNotInteger, "lrange", "nokey", "0", "b"),
		rc("x", "lindex", "l", "0"),
		rc("d", "lindex", "l", "-1"),
		rc("x", "lindex", "l", "-7"),
		rc(nil, "lindex", "l", "-8"),
		rc(nil, "lindex", "l", "7"),
		rc(nil, "lindex", "nokey", "x"), // the key is looked up first
		rc("ERR:"+keyspace.ErrNotInteger, "lindex", "l", "x"),
		rc("x", "lpop", "l"),
		rc("d", "rpop", "l"),
		rc(strs("z", "y"), "lpop", "l", "2"),
		rc(strs("c", "b"), "rpop", "l", "2"),
		rc(strs(), "lpop", "l", "0"),
		rc(nil, "lpop", "nokey"),
		rc(nil, "lpop", "nokey", "0"),
		rc(nil, "rpop", "nokey", "3"),
		rc("ERR:"+keyspace.ErrListCount, "lpop", "l", "-1"),
		rc("ERR:"+keyspace.ErrListCount, "rpop", "nokey", "x"),
		rc("ERR:ERR wrong number of arguments for 'lpop' command", "lpop", "l", "1", "2"),
		rc("ERR:ERR wrong number of arguments for 'rpush' command", "rpush", "l"),
		rc(strs("a"), "lpop", "l", "10"),
		rc(int64(0), "exists", "l"),
		rc(wrongType, "lpush", "str", "a"),
		rc(wrongType, "rpushx", "str", "a"),
		rc(wrongType, "lpop", "str"),
		rc(wrongType, "rpop", "str", "0"),
		rc(wrongType, "lrange", "str", "0", "1"),
		rc(wrongType, "llen", "str"),
		rc(wrongType, "lindex", "str", "0"),
	})
	if listKeyExists(n, "l") {
		t.Fatal("empty list left in the keyspace")
	}
	// Null shapes on the wire: LPOP key → $-1, LPOP key count → *-1.
	conn := listRaw(t, n)
	for _, tc := range []struct{ cmd, want string }{
		{"LPOP nokey", "$-1"},
		{"LPOP nokey 1", "*-1"},
		{"RPOP nokey 0", "*-1"},
	} {
		if got := conn.do(tc.cmd); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.cmd, got, tc.want)
		}
	}
}

// listConn is a raw RESP connection, for checking reply shapes go-redis
// hides and for disconnecting mid-command.
type listConn struct {
	net.Conn
	r *bufio.Reader
}

// listRaw dials n; the connection is closed when the test ends.
func listRaw(t *testing.T, n *testNode) *listConn {
	t.Helper()
	nc, err := net.Dial("tcp", n.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &listConn{Conn: nc, r: bufio.NewReader(nc)}
}

// send writes an inline command.
func (lc *listConn) send(cmd string) error {
	_, err := lc.Write([]byte(cmd + "\r\n"))
	return err
}

// do sends an inline command and returns the first line of its reply.
func (lc *listConn) do(cmd string) string {
	if err := lc.send(cmd); err != nil {
		return err.Error()
	}
	lc.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := lc.r.ReadString('\n')
	if err != nil {
		return err.Error()
	}
	return strings.TrimRight(line, "\r\n")
}

func Test_List_LsetLremLtrimLinsert(t *testing.T) {
	n, c, ctx := newTestClient(t)
	c.Set(ctx, "str", "x", 0)
	expectReplies(t, c, []replyCase{
		rc(int64(7), "rpush", "l", "a", "b", "a", "c", "a", "b", "a"),
		rc("OK", "lset", "l", "1", "B"),
		rc("OK", "lset", "l", "-2", "BB"),
		rc(strs("a", "B", "a", "c", "a", "BB", "a"), "lrange", "l", "0", "-1"),
		rc("ERR:"+keyspace.ErrIndexRange, "lset", "l", "7", "x"),
		rc("ERR:"+keyspace.ErrIndexRange, "lset", "l", "-8", "x"),
		rc("ERR:"+keyspace.ErrNoSuchKey, "lset", "nokey", "0", "x"),
		rc("ERR:"+keyspace.ErrNotInteger, "lset", "nokey", "x", "x"),
		rc(wrongType, "lset", "str", "0", "x"),
		// LREM: from the head, from the tail, all.
		rc(int64(1), "lrem", "l", "1", "a"),
		rc(strs("B", "a", "c", "a", "BB", "a"), "lrange", "l", "0", "-1"),
		rc(int64(2), "lrem", "l", "-2", "a"),
		rc(strs("B", "a", "c", "BB"), "lrange", "l", "0", "-1"),
		rc(int64(0), "lrem", "l", "0", "zz"),
		rc(int64(0), "lrem", "nokey", "0", "a"),
		rc("ERR:"+keyspace.ErrNotInteger, "lrem", "l", "x", "a"),
		rc(wrongType, "lrem", "str", "0", "a"),
		rc(int64(3), "rpush", "r", "a", "a", "a"),
		rc(int64(3), "lrem", "r", "0", "a"),
		rc(int64(0), "exists", "r"),
		rc(int64(3), "rpush", "r", "a", "b", "a"),
		rc(int64(2), "lrem", "r", "-9223372036854775808", "a"),
		rc(strs("b"), "lrange", "r", "0", "-1"),
		// LINSERT.
		rc(int64(5), "linsert", "l", "before", "c", "x"),
		rc(int64(6), "linsert", "l", "AFTER", "BB", "y"),
		rc(int64(7), "linsert", "l", "Before", "B", "w"),
		rc(strs("w", "B", "a", "x", "c", "BB", "y"), "lrange", "l", "0", "-1"),
		rc(int64(-1), "linsert", "l", "before", "zz", "q"),
		rc(int64(0), "linsert", "nokey", "before", "a", "q"),
		rc("ERR:"+keyspace.ErrSyntax, "linsert", "l", "middle", "a", "q"),
		rc("ERR:"+keyspace.ErrSyntax, "linsert", "nokey", "middle", "a", "q"),
		rc(wrongType, "linsert", "str", "after", "a", "q"),
		// LTRIM.
		rc("OK", "ltrim", "l", "1", "-2"),
		rc(strs("B", "a", "x", "c", "BB"), "lrange", "l", "0", "-1"),
		rc("OK", "ltrim", "l", "-3", "100"),
		rc(strs("x", "c", "BB"), "lrange", "l", "0", "-1"),
		rc("OK", "ltrim", "l", "0", "-1"),
		rc(int64(3), "llen", "l"),
		rc("OK", "ltrim", "nokey", "0", "1"),
		rc("ERR:"+keyspace.ErrNotInteger, "ltrim", "l", "0", "x"),
		rc(wrongType, "ltrim", "str", "0", "1"),
		rc("OK", "ltrim", "l", "2", "1"),
		rc(int64(0), "exists", "l"),
	})
	if listKeyExists(n, "l") || listKeyExists(n, "r2") {
		t.Fatal("empty list left in the keyspace")
	}
}

func Test_List_Lpos(t *testing.T) {
	_, c, ctx := newTestClient(t)
	c.Set(ctx, "str", "x", 0)
	c.RPush(ctx, "l", "a", "b", "c", "1", "2", "3", "c", "c")
	expectReplies(t, c, []replyCase{
		rc(int64(2), "lpos", "l", "c"),
		rc(int64(6), "lpos", "l", "c", "rank", "2"),
		rc(int64(7), "lpos", "l", "c", "rank", "-1"),
		rc(int64(6), "lpos", "l", "c", "rank", "-2"),
		rc(nil, "lpos", "l", "c", "rank", "4"),
		rc(li(2, 6), "lpos", "l", "c", "count", "2"),
		rc(li(2, 6, 7), "lpos", "l", "c", "count", "0"),
		rc(li(6, 7), "lpos", "l", "c", "count", "0", "rank", "2"),
		rc(li(7, 6), "lpos", "l", "c", "count", "2", "rank", "-1"),
		rc(li(2), "lpos", "l", "c", "count", "0", "maxlen", "3"),
		rc(li(7), "lpos", "l", "c", "rank", "-1", "count", "0", "maxlen", "1"),
		rc(nil, "lpos", "l", "c", "maxlen", "2"),
		rc(li(), "lpos", "l", "zz", "count", "0"),
		rc(nil, "lpos", "l", "zz"),
		rc(nil, "lpos", "nokey", "a"),
		rc(li(), "lpos", "nokey", "a", "count", "1"),
		// The last option wins when repeated.
		rc(li(2), "lpos", "l", "c", "count", "3", "count", "1"),
		// Redis 7.0's arithmetic: RANK LLONG_MIN is "any match from the tail".
		rc(int64(7), "lpos", "l", "c", "rank", "-9223372036854775808"),
		rc(li(7, 6, 2), "lpos", "l", "c", "rank", "-9223372036854775808", "count", "1"),
		rc("ERR:"+keyspace.ErrListRankZero, "lpos", "l", "c", "rank", "0"),
		rc("ERR:"+keyspace.ErrNotInteger, "lpos", "l", "c", "rank", "x"),
		rc("ERR:"+keyspace.ErrListCountNeg, "lpos", "l", "c", "count", "-1"),
		rc("ERR:"+keyspace.ErrListCountNeg, "lpos", "l", "c", "count", "x"),
		rc("ERR:"+keyspace.ErrListMaxlenNeg, "lpos", "l", "c", "maxlen", "-1"),
		rc("ERR:"+keyspace.ErrSyntax, "lpos", "l", "c", "rank"),
		rc("ERR:"+keyspace.ErrSyntax, "lpos", "l", "c", "foo", "1"),
		rc("ERR:"+keyspace.ErrListRankZero, "lpos", "str", "c", "rank", "0"),
		rc(wrongType, "lpos", "str", "c"),
	})
}

func Test_List_LmoveRpoplpush(t *testing.T) {
	n, c, ctx := newTestClient(t)
	c.Set(ctx, "str", "x", 0)
	expectReplies(t, c, []replyCase{
		rc(int64(3), "rpush", "s", "a", "b", "c"),
		rc("a", "lmove", "s", "d", "left", "right"),
		rc("c", "lmove", "s", "d", "RIGHT", "LEFT"),
		rc(strs("c", "a"), "lrange", "d", "0", "-1"),
		rc("b", "rpoplpush", "s", "d"),
		rc(strs("b", "c", "a"), "lrange", "d", "0", "-1"),
		rc(int64(0), "exists", "s"),
		rc(nil, "lmove", "s", "d", "left", "left"),
		rc(nil, "rpoplpush", "s", "d"),
		// Same key: rotation.
		rc("b", "lmove", "d", "d", "left", "right"),
		rc(strs("c", "a", "b"), "lrange", "d", "0", "-1"),
		rc("b", "rpoplpush", "d", "d"),
		rc(strs("b", "c", "a"), "lrange", "d", "0", "-1"),
		rc(int64(1), "rpush", "one", "x"),
		rc("x", "lmove", "one", "one", "right", "left"),
		rc(strs("x"), "lrange", "one", "0", "-1"),
		// Errors: syntax first, a missing source wins over a bad destination.
		rc("ERR:"+keyspace.ErrSyntax, "lmove", "d", "e", "up", "left"),
		rc("ERR:"+keyspace.ErrSyntax, "lmove", "d", "e", "left", "down"),
		rc(nil, "lmove", "nokey", "str", "left", "left"),
		rc(wrongType, "lmove", "d", "str", "left", "left"),
		rc(wrongType, "lmove", "str", "d", "left", "left"),
		rc(wrongType, "rpoplpush", "d", "str"),
		rc(strs("b", "c", "a"), "lrange", "d", "0", "-1"),
	})
	if listKeyExists(n, "s") {
		t.Fatal("empty source left in the keyspace")
	}
}

func Test_List_BlockingServedAtOnce(t *testing.T) {
	n, c, ctx := newTestClient(t)
	c.Set(ctx, "str", "x", 0)
	c.RPush(ctx, "b", "1", "2", "3")
	c.RPush(ctx, "s", "a", "b")
	expectReplies(t, c, []replyCase{
		rc(strs("b", "1"), "blpop", "nokey", "b", "0"),
		rc(strs("b", "3"), "brpop", "nokey", "b", "str", "1"), // str never reached
		rc("a", "blmove", "s", "d", "left", "right", "0"),
		rc("b", "brpoplpush", "s", "d", "0"),
		rc(strs("b", "a"), "lrange", "d", "0", "-1"),
		rc(int64(0), "exists", "s"),
		rc(wrongType, "blpop", "nokey", "str", "0"),
		rc(wrongType, "blmove", "str", "d", "left", "left", "0"),
		rc(wrongType, "brpoplpush", "d", "str", "0"),
		rc("ERR:"+keyspace.ErrSyntax, "blmove", "s", "d", "up", "left", "0"),
		rc("ERR:"+keyspace.ErrTimeoutNotFloat, "blpop", "b", "x"),
		rc("ERR:"+keyspace.ErrTimeoutNotFloat, "blpop", "b", "nan"),
		rc("ERR:"+keyspace.ErrTimeoutNotFloat, "blpop", "b", " 1"),
		rc("ERR:"+keyspace.ErrTimeoutNotFloat, "blpop", "b", "1 "),
		rc("ERR:"+keyspace.ErrTimeoutNotFloat, "blpop", "b", "1e5000"),
		rc("ERR:"+keyspace.ErrTimeoutNegative, "blpop", "b", "-1"),
		rc("ERR:"+keyspace.ErrTimeoutNegative, "brpop", "b", "inf"),
		rc("ERR:"+keyspace.ErrTimeoutNegative, "brpop", "b", "1e400"),
		rc("ERR:"+keyspace.ErrTimeoutNegative, "blmove", "s", "d", "left", "left", "-0.5e1"),
		rc("ERR:"+keyspace.ErrTimeoutNegative, "brpoplpush", "s", "d", "-1"),
		rc("ERR:"+keyspace.ErrTimeoutNotFloat, "brpoplpush", "s", "d", "y"),
		rc(strs("b", "2"), "blpop", "b", "0x10"),
		rc("ERR:ERR wrong number of arguments for 'blpop' command", "blpop", "b"),
	})
	if listKeyExists(n, "b") {
		t.Fatal("empty list left in the keyspace")
	}
	// Inside MULTI a blocking pop with nothing to pop replies at once:
	// a null array for BLPOP/BRPOP, a null bulk for BLMOVE/BRPOPLPUSH.
	conn := listRaw(t, n)
	for _, cmd := range []string{"MULTI", "BLPOP nokey 0", "BLMOVE nokey d left left 0", "BRPOPLPUSH nokey d 0", "BRPOP nokey 0"} {
		conn.do(cmd)
	}
	if err := conn.send("EXEC"); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for range 5 {
		line, err := conn.r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.TrimRight(line, "\r\n"))
	}
	if got, want := strings.Join(lines, " "), "*4 *-1 $-1 $-1 *-1"; got != want {
		t.Fatalf("EXEC replies %q, want %q", got, want)
	}
}

// listBlocked runs a blocking command on its own client and returns a
// channel with its reply.
func listBlocked(t *testing.T, n *testNode, args ...any) <-chan any {
	t.Helper()
	c := mustClient(t, n)
	ch := make(chan any, 1)
	go func() {
		v, err := c.Do(context.Background(), args...).Result()
		switch {
		case err == redis.Nil:
			ch <- nil
		case err != nil:
			ch <- "ERR:" + err.Error()
		default:
			ch <- v
		}
	}()
	return ch
}

// listReply waits for a blocked command's reply.
func listReply(t *testing.T, ch <-chan any) any {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatal("blocked command never replied")
		return nil
	}
}

func Test_List_BlockingWokenByPushes(t *testing.T) {
	n, c, ctx := newTestClient(t)
	wake := []struct {
		name string
		push func()
	}{
		{"lpush", func() { c.LPush(ctx, "k", "v") }},
		{"rpush", func() { c.RPush(ctx, "k", "v") }},
		{"lmove destination", func() { c.RPush(ctx, "src", "v"); c.LMove(ctx, "src", "k", "left", "left") }},
		{"rpoplpush destination", func() { c.RPush(ctx, "src", "v"); c.RPopLPush(ctx, "src", "k") }},
		{"rename", func() { c.RPush(ctx, "src", "v"); c.Rename(ctx, "src", "k") }},
		{"multi/exec", func() {
			c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.RPush(ctx, "k", "v")
				return nil
			})
		}},
	}
	for _, w := range wake {
		t.Run(w.name, func(t *testing.T) {
			for _, cmd := range [][]any{
				{"blpop", "other", "k", "0"},
				{"brpop", "k", "0"},
			} {
				ch := listBlocked(t, n, cmd...)
				listWaitBlocked(t, n, "k", 1)
				w.push()
				if got, want := listReply(t, ch), strs("k", "v"); !reflect.DeepEqual(got, want) {
					t.Fatalf("%v = %#v, want %#v", cmd, got, want)
				}
				if listKeyExists(n, "k") {
					t.Fatalf("%v: list not deleted after its last element was popped", cmd)
				}
				listWaitBlocked(t, n, "k", 0)
			}
		})
	}
}

func Test_List_BlockingTimeout(t *testing.T) {
	n, _, _ := newTestClient(t)
	for _, cmd := range [][]any{
		{"blpop", "k", "0.05"},
		{"brpop", "k", "k2", "0.05"},
		{"blmove", "k", "d", "left", "left", "0.05"},
		{"brpoplpush", "k", "d", "0.05"},
	} {
		if got := listReply(t, listBlocked(t, n, cmd...)); got != nil {
			t.Fatalf("%v timed out with %#v, want nil", cmd, got)
		}
	}
	listWaitBlocked(t, n, "k", 0)
	// Redis 7.0.15 times out every list pop, BLMOVE included, with *-1.
	conn := listRaw(t, n)
	for _, cmd := range []string{"BLPOP k 0.01", "BLMOVE k d left left 0.01", "BRPOPLPUSH k d 0.01"} {
		if got := conn.do(cmd); got != "*-1" {
			t.Fatalf("%s timeout reply %q, want *-1", cmd, got)
		}
	}
}

func Test_List_BlockingSeveralClients(t *testing.T) {
	n, c, ctx := newTestClient(t)
	const clients = 5
	var chs []<-chan any
	for i := range clients {
		chs = append(chs, listBlocked(t, n, "blpop", "q", "0"))
		listWaitBlocked(t, n, "q", i+1)
	}
	c.RPush(ctx, "q", "e0", "e1", "e2", "e3", "e4", "extra")
	var got []string
	for _, ch := range chs {
		v, ok := listReply(t, ch).([]any)
		if !ok || len(v) != 2 || v[0] != "q" {
			t.Fatalf("reply %#v, want [q element]", v)
		}
		got = append(got, v[1].(string))
	}
	slices.Sort(got)
	if want := []string{"e0", "e1", "e2", "e3", "e4"}; !slices.Equal(got, want) {
		t.Fatalf("clients got %v, want one each of %v", got, want)
	}
	if rest := c.LRange(ctx, "q", 0, -1).Val(); !slices.Equal(rest, []string{"extra"}) {
		t.Fatalf("left in list %v, want [extra]", rest)
	}
	listWaitBlocked(t, n, "q", 0)
}

func Test_List_BlmoveWakeUp(t *testing.T) {
	n, c, ctx := newTestClient(t)
	ch := listBlocked(t, n, "blmove", "src", "dst", "right", "left", "0")
	ch2 := listBlocked(t, n, "brpoplpush", "src2", "dst", "0")
	listWaitBlocked(t, n, "src", 1)
	listWaitBlocked(t, n, "src2", 1)
	c.RPush(ctx, "dst", "old")
	c.RPush(ctx, "src", "a", "b")
	if got := listReply(t, ch); got != "b" {
		t.Fatalf("BLMOVE = %#v, want b", got)
	}
	c.LPush(ctx, "src2", "z")
	if got := listReply(t, ch2); got != "z" {
		t.Fatalf("BRPOPLPUSH = %#v, want z", got)
	}
	if got := c.LRange(ctx, "dst", 0, -1).Val(); !slices.Equal(got, []string{"z", "b", "old"}) {
		t.Fatalf("dst = %v", got)
	}
	if got := c.LRange(ctx, "src", 0, -1).Val(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("src = %v", got)
	}
}

// Test_List_BlockedWrongTypeKeepsWaiting: as in Redis 7.0, a key that
// becomes a non-list while a client waits on it does not wake it with an
// error; a later push does.
func Test_List_BlockedWrongTypeKeepsWaiting(t *testing.T) {
	n, c, ctx := newTestClient(t)
	ch := listBlocked(t, n, "blpop", "k", "0")
	ch2 := listBlocked(t, n, "blmove", "k", "d", "left", "left", "0")
	listWaitBlocked(t, n, "k", 2)
	c.Set(ctx, "k", "string", 0)
	// Both were retried (the SET touched k) and parked again.
	listWaitBlocked(t, n, "k", 2)
	select {
	case v := <-ch:
		t.Fatalf("BLPOP replied %#v to a SET", v)
	case v := <-ch2:
		t.Fatalf("BLMOVE replied %#v to a SET", v)
	default:
	}
	c.Del(ctx, "k")
	c.RPush(ctx, "k", "a", "b")
	got := []any{listReply(t, ch), listReply(t, ch2)}
	if !reflect.DeepEqual(got[0], strs("k", "a")) && !reflect.DeepEqual(got[0], strs("k", "b")) {
		t.Fatalf("BLPOP = %#v", got[0])
	}
	if got[1] != "a" && got[1] != "b" {
		t.Fatalf("BLMOVE = %#v", got[1])
	}
}

func Test_List_BlockedClientDisconnects(t *testing.T) {
	n, c, ctx := newTestClient(t)
	conn := listRaw(t, n)
	if err := conn.send("BLPOP k 0"); err != nil {
		t.Fatal(err)
	}
	listWaitBlocked(t, n, "k", 1)
	conn.Close()
	// The server notices the disconnect and forgets the waiter…
	listWaitBlocked(t, n, "k", 0)
	// …so a later push stays in the list.
	c.RPush(ctx, "k", "v")
	if got := c.LRange(ctx, "k", 0, -1).Val(); !slices.Equal(got, []string{"v"}) {
		t.Fatalf("list after the blocked client left = %v, want [v]", got)
	}
}

func Test_List_CloseReleasesBlocked(t *testing.T) {
	n, _, _ := newTestClient(t)
	ch := listBlocked(t, n, "blpop", "k", "0")
	ch2 := listBlocked(t, n, "blmove", "k", "d", "left", "left", "0")
	listWaitBlocked(t, n, "k", 2)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{listReply(t, ch), listReply(t, ch2)} {
		if s, ok := v.(string); !ok || !strings.HasPrefix(s, "ERR:") {
			t.Fatalf("blocked command after Close = %#v, want a connection error", v)
		}
	}
}

// Test_List_WatchOnlyPoppedKey: a blocking pop touches only the key it
// popped, so a transaction watching another of its keys still commits.
func Test_List_WatchOnlyPoppedKey(t *testing.T) {
	n, c, ctx := newTestClient(t)
	c.RPush(ctx, "a", "1")
	other := mustClient(t, n)
	err := c.Watch(ctx, func(tx *redis.Tx) error {
		if v := other.BLPop(ctx, 0, "a", "b").Val(); !slices.Equal(v, []string{"a", "1"}) {
			return fmt.Errorf("BLPOP = %v", v)
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "x", "1", 0)
			return nil
		})
		return err
	}, "b")
	if err != nil {
		t.Fatalf("transaction watching b: %v", err)
	}
	c.RPush(ctx, "a", "1")
	err = c.Watch(ctx, func(tx *redis.Tx) error {
		other.BLPop(ctx, 0, "a", "b")
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "x", "2", 0)
			return nil
		})
		return err
	}, "a")
	if !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("transaction watching the popped key: %v, want TxFailedErr", err)
	}
}

// Test_List_JournalAndRecovery checks the journaled forms (blocking pops
// as their non-blocking effect) and that replaying them rebuilds the same
// dataset.
func Test_List_JournalAndRecovery(t *testing.T) {
	dir := t.TempDir()
	n := mustNewNode(t, Config{DataDir: dir})
	c := mustClient(t, n)
	ctx := context.Background()
	log := tapJournal(n.Server)
	ch := listBlocked(t, n, "brpop", "w1", "w2", "0")
	ch2 := listBlocked(t, n, "blmove", "m", "d", "left", "right", "0")
	listWaitBlocked(t, n, "w2", 1)
	listWaitBlocked(t, n, "m", 1)
	cmds := [][]any{
		{"rpush", "l", "a", "b", "c", "d", "e", "f"},
		{"lpush", "l", "z"},
		{"lpushx", "nokey", "x"}, // no effect: not journaled
		{"lpop", "l"},
		{"rpop", "l", "2"},
		{"lpop", "l", "0"}, // no effect
		{"lset", "l", "0", "A"},
		{"linsert", "l", "after", "A", "AA"},
		{"lrem", "l", "1", "b"},
		{"lrem", "l", "1", "nothere"}, // no effect
		{"ltrim", "l", "0", "2"},
		{"lmove", "l", "d", "right", "left"},
		{"rpoplpush", "l", "d"},
		{"blpop", "l", "0"},
		{"brpoplpush", "d", "d", "0"},
		{"rpush", "w2", "p"},
		{"rpush", "m", "q"},
	}
	for _, cmd := range cmds {
		if err := c.Do(ctx, cmd...).Err(); err != nil && err != redis.Nil {
			t.Fatalf("%v: %v", cmd, err)
		}
	}
	if got := listReply(t, ch); !reflect.DeepEqual(got, strs("w2", "p")) {
		t.Fatalf("BRPOP = %#v", got)
	}
	if got := listReply(t, ch2); got != "q" {
		t.Fatalf("BLMOVE = %#v", got)
	}
	got := strings.Join(log.lines(), "|")
	want := strings.Join([]string{
		"rpush l a b c d e f", "lpush l z", "lpop l", "rpop l 2", "lset l 0 A",
		"linsert l after A AA", "lrem l 1 b", "ltrim l 0 2", "lmove l d right left",
		"rpoplpush l d", "lpop l", "lmove d d right left", "rpush w2 p", "rpop w2",
		"rpush m q", "lmove m d left right",
	}, "|")
	if got != want {
		t.Fatalf("journal\n%s\nwant\n%s", got, want)
	}
	digest := n.Digest()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n2 := mustNewNode(t, Config{DataDir: dir})
	if got := n2.Digest(); got != digest {
		t.Fatalf("digest after recovery %s, want %s", got, digest)
	}
	if got := mustClient(t, n2).LRange(ctx, "d", 0, -1).Val(); !slices.Equal(got, []string{"c", "AA", "q"}) {
		t.Fatalf("d after recovery = %v", got)
	}
}
