package node

import (
	"math"
	"strconv"
)

// Sorted-set error replies.
const (
	errZsetNotFloatRange = "ERR min or max is not a float"
	errZsetLexRange      = "ERR min or max not valid string range item"
	errZsetNaN           = "ERR resulting score is not a number (NaN)"
	errZsetXXNX          = "ERR XX and NX options at the same time are not compatible"
	errZsetGTLTNX        = "ERR GT, LT, and/or NX options at the same time are not compatible"
	errZsetIncrPair      = "ERR INCR option supports a single increment-element pair"
	errZsetLimitRank     = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errZsetLexScores     = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
)

func init() {
	const w, r, f = FlagWrite, FlagReadonly, FlagFast
	register(
		&Command{Name: "zadd", Arity: -4, Flags: w | f, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZadd},
		&Command{Name: "zincrby", Arity: 4, Flags: w | f, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZadd},
		&Command{Name: "zrem", Arity: -3, Flags: w | f, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZrem},
		&Command{Name: "zscore", Arity: 3, Flags: r | f, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZscore},
		&Command{Name: "zmscore", Arity: -3, Flags: r | f, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZmscore},
		&Command{Name: "zcard", Arity: 2, Flags: r | f, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZcard},
		&Command{Name: "zcount", Arity: 4, Flags: r | f, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZcount},
		&Command{Name: "zlexcount", Arity: 4, Flags: r | f, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZlexcount},
		&Command{Name: "zrank", Arity: 3, Flags: r | f, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZrank},
		&Command{Name: "zrevrank", Arity: 3, Flags: r | f, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZrank},
		&Command{Name: "zpopmin", Arity: -2, Flags: w | f, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZpop},
		&Command{Name: "zpopmax", Arity: -2, Flags: w | f, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZpop},
		&Command{Name: "zremrangebyscore", Arity: 4, Flags: w, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZremrange},
		&Command{Name: "zremrangebyrank", Arity: 4, Flags: w, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZremrange},
		&Command{Name: "zremrangebylex", Arity: 4, Flags: w, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZremrange},
		&Command{Name: "zscan", Arity: -3, Flags: r, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZscan},
	)
}

// zsetRead returns the sorted set at key (nil when missing); ok is false
// after replying WRONGTYPE.
func zsetRead(c *Ctx, key string) (z *zsetValue, ok bool) {
	switch v := c.lookup(key).(type) {
	case nil:
		return nil, true
	case *zsetValue:
		return v, true
	default:
		c.err(errWrongType)
		return nil, false
	}
}

// zsetDeleteIfEmpty removes key when its sorted set has no members left.
func zsetDeleteIfEmpty(c *Ctx, key string, z *zsetValue) {
	if z.Len() == 0 {
		c.db.remove(key)
	}
}

// writeScore replies a score as a bulk string, the way Redis 7.0 does.
func writeScore(c *Ctx, f float64) { c.w.WriteBulkString(formatScore(f)) }

// zaddFlags are ZADD's options.
type zaddFlags struct{ nx, xx, gt, lt, ch, incr bool }

// cmdZadd: ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...],
// and ZINCRBY key increment member (ZADD INCR without options).
func cmdZadd(c *Ctx) {
	var fl zaddFlags
	fl.incr = eqFold(c.args[0], "zincrby")
	i := 2
	for ; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case eqFold(a, "nx"):
			fl.nx = true
		case eqFold(a, "xx"):
			fl.xx = true
		case eqFold(a, "gt"):
			fl.gt = true
		case eqFold(a, "lt"):
			fl.lt = true
		case eqFold(a, "ch"):
			fl.ch = true
		case eqFold(a, "incr"):
			fl.incr = true
		default:
			goto parsed
		}
	}
