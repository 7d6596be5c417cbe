package keyspace

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// keyHandlers binds the key commands declared in node/command.
var keyHandlers = map[string]Handler{
	"del":       cmdDel,
	"unlink":    cmdDel,
	"exists":    cmdExists,
	"expire":    cmdExpire,
	"pexpire":   cmdExpire,
	"expireat":  cmdExpire,
	"pexpireat": cmdExpire,
	"ttl":       cmdTTL,
	"pttl":      cmdTTL,
	"persist":   cmdPersist,
	"type":      cmdType,
	"keys":      cmdKeys,
	"scan":      cmdScan,
	"rename":    cmdRename,
	"renamenx":  cmdRename,
	"randomkey": cmdRandomkey,
	"dbsize":    cmdDbsize,
	"flushdb":   cmdFlush,
	"flushall":  cmdFlush,
}

// cmdDel: DEL key [key ...] and UNLINK remove keys and reply how many
// existed.
func cmdDel(c *Ctx) {
	n := 0
	for i := 1; i < len(c.Args); i++ {
		key := c.Key(i)
		if c.lookup(key) != nil && c.DB.remove(key) {
			n++
		}
	}
	c.Dirty += n
	c.W.WriteInt(n)
}

// cmdExists: EXISTS key [key ...] replies how many of the keys exist,
// counting repeats.
func cmdExists(c *Ctx) {
	n := 0
	for i := 1; i < len(c.Args); i++ {
		if c.lookup(c.Key(i)) != nil {
			n++
		}
	}
	c.W.WriteInt(n)
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
	for _, opt := range c.Args[3:] {
		switch {
		case EqFold(opt, "nx"):
			flags |= expireNX
		case EqFold(opt, "xx"):
			flags |= expireXX
		case EqFold(opt, "gt"):
			flags |= expireGT
		case EqFold(opt, "lt"):
			flags |= expireLT
		default:
			c.Err("ERR Unsupported option " + string(opt))
			return 0, false
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		c.Err("ERR NX and XX, GT or LT options at the same time are not compatible")
		return 0, false
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		c.Err("ERR GT and LT options at the same time are not compatible")
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
	when, ok := c.IntArg(2)
	if !ok {
		return
	}
	name := c.Cmd.Name
	invalid := func() { c.Err(fmt.Sprintf(ErrInvalidExpire, name)) }
	if name == "expire" || name == "expireat" {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			invalid()
			return
		}
		when *= 1000
	}
	var base int64
	if name == "expire" || name == "pexpire" {
		base = c.Now
	}
	if when > math.MaxInt64-base {
		invalid()
		return
	}
	when += base
	key := c.Key(1)
	if c.lookup(key) == nil {
		c.W.WriteInt(0)
		return
	}
	if flags != 0 && !expireFlagsAllow(c, key, flags, when) {
		c.W.WriteInt(0)
		return
	}
	c.Dirty++
	if alreadyExpired(c, when) {
		c.DB.remove(key)
		c.journalStrings("del", key)
	} else {
		c.DB.SetExpire(key, when)
		c.journalStrings("pexpireat", key, Itoa(when))
	}
	c.W.WriteInt(1)
}

// expireFlagsAllow applies NX XX GT LT to key's current deadline (none
// counts as infinite).
func expireFlagsAllow(c *Ctx, key string, flags int, when int64) bool {
	cur, has := c.DB.ttl(key)
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
	key := c.Key(1)
	if c.lookup(key) == nil {
		c.W.WriteInt(-2)
		return
	}
	when, ok := c.DB.ttl(key)
	if !ok {
		c.W.WriteInt(-1)
		return
	}
	ttl := max(when-c.Now, 0)
	if c.Cmd.Name == "ttl" {
		ttl = (ttl + 500) / 1000
	}
	c.W.WriteInt64(ttl)
}

// cmdPersist: PERSIST key removes key's deadline; replies 1 if it had one.
func cmdPersist(c *Ctx) {
	key := c.Key(1)
	if c.lookup(key) != nil && c.DB.Persist(key) {
		c.Dirty++
		c.W.WriteInt(1)
		return
	}
	c.W.WriteInt(0)
}

// cmdType: TYPE key replies the type name of the value at key ("none" when
// missing).
func cmdType(c *Ctx) { c.W.WriteString(typeName(c.lookup(c.Key(1)))) }

// cmdKeys: KEYS pattern replies every live key matching the glob pattern.
func cmdKeys(c *Ctx) {
	pat := c.Args[1]
	all := len(pat) == 1 && pat[0] == '*'
	var out []string
	for key := range c.DB.Keys {
		if c.DB.Expired(key, c.Now) {
			continue
		}
		if all || GlobMatch(pat, []byte(key)) {
			out = append(out, key)
		}
	}
	c.W.WriteArray(len(out))
	for _, key := range out {
		c.W.WriteBulkString(key)
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
	for i := from; i < len(c.Args); i += 2 {
		opt, more := c.Args[i], len(c.Args)-i >= 2
		switch {
		case EqFold(opt, "count") && more:
			n, ok := c.IntArg(i + 1)
			if !ok {
				return o, false
			}
			if n < 1 {
				c.Err(ErrSyntax)
				return o, false
			}
			o.count = int(min(n, math.MaxInt32))
		case EqFold(opt, "match") && more:
			o.match = c.Args[i+1]
			if len(o.match) == 1 && o.match[0] == '*' {
				o.match = nil
			}
		case EqFold(opt, "type") && withType && more:
			o.typ = c.Args[i+1]
		default:
			c.Err(ErrSyntax)
			return o, false
		}
	}
	return o, true
}

// cmdScan: SCAN cursor [MATCH pattern] [COUNT n] [TYPE type] iterates the
// keyspace; expired keys are skipped (and lazily removed).
func cmdScan(c *Ctx) {
	cursor, ok := parseScanCursor(c.Args[1])
	if !ok {
		c.Err(ErrInvalidCursor)
		return
	}
	o, ok := parseScanOpts(c, 2, true)
	if !ok {
		return
	}
	next, names := scanStep(cursor, o.count, func(yield func(string)) {
		for key := range c.DB.Keys {
			yield(key)
		}
	})
	out := names[:0]
	for _, key := range names {
		if o.match != nil && !GlobMatch(o.match, []byte(key)) {
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
	c.W.WriteArray(2)
	c.W.WriteBulkString(strconv.FormatUint(next, 10))
	c.W.WriteArray(len(out))
	for _, key := range out {
		c.W.WriteBulkString(key)
	}
}

// cmdRename: RENAME src dst moves a key with its deadline, replacing dst;
// RENAMENX does so only when dst does not exist, replying 1 if it did.
func cmdRename(c *Ctx) {
	nx := c.Cmd.Name == "renamenx"
	src, dst := c.Key(1), c.Key(2)
	v := c.lookup(src)
	if v == nil {
		c.Err(ErrNoSuchKey)
		return
	}
	if src == dst {
		if nx {
			c.W.WriteInt(0)
		} else {
			c.OK()
		}
		return
	}
	when, hasTTL := c.DB.ttl(src)
	if c.lookup(dst) != nil && nx {
		c.W.WriteInt(0)
		return
	}
	c.DB.remove(dst)
	c.DB.remove(src)
	c.DB.Set(dst, v)
	if hasTTL {
		c.DB.SetExpire(dst, when)
	}
	c.Dirty++
	if nx {
		c.W.WriteInt(1)
	} else {
		c.OK()
	}
}

// cmdRandomkey: RANDOMKEY replies a random live key, nil when there is
// none.
func cmdRandomkey(c *Ctx) {
	for key := range c.DB.Keys { // map iteration starts at a random place
		if !c.DB.Expired(key, c.Now) {
			c.W.WriteBulkString(key)
			return
		}
	}
	c.W.WriteNull()
}

// cmdDbsize: DBSIZE replies the number of keys (expired ones not yet
// removed included, as in Redis).
func cmdDbsize(c *Ctx) { c.W.WriteInt(c.DB.Size()) }

// cmdFlush: FLUSHDB and FLUSHALL [ASYNC|SYNC] remove every key; both are
// journaled as FLUSHALL (there is only db 0).
func cmdFlush(c *Ctx) {
	if len(c.Args) > 2 || (len(c.Args) == 2 && !EqFold(c.Args[1], "async") && !EqFold(c.Args[1], "sync")) {
		c.Err(ErrSyntax)
		return
	}
	for key := range c.DB.Keys {
		c.touch(key)
	}
	c.DB.Flush()
	c.Dirty++
	c.journalStrings("flushall")
	c.OK()
}

// GlobMatch reports whether s matches the glob pattern exactly like Redis'
// stringmatchlen (case-sensitive): * ? [abc] [^a] [a-z] and \ escapes.
func GlobMatch(pattern, s []byte) bool {
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
