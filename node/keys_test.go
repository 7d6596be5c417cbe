package node

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/node/keyspace"
	"github.com/redis/go-redis/v9"
)

func Test_Keys_DelExistsType(t *testing.T) {
	_, c, _ := newTestClient(t)
	expectReplies(t, c, []replyCase{
		rc("OK", "mset", "a", "1", "b", "2", "c", "3"),
		rc(int64(1), "zadd", "z", 1, "m"),
		rc(int64(3), "exists", "a", "a", "a"),
		rc(int64(2), "exists", "a", "nokey", "z"),
		rc("string", "type", "a"),
		rc("zset", "type", "z"),
		rc("none", "type", "nokey"),
		rc(int64(2), "del", "a", "b", "nokey", "a"),
		rc(int64(0), "del", "a"),
		rc(int64(2), "unlink", "c", "z", "nokey"),
		rc(int64(0), "exists", "a", "b", "c", "z"),
		rc("ERR:ERR wrong number of arguments for 'del' command", "del"),
		rc("ERR:ERR wrong number of arguments for 'exists' command", "exists"),
		rc("ERR:ERR wrong number of arguments for 'type' command", "type", "a", "b"),
		// An expired key counts as missing everywhere.
		rc("OK", "set", "gone", "v", "pxat", "1"),
		rc(int64(0), "exists", "gone"),
		rc("none", "type", "gone"),
		rc(int64(0), "del", "gone"),
	})
}

func Test_Keys_ExpireOptions(t *testing.T) {
	_, c, _ := newTestClient(t)
	for _, cmd := range []string{"expire", "pexpire", "expireat", "pexpireat"} {
		expectReplies(t, c, []replyCase{
			rc(int64(0), cmd, "nokey", "100"),
			rc("OK", "set", "k", "v"),
			rc("ERR:ERR NX and XX, GT or LT options at the same time are not compatible", cmd, "k", "100", "nx", "xx"),
			rc("ERR:ERR NX and XX, GT or LT options at the same time are not compatible", cmd, "k", "100", "nx", "gt"),
			rc("ERR:ERR NX and XX, GT or LT options at the same time are not compatible", cmd, "k", "100", "lt", "nx"),
			rc("ERR:ERR GT and LT options at the same time are not compatible", cmd, "k", "100", "gt", "lt"),
			rc("ERR:ERR Unsupported option foo", cmd, "k", "100", "foo"),
			rc("ERR:ERR Unsupported option foo", cmd, "k", "abc", "foo"), // options first
			rc(strNotInt, cmd, "k", "abc"),
			rc("ERR:ERR wrong number of arguments for '"+cmd+"' command", cmd, "k"),
			rc(int64(-1), "ttl", "k"),
		})
	}
	for _, cmd := range []string{"expire", "pexpire", "expireat"} {
		// Overflow of the unit conversion or of now + ttl is refused;
		// PEXPIREAT takes any positive absolute time.
		inv := fmt.Sprintf("ERR:ERR invalid expire time in '%s' command", cmd)
		expectReplies(t, c, []replyCase{rc(inv, cmd, "k", "9223372036854775807"), rc(int64(-1), "ttl", "k")})
	}
	at := func(d time.Duration) string { return strconv.FormatInt(time.Now().Add(d).Unix(), 10) }
	expectReplies(t, c, []replyCase{
		rc(strNotInt, "expire", "k", "1.5"),
		rc("ERR:ERR invalid expire time in 'expire' command", "expire", "k", "9223372036854776"),
		rc("ERR:ERR invalid expire time in 'expire' command", "expire", "k", "-9223372036854776"),
		rc(int64(0), "expire", "k", "100", "xx"), // no deadline yet
		rc(int64(0), "expire", "k", "100", "gt"), // none counts as infinite
		rc(int64(1), "expire", "k", "100", "NX"),
		rc(int64(0), "expire", "k", "200", "nx"),
		rc(int64(0), "expire", "k", "50", "gt"),
		rc(int64(1), "expire", "k", "500", "gt"),
		rc(int64(0), "expire", "k", "600", "lt"),
		rc(int64(1), "expire", "k", "300", "lt", "xx"),
		rc(int64(1), "expire", "k", "400", "xx"),
		rc("OK", "set", "p", "v"),
		rc(int64(1), "pexpire", "p", "100000", "lt"), // LT on no deadline sets it
	})
	strTTLBetween(t, c, "k", 390_000, 400_000)
	strTTLBetween(t, c, "p", 90_000, 100_000)
	expectReplies(t, c, []replyCase{rc(int64(1), "expireat", "k", at(time.Hour))})
	strTTLBetween(t, c, "k", 3_500_000, 3_601_000)
	ms := strconv.FormatInt(time.Now().Add(2*time.Hour).UnixMilli(), 10)
	expectReplies(t, c, []replyCase{rc(int64(1), "pexpireat", "k", ms, "gt")})
	strTTLBetween(t, c, "k", 7_100_000, 7_200_000)
	// A deadline at or before now deletes the key and replies 1.
	for _, args := range [][]any{
		{"expire", "k", "-1"}, {"pexpire", "k", "0"}, {"expireat", "k", "1"}, {"pexpireat", "k", "1"},
	} {
		expectReplies(t, c, []replyCase{
			rc("OK", "set", "k", "v"),
			rc(int64(1), args...),
			rc(int64(0), "exists", "k"),
		})
	}
	// Other types take deadlines too.
	expectReplies(t, c, []replyCase{rc(int64(1), "zadd", "z", 1, "m"), rc(int64(1), "expire", "z", "100")})
	strTTLBetween(t, c, "z", 90_000, 100_000)
}

