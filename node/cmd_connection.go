package node

import (
	"crypto/subtle"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/node/keyspace"
)

// Connection command error strings, as Redis 7.0 sends them.
const (
	errWrongPass    = "WRONGPASS invalid username-password pair or user is disabled."
	errAuthNoPass   = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	errNoProto      = "NOPROTO unsupported protocol version"
	errProtoVersion = "ERR Protocol version is not an integer or out of range"
	errHelloNoAuth  = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
	errDBRange      = "ERR DB index is out of range"
	errClientName   = "ERR Client names cannot contain spaces, newlines or special characters."
)

// redisVersion is the Redis version Baton answers as (HELLO, INFO).
const redisVersion = "7.0.15"

// cmdPing: PING [message]. In subscribed mode it replies ["pong", msg].
func (s *Server) cmdPing(c *keyspace.Ctx) {
	cl := clientOf(c)
	if len(c.Args) > 2 {
		c.WrongArity()
		return
	}
	if cl.subscribed() {
		c.W.WriteArray(2)
		c.W.WriteBulkString("pong")
		if len(c.Args) == 2 {
			c.W.WriteBulk(c.Args[1])
		} else {
			c.W.WriteBulkString("")
		}
		return
	}
	if len(c.Args) == 2 {
		c.W.WriteBulk(c.Args[1])
		return
	}
	c.W.WriteString("PONG")
}

// cmdEcho: ECHO message.
func (s *Server) cmdEcho(c *keyspace.Ctx) { c.W.WriteBulk(c.Args[1]) }

// cmdQuit: QUIT replies OK and closes the connection after the reply.
func (s *Server) cmdQuit(c *keyspace.Ctx) {
	cl := clientOf(c)
	c.OK()
	cl.quit = true
}

// checkCredentials reports whether user/pass authenticate as the default
// user (the only user Baton has) under the current requirepass.
func (s *Server) checkCredentials(user, pass []byte) (ok, internal bool) {
	if secret := s.cfg.ClusterSecret; secret != "" && string(user) == coordapi.InternalUser {
		// The appliance's own processes: the only identity that runs
		// control commands (command.Internal) on a node with a secret.
		ok := subtle.ConstantTimeCompare(pass, []byte(secret)) == 1
		return ok, ok
	}
	if !keyspace.EqFold(user, "default") {
		return false, false
	}
	want := s.cfg.RequirePass
	if want == "" {
		return true, false // the default user is "nopass": any password works
	}
	return subtle.ConstantTimeCompare(pass, []byte(want)) == 1, false
}

// cmdAuth: AUTH [username] password authenticates the connection.
func (s *Server) cmdAuth(c *keyspace.Ctx) {
	cl := clientOf(c)
	var ok, internal bool
	switch len(c.Args) {
	case 2:
		if s.cfg.RequirePass == "" {
			c.Err(errAuthNoPass)
			return
		}
		ok, internal = s.checkCredentials([]byte("default"), c.Args[1])
	case 3:
		ok, internal = s.checkCredentials(c.Args[1], c.Args[2])
	default:
		c.Err(keyspace.ErrSyntax)
		return
	}
	if !ok {
		c.Err(errWrongPass)
		return
	}
	cl.internal.Store(internal)
	cl.authed.Store(true)
	c.OK()
}

// validClientName reports whether name may be a client name: printable
// ASCII without spaces.
func validClientName(name []byte) bool {
	for _, ch := range name {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

// cmdHello: HELLO [protover [AUTH user pass] [SETNAME name]] switches
// protocol (only RESP2 here), optionally authenticates and names the
// connection, and replies the server's properties as a flat array.
func (s *Server) cmdHello(c *keyspace.Ctx) {
	cl := clientOf(c)
	if len(c.Args) >= 2 {
		ver, ok := keyspace.ParseInt(c.Args[1])
		if !ok {
			c.Err(errProtoVersion)
			return
		}
		if ver != 2 {
			c.Err(errNoProto)
			return
		}
	}
	var user, pass, name []byte
	setName := false
	for j := 2; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		switch opt := c.Args[j]; {
		case keyspace.EqFold(opt, "auth") && more >= 2:
			user, pass = c.Args[j+1], c.Args[j+2]
			j += 2
		case keyspace.EqFold(opt, "setname") && more >= 1:
			name, setName = c.Args[j+1], true
			if !validClientName(name) {
				c.Err(errClientName)
				return
			}
			j++
		default:
			c.Err("ERR Syntax error in HELLO option '" + resp.Sanitize(string(opt), 128) + "'")
			return
		}
	}
	if user != nil {
		ok, internal := s.checkCredentials(user, pass)
		if !ok {
			c.Err(errWrongPass)
			return
		}
		cl.internal.Store(internal)
		cl.authed.Store(true)
	}
	if !cl.authed.Load() {
		c.Err(errHelloNoAuth)
		return
	}
	if setName {
		cl.name = string(name)
	}
	c.W.WriteArray(14)
	c.W.WriteBulkString("server")
	c.W.WriteBulkString("redis")
	c.W.WriteBulkString("version")
	c.W.WriteBulkString(redisVersion)
	c.W.WriteBulkString("proto")
	c.W.WriteInt(2)
	c.W.WriteBulkString("id")
	c.W.WriteInt64(cl.id)
	c.W.WriteBulkString("mode")
	c.W.WriteBulkString("standalone")
	c.W.WriteBulkString("role")
	c.W.WriteBulkString(s.roleName())
	c.W.WriteBulkString("modules")
	c.W.WriteArray(0)
}

// cmdSelect: SELECT index; only database 0 exists.
func (s *Server) cmdSelect(c *keyspace.Ctx) {
	db, ok := c.IntArg(1)
	if !ok {
		return
	}
	if db != 0 {
		c.Err(errDBRange)
		return
	}
	c.OK()
}

// cmdReset: RESET discards the transaction, WATCHes, subscriptions and name
// and de-authenticates the connection, as a freshly accepted one.
func (s *Server) cmdReset(c *keyspace.Ctx) {
	cl := clientOf(c)
	cl.inMulti, cl.multiErr, cl.multiQueue = false, false, nil
	s.unwatchAll(cl)
	if cl.sub != nil {
		s.unsubscribeAll(cl)
	}
	cl.name = ""
	cl.authed.Store(s.cfg.RequirePass == "")
	cl.internal.Store(false)
	c.W.WriteString("RESET")
}
