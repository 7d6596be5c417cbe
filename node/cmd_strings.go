package node

func init() {
	register(
		&Command{Name: "get", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdGet},
		&Command{Name: "set", Arity: -3, Flags: FlagWrite, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdSet},
	)
}

// cmdGet: GET key.
func cmdGet(c *Ctx) {
	switch v := c.lookup(c.key(1)).(type) {
	case nil:
		c.w.WriteNull()
	case []byte:
		c.w.WriteBulk(v)
	default:
		c.err(errWrongType)
	}
}

// cmdSet: SET key value (options are the strings family's to add).
func cmdSet(c *Ctx) {
	key := c.key(1)
	c.db.set(key, c.args[2])
	c.db.persist(key)
	c.dirty++
	c.ok()
}
