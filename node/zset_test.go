package node

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/node/keyspace"
	"github.com/redis/go-redis/v9"
)

// zsetExpect checks a table of commands and their expected replies.
// A case whose command is "@exists" checks the keyspace directly (a key
// left holding an empty sorted set would show there).
func zsetExpect(t *testing.T, n *testNode, c *redis.Client, cases []zsetCase) {
	t.Helper()
	for _, tc := range cases {
		var got any
		if tc.args[0] == "@exists" {
			n.mu.Lock()
			_, got = n.db.Keys[tc.args[1].(string)]
			n.mu.Unlock()
		} else {
			got = doReply(t, c, tc.args...)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v = %#v, want %#v", tc.args, got, tc.want)
		}
	}
}

// zsetCase is one command and its expected reply.
type zsetCase = replyCase

// zc builds a zsetCase.
func zc(want any, args ...any) zsetCase { return zsetCase{args: args, want: want} }

func Test_ZSet_ScoreFormatAndParse(t *testing.T) {
	n, c, _ := newTestClient(t)
	zsetExpect(t, n, c, []zsetCase{
		zc(int64(9), "zadd", "f", "1.1", "a", "1e20", "b", "0.00001", "c", "-0", "d", "1e-300", "g",
			"123456789012345678", "h", "0x10", "x", "inf", "i", "-inf", "j"),
		zc("1.1000000000000001", "zscore", "f", "a"),
		zc("1e+20", "zscore", "f", "b"),
		zc("1.0000000000000001e-05", "zscore", "f", "c"),
		zc("0", "zscore", "f", "d"),
		zc("1.2345678901234568e+17", "zscore", "f", "h"),
		zc("16", "zscore", "f", "x"),
		zc("inf", "zscore", "f", "i"),
		zc("-inf", "zscore", "f", "j"),
		zc("-0", "zadd", "f", "incr", "-0", "negzero"),
		zc("0", "zscore", "f", "negzero"),
	})
	for _, bad := range []string{"abc", "nan", " 1", "1 ", "", "1_0", "1e-400", "1e400", "0x"} {
		if got := doReply(t, c, "zadd", "f", bad, "y"); got != "ERR:ERR value is not a valid float" {
			t.Errorf("ZADD score %q = %v", bad, got)
		}
	}
	// Range ends are read like strtod: "" and "(" are 0, leading spaces pass.
	zsetExpect(t, n, c, []zsetCase{
		zc(int64(9), "zcount", "f", "", "+inf"),
		zc(int64(7), "zcount", "f", "(", "+inf"),
		zc(int64(1), "zcount", "f", " 1", "5"),
		zc(int64(1), "zcount", "f", "1e400", "+inf"),
		zc("ERR:ERR min or max is not a float", "zcount", "f", " ", "5"),
		zc("ERR:ERR min or max is not a float", "zcount", "f", "nan", "5"),
	})
}

