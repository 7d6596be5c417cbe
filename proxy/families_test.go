package proxy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/node"
	"github.com/batonkv/baton/node/nodetest"
	"github.com/redis/go-redis/v9"
)

// The family tests run the same go-redis v9 calls against a node directly
// and through a proxy in front of another, identical node, and require the
// same results: a proxy that changes any reply fails them. Results that
// legitimately differ between two runs (clocks, connection ids) are
// recorded as the property that must hold instead of the value.

// famEnv is what a family's calls run against: c and other are two clients
// of the endpoint under test (the node, or the proxy); node is a client of
// the node itself, for observing it (never recorded).
type famEnv struct {
	ctx        context.Context
	t          *testing.T
	c, other   *redis.Client
	node       *redis.Client
	transcript []string
}

// add records commands' results: arguments, then value or error.
func (e *famEnv) add(cmds ...redis.Cmder) {
	for _, cmd := range cmds {
		e.transcript = append(e.transcript, cmd.String())
	}
}

// addf records a computed line (a property, or an unordered reply sorted).
func (e *famEnv) addf(format string, args ...any) {
	e.transcript = append(e.transcript, fmt.Sprintf(format, args...))
}

// sorted records a reply whose order is unspecified, sorted.
func (e *famEnv) sorted(cmd *redis.StringSliceCmd) {
	v := slices.Clone(cmd.Val())
	slices.Sort(v)
	e.addf("%v: %v %v", cmd.Args(), v, cmd.Err())
}

// waitBlocked waits (up to 5 s) until the node has a blocked client.
func (e *famEnv) waitBlocked() {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		info, err := e.node.Info(e.ctx, "clients").Result()
		if err != nil {
			e.t.Fatal(err)
		}
		if !strings.Contains(info, "blocked_clients:0\r\n") && strings.Contains(info, "blocked_clients:") {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no blocked client on the node: %q", info)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// family is one command family's calls.
type family struct {
	name string
	run  func(e *famEnv)
}

// families are every family the node serves (families_state_test.go has
// the stateful ones).
var families = []family{
	{"strings", famStrings},
	{"keys", famKeys},
	{"hashes", famHashes},
	{"lists", famLists},
	{"sets", famSets},
	{"sorted sets", famZsets},
	{"pipelines", famPipelines},
	{"transactions", famTransactions},
	{"pub/sub", famPubSub},
	{"blocking pops", famBlocking},
	{"scripting", famScripting},
	{"server and connection", famServer},
}

// runFamily runs f against endpoint (with node the node behind it, whose
// password is nodePass) after a FLUSHALL, and returns its transcript.
func runFamily(t *testing.T, f family, endpoint, node, nodePass string) []string {
	e := &famEnv{
		ctx: context.Background(), t: t,
		c: newClient(t, endpoint, ""), other: newClient(t, endpoint, ""),
		node: newClient(t, node, nodePass),
	}
	if err := e.node.FlushAll(e.ctx).Err(); err != nil {
		t.Fatal(err)
	}
	f.run(e)
	return e.transcript
}

// compareFamily runs f against the node direct and through the proxy in
// front of behind, and reports every call whose result differs.
func compareFamily(t *testing.T, f family, direct, proxied, behind, nodePass string) {
	want := runFamily(t, f, direct, direct, nodePass)
	got := runFamily(t, f, proxied, behind, nodePass)
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Errorf("call %d:\n  node:  %s\n  proxy: %s", i, w, g)
		}
	}
	if len(want) < 5 {
		t.Fatalf("the family recorded only %d results", len(want))
	}
}

func Test_Proxy_Families(t *testing.T) {
	direct := nodetest.StartAddr(t, node.Config{})
	behind := nodetest.StartAddr(t, node.Config{})
	_, proxied := mustNewProxy(t, Config{Backend: behind})
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) { compareFamily(t, f, direct, proxied, behind, "") })
	}
}

