package keyspace

import (
	"strconv"
)

// hashHandlers binds the hash commands declared in node/command.
var hashHandlers = map[string]Handler{
	"hset":         cmdHset,
	"hmset":        cmdHset,
	"hsetnx":       cmdHsetnx,
	"hget":         cmdHget,
	"hmget":        cmdHmget,
	"hdel":         cmdHdel,
	"hgetall":      cmdHgetall,
	"hkeys":        cmdHgetall,
	"hvals":        cmdHgetall,
	"hlen":         cmdHlen,
	"hstrlen":      cmdHstrlen,
	"hexists":      cmdHexists,
	"hincrby":      cmdHincrby,
	"hincrbyfloat": cmdHincrbyfloat,
	"hscan":        cmdHscan,
}

// hashAt returns the hash at key (nil when missing); ok is false after a
// WRONGTYPE reply.
func hashAt(c *Ctx, key string) (Hash, bool) {
	switch v := c.lookup(key).(type) {
	case nil:
		return nil, true
	case Hash:
		return v, true
	}
	c.Err(ErrWrongType)
	return nil, false
}

// hashForWrite returns the hash at key, creating it when missing.
func hashForWrite(c *Ctx, key string) (Hash, bool) {
	h, ok := hashAt(c, key)
	if ok && h == nil {
		h = make(Hash)
		c.DB.Set(key, h)
	}
	return h, ok
}

// cmdHset: HSET key field value [field value ...] replies the number of new
// fields; HMSET is the same with an OK reply.
func cmdHset(c *Ctx) {
	if len(c.Args)%2 != 0 {
		c.WrongArity()
		return
	}
	h, ok := hashForWrite(c, c.Key(1))
	if !ok {
		return
	}
	added := 0
	for i := 2; i < len(c.Args); i += 2 {
		f := string(c.Args[i])
		if _, exists := h[f]; !exists {
			added++
		}
		h[f] = ownBytes(c.Args[i+1])
	}
	c.Dirty++
	if EqFold(c.Args[0], "hmset") {
		c.OK()
		return
	}
	c.W.WriteInt(added)
}

// cmdHsetnx: HSETNX key field value sets field only when it is new.
func cmdHsetnx(c *Ctx) {
	h, ok := hashAt(c, c.Key(1))
	if !ok {
		return
	}
	f := string(c.Args[2])
	if _, exists := h[f]; exists {
		c.W.WriteInt(0)
		return
	}
	h, _ = hashForWrite(c, c.Key(1))
	h[f] = ownBytes(c.Args[3])
	c.Dirty++
	c.W.WriteInt(1)
}

// cmdHget: HGET key field.
func cmdHget(c *Ctx) {
	h, ok := hashAt(c, c.Key(1))
	if !ok {
		return
	}
	if v, exists := h[string(c.Args[2])]; exists {
		c.W.WriteBulk(v)
		return
	}
	c.W.WriteNull()
}

// cmdHmget: HMGET key field [field ...].
func cmdHmget(c *Ctx) {
	h, ok := hashAt(c, c.Key(1))
	if !ok {
		return
	}
	c.W.WriteArray(len(c.Args) - 2)
	for _, f := range c.Args[2:] {
		if v, exists := h[string(f)]; exists {
			c.W.WriteBulk(v)
		} else {
			c.W.WriteNull()
		}
	}
}

// cmdHdel: HDEL key field [field ...] replies how many were removed; an
// emptied hash is deleted.
func cmdHdel(c *Ctx) {
	key := c.Key(1)
	h, ok := hashAt(c, key)
	if !ok {
		return
	}
	removed := 0
	for _, f := range c.Args[2:] {
		if _, exists := h[string(f)]; exists {
			delete(h, string(f))
			removed++
		}
	}
	if removed > 0 {
		c.Dirty++
		if len(h) == 0 {
			c.DB.remove(key)
		}
	}
	c.W.WriteInt(removed)
}

