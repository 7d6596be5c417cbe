package node

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// strDo runs a raw command and returns its reply, nil for a nil reply, or
// "ERR:<text>" for an error reply, so tables compare exactly what is sent.
func strDo(t *testing.T, c *redis.Client, args ...any) any {
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

// strCase is one command and its expected reply.
type strCase struct {
	args []any
	want any
}

// sc builds a strCase.
func sc(want any, args ...any) strCase { return strCase{args: args, want: want} }

// strExpect runs a table of commands in order and checks each reply.
func strExpect(t *testing.T, c *redis.Client, cases []strCase) {
	t.Helper()
	for _, tc := range cases {
		if got := strDo(t, c, tc.args...); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v = %#v, want %#v", tc.args, got, tc.want)
		}
	}
}

// strTTL returns PTTL of key in milliseconds.
func strTTL(t *testing.T, c *redis.Client, key string) int64 {
	t.Helper()
	v, err := c.Do(context.Background(), "pttl", key).Int64()
	if err != nil {
		t.Fatalf("pttl %s: %v", key, err)
	}
	return v
}

// strTTLBetween checks that key's PTTL is within [lo, hi] ms.
func strTTLBetween(t *testing.T, c *redis.Client, key string, lo, hi int64) {
	t.Helper()
	if got := strTTL(t, c, key); got < lo || got > hi {
		t.Errorf("pttl %s = %d, want in [%d, %d]", key, got, lo, hi)
	}
}

const (
	strWrongType = "ERR:WRONGTYPE Operation against a key holding the wrong kind of value"
	strNotInt    = "ERR:ERR value is not an integer or out of range"
	strSyntax    = "ERR:ERR syntax error"
	strNotFloat  = "ERR:ERR value is not a valid float"
)

func Test_Strings_GetSetBasic(t *testing.T) {
	_, c, _ := newTestClient(t)
	strExpect(t, c, []strCase{
		sc(nil, "get", "k"),
		sc("OK", "set", "k", "v"),
		sc("v", "get", "k"),
		sc("OK", "SET", "k", "v2"),
		sc("v2", "GET", "k"),
		sc("OK", "set", "empty", ""),
		sc("", "get", "empty"),
		sc(int64(1), "zadd", "z", 1, "a"),
		sc(strWrongType, "get", "z"),
		sc("OK", "set", "z", "now-a-string"),
		sc("string", "type", "z"),
		sc("ERR:ERR wrong number of arguments for 'get' command", "get"),
		sc("ERR:ERR wrong number of arguments for 'set' command", "set", "k"),
	})
}

func Test_Strings_SetOptions(t *testing.T) {
	_, c, _ := newTestClient(t)
	inv := "ERR:ERR invalid expire time in 'set' command"
	strExpect(t, c, []strCase{
		// NX / XX and their combination with GET.
		sc(nil, "set", "k", "v", "xx"),
		sc(int64(0), "exists", "k"),
		sc("OK", "set", "k", "v", "nx"),
		sc(nil, "set", "k", "w", "nx"),
		sc("v", "get", "k"),
		sc("OK", "set", "k", "w", "xx"),
		sc("w", "get", "k"),
	})
	strExpect(t, c, []strCase{
		sc(strSyntax, "set", "k", "v", "nx", "xx"),
		sc(strSyntax, "set", "k", "v", "xx", "nx"),
		sc(nil, "set", "k", "v", "nx", "nx"),
		sc("w", "set", "k", "v", "nx", "get"), // NX GET: old value, not set
		sc("w", "get", "k"),
		sc("w", "set", "k", "v", "xx", "get"),
		sc("v", "get", "k"),
		sc(nil, "set", "nokey", "v", "xx", "get"),
		sc(int64(0), "exists", "nokey"),
		sc(nil, "set", "new", "1", "get", "get"),
		sc("1", "get", "new"),
		sc(int64(1), "zadd", "z", 1, "a"),
		sc(strWrongType, "set", "z", "v", "get"),
		sc(strWrongType, "set", "z", "v", "nx", "get"),
		sc("zset", "type", "z"),
		sc("OK", "set", "z", "v", "xx"), // a plain SET replaces any type
		// Expiry argument errors.
		sc(inv, "set", "k", "v", "ex", "0"),
		sc(inv, "set", "k", "v", "ex", "-1"),
		sc(inv, "set", "k", "v", "px", "0"),
		sc(inv, "set", "k", "v", "exat", "0"),
		sc(inv, "set", "k", "v", "pxat", "-5"),
		sc(inv, "set", "k", "v", "ex", "9223372036854776"),
		sc(inv, "set", "k", "v", "px", "9223372036854775807"),
		sc(strNotInt, "set", "k", "v", "ex", "abc"),
		sc(strNotInt, "set", "k", "v", "px", "1.5"),
		sc(strSyntax, "set", "k", "v", "ex"),
		sc(strSyntax, "set", "k", "v", "keepttl", "ex", "10"),
		sc(strSyntax, "set", "k", "v", "ex", "10", "keepttl"),
		sc(strSyntax, "set", "k", "v", "ex", "10", "px", "100"),
		sc(strSyntax, "set", "k", "v", "exat", "10", "pxat", "100"),
		sc(strSyntax, "set", "k", "v", "persist"),
		sc(strSyntax, "set", "k", "v", "foo"),
		sc("v", "get", "k"), // none of the failures changed anything
		// An error in the expiry wins over GET's reply.
		sc(inv, "set", "k", "x", "get", "ex", "0"),
		sc("v", "get", "k"),
	})
}

