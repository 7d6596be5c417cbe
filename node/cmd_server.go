package node

import (
	"fmt"
	"net"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/internal/outbuf"
	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/node/command"
	"github.com/batonkv/baton/node/keyspace"
)

// adminState is the server-wide state of the administration commands.
type adminState struct {
	// pause is CLIENT PAUSE's state (pause.go).
	pause pauseState

	// shutdownInit creates shutdownCh; shutdownOnce runs SHUTDOWN's close
	// once; shutdownCh is closed once a SHUTDOWN has closed the server.
	shutdownInit sync.Once
	shutdownOnce sync.Once
	shutdownCh   chan struct{}

	// runID is INFO's run_id, made once (runIDOnce); memPeak is the
	// highest used_memory INFO has seen.
	runIDOnce sync.Once
	runID     string
	memPeak   atomic.Uint64
}

// cmdTime: TIME replies [unix seconds, microseconds].
func (s *Server) cmdTime(c *keyspace.Ctx) {
	now := time.Now()
	c.W.WriteArray(2)
	c.W.WriteBulkString(strconv.FormatInt(now.Unix(), 10))
	c.W.WriteBulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

// ShutdownRequested returns a channel closed after a client's SHUTDOWN has
// closed the server, so the process hosting it can exit.
func (s *Server) ShutdownRequested() <-chan struct{} {
	s.admin.shutdownInit.Do(func() { s.admin.shutdownCh = make(chan struct{}) })
	return s.admin.shutdownCh
}

// cmdShutdown: SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] closes the server (the
// journal is flushed by Close) and the connection, without a reply.
func (s *Server) cmdShutdown(c *keyspace.Ctx) {
	cl := clientOf(c)
	for _, a := range c.Args[1:] {
		switch {
		case keyspace.EqFold(a, "nosave"), keyspace.EqFold(a, "save"), keyspace.EqFold(a, "now"), keyspace.EqFold(a, "force"):
		case keyspace.EqFold(a, "abort") && len(c.Args) == 2:
			c.Err("ERR No shutdown in progress.")
			return
		default:
			c.Err(keyspace.ErrSyntax)
			return
		}
	}
	if c.Replay {
		return
	}
	s.log.Info("SHUTDOWN requested", "client", cl.addr)
	s.ShutdownRequested() // create the channel before the close can run
	s.admin.shutdownOnce.Do(func() {
		// Close needs the keyspace lock, which this handler holds.
		go func() {
			if err := s.Close(); err != nil {
				s.log.Error("shutdown: close", "err", err)
			}
			close(s.admin.shutdownCh)
		}()
	})
	cl.quit = true
}

// configOption is one option CONFIG GET/SET knows.
type configOption struct {
	name string
	get  func(s *Server) string
	// set validates and returns the function applying v, or an error
	// text; nil set means the option cannot change at run time.
	set func(s *Server, v string) (apply func(), errText string)
}

// configOptions are the options of CONFIG GET/SET, sorted by name.
var configOptions = []configOption{
	{name: "appendfsync", get: func(s *Server) string { return string(s.cfg.Fsync) }},
	{name: "appendonly", get: func(s *Server) string { return yesNo(s.cfg.DataDir != "") }},
	{name: "bind", get: func(s *Server) string { h, _ := s.listenHostPort(); return h }},
	{name: "client-output-buffer-limit", get: func(s *Server) string { return s.outputLimits().String() }, set: setOutputLimits},
	{name: "client-query-buffer-limit", get: func(s *Server) string { return keyspace.Itoa(s.cfg.MaxQueryBuffer) }},
	{name: "databases", get: func(*Server) string { return "1" }},
	{name: "dir", get: func(s *Server) string { return s.cfg.DataDir }},
	{name: "maxclients", get: func(s *Server) string { return strconv.Itoa(s.cfg.MaxClients) }, set: setMaxClients},
	{name: "port", get: func(s *Server) string { _, p := s.listenHostPort(); return p }},
	{name: "proto-max-bulk-len", get: func(s *Server) string { return keyspace.Itoa(s.cfg.MaxBulkLen) }},
	{name: "requirepass", get: func(s *Server) string { return s.cfg.RequirePass }, set: setRequirePass},
	{name: "save", get: saveConfig},
	{name: "timeout", get: func(s *Server) string { return keyspace.Itoa(s.idleTimeout.Load() / int64(time.Second)) }, set: setIdleTimeout},
}

// yesNo formats a boolean as Redis configs do.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// saveConfig renders the snapshot schedule in redis.conf's "save" form.
func saveConfig(s *Server) string {
	if s.cfg.SnapshotInterval <= 0 {
		return ""
	}
	return fmt.Sprintf("%d %d", int64(s.cfg.SnapshotInterval/time.Second), s.cfg.SnapshotMinWrites)
}

// listenHostPort returns the host and port the node listens on.
func (s *Server) listenHostPort() (string, string) {
	addr := s.cfg.Addr
	if a := s.Addr(); a != nil {
		addr = a.String()
	}
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, ""
	}
	return h, p
}

