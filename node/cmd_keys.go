package node

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

func init() {
	const rf = FlagReadonly | FlagFast
	const wf = FlagWrite | FlagFast
	register(
		&Command{Name: "del", Arity: -2, Flags: FlagWrite, FirstKey: 1, LastKey: -1, Step: 1, fn: cmdDel},
		&Command{Name: "unlink", Arity: -2, Flags: wf, FirstKey: 1, LastKey: -1, Step: 1, fn: cmdDel},
		&Command{Name: "exists", Arity: -2, Flags: rf, FirstKey: 1, LastKey: -1, Step: 1, fn: cmdExists},
		&Command{Name: "expire", Arity: -3, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdExpire},
		&Command{Name: "pexpire", Arity: -3, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdExpire},
		&Command{Name: "expireat", Arity: -3, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdExpire},
		&Command{Name: "pexpireat", Arity: -3, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdExpire},
		&Command{Name: "ttl", Arity: 2, Flags: rf, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdTTL},
		&Command{Name: "pttl", Arity: 2, Flags: rf, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdTTL},
		&Command{Name: "persist", Arity: 2, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdPersist},
		&Command{Name: "type", Arity: 2, Flags: rf, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdType},
		&Command{Name: "keys", Arity: 2, Flags: FlagReadonly, fn: cmdKeys},
		&Command{Name: "scan", Arity: -2, Flags: FlagReadonly, fn: cmdScan},
		&Command{Name: "rename", Arity: 3, Flags: FlagWrite, FirstKey: 1, LastKey: 2, Step: 1, fn: cmdRename},
		&Command{Name: "renamenx", Arity: 3, Flags: wf, FirstKey: 1, LastKey: 2, Step: 1, fn: cmdRename},
		&Command{Name: "randomkey", Arity: 1, Flags: FlagReadonly, fn: cmdRandomkey},
		&Command{Name: "dbsize", Arity: 1, Flags: rf, fn: cmdDbsize},
		&Command{Name: "flushdb", Arity: -1, Flags: FlagWrite, fn: cmdFlush},
		&Command{Name: "flushall", Arity: -1, Flags: FlagWrite, fn: cmdFlush},
	)
}

// cmdDel: DEL key [key ...] and UNLINK remove keys and reply how many
// existed.
func cmdDel(c *Ctx) {
	n := 0
	for i := 1; i < len(c.args); i++ {
		key := c.key(i)
		if c.lookup(key) != nil && c.db.remove(key) {
			n++
		}
	}
	c.dirty += n
	c.w.WriteInt(n)
}

// cmdExists: EXISTS key [key ...] replies how many of the keys exist,
// counting repeats.
func cmdExists(c *Ctx) {
	n := 0
	for i := 1; i < len(c.args); i++ {
		if c.lookup(c.key(i)) != nil {
			n++
		}
	}
	c.w.WriteInt(n)
}

// Flags of EXPIRE and friends (Redis 7).
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

// parseExpireFlags parses the NX XX GT LT options from args[3:], replying
// Redis' error on failure.
func parseExpireFlags(c *Ctx) (int, bool) {
	flags := 0
	for _, opt := range c.args[3:] {
		switch {
		case eqFold(opt, "nx"):
			flags |= expireNX
		case eqFold(opt, "xx"):
			flags |= expireXX
		case eqFold(opt, "gt"):
			flags |= expireGT
		case eqFold(opt, "lt"):
			flags |= expireLT
		default:
			c.err("ERR Unsupported option " + string(opt))
			return 0, false
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		c.err("ERR NX and XX, GT or LT options at the same time are not compatible")
		return 0, false
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		c.err("ERR GT and LT options at the same time are not compatible")
		return 0, false
	}
	return flags, true
}

// cmdExpire: EXPIRE/PEXPIRE key ttl and EXPIREAT/PEXPIREAT key time, with
// NX XX GT LT. Journaled as PEXPIREAT key deadline, or as DEL when the
// deadline is already past (the key is deleted at once, as Redis does).
func cmdExpire(c *Ctx) {
	flags, ok := parseExpireFlags(c)
	if !ok {
		return
	}
	when, ok := c.intArg(2)
	if !ok {
		return
	}
	name := c.cmd.Name
	invalid := func() { c.err(fmt.Sprintf(errInvalidExpire, name)) }
	if name == "expire" || name == "expireat" {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			invalid()
			return
		}
		when *= 1000
	}
	var base int64
	if name == "expire" || name == "pexpire" {
		base = c.now
	}
	if when > math.MaxInt64-base {
		invalid()
		return
	}
	when += base
	key := c.key(1)
	if c.lookup(key) == nil {
		c.w.WriteInt(0)
		return
	}
	if flags != 0 && !expireFlagsAllow(c, key, flags, when) {
		c.w.WriteInt(0)
		return
	}
	c.dirty++
	if alreadyExpired(c, when) {
		c.db.remove(key)
		c.journalStrings("del", key)
	} else {
		c.db.setExpire(key, when)
		c.journalStrings("pexpireat", key, itoa(when))
	}
	c.w.WriteInt(1)
}