func Test_ZSet_AddOptions(t *testing.T) {
	n, c, _ := newTestClient(t)
	zsetExpect(t, n, c, []zsetCase{
		zc(int64(3), "zadd", "z", "1", "a", "2", "b", "3", "c"),
		zc(int64(0), "zadd", "z", "1", "a"),
		zc("ERR:ERR XX and NX options at the same time are not compatible", "zadd", "z", "nx", "xx", "1", "a"),
		zc("ERR:ERR GT, LT, and/or NX options at the same time are not compatible", "zadd", "z", "gt", "lt", "1", "a"),
		zc("ERR:ERR GT, LT, and/or NX options at the same time are not compatible", "zadd", "z", "NX", "GT", "1", "a"),
		zc("ERR:ERR GT, LT, and/or NX options at the same time are not compatible", "zadd", "z", "nx", "lt", "1", "a"),
		zc("ERR:ERR INCR option supports a single increment-element pair", "zadd", "z", "incr", "1", "a", "2", "b"),
		zc("ERR:ERR syntax error", "zadd", "z", "1", "a", "2"),
		zc("ERR:ERR syntax error", "zadd", "z", "ch", "1"),
		zc("ERR:ERR wrong number of arguments for 'zadd' command", "zadd", "z", "1"),
		zc("ERR:ERR value is not a valid float", "zadd", "z", "1", "a", "x", "b"),
		// XX on a missing key creates nothing.
		zc(int64(0), "zadd", "nokey", "xx", "1", "a"),
		zc(int64(0), "zadd", "z", "xx", "5", "newm"),
		zc(int64(1), "zadd", "z", "nx", "5", "a", "6", "d"),
		zc("1", "zscore", "z", "a"),
		zc(int64(2), "zadd", "z", "ch", "10", "a", "2", "b", "7", "e"),
		zc(int64(1), "zadd", "z", "gt", "ch", "5", "a", "20", "b"),
		zc(strs("10", "20"), "zmscore", "z", "a", "b"),
		zc(int64(1), "zadd", "z", "lt", "ch", "5", "a", "30", "b"),
		zc(strs("5", "20"), "zmscore", "z", "a", "b"),
		zc(int64(1), "zadd", "z", "xx", "gt", "ch", "25", "b", "1", "nope"),
		zc(nil, "zscore", "z", "nope"),
		// INCR: new score, or nil when a condition stops it.
		zc(nil, "zadd", "z", "xx", "incr", "1", "nope"),
		zc(nil, "zadd", "z", "nx", "incr", "1", "a"),
		zc(nil, "zadd", "z", "gt", "incr", "-1", "a"),
		zc("6.5", "zadd", "z", "incr", "1.5", "a"),
		zc(nil, "zadd", "z", "lt", "incr", "0", "a"),
		zc("6.5", "zadd", "z", "incr", "0", "a"),
	})
}

func Test_ZSet_IncrBy(t *testing.T) {
	n, c, _ := newTestClient(t)
	zsetExpect(t, n, c, []zsetCase{
		zc("2.5", "zincrby", "z", "2.5", "a"),
		zc("3", "zincrby", "z", "0.5", "a"),
		zc("ERR:ERR value is not a valid float", "zincrby", "z", "abc", "a"),
		zc("ERR:ERR syntax error", "zincrby", "z", "nx", "a"),
		zc("inf", "zincrby", "z", "inf", "x"),
		zc("ERR:ERR resulting score is not a number (NaN)", "zincrby", "z", "-inf", "x"),
		zc("inf", "zscore", "z", "x"),
		zc("ERR:ERR wrong number of arguments for 'zincrby' command", "zincrby", "z", "1"),
	})
}

func Test_ZSet_ReadCommands(t *testing.T) {
	n, c, _ := newTestClient(t)
	doReply(t, c, "zadd", "z", "1", "a", "2", "b", "3", "c")
	zsetExpect(t, n, c, []zsetCase{
		zc(int64(3), "zcard", "z"),
		zc(int64(0), "zcard", "nokey"),
		zc(nil, "zscore", "nokey", "a"),
		zc([]any{"1", nil, "3"}, "zmscore", "z", "a", "nope", "c"),
		zc([]any{nil, nil}, "zmscore", "nokey", "a", "b"),
		zc(int64(3), "zcount", "z", "-inf", "+inf"),
		zc(int64(1), "zcount", "z", "(1", "(3"),
		zc(int64(0), "zcount", "z", "3", "1"),
		zc(int64(0), "zcount", "z", "(2", "2"),
		zc(int64(0), "zcount", "nokey", "0", "1"),
		zc("ERR:ERR min or max is not a float", "zcount", "z", "a", "b"),
		zc(int64(0), "zrank", "z", "a"),
		zc(int64(2), "zrank", "z", "c"),
		zc(int64(2), "zrevrank", "z", "a"),
		zc(int64(0), "zrevrank", "z", "c"),
		zc(nil, "zrank", "z", "nope"),
		zc(nil, "zrevrank", "nokey", "a"),
	})
}

