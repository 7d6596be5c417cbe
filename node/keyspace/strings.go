package keyspace

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// stringHandlers binds the string commands declared in node/command.
var stringHandlers = map[string]Handler{
	"get":         cmdGet,
	"set":         cmdSet,
	"setnx":       cmdSetnx,
	"setex":       cmdSetex,
	"psetex":      cmdSetex,
	"mget":        cmdMget,
	"mset":        cmdMset,
	"msetnx":      cmdMset,
	"incr":        cmdIncr,
	"decr":        cmdIncr,
	"incrby":      cmdIncrby,
	"decrby":      cmdIncrby,
	"incrbyfloat": cmdIncrbyfloat,
	"append":      cmdAppend,
	"strlen":      cmdStrlen,
	"getrange":    cmdGetrange,
	"setrange":    cmdSetrange,
	"getdel":      cmdGetdel,
	"getex":       cmdGetex,
	"getset":      cmdGetset,
}

// bSet is the journal's command name for SET rewrites.
var bSet = []byte("set")

// errStringTooLong is Redis' error for results above proto-max-bulk-len.
const errStringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"

// expireKind is which expiry option of SET or GETEX was given.
type expireKind uint8

const (
	expNone expireKind = iota
	expEX              // relative seconds
	expPX              // relative milliseconds
	expEXAT            // absolute Unix seconds
	expPXAT            // absolute Unix milliseconds
)

// strOpts are the parsed options of SET (NX XX GET KEEPTTL EX PX EXAT PXAT)
// and GETEX (EX PX EXAT PXAT PERSIST).
type strOpts struct {
	nx, xx, get, keepttl, persist bool
	kind                          expireKind
	expire                        []byte
}

// parseStrOpts parses args[3:] (SET) or args[2:] (GETEX) with the exact
// acceptance rules of Redis' parseExtendedStringArgumentsOrReply, replying
// a syntax error on failure.
func parseStrOpts(c *Ctx, isSet bool) (strOpts, bool) {
	var o strOpts
	start := 2
	if isSet {
		start = 3
	}
	for j := start; j < len(c.Args); j++ {
		opt := c.Args[j]
		hasNext := j+1 < len(c.Args)
		switch {
		case isSet && EqFold(opt, "nx") && !o.xx:
			o.nx = true
		case isSet && EqFold(opt, "xx") && !o.nx:
			o.xx = true
		case isSet && EqFold(opt, "get"):
			o.get = true
		case isSet && EqFold(opt, "keepttl") && !o.persist && o.kind == expNone:
			o.keepttl = true
		case !isSet && EqFold(opt, "persist") && o.kind == expNone && !o.keepttl:
			o.persist = true
		case EqFold(opt, "ex") && o.expireAllowed(expEX) && hasNext,
			EqFold(opt, "px") && o.expireAllowed(expPX) && hasNext,
			EqFold(opt, "exat") && o.expireAllowed(expEXAT) && hasNext,
			EqFold(opt, "pxat") && o.expireAllowed(expPXAT) && hasNext:
			o.kind = expireKindOf(opt)
			o.expire = c.Args[j+1]
			j++
		default:
			c.Err(ErrSyntax)
			return o, false
		}
	}
	return o, true
}

// expireAllowed reports whether expiry option k may follow the options seen
// so far: no KEEPTTL or PERSIST, and no other expiry kind (repeating the same
// kind is allowed, the last value wins, as in Redis).
func (o *strOpts) expireAllowed(k expireKind) bool {
	return !o.keepttl && !o.persist && (o.kind == expNone || o.kind == k)
}

// expireKindOf maps an option name (already known to be one) to its kind.
func expireKindOf(opt []byte) expireKind {
	switch {
	case EqFold(opt, "ex"):
		return expEX
	case EqFold(opt, "px"):
		return expPX
	case EqFold(opt, "exat"):
		return expEXAT
	}
	return expPXAT
}