parsed:
	elems := len(c.args) - i
	switch {
	case elems == 0 || elems%2 != 0:
		c.err(errSyntax)
		return
	case fl.nx && fl.xx:
		c.err(errZsetXXNX)
		return
	case (fl.gt && fl.nx) || (fl.lt && fl.nx) || (fl.gt && fl.lt):
		c.err(errZsetGTLTNX)
		return
	case fl.incr && elems > 2:
		c.err(errZsetIncrPair)
		return
	}
	scores := make([]float64, 0, elems/2)
	for j := i; j < len(c.args); j += 2 {
		f, ok := parseScore(c.args[j])
		if !ok {
			c.err(errNotFloat)
			return
		}
		scores = append(scores, f)
	}
	key := c.key(1)
	z, ok := zsetRead(c, key)
	if !ok {
		return
	}
	if z == nil && fl.xx {
		zaddReply(c, fl, 0, 0, 0, 0)
		return
	}
	created := z == nil
	if created {
		z = newZSet()
	}
	var added, updated, processed int
	var score float64
	for k, s := range scores {
		res, ns := zsetAddFlags(z, string(c.args[i+2*k+1]), s, fl)
		if res == zaddNaN {
			c.err(errZsetNaN)
			return
		}
		switch res {
		case zaddAdded:
			added++
		case zaddUpdated:
			updated++
		}
		if res != zaddNop {
			processed++
			score = ns
		}
	}
	if created && z.Len() > 0 {
		c.db.remove(key)
		c.db.set(key, z)
	}
	if added+updated > 0 {
		c.dirty++
	}
	zaddReply(c, fl, added, updated, processed, score)
}

// zaddReply writes ZADD's reply: the new score for INCR (nil when nothing
// was done), else the number of added (and with CH, updated) members.
func zaddReply(c *Ctx, fl zaddFlags, added, updated, processed int, score float64) {
	switch {
	case fl.incr && processed > 0:
		writeScore(c, score)
	case fl.incr:
		c.w.WriteNull()
	case fl.ch:
		c.w.WriteInt(added + updated)
	default:
		c.w.WriteInt(added)
	}
}

// zaddResult is what zsetAddFlags did to one member.
type zaddResult int

const (
	zaddNop zaddResult = iota
	zaddAdded
	zaddUpdated
	zaddSame // processed, score unchanged
	zaddNaN
)

// zsetAddFlags applies one score/member pair of ZADD with its options,
// returning what happened and the member's resulting score.
func zsetAddFlags(z *zsetValue, member string, score float64, fl zaddFlags) (zaddResult, float64) {
	cur, exists := z.Score(member)
	if !exists {
		if fl.xx {
			return zaddNop, 0
		}
		z.Add(member, score)
		return zaddAdded, score
	}
	if fl.nx {
		return zaddNop, 0
	}
	if fl.incr {
		score += cur
		if math.IsNaN(score) {
			return zaddNaN, 0
		}
	}
	if (fl.lt && score >= cur) || (fl.gt && score <= cur) {
		return zaddNop, 0
	}
	if score == cur {
		return zaddSame, score
	}
	z.Add(member, score)
	return zaddUpdated, score
}

// cmdZrem: ZREM key member [member ...].
func cmdZrem(c *Ctx) {
	key := c.key(1)
	z, ok := zsetRead(c, key)
	if !ok {
		return
	}
	if z == nil {
		c.w.WriteInt(0)
		return
	}
	n := 0
	for _, m := range c.args[2:] {
		if z.Remove(string(m)) {
			n++
		}
	}
	if n > 0 {
		zsetDeleteIfEmpty(c, key, z)
		c.dirty++
	}
	c.w.WriteInt(n)
}

// cmdZscore: ZSCORE key member.
func cmdZscore(c *Ctx) {
	z, ok := zsetRead(c, c.key(1))
	if !ok {
		return
	}
	if z == nil {
		c.w.WriteNull()
		return
	}
	if s, ok := z.Score(string(c.args[2])); ok {
		writeScore(c, s)
	} else {
		c.w.WriteNull()
	}
}

// cmdZmscore: ZMSCORE key member [member ...].
func cmdZmscore(c *Ctx) {
	z, ok := zsetRead(c, c.key(1))
	if !ok {
		return
	}
	c.w.WriteArray(len(c.args) - 2)
	for _, m := range c.args[2:] {
		if z == nil {
			c.w.WriteNull()
		} else if s, ok := z.Score(string(m)); ok {
			writeScore(c, s)
		} else {
			c.w.WriteNull()
		}
	}
}

// cmdZcard: ZCARD key.
func cmdZcard(c *Ctx) {
	z, ok := zsetRead(c, c.key(1))
	if !ok {
		return
	}
	if z == nil {
		c.w.WriteInt(0)
		return
	}
	c.w.WriteInt(z.Len())
}

// cmdZcount: ZCOUNT key min max.
func cmdZcount(c *Ctx) {
	b, ok := parseScoreBounds(c.args[2], c.args[3])
	if !ok {
		c.err(errZsetNotFloatRange)
		return
	}
	zsetCountReply(c, b)
}

// cmdZlexcount: ZLEXCOUNT key min max.
func cmdZlexcount(c *Ctx) {
	b, ok := parseLexBounds(c.args[2], c.args[3])
	if !ok {
		c.err(errZsetLexRange)
		return
	}
	zsetCountReply(c, b)
}

