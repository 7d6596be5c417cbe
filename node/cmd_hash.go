package node

import (
	"strconv"
)

func init() {
	k1 := func(name string, arity int, flags Flags, fn func(*Ctx)) *Command {
		return &Command{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, fn: fn}
	}
	register(
		k1("hset", -4, FlagWrite|FlagFast, cmdHset),
		k1("hmset", -4, FlagWrite|FlagFast, cmdHset),
		k1("hsetnx", 4, FlagWrite|FlagFast, cmdHsetnx),
		k1("hget", 3, FlagReadonly|FlagFast, cmdHget),
		k1("hmget", -3, FlagReadonly|FlagFast, cmdHmget),
		k1("hdel", -3, FlagWrite|FlagFast, cmdHdel),
		k1("hgetall", 2, FlagReadonly, cmdHgetall),
		k1("hkeys", 2, FlagReadonly, cmdHgetall),
		k1("hvals", 2, FlagReadonly, cmdHgetall),
		k1("hlen", 2, FlagReadonly|FlagFast, cmdHlen),
		k1("hstrlen", 3, FlagReadonly|FlagFast, cmdHstrlen),
		k1("hexists", 3, FlagReadonly|FlagFast, cmdHexists),
		k1("hincrby", 4, FlagWrite|FlagFast, cmdHincrby),
		k1("hincrbyfloat", 4, FlagWrite|FlagFast, cmdHincrbyfloat),
		k1("hscan", -3, FlagReadonly, cmdHscan),
	)
}

// hashAt returns the hash at key (nil when missing); ok is false after a
// WRONGTYPE reply.
func hashAt(c *Ctx, key string) (hashValue, bool) {
	switch v := c.lookup(key).(type) {
	case nil:
		return nil, true
	case hashValue:
		return v, true
	}
	c.err(errWrongType)
	return nil, false
}

// hashForWrite returns the hash at key, creating it when missing.
func hashForWrite(c *Ctx, key string) (hashValue, bool) {
	h, ok := hashAt(c, key)
	if ok && h == nil {
		h = make(hashValue)
		c.db.set(key, h)
	}
	return h, ok
}

// cmdHset: HSET key field value [field value ...] replies the number of new
// fields; HMSET is the same with an OK reply.
func cmdHset(c *Ctx) {
	if len(c.args)%2 != 0 {
		c.wrongArity()
		return
	}
	h, ok := hashForWrite(c, c.key(1))
	if !ok {
		return
	}
	added := 0
	for i := 2; i < len(c.args); i += 2 {
		f := string(c.args[i])
		if _, exists := h[f]; !exists {
			added++
		}
		h[f] = ownBytes(c.args[i+1])
	}
	c.dirty++
	if eqFold(c.args[0], "hmset") {
		c.ok()
		return
	}
	c.w.WriteInt(added)
}

// cmdHsetnx: HSETNX key field value sets field only when it is new.
func cmdHsetnx(c *Ctx) {
	h, ok := hashAt(c, c.key(1))
	if !ok {
		return
	}
	f := string(c.args[2])
	if _, exists := h[f]; exists {
		c.w.WriteInt(0)
		return
	}
	h, _ = hashForWrite(c, c.key(1))
	h[f] = ownBytes(c.args[3])
	c.dirty++
	c.w.WriteInt(1)
}

// cmdHget: HGET key field.
func cmdHget(c *Ctx) {
	h, ok := hashAt(c, c.key(1))
	if !ok {
		return
	}
	if v, exists := h[string(c.args[2])]; exists {
		c.w.WriteBulk(v)
		return
	}
	c.w.WriteNull()
}

// cmdHmget: HMGET key field [field ...].
func cmdHmget(c *Ctx) {
	h, ok := hashAt(c, c.key(1))
	if !ok {
		return
	}
	c.w.WriteArray(len(c.args) - 2)
	for _, f := range c.args[2:] {
		if v, exists := h[string(f)]; exists {
			c.w.WriteBulk(v)
		} else {
			c.w.WriteNull()
		}
	}
}