// expireAt converts an expiry argument of the given kind to absolute Unix
// milliseconds like Redis' getExpireMillisecondsOrReply, replying the error
// on failure.
func expireAt(c *Ctx, arg []byte, kind expireKind) (int64, bool) {
	ms, ok := c.intArgBytes(arg)
	if !ok {
		return 0, false
	}
	seconds := kind == expEX || kind == expEXAT
	if ms <= 0 || (seconds && ms > math.MaxInt64/1000) {
		c.Err(fmt.Sprintf(ErrInvalidExpire, c.Cmd.Name))
		return 0, false
	}
	if seconds {
		ms *= 1000
	}
	if kind == expEX || kind == expPX {
		ms += c.Now // wraps to negative on overflow, refused below
	}
	if ms <= 0 {
		c.Err(fmt.Sprintf(ErrInvalidExpire, c.Cmd.Name))
		return 0, false
	}
	return ms, true
}

// intArgBytes parses b as an integer, replying the Redis error on failure.
func (c *Ctx) intArgBytes(b []byte) (int64, bool) {
	n, ok := ParseInt(b)
	if !ok {
		c.Err(ErrNotInteger)
	}
	return n, ok
}

// ownBytes returns b with its capacity clipped, so that no later append
// through the stored value can write into a neighbouring argument.
func ownBytes(b []byte) []byte { return b[:len(b):len(b)] }

// putString stores v under key. The old deadline survives only when
// keepTTL is set and the key existed (found); otherwise the key has none.
func putString(c *Ctx, key string, v []byte, keepTTL, found bool) {
	c.DB.Set(key, v)
	if !keepTTL || !found {
		c.DB.Persist(key)
	}
}

// stringAt returns the string at key: (nil, true) when missing, (value,
// true) for a string, and false after replying WRONGTYPE.
func stringAt(c *Ctx, key string) ([]byte, bool) {
	switch v := c.lookup(key).(type) {
	case nil:
		return nil, true
	case []byte:
		return v, true
	default:
		c.Err(ErrWrongType)
		return nil, false
	}
}

// cmdGet: GET key replies the string value or nil.
func cmdGet(c *Ctx) {
	switch v := c.lookup(c.Key(1)).(type) {
	case nil:
		c.W.WriteNull()
	case []byte:
		c.W.WriteBulk(v)
	default:
		c.Err(ErrWrongType)
	}
}

// cmdSet: SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms|KEEPTTL].
// Relative expiries are journaled as PXAT, and only the effective form
// (value, deadline or KEEPTTL) is journaled.
func cmdSet(c *Ctx) {
	key := c.Key(1)
	if len(c.Args) == 3 { // the hot path: plain SET
		// The old value matters only if it may have expired: the lookup
		// then deletes it first (journaling the DEL, as Redis propagates
		// it). A key without a deadline needs no lookup, nor does replay.
		if _, ok := c.DB.Expires[key]; ok && !c.Replay {
			c.lookup(key)
		}
		putString(c, key, ownBytes(c.Args[2]), false, false)
		c.Dirty++
		c.OK()
		return
	}
	o, ok := parseStrOpts(c, true)
	if !ok {
		return
	}
	var when int64
	if o.kind != expNone {
		if when, ok = expireAt(c, o.expire, o.kind); !ok {
			return
		}
	}
	old := c.lookup(key)
	if o.get {
		switch v := old.(type) {
		case nil:
			c.W.WriteNull()
		case []byte:
			c.W.WriteBulk(v)
		default:
			c.Err(ErrWrongType)
			return
		}
	}
	found := old != nil
	if (o.nx && found) || (o.xx && !found) {
		if !o.get {
			c.W.WriteNull()
		}
		return
	}
	putString(c, key, ownBytes(c.Args[2]), o.keepttl, found)
	c.Dirty++
	switch {
	case o.kind != expNone:
		c.DB.SetExpire(key, when)
		c.journal(bSet, c.Args[1], c.Args[2], []byte("pxat"), []byte(Itoa(when)))
	case o.keepttl && found:
		c.journal(bSet, c.Args[1], c.Args[2], []byte("keepttl"))
	default:
		c.journal(bSet, c.Args[1], c.Args[2])
	}
	if !o.get {
		c.OK()
	}
}