func Test_ZSet_Range(t *testing.T) {
	n, c, _ := newTestClient(t)
	doReply(t, c, "zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
	zsetExpect(t, n, c, []zsetCase{
		zc(strs("a", "b", "c", "d", "e"), "zrange", "z", "0", "-1"),
		zc(strs("a", "1", "b", "2"), "zrange", "z", "0", "1", "WITHSCORES"),
		zc(strs("e", "5", "d", "4"), "zrange", "z", "0", "1", "withscores", "rev"),
		zc(strs("d", "e"), "zrange", "z", "-2", "-1"),
		zc(strs(), "zrange", "z", "3", "1"),
		zc(strs("a", "b", "c", "d", "e"), "zrange", "z", "-100", "100"),
		zc(strs(), "zrange", "nokey", "0", "-1"),
		zc(strs("b", "2", "c", "3", "d", "4"), "zrange", "z", "(1", "(5", "byscore", "withscores"),
		zc(strs("d", "c", "b"), "zrange", "z", "(5", "(1", "byscore", "rev"),
		zc(strs("b", "c"), "zrange", "z", "-inf", "+inf", "byscore", "limit", "1", "2"),
		zc(strs(), "zrange", "z", "-inf", "+inf", "byscore", "limit", "-1", "2"),
		zc(strs("b", "c", "d", "e"), "zrange", "z", "-inf", "+inf", "byscore", "limit", "1", "-1"),
		zc(strs(), "zrange", "z", "-inf", "+inf", "byscore", "limit", "1", "0"),
		zc(strs(), "zrange", "z", "-inf", "+inf", "byscore", "limit", "5", "1"),
		zc(strs("d", "4", "c", "3"), "zrange", "z", "+inf", "-inf", "byscore", "rev", "limit", "1", "2", "withscores"),
		zc(strs("e"), "zrange", "z", "4", "10", "byscore", "limit", "1", "5"),
		zc("ERR:ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX", "zrange", "z", "0", "-1", "limit", "0", "1"),
		zc("ERR:ERR syntax error, WITHSCORES not supported in combination with BYLEX", "zrange", "z", "-", "+", "bylex", "withscores"),
		zc("ERR:ERR min or max is not a float", "zrange", "z", "x", "y", "byscore"),
		zc("ERR:ERR min or max not valid string range item", "zrange", "z", "a", "b", "bylex"),
		zc("ERR:ERR value is not an integer or out of range", "zrange", "z", "a", "b"),
		zc("ERR:ERR syntax error", "zrange", "z", "0", "-1", "byscore", "bylex"),
		zc("ERR:ERR syntax error", "zrange", "z", "0", "-1", "rev", "rev"),
		zc("ERR:ERR syntax error", "zrange", "z", "0", "-1", "limit", "1"),
		zc("ERR:ERR syntax error", "zrange", "z", "0", "-1", "foo"),
		zc("ERR:ERR value is not an integer or out of range", "zrange", "z", "0", "1", "byscore", "limit", "x", "1"),
		zc("ERR:ERR wrong number of arguments for 'zrange' command", "zrange", "z", "0"),
		// The fixed-form commands.
		zc(strs("a", "1", "b", "2", "c", "3"), "zrangebyscore", "z", "-inf", "3", "withscores"),
		zc(strs("b", "2"), "zrangebyscore", "z", "-inf", "+inf", "withscores", "limit", "1", "1"),
		zc(strs("b", "c", "d"), "zrangebyscore", "z", "2", "(5"),
		zc("ERR:ERR syntax error", "zrangebyscore", "z", "-inf", "+inf", "rev"),
		zc("ERR:ERR syntax error", "zrangebyscore", "z", "-inf", "+inf", "byscore"),
		zc(strs("e", "5", "d", "4"), "zrevrange", "z", "0", "1", "withscores"),
		zc(strs("a"), "zrevrange", "z", "-1", "-1"),
		zc("ERR:ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX", "zrevrange", "z", "0", "1", "limit", "0", "1"),
		zc(strs("e", "5", "d", "4", "c", "3", "b", "2", "a", "1"), "zrevrangebyscore", "z", "+inf", "-inf", "withscores"),
		zc(strs("d"), "zrevrangebyscore", "z", "4", "(2", "limit", "0", "1"),
		zc(strs("d", "c"), "zrevrangebyscore", "z", "4", "(2", "limit", "0", "-5"),
		zc(strs(), "zrevrangebyscore", "z", "2", "4"),
	})
}

func Test_ZSet_Lex(t *testing.T) {
	n, c, _ := newTestClient(t)
	doReply(t, c, "zadd", "lx", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "f")
	zsetExpect(t, n, c, []zsetCase{
		zc(strs("a", "b", "c", "d", "e", "f"), "zrangebylex", "lx", "-", "+"),
		zc(strs("b", "c", "d"), "zrangebylex", "lx", "[b", "(e"),
		zc(strs("d", "e"), "zrangebylex", "lx", "(b", "[e", "limit", "1", "2"),
		zc(strs("f", "e", "d", "c", "b", "a"), "zrevrangebylex", "lx", "+", "-"),
		zc(strs("e", "d", "c"), "zrevrangebylex", "lx", "[e", "(b"),
		zc(strs("e", "d"), "zrevrangebylex", "lx", "+", "-", "limit", "1", "2"),
		zc(strs(), "zrangebylex", "lx", "+", "-"),
		zc(strs(), "zrangebylex", "lx", "-", "-"),
		zc(strs(), "zrangebylex", "lx", "[c", "(c"),
		zc(strs("c"), "zrangebylex", "lx", "[c", "[c"),
		zc(strs("b", "c", "d"), "zrange", "lx", "[b", "[d", "bylex"),
		zc(strs("d", "c", "b"), "zrange", "lx", "[d", "[b", "bylex", "rev"),
		zc(strs("d"), "zrange", "lx", "[d", "[b", "bylex", "rev", "limit", "0", "1"),
		zc(strs("a", "b"), "zrangebylex", "lx", "[", "(c"),
		zc("ERR:ERR min or max not valid string range item", "zrangebylex", "lx", "b", "c"),
		zc("ERR:ERR min or max not valid string range item", "zrangebylex", "lx", "-a", "+"),
		zc("ERR:ERR syntax error, WITHSCORES not supported in combination with BYLEX", "zrangebylex", "lx", "-", "+", "withscores"),
		zc(int64(6), "zlexcount", "lx", "-", "+"),
		zc(int64(2), "zlexcount", "lx", "[b", "(d"),
		zc(int64(0), "zlexcount", "nokey", "-", "+"),
		zc("ERR:ERR min or max not valid string range item", "zlexcount", "lx", "a", "b"),
		zc(int64(2), "zremrangebylex", "lx", "[e", "+"),
		zc("ERR:ERR min or max not valid string range item", "zremrangebylex", "lx", "a", "+"),
		zc(int64(0), "zremrangebylex", "nokey", "-", "+"),
		zc(strs("a", "b", "c", "d"), "zrange", "lx", "0", "-1"),
		zc(int64(4), "zremrangebylex", "lx", "-", "+"),
		zc(false, "@exists", "lx"),
	})
}

func Test_ZSet_Pop(t *testing.T) {
	n, c, _ := newTestClient(t)
	doReply(t, c, "zadd", "z", "1", "a", "1", "b", "2", "c", "3", "d", "3", "e", "4", "f")
	zsetExpect(t, n, c, []zsetCase{
		zc(strs("a", "1"), "zpopmin", "z"),
		zc(strs("b", "1", "c", "2"), "zpopmin", "z", "2"),
		zc(strs("f", "4"), "zpopmax", "z"),
		zc(strs("e", "3"), "zpopmax", "z", "1"),
		zc(strs(), "zpopmin", "z", "0"),
		zc("ERR:ERR value is out of range, must be positive", "zpopmin", "z", "-1"),
		zc("ERR:ERR value is out of range, must be positive", "zpopmin", "z", "abc"),
		zc("ERR:ERR value is out of range, must be positive", "zpopmin", "nokey", "-1"),
		zc("ERR:ERR syntax error", "zpopmin", "z", "1", "2"),
		zc(strs(), "zpopmin", "nokey"),
		zc(strs(), "zpopmax", "nokey", "3"),
		zc(strs("d", "3"), "zpopmax", "z", "100"),
		zc(false, "@exists", "z"),
	})
}

func Test_ZSet_RemRange(t *testing.T) {
	n, c, _ := newTestClient(t)
	doReply(t, c, "zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f")
	zsetExpect(t, n, c, []zsetCase{
		zc(int64(1), "zremrangebyscore", "z", "(1", "2"),
		zc("ERR:ERR min or max is not a float", "zremrangebyscore", "z", "a", "b"),
		zc(int64(0), "zremrangebyscore", "nokey", "0", "1"),
		zc(int64(0), "zremrangebyscore", "z", "10", "1"),
		zc(int64(1), "zremrangebyrank", "z", "0", "0"),
		zc(int64(1), "zremrangebyrank", "z", "-1", "-1"),
		zc(int64(0), "zremrangebyrank", "z", "5", "10"),
		zc(int64(0), "zremrangebyrank", "z", "2", "1"),
		zc("ERR:ERR value is not an integer or out of range", "zremrangebyrank", "z", "a", "1"),
		zc(int64(0), "zremrangebyrank", "nokey", "0", "-1"),
		zc(strs("c", "3", "d", "4", "e", "5"), "zrange", "z", "0", "-1", "withscores"),
		zc(int64(1), "zremrangebyrank", "z", "1", "1"),
		zc(int64(2), "zremrangebyscore", "z", "-inf", "+inf"),
		zc(false, "@exists", "z"),
	})
}

func Test_ZSet_RangeStore(t *testing.T) {
	n, c, _ := newTestClient(t)
	doReply(t, c, "zadd", "z", "1", "a", "2", "b", "3", "c")
	doReply(t, c, "set", "dst", "string")
	zsetExpect(t, n, c, []zsetCase{
		zc(int64(2), "zrangestore", "dst", "z", "0", "1"),
		zc(strs("a", "1", "b", "2"), "zrange", "dst", "0", "-1", "withscores"),
		zc(int64(2), "zrangestore", "dst", "z", "2", "1", "byscore", "rev"),
		zc(strs("a", "b"), "zrange", "dst", "0", "-1"),
		zc(int64(1), "zrangestore", "dst", "z", "[a", "[c", "bylex", "limit", "1", "1"),
		zc(strs("b"), "zrange", "dst", "0", "-1"),
		zc("ERR:ERR syntax error", "zrangestore", "dst", "z", "0", "-1", "withscores"),
		zc(int64(0), "zrangestore", "dst", "z", "(5", "10", "byscore"),
		zc(false, "@exists", "dst"),
		zc(int64(1), "zrangestore", "dst", "z", "0", "0"),
		zc(int64(0), "zrangestore", "dst", "nokey", "0", "-1"),
		zc(false, "@exists", "dst"),
		zc(int64(3), "zrangestore", "z", "z", "0", "-1", "rev"),
		zc(strs("a", "b", "c"), "zrange", "z", "0", "-1"),
		zc("ERR:ERR wrong number of arguments for 'zrangestore' command", "zrangestore", "dst", "z", "0"),
	})
}

func Test_ZSet_RemAndEmptyKeyDeleted(t *testing.T) {
	n, c, _ := newTestClient(t)
	doReply(t, c, "zadd", "z", "1", "a", "2", "b", "3", "c")
	zsetExpect(t, n, c, []zsetCase{
		zc(int64(1), "zrem", "z", "a", "nope"),
		zc(int64(0), "zrem", "z", "nope"),
		zc(int64(0), "zrem", "nokey", "a"),
		zc(int64(2), "zrem", "z", "b", "c", "b"),
		zc(false, "@exists", "z"),
		zc("ERR:ERR wrong number of arguments for 'zrem' command", "zrem", "z"),
	})
}

func Test_ZSet_WrongType(t *testing.T) {
	_, c, _ := newTestClient(t)
	doReply(t, c, "set", "s", "str")
	const wt = "ERR:WRONGTYPE Operation against a key holding the wrong kind of value"
	for _, args := range [][]any{
		{"zadd", "s", "1", "a"}, {"zincrby", "s", "1", "a"}, {"zrem", "s", "a"}, {"zscore", "s", "a"},
		{"zmscore", "s", "a"}, {"zcard", "s"}, {"zcount", "s", "0", "1"}, {"zlexcount", "s", "-", "+"},
		{"zrank", "s", "a"}, {"zrevrank", "s", "a"}, {"zrange", "s", "0", "-1"},
		{"zrangebyscore", "s", "0", "1"}, {"zrevrange", "s", "0", "1"}, {"zrevrangebyscore", "s", "1", "0"},
		{"zrangebylex", "s", "-", "+"}, {"zrevrangebylex", "s", "+", "-"}, {"zpopmin", "s"},
		{"zpopmax", "s", "2"}, {"zremrangebyscore", "s", "0", "1"}, {"zremrangebyrank", "s", "0", "1"},
		{"zremrangebylex", "s", "-", "+"}, {"zscan", "s", "0"}, {"zrangestore", "d", "s", "0", "-1"},
	} {
		if got := doReply(t, c, args...); got != wt {
			t.Errorf("%v = %v, want WRONGTYPE", args, got)
		}
	}
	if got := doReply(t, c, "get", "s"); got != "str" {
		t.Errorf("string changed: %v", got)
	}
}

// zscanAll iterates ZSCAN to the end and returns member → score.
func zscanAll(t *testing.T, c *redis.Client, key string, extra ...any) map[string]string {
	t.Helper()
	out := map[string]string{}
	cursor := "0"
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("ZSCAN never finished")
		}
		args := append([]any{"zscan", key, cursor}, extra...)
		reply, ok := doReply(t, c, args...).([]any)
		if !ok || len(reply) != 2 {
			t.Fatalf("ZSCAN reply %#v", reply)
		}
		items := reply[1].([]any)
		if len(items)%2 != 0 {
			t.Fatalf("ZSCAN odd item count %d", len(items))
		}
		for j := 0; j < len(items); j += 2 {
			m := items[j].(string)
			if _, dup := out[m]; dup {
				t.Fatalf("ZSCAN returned %s twice", m)
			}
			out[m] = items[j+1].(string)
		}
		cursor = reply[0].(string)
		if cursor == "0" {
			return out
		}
	}
}

