package node

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

func init() {
	k1 := func(name string, arity int, flags Flags, fn func(*Ctx)) *Command {
		return &Command{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, fn: fn}
	}
	kAll := func(name string, arity int, flags Flags, fn func(*Ctx)) *Command {
		return &Command{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: -1, Step: 1, fn: fn}
	}
	register(
		k1("sadd", -3, FlagWrite|FlagFast, cmdSadd),
		k1("srem", -3, FlagWrite|FlagFast, cmdSrem),
		k1("smembers", 2, FlagReadonly, cmdSmembers),
		k1("sismember", 3, FlagReadonly|FlagFast, cmdSismember),
		k1("smismember", -3, FlagReadonly|FlagFast, cmdSmismember),
		k1("scard", 2, FlagReadonly|FlagFast, cmdScard),
		k1("spop", -2, FlagWrite|FlagFast, cmdSpop),
		k1("srandmember", -2, FlagReadonly, cmdSrandmember),
		kAll("sinter", -2, FlagReadonly, cmdSetAlgebra),
		kAll("sunion", -2, FlagReadonly, cmdSetAlgebra),
		kAll("sdiff", -2, FlagReadonly, cmdSetAlgebra),
		kAll("sinterstore", -3, FlagWrite, cmdSetAlgebra),
		kAll("sunionstore", -3, FlagWrite, cmdSetAlgebra),
		kAll("sdiffstore", -3, FlagWrite, cmdSetAlgebra),
		&Command{Name: "smove", Arity: 4, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 2, Step: 1, fn: cmdSmove},
		k1("sscan", -3, FlagReadonly, cmdSscan),
	)
}

// setAt returns the set at key (nil when missing); ok is false after a
// WRONGTYPE reply.
func setAt(c *Ctx, key string) (setValue, bool) {
	switch v := c.lookup(key).(type) {
	case nil:
		return nil, true
	case setValue:
		return v, true
	}
	c.err(errWrongType)
	return nil, false
}

// cmdSadd: SADD key member [member ...] replies the number added.
func cmdSadd(c *Ctx) {
	key := c.key(1)
	s, ok := setAt(c, key)
	if !ok {
		return
	}
	if s == nil {
		s = make(setValue, len(c.args)-2)
		c.db.set(key, s)
	}
	added := 0
	for _, m := range c.args[2:] {
		if _, exists := s[string(m)]; !exists {
			s[string(m)] = struct{}{}
			added++
		}
	}
	if added > 0 {
		c.dirty++
	}
	c.w.WriteInt(added)
}

// removeMembers deletes members from the set at key, deleting the key when
// it empties, and returns how many were there.
func removeMembers(c *Ctx, key string, s setValue, members [][]byte) int {
	removed := 0
	for _, m := range members {
		if _, exists := s[string(m)]; exists {
			delete(s, string(m))
			removed++
		}
	}
	if removed > 0 {
		c.dirty++
		if len(s) == 0 {
			c.db.remove(key)
		}
	}
	return removed
}

// cmdSrem: SREM key member [member ...].
func cmdSrem(c *Ctx) {
	s, ok := setAt(c, c.key(1))
	if !ok {
		return
	}
	c.w.WriteInt(removeMembers(c, c.key(1), s, c.args[2:]))
}

// writeSet replies a set's members (an intset's in Redis' sorted order).
func writeSet(c *Ctx, s setValue) {
	c.w.WriteArray(len(s))
	if ints := intsetMembers(s); ints != nil {
		for _, m := range ints {
			c.w.WriteBulkString(m)
		}
		return
	}
	for m := range s {
		c.w.WriteBulkString(m)
	}
}

// cmdSmembers: SMEMBERS key.
func cmdSmembers(c *Ctx) {
	if s, ok := setAt(c, c.key(1)); ok {
		writeSet(c, s)
	}
}

// cmdSismember: SISMEMBER key member.
func cmdSismember(c *Ctx) {
	s, ok := setAt(c, c.key(1))
	if !ok {
		return
	}
	if _, exists := s[string(c.args[2])]; exists {
		c.w.WriteInt(1)
		return
	}
	c.w.WriteInt(0)
}

// cmdSmismember: SMISMEMBER key member [member ...].
func cmdSmismember(c *Ctx) {
	s, ok := setAt(c, c.key(1))
	if !ok {
		return
	}
	c.w.WriteArray(len(c.args) - 2)
	for _, m := range c.args[2:] {
		if _, exists := s[string(m)]; exists {
			c.w.WriteInt(1)
		} else {
			c.w.WriteInt(0)
		}
	}
}

// cmdScard: SCARD key.
func cmdScard(c *Ctx) {
	if s, ok := setAt(c, c.key(1)); ok {
		c.w.WriteInt(len(s))
	}
}