func Test_Strings_SetExpiry(t *testing.T) {
	_, c, _ := newTestClient(t)
	now := time.Now()
	strExpect(t, c, []strCase{
		sc("OK", "set", "ex", "v", "ex", "100"),
		sc("OK", "set", "px", "v", "PX", "100000"),
		sc("OK", "set", "exat", "v", "exat", strconv.FormatInt(now.Add(time.Hour).Unix(), 10)),
		sc("OK", "set", "pxat", "v", "pxat", strconv.FormatInt(now.Add(time.Hour).UnixMilli(), 10)),
		sc("OK", "set", "twice", "v", "ex", "10", "ex", "1000"), // last wins
		sc("OK", "set", "plain", "v"),
		sc("OK", "set", "max", "v", "exat", "9223372036854775"),
	})
	strTTLBetween(t, c, "ex", 90_000, 100_000)
	strTTLBetween(t, c, "px", 90_000, 100_000)
	strTTLBetween(t, c, "exat", 3_500_000, 3_601_000)
	strTTLBetween(t, c, "pxat", 3_500_000, 3_600_000)
	strTTLBetween(t, c, "twice", 990_000, 1_000_000)
	strTTLBetween(t, c, "plain", -1, -1)

	// KEEPTTL keeps the deadline; a SET without it clears it.
	strExpect(t, c, []strCase{
		sc("OK", "set", "ex", "v2", "keepttl"),
		sc("v2", "get", "ex"),
	})
	strTTLBetween(t, c, "ex", 90_000, 100_000)
	strExpect(t, c, []strCase{
		sc("v2", "set", "ex", "v3", "keepttl", "get"),
		sc("OK", "set", "px", "v2"),
		sc("OK", "set", "nottl", "v", "keepttl"),
	})
	strTTLBetween(t, c, "ex", 90_000, 100_000)
	strTTLBetween(t, c, "px", -1, -1)
	strTTLBetween(t, c, "nottl", -1, -1)

	// A deadline in the past: the key reads as missing at once.
	strExpect(t, c, []strCase{
		sc("OK", "set", "past", "v", "pxat", "1"),
		sc(nil, "get", "past"),
		sc(int64(-2), "ttl", "past"),
	})
}

