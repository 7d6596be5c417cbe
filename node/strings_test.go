package node

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/node/keyspace"
	"github.com/redis/go-redis/v9"
)

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
	expectReplies(t, c, []replyCase{
		rc(nil, "get", "k"),
		rc("OK", "set", "k", "v"),
		rc("v", "get", "k"),
		rc("OK", "SET", "k", "v2"),
		rc("v2", "GET", "k"),
		rc("OK", "set", "empty", ""),
		rc("", "get", "empty"),
		rc(int64(1), "zadd", "z", 1, "a"),
		rc(strWrongType, "get", "z"),
		rc("OK", "set", "z", "now-a-string"),
		rc("string", "type", "z"),
		rc("ERR:ERR wrong number of arguments for 'get' command", "get"),
		rc("ERR:ERR wrong number of arguments for 'set' command", "set", "k"),
	})
}

func Test_Strings_SetOptions(t *testing.T) {
	_, c, _ := newTestClient(t)
	inv := "ERR:ERR invalid expire time in 'set' command"
	expectReplies(t, c, []replyCase{
		// NX / XX and their combination with GET.
		rc(nil, "set", "k", "v", "xx"),
		rc(int64(0), "exists", "k"),
		rc("OK", "set", "k", "v", "nx"),
		rc(nil, "set", "k", "w", "nx"),
		rc("v", "get", "k"),
		rc("OK", "set", "k", "w", "xx"),
		rc("w", "get", "k"),
	})
	expectReplies(t, c, []replyCase{
		rc(strSyntax, "set", "k", "v", "nx", "xx"),
		rc(strSyntax, "set", "k", "v", "xx", "nx"),
		rc(nil, "set", "k", "v", "nx", "nx"),
		rc("w", "set", "k", "v", "nx", "get"), // NX GET: old value, not set
		rc("w", "get", "k"),
		rc("w", "set", "k", "v", "xx", "get"),
		rc("v", "get", "k"),
		rc(nil, "set", "nokey", "v", "xx", "get"),
		rc(int64(0), "exists", "nokey"),
		rc(nil, "set", "new", "1", "get", "get"),
		rc("1", "get", "new"),
		rc(int64(1), "zadd", "z", 1, "a"),
		rc(strWrongType, "set", "z", "v", "get"),
		rc(strWrongType, "set", "z", "v", "nx", "get"),
		rc("zset", "type", "z"),
		rc("OK", "set", "z", "v", "xx"), // a plain SET replaces any type
		// Expiry argument errors.
		rc(inv, "set", "k", "v", "ex", "0"),
		rc(inv, "set", "k", "v", "ex", "-1"),
		rc(inv, "set", "k", "v", "px", "0"),
		rc(inv, "set", "k", "v", "exat", "0"),
		rc(inv, "set", "k", "v", "pxat", "-5"),
		rc(inv, "set", "k", "v", "ex", "9223372036854776"),
		rc(inv, "set", "k", "v", "px", "9223372036854775807"),
		rc(strNotInt, "set", "k", "v", "ex", "abc"),
		rc(strNotInt, "set", "k", "v", "px", "1.5"),
		rc(strSyntax, "set", "k", "v", "ex"),
		rc(strSyntax, "set", "k", "v", "keepttl", "ex", "10"),
		rc(strSyntax, "set", "k", "v", "ex", "10", "keepttl"),
		rc(strSyntax, "set", "k", "v", "ex", "10", "px", "100"),
		rc(strSyntax, "set", "k", "v", "exat", "10", "pxat", "100"),
		rc(strSyntax, "set", "k", "v", "persist"),
		rc(strSyntax, "set", "k", "v", "foo"),
		rc("v", "get", "k"), // none of the failures changed anything
		// An error in the expiry wins over GET's reply.
		rc(inv, "set", "k", "x", "get", "ex", "0"),
		rc("v", "get", "k"),
	})
}

