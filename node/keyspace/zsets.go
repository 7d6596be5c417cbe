package keyspace

import (
	"math"
	"strconv"
)

// sortedSetHandlers binds the sortedSet commands declared in node/command.
var sortedSetHandlers = map[string]Handler{
	"zadd":             cmdZadd,
	"zincrby":          cmdZadd,
	"zrem":             cmdZrem,
	"zscore":           cmdZscore,
	"zmscore":          cmdZmscore,
	"zcard":            cmdZcard,
	"zcount":           cmdZcount,
	"zlexcount":        cmdZlexcount,
	"zrank":            cmdZrank,
	"zrevrank":         cmdZrank,
	"zpopmin":          cmdZpop,
	"zpopmax":          cmdZpop,
	"zremrangebyscore": cmdZremrange,
	"zremrangebyrank":  cmdZremrange,
	"zremrangebylex":   cmdZremrange,
	"zscan":            cmdZscan,
	"zrange":           cmdZrange,
	"zrangebyscore":    cmdZrange,
	"zrevrange":        cmdZrange,
	"zrevrangebyscore": cmdZrange,
	"zrangebylex":      cmdZrange,
	"zrevrangebylex":   cmdZrange,
	"zrangestore":      cmdZrangestore,
}

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

// zsetRead returns the sorted set at key (nil when missing); ok is false
// after replying WRONGTYPE.
func zsetRead(c *Ctx, key string) (z *ZSet, ok bool) {
	switch v := c.lookup(key).(type) {
	case nil:
		return nil, true
	case *ZSet:
		return v, true
	default:
		c.Err(ErrWrongType)
		return nil, false
	}
}

// zsetDeleteIfEmpty removes key when its sorted set has no members left.
func zsetDeleteIfEmpty(c *Ctx, key string, z *ZSet) {
	if z.Len() == 0 {
		c.DB.remove(key)
	}
}

// writeScore replies a score as a bulk string, the way Redis 7.0 does.
func writeScore(c *Ctx, f float64) { c.W.WriteBulkString(FormatScore(f)) }

// zaddFlags are ZADD's options.
type zaddFlags struct{ nx, xx, gt, lt, ch, incr bool }