// setMaxClients validates a new maxclients.
func setMaxClients(s *Server, v string) (func(), string) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, "argument couldn't be parsed into an integer"
	}
	if n < 1 || n > 4294967295 {
		return nil, "argument must be between 1 and 4294967295 inclusive"
	}
	return func() { s.cfg.MaxClients = int(n) }, ""
}

// setOutputLimits validates a new client-output-buffer-limit (classes
// not named keep their limits).
func setOutputLimits(s *Server, v string) (func(), string) {
	ls, err := outbuf.Parse(v, s.outputLimits())
	if err != nil {
		return nil, err.Error()
	}
	return func() { s.setOutputLimits(ls) }, ""
}

// setRequirePass validates a new requirepass. Connections already
// authenticated stay so; with an empty password every connection is.
func setRequirePass(s *Server, v string) (func(), string) {
	return func() {
		s.cfg.RequirePass = v
		if v == "" {
			for _, cl := range s.clients {
				cl.authed.Store(true)
			}
		}
	}, ""
}

// findConfig returns the option called name (case-insensitive).
func findConfig(name string) *configOption {
	for i := range configOptions {
		if strings.EqualFold(configOptions[i].name, name) {
			return &configOptions[i]
		}
	}
	return nil
}

// cmdConfig: CONFIG GET|SET|RESETSTAT|REWRITE|HELP.
func (s *Server) cmdConfig(c *keyspace.Ctx) {
	sub := c.Args[1]
	switch {
	case keyspace.EqFold(sub, "get"):
		if len(c.Args) < 3 {
			subArity(c, "config|get")
			return
		}
		s.configGet(c)
	case keyspace.EqFold(sub, "set"):
		if len(c.Args) < 4 {
			subArity(c, "config|set")
			return
		}
		s.configSet(c)
	case keyspace.EqFold(sub, "resetstat"):
		if len(c.Args) != 2 {
			subArity(c, "config|resetstat")
			return
		}
		s.resetStats()
		c.OK()
	case keyspace.EqFold(sub, "rewrite"):
		if len(c.Args) != 2 {
			subArity(c, "config|rewrite")
			return
		}
		c.Err("ERR The server is running without a config file")
	case keyspace.EqFold(sub, "help") && len(c.Args) == 2:
		help(c, "CONFIG",
			"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
			"SET <directive> <value>", "    Set the configuration <directive> to <value>.",
			"RESETSTAT", "    Reset statistics reported by the INFO command.",
			"REWRITE", "    Rewrite the configuration file.")
	default:
		unknownSub(c, "CONFIG")
	}
}

// configGet: CONFIG GET pattern [pattern ...] replies name/value pairs.
func (s *Server) configGet(c *keyspace.Ctx) {
	var out []string
	seen := map[string]bool{}
	for _, a := range c.Args[2:] {
		pat := string(a)
		if !strings.ContainsAny(pat, "*?[") {
			if o := findConfig(pat); o != nil && !seen[o.name] {
				seen[o.name] = true
				out = append(out, pat, o.get(s))
			}
			continue
		}
		pat = strings.ToLower(pat)
		for i := range configOptions {
			o := &configOptions[i]
			if ok, _ := path.Match(pat, o.name); ok && !seen[o.name] {
				seen[o.name] = true
				out = append(out, o.name, o.get(s))
			}
		}
	}
	c.W.WriteArray(len(out))
	for _, v := range out {
		c.W.WriteBulkString(v)
	}
}

// configSet: CONFIG SET name value [name value ...] applies all or none.
func (s *Server) configSet(c *keyspace.Ctx) {
	if len(c.Args)%2 != 0 {
		c.Err(keyspace.ErrSyntax)
		return
	}
	var applies []func()
	seen := map[string]bool{}
	for i := 2; i < len(c.Args); i += 2 {
		name := string(c.Args[i])
		o := findConfig(name)
		if o == nil {
			c.Err("ERR Unknown option or number of arguments for CONFIG SET - '" + resp.Sanitize(name, 128) + "'")
			return
		}
		fail := func(why string) {
			c.Err("ERR CONFIG SET failed (possibly related to argument '" + resp.Sanitize(name, 128) + "') - " + why)
		}
		if seen[o.name] {
			fail("duplicate parameter")
			return
		}
		seen[o.name] = true
		if o.set == nil {
			fail("can't set immutable config")
			return
		}
		apply, why := o.set(s, string(c.Args[i+1]))
		if why != "" {
			fail(why)
			return
		}
		applies = append(applies, apply)
	}
	// accept reads these options under clientsMu; handlers under s.mu,
	// which we hold.
	s.clientsMu.Lock()
	for _, apply := range applies {
		apply()
	}
	s.clientsMu.Unlock()
	c.OK()
}

