package node

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/node/keyspace"
	"github.com/redis/go-redis/v9"
)

// hsWrongType is the WRONGTYPE reply as doReply returns it.
const hsWrongType = "ERR:" + keyspace.ErrWrongType

// anyOrder is an expected array reply whose order does not matter.
type anyOrder []any

// expectAnyOrder is expectReplies where a want (at any depth) may be an
// anyOrder: the reply's array there is compared as a multiset.
func expectAnyOrder(t testing.TB, c *redis.Client, cases []replyCase) {
	t.Helper()
	for _, tc := range cases {
		got, want := normalizeOrder(doReply(t, c, tc.args...), tc.want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v = %#v, want %#v", tc.args, got, want)
		}
	}
}

// normalizeOrder sorts got and want wherever want holds an anyOrder.
func normalizeOrder(got, want any) (any, any) {
	if u, ok := want.(anyOrder); ok {
		return sortedByText(got), sortedByText([]any(u))
	}
	w, ok := want.([]any)
	g, isArr := got.([]any)
	if !ok || !isArr || len(g) != len(w) {
		return got, want
	}
	g2, w2 := make([]any, len(g)), make([]any, len(w))
	for i := range w {
		g2[i], w2[i] = normalizeOrder(g[i], w[i])
	}
	return g2, w2
}