// With a password: the proxy checks AUTH and HELLO AUTH against its own
// RequirePass exactly as the node checks its requirepass.
func Test_Proxy_Families_RequirePass(t *testing.T) {
	direct := nodetest.StartAddr(t, node.Config{RequirePass: "pw"})
	behind := nodetest.StartAddr(t, node.Config{RequirePass: "pw"})
	_, proxied := mustNewProxy(t, Config{Backend: behind, BackendAuth: "pw", RequirePass: "pw"})
	compareFamily(t, family{"auth", famAuth}, direct, proxied, behind, "pw")
}

// famAuth: commands before and after authenticating, with the password's
// every form (run with requirepass "pw").
func famAuth(e *famEnv) {
	ctx, c := e.ctx, e.c
	e.add(c.Ping(ctx), c.Get(ctx, "k"), c.Do(ctx, "hello", "2"), c.Do(ctx, "auth", "wrong"))
	e.add(c.Do(ctx, "auth", "default", "wrong"), c.Do(ctx, "hello", "2", "auth", "default", "wrong"))
	conn := c.Conn()
	defer conn.Close()
	e.add(conn.Do(ctx, "auth", "pw"), conn.Ping(ctx), conn.Set(ctx, "k", "v", 0), conn.Do(ctx, "auth", "wrong"), conn.Get(ctx, "k"))
	conn2 := c.Conn()
	defer conn2.Close()
	e.add(conn2.Do(ctx, "auth", "default", "pw"), conn2.Get(ctx, "k"))
	conn3 := c.Conn()
	defer conn3.Close()
	m, err := conn3.Do(ctx, "hello", "2", "auth", "default", "pw").Slice()
	e.addf("HELLO 2 AUTH default pw: %d fields, %v", len(m), err)
	e.add(conn3.Get(ctx, "k"))
}

func famStrings(e *famEnv) {
	ctx, c := e.ctx, e.c
	e.add(c.Set(ctx, "s", "hello", 0), c.Get(ctx, "s"), c.Get(ctx, "missing"))
	e.add(c.SetNX(ctx, "s", "x", 0), c.SetNX(ctx, "s2", "x", 0))
	e.add(c.SetArgs(ctx, "s", "world", redis.SetArgs{Mode: "XX", Get: true}), c.Get(ctx, "s"))
	e.add(c.SetEx(ctx, "ex", "v", time.Minute), c.MSet(ctx, "a", "1", "b", "2"), c.MGet(ctx, "a", "b", "missing"))
	e.add(c.MSetNX(ctx, "a", "9", "z", "9"), c.Incr(ctx, "a"), c.IncrBy(ctx, "a", 10), c.Decr(ctx, "a"), c.DecrBy(ctx, "a", 3))
	e.add(c.IncrByFloat(ctx, "f", 1.5), c.Incr(ctx, "s"), c.Append(ctx, "s", "!!"), c.StrLen(ctx, "s"))
	e.add(c.GetRange(ctx, "s", 0, 2), c.SetRange(ctx, "s", 2, "XY"), c.Get(ctx, "s"))
	e.add(c.GetDel(ctx, "s2"), c.GetDel(ctx, "s2"), c.GetSet(ctx, "a", "100"), c.GetEx(ctx, "a", 0))
	// Binary-safe values, and one large enough to span many reads.
	bin := "a\r\nb\x00c$3\r\n*1\r\n"
	big := strings.Repeat("0123456789", 100_000)
	e.add(c.Set(ctx, "bin", bin, 0), c.Get(ctx, "bin"), c.Set(ctx, "big", big, 0))
	v, err := c.Get(ctx, "big").Result()
	e.addf("GET big: %d bytes, equal %v, %v", len(v), v == big, err)
	e.add(c.Do(ctx, "get"), c.Do(ctx, "set", "k"), c.Do(ctx, "nosuchcommand", "x"))
}