func Test_Strings_SetnxSetexMsetMget(t *testing.T) {
	_, c, _ := newTestClient(t)
	strExpect(t, c, []strCase{
		sc(int64(1), "setnx", "a", "1"),
		sc(int64(0), "setnx", "a", "2"),
		sc("1", "get", "a"),
		sc("OK", "setex", "s", "100", "v"),
		sc("OK", "psetex", "p", "100000", "v"),
		sc("ERR:ERR invalid expire time in 'setex' command", "setex", "s", "0", "v"),
		sc("ERR:ERR invalid expire time in 'psetex' command", "psetex", "s", "-5", "v"),
		sc("ERR:ERR invalid expire time in 'setex' command", "setex", "s", "9223372036854776", "v"),
		sc(strNotInt, "setex", "s", "abc", "v"),
		sc("ERR:ERR wrong number of arguments for 'setex' command", "setex", "s", "10"),
		sc("v", "get", "s"),
		sc(int64(1), "zadd", "z", 1, "m"),
		sc("OK", "setex", "z", "100", "str"), // replaces any type
		sc("str", "get", "z"),
		sc("OK", "mset", "a", "x", "b", "y", "c", "z"),
		sc([]any{"x", "y", "z", nil}, "mget", "a", "b", "c", "nokey"),
		sc(int64(1), "zadd", "zz", 1, "m"),
		sc([]any{nil, "x"}, "mget", "zz", "a"), // other types read as nil
		sc("ERR:ERR wrong number of arguments for 'mset' command", "mset", "a"),
		sc("ERR:ERR wrong number of arguments for 'mset' command", "mset", "a", "1", "b"),
		sc("ERR:ERR wrong number of arguments for 'msetnx' command", "msetnx", "a", "1", "b"),
		sc(int64(0), "msetnx", "a", "1", "new", "2"),
		sc(int64(0), "exists", "new"),
		sc(int64(1), "msetnx", "new", "1", "new2", "2"),
		sc([]any{"1", "2"}, "mget", "new", "new2"),
		sc(int64(1), "msetnx", "dup", "1", "dup", "2"),
		sc("2", "get", "dup"),
	})
	strTTLBetween(t, c, "s", 90_000, 100_000)
	strTTLBetween(t, c, "p", 90_000, 100_000)
	strTTLBetween(t, c, "z", 90_000, 100_000)
	// MSET clears deadlines, SETNX on a missing key sets none.
	strExpect(t, c, []strCase{sc("OK", "mset", "s", "1"), sc(int64(1), "setnx", "fresh", "1")})
	strTTLBetween(t, c, "s", -1, -1)
	strTTLBetween(t, c, "fresh", -1, -1)
}

func Test_Strings_Incr(t *testing.T) {
	_, c, _ := newTestClient(t)
	strExpect(t, c, []strCase{
		sc(int64(1), "incr", "n"),
		sc(int64(11), "incrby", "n", "10"),
		sc(int64(10), "decr", "n"),
		sc(int64(7), "decrby", "n", "3"),
		sc(int64(12), "decrby", "n", "-5"),
		sc(int64(-1), "decr", "neg"),
		sc(int64(-5), "incrby", "neg2", "-5"),
		sc(strNotInt, "incrby", "n", "abc"),
		sc(strNotInt, "incrby", "n", "1.5"),
		sc(strNotInt, "decrby", "n", "9223372036854775808"),
		sc("ERR:ERR decrement would overflow", "decrby", "n", "-9223372036854775808"),
		sc("ERR:ERR increment or decrement would overflow", "incrby", "n", "9223372036854775807"),
		sc("OK", "set", "max", "9223372036854775807"),
		sc("ERR:ERR increment or decrement would overflow", "incr", "max"),
		sc("OK", "set", "min", "-9223372036854775808"),
		sc("ERR:ERR increment or decrement would overflow", "decr", "min"),
		sc(int64(-9223372036854775807), "incr", "min"),
		sc("OK", "set", "s", "abc"),
		sc(strNotInt, "incr", "s"),
		sc("OK", "set", "s", " 5"),
		sc(strNotInt, "incr", "s"),
		sc("OK", "set", "s", "05"),
		sc(strNotInt, "incr", "s"),
		sc("OK", "set", "s", "-0"),
		sc(strNotInt, "incr", "s"),
		sc("OK", "set", "s", "+1"),
		sc(strNotInt, "incr", "s"),
		sc(int64(1), "zadd", "z", 1, "m"),
		sc(strWrongType, "incr", "z"),
		sc(strWrongType, "decrby", "z", "1"),
		sc("12", "get", "n"),
		sc("ERR:ERR wrong number of arguments for 'incr' command", "incr", "a", "b"),
	})
	// INCR keeps the deadline.
	strExpect(t, c, []strCase{sc(int64(1), "pexpire", "n", "100000"), sc(int64(13), "incr", "n")})
	strTTLBetween(t, c, "n", 90_000, 100_000)
}