func Test_Strings_SetExpiry(t *testing.T) {
	_, c, _ := newTestClient(t)
	now := time.Now()
	expectReplies(t, c, []replyCase{
		rc("OK", "set", "ex", "v", "ex", "100"),
		rc("OK", "set", "px", "v", "PX", "100000"),
		rc("OK", "set", "exat", "v", "exat", strconv.FormatInt(now.Add(time.Hour).Unix(), 10)),
		rc("OK", "set", "pxat", "v", "pxat", strconv.FormatInt(now.Add(time.Hour).UnixMilli(), 10)),
		rc("OK", "set", "twice", "v", "ex", "10", "ex", "1000"), // last wins
		rc("OK", "set", "plain", "v"),
		rc("OK", "set", "max", "v", "exat", "9223372036854775"),
	})
	strTTLBetween(t, c, "ex", 90_000, 100_000)
	strTTLBetween(t, c, "px", 90_000, 100_000)
	strTTLBetween(t, c, "exat", 3_500_000, 3_601_000)
	strTTLBetween(t, c, "pxat", 3_500_000, 3_600_000)
	strTTLBetween(t, c, "twice", 990_000, 1_000_000)
	strTTLBetween(t, c, "plain", -1, -1)

	// KEEPTTL keeps the deadline; a SET without it clears it.
	expectReplies(t, c, []replyCase{
		rc("OK", "set", "ex", "v2", "keepttl"),
		rc("v2", "get", "ex"),
	})
	strTTLBetween(t, c, "ex", 90_000, 100_000)
	expectReplies(t, c, []replyCase{
		rc("v2", "set", "ex", "v3", "keepttl", "get"),
		rc("OK", "set", "px", "v2"),
		rc("OK", "set", "nottl", "v", "keepttl"),
	})
	strTTLBetween(t, c, "ex", 90_000, 100_000)
	strTTLBetween(t, c, "px", -1, -1)
	strTTLBetween(t, c, "nottl", -1, -1)

	// A deadline in the past: the key reads as missing at once.
	expectReplies(t, c, []replyCase{
		rc("OK", "set", "past", "v", "pxat", "1"),
		rc(nil, "get", "past"),
		rc(int64(-2), "ttl", "past"),
	})
}

func Test_Strings_SetnxSetexMsetMget(t *testing.T) {
	_, c, _ := newTestClient(t)
	expectReplies(t, c, []replyCase{
		rc(int64(1), "setnx", "a", "1"),
		rc(int64(0), "setnx", "a", "2"),
		rc("1", "get", "a"),
		rc("OK", "setex", "s", "100", "v"),
		rc("OK", "psetex", "p", "100000", "v"),
		rc("ERR:ERR invalid expire time in 'setex' command", "setex", "s", "0", "v"),
		rc("ERR:ERR invalid expire time in 'psetex' command", "psetex", "s", "-5", "v"),
		rc("ERR:ERR invalid expire time in 'setex' command", "setex", "s", "9223372036854776", "v"),
		rc(strNotInt, "setex", "s", "abc", "v"),
		rc("ERR:ERR wrong number of arguments for 'setex' command", "setex", "s", "10"),
		rc("v", "get", "s"),
		rc(int64(1), "zadd", "z", 1, "m"),
		rc("OK", "setex", "z", "100", "str"), // replaces any type
		rc("str", "get", "z"),
		rc("OK", "mset", "a", "x", "b", "y", "c", "z"),
		rc([]any{"x", "y", "z", nil}, "mget", "a", "b", "c", "nokey"),
		rc(int64(1), "zadd", "zz", 1, "m"),
		rc([]any{nil, "x"}, "mget", "zz", "a"), // other types read as nil
		rc("ERR:ERR wrong number of arguments for 'mset' command", "mset", "a"),
		rc("ERR:ERR wrong number of arguments for 'mset' command", "mset", "a", "1", "b"),
		rc("ERR:ERR wrong number of arguments for 'msetnx' command", "msetnx", "a", "1", "b"),
		rc(int64(0), "msetnx", "a", "1", "new", "2"),
		rc(int64(0), "exists", "new"),
		rc(int64(1), "msetnx", "new", "1", "new2", "2"),
		rc([]any{"1", "2"}, "mget", "new", "new2"),
		rc(int64(1), "msetnx", "dup", "1", "dup", "2"),
		rc("2", "get", "dup"),
	})
	strTTLBetween(t, c, "s", 90_000, 100_000)
	strTTLBetween(t, c, "p", 90_000, 100_000)
	strTTLBetween(t, c, "z", 90_000, 100_000)
	// MSET clears deadlines, SETNX on a missing key sets none.
	expectReplies(t, c, []replyCase{rc("OK", "mset", "s", "1"), rc(int64(1), "setnx", "fresh", "1")})
	strTTLBetween(t, c, "s", -1, -1)
	strTTLBetween(t, c, "fresh", -1, -1)
}