// sortedByText returns a copy of an array reply sorted by printed form.
func sortedByText(v any) any {
	arr, ok := v.([]any)
	if !ok {
		return v
	}
	out := append([]any{}, arr...)
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

func Test_Hash_SetGetDel(t *testing.T) {
	_, c, _ := newTestClient(t)
	expectAnyOrder(t, c, []replyCase{
		rc(int64(2), "HSET", "h", "a", "1", "b", "2"),
		rc(int64(1), "HSET", "h", "a", "x", "z", "26"),
		rc("ERR:ERR wrong number of arguments for 'hset' command", "HSET", "h", "a"),
		rc("ERR:ERR wrong number of arguments for 'hset' command", "HSET", "h", "a", "1", "b"),
		rc("OK", "HMSET", "h", "c", "3"),
		rc("ERR:ERR wrong number of arguments for 'hmset' command", "HMSET", "h", "c"),
		rc("ERR:ERR wrong number of arguments for 'hmset' command", "HMSET", "h", "c", "3", "d"),
		rc("x", "HGET", "h", "a"),
		rc(nil, "HGET", "h", "nope"),
		rc(nil, "HGET", "nokey", "a"),
		rc("ERR:ERR wrong number of arguments for 'hget' command", "HGET", "h"),
		rc([]any{"x", nil, "3"}, "HMGET", "h", "a", "nope", "c"),
		rc([]any{nil, nil}, "HMGET", "nokey", "a", "b"),
		rc("ERR:ERR wrong number of arguments for 'hmget' command", "HMGET", "h"),
		rc(int64(0), "HSETNX", "h", "a", "y"),
		rc("x", "HGET", "h", "a"),
		rc(int64(1), "HSETNX", "h", "d", "4"),
		rc(int64(1), "HSETNX", "fresh", "f", "v"),
		rc([]any{"f", "v"}, "HGETALL", "fresh"),
		rc(int64(5), "HLEN", "h"),
		rc(int64(0), "HLEN", "nokey"),
		rc(int64(2), "HSTRLEN", "h", "z"),
		rc(int64(0), "HSTRLEN", "h", "nope"),
		rc(int64(1), "HEXISTS", "h", "d"),
		rc(int64(0), "HEXISTS", "h", "nope"),
		rc(int64(0), "HEXISTS", "nokey", "d"),
		rc(anyOrder{"a", "b", "c", "d", "z"}, "HKEYS", "h"),
		rc(anyOrder{"x", "2", "3", "4", "26"}, "HVALS", "h"),
		rc(anyOrder{"a", "x", "b", "2", "c", "3", "d", "4", "z", "26"}, "HGETALL", "h"),
		rc([]any{}, "HKEYS", "nokey"),
		rc([]any{}, "HVALS", "nokey"),
		rc([]any{}, "HGETALL", "nokey"),
		rc(int64(2), "HDEL", "h", "a", "b", "nope", "a"),
		rc(int64(0), "HDEL", "nokey", "a"),
		rc("ERR:ERR wrong number of arguments for 'hdel' command", "HDEL", "h"),
		rc(int64(3), "HDEL", "h", "c", "d", "z"),
		// The emptied hash is gone.
		rc(int64(0), "EXISTS", "h"),
		rc("hash", "TYPE", "fresh"),
	})
}

func Test_Hash_Incr(t *testing.T) {
	_, c, _ := newTestClient(t)
	expectAnyOrder(t, c, []replyCase{
		rc(int64(5), "HINCRBY", "h", "n", "5"),
		rc(int64(-2), "HINCRBY", "h", "n", "-7"),
		rc("ERR:ERR value is not an integer or out of range", "HINCRBY", "h", "n", "x"),
		rc("ERR:ERR value is not an integer or out of range", "HINCRBY", "h", "n", "1.5"),
		rc(int64(4), "HSET", "h", "s", "abc", "sp", " 1", "lz", "01", "fl", "1.5"),
		rc("ERR:ERR hash value is not an integer", "HINCRBY", "h", "s", "1"),
		rc("ERR:ERR hash value is not an integer", "HINCRBY", "h", "sp", "1"),
		rc("ERR:ERR hash value is not an integer", "HINCRBY", "h", "lz", "1"),
		rc("ERR:ERR hash value is not an integer", "HINCRBY", "h", "fl", "1"),
		rc(int64(2), "HSET", "h", "max", "9223372036854775807", "min", "-9223372036854775808"),
		rc("ERR:ERR increment or decrement would overflow", "HINCRBY", "h", "max", "1"),
		rc("ERR:ERR increment or decrement would overflow", "HINCRBY", "h", "min", "-1"),
		rc(int64(-1), "HINCRBY", "h", "max", "-9223372036854775808"),
		rc(int64(-9223372036854775808), "HINCRBY", "h", "min", "0"),
		rc("10.5", "HINCRBYFLOAT", "h", "f", "10.5"),
		rc("10.6", "HINCRBYFLOAT", "h", "f", "0.1"),
		rc("5000", "HINCRBYFLOAT", "h", "g", "5.0e3"),
		rc("0", "HINCRBYFLOAT", "h", "g", "-5000"),
		rc("-0.5", "HINCRBYFLOAT", "h", "n", "1.5"),
		rc("16", "HINCRBYFLOAT", "h", "x", "0x10"),
		rc(int64(17), "HINCRBY", "h", "x", "1"),
		rc("ERR:ERR value is not a valid float", "HINCRBYFLOAT", "h", "f", "x"),
		rc("ERR:ERR value is not a valid float", "HINCRBYFLOAT", "h", "f", "nan"),
		rc("ERR:ERR value is not a valid float", "HINCRBYFLOAT", "h", "f", ""),
		rc("ERR:ERR value is NaN or Infinity", "HINCRBYFLOAT", "h", "f", "inf"),
		rc("ERR:ERR value is NaN or Infinity", "HINCRBYFLOAT", "h", "f", "-inf"),
		rc("ERR:ERR hash value is not a float", "HINCRBYFLOAT", "h", "s", "1"),
		rc("ERR:ERR hash value is not a float", "HINCRBYFLOAT", "h", "sp", "1"),
		rc(int64(1), "HSET", "h", "huge", "1.1e4932"),
		rc("ERR:ERR increment would produce NaN or Infinity", "HINCRBYFLOAT", "h", "huge", "1.1e4932"),
		rc("0", "HINCRBYFLOAT", "h", "huge", "-1.1e4932"),
		rc("10.6", "HGET", "h", "f"),
		rc("ERR:ERR wrong number of arguments for 'hincrby' command", "HINCRBY", "h", "f"),
		rc("ERR:ERR wrong number of arguments for 'hincrbyfloat' command", "HINCRBYFLOAT", "h", "f"),
		// Errors never create the key.
		rc("ERR:ERR value is not an integer or out of range", "HINCRBY", "new", "n", "x"),
		rc("ERR:ERR value is NaN or Infinity", "HINCRBYFLOAT", "new", "n", "inf"),
		rc(int64(0), "EXISTS", "new"),
	})
}

func Test_Hash_WrongType(t *testing.T) {
	_, c, ctx := newTestClient(t)
	if err := c.Set(ctx, "str", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	expectAnyOrder(t, c, []replyCase{
		rc(hsWrongType, "HSET", "str", "a", "1"),
		rc(hsWrongType, "HMSET", "str", "a", "1"),
		rc(hsWrongType, "HSETNX", "str", "a", "1"),
		rc(hsWrongType, "HGET", "str", "a"),
		rc(hsWrongType, "HMGET", "str", "a"),
		rc(hsWrongType, "HDEL", "str", "a"),
		rc(hsWrongType, "HGETALL", "str"),
		rc(hsWrongType, "HKEYS", "str"),
		rc(hsWrongType, "HVALS", "str"),
		rc(hsWrongType, "HLEN", "str"),
		rc(hsWrongType, "HSTRLEN", "str", "a"),
		rc(hsWrongType, "HEXISTS", "str", "a"),
		rc(hsWrongType, "HINCRBY", "str", "a", "1"),
		rc(hsWrongType, "HINCRBYFLOAT", "str", "a", "1"),
		rc(hsWrongType, "HSCAN", "str", "0"),
		// The increment is parsed before the type is checked, as in Redis.
		rc("ERR:ERR value is not an integer or out of range", "HINCRBY", "str", "a", "x"),
		rc("ERR:ERR value is not a valid float", "HINCRBYFLOAT", "str", "a", "x"),
		rc("ERR:ERR value is NaN or Infinity", "HINCRBYFLOAT", "str", "a", "inf"),
		rc("v", "GET", "str"),
	})
}

func Test_Hash_ScanOptionsAndErrors(t *testing.T) {
	_, c, ctx := newTestClient(t)
	c.HSet(ctx, "h", "f1", "v1", "f2", "v2", "g1", "w1")
	c.Set(ctx, "str", "v", 0)
	expectAnyOrder(t, c, []replyCase{
		// A small hash is returned whole in one step, whatever COUNT says.
		rc([]any{"0", anyOrder{"f1", "v1", "f2", "v2", "g1", "w1"}}, "HSCAN", "h", "0", "COUNT", "1"),
		rc([]any{"0", anyOrder{"f1", "v1", "f2", "v2"}}, "HSCAN", "h", "0", "MATCH", "f*"),
		rc([]any{"0", []any{"g1", "w1"}}, "HSCAN", "h", "0", "match", "g?", "count", "5"),
		rc([]any{"0", []any{}}, "HSCAN", "h", "0", "MATCH", "zz*"),
		rc([]any{"0", []any{}}, "HSCAN", "nokey", "0"),
		rc("ERR:ERR invalid cursor", "HSCAN", "h", "abc"),
		rc("ERR:ERR invalid cursor", "HSCAN", "h", "18446744073709551616"),
		rc("ERR:ERR syntax error", "HSCAN", "h", "0", "COUNT", "0"),
		rc("ERR:ERR syntax error", "HSCAN", "h", "0", "COUNT", "-1"),
		rc("ERR:ERR value is not an integer or out of range", "HSCAN", "h", "0", "COUNT", "x"),
		rc("ERR:ERR syntax error", "HSCAN", "h", "0", "MATCH"),
		rc("ERR:ERR syntax error", "HSCAN", "h", "0", "TYPE", "string"),
		rc("ERR:ERR syntax error", "HSCAN", "h", "0", "FOO", "bar"),
		rc("ERR:ERR wrong number of arguments for 'hscan' command", "HSCAN", "h"),
		rc(hsWrongType, "HSCAN", "str", "0"),
	})
}

// hscanAll iterates HSCAN to the end with match and count, failing when a
// field is returned twice or the scan does not finish.
func hscanAll(t *testing.T, ctx context.Context, c *redis.Client, key, match string, count int64) (map[string]string, int) {
	t.Helper()
	seen := map[string]string{}
	var cursor uint64
	for steps := 1; ; steps++ {
		if steps > 10000 {
			t.Fatal("HSCAN did not finish")
		}
		kv, next, err := c.HScan(ctx, key, cursor, match, count).Result()
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(kv); i += 2 {
			if _, dup := seen[kv[i]]; dup {
				t.Fatalf("field %s returned twice", kv[i])
			}
			seen[kv[i]] = kv[i+1]
		}
		if cursor = next; cursor == 0 {
			return seen, steps
		}
	}
}

func Test_Hash_ScanVisitsEveryFieldOnce(t *testing.T) {
	_, c, ctx := newTestClient(t)
	const n = 500
	for i := 0; i < n; i++ {
		if err := c.HSet(ctx, "big", fmt.Sprintf("f%d", i), i).Err(); err != nil {
			t.Fatal(err)
		}
	}
	seen, steps := hscanAll(t, ctx, c, "big", "f1*", 20)
	if steps < 2 {
		t.Fatalf("a %d-field hash was scanned in %d step(s); want a cursor", n, steps)
	}
	want := 0
	for i := 0; i < n; i++ {
		f := fmt.Sprintf("f%d", i)
		if !strings.HasPrefix(f, "f1") {
			continue
		}
		want++
		if seen[f] != f[1:] {
			t.Fatalf("field %s = %q, want %q", f, seen[f], f[1:])
		}
	}
	if len(seen) != want {
		t.Fatalf("saw %d fields, want %d", len(seen), want)
	}
}

func Test_Hash_ScanLongValueIsNotCompact(t *testing.T) {
	// Redis 7.0 keeps a hash with a value over 64 bytes as a hash table,
	// so HSCAN honours COUNT with a cursor even for three fields.
	_, c, ctx := newTestClient(t)
	long := strings.Repeat("v", 65)
	c.HSet(ctx, "h", "a", "1", "b", "2", "c", long)
	seen, steps := hscanAll(t, ctx, c, "h", "", 1)
	if steps < 2 {
		t.Fatalf("HSCAN COUNT 1 finished in one step; want a cursor")
	}
	if len(seen) != 3 || seen["c"] != long || seen["a"] != "1" {
		t.Fatalf("HSCAN saw %v", seen)
	}
}

func Test_Hash_ExpiredKeyIsMissing(t *testing.T) {
	_, c, ctx := newTestClient(t)
	c.HSet(ctx, "h", "a", "1")
	if err := c.PExpire(ctx, "h", time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.HLen(ctx, "h").Val() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("expired hash still visible")
		}
		time.Sleep(2 * time.Millisecond)
	}
	// A write to the expired key starts a new hash without the old field.
	if got := c.HIncrBy(ctx, "h", "n", 1).Val(); got != 1 {
		t.Fatalf("HINCRBY on expired hash = %d", got)
	}
	if got := c.HGetAll(ctx, "h").Val(); !reflect.DeepEqual(got, map[string]string{"n": "1"}) {
		t.Fatalf("HGETALL = %v", got)
	}
}

func Test_Hash_JournalReplays(t *testing.T) {
	n := mustNewNode(t, Config{})
	c := mustClient(t, n)
	ctx := t.Context()
	log := tapJournal(n.Server)
	c.HSet(ctx, "h", "a", "1", "b", "2")
	c.Do(ctx, "HMSET", "h", "c", "3")
	c.HSetNX(ctx, "h", "a", "ignored")
	c.HSetNX(ctx, "h", "d", "4")
	c.HIncrBy(ctx, "h", "a", 10)
	c.HIncrByFloat(ctx, "h", "f", 0.1)
	c.HIncrByFloat(ctx, "h", "f", 0.2)
	c.HDel(ctx, "h", "b", "nope")
	c.HSet(ctx, "gone", "x", "1")
	c.HDel(ctx, "gone", "x")
	want := []string{
		"hset h a 1 b 2",
		"hmset h c 3",
		"hsetnx h d 4",
		"hincrby h a 10",
		"hset h f 0.1", // HINCRBYFLOAT journals its result
		"hset h f 0.3",
		"hdel h b nope",
		"hset gone x 1",
		"hdel gone x",
	}
	// Reads and no-op writes journal nothing.
	c.HGet(ctx, "h", "a")
	c.HGetAll(ctx, "h")
	c.HDel(ctx, "h", "nope")
	c.HDel(ctx, "nokey", "a")
	c.HSetNX(ctx, "h", "a", "again")
	c.HScan(ctx, "h", 0, "", 10)
	c.HIncrBy(ctx, "h", "b", 0) // creates the field: journaled
	want = append(want, "hincrby h b 0")
	if got := log.lines(); !reflect.DeepEqual(got, want) {
		t.Fatalf("journal = %q, want %q", got, want)
	}
	log.checkReplay(t, n.Server)
}