// expireFlagsAllow applies NX XX GT LT to key's current deadline (none
// counts as infinite).
func expireFlagsAllow(c *Ctx, key string, flags int, when int64) bool {
	cur, has := c.db.ttl(key)
	switch {
	case flags&expireNX != 0 && has:
		return false
	case flags&expireXX != 0 && !has:
		return false
	case flags&expireGT != 0 && (!has || when <= cur):
		return false
	case flags&expireLT != 0 && has && when >= cur:
		return false
	}
	return true
}

// cmdTTL: TTL key and PTTL key reply the remaining time to live in seconds
// (rounded) or milliseconds; -2 when missing, -1 without a deadline.
func cmdTTL(c *Ctx) {
	key := c.key(1)
	if c.lookup(key) == nil {
		c.w.WriteInt(-2)
		return
	}
	when, ok := c.db.ttl(key)
	if !ok {
		c.w.WriteInt(-1)
		return
	}
	ttl := max(when-c.now, 0)
	if c.cmd.Name == "ttl" {
		ttl = (ttl + 500) / 1000
	}
	c.w.WriteInt64(ttl)
}

// cmdPersist: PERSIST key removes key's deadline; replies 1 if it had one.
func cmdPersist(c *Ctx) {
	key := c.key(1)
	if c.lookup(key) != nil && c.db.persist(key) {
		c.dirty++
		c.w.WriteInt(1)
		return
	}
	c.w.WriteInt(0)
}

// cmdType: TYPE key replies the type name of the value at key ("none" when
// missing).
func cmdType(c *Ctx) { c.w.WriteString(typeName(c.lookup(c.key(1)))) }

// cmdKeys: KEYS pattern replies every live key matching the glob pattern.
func cmdKeys(c *Ctx) {
	pat := c.args[1]
	all := len(pat) == 1 && pat[0] == '*'
	var out []string
	for key := range c.db.keys {
		if c.db.expired(key, c.now) {
			continue
		}
		if all || globMatch(pat, []byte(key)) {
			out = append(out, key)
		}
	}
	c.w.WriteArray(len(out))
	for _, key := range out {
		c.w.WriteBulkString(key)
	}
}

// parseScanCursor parses a SCAN cursor like Redis' strtoul: optional sign
// (a negative cursor wraps), decimal digits, nothing else.
func parseScanCursor(b []byte) (uint64, bool) {
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		n, ok := parseCursor(b[1:])
		if !ok || len(b) == 1 || b[1] == '+' || b[1] == '-' {
			return 0, false
		}
		if b[0] == '-' {
			n = -n
		}
		return n, true
	}
	return parseCursor(b)
}

// scanOpts are SCAN's MATCH, COUNT and TYPE options.
type scanOpts struct {
	match []byte // nil: match everything
	count int
	typ   []byte // nil: every type
}

// parseScanOpts parses MATCH COUNT TYPE from args[from:], replying the
// error on failure. withType allows TYPE (SCAN only).
func parseScanOpts(c *Ctx, from int, withType bool) (scanOpts, bool) {
	o := scanOpts{count: 10}
	for i := from; i < len(c.args); i += 2 {
		opt, more := c.args[i], len(c.args)-i >= 2
		switch {
		case eqFold(opt, "count") && more:
			n, ok := c.intArg(i + 1)
			if !ok {
				return o, false
			}
			if n < 1 {
				c.err(errSyntax)
				return o, false
			}
			o.count = int(min(n, math.MaxInt32))
		case eqFold(opt, "match") && more:
			o.match = c.args[i+1]
			if len(o.match) == 1 && o.match[0] == '*' {
				o.match = nil
			}
		case eqFold(opt, "type") && withType && more:
			o.typ = c.args[i+1]
		default:
			c.err(errSyntax)
			return o, false
		}
	}
	return o, true
}

// cmdScan: SCAN cursor [MATCH pattern] [COUNT n] [TYPE type] iterates the
// keyspace; expired keys are skipped (and lazily removed).
func cmdScan(c *Ctx) {
	cursor, ok := parseScanCursor(c.args[1])
	if !ok {
		c.err(errInvalidCursor)
		return
	}
	o, ok := parseScanOpts(c, 2, true)
	if !ok {
		return
	}
	next, names := scanStep(cursor, o.count, func(yield func(string)) {
		for key := range c.db.keys {
			yield(key)
		}
	})
	out := names[:0]
	for _, key := range names {
		if o.match != nil && !globMatch(o.match, []byte(key)) {
			continue
		}
		v := c.lookup(key)
		if v == nil {
			continue
		}
		if o.typ != nil && !strings.EqualFold(string(o.typ), typeName(v)) {
			continue
		}
		out = append(out, key)
	}
	c.w.WriteArray(2)
	c.w.WriteBulkString(strconv.FormatUint(next, 10))
	c.w.WriteArray(len(out))
	for _, key := range out {
		c.w.WriteBulkString(key)
	}
}

