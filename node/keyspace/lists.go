package keyspace

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// listHandlers binds the list commands declared in node/command.
var listHandlers = map[string]Handler{
	"lpush":      cmdPush,
	"rpush":      cmdPush,
	"lpushx":     cmdPush,
	"rpushx":     cmdPush,
	"lpop":       cmdPop,
	"rpop":       cmdPop,
	"lrange":     cmdLrange,
	"llen":       cmdLlen,
	"lindex":     cmdLindex,
	"lset":       cmdLset,
	"lrem":       cmdLrem,
	"ltrim":      cmdLtrim,
	"linsert":    cmdLinsert,
	"lpos":       cmdLpos,
	"lmove":      cmdLmove,
	"rpoplpush":  cmdLmove,
	"blpop":      cmdBpop,
	"brpop":      cmdBpop,
	"blmove":     cmdBlmove,
	"brpoplpush": cmdBlmove,
}

// List error replies (Redis 7.0 wording), exported for the tests that
// expect them.
const (
	ErrListCount       = "ERR value is out of range, must be positive"
	ErrListRankZero    = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	ErrListCountNeg    = "ERR COUNT can't be negative"
	ErrListMaxlenNeg   = "ERR MAXLEN can't be negative"
	ErrTimeoutNotFloat = "ERR timeout is not a float or out of range"
	ErrTimeoutNegative = "ERR timeout is negative"
)

// listRead returns the list at key (nil when missing); ok is false after
// replying WRONGTYPE.
func listRead(c *Ctx, key string) (l *List, ok bool) {
	switch v := c.lookup(key).(type) {
	case nil:
		return nil, true
	case *List:
		return v, true
	default:
		c.Err(ErrWrongType)
		return nil, false
	}
}

// listDeleteIfEmpty removes key when its list has no elements left.
func listDeleteIfEmpty(c *Ctx, key string, l *List) {
	if l.Len() == 0 {
		c.DB.remove(key)
	}
}

// listElem returns an argument as a list element, its capacity clipped so
// no later append through it can reach a neighbouring argument.
func listElem(b []byte) []byte { return b[:len(b):len(b)] }

// listIndex turns a possibly negative Redis index into a position, and
// reports whether it lies inside a list of length n.
func listIndex(i int64, n int) (int, bool) {
	if i < 0 {
		i += int64(n)
	}
	if i < 0 || i >= int64(n) {
		return 0, false
	}
	return int(i), true
}

// listSpan clamps LRANGE/LTRIM's start and stop to a list of length n;
// ok is false when the range is empty.
func listSpan(start, stop int64, n int) (int, int, bool) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if stop < 0 {
		stop += ln
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= ln {
		return 0, 0, false
	}
	if stop >= ln {
		stop = ln - 1
	}
	return int(start), int(stop), true
}

// parseWhere parses LEFT or RIGHT (LMOVE, BLMOVE); left reports LEFT.
func parseWhere(b []byte) (left, ok bool) {
	switch {
	case EqFold(b, "left"):
		return true, true
	case EqFold(b, "right"):
		return false, true
	}
	return false, false
}

// cmdPush: LPUSH|RPUSH key element [element ...] adds elements at the head
// or tail, creating the list; LPUSHX|RPUSHX only when the list exists.
// Replies the new length.
func cmdPush(c *Ctx) {
	name := c.Cmd.Name
	left := name[0] == 'l'
	onlyExisting := name[len(name)-1] == 'x'
	key := c.Key(1)
	l, ok := listRead(c, key)
	if !ok {
		return
	}
	if l == nil {
		if onlyExisting {
			c.W.WriteInt(0)
			return
		}
		l = NewList()
		c.DB.Set(key, l)
	}
	for _, a := range c.Args[2:] {
		l.Push(left, listElem(a))
	}
	c.Dirty++
	c.W.WriteInt(l.Len())
}