func Test_ZSet_Scan(t *testing.T) {
	n, c, ctx := newTestClient(t)
	want := map[string]string{}
	args := []any{"zadd", "z"}
	for i := 0; i < 300; i++ {
		m := fmt.Sprintf("m%03d", i)
		args = append(args, float64(i)/4, m)
		want[m] = keyspace.FormatScore(float64(i) / 4)
	}
	args = append(args, "5e18", "big", "123456789012345678", "huge")
	want["big"], want["huge"] = "5e+18", "123456789012345680"
	if err := c.Do(ctx, args...).Err(); err != nil {
		t.Fatal(err)
	}
	if got := zscanAll(t, c, "z", "count", "7"); !reflect.DeepEqual(got, want) {
		t.Fatalf("ZSCAN COUNT 7 got %d members, want %d: %v", len(got), len(want), got)
	}
	if got := zscanAll(t, c, "z"); len(got) != len(want) {
		t.Fatalf("ZSCAN got %d members, want %d", len(got), len(want))
	}
	matched := zscanAll(t, c, "z", "match", "m1?5", "count", "50")
	wantMatch := map[string]string{}
	for m, s := range want {
		if len(m) == 4 && strings.HasPrefix(m, "m1") && m[3] == '5' {
			wantMatch[m] = s
		}
	}
	if !reflect.DeepEqual(matched, wantMatch) {
		t.Fatalf("ZSCAN MATCH m1?5 = %v, want %v", matched, wantMatch)
	}
	zsetExpect(t, n, c, []zsetCase{
		zc([]any{"0", []any{}}, "zscan", "nokey", "0"),
		zc(int64(3), "zadd", "small", "2", "b", "1.1", "c", "1", "a"),
		// A small set comes back whole and in order, like Redis' listpack.
		zc([]any{"0", strs("a", "1", "c", "1.1000000000000001", "b", "2")}, "zscan", "small", "0", "count", "1"),
		zc([]any{"0", strs("a", "1", "b", "2")}, "zscan", "small", "0", "match", "[ab]"),
		zc([]any{"0", []any{}}, "zscan", "nokey", "0", "count", "0"),
		zc("ERR:ERR invalid cursor", "zscan", "z", "abc"),
		zc("ERR:ERR syntax error", "zscan", "z", "0", "count", "0"),
		zc("ERR:ERR value is not an integer or out of range", "zscan", "z", "0", "count", "x"),
		zc("ERR:ERR syntax error", "zscan", "z", "0", "foo"),
		zc("ERR:ERR syntax error", "zscan", "z", "0", "match"),
	})
}

