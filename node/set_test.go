package node

import (
	"fmt"
	"testing"
)

func Test_Set_Commands(t *testing.T) {
	runCases(t, []doCase{
		{args("SADD", "s", "a", "b", "c"), int64(3)},
		{args("SADD", "s", "a", "d"), int64(1)},
		{args("SCARD", "s"), int64(4)},
		{args("SISMEMBER", "s", "a"), int64(1)},
		{args("SISMEMBER", "s", "z"), int64(0)},
		{args("SMISMEMBER", "s", "a", "z"), []any{int64(1), int64(0)}},
		{args("SREM", "s", "d", "z"), int64(1)},
		{args("SMEMBERS", "s"), unordered{"a", "b", "c"}},
		{args("SADD", "t", "b", "c", "e"), int64(3)},
		{args("SINTER", "s", "t"), unordered{"b", "c"}},
		{args("SUNION", "s", "t"), unordered{"a", "b", "c", "e"}},
		{args("SDIFF", "s", "t"), unordered{"a"}},
		{args("SINTER", "s", "nokey"), []any{}},
		{args("SINTERSTORE", "d", "s", "t"), int64(2)},
		{args("SMEMBERS", "d"), unordered{"b", "c"}},
		{args("SUNIONSTORE", "d", "s", "t"), int64(4)},
		{args("SDIFFSTORE", "d", "s", "t"), int64(1)},
		{args("SINTERSTORE", "d", "s", "nokey"), int64(0)},
		{args("EXISTS", "d"), int64(0)},
		{args("SMOVE", "s", "t", "a"), int64(1)},
		{args("SMOVE", "s", "t", "nope"), int64(0)},
		{args("SMOVE", "s", "s", "b"), int64(1)},
		{args("SISMEMBER", "t", "a"), int64(1)},
		{args("SPOP", "nokey"), nil},
		{args("SPOP", "nokey", "2"), []any{}},
		{args("SPOP", "s", "-1"), fmt.Errorf("ERR value is out of range, must be positive")},
		{args("SRANDMEMBER", "nokey"), nil},
		{args("SRANDMEMBER", "nokey", "3"), []any{}},
		{args("SADD", "one", "x"), int64(1)},
		{args("SRANDMEMBER", "one"), "x"},
		{args("SRANDMEMBER", "one", "-3"), []any{"x", "x", "x"}},
		{args("SRANDMEMBER", "one", "5"), []any{"x"}},
		{args("SPOP", "one"), "x"},
		{args("EXISTS", "one"), int64(0)},
		{args("SET", "str", "v"), "OK"},
		{args("SADD", "str", "a"), fmt.Errorf(errWrongType)},
		{args("SINTER", "s", "str"), fmt.Errorf(errWrongType)},
		{args("SUNIONSTORE", "str", "s"), int64(2)},
		{args("TYPE", "str"), "set"},
		{args("SPOP", "s", "x"), fmt.Errorf("ERR value is not an integer or out of range")},
	})
}

func Test_Set_SpopIsJournaledAsSrem(t *testing.T) {
	n := mustNewNode(t, Config{})
	var entries [][]string
	n.mu.Lock()
	n.journalTap = func(a [][]byte) {
		e := make([]string, len(a))
		for i := range a {
			e[i] = string(a[i])
		}
		entries = append(entries, e)
	}
	n.mu.Unlock()
	c := mustClient(t, n)
	ctx := t.Context()
	c.SAdd(ctx, "s", "a", "b", "c", "d")
	popped, err := c.SPopN(ctx, "s", 2).Result()
	if err != nil || len(popped) != 2 {
		t.Fatalf("SPOP = %v, %v", popped, err)
	}
	n.mu.Lock()
	last := entries[len(entries)-1]
	n.mu.Unlock()
	if len(last) != 4 || last[0] != "srem" || last[1] != "s" {
		t.Fatalf("SPOP journaled as %q, want srem s <two members>", last)
	}
	for _, m := range last[2:] {
		if m != popped[0] && m != popped[1] {
			t.Fatalf("journaled member %q was not popped (%v)", m, popped)
		}
	}
}

func Test_Set_ScanSmallAndLarge(t *testing.T) {
	_, c, ctx := newTestClient(t)
	c.SAdd(ctx, "small", "a", "b", "c")
	members, cursor, err := c.SScan(ctx, "small", 0, "", 1).Result()
	if err != nil || cursor != 0 || len(members) != 3 {
		t.Fatalf("small SSCAN = %v, %d, %v; want all 3 at once with cursor 0", members, cursor, err)
	}
	for i := 0; i < 300; i++ {
		c.SAdd(ctx, "large", fmt.Sprint(i))
	}
	seen := map[string]bool{}
	cursor = 0
	for steps := 0; steps < 1000; steps++ {
		ms, next, err := c.SScan(ctx, "large", cursor, "", 25).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if seen[m] {
				t.Fatalf("member %s returned twice", m)
			}
			seen[m] = true
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if len(seen) != 300 {
		t.Fatalf("SSCAN saw %d of 300 members", len(seen))
	}
}