// sampleMembers returns n distinct members of s chosen at random (all of
// them when n >= len(s)).
func sampleMembers(s setValue, n int) []string {
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
	if len(c.args) == 2 {
		return 1, false, true
	}
	if len(c.args) > 3 {
		c.err(errSyntax)
		return 0, true, false
	}
	n, ok = parseInt(c.args[2])
	switch {
	case spop && (!ok || n < 0):
		c.err(errOutOfRangeZero)
		return 0, true, false
	case !ok:
		c.err(errNotInteger)
		return 0, true, false
	case n == math.MinInt64:
		c.err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
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
	key := c.key(1)
	s, ok := setAt(c, key)
	if !ok {
		return
	}
	if s == nil {
		if given {
			c.w.WriteArray(0)
		} else {
			c.w.WriteNull()
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
		c.w.WriteBulkString(picked[0])
		return
	}
	c.w.WriteArray(len(picked))
	for _, m := range picked {
		c.w.WriteBulkString(m)
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
	s, ok := setAt(c, c.key(1))
	if !ok {
		return
	}
	switch {
	case s == nil && given:
		c.w.WriteArray(0)
	case s == nil:
		c.w.WriteNull()
	case !given:
		c.w.WriteBulkString(sampleMembers(s, 1)[0])
	case n >= 0:
		picked := sampleMembers(s, int(min(n, int64(len(s)))))
		c.w.WriteArray(len(picked))
		for _, m := range picked {
			c.w.WriteBulkString(m)
		}
	default:
		if n < -srandMaxRepeats {
			// Redis would build the whole reply; Baton refuses rather
			// than stall every client behind the keyspace lock.
			c.err("ERR value is out of range, value must between -" + itoa(srandMaxRepeats) + " and 9223372036854775807")
			return
		}
		all := sampleMembers(s, len(s))
		c.w.WriteArray(int(-n))
		for i := int64(0); i < -n; i++ {
			c.w.WriteBulkString(all[rand.IntN(len(all))])
		}
	}
}

// cmdSetAlgebra: SINTER, SUNION, SDIFF and their STORE forms. The STORE
// forms replace destination (whatever its type) with the result, delete it
// when the result is empty, and reply the result's size.
func cmdSetAlgebra(c *Ctx) {
	name := lowerName(c.args[0])
	store := len(name) > 5 && name[len(name)-5:] == "store"
	first := 1
	if store {
		first = 2
	}
	sets := make([]setValue, 0, len(c.args)-first)
	for _, k := range c.args[first:] {
		s, ok := setAt(c, string(k))
		if !ok {
			return
		}
		sets = append(sets, s)
	}
	var result setValue
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
	dst := c.key(1)
	changed := true
	if len(result) == 0 {
		changed = c.db.remove(dst)
	} else {
		c.db.set(dst, result)
		c.db.persist(dst)
	}
	if changed {
		// Only the destination changed: journal the command as sent and
		// touch dst alone rather than letting the dispatcher touch the
		// source keys too (a WATCH on a source must not fail, as in
		// Redis). c.dirty stays 0 because the entry is already written.
		entry := append([][]byte{[]byte(c.cmd.Name)}, c.args[1:]...)
		c.journal(entry...)
		c.touch(dst)
	}
	c.w.WriteInt(len(result))
}

// setIntersect returns the members in every set (a missing set is empty).
func setIntersect(sets []setValue) setValue {
	out := make(setValue)
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
func setUnion(sets []setValue) setValue {
	out := make(setValue)
	for _, s := range sets {
		for m := range s {
			out[m] = struct{}{}
		}
	}
	return out
}

// setDiff returns the members of the first set in none of the others.
func setDiff(sets []setValue) setValue {
	out := make(setValue)
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
	srcKey, dstKey, m := c.key(1), c.key(2), string(c.args[3])
	if c.lookup(srcKey) == nil {
		c.w.WriteInt(0)
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
		c.w.WriteInt(0)
		return
	}
	if srcKey == dstKey {
		c.w.WriteInt(1)
		return
	}
	removeMembers(c, srcKey, src, c.args[3:4])
	if dst == nil {
		dst = make(setValue)
		c.db.set(dstKey, dst)
	}
	dst[m] = struct{}{}
	c.w.WriteInt(1)
}

// cmdSscan: SSCAN key cursor [MATCH pattern] [COUNT count].
func cmdSscan(c *Ctx) {
	v, sc, ok := scanCollection(c, "set")
	if !ok {
		return
	}
	s := v.(setValue)
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
func intsetMembers(s setValue) []string {
	if len(s) == 0 || len(s) > setMaxIntsetEntries {
		return nil
	}
	type num struct {
		v int64
		m string
	}
	nums := make([]num, 0, len(s))
	for m := range s {
		v, ok := parseInt([]byte(m))
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
