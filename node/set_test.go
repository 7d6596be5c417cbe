package node

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func Test_Set_Basics(t *testing.T) {
	_, c, _ := newTestClient(t)
	expectAnyOrder(t, c, []replyCase{
		rc(int64(3), "SADD", "s", "a", "b", "c", "a"),
		rc(int64(1), "SADD", "s", "a", "d"),
		rc("ERR:ERR wrong number of arguments for 'sadd' command", "SADD", "s"),
		rc(int64(4), "SCARD", "s"),
		rc(int64(0), "SCARD", "nokey"),
		rc(int64(1), "SISMEMBER", "s", "a"),
		rc(int64(0), "SISMEMBER", "s", "z"),
		rc(int64(0), "SISMEMBER", "nokey", "a"),
		rc([]any{int64(1), int64(0), int64(1)}, "SMISMEMBER", "s", "a", "z", "d"),
		rc([]any{int64(0), int64(0)}, "SMISMEMBER", "nokey", "a", "b"),
		rc("ERR:ERR wrong number of arguments for 'smismember' command", "SMISMEMBER", "s"),
		rc(int64(1), "SREM", "s", "d", "z", "d"),
		rc(int64(0), "SREM", "nokey", "a"),
		rc(anyOrder{"a", "b", "c"}, "SMEMBERS", "s"),
		rc([]any{}, "SMEMBERS", "nokey"),
		rc(int64(3), "SREM", "s", "a", "b", "c"),
		rc(int64(0), "EXISTS", "s"),
		// Small all-integer sets (Redis' intset) reply in numeric order.
		rc(int64(4), "SADD", "n", "10", "2", "1", "-3"),
		rc([]any{"-3", "1", "2", "10"}, "SMEMBERS", "n"),
		rc([]any{"-3", "1", "2", "10"}, "SUNION", "n"),
		rc("set", "TYPE", "n"),
	})
}

func Test_Set_WrongType(t *testing.T) {
	_, c, ctx := newTestClient(t)
	c.Set(ctx, "str", "v", 0)
	c.SAdd(ctx, "s", "a", "b")
	expectAnyOrder(t, c, []replyCase{
		rc(hsWrongType, "SADD", "str", "a"),
		rc(hsWrongType, "SREM", "str", "a"),
		rc(hsWrongType, "SMEMBERS", "str"),
		rc(hsWrongType, "SISMEMBER", "str", "a"),
		rc(hsWrongType, "SMISMEMBER", "str", "a"),
		rc(hsWrongType, "SCARD", "str"),
		rc(hsWrongType, "SPOP", "str"),
		rc(hsWrongType, "SPOP", "str", "1"),
		rc(hsWrongType, "SRANDMEMBER", "str"),
		rc(hsWrongType, "SRANDMEMBER", "str", "-2"),
		rc(hsWrongType, "SINTER", "s", "str"),
		rc(hsWrongType, "SINTER", "nokey", "str"),
		rc(hsWrongType, "SUNION", "s", "str"),
		rc(hsWrongType, "SDIFF", "s", "str"),
		rc(hsWrongType, "SDIFF", "nokey", "str"),
		rc(hsWrongType, "SINTERSTORE", "d", "nokey", "str"),
		rc(hsWrongType, "SUNIONSTORE", "d", "str"),
		rc(hsWrongType, "SDIFFSTORE", "d", "s", "str"),
		rc(hsWrongType, "SMOVE", "str", "s", "a"),
		rc(hsWrongType, "SMOVE", "s", "str", "a"),
		rc(hsWrongType, "SMOVE", "s", "str", "nope"),
		rc(hsWrongType, "SSCAN", "str", "0"),
		// Counts are parsed before the type is checked, as in Redis.
		rc("ERR:ERR value is out of range, must be positive", "SPOP", "str", "x"),
		rc("ERR:ERR value is not an integer or out of range", "SRANDMEMBER", "str", "x"),
		rc(int64(0), "EXISTS", "d"),
		rc("v", "GET", "str"),
	})
}