func Test_ZSet_NoOpWritesAreNotJournaled(t *testing.T) {
	n, c, _ := newTestClient(t)
	doReply(t, c, "zadd", "z", "1", "a", "2", "b")
	before := n.Persistence().LSN
	for _, args := range [][]any{
		{"zadd", "z", "1", "a"}, {"zadd", "z", "nx", "5", "a"}, {"zadd", "z", "xx", "5", "q"},
		{"zadd", "z", "gt", "0", "a"}, {"zadd", "z", "incr", "0", "a"}, {"zincrby", "z", "0", "a"},
		{"zrem", "z", "q"}, {"zrem", "nokey", "q"}, {"zpopmin", "nokey"}, {"zpopmin", "z", "0"},
		{"zremrangebyscore", "z", "5", "10"}, {"zremrangebyrank", "z", "5", "10"},
		{"zremrangebylex", "z", "(z", "+"}, {"zrangestore", "d", "nokey", "0", "-1"},
		{"zadd", "z", "bad", "a"},
	} {
		doReply(t, c, args...)
		if got := n.Persistence().LSN; got != before {
			t.Fatalf("%v changed nothing but moved the LSN %d -> %d", args, before, got)
		}
	}
}

func Test_ZSet_JournalReplayReproducesState(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), Fsync: FsyncAlways}
	n := mustNewNode(t, cfg)
	c := mustClient(t, n)
	for _, args := range [][]any{
		{"zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f", "7", "g"},
		{"zadd", "z", "incr", "0.1", "a"}, {"zincrby", "z", "0.2", "a"}, {"zincrby", "z", "-inf", "b"},
		{"zadd", "z", "gt", "ch", "0", "c", "10", "d"}, {"zadd", "z", "lt", "ch", "0", "c", "-10", "d"},
		{"zadd", "z", "nx", "9", "e", "9", "h"}, {"zadd", "z", "xx", "9", "e", "9", "i"},
		{"zrem", "z", "f"}, {"zpopmin", "z"}, {"zpopmax", "z", "2"},
		{"zadd", "y", "0", "a", "0", "b", "0", "c", "0", "d", "1", "e", "2", "f"},
		{"zremrangebylex", "y", "[b", "[c"}, {"zremrangebyrank", "y", "-1", "-1"}, {"zremrangebyscore", "y", "(0", "1"},
		{"zrangestore", "st", "z", "0", "-1", "rev"}, {"zrangestore", "st2", "z", "(0", "+inf", "byscore", "limit", "1", "1"},
		{"zadd", "gone", "1", "x"}, {"zpopmax", "gone"},
	} {
		if err := c.Do(context.Background(), args...).Err(); err != nil && err != redis.Nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	want := n.Digest()
	// Close the client and wait for the node to drop it before closing
	// the node, then recover from the same directory.
	c.Close()
	for i := 0; ; i++ {
		n.clientsMu.Lock()
		left := len(n.clients)
		n.clientsMu.Unlock()
		if left == 0 {
			break
		}
		if i > 5000 {
			t.Fatal("client never left")
		}
		time.Sleep(time.Millisecond)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n2 := mustNewNode(t, cfg)
	if got := n2.Digest(); got != want {
		t.Fatalf("digest after replay %s, want %s", got, want)
	}
	c2 := mustClient(t, n2)
	if got := doReply(t, c2, "zrange", "z", "0", "-1", "withscores"); !reflect.DeepEqual(got,
		strs("d", "-10", "c", "0", "a", "1.3", "g", "7")) {
		t.Fatalf("z after replay = %v", got)
	}
}

func Test_ZSet_HugeScoresAndSpecialMembers(t *testing.T) {
	n, c, _ := newTestClient(t)
	zsetExpect(t, n, c, []zsetCase{
		zc(int64(3), "zadd", "z", "-inf", "", "inf", "\x00bin", "1.7976931348623157e308", "max"),
		zc(strs("", "-inf", "max", "1.7976931348623157e+308", "\x00bin", "inf"), "zrange", "z", "0", "-1", "withscores"),
		zc(int64(0), "zrank", "z", ""),
		zc(int64(3), "zcount", "z", "-inf", "+inf"),
		zc(int64(1), "zcount", "z", "(-inf", "(+inf"),
		zc(strs("max"), "zrangebyscore", "z", "(-inf", "(inf"),
		zc("ERR:ERR resulting score is not a number (NaN)", "zincrby", "z", "-inf", "\x00bin"),
	})
}