// cmdPop: LPOP|RPOP key [count] removes and replies the first (last)
// element, or up to count elements as an array.
func cmdPop(c *Ctx) {
	left := c.Cmd.Name == "lpop"
	if len(c.Args) > 3 {
		c.WrongArity()
		return
	}
	count, hasCount := int64(1), len(c.Args) == 3
	if hasCount {
		n, ok := ParseInt(c.Args[2])
		if !ok || n < 0 {
			c.Err(ErrListCount)
			return
		}
		count = n
	}
	key := c.Key(1)
	l, ok := listRead(c, key)
	if !ok {
		return
	}
	if l == nil {
		if hasCount {
			c.W.WriteArray(-1)
		} else {
			c.W.WriteNull()
		}
		return
	}
	if !hasCount {
		c.W.WriteBulk(l.Pop(left))
	} else {
		if count > int64(l.Len()) {
			count = int64(l.Len())
		}
		c.W.WriteArray(int(count))
		for i := int64(0); i < count; i++ {
			c.W.WriteBulk(l.Pop(left))
		}
		if count == 0 {
			return
		}
	}
	listDeleteIfEmpty(c, key, l)
	c.Dirty++
}

// cmdLrange: LRANGE key start stop replies the elements in the range.
func cmdLrange(c *Ctx) {
	start, ok := c.IntArg(2)
	if !ok {
		return
	}
	stop, ok := c.IntArg(3)
	if !ok {
		return
	}
	l, ok := listRead(c, c.Key(1))
	if !ok {
		return
	}
	if l == nil {
		c.W.WriteArray(0)
		return
	}
	from, to, ok := listSpan(start, stop, l.Len())
	if !ok {
		c.W.WriteArray(0)
		return
	}
	c.W.WriteArray(to - from + 1)
	for i := from; i <= to; i++ {
		c.W.WriteBulk(l.Index(i))
	}
}

// cmdLlen: LLEN key replies the list's length (0 when missing).
func cmdLlen(c *Ctx) {
	l, ok := listRead(c, c.Key(1))
	if !ok {
		return
	}
	if l == nil {
		c.W.WriteInt(0)
		return
	}
	c.W.WriteInt(l.Len())
}

// cmdLindex: LINDEX key index replies the element at index, or nil.
func cmdLindex(c *Ctx) {
	l, ok := listRead(c, c.Key(1))
	if !ok {
		return
	}
	if l == nil {
		c.W.WriteNull()
		return
	}
	idx, ok := c.IntArg(2)
	if !ok {
		return
	}
	i, in := listIndex(idx, l.Len())
	if !in {
		c.W.WriteNull()
		return
	}
	c.W.WriteBulk(l.Index(i))
}

// cmdLset: LSET key index element replaces the element at index.
func cmdLset(c *Ctx) {
	idx, ok := c.IntArg(2)
	if !ok {
		return
	}
	l, ok := listRead(c, c.Key(1))
	if !ok {
		return
	}
	if l == nil {
		c.Err(ErrNoSuchKey)
		return
	}
	i, in := listIndex(idx, l.Len())
	if !in {
		c.Err(ErrIndexRange)
		return
	}
	l.Set(i, listElem(c.Args[3]))
	c.Dirty++
	c.OK()
}

// cmdLrem: LREM key count element removes up to |count| occurrences of
// element, from the head when count > 0, from the tail when count < 0, all
// of them when count is 0. Replies the number removed.
func cmdLrem(c *Ctx) {
	count, ok := c.IntArg(2)
	if !ok {
		return
	}
	key := c.Key(1)
	l, ok := listRead(c, key)
	if !ok {
		return
	}
	if l == nil {
		c.W.WriteInt(0)
		return
	}
	fromTail := count < 0
	if fromTail {
		count = -count // math.MinInt64 stays negative: no limit, as in Redis
	}
	limit := 0
	if count > 0 && count < int64(l.Len()) {
		limit = int(count)
	}
	elem := string(c.Args[3])
	removed := l.RemoveIf(fromTail, limit, func(v []byte) bool { return string(v) == elem })
	if removed > 0 {
		listDeleteIfEmpty(c, key, l)
		c.Dirty++
	}
	c.W.WriteInt(removed)
}

