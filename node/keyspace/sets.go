package keyspace

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// setHandlers binds the set commands declared in node/command.
var setHandlers = map[string]Handler{
	"smove":       cmdSmove,
	"sadd":        cmdSadd,
	"srem":        cmdSrem,
	"smembers":    cmdSmembers,
	"sismember":   cmdSismember,
	"smismember":  cmdSmismember,
	"scard":       cmdScard,
	"spop":        cmdSpop,
	"srandmember": cmdSrandmember,
	"sinter":      cmdSetAlgebra,
	"sunion":      cmdSetAlgebra,
	"sdiff":       cmdSetAlgebra,
	"sinterstore": cmdSetAlgebra,
	"sunionstore": cmdSetAlgebra,
	"sdiffstore":  cmdSetAlgebra,
	"sscan":       cmdSscan,
}

// setAt returns the set at key (nil when missing); ok is false after a
// WRONGTYPE reply.
func setAt(c *Ctx, key string) (Set, bool) {
	switch v := c.lookup(key).(type) {
	case nil:
		return nil, true
	case Set:
		return v, true
	}
	c.Err(ErrWrongType)
	return nil, false
}

// cmdSadd: SADD key member [member ...] replies the number added.
func cmdSadd(c *Ctx) {
	key := c.Key(1)
	s, ok := setAt(c, key)
	if !ok {
		return
	}
	if s == nil {
		s = make(Set, len(c.Args)-2)
		c.DB.Set(key, s)
	}
	added := 0
	for _, m := range c.Args[2:] {
		if _, exists := s[string(m)]; !exists {
			s[string(m)] = struct{}{}
			added++
		}
	}
	if added > 0 {
		c.Dirty++
	}
	c.W.WriteInt(added)
}

// removeMembers deletes members from the set at key, deleting the key when
// it empties, and returns how many were there.
func removeMembers(c *Ctx, key string, s Set, members [][]byte) int {
	removed := 0
	for _, m := range members {
		if _, exists := s[string(m)]; exists {
			delete(s, string(m))
			removed++
		}
	}
	if removed > 0 {
		c.Dirty++
		if len(s) == 0 {
			c.DB.remove(key)
		}
	}
	return removed
}

// cmdSrem: SREM key member [member ...].
func cmdSrem(c *Ctx) {
	s, ok := setAt(c, c.Key(1))
	if !ok {
		return
	}
	c.W.WriteInt(removeMembers(c, c.Key(1), s, c.Args[2:]))
}

// writeSet replies a set's members (an intset's in Redis' sorted order).
func writeSet(c *Ctx, s Set) {
	c.W.WriteArray(len(s))
	if ints := intsetMembers(s); ints != nil {
		for _, m := range ints {
			c.W.WriteBulkString(m)
		}
		return
	}
	for m := range s {
		c.W.WriteBulkString(m)
	}
}

// cmdSmembers: SMEMBERS key.
func cmdSmembers(c *Ctx) {
	if s, ok := setAt(c, c.Key(1)); ok {
		writeSet(c, s)
	}
}

// cmdSismember: SISMEMBER key member.
func cmdSismember(c *Ctx) {
	s, ok := setAt(c, c.Key(1))
	if !ok {
		return
	}
	if _, exists := s[string(c.Args[2])]; exists {
		c.W.WriteInt(1)
		return
	}
	c.W.WriteInt(0)
}

// cmdSmismember: SMISMEMBER key member [member ...].
func cmdSmismember(c *Ctx) {
	s, ok := setAt(c, c.Key(1))
	if !ok {
		return
	}
	c.W.WriteArray(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		if _, exists := s[string(m)]; exists {
			c.W.WriteInt(1)
		} else {
			c.W.WriteInt(0)
		}
	}
}

// cmdScard: SCARD key.
func cmdScard(c *Ctx) {
	if s, ok := setAt(c, c.Key(1)); ok {
		c.W.WriteInt(len(s))
	}
}