func Test_Strings_Incrbyfloat(t *testing.T) {
	_, c, _ := newTestClient(t)
	// Replies are Redis 7.0.15's long double results, byte for byte
	// (taken from a real redis-server, artefacts of 0.1 included).
	strExpect(t, c, []strCase{
		sc("10.5", "incrbyfloat", "f", "10.5"),
		sc("10.6", "incrbyfloat", "f", "0.1"),
		sc("-4989.39999999999999991", "incrbyfloat", "f", "-5.0e3"),
		sc("10.60000000000000009", "incrbyfloat", "f", "5.0e3"),
		sc("10.60003000000000009", "incrbyfloat", "f", "3.0e-5"),
		sc("0.00000000000000009", "incrbyfloat", "f", "-10.60003"),
		sc("16.00000000000000009", "incrbyfloat", "f", "0x10"),
		sc("19.00000000000000009", "incrbyfloat", "f", "+3"),
		sc("19.50000000000000009", "incrbyfloat", "f", ".5"),
		sc("24.50000000000000009", "incrbyfloat", "f", "5."),
		sc("OK", "set", "p", "0.1"),
		sc("0.3", "incrbyfloat", "p", "0.2"),
		sc("OK", "set", "i", "5"),
		sc("6.25", "incrbyfloat", "i", "1.25"),
		sc("6.25", "get", "i"),
		sc(strNotFloat, "incrbyfloat", "i", "abc"),
		sc(strNotFloat, "incrbyfloat", "i", " 1"),
		sc(strNotFloat, "incrbyfloat", "i", "1 "),
		sc(strNotFloat, "incrbyfloat", "i", ""),
		sc(strNotFloat, "incrbyfloat", "i", "nan"),
		sc(strNotFloat, "incrbyfloat", "i", "1e10000"),
		sc("ERR:ERR increment would produce NaN or Infinity", "incrbyfloat", "i", "inf"),
		sc("ERR:ERR increment would produce NaN or Infinity", "incrbyfloat", "i", "-inf"),
		sc("OK", "set", "s", "abc"),
		sc(strNotFloat, "incrbyfloat", "s", "1"),
		sc(int64(1), "zadd", "z", 1, "m"),
		sc(strWrongType, "incrbyfloat", "z", "1"),
		sc("6.25", "get", "i"),
	})
	// A long double holds what a double cannot: 1e308 + 1e308 is finite,
	// and its digits are those of x87's 64-bit mantissa.
	e308 := "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048"
	strExpect(t, c, []strCase{sc(e308, "incrbyfloat", "big", "1e308")})
	if got, _ := strDo(t, c, "incrbyfloat", "big", "1e308").(string); !strings.HasPrefix(got, "1999999999999999999933717593116912913211") || len(got) != 309 {
		t.Errorf("incrbyfloat big 1e308 (twice) = %.50q (len %d), want 2e308 in long double", got, len(got))
	}
	// The deadline survives.
	strExpect(t, c, []strCase{sc(int64(1), "pexpire", "i", "100000"), sc("7.25", "incrbyfloat", "i", "1")})
	strTTLBetween(t, c, "i", 90_000, 100_000)
}