// cmdLtrim: LTRIM key start stop keeps only the elements in the range,
// deleting the key when none is left.
func cmdLtrim(c *Ctx) {
	start, ok := c.IntArg(2)
	if !ok {
		return
	}
	stop, ok := c.IntArg(3)
	if !ok {
		return
	}
	key := c.Key(1)
	l, ok := listRead(c, key)
	if !ok {
		return
	}
	if l == nil {
		c.OK()
		return
	}
	from, to, keep := listSpan(start, stop, l.Len())
	before := l.Len()
	l.Trim(from, to, keep)
	if l.Len() != before {
		listDeleteIfEmpty(c, key, l)
		c.Dirty++
	} else {
		// Redis signals the key even when nothing was trimmed (WATCH).
		c.touch(key)
	}
	c.OK()
}

// cmdLinsert: LINSERT key BEFORE|AFTER pivot element inserts element next
// to the first occurrence of pivot. Replies the new length, -1 when pivot
// is absent, 0 when the key is missing.
func cmdLinsert(c *Ctx) {
	var after bool
	switch {
	case EqFold(c.Args[2], "after"):
		after = true
	case EqFold(c.Args[2], "before"):
	default:
		c.Err(ErrSyntax)
		return
	}
	l, ok := listRead(c, c.Key(1))
	if !ok {
		return
	}
	if l == nil {
		c.W.WriteInt(0)
		return
	}
	pivot := string(c.Args[3])
	at := -1
	i := 0
	l.Range(func(v []byte) bool {
		if string(v) == pivot {
			at = i
			return false
		}
		i++
		return true
	})
	if at < 0 {
		c.W.WriteInt(-1)
		return
	}
	if after {
		at++
	}
	l.Insert(at, listElem(c.Args[4]))
	c.Dirty++
	c.W.WriteInt(l.Len())
}

// lposOpts are LPOS's options; count -1 means COUNT was not given.
type lposOpts struct{ rank, count, maxlen int64 }

// parseLpos parses LPOS's RANK, COUNT and MAXLEN options, replying the
// error when they are invalid.
func parseLpos(c *Ctx) (lposOpts, bool) {
	o := lposOpts{rank: 1, count: -1}
	for j := 3; j < len(c.Args); j++ {
		more := j+1 < len(c.Args)
		var ok bool
		switch a := c.Args[j]; {
		case EqFold(a, "rank") && more:
			j++
			if o.rank, ok = c.IntArg(j); !ok {
				return o, false
			}
			if o.rank == 0 {
				c.Err(ErrListRankZero)
				return o, false
			}
		case EqFold(a, "count") && more:
			j++
			if o.count, ok = ParseInt(c.Args[j]); !ok || o.count < 0 {
				c.Err(ErrListCountNeg)
				return o, false
			}
		case EqFold(a, "maxlen") && more:
			j++
			if o.maxlen, ok = ParseInt(c.Args[j]); !ok || o.maxlen < 0 {
				c.Err(ErrListMaxlenNeg)
				return o, false
			}
		default:
			c.Err(ErrSyntax)
			return o, false
		}
	}
	return o, true
}

// cmdLpos: LPOS key element [RANK rank] [COUNT num] [MAXLEN len] replies
// the index of matching elements: one (or nil) without COUNT, an array
// with it (COUNT 0: all matches).
func cmdLpos(c *Ctx) {
	o, ok := parseLpos(c)
	if !ok {
		return
	}
	fromTail := o.rank < 0
	if fromTail {
		// -math.MinInt64 wraps to itself, so every match qualifies, exactly
		// as Redis 7.0's C arithmetic behaves.
		o.rank = -o.rank
	}
	l, ok := listRead(c, c.Key(1))
	if !ok {
		return
	}
	if l == nil {
		if o.count != -1 {
			c.W.WriteArray(0)
		} else {
			c.W.WriteNull()
		}
		return
	}
	elem := string(c.Args[2])
	n := l.Len()
	var found []int
	var matches int64
	for index := 0; index < n && (o.maxlen == 0 || int64(index) < o.maxlen); index++ {
		pos := index
		if fromTail {
			pos = n - 1 - index
		}
		if string(l.Index(pos)) != elem {
			continue
		}
		matches++
		if matches < o.rank {
			continue
		}
		found = append(found, pos)
		if o.count == -1 || (o.count != 0 && matches-o.rank+1 >= o.count) {
			break
		}
	}
	if o.count == -1 {
		if len(found) == 0 {
			c.W.WriteNull()
		} else {
			c.W.WriteInt(found[0])
		}
		return
	}
	c.W.WriteArray(len(found))
	for _, p := range found {
		c.W.WriteInt(p)
	}
}