// cmdHgetall: HGETALL, HKEYS and HVALS.
func cmdHgetall(c *Ctx) {
	h, ok := hashAt(c, c.Key(1))
	if !ok {
		return
	}
	keys, vals := !EqFold(c.Args[0], "hvals"), !EqFold(c.Args[0], "hkeys")
	n := len(h)
	if keys && vals {
		n *= 2
	}
	c.W.WriteArray(n)
	for f, v := range h {
		if keys {
			c.W.WriteBulkString(f)
		}
		if vals {
			c.W.WriteBulk(v)
		}
	}
}

// cmdHlen: HLEN key.
func cmdHlen(c *Ctx) {
	if h, ok := hashAt(c, c.Key(1)); ok {
		c.W.WriteInt(len(h))
	}
}

// cmdHstrlen: HSTRLEN key field.
func cmdHstrlen(c *Ctx) {
	if h, ok := hashAt(c, c.Key(1)); ok {
		c.W.WriteInt(len(h[string(c.Args[2])]))
	}
}

// cmdHexists: HEXISTS key field.
func cmdHexists(c *Ctx) {
	h, ok := hashAt(c, c.Key(1))
	if !ok {
		return
	}
	if _, exists := h[string(c.Args[2])]; exists {
		c.W.WriteInt(1)
		return
	}
	c.W.WriteInt(0)
}

// cmdHincrby: HINCRBY key field increment.
func cmdHincrby(c *Ctx) {
	incr, ok := c.IntArg(3)
	if !ok {
		return
	}
	h, ok := hashAt(c, c.Key(1))
	if !ok {
		return
	}
	var cur int64
	if v, exists := h[string(c.Args[2])]; exists {
		if cur, ok = ParseInt(v); !ok {
			c.Err("ERR hash value is not an integer")
			return
		}
	}
	if cur, ok = addInt64(cur, incr); !ok {
		c.Err(ErrOverflow)
		return
	}
	h, _ = hashForWrite(c, c.Key(1))
	h[string(c.Args[2])] = strconv.AppendInt(nil, cur, 10)
	c.Dirty++
	c.W.WriteInt64(cur)
}

// cmdHincrbyfloat: HINCRBYFLOAT key field increment, with Redis' long
// double arithmetic; journaled as HSET of the result so replay does not
// depend on floating-point rounding.
func cmdHincrbyfloat(c *Ctx) {
	incr, ok := parseLongDouble(c.Args[3])
	if !ok {
		c.Err(ErrNotFloat)
		return
	}
	if incr.IsInf() {
		c.Err("ERR value is NaN or Infinity")
		return
	}
	h, ok := hashAt(c, c.Key(1))
	if !ok {
		return
	}
	cur, exists := h[string(c.Args[2])]
	out, ok := incrLongDouble(c, cur, exists, incr, "ERR hash value is not a float")
	if !ok {
		return
	}
	h, _ = hashForWrite(c, c.Key(1))
	h[string(c.Args[2])] = []byte(out)
	c.Dirty++
	c.journalStrings("hset", c.Key(1), string(c.Args[2]), out)
	c.W.WriteBulkString(out)
}

// cmdHscan: HSCAN key cursor [MATCH pattern] [COUNT count] replies field
// and value pairs.
func cmdHscan(c *Ctx) {
	v, sc, ok := scanCollection(c, "hash")
	if !ok {
		return
	}
	h := v.(Hash)
	sc.reply(c, hashCompact(h), len(h), func(yield func(string)) {
		for f := range h {
			yield(f)
		}
	}, func(f string) { c.W.WriteBulk(h[f]) })
}

// hashCompact reports whether Redis 7.0 would keep h as a listpack
// (hash-max-listpack-entries 128, hash-max-listpack-value 64), which HSCAN
// returns whole with cursor 0.
func hashCompact(h Hash) bool {
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