func Test_Keys_TTLPersist(t *testing.T) {
	_, c, _ := newTestClient(t)
	expectReplies(t, c, []replyCase{
		rc(int64(-2), "ttl", "nokey"),
		rc(int64(-2), "pttl", "nokey"),
		rc("OK", "set", "k", "v"),
		rc(int64(-1), "ttl", "k"),
		rc(int64(-1), "pttl", "k"),
		rc(int64(0), "persist", "k"),
		rc(int64(0), "persist", "nokey"),
		rc(int64(1), "pexpire", "k", "10500"),
	})
	// TTL rounds to the nearest second.
	if got := doReply(t, c, "ttl", "k"); got != int64(11) && got != int64(10) {
		t.Errorf("ttl k with 10.5s left = %v, want 10 or 11", got)
	}
	expectReplies(t, c, []replyCase{
		rc(int64(1), "persist", "k"),
		rc(int64(-1), "ttl", "k"),
		rc(int64(0), "persist", "k"),
		rc("ERR:ERR wrong number of arguments for 'persist' command", "persist"),
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
		if got := keyspace.GlobMatch([]byte(tc.pat), []byte(tc.s)); got != tc.want {
			t.Errorf("keyspace.GlobMatch(%q, %q) = %v, want %v", tc.pat, tc.s, got, tc.want)
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
	expectReplies(t, c, []replyCase{rc("ERR:ERR wrong number of arguments for 'keys' command", "keys")})
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
		n.db.Set(k, []byte("v"))
		n.db.SetExpire(k, 1)
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
	expectReplies(t, c, []replyCase{
		rc("ERR:ERR invalid cursor", "scan", "abc"),
		rc("ERR:ERR invalid cursor", "scan", "18446744073709551616"),
		rc(strSyntax, "scan", "0", "count", "0"),
		rc(strNotInt, "scan", "0", "count", "abc"),
		rc(strSyntax, "scan", "0", "match"),
		rc(strSyntax, "scan", "0", "foo", "bar"),
		rc("ERR:ERR wrong number of arguments for 'scan' command", "scan"),
	})
	// SCAN's filter removed the expired keys it came across.
	n.mu.Lock()
	left := 0
	for i := 0; i < 10; i++ {
		if _, ok := n.db.Keys[fmt.Sprintf("key:exp%d", i)]; ok {
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
	expectReplies(t, c, []replyCase{
		rc("ERR:ERR no such key", "rename", "nokey", "x"),
		rc("ERR:ERR no such key", "renamenx", "nokey", "nokey"),
		rc("OK", "set", "a", "1"),
		rc("OK", "rename", "a", "a"),
		rc(int64(0), "renamenx", "a", "a"),
		rc(int64(1), "pexpire", "a", "100000"),
		rc("OK", "rename", "a", "b"),
		rc(int64(0), "exists", "a"),
		rc("1", "get", "b"),
	})
	strTTLBetween(t, c, "b", 90_000, 100_000)
	expectReplies(t, c, []replyCase{
		rc("OK", "set", "other", "o"),
		rc(int64(0), "renamenx", "b", "other"),
		rc("o", "get", "other"),
		rc(int64(1), "renamenx", "b", "fresh"),
	})
	strTTLBetween(t, c, "fresh", 90_000, 100_000)
	expectReplies(t, c, []replyCase{
		rc(int64(1), "pexpire", "other", "500000"),
		rc("OK", "set", "plain", "p"),
		rc("OK", "rename", "plain", "other"), // replaces dst and its deadline
		rc("p", "get", "other"),
		rc(int64(-1), "ttl", "other"),
		rc(int64(1), "zadd", "z", 1, "m"),
		rc("OK", "rename", "z", "other"),
		rc("zset", "type", "other"),
		rc("OK", "set", "gone", "v", "pxat", "1"),
		rc("ERR:ERR no such key", "rename", "gone", "x"),
		rc("ERR:ERR wrong number of arguments for 'rename' command", "rename", "a"),
	})
}

func Test_Keys_RandomkeyDbsizeFlush(t *testing.T) {
	_, c, ctx := newTestClient(t)
	expectReplies(t, c, []replyCase{
		rc(nil, "randomkey"),
		rc(int64(0), "dbsize"),
		rc("OK", "mset", "a", "1", "b", "2", "c", "3"),
		rc(int64(3), "dbsize"),
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
	expectReplies(t, c, []replyCase{
		rc(strSyntax, "flushall", "foo"),
		rc(strSyntax, "flushdb", "sync", "x"),
		rc(int64(3), "dbsize"),
		rc("OK", "flushdb"),
		rc(int64(0), "dbsize"),
		rc("OK", "set", "a", "1"),
		rc("OK", "flushall", "ASYNC"),
		rc(int64(0), "exists", "a"),
		rc("OK", "set", "a", "1"),
		rc("OK", "flushdb", "sync"),
		rc("OK", "flushall", "SYNC"),
		rc("OK", "flushall"),
		rc(int64(0), "dbsize"),
		// RANDOMKEY never returns an expired key.
		rc("OK", "set", "gone", "v", "pxat", "1"),
		rc(nil, "randomkey"),
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
	s, log := strJournalRun(t, cmds)
	want := []string{"set a 1", "set b 2", "set c 3", "set d 4",
		"pexpireat a ", "pexpireat b ", "pexpireat c 4102444800000", "del d",
		"persist a", "rename b bb", "del c nokey", "set x 1", "flushall", "set y 2 pxat "}
	log.expectPrefixes(t, want)
	log.checkReplay(t, s)
}