// listMove pops from src's fromLeft end and pushes onto dst's toLeft end,
// replying the element, nil when src is missing, or WRONGTYPE. It reports
// whether an element moved. skipWrongSrc treats a src that is not a list as
// missing (a woken blocked client in Redis 7.0 keeps waiting then).
func listMove(c *Ctx, src, dst string, fromLeft, toLeft, skipWrongSrc bool) (moved, replied bool) {
	var sl *List
	switch v := c.lookup(src).(type) {
	case nil:
	case *List:
		sl = v
	default:
		if skipWrongSrc {
			return false, false
		}
		c.Err(ErrWrongType)
		return false, true
	}
	if sl == nil {
		return false, false
	}
	dl, ok := listRead(c, dst)
	if !ok {
		return false, true
	}
	v := sl.Pop(fromLeft)
	if dl == nil { // never src itself: src was found above
		dl = NewList()
		c.DB.Set(dst, dl)
	}
	dl.Push(toLeft, v)
	listDeleteIfEmpty(c, src, sl)
	c.Dirty++
	c.W.WriteBulk(v)
	return true, true
}

// cmdLmove: LMOVE source destination LEFT|RIGHT LEFT|RIGHT and RPOPLPUSH
// source destination atomically move one element between lists.
func cmdLmove(c *Ctx) {
	fromLeft, toLeft := false, true // RPOPLPUSH
	if c.Cmd.Name == "lmove" {
		var ok1, ok2 bool
		fromLeft, ok1 = parseWhere(c.Args[3])
		toLeft, ok2 = parseWhere(c.Args[4])
		if !ok1 || !ok2 {
			c.Err(ErrSyntax)
			return
		}
	}
	if _, replied := listMove(c, c.Key(1), c.Key(2), fromLeft, toLeft, false); !replied {
		c.W.WriteNull()
	}
}