func famKeys(e *famEnv) {
	ctx, c := e.ctx, e.c
	e.add(c.MSet(ctx, "a", "1", "b", "2", "c", "3"), c.Del(ctx, "a", "missing"), c.Exists(ctx, "b", "c", "missing"))
	e.add(c.Type(ctx, "b"), c.Type(ctx, "missing"), c.Expire(ctx, "b", 100*time.Second))
	ttl, err := c.TTL(ctx, "b").Result()
	e.addf("TTL b in (90s, 100s]: %v %v", ttl > 90*time.Second && ttl <= 100*time.Second, err)
	e.add(c.ExpireNX(ctx, "b", time.Hour), c.ExpireGT(ctx, "b", time.Hour), c.Persist(ctx, "b"), c.TTL(ctx, "b"), c.TTL(ctx, "missing"))
	e.add(c.PExpire(ctx, "c", time.Hour), c.ExpireAt(ctx, "c", time.Unix(4102444800, 0)))
	e.add(c.Rename(ctx, "c", "c2"), c.Rename(ctx, "missing", "x"), c.RenameNX(ctx, "c2", "b"), c.RenameNX(ctx, "c2", "c3"))
	e.add(c.Unlink(ctx, "c3"), c.DBSize(ctx), c.RandomKey(ctx))
	e.sorted(c.Keys(ctx, "*"))
	e.add(c.Set(ctx, "h?llo", "1", 0))
	e.sorted(c.Keys(ctx, "h*"))
	keys, cursor, err := c.Scan(ctx, 0, "*", 100).Result()
	slices.Sort(keys)
	e.addf("SCAN 0: %v %d %v", keys, cursor, err)
	e.add(c.Do(ctx, "scan", "abc"), c.Expire(ctx, "b", -1), c.Exists(ctx, "b"))
}

func famHashes(e *famEnv) {
	ctx, c := e.ctx, e.c
	e.add(c.HSet(ctx, "h", "f1", "v1", "f2", "v2"), c.HSet(ctx, "h", "f1", "v1b"), c.HGet(ctx, "h", "f1"), c.HGet(ctx, "h", "no"))
	e.add(c.HMGet(ctx, "h", "f1", "no", "f2"), c.HSetNX(ctx, "h", "f1", "x"), c.HSetNX(ctx, "h", "f3", "v3"))
	e.add(c.HLen(ctx, "h"), c.HExists(ctx, "h", "f3"), c.HDel(ctx, "h", "f3", "no"))
	e.add(c.HIncrBy(ctx, "h", "n", 5), c.HIncrBy(ctx, "h", "f1", 1), c.HIncrByFloat(ctx, "h", "fl", 1.5))
	e.add(c.HGetAll(ctx, "h"), c.HGetAll(ctx, "missing")) // maps print sorted
	e.sorted(c.HKeys(ctx, "h"))
	e.sorted(c.HVals(ctx, "h"))
	fields, cursor, err := c.HScan(ctx, "h", 0, "*", 100).Result()
	e.addf("HSCAN h: %d values, cursor %d, %v", len(fields), cursor, err)
	e.add(c.Set(ctx, "s", "x", 0), c.HSet(ctx, "s", "f", "v"), c.Do(ctx, "hset", "h", "f1"))
}

func famLists(e *famEnv) {
	ctx, c := e.ctx, e.c
	e.add(c.RPush(ctx, "l", "a", "b", "c"), c.LPush(ctx, "l", "z"), c.LRange(ctx, "l", 0, -1), c.LLen(ctx, "l"))
	e.add(c.LIndex(ctx, "l", 1), c.LIndex(ctx, "l", 99), c.LSet(ctx, "l", 0, "Z"), c.LSet(ctx, "l", 99, "x"))
	e.add(c.LInsertBefore(ctx, "l", "b", "B"), c.LInsertAfter(ctx, "l", "nope", "x"), c.LRange(ctx, "l", 0, -1))
	e.add(c.RPush(ctx, "l", "b", "b"), c.LRem(ctx, "l", 2, "b"), c.LPos(ctx, "l", "c", redis.LPosArgs{}))
	e.add(c.LPushX(ctx, "missing", "a"), c.RPushX(ctx, "l", "tail"), c.LPop(ctx, "l"), c.RPop(ctx, "l"))
	e.add(c.LPopCount(ctx, "l", 2), c.LPop(ctx, "missing"), c.LTrim(ctx, "l", 0, 0), c.LRange(ctx, "l", 0, -1))
	e.add(c.RPush(ctx, "src", "1", "2", "3"), c.LMove(ctx, "src", "dst", "LEFT", "RIGHT"), c.RPopLPush(ctx, "src", "dst"))
	e.add(c.LRange(ctx, "dst", 0, -1), c.LMove(ctx, "src", "dst", "UP", "DOWN"))
	e.add(c.Set(ctx, "s", "x", 0), c.LPush(ctx, "s", "x"))
}

