package node

func init() {
	register(
		&Command{Name: "ping", Arity: -1, Flags: FlagFast | FlagSubscribed, fn: cmdPing},
		&Command{Name: "echo", Arity: 2, Flags: FlagFast, fn: cmdEcho},
		&Command{Name: "quit", Arity: -1, Flags: FlagNoAuth | FlagFast | FlagSubscribed | FlagNoMulti, fn: cmdQuit},
	)
}

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
