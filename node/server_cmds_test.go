package node

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/node/command"
	"github.com/batonkv/baton/node/keyspace"
	"github.com/redis/go-redis/v9"
)

// infoField returns field's value in an INFO reply, or "" and false.
func infoField(info, field string) (string, bool) {
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v, true
		}
	}
	return "", false
}

func Test_ServerCmds_Info(t *testing.T) {
	n, c, ctx := newTestClient(t)
	if err := c.Set(ctx, "a", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "b", "2", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range []string{"# Server\r\n", "\r\n\r\n# Clients\r\n", "# Memory\r\n", "# Persistence\r\n",
		"# Stats\r\n", "# Replication\r\n", "# Keyspace\r\n"} {
		if !strings.Contains(info, sec) {
			t.Errorf("INFO lacks %q", sec)
		}
	}
	if strings.Contains(info, "# Commandstats") {
		t.Errorf("plain INFO has Commandstats")
	}
	_, port, _ := net.SplitHostPort(n.addr)
	lsn := strconv.FormatUint(n.jr.LSN(), 10)
	for field, want := range map[string]string{
		"redis_version":      "7.0.15",
		"baton_version":      Version,
		"tcp_port":           port,
		"connected_clients":  "1",
		"loading":            "0",
		"aof_enabled":        "1",
		"role":               "master",
		"connected_slaves":   "0",
		"master_replid":      n.jr.Replid(),
		"master_repl_offset": lsn,
		"db0":                "keys=2,expires=1,avg_ttl=0",
	} {
		if got, ok := infoField(info, field); !ok || got != want {
			t.Errorf("INFO %s = %q (present %v), want %q", field, got, ok, want)
		}
	}
	for _, field := range []string{"uptime_in_seconds", "used_memory", "total_commands_processed", "expired_keys",
		"keyspace_hits", "keyspace_misses"} {
		v, ok := infoField(info, field)
		if _, err := strconv.ParseInt(v, 10, 64); !ok || err != nil {
			t.Errorf("INFO %s = %q, want an integer", field, v)
		}
	}
	if v, _ := infoField(info, "used_memory"); v == "0" {
		t.Errorf("used_memory is 0")
	}

	one, err := c.Info(ctx, "keyspace").Result()
	if err != nil || one != "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n" {
		t.Fatalf("INFO keyspace = %q, %v", one, err)
	}
	two, err := c.Do(ctx, "INFO", "replication", "SERVER").Text()
	if err != nil || !strings.HasPrefix(two, "# Server\r\n") || !strings.Contains(two, "\r\n\r\n# Replication\r\n") {
		t.Fatalf("INFO replication server = %q, %v", two, err)
	}
	if got, err := c.Info(ctx, "nosuch").Result(); err != nil || got != "" {
		t.Fatalf("INFO nosuch = %q, %v", got, err)
	}
	all, err := c.Info(ctx, "all").Result()
	if err != nil || !strings.Contains(all, "# Commandstats\r\n") || !strings.Contains(all, "# Keyspace\r\n") {
		t.Fatalf("INFO all = %q, %v", all, err)
	}

	// CONFIG RESETSTAT zeroes the counters.
	if err := c.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	stats, _ := c.Info(ctx, "stats").Result()
	if v, _ := infoField(stats, "total_connections_received"); v != "0" {
		t.Fatalf("total_connections_received after RESETSTAT = %q", v)
	}
}

func Test_ServerCmds_RoleAndTime(t *testing.T) {
	n, c, ctx := newTestClient(t)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	role, err := c.Do(ctx, "ROLE").Slice()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([]any{"master", int64(n.jr.LSN()), []any{}})
	if fmt.Sprint(role) != want || n.jr.LSN() == 0 {
		t.Fatalf("ROLE = %v, want %s", role, want)
	}
	before := time.Now().Add(-time.Second)
	tm, err := c.Time(ctx).Result()
	if err != nil || tm.Before(before) || tm.After(time.Now().Add(time.Second)) {
		t.Fatalf("TIME = %v, %v", tm, err)
	}
}

func Test_ServerCmds_Command(t *testing.T) {
	_, c, ctx := newTestClient(t)
	count, err := c.Do(ctx, "COMMAND", "COUNT").Int()
	if err != nil || count != len(command.ByName()) {
		t.Fatalf("COMMAND COUNT = %d, %v; want %d", count, err, len(command.ByName()))
	}
	all, err := c.Do(ctx, "COMMAND").Slice()
	if err != nil || len(all) != count {
		t.Fatalf("COMMAND = %d entries, %v", len(all), err)
	}
	info, err := c.Do(ctx, "COMMAND", "INFO", "get", "nosuch", "client").Slice()
	if err != nil || len(info) != 3 || info[1] != nil {
		t.Fatalf("COMMAND INFO get nosuch client = %v, %v", info, err)
	}
	get := info[0].([]any)
	head := fmt.Sprint(get[:7])
	if len(get) != 10 || head != "[get 2 [readonly fast] 1 1 1 [@read @string @fast]]" {
		t.Fatalf("COMMAND INFO get = %v", get)
	}
	spec := fmt.Sprint(get[8])
	if spec != "[[flags [RO access] begin_search [type index spec [index 1]] find_keys [type range spec [lastkey 0 keystep 1 limit 0]]]]" {
		t.Fatalf("COMMAND INFO get key specs = %s", spec)
	}
	// go-redis' own COMMAND parser must accept our table.
	if cmds, err := c.Command(ctx).Result(); err != nil || cmds["get"] == nil || !cmds["get"].ReadOnly {
		t.Fatalf("go-redis COMMAND = %v, %v", cmds["get"], err)
	}
	docs, err := c.Do(ctx, "COMMAND", "DOCS", "get", "nosuch").Slice()
	if err != nil || len(docs) != 2 || docs[0] != "get" {
		t.Fatalf("COMMAND DOCS get nosuch = %v, %v", docs, err)
	}
	if d := fmt.Sprint(docs[1]); !strings.Contains(d, "group string") {
		t.Fatalf("COMMAND DOCS get = %s", d)
	}
	if all, err := c.Do(ctx, "COMMAND", "DOCS").Slice(); err != nil || len(all) != 2*count {
		t.Fatalf("COMMAND DOCS = %d elements, %v", len(all), err)
	}
	keys, err := c.Do(ctx, "COMMAND", "GETKEYS", "set", "k", "v").StringSlice()
	if err != nil || fmt.Sprint(keys) != "[k]" {
		t.Fatalf("COMMAND GETKEYS set k v = %v, %v", keys, err)
	}
	wantErr(t, "GETKEYS ping", c.Do(ctx, "COMMAND", "GETKEYS", "ping", "x").Err(), "ERR The command has no key arguments")
	wantErr(t, "GETKEYS foo", c.Do(ctx, "COMMAND", "GETKEYS", "foo", "a").Err(), "ERR Invalid command specified")
	wantErr(t, "GETKEYS get a b", c.Do(ctx, "COMMAND", "GETKEYS", "get", "a", "b").Err(), "ERR Invalid number of arguments specified for command")
	list, err := c.Do(ctx, "COMMAND", "LIST", "FILTERBY", "PATTERN", "cl*").StringSlice()
	if err != nil || fmt.Sprint(list) != "[client]" {
		t.Fatalf("COMMAND LIST FILTERBY PATTERN cl* = %v, %v", list, err)
	}
	wantErr(t, "COMMAND foo", c.Do(ctx, "COMMAND", "foo").Err(), "ERR unknown subcommand 'foo'. Try COMMAND HELP.")
}

func Test_ServerCmds_Config(t *testing.T) {
	n, c, ctx := newTestClient(t)
	got, err := c.ConfigGet(ctx, "maxclients").Result()
	if err != nil || got["maxclients"] != "10000" {
		t.Fatalf("CONFIG GET maxclients = %v, %v", got, err)
	}
	_, port, _ := net.SplitHostPort(n.addr)
	got, err = c.ConfigGet(ctx, "*").Result()
	if err != nil || got["port"] != port || got["databases"] != "1" || got["appendfsync"] != "everysec" ||
		got["appendonly"] != "yes" || got["proto-max-bulk-len"] != "536870912" || got["bind"] != "127.0.0.1" {
		t.Fatalf("CONFIG GET * = %v, %v", got, err)
	}
	if err := c.ConfigSet(ctx, "maxclients", "50").Err(); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.ConfigGet(ctx, "max*").Result(); got["maxclients"] != "50" {
		t.Fatalf("maxclients after SET = %v", got)
	}
	wantErr(t, "SET foo", c.ConfigSet(ctx, "foo", "1").Err(), "ERR Unknown option or number of arguments for CONFIG SET - 'foo'")
	wantErr(t, "SET databases", c.ConfigSet(ctx, "databases", "3").Err(),
		"ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config")
	wantErr(t, "SET maxclients x", c.ConfigSet(ctx, "maxclients", "x").Err(),
		"ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer")
	wantErr(t, "CONFIG foo", c.Do(ctx, "CONFIG", "foo").Err(), "ERR unknown subcommand 'foo'. Try CONFIG HELP.")

	// requirepass at run time: this connection stays authenticated, new
	// ones must AUTH.
	if err := c.ConfigSet(ctx, "requirepass", "pw").Err(); err != nil {
		t.Fatal(err)
	}
	fresh := mustConn(t, n, nil)
	wantErr(t, "new client PING", fresh.Ping(ctx).Err(), "NOAUTH Authentication required.")
	if err := fresh.Do(ctx, "AUTH", "pw").Err(); err != nil {
		t.Fatalf("AUTH after CONFIG SET requirepass: %v", err)
	}
	other := mustConn(t, n, nil)
	wantErr(t, "unauthenticated PING", other.Ping(ctx).Err(), "NOAUTH Authentication required.")
	if err := fresh.ConfigSet(ctx, "requirepass", "").Err(); err != nil {
		t.Fatal(err)
	}
	if err := other.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after requirepass cleared: %v", err)
	}
}