func Test_Strings_AppendStrlenRanges(t *testing.T) {
	_, c, _ := newTestClient(t)
	tooBig := "ERR:ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	strExpect(t, c, []strCase{
		sc(int64(5), "append", "a", "hello"),
		sc(int64(11), "append", "a", " world"),
		sc(int64(11), "append", "a", ""),
		sc("hello world", "get", "a"),
		sc(int64(11), "strlen", "a"),
		sc(int64(0), "strlen", "nokey"),
		sc("hello world", "getrange", "a", "0", "-1"),
		sc("rld", "getrange", "a", "-3", "-1"),
		sc("", "getrange", "a", "-1", "-3"),
		sc("", "getrange", "a", "5", "3"),
		sc("hello world", "getrange", "a", "0", "100"),
		sc("hel", "getrange", "a", "-100", "2"),
		sc("", "getrange", "a", "100", "200"),
		sc("", "getrange", "nokey", "0", "-1"),
		sc(strNotInt, "getrange", "a", "x", "1"),
		sc(strNotInt, "getrange", "a", "1", "x"),
		sc(int64(11), "setrange", "a", "6", "WORLD"),
		sc("hello WORLD", "get", "a"),
		sc(int64(13), "setrange", "a", "11", "!!"),
		sc(int64(13), "setrange", "a", "0", ""),
		sc(int64(0), "setrange", "nokey", "0", ""),
		sc(int64(0), "exists", "nokey"),
		sc(int64(5), "setrange", "pad", "3", "ab"),
		sc("\x00\x00\x00ab", "get", "pad"),
		sc("ERR:ERR offset is out of range", "setrange", "a", "-1", "x"),
		sc(strNotInt, "setrange", "a", "x", "x"),
		sc(tooBig, "setrange", "a", "536870911", "xx"),
		sc(tooBig, "setrange", "nokey", "536870912", "x"),
		sc(int64(0), "exists", "nokey"),
		sc(int64(1), "zadd", "z", 1, "m"),
		sc(strWrongType, "append", "z", "x"),
		sc(strWrongType, "strlen", "z"),
		sc(strWrongType, "getrange", "z", "0", "1"),
		sc(strWrongType, "setrange", "z", "0", "x"),
		sc(int64(1), "setrange", "z2", "0", "x"),
	})
	// MSET stores values that share one request buffer: appending to one
	// must not overwrite its neighbour.
	strExpect(t, c, []strCase{
		sc("OK", "mset", "m1", "ab", "m2", "cd"),
		sc(int64(4), "append", "m1", "XY"),
		sc([]any{"abXY", "cd"}, "mget", "m1", "m2"),
	})
	// APPEND and SETRANGE keep the deadline.
	strExpect(t, c, []strCase{
		sc(int64(1), "pexpire", "a", "100000"),
		sc(int64(14), "append", "a", "?"),
		sc(int64(14), "setrange", "a", "0", "J"),
	})
	strTTLBetween(t, c, "a", 90_000, 100_000)
}

func Test_Strings_GetdelGetexGetset(t *testing.T) {
	_, c, _ := newTestClient(t)
	inv := "ERR:ERR invalid expire time in 'getex' command"
	strExpect(t, c, []strCase{
		sc(nil, "getdel", "nokey"),
		sc("OK", "set", "d", "v"),
		sc("v", "getdel", "d"),
		sc(int64(0), "exists", "d"),
		sc(int64(1), "zadd", "z", 1, "m"),
		sc(strWrongType, "getdel", "z"),
		sc(strWrongType, "getex", "z"),
		sc(strWrongType, "getset", "z", "v"),
		sc(nil, "getex", "nokey"),
		sc(nil, "getex", "nokey", "ex", "0"), // missing key first
		sc("OK", "set", "k", "v"),
		sc("v", "getex", "k"),
		sc(inv, "getex", "k", "ex", "0"),
		sc(inv, "getex", "k", "pxat", "-1"),
		sc(strNotInt, "getex", "k", "px", "x"),
		sc(strSyntax, "getex", "k", "ex"),
		sc(strSyntax, "getex", "k", "nx"),
		sc(strSyntax, "getex", "k", "keepttl"),
		sc(strSyntax, "getex", "k", "persist", "ex", "10"),
		sc(strSyntax, "getex", "k", "ex", "10", "persist"),
		sc(strSyntax, "getex", "k", "ex", "10", "px", "10"),
		sc("v", "getex", "k", "ex", "100"),
	})
	strTTLBetween(t, c, "k", 90_000, 100_000)
	strExpect(t, c, []strCase{sc("v", "getex", "k", "px", "200000")})
	strTTLBetween(t, c, "k", 190_000, 200_000)
	at := time.Now().Add(time.Hour)
	strExpect(t, c, []strCase{sc("v", "getex", "k", "exat", strconv.FormatInt(at.Unix(), 10))})
	strTTLBetween(t, c, "k", 3_500_000, 3_601_000)
	strExpect(t, c, []strCase{sc("v", "getex", "k", "pxat", strconv.FormatInt(at.UnixMilli(), 10))})
	strTTLBetween(t, c, "k", 3_500_000, 3_600_000)
	strExpect(t, c, []strCase{
		sc("v", "getex", "k", "persist"),
		sc(int64(-1), "ttl", "k"),
		sc("v", "getex", "k", "persist"),
		sc("v", "getex", "k", "pxat", "1"), // past: replied, then deleted
		sc(int64(0), "exists", "k"),
		sc(nil, "getset", "g", "a"),
		sc("a", "getset", "g", "b"),
		sc("b", "get", "g"),
		sc(int64(1), "pexpire", "g", "100000"),
		sc("b", "getset", "g", "c"),
		sc(int64(-1), "ttl", "g"), // GETSET clears the deadline
	})
}

