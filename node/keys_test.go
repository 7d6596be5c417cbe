package node

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func Test_Keys_DelExistsType(t *testing.T) {
	_, c, _ := newTestClient(t)
	strExpect(t, c, []strCase{
		sc("OK", "mset", "a", "1", "b", "2", "c", "3"),
		sc(int64(1), "zadd", "z", 1, "m"),
		sc(int64(3), "exists", "a", "a", "a"),
		sc(int64(2), "exists", "a", "nokey", "z"),
		sc("string", "type", "a"),
		sc("zset", "type", "z"),
		sc("none", "type", "nokey"),
		sc(int64(2), "del", "a", "b", "nokey", "a"),
		sc(int64(0), "del", "a"),
		sc(int64(2), "unlink", "c", "z", "nokey"),
		sc(int64(0), "exists", "a", "b", "c", "z"),
		sc("ERR:ERR wrong number of arguments for 'del' command", "del"),
		sc("ERR:ERR wrong number of arguments for 'exists' command", "exists"),
		sc("ERR:ERR wrong number of arguments for 'type' command", "type", "a", "b"),
		// An expired key counts as missing everywhere.
		sc("OK", "set", "gone", "v", "pxat", "1"),
		sc(int64(0), "exists", "gone"),
		sc("none", "type", "gone"),
		sc(int64(0), "del", "gone"),
	})
}

func Test_Keys_ExpireOptions(t *testing.T) {
	_, c, _ := newTestClient(t)
	for _, cmd := range []string{"expire", "pexpire", "expireat", "pexpireat"} {
		strExpect(t, c, []strCase{
			sc(int64(0), cmd, "nokey", "100"),
			sc("OK", "set", "k", "v"),
			sc("ERR:ERR NX and XX, GT or LT options at the same time are not compatible", cmd, "k", "100", "nx", "xx"),
			sc("ERR:ERR NX and XX, GT or LT options at the same time are not compatible", cmd, "k", "100", "nx", "gt"),
			sc("ERR:ERR NX and XX, GT or LT options at the same time are not compatible", cmd, "k", "100", "lt", "nx"),
			sc("ERR:ERR GT and LT options at the same time are not compatible", cmd, "k", "100", "gt", "lt"),
			sc("ERR:ERR Unsupported option foo", cmd, "k", "100", "foo"),
			sc("ERR:ERR Unsupported option foo", cmd, "k", "abc", "foo"), // options first
			sc(strNotInt, cmd, "k", "abc"),
			sc("ERR:ERR wrong number of arguments for '"+cmd+"' command", cmd, "k"),
			sc(int64(-1), "ttl", "k"),
		})
	}
	for _, cmd := range []string{"expire", "pexpire", "expireat"} {
		// Overflow of the unit conversion or of now + ttl is refused;
		// PEXPIREAT takes any positive absolute time.
		inv := fmt.Sprintf("ERR:ERR invalid expire time in '%s' command", cmd)
		strExpect(t, c, []strCase{sc(inv, cmd, "k", "9223372036854775807"), sc(int64(-1), "ttl", "k")})
	}
	at := func(d time.Duration) string { return strconv.FormatInt(time.Now().Add(d).Unix(), 10) }
	strExpect(t, c, []strCase{
		sc(strNotInt, "expire", "k", "1.5"),
		sc("ERR:ERR invalid expire time in 'expire' command", "expire", "k", "9223372036854776"),
		sc("ERR:ERR invalid expire time in 'expire' command", "expire", "k", "-9223372036854776"),
		sc(int64(0), "expire", "k", "100", "xx"), // no deadline yet
		sc(int64(0), "expire", "k", "100", "gt"), // none counts as infinite
		sc(int64(1), "expire", "k", "100", "NX"),
		sc(int64(0), "expire", "k", "200", "nx"),
		sc(int64(0), "expire", "k", "50", "gt"),
		sc(int64(1), "expire", "k", "500", "gt"),
		sc(int64(0), "expire", "k", "600", "lt"),
		sc(int64(1), "expire", "k", "300", "lt", "xx"),
		sc(int64(1), "expire", "k", "400", "xx"),
		sc("OK", "set", "p", "v"),
		sc(int64(1), "pexpire", "p", "100000", "lt"), // LT on no deadline sets it
	})
	strTTLBetween(t, c, "k", 390_000, 400_000)
	strTTLBetween(t, c, "p", 90_000, 100_000)
	strExpect(t, c, []strCase{sc(int64(1), "expireat", "k", at(time.Hour))})
	strTTLBetween(t, c, "k", 3_500_000, 3_601_000)
	ms := strconv.FormatInt(time.Now().Add(2*time.Hour).UnixMilli(), 10)
	strExpect(t, c, []strCase{sc(int64(1), "pexpireat", "k", ms, "gt")})
	strTTLBetween(t, c, "k", 7_100_000, 7_200_000)
	// A deadline at or before now deletes the key and replies 1.
	for _, args := range [][]any{
		{"expire", "k", "-1"}, {"pexpire", "k", "0"}, {"expireat", "k", "1"}, {"pexpireat", "k", "1"},
	} {
		strExpect(t, c, []strCase{
			sc("OK", "set", "k", "v"),
			sc(int64(1), args...),
			sc(int64(0), "exists", "k"),
		})
	}
	// Other types take deadlines too.
	strExpect(t, c, []strCase{sc(int64(1), "zadd", "z", 1, "m"), sc(int64(1), "expire", "z", "100")})
	strTTLBetween(t, c, "z", 90_000, 100_000)
}

