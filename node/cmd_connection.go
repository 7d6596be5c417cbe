package node

import "crypto/subtle"

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
func cmdPing(c *Ctx) {
	if len(c.args) > 2 {
		c.wrongArity()
		return
	}
	if c.cl.subscribed() {
		c.w.WriteArray(2)
		c.w.WriteBulkString("pong")
		if len(c.args) == 2 {
			c.w.WriteBulk(c.args[1])
		} else {
			c.w.WriteBulkString("")
		}
		return
	}
	if len(c.args) == 2 {
		c.w.WriteBulk(c.args[1])
		return
	}
	c.w.WriteString("PONG")
}

// cmdEcho: ECHO message.
func cmdEcho(c *Ctx) { c.w.WriteBulk(c.args[1]) }

// cmdQuit: QUIT replies OK and closes the connection after the reply.
func cmdQuit(c *Ctx) {
	c.ok()
	c.cl.quit = true
}

// checkCredentials reports whether user/pass authenticate as the default
// user (the only user Baton has) under the current requirepass.
func (s *Server) checkCredentials(user, pass []byte) bool {
	if !eqFold(user, "default") {
		return false
	}
	want := s.cfg.RequirePass
	if want == "" {
		return true // the default user is "nopass": any password works
	}
	return subtle.ConstantTimeCompare(pass, []byte(want)) == 1
}

// cmdAuth: AUTH [username] password authenticates the connection.
func cmdAuth(c *Ctx) {
	switch len(c.args) {
	case 2:
		if c.s.cfg.RequirePass == "" {
			c.err(errAuthNoPass)
			return
		}
		if !c.s.checkCredentials([]byte("default"), c.args[1]) {
			c.err(errWrongPass)
			return
		}
	case 3:
		if !c.s.checkCredentials(c.args[1], c.args[2]) {
			c.err(errWrongPass)
			return
		}
	default:
		c.err(keyspace.ErrSyntax)
		return
	}
	c.cl.authed = true
	c.ok()
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
func cmdHello(c *Ctx) {
	if len(c.args) >= 2 {
		ver, ok := parseInt(c.args[1])
		if !ok {
			c.err(errProtoVersion)
			return
		}
		if ver != 2 {
			c.err(errNoProto)
			return
		}
	}
	var user, pass, name []byte
	setName := false
	for j := 2; j < len(c.args); j++ {
		more := len(c.args) - 1 - j
		switch opt := c.args[j]; {
		case eqFold(opt, "auth") && more >= 2:
			user, pass = c.args[j+1], c.args[j+2]
			j += 2
		case eqFold(opt, "setname") && more >= 1:
			name, setName = c.args[j+1], true
			if !validClientName(name) {
				c.err(errClientName)
				return
			}
			j++
		default:
			c.err("ERR Syntax error in HELLO option '" + sanitize(string(opt), 128) + "'")
			return
		}
	}
	if user != nil {
		if !c.s.checkCredentials(user, pass) {
			c.err(errWrongPass)
			return
		}
		c.cl.authed = true
	}
	if !c.cl.authed {
		c.err(errHelloNoAuth)
		return
	}
	if setName {
		c.cl.name = string(name)
	}
	c.w.WriteArray(14)
	c.w.WriteBulkString("server")
	c.w.WriteBulkString("redis")
	c.w.WriteBulkString("version")
	c.w.WriteBulkString(redisVersion)
	c.w.WriteBulkString("proto")
	c.w.WriteInt(2)
	c.w.WriteBulkString("id")
	c.w.WriteInt64(c.cl.id)
	c.w.WriteBulkString("mode")
	c.w.WriteBulkString("standalone")
	c.w.WriteBulkString("role")
	c.w.WriteBulkString(c.s.roleName())
	c.w.WriteBulkString("modules")
	c.w.WriteArray(0)
}

// cmdSelect: SELECT index; only database 0 exists.
func cmdSelect(c *Ctx) {
	db, ok := c.intArg(1)
	if !ok {
		return
	}
	if db != 0 {
		c.err(errDBRange)
		return
	}
	c.ok()
}

// cmdReset: RESET discards the transaction, WATCHes, subscriptions and name
// and de-authenticates the connection, as a freshly accepted one.
func cmdReset(c *Ctx) {
	cl := c.cl
	cl.inMulti, cl.multiErr, cl.multiQueue = false, false, nil
	c.s.unwatchAll(cl)
	if cl.sub != nil {
		c.s.unsubscribeAll(cl)
	}
	cl.name = ""
	cl.authed = c.s.cfg.RequirePass == ""
	c.w.WriteString("RESET")
}