func Test_Set_Algebra(t *testing.T) {
	_, c, ctx := newTestClient(t)
	c.SAdd(ctx, "s", "a", "b", "c", "d")
	c.SAdd(ctx, "t", "c", "d", "e")
	c.SAdd(ctx, "u", "d", "e", "f")
	expectAnyOrder(t, c, []replyCase{
		rc([]any{"d"}, "SINTER", "s", "t", "u"),
		rc(anyOrder{"c", "d"}, "SINTER", "s", "t"),
		rc(anyOrder{"a", "b", "c", "d"}, "SINTER", "s"),
		rc([]any{}, "SINTER", "s", "nokey"),
		rc([]any{}, "SINTER", "nokey", "s"),
		rc(anyOrder{"a", "b", "c", "d", "e", "f"}, "SUNION", "s", "t", "u"),
		rc(anyOrder{"a", "b", "c", "d"}, "SUNION", "s", "nokey"),
		rc([]any{}, "SUNION", "nokey", "nokey2"),
		rc(anyOrder{"a", "b"}, "SDIFF", "s", "t"),
		rc(anyOrder{"a", "b"}, "SDIFF", "s", "t", "u"),
		rc(anyOrder{"a", "b", "c", "d"}, "SDIFF", "s", "nokey"),
		rc([]any{}, "SDIFF", "nokey", "s"),
		rc([]any{}, "SDIFF", "s", "s"),
		rc("ERR:ERR wrong number of arguments for 'sinter' command", "SINTER"),
		rc(int64(2), "SINTERSTORE", "d", "s", "t"),
		rc(anyOrder{"c", "d"}, "SMEMBERS", "d"),
		rc(int64(5), "SUNIONSTORE", "d", "s", "t"),
		rc(anyOrder{"a", "b", "c", "d", "e"}, "SMEMBERS", "d"),
		rc(int64(2), "SDIFFSTORE", "d", "s", "t"),
		rc(anyOrder{"a", "b"}, "SMEMBERS", "d"),
		// An empty result deletes the destination.
		rc(int64(0), "SINTERSTORE", "d", "s", "nokey"),
		rc(int64(0), "EXISTS", "d"),
		rc(int64(0), "SDIFFSTORE", "d", "s", "s"),
		rc(int64(0), "EXISTS", "d"),
		// The destination may be a source, or hold another type.
		rc(int64(2), "SDIFFSTORE", "s", "s", "t"),
		rc(anyOrder{"a", "b"}, "SMEMBERS", "s"),
		rc("OK", "SET", "str", "v"),
		rc(int64(5), "SUNIONSTORE", "str", "s", "u"),
		rc("set", "TYPE", "str"),
		rc("ERR:ERR wrong number of arguments for 'sinterstore' command", "SINTERSTORE", "d"),
		rc("ERR:ERR wrong number of arguments for 'sunionstore' command", "SUNIONSTORE", "d"),
		rc("ERR:ERR wrong number of arguments for 'sdiffstore' command", "SDIFFSTORE", "d"),
	})
}

func Test_Set_StoreReplacesDeadline(t *testing.T) {
	_, c, ctx := newTestClient(t)
	c.SAdd(ctx, "s", "a", "b")
	c.SAdd(ctx, "d", "old")
	c.Expire(ctx, "d", time.Hour)
	if got := c.SUnionStore(ctx, "d", "s").Val(); got != 2 {
		t.Fatalf("SUNIONSTORE = %d", got)
	}
	if ttl := c.TTL(ctx, "d").Val(); ttl != -1 {
		t.Fatalf("TTL after SUNIONSTORE = %v, want -1 (no deadline)", ttl)
	}
	// The stored set is a copy: changing a source leaves it alone.
	c.SAdd(ctx, "s", "c")
	if got := c.SCard(ctx, "d").Val(); got != 2 {
		t.Fatalf("SCARD d = %d after changing the source", got)
	}
}

func Test_Set_StoreTouchesOnlyDestination(t *testing.T) {
	n, c, ctx := newTestClient(t)
	other := mustClient(t, n)
	c.SAdd(ctx, "src", "a", "b")
	// WATCH on a source survives a store by another client (Redis only
	// signals the destination) ...
	err := c.Watch(ctx, func(tx *redis.Tx) error {
		if err := other.SInterStore(ctx, "dst", "src").Err(); err != nil {
			return err
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "ok", "1", 0)
			return nil
		})
		return err
	}, "src")
	if err != nil {
		t.Fatalf("EXEC after a store reading the watched key: %v", err)
	}
	// ... while WATCH on the destination fails the transaction.
	err = c.Watch(ctx, func(tx *redis.Tx) error {
		if err := other.SUnionStore(ctx, "dst", "src", "src").Err(); err != nil {
			return err
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "ok", "2", 0)
			return nil
		})
		return err
	}, "dst")
	if err != redis.TxFailedErr {
		t.Fatalf("EXEC after a store into the watched key: %v, want %v", err, redis.TxFailedErr)
	}
	if got := c.Get(ctx, "ok").Val(); got != "1" {
		t.Fatalf("ok = %q, want 1", got)
	}
}