func Test_Strings_LazyExpiry(t *testing.T) {
	n, c, ctx := newTestClient(t)
	if err := c.Set(ctx, "k", "v", 50*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, err := c.Get(ctx, "k").Result()
		if err == redis.Nil {
			break
		}
		if err != nil || v != "v" {
			t.Fatalf("get k = %q, %v", v, err)
		}
		if time.Now().After(deadline) {
			t.Fatal("key with PX 50 still readable after 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The read removed it (or active expiry did): it is gone from the
	// keyspace, not only hidden.
	n.mu.Lock()
	_, present := n.db.keys["k"]
	n.mu.Unlock()
	if present {
		t.Error("expired key still in the keyspace after GET returned nil")
	}
}

// strJournalRun runs cmds on a fresh memory-only server, capturing the
// journal entries they produce.
func strJournalRun(t *testing.T, cmds [][]string) (*Server, [][]string) {
	t.Helper()
	s, err := New(Config{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var entries [][]string
	s.journalTap = func(args [][]byte) {
		e := make([]string, len(args))
		for i, a := range args {
			e[i] = string(a)
		}
		entries = append(entries, e)
	}
	cl := &client{authed: true}
	for _, args := range cmds {
		b := make([][]byte, len(args))
		for i, a := range args {
			b[i] = []byte(a)
		}
		s.mu.Lock()
		s.call(cl, discard{}, b, false)
		s.mu.Unlock()
	}
	return s, entries
}

func Test_Strings_JournalForms(t *testing.T) {
	cmds := [][]string{
		{"SET", "a", "1", "EX", "100"},
		{"set", "b", "2", "px", "100000", "nx", "get"},
		{"set", "a", "3", "keepttl", "get"},
		{"set", "n", "x", "nx"},
		{"setex", "c", "10", "v"},
		{"psetex", "d", "10000", "v"},
		{"getex", "a", "px", "5000"},
		{"getex", "b", "persist"},
		{"getex", "c", "pxat", "1"},
		{"incrbyfloat", "f", "1.5"},
		{"getdel", "d"},
		{"getset", "n", "y"},
		{"set", "e", "1", "xx"}, // no effect, no entry
	}
	s, entries := strJournalRun(t, cmds)
	want := []string{"set a 1 pxat", "set b 2 pxat", "set a 3 keepttl", "set n x",
		"set c v pxat", "set d v pxat", "pexpireat a", "persist b", "del c",
		"set f 1.5 keepttl", "del d", "set n y"}
	if len(entries) != len(want) {
		t.Fatalf("journal = %q, want %d entries", entries, len(want))
	}
	for i, e := range entries {
		if got := strings.Join(e, " "); !strings.HasPrefix(got, want[i]) {
			t.Errorf("entry %d = %q, want prefix %q", i, got, want[i])
		}
	}
	// Replaying the entries on an empty node gives the same dataset.
	r, _ := strJournalRun(t, nil)
	r.mu.Lock()
	for _, e := range entries {
		b := make([][]byte, len(e))
		for i, a := range e {
			b[i] = []byte(a)
		}
		if err := r.applyEntry(b); err != nil {
			t.Errorf("apply %q: %v", e, err)
		}
	}
	r.mu.Unlock()
	now := time.Now().UnixMilli()
	s.mu.Lock()
	want0 := s.digest(now)
	s.mu.Unlock()
	r.mu.Lock()
	got := r.digest(now)
	r.mu.Unlock()
	if got != want0 {
		t.Errorf("replayed dataset differs: digest %s, want %s", got, want0)
	}
}