// cmdZadd: ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...],
// and ZINCRBY key increment member (ZADD INCR without options).
func cmdZadd(c *Ctx) {
	var fl zaddFlags
	fl.incr = EqFold(c.Args[0], "zincrby")
	i := 2
	for ; i < len(c.Args); i++ {
		a := c.Args[i]
		switch {
		case EqFold(a, "nx"):
			fl.nx = true
		case EqFold(a, "xx"):
			fl.xx = true
		case EqFold(a, "gt"):
			fl.gt = true
		case EqFold(a, "lt"):
			fl.lt = true
		case EqFold(a, "ch"):
			fl.ch = true
		case EqFold(a, "incr"):
			fl.incr = true
		default:
			goto parsed
		}
	}
parsed:
	elems := len(c.Args) - i
	switch {
	case elems == 0 || elems%2 != 0:
		c.Err(ErrSyntax)
		return
	case fl.nx && fl.xx:
		c.Err(errZsetXXNX)
		return
	case (fl.gt && fl.nx) || (fl.lt && fl.nx) || (fl.gt && fl.lt):
		c.Err(errZsetGTLTNX)
		return
	case fl.incr && elems > 2:
		c.Err(errZsetIncrPair)
		return
	}
	scores := make([]float64, 0, elems/2)
	for j := i; j < len(c.Args); j += 2 {
		f, ok := parseScore(c.Args[j])
		if !ok {
			c.Err(ErrNotFloat)
			return
		}
		scores = append(scores, f)
	}
	key := c.Key(1)
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
		z = NewZSet()
	}
	var added, updated, processed int
	var score float64
	for k, s := range scores {
		res, ns := zsetAddFlags(z, string(c.Args[i+2*k+1]), s, fl)
		if res == zaddNaN {
			c.Err(errZsetNaN)
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
		c.DB.remove(key)
		c.DB.Set(key, z)
	}
	if added+updated > 0 {
		c.Dirty++
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
		c.W.WriteNull()
	case fl.ch:
		c.W.WriteInt(added + updated)
	default:
		c.W.WriteInt(added)
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
func zsetAddFlags(z *ZSet, member string, score float64, fl zaddFlags) (zaddResult, float64) {
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
	key := c.Key(1)
	z, ok := zsetRead(c, key)
	if !ok {
		return
	}
	if z == nil {
		c.W.WriteInt(0)
		return
	}
	n := 0
	for _, m := range c.Args[2:] {
		if z.Remove(string(m)) {
			n++
		}
	}
	if n > 0 {
		zsetDeleteIfEmpty(c, key, z)
		c.Dirty++
	}
	c.W.WriteInt(n)
}

// cmdZscore: ZSCORE key member.
func cmdZscore(c *Ctx) {
	z, ok := zsetRead(c, c.Key(1))
	if !ok {
		return
	}
	if z == nil {
		c.W.WriteNull()
		return
	}
	if s, ok := z.Score(string(c.Args[2])); ok {
		writeScore(c, s)
	} else {
		c.W.WriteNull()
	}
}

// cmdZmscore: ZMSCORE key member [member ...].
func cmdZmscore(c *Ctx) {
	z, ok := zsetRead(c, c.Key(1))
	if !ok {
		return
	}
	c.W.WriteArray(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		if z == nil {
			c.W.WriteNull()
		} else if s, ok := z.Score(string(m)); ok {
			writeScore(c, s)
		} else {
			c.W.WriteNull()
		}
	}
}

// cmdZcard: ZCARD key.
func cmdZcard(c *Ctx) {
	z, ok := zsetRead(c, c.Key(1))
	if !ok {
		return
	}
	if z == nil {
		c.W.WriteInt(0)
		return
	}
	c.W.WriteInt(z.Len())
}

// cmdZcount: ZCOUNT key min max.
func cmdZcount(c *Ctx) {
	b, ok := parseScoreBounds(c.Args[2], c.Args[3])
	if !ok {
		c.Err(errZsetNotFloatRange)
		return
	}
	zsetCountReply(c, b)
}

// cmdZlexcount: ZLEXCOUNT key min max.
func cmdZlexcount(c *Ctx) {
	b, ok := parseLexBounds(c.Args[2], c.Args[3])
	if !ok {
		c.Err(errZsetLexRange)
		return
	}
	zsetCountReply(c, b)
}

// zsetCountReply replies the number of members of key within b.
func zsetCountReply(c *Ctx, b zbounds) {
	z, ok := zsetRead(c, c.Key(1))
	if !ok {
		return
	}
	if z == nil {
		c.W.WriteInt(0)
		return
	}
	c.W.WriteInt(z.countIn(b))
}

// cmdZrank: ZRANK key member and ZREVRANK key member.
func cmdZrank(c *Ctx) {
	z, ok := zsetRead(c, c.Key(1))
	if !ok {
		return
	}
	if z == nil {
		c.W.WriteNull()
		return
	}
	r, ok := z.rank(string(c.Args[2]))
	if !ok {
		c.W.WriteNull()
		return
	}
	if EqFold(c.Args[0], "zrevrank") {
		r = z.Len() - 1 - r
	}
	c.W.WriteInt(r)
}

// cmdZpop: ZPOPMIN key [count] and ZPOPMAX key [count]. Popping is
// deterministic (lowest or highest score, ties by member), so the command
// is journaled as is.
func cmdZpop(c *Ctx) {
	if len(c.Args) > 3 {
		c.Err(ErrSyntax)
		return
	}
	count := int64(-1)
	if len(c.Args) == 3 {
		n, ok := ParseInt(c.Args[2])
		if !ok || n < 0 {
			c.Err(ErrOutOfRangeZero)
			return
		}
		count = n
	}
	key := c.Key(1)
	z, ok := zsetRead(c, key)
	if !ok {
		return
	}
	if z == nil || count == 0 {
		c.W.WriteArray(0)
		return
	}
	if count == -1 {
		count = 1
	}
	if count > int64(z.Len()) {
		count = int64(z.Len())
	}
	max := EqFold(c.Args[0], "zpopmax")
	c.W.WriteArray(int(count) * 2)
	for ; count > 0; count-- {
		n := z.first()
		if max {
			n = z.last()
		}
		member, score := n.member, n.score
		z.Remove(member)
		c.W.WriteBulkString(member)
		writeScore(c, score)
	}
	zsetDeleteIfEmpty(c, key, z)
	c.Dirty++
}

// cmdZremrange: ZREMRANGEBYSCORE key min max, ZREMRANGEBYRANK key start
// stop and ZREMRANGEBYLEX key min max.
func cmdZremrange(c *Ctx) {
	var b zbounds
	var start, stop int64
	byRank := EqFold(c.Args[0], "zremrangebyrank")
	switch {
	case byRank:
		var ok bool
		if start, ok = c.IntArg(2); !ok {
			return
		}
		if stop, ok = c.IntArg(3); !ok {
			return
		}
	case EqFold(c.Args[0], "zremrangebyscore"):
		var ok bool
		if b, ok = parseScoreBounds(c.Args[2], c.Args[3]); !ok {
			c.Err(errZsetNotFloatRange)
			return
		}
	default:
		var ok bool
		if b, ok = parseLexBounds(c.Args[2], c.Args[3]); !ok {
			c.Err(errZsetLexRange)
			return
		}
	}
	key := c.Key(1)
	z, ok := zsetRead(c, key)
	if !ok {
		return
	}
	if z == nil {
		c.W.WriteInt(0)
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
		c.Dirty++
	}
	c.W.WriteInt(len(victims))
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
	z := v.(*ZSet)
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
	}, func(m string) { c.W.WriteBulkString(zscanScore(z.dict[m])) })
}