func Test_Set_Smove(t *testing.T) {
	_, c, ctx := newTestClient(t)
	c.SAdd(ctx, "s", "a", "b")
	c.SAdd(ctx, "t", "a")
	c.Set(ctx, "str", "v", 0)
	expectAnyOrder(t, c, []replyCase{
		rc(int64(1), "SMOVE", "s", "t", "a"),
		rc([]any{"b"}, "SMEMBERS", "s"),
		rc([]any{"a"}, "SMEMBERS", "t"),
		rc(int64(0), "SMOVE", "s", "t", "nope"),
		rc(int64(1), "SMOVE", "s", "s", "b"),
		rc(int64(0), "SMOVE", "s", "s", "nope"),
		// A missing source replies 0 before the destination's type counts.
		rc(int64(0), "SMOVE", "nokey", "t", "a"),
		rc(int64(0), "SMOVE", "nokey", "str", "a"),
		// Moving the last member deletes the source and creates the
		// destination.
		rc(int64(1), "SMOVE", "s", "new", "b"),
		rc(int64(0), "EXISTS", "s"),
		rc([]any{"b"}, "SMEMBERS", "new"),
		rc("ERR:ERR wrong number of arguments for 'smove' command", "SMOVE", "s", "t"),
	})
}

func Test_Set_SpopAndSrandmemberErrors(t *testing.T) {
	_, c, ctx := newTestClient(t)
	c.SAdd(ctx, "s", "a", "b", "c")
	c.SAdd(ctx, "one", "x")
	expectAnyOrder(t, c, []replyCase{
		rc(nil, "SPOP", "nokey"),
		rc([]any{}, "SPOP", "nokey", "2"),
		rc([]any{}, "SPOP", "s", "0"),
		rc("ERR:ERR value is out of range, must be positive", "SPOP", "s", "-1"),
		rc("ERR:ERR value is out of range, must be positive", "SPOP", "s", "-0"),
		rc("ERR:ERR value is out of range, must be positive", "SPOP", "s", "x"),
		rc("ERR:ERR value is out of range, must be positive", "SPOP", "s", "9223372036854775808"),
		rc("ERR:ERR value is out of range, must be positive", "SPOP", "nokey", "-1"),
		rc("ERR:ERR syntax error", "SPOP", "s", "1", "2"),
		rc("ERR:ERR wrong number of arguments for 'spop' command", "SPOP"),
		rc(int64(3), "SCARD", "s"),
		rc(nil, "SRANDMEMBER", "nokey"),
		rc([]any{}, "SRANDMEMBER", "nokey", "3"),
		rc([]any{}, "SRANDMEMBER", "nokey", "-3"),
		rc("ERR:ERR value is not an integer or out of range", "SRANDMEMBER", "nokey", "x"),
		rc([]any{}, "SRANDMEMBER", "s", "0"),
		rc("ERR:ERR value is not an integer or out of range", "SRANDMEMBER", "s", "00"),
		rc("ERR:ERR syntax error", "SRANDMEMBER", "s", "1", "2"),
		rc("ERR:ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807", "SRANDMEMBER", "s", "-9223372036854775808"),
		rc("x", "SRANDMEMBER", "one"),
		rc([]any{"x", "x", "x"}, "SRANDMEMBER", "one", "-3"),
		rc([]any{"x"}, "SRANDMEMBER", "one", "5"),
		rc([]any{"x"}, "SRANDMEMBER", "one", "9223372036854775807"),
		rc(int64(1), "SCARD", "one"),
		rc([]any{"x"}, "SPOP", "one", "9223372036854775807"),
		rc(int64(0), "EXISTS", "one"),
		rc(int64(1), "SADD", "one", "y"),
		rc("y", "SPOP", "one"),
		rc(int64(0), "EXISTS", "one"),
	})
}