// zsetCountReply replies the number of members of key within b.
func zsetCountReply(c *Ctx, b zbounds) {
	z, ok := zsetRead(c, c.key(1))
	if !ok {
		return
	}
	if z == nil {
		c.w.WriteInt(0)
		return
	}
	c.w.WriteInt(z.countIn(b))
}

// cmdZrank: ZRANK key member and ZREVRANK key member.
func cmdZrank(c *Ctx) {
	z, ok := zsetRead(c, c.key(1))
	if !ok {
		return
	}
	if z == nil {
		c.w.WriteNull()
		return
	}
	r, ok := z.rank(string(c.args[2]))
	if !ok {
		c.w.WriteNull()
		return
	}
	if eqFold(c.args[0], "zrevrank") {
		r = z.Len() - 1 - r
	}
	c.w.WriteInt(r)
}

// cmdZpop: ZPOPMIN key [count] and ZPOPMAX key [count]. Popping is
// deterministic (lowest or highest score, ties by member), so the command
// is journaled as is.
func cmdZpop(c *Ctx) {
	if len(c.args) > 3 {
		c.err(errSyntax)
		return
	}
	count := int64(-1)
	if len(c.args) == 3 {
		n, ok := parseInt(c.args[2])
		if !ok || n < 0 {
			c.err(errOutOfRangeZero)
			return
		}
		count = n
	}
	key := c.key(1)
	z, ok := zsetRead(c, key)
	if !ok {
		return
	}
	if z == nil || count == 0 {
		c.w.WriteArray(0)
		return
	}
	if count == -1 {
		count = 1
	}
	if count > int64(z.Len()) {
		count = int64(z.Len())
	}
	max := eqFold(c.args[0], "zpopmax")
	c.w.WriteArray(int(count) * 2)
	for ; count > 0; count-- {
		n := z.first()
		if max {
			n = z.last()
		}
		member, score := n.member, n.score
		z.Remove(member)
		c.w.WriteBulkString(member)
		writeScore(c, score)
	}
	zsetDeleteIfEmpty(c, key, z)
	c.dirty++
}

// cmdZremrange: ZREMRANGEBYSCORE key min max, ZREMRANGEBYRANK key start
// stop and ZREMRANGEBYLEX key min max.
func cmdZremrange(c *Ctx) {
	var b zbounds
	var start, stop int64
	byRank := eqFold(c.args[0], "zremrangebyrank")
	switch {
	case byRank:
		var ok bool
		if start, ok = c.intArg(2); !ok {
			return
		}
		if stop, ok = c.intArg(3); !ok {
			return
		}
	case eqFold(c.args[0], "zremrangebyscore"):
		var ok bool
		if b, ok = parseScoreBounds(c.args[2], c.args[3]); !ok {
			c.err(errZsetNotFloatRange)
			return
		}
	default:
		var ok bool
		if b, ok = parseLexBounds(c.args[2], c.args[3]); !ok {
			c.err(errZsetLexRange)
			return
		}
	}
	key := c.key(1)
	z, ok := zsetRead(c, key)
	if !ok {
		return
	}
	if z == nil {
		c.w.WriteInt(0)
		return
	}
	var victims []string
	if byRank {
		lo, n := rankWindow(start, stop, int64(z.Len()))
		for x := z.byRank(int(lo)); x != nil && n > 0; x, n = x.level[0].forward, n-1 {
			victims = append(victims, x.member)
		}
	} else {
		for x, _ := z.firstIn(b); x != nil && b.belowMax(x); x = x.level[0].forward {
			victims = append(victims, x.member)
		}
	}
	for _, m := range victims {
		z.Remove(m)
	}
	if len(victims) > 0 {
		zsetDeleteIfEmpty(c, key, z)
		c.dirty++
	}
	c.w.WriteInt(len(victims))
}