// cmdSetnx: SETNX key value sets key only when it does not exist; replies
// 1 if it did.
func cmdSetnx(c *Ctx) {
	key := c.Key(1)
	if c.lookup(key) != nil {
		c.W.WriteInt(0)
		return
	}
	putString(c, key, ownBytes(c.Args[2]), false, false)
	c.Dirty++
	c.W.WriteInt(1)
}

// cmdSetex: SETEX key seconds value and PSETEX key milliseconds value,
// journaled as SET key value PXAT deadline.
func cmdSetex(c *Ctx) {
	kind := expEX
	if c.Cmd.Name == "psetex" {
		kind = expPX
	}
	when, ok := expireAt(c, c.Args[2], kind)
	if !ok {
		return
	}
	key := c.Key(1)
	c.lookup(key)
	putString(c, key, ownBytes(c.Args[3]), false, false)
	c.DB.SetExpire(key, when)
	c.Dirty++
	c.journal(bSet, c.Args[1], c.Args[3], []byte("pxat"), []byte(Itoa(when)))
	c.OK()
}

// cmdMget: MGET key [key ...] replies each string value, nil for missing
// keys and keys of other types.
func cmdMget(c *Ctx) {
	c.W.WriteArray(len(c.Args) - 1)
	for i := 1; i < len(c.Args); i++ {
		if v, ok := c.lookup(c.Key(i)).([]byte); ok {
			c.W.WriteBulk(v)
		} else {
			c.W.WriteNull()
		}
	}
}

// cmdMset: MSET key value [key value ...] sets every pair; MSETNX sets
// them only when none of the keys exists, replying 1 if it did.
func cmdMset(c *Ctx) {
	if len(c.Args)%2 == 0 {
		c.WrongArity()
		return
	}
	nx := c.Cmd.Name == "msetnx"
	if nx {
		for i := 1; i < len(c.Args); i += 2 {
			if c.lookup(c.Key(i)) != nil {
				c.W.WriteInt(0)
				return
			}
		}
	}
	for i := 1; i < len(c.Args); i += 2 {
		key := c.Key(i)
		c.lookup(key)
		putString(c, key, ownBytes(c.Args[i+1]), false, false)
	}
	c.Dirty++
	if nx {
		c.W.WriteInt(1)
	} else {
		c.OK()
	}
}

// cmdIncr: INCR key and DECR key add ±1 to the integer at key.
func cmdIncr(c *Ctx) {
	if c.Cmd.Name == "decr" {
		incrBy(c, -1)
	} else {
		incrBy(c, 1)
	}
}

// cmdIncrby: INCRBY key n and DECRBY key n add ±n to the integer at key.
func cmdIncrby(c *Ctx) {
	n, ok := c.IntArg(2)
	if !ok {
		return
	}
	if c.Cmd.Name == "decrby" {
		if n == math.MinInt64 {
			c.Err("ERR decrement would overflow")
			return
		}
		n = -n
	}
	incrBy(c, n)
}

// incrBy adds incr to the integer stored at args[1] (0 when missing),
// keeping its deadline, and replies the result.
func incrBy(c *Ctx, incr int64) {
	key := c.Key(1)
	v, ok := stringAt(c, key)
	if !ok {
		return
	}
	var cur int64
	if v != nil {
		if cur, ok = ParseInt(v); !ok {
			c.Err(ErrNotInteger)
			return
		}
	}
	if cur, ok = addInt64(cur, incr); !ok {
		c.Err(ErrOverflow)
		return
	}
	putString(c, key, strconv.AppendInt(nil, cur, 10), true, v != nil)
	c.Dirty++
	c.W.WriteInt64(cur)
}

// cmdIncrbyfloat: INCRBYFLOAT key incr adds a float with Redis' long double
// arithmetic and formatting; journaled as SET key result KEEPTTL.
func cmdIncrbyfloat(c *Ctx) {
	key := c.Key(1)
	v, ok := stringAt(c, key)
	if !ok {
		return
	}
	incr, ok := parseLongDouble(c.Args[2])
	if !ok {
		c.Err(ErrNotFloat)
		return
	}
	out, ok := incrLongDouble(c, v, v != nil, incr, ErrNotFloat)
	if !ok {
		return
	}
	putString(c, key, []byte(out), true, v != nil)
	c.Dirty++
	c.journalStrings("set", key, out, "keepttl")
	c.W.WriteBulkString(out)
}