func Test_Strings_Incr(t *testing.T) {
	_, c, _ := newTestClient(t)
	expectReplies(t, c, []replyCase{
		rc(int64(1), "incr", "n"),
		rc(int64(11), "incrby", "n", "10"),
		rc(int64(10), "decr", "n"),
		rc(int64(7), "decrby", "n", "3"),
		rc(int64(12), "decrby", "n", "-5"),
		rc(int64(-1), "decr", "neg"),
		rc(int64(-5), "incrby", "neg2", "-5"),
		rc(strNotInt, "incrby", "n", "abc"),
		rc(strNotInt, "incrby", "n", "1.5"),
		rc(strNotInt, "decrby", "n", "9223372036854775808"),
		rc("ERR:ERR decrement would overflow", "decrby", "n", "-9223372036854775808"),
		rc("ERR:ERR increment or decrement would overflow", "incrby", "n", "9223372036854775807"),
		rc("OK", "set", "max", "9223372036854775807"),
		rc("ERR:ERR increment or decrement would overflow", "incr", "max"),
		rc("OK", "set", "min", "-9223372036854775808"),
		rc("ERR:ERR increment or decrement would overflow", "decr", "min"),
		rc(int64(-9223372036854775807), "incr", "min"),
		rc("OK", "set", "s", "abc"),
		rc(strNotInt, "incr", "s"),
		rc("OK", "set", "s", " 5"),
		rc(strNotInt, "incr", "s"),
		rc("OK", "set", "s", "05"),
		rc(strNotInt, "incr", "s"),
		rc("OK", "set", "s", "-0"),
		rc(strNotInt, "incr", "s"),
		rc("OK", "set", "s", "+1"),
		rc(strNotInt, "incr", "s"),
		rc(int64(1), "zadd", "z", 1, "m"),
		rc(strWrongType, "incr", "z"),
		rc(strWrongType, "decrby", "z", "1"),
		rc("12", "get", "n"),
		rc("ERR:ERR wrong number of arguments for 'incr' command", "incr", "a", "b"),
	})
	// INCR keeps the deadline.
	expectReplies(t, c, []replyCase{rc(int64(1), "pexpire", "n", "100000"), rc(int64(13), "incr", "n")})
	strTTLBetween(t, c, "n", 90_000, 100_000)
}

func Test_Strings_Incrbyfloat(t *testing.T) {
	_, c, _ := newTestClient(t)
	// Replies are Redis 7.0.15's long double results, byte for byte
	// (taken from a real redis-server, artefacts of 0.1 included).
	expectReplies(t, c, []replyCase{
		rc("10.5", "incrbyfloat", "f", "10.5"),
		rc("10.6", "incrbyfloat", "f", "0.1"),
		rc("-4989.39999999999999991", "incrbyfloat", "f", "-5.0e3"),
		rc("10.60000000000000009", "incrbyfloat", "f", "5.0e3"),
		rc("10.60003000000000009", "incrbyfloat", "f", "3.0e-5"),
		rc("0.00000000000000009", "incrbyfloat", "f", "-10.60003"),
		rc("16.00000000000000009", "incrbyfloat", "f", "0x10"),
		rc("19.00000000000000009", "incrbyfloat", "f", "+3"),
		rc("19.50000000000000009", "incrbyfloat", "f", ".5"),
		rc("24.50000000000000009", "incrbyfloat", "f", "5."),
		rc("OK", "set", "p", "0.1"),
		rc("0.3", "incrbyfloat", "p", "0.2"),
		rc("OK", "set", "i", "5"),
		rc("6.25", "incrbyfloat", "i", "1.25"),
		rc("6.25", "get", "i"),
		rc(strNotFloat, "incrbyfloat", "i", "abc"),
		rc(strNotFloat, "incrbyfloat", "i", " 1"),
		rc(strNotFloat, "incrbyfloat", "i", "1 "),
		rc(strNotFloat, "incrbyfloat", "i", ""),
		rc(strNotFloat, "incrbyfloat", "i", "nan"),
		rc(strNotFloat, "incrbyfloat", "i", "1e10000"),
		rc("ERR:ERR increment would produce NaN or Infinity", "incrbyfloat", "i", "inf"),
		rc("ERR:ERR increment would produce NaN or Infinity", "incrbyfloat", "i", "-inf"),
		rc("OK", "set", "s", "abc"),
		rc(strNotFloat, "incrbyfloat", "s", "1"),
		rc(int64(1), "zadd", "z", 1, "m"),
		rc(strWrongType, "incrbyfloat", "z", "1"),
		rc("6.25", "get", "i"),
	})
	// A long double holds what a double cannot: 1e308 + 1e308 is finite,
	// and its digits are those of x87's 64-bit mantissa.
	e308 := "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048"
	expectReplies(t, c, []replyCase{rc(e308, "incrbyfloat", "big", "1e308")})
	if got, _ := doReply(t, c, "incrbyfloat", "big", "1e308").(string); !strings.HasPrefix(got, "1999999999999999999933717593116912913211") || len(got) != 309 {
		t.Errorf("incrbyfloat big 1e308 (twice) = %.50q (len %d), want 2e308 in long double", got, len(got))
	}
	// The deadline survives.
	expectReplies(t, c, []replyCase{rc(int64(1), "pexpire", "i", "100000"), rc("7.25", "incrbyfloat", "i", "1")})
	strTTLBetween(t, c, "i", 90_000, 100_000)
}