func famSets(e *famEnv) {
	ctx, c := e.ctx, e.c
	e.add(c.SAdd(ctx, "st", "a", "b", "c"), c.SAdd(ctx, "st", "a", "d"), c.SCard(ctx, "st"))
	e.add(c.SIsMember(ctx, "st", "a"), c.SIsMember(ctx, "st", "z"), c.SMIsMember(ctx, "st", "a", "z"), c.SRem(ctx, "st", "d", "z"))
	e.sorted(c.SMembers(ctx, "st"))
	e.add(c.SAdd(ctx, "st2", "b", "c", "e"))
	e.sorted(c.SInter(ctx, "st", "st2"))
	e.sorted(c.SUnion(ctx, "st", "st2"))
	e.sorted(c.SDiff(ctx, "st", "st2"))
	e.add(c.SInterStore(ctx, "d1", "st", "st2"), c.SUnionStore(ctx, "d2", "st", "st2"), c.SDiffStore(ctx, "d3", "st", "st2"))
	e.sorted(c.SMembers(ctx, "d2"))
	e.add(c.SMove(ctx, "st", "st2", "a"), c.SMove(ctx, "st", "st2", "nope"), c.SCard(ctx, "missing"))
	e.add(c.SAdd(ctx, "one", "x"), c.SPop(ctx, "one"), c.SPop(ctx, "missing"), c.SRandMemberN(ctx, "st", 0))
	e.add(c.Set(ctx, "s", "x", 0), c.SAdd(ctx, "s", "x"))
}

func famZsets(e *famEnv) {
	ctx, c := e.ctx, e.c
	z := func(score float64, m string) redis.Z { return redis.Z{Score: score, Member: m} }
	e.add(c.ZAdd(ctx, "z", z(1, "a"), z(2, "b"), z(3, "c")), c.ZAddNX(ctx, "z", z(10, "a"), z(4, "d")))
	e.add(c.ZAddArgs(ctx, "z", redis.ZAddArgs{XX: true, Ch: true, Members: []redis.Z{z(5, "a"), z(100, "nope")}}))
	e.add(c.ZAddArgs(ctx, "z", redis.ZAddArgs{GT: true, Members: []redis.Z{z(1, "a")}}), c.ZIncrBy(ctx, "z", 2.5, "c"))
	e.add(c.ZScore(ctx, "z", "a"), c.ZScore(ctx, "z", "nope"), c.ZMScore(ctx, "z", "a", "nope"), c.ZCard(ctx, "z"))
	e.add(c.ZCount(ctx, "z", "1", "3"), c.ZCount(ctx, "z", "(1", "+inf"), c.ZRank(ctx, "z", "c"), c.ZRevRank(ctx, "z", "c"))
	e.add(c.ZRange(ctx, "z", 0, -1), c.ZRangeWithScores(ctx, "z", 0, -1), c.ZRevRangeWithScores(ctx, "z", 0, 1))
	e.add(c.ZRangeByScore(ctx, "z", &redis.ZRangeBy{Min: "(1", Max: "5", Offset: 0, Count: 2}))
	e.add(c.ZAdd(ctx, "lex", z(0, "a"), z(0, "b"), z(0, "c"), z(0, "d")))
	e.add(c.ZRangeArgs(ctx, redis.ZRangeArgs{Key: "lex", Start: "[b", Stop: "(d", ByLex: true}))
	e.add(c.ZRem(ctx, "z", "nope", "b"), c.ZPopMin(ctx, "z"), c.ZPopMax(ctx, "z", 2))
	e.add(c.ZRemRangeByScore(ctx, "z", "-inf", "2"), c.ZRemRangeByRank(ctx, "lex", 0, 0), c.ZRange(ctx, "lex", 0, -1))
	e.add(c.Do(ctx, "zadd", "z", "notafloat", "x"), c.Set(ctx, "s", "x", 0), c.ZAdd(ctx, "s", z(1, "a")))
}