// maxStringLen is the largest string a command may create
// (proto-max-bulk-len).
func maxStringLen(c *Ctx) int64 {
	if n := c.Host.MaxBulkLen(); n > 0 {
		return n
	}
	return 512 << 20
}

// cmdAppend: APPEND key value appends to the string at key (creating it)
// and replies the new length.
func cmdAppend(c *Ctx) {
	key := c.Key(1)
	v, ok := stringAt(c, key)
	if !ok {
		return
	}
	add := c.Args[2]
	if v == nil {
		putString(c, key, ownBytes(add), false, false)
		c.Dirty++
		c.W.WriteInt(len(add))
		return
	}
	if int64(len(v))+int64(len(add)) > maxStringLen(c) {
		c.Err(errStringTooLong)
		return
	}
	// Always a fresh array: the old one may be shared with a snapshot
	// buffer or a neighbouring argument, so it is never written to.
	nv := make([]byte, len(v)+len(add))
	copy(nv, v)
	copy(nv[len(v):], add)
	c.DB.Set(key, nv)
	c.Dirty++
	c.W.WriteInt(len(nv))
}

// cmdStrlen: STRLEN key replies the length of the string at key (0 when
// missing).
func cmdStrlen(c *Ctx) {
	if v, ok := stringAt(c, c.Key(1)); ok {
		c.W.WriteInt(len(v))
	}
}

// cmdGetrange: GETRANGE key start end replies the substring between two
// inclusive offsets (negative ones count from the end).
func cmdGetrange(c *Ctx) {
	start, ok := c.IntArg(2)
	if !ok {
		return
	}
	end, ok := c.IntArg(3)
	if !ok {
		return
	}
	v, ok := stringAt(c, c.Key(1))
	if !ok {
		return
	}
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		c.W.WriteBulkString("")
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.W.WriteBulkString("")
		return
	}
	c.W.WriteBulk(v[start : end+1])
}

// cmdSetrange: SETRANGE key offset value overwrites part of the string at
// key, zero-padding as needed, and replies the new length.
func cmdSetrange(c *Ctx) {
	off, ok := c.IntArg(2)
	if !ok {
		return
	}
	if off < 0 {
		c.Err("ERR offset is out of range")
		return
	}
	key, val := c.Key(1), c.Args[3]
	v, ok := stringAt(c, key)
	if !ok {
		return
	}
	if len(val) == 0 {
		c.W.WriteInt(len(v))
		return
	}
	if off > maxStringLen(c)-int64(len(val)) {
		c.Err(errStringTooLong)
		return
	}
	nv := make([]byte, max(int64(len(v)), off+int64(len(val))))
	copy(nv, v)
	copy(nv[off:], val)
	putString(c, key, nv, true, v != nil)
	c.Dirty++
	c.W.WriteInt(len(nv))
}

// cmdGetdel: GETDEL key replies the string at key and deletes it;
// journaled as DEL.
func cmdGetdel(c *Ctx) {
	key := c.Key(1)
	v, ok := stringAt(c, key)
	if !ok {
		return
	}
	if v == nil {
		c.W.WriteNull()
		return
	}
	c.W.WriteBulk(v)
	c.DB.remove(key)
	c.Dirty++
	c.journalStrings("del", key)
}

