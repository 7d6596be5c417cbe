package node

import (
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/node/keyspace"
)

// clientSubArity is the Redis 7 arity of each CLIENT subcommand.
var clientSubArity = map[string]int{
	"id": 2, "getname": 2, "setname": 3, "list": -2, "kill": -3, "pause": -3,
	"unpause": 2, "info": 2, "no-evict": 3, "help": 2,
}

// cmdClient: CLIENT ID|SETNAME|GETNAME|LIST|KILL|PAUSE|UNPAUSE|INFO|
// NO-EVICT|HELP.
func (s *Server) cmdClient(c *keyspace.Ctx) {
	cl := clientOf(c)
	sub := strings.ToLower(string(c.Args[1]))
	arity, ok := clientSubArity[sub]
	if !ok {
		unknownSub(c, "CLIENT")
		return
	}
	if (arity > 0 && len(c.Args) != arity) || (arity < 0 && len(c.Args) < -arity) {
		subArity(c, "client|"+sub)
		return
	}
	switch sub {
	case "id":
		c.W.WriteInt64(cl.id)
	case "getname":
		if cl.name == "" {
			c.W.WriteNull()
		} else {
			c.W.WriteBulkString(cl.name)
		}
	case "setname":
		if !validClientName(c.Args[2]) {
			c.Err(errClientName)
			return
		}
		cl.name = string(c.Args[2])
		c.OK()
	case "list":
		s.clientList(c)
	case "info":
		c.W.WriteBulkString(s.clientLine(cl, cl, "client|info") + "\n")
	case "kill":
		s.clientKill(c)
	case "pause":
		s.clientPause(c)
	case "unpause":
		s.admin.pause.unpause()
		c.OK()
	case "no-evict":
		if !keyspace.EqFold(c.Args[2], "on") && !keyspace.EqFold(c.Args[2], "off") {
			c.Err(keyspace.ErrSyntax)
			return
		}
		c.OK()
	case "help":
		help(c, "CLIENT",
			"GETNAME", "    Return the name of the current connection.",
			"ID", "    Return the ID of the current connection.",
			"INFO", "    Return information about the current client connection.",
			"KILL <ip:port>", "    Kill connection made from <ip:port>.",
			"KILL <option> <value> [<option> <value> [...]]", "    Kill connections. Options are: ID, ADDR, LADDR, TYPE, USER, SKIPME.",
			"LIST [options ...]", "    Return information about client connections. Options: TYPE, ID.",
			"UNPAUSE", "    Stop the current client pause, resuming traffic.",
			"PAUSE <timeout> [WRITE|ALL]", "    Suspend all, or just write, clients for <timeout> milliseconds.",
			"SETNAME <name>", "    Assign the name <name> to the current connection.",
			"NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.")
	}
}

// clientType is the TYPE of a client for CLIENT LIST/KILL filters.
func clientType(cl *client) string {
	if cl.subscribed() {
		return "pubsub"
	}
	return "normal"
}

// parseClientType checks a TYPE filter value, replying the error if bad.
func parseClientType(c *keyspace.Ctx, b []byte) (string, bool) {
	t := strings.ToLower(string(b))
	switch t {
	case "normal", "pubsub", "master":
		return t, true
	case "replica", "slave":
		return "replica", true
	}
	c.Err("ERR Unknown client type '" + resp.Sanitize(string(b), 128) + "'")
	return "", false
}

// snapshotClients returns the connected clients ordered by id. The caller
// holds s.mu; clientsMu is taken inside (lock order s.mu, then clientsMu).
func (s *Server) snapshotClients() []*client {
	s.clientsMu.Lock()
	out := make([]*client, 0, len(s.clients))
	for _, cl := range s.clients {
		out = append(out, cl)
	}
	s.clientsMu.Unlock()
	sortClients(out)
	return out
}

// sortClients orders clients by id.
func sortClients(cls []*client) {
	for i := 1; i < len(cls); i++ {
		for j := i; j > 0 && cls[j].id < cls[j-1].id; j-- {
			cls[j], cls[j-1] = cls[j-1], cls[j]
		}
	}
}