// cmdRename: RENAME src dst moves a key with its deadline, replacing dst;
// RENAMENX does so only when dst does not exist, replying 1 if it did.
func cmdRename(c *Ctx) {
	nx := c.cmd.Name == "renamenx"
	src, dst := c.key(1), c.key(2)
	v := c.lookup(src)
	if v == nil {
		c.err(errNoSuchKey)
		return
	}
	if src == dst {
		if nx {
			c.w.WriteInt(0)
		} else {
			c.ok()
		}
		return
	}
	when, hasTTL := c.db.ttl(src)
	if c.lookup(dst) != nil && nx {
		c.w.WriteInt(0)
		return
	}
	c.db.remove(dst)
	c.db.remove(src)
	c.db.set(dst, v)
	if hasTTL {
		c.db.setExpire(dst, when)
	}
	c.dirty++
	if nx {
		c.w.WriteInt(1)
	} else {
		c.ok()
	}
}

// cmdRandomkey: RANDOMKEY replies a random live key, nil when there is
// none.
func cmdRandomkey(c *Ctx) {
	for key := range c.db.keys { // map iteration starts at a random place
		if !c.db.expired(key, c.now) {
			c.w.WriteBulkString(key)
			return
		}
	}
	c.w.WriteNull()
}

// cmdDbsize: DBSIZE replies the number of keys (expired ones not yet
// removed included, as in Redis).
func cmdDbsize(c *Ctx) { c.w.WriteInt(c.db.size()) }

// cmdFlush: FLUSHDB and FLUSHALL [ASYNC|SYNC] remove every key; both are
// journaled as FLUSHALL (there is only db 0).
func cmdFlush(c *Ctx) {
	if len(c.args) > 2 || (len(c.args) == 2 && !eqFold(c.args[1], "async") && !eqFold(c.args[1], "sync")) {
		c.err(errSyntax)
		return
	}
	for key := range c.db.keys {
		c.touch(key)
	}
	c.db.flush()
	c.dirty++
	c.journalStrings("flushall")
	c.ok()
}

// globMatch reports whether s matches the glob pattern exactly like Redis'
// stringmatchlen (case-sensitive): * ? [abc] [^a] [a-z] and \ escapes.
func globMatch(pattern, s []byte) bool {
	skip := false
	return globMatchImpl(pattern, s, &skip)
}

// globMatchImpl is stringmatchlen_impl. Reads past the end of the pattern
// see 0, like the C code reading the string's terminator; skipLonger stops
// retrying earlier stars once a later star failed everywhere.
func globMatchImpl(p, s []byte, skipLonger *bool) bool {
	at := func(i int) byte {
		if i >= 0 && i < len(p) {
			return p[i]
		}
		return 0
	}
	pi, si := 0, 0
	plen, slen := len(p), len(s)
	for plen > 0 && slen > 0 {
		switch p[pi] {
		case '*':
			for plen > 0 && at(pi+1) == '*' {
				pi++
				plen--
			}
			if plen == 1 {
				return true
			}
			for slen > 0 {
				if globMatchImpl(p[pi+1:pi+plen], s[si:si+slen], skipLonger) {
					return true
				}
				if *skipLonger {
					return false
				}
				si++
				slen--
			}
			*skipLonger = true
			return false
		case '?':
			si++
			slen--
		case '[':
			pi++
			plen--
			not := at(pi) == '^'
			if not {
				pi++
				plen--
			}
			match := false
			for {
				if at(pi) == '\\' && plen >= 2 {
					pi++
					plen--
					if at(pi) == s[si] {
						match = true
					}
				} else if at(pi) == ']' {
					break
				} else if plen == 0 {
					pi--
					plen++
					break
				} else if plen >= 3 && at(pi+1) == '-' {
					// C's char is signed: compare as int8 like Redis does.
					start, end, ch := int8(at(pi)), int8(at(pi+2)), int8(s[si])
					if start > end {
						start, end = end, start
					}
					pi += 2
					plen -= 2
					if ch >= start && ch <= end {
						match = true
					}
				} else if at(pi) == s[si] {
					match = true
				}
				pi++
				plen--
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			si++
			slen--
		case '\\':
			if plen >= 2 {
				pi++
				plen--
			}
			fallthrough
		default:
			if at(pi) != s[si] {
				return false
			}
			si++
			slen--
		}
		pi++
		plen--
		if slen == 0 {
			for at(pi) == '*' {
				pi++
				plen--
			}
			break
		}
	}
	return plen == 0 && slen == 0
}