// sampleMembers returns n distinct members of s chosen at random (all of
// them when n >= len(s)).
func sampleMembers(s Set, n int) []string {
	if n*4 < len(s) {
		// Few of many: Go starts every map iteration at a random place,
		// which picks members in O(n) instead of copying the whole set
		// (emptying a large set by SPOP would otherwise be quadratic).
		// Like Redis' own sampling, this is random but not uniform.
		out := make([]string, 0, n)
		for m := range s {
			if len(out) == n {
				break
			}
			out = append(out, m)
		}
		return out
	}
	all := make([]string, 0, len(s))
	for m := range s {
		all = append(all, m)
	}
	if n >= len(all) {
		return all
	}
	for i := 0; i < n; i++ {
		j := i + rand.IntN(len(all)-i)
		all[i], all[j] = all[j], all[i]
	}
	return all[:n]
}

// setCount parses the optional count of SPOP and SRANDMEMBER, replying
// Redis' errors: SPOP wants a non-negative count (any parse failure is
// "must be positive"), SRANDMEMBER any integer but LLONG_MIN.
func setCount(c *Ctx, spop bool) (n int64, given, ok bool) {
	if len(c.Args) == 2 {
		return 1, false, true
	}
	if len(c.Args) > 3 {
		c.Err(ErrSyntax)
		return 0, true, false
	}
	n, ok = ParseInt(c.Args[2])
	switch {
	case spop && (!ok || n < 0):
		c.Err(ErrOutOfRangeZero)
		return 0, true, false
	case !ok:
		c.Err(ErrNotInteger)
		return 0, true, false
	case n == math.MinInt64:
		c.Err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return 0, true, false
	}
	return n, true, true
}

// cmdSpop: SPOP key [count] removes random members. The choice is random,
// so the effect is journaled as SREM of the chosen members.
func cmdSpop(c *Ctx) {
	n, given, ok := setCount(c, true)
	if !ok {
		return
	}
	key := c.Key(1)
	s, ok := setAt(c, key)
	if !ok {
		return
	}
	if s == nil {
		if given {
			c.W.WriteArray(0)
		} else {
			c.W.WriteNull()
		}
		return
	}
	picked := sampleMembers(s, int(min(n, int64(len(s)))))
	entry := [][]byte{[]byte("srem"), []byte(key)}
	members := make([][]byte, len(picked))
	for i, m := range picked {
		members[i] = []byte(m)
	}
	entry = append(entry, members...)
	if len(picked) > 0 {
		removeMembers(c, key, s, members)
		c.journal(entry...)
	}
	if !given {
		c.W.WriteBulkString(picked[0])
		return
	}
	c.W.WriteArray(len(picked))
	for _, m := range picked {
		c.W.WriteBulkString(m)
	}
}

// srandMaxRepeats bounds SRANDMEMBER's negative count (the reply's size).
const srandMaxRepeats = 1 << 24

// cmdSrandmember: SRANDMEMBER key [count]: a positive count gives distinct
// members, a negative one allows repeats.
func cmdSrandmember(c *Ctx) {
	n, given, ok := setCount(c, false)
	if !ok {
		return
	}
	s, ok := setAt(c, c.Key(1))
	if !ok {
		return
	}
	switch {
	case s == nil && given:
		c.W.WriteArray(0)
	case s == nil:
		c.W.WriteNull()
	case !given:
		c.W.WriteBulkString(sampleMembers(s, 1)[0])
	case n >= 0:
		picked := sampleMembers(s, int(min(n, int64(len(s)))))
		c.W.WriteArray(len(picked))
		for _, m := range picked {
			c.W.WriteBulkString(m)
		}
	default:
		if n < -srandMaxRepeats {
			// Redis would build the whole reply; Baton refuses rather
			// than stall every client behind the keyspace lock.
			c.Err("ERR value is out of range, value must between -" + Itoa(srandMaxRepeats) + " and 9223372036854775807")
			return
		}
		all := sampleMembers(s, len(s))
		c.W.WriteArray(int(-n))
		for i := int64(0); i < -n; i++ {
			c.W.WriteBulkString(all[rand.IntN(len(all))])
		}
	}
}