func Test_Strings_AppendStrlenRanges(t *testing.T) {
	_, c, _ := newTestClient(t)
	tooBig := "ERR:ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	expectReplies(t, c, []replyCase{
		rc(int64(5), "append", "a", "hello"),
		rc(int64(11), "append", "a", " world"),
		rc(int64(11), "append", "a", ""),
		rc("hello world", "get", "a"),
		rc(int64(11), "strlen", "a"),
		rc(int64(0), "strlen", "nokey"),
		rc("hello world", "getrange", "a", "0", "-1"),
		rc("rld", "getrange", "a", "-3", "-1"),
		rc("", "getrange", "a", "-1", "-3"),
		rc("", "getrange", "a", "5", "3"),
		rc("hello world", "getrange", "a", "0", "100"),
		rc("hel", "getrange", "a", "-100", "2"),
		rc("", "getrange", "a", "100", "200"),
		rc("", "getrange", "nokey", "0", "-1"),
		rc(strNotInt, "getrange", "a", "x", "1"),
		rc(strNotInt, "getrange", "a", "1", "x"),
		rc(int64(11), "setrange", "a", "6", "WORLD"),
		rc("hello WORLD", "get", "a"),
		rc(int64(13), "setrange", "a", "11", "!!"),
		rc(int64(13), "setrange", "a", "0", ""),
		rc(int64(0), "setrange", "nokey", "0", ""),
		rc(int64(0), "exists", "nokey"),
		rc(int64(5), "setrange", "pad", "3", "ab"),
		rc("\x00\x00\x00ab", "get", "pad"),
		rc("ERR:ERR offset is out of range", "setrange", "a", "-1", "x"),
		rc(strNotInt, "setrange", "a", "x", "x"),
		rc(tooBig, "setrange", "a", "536870911", "xx"),
		rc(tooBig, "setrange", "nokey", "536870912", "x"),
		rc(int64(0), "exists", "nokey"),
		rc(int64(1), "zadd", "z", 1, "m"),
		rc(strWrongType, "append", "z", "x"),
		rc(strWrongType, "strlen", "z"),
		rc(strWrongType, "getrange", "z", "0", "1"),
		rc(strWrongType, "setrange", "z", "0", "x"),
		rc(int64(1), "setrange", "z2", "0", "x"),
	})
	// MSET stores values that share one request buffer: appending to one
	// must not overwrite its neighbour.
	expectReplies(t, c, []replyCase{
		rc("OK", "mset", "m1", "ab", "m2", "cd"),
		rc(int64(4), "append", "m1", "XY"),
		rc([]any{"abXY", "cd"}, "mget", "m1", "m2"),
	})
	// APPEND and SETRANGE keep the deadline.
	expectReplies(t, c, []replyCase{
		rc(int64(1), "pexpire", "a", "100000"),
		rc(int64(14), "append", "a", "?"),
		rc(int64(14), "setrange", "a", "0", "J"),
	})
	strTTLBetween(t, c, "a", 90_000, 100_000)
}