// zsetCompact reports whether Redis 7.0 would keep z in its compact
// listpack encoding (at most 128 members of at most 64 bytes), which ZSCAN
// returns whole, in order, with cursor 0.
func zsetCompact(z *ZSet) bool {
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
// the rest like FormatScore.
func zscanScore(f float64) string {
	const lim = float64(math.MaxInt64 / 2)
	if f >= -lim && f <= lim && f == math.Trunc(f) {
		return strconv.FormatInt(int64(f), 10)
	}
	return FormatScore(f)
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

// zrangeDefaults returns the kind and direction a range command's name
// fixes (ZRANGE and ZRANGESTORE fix neither).
func zrangeDefaults(name []byte) zrangeSpec {
	sp := zrangeSpec{limit: -1}
	switch {
	case EqFold(name, "zrangebyscore"):
		sp.kind, sp.revSet = zrangeScore, true
	case EqFold(name, "zrevrange"):
		sp.kind, sp.rev, sp.revSet = zrangeRank, true, true
	case EqFold(name, "zrevrangebyscore"):
		sp.kind, sp.rev, sp.revSet = zrangeScore, true, true
	case EqFold(name, "zrangebylex"):
		sp.kind, sp.revSet = zrangeLex, true
	case EqFold(name, "zrevrangebylex"):
		sp.kind, sp.rev, sp.revSet = zrangeLex, true, true
	}
	return sp
}

// parseZrange parses args[keyIdx+1:] of a range command (min, max,
// options), replying the error and returning false on failure.
func parseZrange(c *Ctx, keyIdx int, store bool) (zrangeSpec, bool) {
	sp := zrangeDefaults(c.Args[0])
	for j := keyIdx + 3; j < len(c.Args); j++ {
		a, left := c.Args[j], len(c.Args)-j-1
		switch {
		case !store && EqFold(a, "withscores"):
			sp.withScores = true
		case EqFold(a, "limit") && left >= 2:
			var ok bool
			if sp.offset, ok = c.IntArg(j + 1); !ok {
				return sp, false
			}
			if sp.limit, ok = c.IntArg(j + 2); !ok {
				return sp, false
			}
			j += 2
		case !sp.revSet && EqFold(a, "rev"):
			sp.rev, sp.revSet = true, true
		case sp.kind == zrangeAuto && EqFold(a, "bylex"):
			sp.kind = zrangeLex
		case sp.kind == zrangeAuto && EqFold(a, "byscore"):
			sp.kind = zrangeScore
		default:
			c.Err(ErrSyntax)
			return sp, false
		}
	}
	if sp.kind == zrangeAuto {
		sp.kind = zrangeRank
	}
	if sp.limit != -1 && sp.kind == zrangeRank {
		c.Err(errZsetLimitRank)
		return sp, false
	}
	if sp.withScores && sp.kind == zrangeLex {
		c.Err(errZsetLexScores)
		return sp, false
	}
	minArg, maxArg := c.Args[keyIdx+1], c.Args[keyIdx+2]
	if sp.rev && sp.kind != zrangeRank {
		minArg, maxArg = maxArg, minArg
	}
	var ok bool
	switch sp.kind {
	case zrangeRank:
		if sp.start, ok = c.IntArg(keyIdx + 1); !ok {
			return sp, false
		}
		if sp.stop, ok = c.IntArg(keyIdx + 2); !ok {
			return sp, false
		}
	case zrangeScore:
		if sp.bounds, ok = parseScoreBounds(minArg, maxArg); !ok {
			c.Err(errZsetNotFloatRange)
			return sp, false
		}
	case zrangeLex:
		if sp.bounds, ok = parseLexBounds(minArg, maxArg); !ok {
			c.Err(errZsetLexRange)
			return sp, false
		}
	}
	return sp, true
}

// zrangeCollect returns the elements of z that sp selects, in reply order.
func zrangeCollect(z *ZSet, sp zrangeSpec) []*zslNode {
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
	z, ok := zsetRead(c, c.Key(1))
	if !ok {
		return
	}
	if z == nil {
		c.W.WriteArray(0)
		return
	}
	nodes := zrangeCollect(z, sp)
	if sp.withScores {
		c.W.WriteArray(len(nodes) * 2)
	} else {
		c.W.WriteArray(len(nodes))
	}
	for _, n := range nodes {
		c.W.WriteBulkString(n.member)
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
	src, ok := zsetRead(c, c.Key(2))
	if !ok {
		return
	}
	var nodes []*zslNode
	if src != nil {
		nodes = zrangeCollect(src, sp)
	}
	dst := c.Key(1)
	c.lookup(dst) // lazy expiry first, so an expired dst is not "deleted" again
	if len(nodes) == 0 {
		if c.DB.remove(dst) {
			c.Dirty++
		}
		c.W.WriteInt(0)
		return
	}
	z := NewZSet()
	for _, n := range nodes {
		z.Add(n.member, n.score)
	}
	c.DB.remove(dst)
	c.DB.Set(dst, z)
	c.Dirty++
	c.W.WriteInt(len(nodes))
}