// rankWindow turns Redis start/stop indexes (negative from the end) over
// length elements into a first index and a count (0 when empty).
func rankWindow(start, stop, length int64) (first, n int64) {
	if start < 0 {
		start += length
	}
	if stop < 0 {
		stop += length
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= length {
		return 0, 0
	}
	if stop >= length {
		stop = length - 1
	}
	return start, stop - start + 1
}

// cmdZscan: ZSCAN key cursor [MATCH pattern] [COUNT count]; replies the
// next cursor and member/score pairs.
func cmdZscan(c *Ctx) {
	v, sc, ok := scanCollection(c, "zset")
	if !ok {
		return
	}
	z := v.(*zsetValue)
	// Like Redis' listpack encoding, a compact set comes back whole and in
	// order.
	sc.reply(c, zsetCompact(z), z.Len(), func(yield func(string)) {
		if zsetCompact(z) {
			z.Range(func(m string, _ float64) bool { yield(m); return true })
			return
		}
		for m := range z.dict {
			yield(m)
		}
	}, func(m string) { c.w.WriteBulkString(zscanScore(z.dict[m])) })
}

// zsetCompact reports whether Redis 7.0 would keep z in its compact
// listpack encoding (at most 128 members of at most 64 bytes), which ZSCAN
// returns whole, in order, with cursor 0.
func zsetCompact(z *zsetValue) bool {
	if z.Len() > 128 {
		return false
	}
	for m := range z.dict {
		if len(m) > 64 {
			return false
		}
	}
	return true
}

// zscanScore formats a score as ZSCAN shows it for Redis 7.0's compact
// encoding: integral values that fit comfortably in an int64 as integers,
// the rest like formatScore.
func zscanScore(f float64) string {
	const lim = float64(math.MaxInt64 / 2)
	if f >= -lim && f <= lim && f == math.Trunc(f) {
		return strconv.FormatInt(int64(f), 10)
	}
	return formatScore(f)
}

// zrangeKind is how ZRANGE interprets its min and max.
type zrangeKind int

const (
	zrangeAuto zrangeKind = iota
	zrangeRank
	zrangeScore
	zrangeLex
)

// zrangeSpec is a parsed ZRANGE-family request.
type zrangeSpec struct {
	kind          zrangeKind
	rev           bool
	revSet        bool // direction fixed by the command name
	withScores    bool
	offset, limit int64
	start, stop   int64
	bounds        zbounds
}

func init() {
	const r = FlagReadonly
	register(
		&Command{Name: "zrange", Arity: -4, Flags: r, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZrange},
		&Command{Name: "zrangebyscore", Arity: -4, Flags: r, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZrange},
		&Command{Name: "zrevrange", Arity: -4, Flags: r, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZrange},
		&Command{Name: "zrevrangebyscore", Arity: -4, Flags: r, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZrange},
		&Command{Name: "zrangebylex", Arity: -4, Flags: r, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZrange},
		&Command{Name: "zrevrangebylex", Arity: -4, Flags: r, FirstKey: 1, LastKey: 1, Step: 1, fn: cmdZrange},
		&Command{Name: "zrangestore", Arity: -5, Flags: FlagWrite, FirstKey: 1, LastKey: 2, Step: 1, fn: cmdZrangestore},
	)
}

// zrangeDefaults returns the kind and direction a range command's name
// fixes (ZRANGE and ZRANGESTORE fix neither).
func zrangeDefaults(name []byte) zrangeSpec {
	sp := zrangeSpec{limit: -1}
	switch {
	case eqFold(name, "zrangebyscore"):
		sp.kind, sp.revSet = zrangeScore, true
	case eqFold(name, "zrevrange"):
		sp.kind, sp.rev, sp.revSet = zrangeRank, true, true
	case eqFold(name, "zrevrangebyscore"):
		sp.kind, sp.rev, sp.revSet = zrangeScore, true, true
	case eqFold(name, "zrangebylex"):
		sp.kind, sp.revSet = zrangeLex, true
	case eqFold(name, "zrevrangebylex"):
		sp.kind, sp.rev, sp.revSet = zrangeLex, true, true
	}
	return sp
}

// parseZrange parses args[keyIdx+1:] of a range command (min, max,
// options), replying the error and returning false on failure.
func parseZrange(c *Ctx, keyIdx int, store bool) (zrangeSpec, bool) {
	sp := zrangeDefaults(c.args[0])
	for j := keyIdx + 3; j < len(c.args); j++ {
		a, left := c.args[j], len(c.args)-j-1
		switch {
		case !store && eqFold(a, "withscores"):
			sp.withScores = true
		case eqFold(a, "limit") && left >= 2:
			var ok bool
			if sp.offset, ok = c.intArg(j + 1); !ok {
				return sp, false
			}
			if sp.limit, ok = c.intArg(j + 2); !ok {
				return sp, false
			}
			j += 2
		case !sp.revSet && eqFold(a, "rev"):
			sp.rev, sp.revSet = true, true
		case sp.kind == zrangeAuto && eqFold(a, "bylex"):
			sp.kind = zrangeLex
		case sp.kind == zrangeAuto && eqFold(a, "byscore"):
			sp.kind = zrangeScore
		default:
			c.err(errSyntax)
			return sp, false
		}
	}
	if sp.kind == zrangeAuto {
		sp.kind = zrangeRank
	}
	if sp.limit != -1 && sp.kind == zrangeRank {
		c.err(errZsetLimitRank)
		return sp, false
	}
	if sp.withScores && sp.kind == zrangeLex {
		c.err(errZsetLexScores)
		return sp, false
	}
	minArg, maxArg := c.args[keyIdx+1], c.args[keyIdx+2]
	if sp.rev && sp.kind != zrangeRank {
		minArg, maxArg = maxArg, minArg
	}
	var ok bool
	switch sp.kind {
	case zrangeRank:
		if sp.start, ok = c.intArg(keyIdx + 1); !ok {
			return sp, false
		}
		if sp.stop, ok = c.intArg(keyIdx + 2); !ok {
			return sp, false
		}
	case zrangeScore:
		if sp.bounds, ok = parseScoreBounds(minArg, maxArg); !ok {
			c.err(errZsetNotFloatRange)
			return sp, false
		}
	case zrangeLex:
		if sp.bounds, ok = parseLexBounds(minArg, maxArg); !ok {
			c.err(errZsetLexRange)
			return sp, false
		}
	}
	return sp, true
}

// zrangeCollect returns the elements of z that sp selects, in reply order.
func zrangeCollect(z *zsetValue, sp zrangeSpec) []*zslNode {
	var out []*zslNode
	if sp.kind == zrangeRank {
		length := int64(z.Len())
		first, n := rankWindow(sp.start, sp.stop, length)
		if n == 0 {
			return nil
		}
		out = make([]*zslNode, 0, n)
		if sp.rev {
			for x := z.byRank(int(length - 1 - first)); x != nil && n > 0; x, n = x.backward, n-1 {
				out = append(out, x)
			}
		} else {
			for x := z.byRank(int(first)); x != nil && n > 0; x, n = x.level[0].forward, n-1 {
				out = append(out, x)
			}
		}
		return out
	}
	if sp.offset < 0 || (sp.offset > 0 && sp.offset >= int64(z.Len())) {
		return nil
	}
	limit := sp.limit
	if sp.rev {
		x, r := z.lastIn(sp.bounds)
		if x == nil {
			return nil
		}
		for x = z.byRank(r - int(sp.offset)); x != nil && limit != 0 && sp.bounds.aboveMin(x); x = x.backward {
			out = append(out, x)
			limit--
		}
		return out
	}
	x, r := z.firstIn(sp.bounds)
	if x == nil {
		return nil
	}
	for x = z.byRank(r + int(sp.offset)); x != nil && limit != 0 && sp.bounds.belowMax(x); x = x.level[0].forward {
		out = append(out, x)
		limit--
	}
	return out
}

// cmdZrange: ZRANGE key min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
// [WITHSCORES], and ZRANGEBYSCORE, ZREVRANGE, ZREVRANGEBYSCORE, ZRANGEBYLEX,
// ZREVRANGEBYLEX, which fix the kind and direction.
func cmdZrange(c *Ctx) {
	sp, ok := parseZrange(c, 1, false)
	if !ok {
		return
	}
	z, ok := zsetRead(c, c.key(1))
	if !ok {
		return
	}
	if z == nil {
		c.w.WriteArray(0)
		return
	}
	nodes := zrangeCollect(z, sp)
	if sp.withScores {
		c.w.WriteArray(len(nodes) * 2)
	} else {
		c.w.WriteArray(len(nodes))
	}
	for _, n := range nodes {
		c.w.WriteBulkString(n.member)
		if sp.withScores {
			writeScore(c, n.score)
		}
	}
}

// cmdZrangestore: ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV]
// [LIMIT offset count]; stores the selected elements at dst (deleting dst
// when there are none) and replies their number.
func cmdZrangestore(c *Ctx) {
	sp, ok := parseZrange(c, 2, true)
	if !ok {
		return
	}
	src, ok := zsetRead(c, c.key(2))
	if !ok {
		return
	}
	var nodes []*zslNode
	if src != nil {
		nodes = zrangeCollect(src, sp)
	}
	dst := c.key(1)
	c.lookup(dst) // lazy expiry first, so an expired dst is not "deleted" again
	if len(nodes) == 0 {
		if c.db.remove(dst) {
			c.dirty++
		}
		c.w.WriteInt(0)
		return
	}
	z := newZSet()
	for _, n := range nodes {
		z.Add(n.member, n.score)
	}
	c.db.remove(dst)
	c.db.set(dst, z)
	c.dirty++
	c.w.WriteInt(len(nodes))
}