func Test_Keys_TTLPersist(t *testing.T) {
	_, c, _ := newTestClient(t)
	strExpect(t, c, []strCase{
		sc(int64(-2), "ttl", "nokey"),
		sc(int64(-2), "pttl", "nokey"),
		sc("OK", "set", "k", "v"),
		sc(int64(-1), "ttl", "k"),
		sc(int64(-1), "pttl", "k"),
		sc(int64(0), "persist", "k"),
		sc(int64(0), "persist", "nokey"),
		sc(int64(1), "pexpire", "k", "10500"),
	})
	// TTL rounds to the nearest second.
	if got := strDo(t, c, "ttl", "k"); got != int64(11) && got != int64(10) {
		t.Errorf("ttl k with 10.5s left = %v, want 10 or 11", got)
	}
	strExpect(t, c, []strCase{
		sc(int64(1), "persist", "k"),
		sc(int64(-1), "ttl", "k"),
		sc(int64(0), "persist", "k"),
		sc("ERR:ERR wrong number of arguments for 'persist' command", "persist"),
	})
}

func Test_Keys_GlobMatch(t *testing.T) {
	// Expected values are those of Redis 7.0's stringmatchlen.
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"*", "", false} /* KEYS and SCAN special-case a lone "*" */, {"*", "anything", true}, {"", "", true}, {"", "a", false},
		{"h?llo", "hello", true}, {"h?llo", "hllo", false},
		{"h*llo", "hllo", true}, {"h*llo", "heeeello", true}, {"h*llo", "hellox", false},
		{"h[ae]llo", "hallo", true}, {"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true}, {"h[^e]llo", "hello", false},
		{"h[a-b]llo", "hbllo", true}, {"h[b-a]llo", "hallo", true}, {"h[a-b]llo", "hcllo", false},
		{`h\*llo`, "h*llo", true}, {`h\*llo`, "hello", false}, {`h\?llo`, "h?llo", true},
		{`a[\]]`, "a]", true}, {"a[", "a[", false}, {"[", "[", false}, {"[^", "x", true},
		{"[]", "]", false}, {"[a-", "a", true}, {"[a-", "-", true}, {"a[-]b", "a-b", true},
		{`a\\b`, `a\b`, true}, {`a\`, `a\`, true}, {`\`, `\`, true},
		{"**", "x", true}, {"*o", "hello", true}, {"h*l*o", "hello", true}, {"*a*b*", "xaxbx", true},
		{"*a*b*", "xbxax", false}, {"???*", "ab", false}, {"???*", "abc", true},
		{"[a-c-z]", "-", true}, {"[a-c-z]", "z", true}, {"[--]", "-", true},
		{"a*", "", false}, {"a**", "a", true}, {"*[", "x[", false},
		{"[\x80-\xff]", "\xe9", true}, {"[\x01-\xff]", "\xe9", false}, // C's signed char
		{"[^a-z]", "\xff", true},
		{"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 60), false},
	}
	for _, tc := range cases {
		if got := globMatch([]byte(tc.pat), []byte(tc.s)); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

func Test_Keys_KeysCommand(t *testing.T) {
	_, c, ctx := newTestClient(t)
	for _, k := range []string{"hello", "hallo", "hxllo", "hllo", "h*llo", "other"} {
		c.Set(ctx, k, "1", 0)
	}
	c.Set(ctx, "hexp", "1", 0)
	c.Do(ctx, "pexpireat", "hexp", "1")
	c.Set(ctx, "hexp2", "1", time.Hour)
	for pat, want := range map[string][]string{
		"*":        {"h*llo", "hallo", "hello", "hexp2", "hllo", "hxllo", "other"},
		"h?llo":    {"h*llo", "hallo", "hello", "hxllo"},
		"h[ae]llo": {"hallo", "hello"},
		`h\*llo`:   {"h*llo"},
		"h*":       {"h*llo", "hallo", "hello", "hexp2", "hllo", "hxllo"},
		"nomatch*": {},
	} {
		got, err := c.Keys(ctx, pat).Result()
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("keys %q = %q, want %q", pat, got, want)
		}
	}
	strExpect(t, c, []strCase{sc("ERR:ERR wrong number of arguments for 'keys' command", "keys")})
}

func Test_Keys_Scan(t *testing.T) {
	n, c, ctx := newTestClient(t)
	want := map[string]bool{}
	for i := 0; i < 300; i++ {
		k := fmt.Sprintf("key:%d", i)
		c.Set(ctx, k, "v", 0)
		want[k] = true
	}
	for i := 0; i < 20; i++ {
		c.ZAdd(ctx, fmt.Sprintf("z:%d", i), redis.Z{Score: 1, Member: "m"})
	}
	// Expired keys that no one touched yet are not returned.
	n.mu.Lock()
	for i := 0; i < 10; i++ {
		k := fmt.Sprintf("key:exp%d", i)
		n.db.set(k, []byte("v"))
		n.db.setExpire(k, 1)
	}
	n.mu.Unlock()

	scan := func(args ...any) []string {
		t.Helper()
		var cursor uint64
		seen := map[string]bool{}
		var out []string
		for steps := 0; ; steps++ {
			if steps > 1000 {
				t.Fatal("scan did not finish")
			}
			cmd := redis.NewScanCmd(ctx, nil, append([]any{"scan", cursor}, args...)...)
			if err := c.Process(ctx, cmd); err != nil {
				t.Fatalf("scan %v: %v", args, err)
			}
			keys, next := cmd.Val()
			for _, k := range keys {
				if seen[k] {
					t.Errorf("scan %v returned %q twice", args, k)
				}
				seen[k] = true
				out = append(out, k)
			}
			if next == 0 {
				break
			}
			cursor = next
		}
		sort.Strings(out)
		return out
	}
	all := scan()
	if len(all) != 320 {
		t.Errorf("scan returned %d keys, want 320", len(all))
	}
	for _, k := range all {
		if strings.HasPrefix(k, "key:exp") {
			t.Errorf("scan returned expired key %q", k)
		}
		delete(want, k)
	}
	if len(want) != 0 {
		t.Errorf("scan missed %d keys, e.g. %v", len(want), want)
	}
	if got := scan("count", 1000); len(got) != 320 {
		t.Errorf("scan count 1000 returned %d keys, want 320", len(got))
	}
	if got := scan("match", "key:1?", "count", 7); !reflect.DeepEqual(got, []string{"key:10", "key:11", "key:12", "key:13", "key:14", "key:15", "key:16", "key:17", "key:18", "key:19"}) {
		t.Errorf("scan match key:1? = %q", got)
	}
	if got := scan("type", "ZSET"); len(got) != 20 || !strings.HasPrefix(got[0], "z:") {
		t.Errorf("scan type zset = %q, want the 20 zsets", got)
	}
	if got := scan("type", "string", "match", "z:*"); len(got) != 0 {
		t.Errorf("scan type string match z:* = %q, want none", got)
	}
	if got := scan("type", "nosuchtype"); len(got) != 0 {
		t.Errorf("scan type nosuchtype = %q, want none", got)
	}
	strExpect(t, c, []strCase{
		sc("ERR:ERR invalid cursor", "scan", "abc"),
		sc("ERR:ERR invalid cursor", "scan", "18446744073709551616"),
		sc(strSyntax, "scan", "0", "count", "0"),
		sc(strNotInt, "scan", "0", "count", "abc"),
		sc(strSyntax, "scan", "0", "match"),
		sc(strSyntax, "scan", "0", "foo", "bar"),
		sc("ERR:ERR wrong number of arguments for 'scan' command", "scan"),
	})
	// SCAN's filter removed the expired keys it came across.
	n.mu.Lock()
	left := 0
	for i := 0; i < 10; i++ {
		if _, ok := n.db.keys[fmt.Sprintf("key:exp%d", i)]; ok {
			left++
		}
	}
	n.mu.Unlock()
	if left != 0 {
		t.Errorf("%d expired keys left in the keyspace after full scans", left)
	}
}

func Test_Keys_Rename(t *testing.T) {
	_, c, _ := newTestClient(t)
	strExpect(t, c, []strCase{
		sc("ERR:ERR no such key", "rename", "nokey", "x"),
		sc("ERR:ERR no such key", "renamenx", "nokey", "nokey"),
		sc("OK", "set", "a", "1"),
		sc("OK", "rename", "a", "a"),
		sc(int64(0), "renamenx", "a", "a"),
		sc(int64(1), "pexpire", "a", "100000"),
		sc("OK", "rename", "a", "b"),
		sc(int64(0), "exists", "a"),
		sc("1", "get", "b"),
	})
	strTTLBetween(t, c, "b", 90_000, 100_000)
	strExpect(t, c, []strCase{
		sc("OK", "set", "other", "o"),
		sc(int64(0), "renamenx", "b", "other"),
		sc("o", "get", "other"),
		sc(int64(1), "renamenx", "b", "fresh"),
	})
	strTTLBetween(t, c, "fresh", 90_000, 100_000)
	strExpect(t, c, []strCase{
		sc(int64(1), "pexpire", "other", "500000"),
		sc("OK", "set", "plain", "p"),
		sc("OK", "rename", "plain", "other"), // replaces dst and its deadline
		sc("p", "get", "other"),
		sc(int64(-1), "ttl", "other"),
		sc(int64(1), "zadd", "z", 1, "m"),
		sc("OK", "rename", "z", "other"),
		sc("zset", "type", "other"),
		sc("OK", "set", "gone", "v", "pxat", "1"),
		sc("ERR:ERR no such key", "rename", "gone", "x"),
		sc("ERR:ERR wrong number of arguments for 'rename' command", "rename", "a"),
	})
}

func Test_Keys_RandomkeyDbsizeFlush(t *testing.T) {
	_, c, ctx := newTestClient(t)
	strExpect(t, c, []strCase{
		sc(nil, "randomkey"),
		sc(int64(0), "dbsize"),
		sc("OK", "mset", "a", "1", "b", "2", "c", "3"),
		sc(int64(3), "dbsize"),
	})
	seen := map[string]bool{}
	for i := 0; i < 200 && len(seen) < 3; i++ {
		k, err := c.RandomKey(ctx).Result()
		if err != nil || (k != "a" && k != "b" && k != "c") {
			t.Fatalf("randomkey = %q, %v", k, err)
		}
		seen[k] = true
	}
	if len(seen) < 2 {
		t.Errorf("randomkey returned only %v in 200 calls", seen)
	}
	strExpect(t, c, []strCase{
		sc(strSyntax, "flushall", "foo"),
		sc(strSyntax, "flushdb", "sync", "x"),
		sc(int64(3), "dbsize"),
		sc("OK", "flushdb"),
		sc(int64(0), "dbsize"),
		sc("OK", "set", "a", "1"),
		sc("OK", "flushall", "ASYNC"),
		sc(int64(0), "exists", "a"),
		sc("OK", "set", "a", "1"),
		sc("OK", "flushdb", "sync"),
		sc("OK", "flushall", "SYNC"),
		sc("OK", "flushall"),
		sc(int64(0), "dbsize"),
		// RANDOMKEY never returns an expired key.
		sc("OK", "set", "gone", "v", "pxat", "1"),
		sc(nil, "randomkey"),
	})
}

func Test_Keys_ActiveExpiry(t *testing.T) {
	_, c, ctx := newTestClient(t)
	for i := 0; i < 50; i++ {
		if err := c.Set(ctx, fmt.Sprintf("k%d", i), "v", 50*time.Millisecond).Err(); err != nil {
			t.Fatal(err)
		}
	}
	c.Set(ctx, "stay", "v", 0)
	// DBSIZE counts expired keys not yet removed, so only active expiry
	// (no access to the keys) can bring it down to 1.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := c.DBSize(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dbsize still %d 10s after the keys expired", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v, _ := c.Get(ctx, "stay").Result(); v != "v" {
		t.Errorf("persistent key lost to active expiry: %q", v)
	}
}

func Test_Keys_JournalForms(t *testing.T) {
	cmds := [][]string{
		{"set", "a", "1"}, {"set", "b", "2"}, {"set", "c", "3"}, {"set", "d", "4"},
		{"expire", "a", "100", "nx"},
		{"pexpire", "b", "100000"},
		{"expireat", "c", "4102444800"},
		{"pexpireat", "d", "1"},
		{"expire", "nokey", "10"}, // nothing
		{"persist", "a"},
		{"rename", "b", "bb"},
		{"renamenx", "bb", "c"}, // nothing
		{"del", "c", "nokey"},
		{"set", "x", "1"},
		{"flushdb"},
		{"set", "y", "2", "ex", "100"},
	}
	s, entries := strJournalRun(t, cmds)
	want := []string{"set a 1", "set b 2", "set c 3", "set d 4",
		"pexpireat a ", "pexpireat b ", "pexpireat c 4102444800000", "del d",
		"persist a", "rename b bb", "del c nokey", "set x 1", "flushall", "set y 2 pxat "}
	if len(entries) != len(want) {
		t.Fatalf("journal = %q, want %d entries", entries, len(want))
	}
	for i, e := range entries {
		if got := strings.Join(e, " "); !strings.HasPrefix(got, want[i]) {
			t.Errorf("entry %d = %q, want prefix %q", i, got, want[i])
		}
	}
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
	w := s.digest(now)
	s.mu.Unlock()
	r.mu.Lock()
	g := r.digest(now)
	r.mu.Unlock()
	if g != w {
		t.Errorf("replayed dataset differs: digest %s, want %s", g, w)
	}
}