// cmdGetex: GETEX key [EX s|PX ms|EXAT ts|PXAT ms|PERSIST] replies the
// string at key and changes its deadline; journaled as PEXPIREAT, PERSIST,
// or DEL for a deadline already past.
func cmdGetex(c *Ctx) {
	o, ok := parseStrOpts(c, false)
	if !ok {
		return
	}
	key := c.Key(1)
	v, ok := stringAt(c, key)
	if !ok {
		return
	}
	if v == nil {
		c.W.WriteNull()
		return
	}
	var when int64
	if o.kind != expNone {
		if when, ok = expireAt(c, o.expire, o.kind); !ok {
			return
		}
	}
	c.W.WriteBulk(v)
	switch {
	case (o.kind == expEXAT || o.kind == expPXAT) && alreadyExpired(c, when):
		c.DB.remove(key)
		c.Dirty++
		c.journalStrings("del", key)
	case o.kind != expNone:
		c.DB.SetExpire(key, when)
		c.Dirty++
		c.journalStrings("pexpireat", key, Itoa(when))
	case o.persist:
		if c.DB.Persist(key) {
			c.Dirty++
			c.journalStrings("persist", key)
		}
	}
}

// alreadyExpired reports whether an absolute deadline is past and this node
// decides expiry itself (never during replay, like Redis while loading).
func alreadyExpired(c *Ctx, when int64) bool {
	return when <= c.Now && !c.Replay && c.Host.ActiveExpire()
}

// cmdGetset: GETSET key value sets key and replies its old string value;
// journaled as SET.
func cmdGetset(c *Ctx) {
	key := c.Key(1)
	v, ok := stringAt(c, key)
	if !ok {
		return
	}
	if v == nil {
		c.W.WriteNull()
	} else {
		c.W.WriteBulk(v)
	}
	putString(c, key, ownBytes(c.Args[2]), false, false)
	c.Dirty++
	c.journal(bSet, c.Args[1], c.Args[2])
}

// longDoublePrec is the mantissa of x87's 80-bit long double, which Redis
// uses for INCRBYFLOAT; big.Float at this precision reproduces its
// arithmetic and its printed digits.
const longDoublePrec = 64

// longDoubleMaxExp bounds the binary exponent of a finite long double.
const longDoubleMaxExp = 16384

// newLongDouble returns a zero at long double precision.
func newLongDouble() *big.Float {
	return new(big.Float).SetPrec(longDoublePrec).SetMode(big.ToNearestEven)
}

// parseLongDouble parses b like Redis' string2ld (strtold): optional sign,
// decimal or hex digits, exponent, "inf"/"infinity"; no spaces, no NaN, no
// out-of-range values.
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= 5*1024 {
		return nil, false
	}
	s := string(b)
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return nil, false
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		f := newLongDouble().SetInf(s[0] == '-')
		return f, true
	}
	lb := strings.ToLower(body)
	if strings.ContainsAny(lb, "_ ") || strings.HasPrefix(lb, "0b") || strings.HasPrefix(lb, "0o") ||
		strings.Contains(lb, "inf") || strings.Contains(lb, "nan") {
		return nil, false
	}
	f, _, err := newLongDouble().Parse(s, 0)
	if err != nil {
		return nil, false
	}
	if f.MantExp(nil) > longDoubleMaxExp {
		return nil, false
	}
	return f, true
}

// addLongDouble returns a+b, false when the sum is NaN or infinite in long
// double.
func addLongDouble(a, b *big.Float) (*big.Float, bool) {
	if a.IsInf() || b.IsInf() {
		return nil, false
	}
	r := newLongDouble().Add(a, b)
	if r.MantExp(nil) > longDoubleMaxExp {
		return nil, false
	}
	return r, true
}

// incrLongDouble adds incr to the number stored as cur (0 when !exists) and
// returns the result as Redis prints it, replying notFloat when cur is not
// a number and Redis' NaN/Infinity error when the sum is not finite.
func incrLongDouble(c *Ctx, cur []byte, exists bool, incr *big.Float, notFloat string) (string, bool) {
	n := newLongDouble()
	if exists {
		var ok bool
		if n, ok = parseLongDouble(cur); !ok {
			c.Err(notFloat)
			return "", false
		}
	}
	res, ok := addLongDouble(n, incr)
	if !ok {
		c.Err(ErrIncrNaN)
		return "", false
	}
	return formatLongDouble(res), true
}

// formatLongDouble prints f like Redis' ld2string in human mode: "%.17Lf"
// with trailing zeros (and a trailing dot) removed, and "-0" as "0".
func formatLongDouble(f *big.Float) string {
	s := f.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