// clientList: CLIENT LIST [TYPE type] [ID id ...] replies one line per
// client.
func (s *Server) clientList(c *keyspace.Ctx) {
	var typ string
	var ids map[int64]bool
	switch {
	case len(c.Args) == 2:
	case len(c.Args) == 4 && keyspace.EqFold(c.Args[2], "type"):
		t, ok := parseClientType(c, c.Args[3])
		if !ok {
			return
		}
		typ = t
	case len(c.Args) >= 4 && keyspace.EqFold(c.Args[2], "id"):
		ids = map[int64]bool{}
		for _, a := range c.Args[3:] {
			id, ok := keyspace.ParseInt(a)
			if !ok {
				c.Err("ERR Invalid client ID")
				return
			}
			ids[id] = true
		}
	default:
		c.Err(keyspace.ErrSyntax)
		return
	}
	var b strings.Builder
	for _, cl := range s.snapshotClients() {
		if (typ != "" && clientType(cl) != typ) || (ids != nil && !ids[cl.id]) {
			continue
		}
		b.WriteString(s.clientLine(cl, clientOf(c), "client|list"))
		b.WriteByte('\n')
	}
	c.W.WriteBulkString(b.String())
}

// clientFD returns the socket's file descriptor, or -1.
func clientFD(cl *client) int {
	fd := -1
	if cl.conn == nil {
		return fd
	}
	nc := cl.conn.NetConn()
	if cc, ok := nc.(*clientConn); ok {
		nc = cc.Conn
	}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			rc.Control(func(f uintptr) { fd = int(f) })
		}
	}
	return fd
}

// clientLine formats cl as a CLIENT LIST line (without the newline), with
// Redis 7.0's fields. self is the client running the command, whose
// current command is curCmd.
func (s *Server) clientLine(cl, self *client, curCmd string) string {
	now := time.Now()
	flags := ""
	if cl.subscribed() {
		flags += "P"
	}
	if cl.inMulti {
		flags += "x"
	}
	if flags == "" {
		flags = "N"
	}
	sub, psub := 0, 0
	if cl.sub != nil {
		sub, psub = len(cl.sub.channels), len(cl.sub.patterns)
	}
	multi := -1
	if cl.inMulti {
		multi = len(cl.multiQueue)
	}
	cmd := cl.lastCmd
	if cl == self {
		cmd = curCmd
	}
	if cmd == "" {
		cmd = "NULL"
	}
	var b strings.Builder
	field := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	num := func(k string, v int64) { field(k, strconv.FormatInt(v, 10)) }
	num("id", cl.id)
	field("addr", cl.addr)
	field("laddr", cl.laddr)
	num("fd", int64(clientFD(cl)))
	field("name", cl.name)
	num("age", int64(now.Sub(cl.created)/time.Second))
	num("idle", int64(now.Sub(time.Unix(0, cl.lastAt.Load()))/time.Second))
	field("flags", flags)
	num("db", 0)
	num("sub", int64(sub))
	num("psub", int64(psub))
	num("ssub", 0)
	num("multi", int64(multi))
	for _, k := range []string{"qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll"} {
		num(k, 0)
	}
	num("omem", cl.pendingOutput())
	num("tot-mem", cl.pendingOutput())
	field("events", "r")
	field("cmd", cmd)
	field("user", "default")
	num("redir", -1)
	num("resp", 2)
	return b.String()
}

// killFilter is CLIENT KILL's new-form filter.
type killFilter struct {
	id           int64
	addr, laddr  string
	typ          string
	skipMe       bool
	hasUserOther bool // USER named someone other than default: no match
}

// match reports whether cl passes the filter; self is the caller.
func (f *killFilter) match(cl, self *client) bool {
	switch {
	case f.hasUserOther:
		return false
	case f.id != 0 && cl.id != f.id:
		return false
	case f.addr != "" && cl.addr != f.addr:
		return false
	case f.laddr != "" && cl.laddr != f.laddr:
		return false
	case f.typ != "" && clientType(cl) != f.typ:
		return false
	case f.skipMe && cl == self:
		return false
	}
	return true
}