func Test_Strings_GetdelGetexGetset(t *testing.T) {
	_, c, _ := newTestClient(t)
	inv := "ERR:ERR invalid expire time in 'getex' command"
	expectReplies(t, c, []replyCase{
		rc(nil, "getdel", "nokey"),
		rc("OK", "set", "d", "v"),
		rc("v", "getdel", "d"),
		rc(int64(0), "exists", "d"),
		rc(int64(1), "zadd", "z", 1, "m"),
		rc(strWrongType, "getdel", "z"),
		rc(strWrongType, "getex", "z"),
		rc(strWrongType, "getset", "z", "v"),
		rc(nil, "getex", "nokey"),
		rc(nil, "getex", "nokey", "ex", "0"), // missing key first
		rc("OK", "set", "k", "v"),
		rc("v", "getex", "k"),
		rc(inv, "getex", "k", "ex", "0"),
		rc(inv, "getex", "k", "pxat", "-1"),
		rc(strNotInt, "getex", "k", "px", "x"),
		rc(strSyntax, "getex", "k", "ex"),
		rc(strSyntax, "getex", "k", "nx"),
		rc(strSyntax, "getex", "k", "keepttl"),
		rc(strSyntax, "getex", "k", "persist", "ex", "10"),
		rc(strSyntax, "getex", "k", "ex", "10", "persist"),
		rc(strSyntax, "getex", "k", "ex", "10", "px", "10"),
		rc("v", "getex", "k", "ex", "100"),
	})
	strTTLBetween(t, c, "k", 90_000, 100_000)
	expectReplies(t, c, []replyCase{rc("v", "getex", "k", "px", "200000")})
	strTTLBetween(t, c, "k", 190_000, 200_000)
	at := time.Now().Add(time.Hour)
	expectReplies(t, c, []replyCase{rc("v", "getex", "k", "exat", strconv.FormatInt(at.Unix(), 10))})
	strTTLBetween(t, c, "k", 3_500_000, 3_601_000)
	expectReplies(t, c, []replyCase{rc("v", "getex", "k", "pxat", strconv.FormatInt(at.UnixMilli(), 10))})
	strTTLBetween(t, c, "k", 3_500_000, 3_600_000)
	expectReplies(t, c, []replyCase{
		rc("v", "getex", "k", "persist"),
		rc(int64(-1), "ttl", "k"),
		rc("v", "getex", "k", "persist"),
		rc("v", "getex", "k", "pxat", "1"), // past: replied, then deleted
		rc(int64(0), "exists", "k"),
		rc(nil, "getset", "g", "a"),
		rc("a", "getset", "g", "b"),
		rc("b", "get", "g"),
		rc(int64(1), "pexpire", "g", "100000"),
		rc("b", "getset", "g", "c"),
		rc(int64(-1), "ttl", "g"), // GETSET clears the deadline
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
	_, present := n.db.Keys["k"]
	n.mu.Unlock()
	if present {
		t.Error("expired key still in the keyspace after GET returned nil")
	}
}

// strJournalRun runs cmds on a fresh memory-only server, capturing the
// journal entries they produce.
func strJournalRun(t *testing.T, cmds [][]string) (*Server, *journalLog) {
	t.Helper()
	s, err := New(Config{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	log := tapJournal(s)
	cl := authedClient()
	for _, args := range cmds {
		b := make([][]byte, len(args))
		for i, a := range args {
			b[i] = []byte(a)
		}
		s.mu.Lock()
		s.call(cl, keyspace.Discard{}, b, false)
		s.mu.Unlock()
	}
	return s, log
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
	s, log := strJournalRun(t, cmds)
	want := []string{"set a 1 pxat", "set b 2 pxat", "set a 3 keepttl", "set n x",
		"set c v pxat", "set d v pxat", "pexpireat a", "persist b", "del c",
		"set f 1.5 keepttl", "del d", "set n y"}
	log.expectPrefixes(t, want)
	log.checkReplay(t, s)
}