func Test_ServerCmds_ConfigMaxClients(t *testing.T) {
	n, c, ctx := newTestClient(t)
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxclients", "1").Err(); err != nil {
		t.Fatal(err)
	}
	got := rawExchange(t, n.addr, "PING\r\n")
	if got != "-ERR max number of clients reached\r\n" {
		t.Fatalf("second client over maxclients got %q", got)
	}
}

func Test_ServerCmds_Shutdown(t *testing.T) {
	n, c, ctx := newTestClient(t)
	wantErr(t, "SHUTDOWN foo", c.Do(ctx, "SHUTDOWN", "foo").Err(), "ERR syntax error")
	wantErr(t, "SHUTDOWN ABORT", c.Do(ctx, "SHUTDOWN", "ABORT").Err(), "ERR No shutdown in progress.")
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	err := c.Do(ctx, "SHUTDOWN", "NOSAVE").Err()
	if err == nil || redis.HasErrorPrefix(err, "ERR") {
		t.Fatalf("SHUTDOWN replied %v; want the connection closed without a reply", err)
	}
	select {
	case <-n.ShutdownRequested():
	case <-time.After(10 * time.Second):
		t.Fatalf("ShutdownRequested not closed after SHUTDOWN")
	}
	if conn, err := net.DialTimeout("tcp", n.addr, time.Second); err == nil {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, werr := conn.Write([]byte("PING\r\n"))
		buf := make([]byte, 16)
		_, rerr := conn.Read(buf)
		conn.Close()
		if werr == nil && rerr == nil {
			t.Fatalf("node still answers after SHUTDOWN: %q", buf)
		}
	}
}