func Test_Set_SpopAndSrandmemberCounts(t *testing.T) {
	_, c, ctx := newTestClient(t)
	members := make([]any, 50)
	for i := range members {
		members[i] = fmt.Sprintf("m%02d", i)
	}
	c.SAdd(ctx, "s", members...)
	isMember := func(m string) bool { return slices.Contains(members, any(m)) }

	got := c.SRandMemberN(ctx, "s", 20).Val()
	if len(got) != 20 || len(uniq(got)) != 20 {
		t.Fatalf("SRANDMEMBER 20 = %v: want 20 distinct members", got)
	}
	got = c.SRandMemberN(ctx, "s", 80).Val()
	if len(got) != 50 || len(uniq(got)) != 50 {
		t.Fatalf("SRANDMEMBER 80 gave %d (%d distinct), want all 50", len(got), len(uniq(got)))
	}
	got = c.SRandMemberN(ctx, "s", -200).Val()
	if len(got) != 200 || len(uniq(got)) == 200 {
		t.Fatalf("SRANDMEMBER -200 gave %d (%d distinct), want 200 with repeats", len(got), len(uniq(got)))
	}
	for _, m := range got {
		if !isMember(m) {
			t.Fatalf("SRANDMEMBER returned non-member %q", m)
		}
	}
	if n := c.SCard(ctx, "s").Val(); n != 50 {
		t.Fatalf("SRANDMEMBER changed the set: SCARD = %d", n)
	}

	popped := c.SPopN(ctx, "s", 10).Val()
	if len(popped) != 10 || len(uniq(popped)) != 10 {
		t.Fatalf("SPOP 10 = %v", popped)
	}
	for _, m := range popped {
		if !isMember(m) || c.SIsMember(ctx, "s", m).Val() {
			t.Fatalf("SPOP returned %q, which is not a former member or is still there", m)
		}
	}
	one := c.SPop(ctx, "s").Val()
	if !isMember(one) || slices.Contains(popped, one) {
		t.Fatalf("SPOP = %q", one)
	}
	rest := c.SPopN(ctx, "s", 100).Val()
	if len(rest) != 39 || c.Exists(ctx, "s").Val() != 0 {
		t.Fatalf("SPOP 100 of 39 returned %d members; key exists %d", len(rest), c.Exists(ctx, "s").Val())
	}
}

// uniq returns the distinct strings of ss.
func uniq(ss []string) map[string]bool {
	out := map[string]bool{}
	for _, s := range ss {
		out[s] = true
	}
	return out
}

func Test_Set_JournalReplays(t *testing.T) {
	n := mustNewNode(t, Config{})
	c := mustClient(t, n)
	ctx := t.Context()
	log := tapJournal(n.Server)
	c.SAdd(ctx, "s", "a", "b", "c", "d", "e", "f")
	c.SAdd(ctx, "t", "c", "d", "x")
	c.SAdd(ctx, "p", "m1", "m2", "m3", "m4")
	popped := c.SPopN(ctx, "p", 2).Val()
	one := c.SPop(ctx, "p").Val()
	c.SRem(ctx, "s", "a", "nope")
	c.SInterStore(ctx, "i", "s", "t")
	c.SUnionStore(ctx, "u", "s", "t")
	c.SDiffStore(ctx, "df", "s", "t")
	c.SAdd(ctx, "u2", "old")
	c.SInterStore(ctx, "u2", "s", "nokey") // deletes u2
	c.SMove(ctx, "t", "s", "x")
	c.SPopN(ctx, "t", 10)
	// Reads and no-op writes journal nothing.
	c.SMembers(ctx, "s")
	c.SRandMemberN(ctx, "s", -5)
	c.SInter(ctx, "s", "u")
	c.SAdd(ctx, "s", "x")
	c.SRem(ctx, "s", "nope")
	c.SPopN(ctx, "s", 0)
	c.SPop(ctx, "nokey")
	c.SMove(ctx, "s", "s", "x")
	c.SMove(ctx, "s", "t", "nope")
	c.SInterStore(ctx, "none", "nokey")
	lines := log.lines()
	if len(lines) != 13 {
		t.Fatalf("journal has %d entries, want 13: %q", len(lines), lines)
	}
	// SPOP is journaled as SREM of what it popped (in the popped order).
	if want := "srem p " + strings.Join(popped, " "); lines[3] != want {
		t.Fatalf("SPOP 2 journaled as %q, want %q", lines[3], want)
	}
	if want := "srem p " + one; lines[4] != want {
		t.Fatalf("SPOP journaled as %q, want %q", lines[4], want)
	}
	for i, want := range []string{
		"srem s a nope", "sinterstore i s t", "sunionstore u s t", "sdiffstore df s t",
		"sadd u2 old", "sinterstore u2 s nokey", "smove t s x",
	} {
		if lines[5+i] != want {
			t.Fatalf("journal[%d] = %q, want %q", 5+i, lines[5+i], want)
		}
	}
	if got := strings.Fields(lines[12]); len(got) != 4 || got[0] != "srem" || got[1] != "t" {
		t.Fatalf("SPOP t 10 of {c d} journaled as %q", lines[12])
	}
	log.checkReplay(t, n.Server)
}