// parseKillFilter parses CLIENT KILL option/value pairs, replying the
// error on failure.
func parseKillFilter(c *keyspace.Ctx) (*killFilter, bool) {
	f := &killFilter{skipMe: true}
	args := c.Args[2:]
	if len(args)%2 != 0 {
		c.Err(keyspace.ErrSyntax)
		return nil, false
	}
	for i := 0; i < len(args); i += 2 {
		opt, val := args[i], args[i+1]
		switch {
		case keyspace.EqFold(opt, "id"):
			id, ok := keyspace.ParseInt(val)
			if !ok || id <= 0 {
				c.Err("ERR client-id should be greater than 0")
				return nil, false
			}
			f.id = id
		case keyspace.EqFold(opt, "addr"):
			f.addr = string(val)
		case keyspace.EqFold(opt, "laddr"):
			f.laddr = string(val)
		case keyspace.EqFold(opt, "type"):
			t, ok := parseClientType(c, val)
			if !ok {
				return nil, false
			}
			f.typ = t
		case keyspace.EqFold(opt, "user"):
			if !keyspace.EqFold(val, "default") {
				c.Err("ERR No such user '" + resp.Sanitize(string(val), 128) + "'")
				return nil, false
			}
		case keyspace.EqFold(opt, "skipme"):
			switch {
			case keyspace.EqFold(val, "yes"):
				f.skipMe = true
			case keyspace.EqFold(val, "no"):
				f.skipMe = false
			default:
				c.Err(keyspace.ErrSyntax)
				return nil, false
			}
		default:
			c.Err(keyspace.ErrSyntax)
			return nil, false
		}
	}
	return f, true
}

// clientKill: CLIENT KILL addr (old form, replies OK or an error) or CLIENT
// KILL option value ... (replies the number of clients killed).
func (s *Server) clientKill(c *keyspace.Ctx) {
	if len(c.Args) == 3 {
		addr := string(c.Args[2])
		for _, cl := range s.snapshotClients() {
			if cl.addr == addr {
				s.killClient(cl, clientOf(c))
				c.OK()
				return
			}
		}
		c.Err("ERR No such client")
		return
	}
	f, ok := parseKillFilter(c)
	if !ok {
		return
	}
	killed := 0
	for _, cl := range s.snapshotClients() {
		if f.match(cl, clientOf(c)) {
			s.killClient(cl, clientOf(c))
			killed++
		}
	}
	c.W.WriteInt(killed)
}

// killClient closes cl's connection. The caller's own connection closes
// after its reply, like Redis' CLIENT_CLOSE_AFTER_REPLY; another client's
// socket is closed at once, which also ends a blocking wait or pause.
func (s *Server) killClient(cl, self *client) {
	if cl == self {
		cl.quit = true
		return
	}
	cl.killed.Store(true)
	if cl.conn != nil {
		cl.conn.NetConn().Close()
	}
}

// clientPause: CLIENT PAUSE timeout-ms [WRITE|ALL].
func (s *Server) clientPause(c *keyspace.Ctx) {
	if len(c.Args) > 4 {
		c.Err("ERR unknown subcommand or wrong number of arguments for 'pause'. Try CLIENT HELP.")
		return
	}
	ms, ok := keyspace.ParseInt(c.Args[2])
	if !ok {
		c.Err("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.Err("ERR timeout is negative")
		return
	}
	mode := pauseAll
	if len(c.Args) == 4 {
		switch {
		case keyspace.EqFold(c.Args[3], "write"):
			mode = pauseWrite
		case keyspace.EqFold(c.Args[3], "all"):
		default:
			c.Err("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	ms = min(ms, int64(100*365*24*time.Hour/time.Millisecond)) // no Duration overflow
	s.admin.pause.pause(mode, time.Now().Add(time.Duration(ms)*time.Millisecond))
	c.OK()
}