// resetStats zeroes the counters INFO stats reports (CONFIG RESETSTAT).
func (s *Server) resetStats() {
	st := &s.stats
	st.commands.Store(0)
	st.connections.Store(0)
	st.rejectedConns.Store(0)
	st.expiredKeys.Store(0)
	st.keyspaceHits.Store(0)
	st.keyspaceMisses.Store(0)
}

// subArity writes the arity error of a subcommand ("client|pause").
func subArity(c *keyspace.Ctx, name string) {
	c.Err("ERR wrong number of arguments for '" + name + "' command")
}

// unknownSub writes Redis' unknown-subcommand error for container cmd.
func unknownSub(c *keyspace.Ctx, cmd string) {
	c.Err("ERR unknown subcommand '" + resp.Sanitize(string(c.Args[1]), 128) + "'. Try " + cmd + " HELP.")
}

// help writes a container command's HELP reply: a header line, the
// given lines, and the HELP entry, as status replies.
func help(c *keyspace.Ctx, cmd string, lines ...string) {
	all := append([]string{cmd + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"}, lines...)
	all = append(all, "HELP", "    Print this help.")
	c.W.WriteArray(len(all))
	for _, l := range all {
		c.W.WriteString(l)
	}
}

// sortedCommands returns the command table sorted by name.
func sortedCommands() []*command.Command {
	out := make([]*command.Command, 0, len(command.ByName()))
	for _, cmd := range command.ByName() {
		out = append(out, cmd)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// commandGroups maps command names to their Redis documentation group;
// commands not listed are "generic".
var commandGroups = func() map[string]string {
	m := map[string]string{}
	add := func(group, names string) {
		for _, n := range strings.Fields(names) {
			m[n] = group
		}
	}
	add("string", "get set setnx setex psetex mget mset msetnx incr incrby decr decrby incrbyfloat append strlen getrange setrange getdel getex getset substr lcs")
	add("hash", "hset hsetnx hget hmget hmset hdel hgetall hlen hexists hincrby hincrbyfloat hkeys hvals hscan hstrlen hrandfield")
	add("list", "lpush rpush lpushx rpushx lpop rpop lrange llen lindex lset lrem ltrim linsert lpos lmove blpop brpop blmove rpoplpush brpoplpush lmpop blmpop")
	add("set", "sadd srem smembers sismember smismember scard spop srandmember sinter sunion sdiff sinterstore sunionstore sdiffstore smove sscan sintercard")
	add("sorted-set", "zadd zrem zscore zmscore zincrby zcard zcount zrank zrevrank zrange zrangebyscore zrevrange zrevrangebyscore zpopmin zpopmax zremrangebyscore zremrangebyrank zscan zrangebylex zrevrangebylex zlexcount zremrangebylex zrangestore bzpopmin bzpopmax")
	add("pubsub", "publish subscribe unsubscribe psubscribe punsubscribe pubsub")
	add("transactions", "multi exec discard watch unwatch")
	add("connection", "ping echo auth hello select quit reset client")
	add("server", "info role time dbsize command config shutdown lastsave save bgsave debug flushdb flushall digest replicaof slaveof sync psync failover")
	return m
}()

// commandGroup is cmd's documentation group.
func commandGroup(name string) string {
	if g, ok := commandGroups[name]; ok {
		return g
	}
	return "generic"
}

// flagWords are the Redis flag words of COMMAND INFO, in Redis' order.
func flagWords(f command.Flags) []string {
	var out []string
	for _, fw := range []struct {
		f    command.Flags
		word string
	}{
		{command.FlagWrite, "write"}, {command.FlagReadonly, "readonly"}, {command.FlagAdmin, "admin"},
		{command.FlagPubSub, "pubsub"}, {command.FlagBlocking, "blocking"}, {command.FlagFast, "fast"},
		{command.FlagNoAuth, "no_auth"},
	} {
		if f&fw.f != 0 {
			out = append(out, fw.word)
		}
	}
	return out
}

// aclCategories derives Redis ACL categories from cmd's flags and group,
// in Redis' category order.
func aclCategories(cmd *command.Command) []string {
	f := cmd.Flags
	group := commandGroup(cmd.Name)
	var out []string
	addIf := func(ok bool, cat string) {
		if ok {
			out = append(out, cat)
		}
	}
	addIf(group == "generic", "@keyspace")
	addIf(f&command.FlagReadonly != 0, "@read")
	addIf(f&command.FlagWrite != 0, "@write")
	addIf(group == "set", "@set")
	addIf(group == "sorted-set", "@sortedset")
	addIf(group == "list", "@list")
	addIf(group == "hash", "@hash")
	addIf(group == "string", "@string")
	addIf(group == "pubsub", "@pubsub")
	addIf(f&command.FlagAdmin != 0, "@admin")
	addIf(f&command.FlagFast != 0, "@fast")
	addIf(f&command.FlagFast == 0, "@slow")
	addIf(f&command.FlagBlocking != 0, "@blocking")
	addIf(f&command.FlagAdmin != 0, "@dangerous")
	addIf(group == "connection", "@connection")
	addIf(group == "transactions", "@transaction")
	return out
}

// writeStrings writes a status-string array.
func writeStrings(w keyspace.Replier, strs []string) {
	w.WriteArray(len(strs))
	for _, str := range strs {
		w.WriteString(str)
	}
}

// writeCommandInfo writes one COMMAND INFO entry: name, arity, flags, first
// key, last key, step, ACL categories, tips, key specs, subcommands.
func writeCommandInfo(w keyspace.Replier, cmd *command.Command) {
	w.WriteArray(10)
	w.WriteBulkString(cmd.Name)
	w.WriteInt(cmd.Arity)
	writeStrings(w, flagWords(cmd.Flags))
	w.WriteInt(cmd.FirstKey)
	w.WriteInt(cmd.LastKey)
	step := cmd.Step
	if cmd.FirstKey > 0 && step == 0 {
		step = 1
	}
	w.WriteInt(step)
	writeStrings(w, aclCategories(cmd))
	w.WriteArray(0)
	writeKeySpecs(w, cmd)
	w.WriteArray(0)
}

// writeKeySpecs writes cmd's key positions as one Redis 7 key spec (RESP2
// maps are flat arrays): begin_search by index, find_keys by range.
func writeKeySpecs(w keyspace.Replier, cmd *command.Command) {
	if cmd.FirstKey <= 0 {
		w.WriteArray(0)
		return
	}
	var flags []string
	switch {
	case cmd.Flags&command.FlagWrite != 0:
		flags = []string{"RW"}
	case cmd.Flags&command.FlagReadonly != 0:
		flags = []string{"RO", "access"}
	}
	last := cmd.LastKey
	if last >= 0 {
		last -= cmd.FirstKey
	}
	step := max(cmd.Step, 1)
	w.WriteArray(1)
	w.WriteArray(6)
	w.WriteBulkString("flags")
	writeStrings(w, flags)
	w.WriteBulkString("begin_search")
	w.WriteArray(4)
	w.WriteBulkString("type")
	w.WriteBulkString("index")
	w.WriteBulkString("spec")
	w.WriteArray(2)
	w.WriteBulkString("index")
	w.WriteInt(cmd.FirstKey)
	w.WriteBulkString("find_keys")
	w.WriteArray(4)
	w.WriteBulkString("type")
	w.WriteBulkString("range")
	w.WriteBulkString("spec")
	w.WriteArray(6)
	w.WriteBulkString("lastkey")
	w.WriteInt(last)
	w.WriteBulkString("keystep")
	w.WriteInt(step)
	w.WriteBulkString("limit")
	w.WriteInt(0)
}

// writeCommandDocs writes cmd's COMMAND DOCS map (a flat array): the
// fields redis-cli reads for help and hints.
func writeCommandDocs(w keyspace.Replier, cmd *command.Command) {
	w.WriteArray(8)
	w.WriteBulkString("summary")
	w.WriteBulkString(strings.ToUpper(cmd.Name) + " command")
	w.WriteBulkString("since")
	w.WriteBulkString("1.0.0")
	w.WriteBulkString("group")
	w.WriteBulkString(commandGroup(cmd.Name))
	w.WriteBulkString("complexity")
	w.WriteBulkString("")
}

// cmdCommand: COMMAND [COUNT | LIST | INFO [name ...] | DOCS [name ...] |
// GETKEYS cmd args... | HELP] describes the command table.
func (s *Server) cmdCommand(c *keyspace.Ctx) {
	if len(c.Args) == 1 {
		all := sortedCommands()
		c.W.WriteArray(len(all))
		for _, cmd := range all {
			writeCommandInfo(c.W, cmd)
		}
		return
	}
	sub := c.Args[1]
	switch {
	case keyspace.EqFold(sub, "count"):
		if len(c.Args) != 2 {
			subArity(c, "command|count")
			return
		}
		c.W.WriteInt(len(command.ByName()))
	case keyspace.EqFold(sub, "list"):
		commandList(c)
	case keyspace.EqFold(sub, "info"):
		commandEach(c, writeCommandInfo, func(w keyspace.Replier) { w.WriteNull() })
	case keyspace.EqFold(sub, "docs"):
		commandDocs(c)
	case keyspace.EqFold(sub, "getkeys"):
		if len(c.Args) < 4 {
			subArity(c, "command|getkeys")
			return
		}
		commandGetKeys(c)
	case keyspace.EqFold(sub, "help") && len(c.Args) == 2:
		help(c, "COMMAND",
			"(no subcommand)", "    Return details about all Redis commands.",
			"COUNT", "    Return the total number of commands in this Redis server.",
			"LIST", "    Return a list of all commands in this Redis server.",
			"INFO [<command-name> ...]", "    Return details about multiple Redis commands.",
			"DOCS [<command-name> ...]", "    Return documentation details about multiple Redis commands.",
			"GETKEYS <full-command>", "    Return the keys from a full Redis command.")
	default:
		unknownSub(c, "COMMAND")
	}
}

// commandEach writes one entry per named command (all commands when none
// is named), with missing for unknown names.
func commandEach(c *keyspace.Ctx, write func(keyspace.Replier, *command.Command), missing func(keyspace.Replier)) {
	if len(c.Args) == 2 {
		all := sortedCommands()
		c.W.WriteArray(len(all))
		for _, cmd := range all {
			write(c.W, cmd)
		}
		return
	}
	c.W.WriteArray(len(c.Args) - 2)
	for _, name := range c.Args[2:] {
		if cmd := command.Lookup(name); cmd != nil {
			write(c.W, cmd)
		} else {
			missing(c.W)
		}
	}
}

// commandDocs: COMMAND DOCS [name ...] replies a map (flat array) from
// name to docs; unknown names are left out.
func commandDocs(c *keyspace.Ctx) {
	var cmds []*command.Command
	if len(c.Args) == 2 {
		cmds = sortedCommands()
	} else {
		for _, name := range c.Args[2:] {
			if cmd := command.Lookup(name); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	c.W.WriteArray(2 * len(cmds))
	for _, cmd := range cmds {
		c.W.WriteBulkString(cmd.Name)
		writeCommandDocs(c.W, cmd)
	}
}

// commandList: COMMAND LIST [FILTERBY MODULE name | ACLCAT cat | PATTERN p].
func commandList(c *keyspace.Ctx) {
	keep := func(*command.Command) bool { return true }
	switch {
	case len(c.Args) == 2:
	case len(c.Args) == 5 && keyspace.EqFold(c.Args[2], "filterby"):
		val := string(c.Args[4])
		switch by := c.Args[3]; {
		case keyspace.EqFold(by, "module"):
			keep = func(*command.Command) bool { return false }
		case keyspace.EqFold(by, "aclcat"):
			keep = func(cmd *command.Command) bool {
				for _, cat := range aclCategories(cmd) {
					if strings.EqualFold(cat[1:], val) {
						return true
					}
				}
				return false
			}
		case keyspace.EqFold(by, "pattern"):
			pat := strings.ToLower(val)
			keep = func(cmd *command.Command) bool { ok, _ := path.Match(pat, cmd.Name); return ok }
		default:
			c.Err(keyspace.ErrSyntax)
			return
		}
	default:
		c.Err(keyspace.ErrSyntax)
		return
	}
	var names []string
	for _, cmd := range sortedCommands() {
		if keep(cmd) {
			names = append(names, cmd.Name)
		}
	}
	c.W.WriteArray(len(names))
	for _, n := range names {
		c.W.WriteBulkString(n)
	}
}

// commandGetKeys: COMMAND GETKEYS command [arg ...] replies its key args.
func commandGetKeys(c *keyspace.Ctx) {
	args := c.Args[2:]
	cmd := command.Lookup(args[0])
	switch {
	case cmd == nil:
		c.Err("ERR Invalid command specified")
		return
	case !cmd.ArityOK(len(args)):
		c.Err("ERR Invalid number of arguments specified for command")
		return
	}
	idx := cmd.KeyIndexes(args)
	if len(idx) == 0 {
		c.Err("ERR The command has no key arguments")
		return
	}
	c.W.WriteArray(len(idx))
	for _, i := range idx {
		c.W.WriteBulk(args[i])
	}
}