func Test_Set_ScanOptionsAndErrors(t *testing.T) {
	_, c, ctx := newTestClient(t)
	c.SAdd(ctx, "n", "10", "2", "1", "-3")
	c.SAdd(ctx, "s", "a1", "a2", "b1")
	c.Set(ctx, "str", "v", 0)
	expectAnyOrder(t, c, []replyCase{
		// An intset is returned whole, in numeric order, with cursor 0.
		rc([]any{"0", []any{"-3", "1", "2", "10"}}, "SSCAN", "n", "0", "COUNT", "1"),
		rc([]any{"0", []any{"1", "10"}}, "SSCAN", "n", "0", "MATCH", "1*"),
		rc([]any{"0", anyOrder{"a1", "a2"}}, "SSCAN", "s", "0", "MATCH", "a*", "COUNT", "100"),
		rc([]any{"0", []any{}}, "SSCAN", "nokey", "0"),
		rc("ERR:ERR invalid cursor", "SSCAN", "s", "x"),
		rc("ERR:ERR syntax error", "SSCAN", "s", "0", "COUNT", "0"),
		rc("ERR:ERR value is not an integer or out of range", "SSCAN", "s", "0", "COUNT", "x"),
		rc("ERR:ERR syntax error", "SSCAN", "s", "0", "MATCH"),
		rc("ERR:ERR syntax error", "SSCAN", "s", "0", "NOPE", "x"),
		rc("ERR:ERR wrong number of arguments for 'sscan' command", "SSCAN", "s"),
		rc(hsWrongType, "SSCAN", "str", "0"),
	})
}

// sscanAll iterates SSCAN to the end, failing when a member is returned
// twice or the scan does not finish; it returns the members and steps.
func sscanAll(t *testing.T, c *redis.Client, key, match string, count int64) (map[string]bool, int) {
	t.Helper()
	seen := map[string]bool{}
	var cursor uint64
	for steps := 1; ; steps++ {
		if steps > 10000 {
			t.Fatal("SSCAN did not finish")
		}
		ms, next, err := c.SScan(t.Context(), key, cursor, match, count).Result()
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
			return seen, steps
		}
	}
}

func Test_Set_ScanIteratesWithCursor(t *testing.T) {
	_, c, ctx := newTestClient(t)
	// A set of strings is a hash table in Redis 7.0: COUNT is honoured
	// with a cursor even when the set is small.
	c.SAdd(ctx, "small", "a", "b", "c")
	seen, steps := sscanAll(t, c, "small", "", 1)
	if steps < 2 || len(seen) != 3 {
		t.Fatalf("SSCAN COUNT 1 of 3 strings: %d steps, saw %v", steps, seen)
	}
	// More than 512 integers are no longer an intset either.
	for i := 0; i < 600; i++ {
		c.SAdd(ctx, "large", i)
	}
	seen, steps = sscanAll(t, c, "large", "1*", 25)
	want := 0
	for i := 0; i < 600; i++ {
		if m := fmt.Sprint(i); m[0] == '1' {
			want++
			if !seen[m] {
				t.Fatalf("SSCAN missed %s", m)
			}
		}
	}
	if len(seen) != want || steps < 2 {
		t.Fatalf("SSCAN saw %d members in %d steps, want %d over several steps", len(seen), steps, want)
	}
}

func Test_Set_ScanSurvivesConcurrentChanges(t *testing.T) {
	// Members present for the whole scan are returned exactly once, even
	// while others are added and removed between steps.
	_, c, ctx := newTestClient(t)
	for i := 0; i < 300; i++ {
		c.SAdd(ctx, "s", fmt.Sprintf("keep%d", i))
	}
	seen := map[string]bool{}
	var cursor uint64
	for step := 0; ; step++ {
		if step > 10000 {
			t.Fatal("SSCAN did not finish")
		}
		ms, next, err := c.SScan(ctx, "s", cursor, "", 20).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if seen[m] && m[:4] == "keep" {
				t.Fatalf("member %s returned twice", m)
			}
			seen[m] = true
		}
		c.SAdd(ctx, "s", fmt.Sprintf("tmp%d", step))
		c.SRem(ctx, "s", fmt.Sprintf("tmp%d", step-1))
		if cursor = next; cursor == 0 {
			break
		}
	}
	for i := 0; i < 300; i++ {
		if !seen[fmt.Sprintf("keep%d", i)] {
			t.Fatalf("SSCAN missed keep%d", i)
		}
	}
}