// loadDataset writes a fixed dataset into n's keyspace in the order given
// by perm (a permutation of 0..5), directly under the lock.
func loadDataset(n *testNode, perm []int, expireAt int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	db := n.db
	steps := []func(){
		func() { db.Set("str", []byte("value")) },
		func() {
			h := keyspace.Hash{}
			for _, f := range []string{"f1", "f2", "f3"} {
				h[f] = []byte("v-" + f)
			}
			db.Set("hash", h)
		},
		func() { db.Set("set", keyspace.Set{"a": {}, "b": {}, "c": {}}) },
		func() {
			l := keyspace.NewList()
			for _, e := range []string{"x", "y", "z"} {
				l.PushBack([]byte(e))
			}
			db.Set("list", l)
		},
		func() {
			z := keyspace.NewZSet()
			z.Add("m1", 1)
			z.Add("m2", 2.5)
			db.Set("zset", z)
		},
		func() {
			db.Set("ttl", []byte("t"))
			db.SetExpire("ttl", expireAt)
		},
	}
	for _, i := range perm {
		steps[i]()
	}
}

func Test_ServerCmds_Digest(t *testing.T) {
	a, ca, ctx := newTestClient(t)
	b, cb, _ := newTestClient(t)
	zero := strings.Repeat("0", 64)
	if got, err := ca.Do(ctx, "DIGEST").Text(); err != nil || got != zero {
		t.Fatalf("DIGEST of empty dataset = %q, %v", got, err)
	}
	at := time.Now().Add(time.Hour).UnixMilli()
	loadDataset(a, []int{0, 1, 2, 3, 4, 5}, at)
	loadDataset(b, []int{5, 3, 1, 4, 0, 2}, at)
	da, err := ca.Do(ctx, "DIGEST").Text()
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(da) || da == zero {
		t.Fatalf("DIGEST = %q, %v", da, err)
	}
	db, _ := cb.Do(ctx, "DIGEST").Text()
	if da != db || a.Digest() != da {
		t.Fatalf("same data in another order: digests %s vs %s (Digest() %s)", da, db, a.Digest())
	}

	// Each kind of change alters the digest.
	changes := map[string]func(){
		"string value": func() { b.db.Set("str", []byte("other")) },
		"list order": func() {
			l := keyspace.NewList()
			for _, e := range []string{"z", "y", "x"} {
				l.PushBack([]byte(e))
			}
			b.db.Set("list", l)
		},
		"set member":  func() { b.db.Keys["set"].(keyspace.Set)["d"] = struct{}{} },
		"hash value":  func() { b.db.Keys["hash"].(keyspace.Hash)["f1"] = []byte("changed") },
		"zset score":  func() { b.db.Keys["zset"].(*keyspace.ZSet).Add("m1", 1.5) },
		"expiry":      func() { b.db.SetExpire("ttl", at+1) },
		"persist":     func() { b.db.Persist("ttl") },
		"type change": func() { b.db.Set("str", keyspace.Set{"value": {}}) },
		"new key":     func() { b.db.Set("extra", []byte("")) },
	}
	for name, change := range changes {
		b.mu.Lock()
		b.db.Flush()
		b.mu.Unlock()
		loadDataset(b, []int{0, 1, 2, 3, 4, 5}, at)
		if b.Digest() != da {
			t.Fatalf("%s: reloaded dataset digest differs", name)
		}
		b.mu.Lock()
		change()
		b.mu.Unlock()
		if got := b.Digest(); got == da {
			t.Errorf("%s: digest unchanged", name)
		}
	}

	// Through commands: the same writes in another order give one digest.
	for _, n := range []*testNode{a, b} {
		n.mu.Lock()
		n.db.Flush()
		n.mu.Unlock()
	}
	for _, kv := range [][2]string{{"p", "1"}, {"q", "2"}} {
		if err := ca.Set(ctx, kv[0], kv[1], 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, kv := range [][2]string{{"q", "2"}, {"p", "1"}} {
		if err := cb.Set(ctx, kv[0], kv[1], 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if da, db := a.Digest(), b.Digest(); da != db {
		t.Fatalf("SET p, q vs SET q, p: %s vs %s", da, db)
	}
}