// famScripting: the node serves no scripting; the proxy must not change
// the error.
func famScripting(e *famEnv) {
	ctx, c := e.ctx, e.c
	e.add(c.Eval(ctx, "return 1", nil), c.EvalSha(ctx, "0123456789012345678901234567890123456789", nil))
	e.add(c.ScriptLoad(ctx, "return 1"), c.ScriptExists(ctx, "abc"), c.Do(ctx, "function", "list"))
	e.add(c.Ping(ctx))
}

// famServer: server and connection commands. Connection state is set on
// one dedicated connection (c.Conn), as an application would.
func famServer(e *famEnv) {
	ctx, c := e.ctx, e.c
	e.add(c.Ping(ctx), c.Echo(ctx, "hi there"), c.Echo(ctx, "a\r\nb"), c.Set(ctx, "k", "v", 0), c.DBSize(ctx))
	info, err := c.Info(ctx).Result()
	var sections []string
	for _, line := range strings.Split(info, "\r\n") {
		if strings.HasPrefix(line, "# ") {
			sections = append(sections, line)
		}
	}
	e.addf("INFO sections: %v, redis_version %v, %v", sections, strings.Contains(info, "redis_version:"), err)
	tm, err := c.Time(ctx).Result()
	e.addf("TIME within a minute of ours: %v %v", time.Since(tm).Abs() < time.Minute, err)
	e.add(c.ConfigGet(ctx, "maxclients"), c.Do(ctx, "select", 1), c.Do(ctx, "ping", "a", "b"))
	conn := c.Conn()
	defer conn.Close()
	e.add(conn.ClientGetName(ctx), conn.ClientSetName(ctx, "app1"), conn.ClientGetName(ctx))
	e.add(conn.Select(ctx, 0), conn.Get(ctx, "k"), conn.ClientGetName(ctx))
	e.add(conn.Do(ctx, "client", "setname", "has space"), conn.ClientGetName(ctx))
	id, err := conn.ClientID(ctx).Result()
	e.addf("CLIENT ID positive: %v %v", id > 0, err)
	e.add(conn.Do(ctx, "auth", "x"), conn.Do(ctx, "auth", "default", "any"), conn.Do(ctx, "auth", "nobody", "x"))
	e.add(c.Do(ctx, "auth", "x"), c.Do(ctx, "auth", "default", "any"), c.Do(ctx, "auth", "nobody", "x"), c.Do(ctx, "auth", "a", "b", "c"))
	e.add(c.Do(ctx, "hello", "x"), c.Do(ctx, "hello", "3"), c.Do(ctx, "hello", "2", "foo"), c.Do(ctx, "hello", "2", "setname", "a b"))
	e.add(c.Do(ctx, "hello", "2", "auth", "nobody", "x"), c.Do(ctx, "hello", "2", "auth", "default"))
	// HELLO's own fields differ (the proxy answers it: server
	// "baton-proxy", id 0); its shape and errors must not.
	m, err := c.Do(ctx, "hello", "2", "auth", "default", "x").Slice()
	e.addf("HELLO 2 AUTH default x: %d fields, %v", len(m), err)
	// CLIENT KILL and PAUSE are control commands the proxy refuses
	// (Test_Proxy_RefusesControlCommands); their arity errors agree.
	e.add(c.Do(ctx, "client", "kill"), c.Do(ctx, "client", "pause"))
}
