package node

import (
	"fmt"
	"reflect"
	"sort"
	"testing"
)

// doCase is one command and the reply (or error text) it must produce.
type doCase struct {
	args []any
	want any // reply value as go-redis decodes it, or error for an error
}

// runCases runs cases in order on one client.
func runCases(t *testing.T, cases []doCase) {
	t.Helper()
	_, c, ctx := newTestClient(t)
	for _, tc := range cases {
		got, err := c.Do(ctx, tc.args...).Result()
		if want, isErr := tc.want.(error); isErr {
			if err == nil || err.Error() != want.Error() {
				t.Fatalf("%v: err = %v, want %q (reply %v)", tc.args, err, want, got)
			}
			continue
		}
		if err != nil && tc.want != nil {
			t.Fatalf("%v: unexpected error %v", tc.args, err)
		}
		if tc.want == nil {
			if err == nil || err.Error() != "redis: nil" {
				t.Fatalf("%v = %v, %v; want nil", tc.args, got, err)
			}
			continue
		}
		if sorted, ok := tc.want.(unordered); ok {
			got = sortedStrings(got)
			tc.want = []any(sorted)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("%v = %#v, want %#v", tc.args, got, tc.want)
		}
	}
}

// unordered is an expected array whose order does not matter.
type unordered []any

func sortedStrings(v any) any {
	arr, ok := v.([]any)
	if !ok {
		return v
	}
	out := append([]any(nil), arr...)
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

func args(a ...any) []any { return a }

func Test_Hash_Commands(t *testing.T) {
	runCases(t, []doCase{
		{args("HSET", "h", "a", "1", "b", "2"), int64(2)},
		{args("HSET", "h", "a", "x"), int64(0)},
		{args("HSET", "h", "a"), fmt.Errorf("ERR wrong number of arguments for 'hset' command")},
		{args("HMSET", "h", "c", "3"), "OK"},
		{args("HGET", "h", "a"), "x"},
		{args("HGET", "h", "nope"), nil},
		{args("HMGET", "h", "a", "nope", "c"), []any{"x", nil, "3"}},
		{args("HSETNX", "h", "a", "y"), int64(0)},
		{args("HSETNX", "h", "d", "4"), int64(1)},
		{args("HLEN", "h"), int64(4)},
		{args("HSTRLEN", "h", "d"), int64(1)},
		{args("HEXISTS", "h", "d"), int64(1)},
		{args("HEXISTS", "h", "z"), int64(0)},
		{args("HKEYS", "h"), unordered{"a", "b", "c", "d"}},
		{args("HVALS", "h"), unordered{"2", "3", "4", "x"}},
		{args("HGETALL", "h"), unordered{"2", "3", "4", "a", "b", "c", "d", "x"}},
		{args("HDEL", "h", "a", "b", "nope"), int64(2)},
		{args("HINCRBY", "h", "n", "5"), int64(5)},
		{args("HINCRBY", "h", "n", "-7"), int64(-2)},
		{args("HINCRBY", "h", "c", "x"), fmt.Errorf("ERR value is not an integer or out of range")},
		{args("HSET", "h", "s", "abc"), int64(1)},
		{args("HINCRBY", "h", "s", "1"), fmt.Errorf("ERR hash value is not an integer")},
		{args("HSET", "h", "max", "9223372036854775807"), int64(1)},
		{args("HINCRBY", "h", "max", "1"), fmt.Errorf("ERR increment or decrement would overflow")},
		{args("HINCRBYFLOAT", "h", "f", "10.5"), "10.5"},
		{args("HINCRBYFLOAT", "h", "f", "0.1"), "10.6"},
		{args("HINCRBYFLOAT", "h", "s", "1"), fmt.Errorf("ERR hash value is not a float")},
		{args("HINCRBYFLOAT", "h", "f", "x"), fmt.Errorf("ERR value is not a valid float")},
		{args("HGETALL", "nokey"), []any{}},
		{args("HLEN", "nokey"), int64(0)},
		{args("SET", "str", "v"), "OK"},
		{args("HSET", "str", "a", "1"), fmt.Errorf(errWrongType)},
		{args("HGET", "str", "a"), fmt.Errorf(errWrongType)},
		{args("HSET", "e", "only", "1"), int64(1)},
		{args("HDEL", "e", "only"), int64(1)},
		{args("EXISTS", "e"), int64(0)},
	})
}

func Test_Hash_ScanVisitsEveryFieldOnce(t *testing.T) {
	_, c, ctx := newTestClient(t)
	const n = 500
	for i := 0; i < n; i++ {
		if err := c.HSet(ctx, "big", fmt.Sprintf("f%d", i), i).Err(); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	var cursor uint64
	for steps := 0; ; steps++ {
		if steps > n {
			t.Fatal("HSCAN did not finish")
		}
		kv, next, err := c.HScan(ctx, "big", cursor, "f1*", 20).Result()
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(kv); i += 2 {
			seen[kv[i]]++
			if kv[i+1] != kv[i][1:] {
				t.Fatalf("field %s has value %s", kv[i], kv[i+1])
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	want := 0
	for i := 0; i < n; i++ {
		f := fmt.Sprintf("f%d", i)
		if f[1] == '1' {
			want++
			if seen[f] != 1 {
				t.Fatalf("field %s seen %d times", f, seen[f])
			}
		}
	}
	if len(seen) != want {
		t.Fatalf("saw %d fields, want %d", len(seen), want)
	}
}