// parseTimeout parses a blocking command's timeout in seconds the way
// Redis 7.0 does (strtold, then truncation to whole milliseconds); 0 means
// forever. It replies the error when the timeout is invalid.
func parseTimeout(c *Ctx, i int) (time.Duration, bool) {
	s := string(c.Args[i])
	if s == "" || len(s) >= 5*1024 || strings.ContainsAny(s[:1], " \t\n\v\f\r") || strings.Contains(s, "_") {
		c.Err(ErrTimeoutNotFloat)
		return 0, false
	}
	t := s
	if l := strings.ToLower(strings.TrimLeft(t, "+-")); strings.HasPrefix(l, "0x") && !strings.Contains(l, "p") {
		t += "p0" // strtold takes hex floats without an exponent; Go does not
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && !math.IsInf(f, 0) || math.IsNaN(f) {
		c.Err(ErrTimeoutNotFloat)
		return 0, false
	}
	if err != nil {
		// Beyond float64 but maybe not beyond long double (~1.19e4932).
		bf, _, berr := big.ParseFloat(t, 0, 64, big.ToNearestEven)
		if berr != nil || bf.Abs(bf).Cmp(longDoubleMax) > 0 {
			c.Err(ErrTimeoutNotFloat)
			return 0, false
		}
	}
	ms := f * 1000
	// C's (long long) cast of an out-of-range value yields LLONG_MIN on
	// the machines Redis runs on: "timeout is negative".
	if ms < 0 && ms > -1 {
		ms = 0
	}
	if ms < 0 || ms >= math.MaxInt64 {
		c.Err(ErrTimeoutNegative)
		return 0, false
	}
	msi := int64(ms)
	if msi > math.MaxInt64/int64(time.Millisecond) {
		return 0, true // centuries: as good as forever
	}
	return time.Duration(msi) * time.Millisecond, true
}

// longDoubleMax is the largest x87 long double, strtold's range limit.
var longDoubleMax, _, _ = big.ParseFloat("1.18973149535723176502e4932", 10, 64, big.ToNearestEven)

// retried reports whether this run of a blocking command is a retry after
// a wake-up or a timeout (Host.Block parked it).
func (c *Ctx) retried() bool { return c.Blocked != nil || c.TimedOut }

// cmdBpop: BLPOP|BRPOP key [key ...] timeout pops from the first non-empty
// list, replying [key, element], or blocks until a push or the timeout
// (null array). The pop is journaled as LPOP/RPOP key.
func cmdBpop(c *Ctx) {
	left := c.Cmd.Name == "blpop"
	timeout, ok := parseTimeout(c, len(c.Args)-1)
	if !ok {
		return
	}
	retry := c.retried()
	for j := 1; j < len(c.Args)-1; j++ {
		key := c.Key(j)
		var l *List
		switch v := c.lookup(key).(type) {
		case nil:
			continue
		case *List:
			l = v
		default:
			if retry {
				continue // Redis 7.0 leaves a woken client blocked
			}
			c.Err(ErrWrongType)
			return
		}
		v := l.Pop(left)
		listDeleteIfEmpty(c, key, l)
		op := "rpop"
		if left {
			op = "lpop"
		}
		c.journal([]byte(op), c.Args[j])
		// Only this key changed: touch it alone rather than letting the
		// dispatcher touch every key of the command (WATCH on the others
		// must not fail). c.Dirty stays 0 because the journal entry is
		// already written.
		c.touch(key)
		c.W.WriteArray(2)
		c.W.WriteBulk(c.Args[j])
		c.W.WriteBulk(v)
		return
	}
	if c.Execing || c.TimedOut {
		c.W.WriteArray(-1)
		return
	}
	keys := make([]string, 0, len(c.Args)-2)
	for j := 1; j < len(c.Args)-1; j++ {
		keys = append(keys, c.Key(j))
	}
	c.blockOn(keys, timeout)
}

// cmdBlmove: BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout and
// BRPOPLPUSH source destination timeout are LMOVE/RPOPLPUSH that block
// while source is empty (null array on timeout, null bulk inside EXEC, as
// Redis 7.0 replies). The move is journaled as LMOVE.
func cmdBlmove(c *Ctx) {
	fromLeft, toLeft := false, true // BRPOPLPUSH
	ti := 3
	if c.Cmd.Name == "blmove" {
		var ok1, ok2 bool
		fromLeft, ok1 = parseWhere(c.Args[3])
		toLeft, ok2 = parseWhere(c.Args[4])
		if !ok1 || !ok2 {
			c.Err(ErrSyntax)
			return
		}
		ti = 5
	}
	timeout, ok := parseTimeout(c, ti)
	if !ok {
		return
	}
	src, dst := c.Key(1), c.Key(2)
	moved, replied := listMove(c, src, dst, fromLeft, toLeft, c.retried())
	if moved {
		c.journalStrings("lmove", src, dst, whereName(fromLeft), whereName(toLeft))
	}
	if replied {
		return
	}
	switch {
	case c.Execing:
		c.W.WriteNull()
		return
	case c.TimedOut:
		// Redis 7.0 answers every timed-out list pop, BLMOVE included,
		// with a null array (only 7.2 sends BLMOVE's null bulk).
		c.W.WriteArray(-1)
		return
	}
	c.blockOn([]string{src}, timeout)
}

// whereName is LEFT or RIGHT as LMOVE spells it.
func whereName(left bool) string {
	if left {
		return "left"
	}
	return "right"
}