// cmdHdel: HDEL key field [field ...] replies how many were removed; an
// emptied hash is deleted.
func cmdHdel(c *Ctx) {
	key := c.key(1)
	h, ok := hashAt(c, key)
	if !ok {
		return
	}
	removed := 0
	for _, f := range c.args[2:] {
		if _, exists := h[string(f)]; exists {
			delete(h, string(f))
			removed++
		}
	}
	if removed > 0 {
		c.dirty++
		if len(h) == 0 {
			c.db.remove(key)
		}
	}
	c.w.WriteInt(removed)
}

// cmdHgetall: HGETALL, HKEYS and HVALS.
func cmdHgetall(c *Ctx) {
	h, ok := hashAt(c, c.key(1))
	if !ok {
		return
	}
	keys, vals := !eqFold(c.args[0], "hvals"), !eqFold(c.args[0], "hkeys")
	n := len(h)
	if keys && vals {
		n *= 2
	}
	c.w.WriteArray(n)
	for f, v := range h {
		if keys {
			c.w.WriteBulkString(f)
		}
		if vals {
			c.w.WriteBulk(v)
		}
	}
}

// cmdHlen: HLEN key.
func cmdHlen(c *Ctx) {
	if h, ok := hashAt(c, c.key(1)); ok {
		c.w.WriteInt(len(h))
	}
}

// cmdHstrlen: HSTRLEN key field.
func cmdHstrlen(c *Ctx) {
	if h, ok := hashAt(c, c.key(1)); ok {
		c.w.WriteInt(len(h[string(c.args[2])]))
	}
}

// cmdHexists: HEXISTS key field.
func cmdHexists(c *Ctx) {
	h, ok := hashAt(c, c.key(1))
	if !ok {
		return
	}
	if _, exists := h[string(c.args[2])]; exists {
		c.w.WriteInt(1)
		return
	}
	c.w.WriteInt(0)
}

// cmdHincrby: HINCRBY key field increment.
func cmdHincrby(c *Ctx) {
	incr, ok := c.intArg(3)
	if !ok {
		return
	}
	h, ok := hashAt(c, c.key(1))
	if !ok {
		return
	}
	var cur int64
	if v, exists := h[string(c.args[2])]; exists {
		if cur, ok = parseInt(v); !ok {
			c.err("ERR hash value is not an integer")
			return
		}
	}
	if cur, ok = addInt64(cur, incr); !ok {
		c.err(errOverflow)
		return
	}
	h, _ = hashForWrite(c, c.key(1))
	h[string(c.args[2])] = strconv.AppendInt(nil, cur, 10)
	c.dirty++
	c.w.WriteInt64(cur)
}

// cmdHincrbyfloat: HINCRBYFLOAT key field increment, with Redis' long
// double arithmetic; journaled as HSET of the result so replay does not
// depend on floating-point rounding.
func cmdHincrbyfloat(c *Ctx) {
	incr, ok := parseLongDouble(c.args[3])
	if !ok {
		c.err(errNotFloat)
		return
	}
	if incr.IsInf() {
		c.err("ERR value is NaN or Infinity")
		return
	}
	h, ok := hashAt(c, c.key(1))
	if !ok {
		return
	}
	cur, exists := h[string(c.args[2])]
	out, ok := incrLongDouble(c, cur, exists, incr, "ERR hash value is not a float")
	if !ok {
		return
	}
	h, _ = hashForWrite(c, c.key(1))
	h[string(c.args[2])] = []byte(out)
	c.dirty++
	c.journalStrings("hset", c.key(1), string(c.args[2]), out)
	c.w.WriteBulkString(out)
}

// cmdHscan: HSCAN key cursor [MATCH pattern] [COUNT count] replies field
// and value pairs.
func cmdHscan(c *Ctx) {
	v, sc, ok := scanCollection(c, "hash")
	if !ok {
		return
	}
	h := v.(hashValue)
	sc.reply(c, hashCompact(h), len(h), func(yield func(string)) {
		for f := range h {
			yield(f)
		}
	}, func(f string) { c.w.WriteBulk(h[f]) })
}

// hashCompact reports whether Redis 7.0 would keep h as a listpack
// (hash-max-listpack-entries 128, hash-max-listpack-value 64), which HSCAN
// returns whole with cursor 0.
func hashCompact(h hashValue) bool {
	if len(h) > compactScanMax {
		return false
	}
	for f, v := range h {
		if len(f) > 64 || len(v) > 64 {
			return false
		}
	}
	return true
}