// cmdSetAlgebra: SINTER, SUNION, SDIFF and their STORE forms. The STORE
// forms replace destination (whatever its type) with the result, delete it
// when the result is empty, and reply the result's size.
func cmdSetAlgebra(c *Ctx) {
	name := lowerName(c.Args[0])
	store := len(name) > 5 && name[len(name)-5:] == "store"
	first := 1
	if store {
		first = 2
	}
	sets := make([]Set, 0, len(c.Args)-first)
	for _, k := range c.Args[first:] {
		s, ok := setAt(c, string(k))
		if !ok {
			return
		}
		sets = append(sets, s)
	}
	var result Set
	switch name[:5] {
	case "sinte":
		result = setIntersect(sets)
	case "sunio":
		result = setUnion(sets)
	default:
		result = setDiff(sets)
	}
	if !store {
		writeSet(c, result)
		return
	}
	dst := c.Key(1)
	changed := true
	if len(result) == 0 {
		changed = c.DB.remove(dst)
	} else {
		c.DB.Set(dst, result)
		c.DB.Persist(dst)
	}
	if changed {
		// Only the destination changed: journal the command as sent and
		// touch dst alone rather than letting the dispatcher touch the
		// source keys too (a WATCH on a source must not fail, as in
		// Redis). c.Dirty stays 0 because the entry is already written.
		entry := append([][]byte{[]byte(c.Cmd.Name)}, c.Args[1:]...)
		c.journal(entry...)
		c.touch(dst)
	}
	c.W.WriteInt(len(result))
}

// setIntersect returns the members in every set (a missing set is empty).
func setIntersect(sets []Set) Set {
	out := make(Set)
	smallest := sets[0]
	for _, s := range sets {
		if len(s) < len(smallest) {
			smallest = s
		}
	}
next:
	for m := range smallest {
		for _, s := range sets {
			if _, ok := s[m]; !ok {
				continue next
			}
		}
		out[m] = struct{}{}
	}
	return out
}

// setUnion returns the members in any set.
func setUnion(sets []Set) Set {
	out := make(Set)
	for _, s := range sets {
		for m := range s {
			out[m] = struct{}{}
		}
	}
	return out
}

// setDiff returns the members of the first set in none of the others.
func setDiff(sets []Set) Set {
	out := make(Set)
next:
	for m := range sets[0] {
		for _, s := range sets[1:] {
			if _, ok := s[m]; ok {
				continue next
			}
		}
		out[m] = struct{}{}
	}
	return out
}

// cmdSmove: SMOVE source destination member. Like Redis, a missing source
// replies 0 before the destination's type is checked.
func cmdSmove(c *Ctx) {
	srcKey, dstKey, m := c.Key(1), c.Key(2), string(c.Args[3])
	if c.lookup(srcKey) == nil {
		c.W.WriteInt(0)
		return
	}
	src, ok := setAt(c, srcKey)
	if !ok {
		return
	}
	dst, ok := setAt(c, dstKey)
	if !ok {
		return
	}
	if _, exists := src[m]; !exists {
		c.W.WriteInt(0)
		return
	}
	if srcKey == dstKey {
		c.W.WriteInt(1)
		return
	}
	removeMembers(c, srcKey, src, c.Args[3:4])
	if dst == nil {
		dst = make(Set)
		c.DB.Set(dstKey, dst)
	}
	dst[m] = struct{}{}
	c.W.WriteInt(1)
}

// cmdSscan: SSCAN key cursor [MATCH pattern] [COUNT count].
func cmdSscan(c *Ctx) {
	v, sc, ok := scanCollection(c, "set")
	if !ok {
		return
	}
	s := v.(Set)
	if ints := intsetMembers(s); ints != nil {
		sc.reply(c, true, len(s), func(yield func(string)) {
			for _, m := range ints {
				yield(m)
			}
		}, nil)
		return
	}
	sc.reply(c, false, len(s), func(yield func(string)) {
		for m := range s {
			yield(m)
		}
	}, nil)
}

// setMaxIntsetEntries is Redis 7.0's set-max-intset-entries.
const setMaxIntsetEntries = 512

// intsetMembers returns s's members in ascending numeric order when Redis
// 7.0 would keep s as an intset (at most 512 members, all integers), and
// nil otherwise. Redis replies such sets in that order (SMEMBERS, SSCAN in
// one step); any other set is a hash table with no order.
func intsetMembers(s Set) []string {
	if len(s) == 0 || len(s) > setMaxIntsetEntries {
		return nil
	}
	type num struct {
		v int64
		m string
	}
	nums := make([]num, 0, len(s))
	for m := range s {
		v, ok := ParseInt([]byte(m))
		if !ok {
			return nil
		}
		nums = append(nums, num{v, m})
	}
	slices.SortFunc(nums, func(a, b num) int { return cmp.Compare(a.v, b.v) })
	out := make([]string, len(nums))
	for i, n := range nums {
		out[i] = n.m
	}
	return out
}
