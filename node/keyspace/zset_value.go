package keyspace

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// ZSet is a Redis sorted set: a map from member to score for O(1)
// lookups plus a skiplist with spans ordered by (score, member) for O(log n)
// rank, range and positional access, the same pair of structures Redis uses.
// Contract used elsewhere (snapshot, digest): newZSet, Len, Add, Score,
// Remove, Range (ascending by score, then member).
type ZSet struct {
	dict   map[string]float64
	header *zslNode
	tail   *zslNode
	level  int
	length int // skiplist elements
}

// zslMaxLevel bounds node heights; with p = 1/4 it covers 2^64 elements.
const zslMaxLevel = 32

// zslNode is one skiplist element. level[i].span counts how many level-0
// steps the forward pointer at level i skips.
type zslNode struct {
	member   string
	score    float64
	backward *zslNode
	level    []zslLevel
}

type zslLevel struct {
	forward *zslNode
	span    int
}

// newZSet returns an empty sorted set.
func NewZSet() *ZSet {
	return &ZSet{
		dict:   make(map[string]float64),
		header: &zslNode{level: make([]zslLevel, zslMaxLevel)},
		level:  1,
	}
}

// Len is the number of members.
func (z *ZSet) Len() int { return len(z.dict) }

// Add inserts member or updates its score. A score of -0 is stored as 0,
// as Redis' compact encoding does.
func (z *ZSet) Add(member string, score float64) {
	if score == 0 {
		score = 0
	}
	if cur, ok := z.dict[member]; ok {
		if cur != score {
			z.updateScore(member, cur, score)
			z.dict[member] = score
		}
		return
	}
	z.dict[member] = score
	z.insert(member, score)
}

// Score returns member's score.
func (z *ZSet) Score(member string) (float64, bool) {
	s, ok := z.dict[member]
	return s, ok
}

// Remove deletes member, reporting whether it was there.
func (z *ZSet) Remove(member string) bool {
	score, ok := z.dict[member]
	if !ok {
		return false
	}
	delete(z.dict, member)
	z.delete(member, score)
	return true
}

// Range calls fn for members in ascending (score, member) order until fn
// returns false.
func (z *ZSet) Range(fn func(member string, score float64) bool) {
	for x := z.header.level[0].forward; x != nil; x = x.level[0].forward {
		if !fn(x.member, x.score) {
			return
		}
	}
}

// first returns the lowest element, or nil when empty.
func (z *ZSet) first() *zslNode { return z.header.level[0].forward }

// last returns the highest element, or nil when empty.
func (z *ZSet) last() *zslNode { return z.tail }

// zslLess orders elements by score, then member bytes.
func zslLess(s1 float64, m1 string, s2 float64, m2 string) bool {
	return s1 < s2 || (s1 == s2 && m1 < m2)
}

// randomLevel picks a node height with P(level > k) = 4^-k.
func randomLevel() int {
	lvl := 1
	for lvl < zslMaxLevel && rand.Uint32()&3 == 0 {
		lvl++
	}
	return lvl
}

// insert adds a new element; member must not be present.
func (z *ZSet) insert(member string, score float64) *zslNode {
	var update [zslMaxLevel]*zslNode
	var rank [zslMaxLevel]int
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		if i < z.level-1 {
			rank[i] = rank[i+1]
		}
		for f := x.level[i].forward; f != nil && zslLess(f.score, f.member, score, member); f = x.level[i].forward {
			rank[i] += x.level[i].span
			x = f
		}
		update[i] = x
	}
	lvl := randomLevel()
	if lvl > z.level {
		for i := z.level; i < lvl; i++ {
			rank[i] = 0
			update[i] = z.header
			update[i].level[i].span = z.length
		}
		z.level = lvl
	}
	n := &zslNode{member: member, score: score, level: make([]zslLevel, lvl)}
	for i := 0; i < lvl; i++ {
		n.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = n
		n.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := lvl; i < z.level; i++ {
		update[i].level[i].span++
	}
	if update[0] != z.header {
		n.backward = update[0]
	}
	if n.level[0].forward != nil {
		n.level[0].forward.backward = n
	} else {
		z.tail = n
	}
	z.length++
	return n
}

// findUpdate fills update with the rightmost node before (score, member)
// on every level and returns the first node at or after it (nil at the
// end): the search path both delete and updateScore start from.
func (z *ZSet) findUpdate(score float64, member string, update *[zslMaxLevel]*zslNode) *zslNode {
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && zslLess(f.score, f.member, score, member); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	return x.level[0].forward
}

// delete unlinks the element (score, member) from the skiplist.
func (z *ZSet) delete(member string, score float64) {
	var update [zslMaxLevel]*zslNode
	x := z.findUpdate(score, member, &update)
	if x == nil || x.score != score || x.member != member {
		return
	}
	z.unlink(x, &update)
}

// unlink removes x given the rightmost node before it on every level.
func (z *ZSet) unlink(x *zslNode, update *[zslMaxLevel]*zslNode) {
	for i := 0; i < z.level; i++ {
		if update[i].level[i].forward == x {
			update[i].level[i].span += x.level[i].span - 1
			update[i].level[i].forward = x.level[i].forward
		} else {
			update[i].level[i].span--
		}
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x.backward
	} else {
		z.tail = x.backward
	}
	for z.level > 1 && z.header.level[z.level-1].forward == nil {
		z.level--
	}
	z.length--
}

// updateScore moves member from score cur to score; it updates in place
// when the order does not change.
func (z *ZSet) updateScore(member string, cur, score float64) {
	var update [zslMaxLevel]*zslNode
	x := z.findUpdate(cur, member, &update)
	if (x.backward == nil || zslLess(x.backward.score, x.backward.member, score, member)) &&
		(x.level[0].forward == nil || zslLess(score, member, x.level[0].forward.score, x.level[0].forward.member)) {
		x.score = score
		return
	}
	z.unlink(x, &update)
	z.insert(member, score)
}

// rank returns the 0-based ascending rank of member, or false.
func (z *ZSet) rank(member string) (int, bool) {
	score, ok := z.dict[member]
	if !ok {
		return 0, false
	}
	r := 0
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && !zslLess(score, member, f.score, f.member); f = x.level[i].forward {
			r += x.level[i].span
			x = f
		}
		if x != z.header && x.member == member {
			return r - 1, true
		}
	}
	return 0, false
}

// byRank returns the element at 0-based ascending rank r, or nil.
func (z *ZSet) byRank(r int) *zslNode {
	if r < 0 || r >= z.length {
		return nil
	}
	want := r + 1
	traversed := 0
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= want {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		if traversed == want {
			return x
		}
	}
	return nil
}

// zbounds is a score or lex range: aboveMin and belowMax tell whether an
// element satisfies each end; empty is set when no element can match.
type zbounds struct {
	aboveMin func(n *zslNode) bool
	belowMax func(n *zslNode) bool
	empty    bool
}

// firstIn returns the lowest element in b and its 0-based rank, or nil.
func (z *ZSet) firstIn(b zbounds) (*zslNode, int) {
	if b.empty {
		return nil, 0
	}
	r := 0
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && !b.aboveMin(f); f = x.level[i].forward {
			r += x.level[i].span
			x = f
		}
	}
	x = x.level[0].forward
	if x == nil || !b.belowMax(x) {
		return nil, 0
	}
	return x, r
}

// lastIn returns the highest element in b and its 0-based rank, or nil.
func (z *ZSet) lastIn(b zbounds) (*zslNode, int) {
	if b.empty {
		return nil, 0
	}
	r := 0
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && b.belowMax(f); f = x.level[i].forward {
			r += x.level[i].span
			x = f
		}
	}
	if x == z.header || !b.aboveMin(x) {
		return nil, 0
	}
	return x, r - 1
}

// countIn returns how many elements lie in b.
func (z *ZSet) countIn(b zbounds) int {
	f, lo := z.firstIn(b)
	if f == nil {
		return 0
	}
	_, hi := z.lastIn(b)
	return hi - lo + 1
}

// parseScore parses a score argument like Redis' getDoubleFromObject
// (strtod over the whole string): no leading space, no NaN, no overflow or
// underflow to zero; hexadecimal and inf forms are accepted.
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || isCSpace(b[0]) {
		return 0, false
	}
	f, err := strtodFull(string(b))
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// parseRangeScore parses one end of a score range like Redis' zslParseRange
// (plain strtod): leading spaces and the empty string (0) are accepted,
// out-of-range values saturate, only NaN and trailing garbage fail.
func parseRangeScore(b []byte) (float64, bool) {
	s := strings.TrimLeft(string(b), " \t\n\v\f\r")
	if s == "" {
		return 0, len(b) == 0
	}
	f, err := strtodFull(s)
	if err != nil && !errors.Is(err, errStrtodRange) {
		return 0, false
	}
	return f, !math.IsNaN(f)
}

var (
	errStrtodSyntax = errors.New("not a float")
	errStrtodRange  = errors.New("float out of range")
)

// strtodFull converts s as C's strtod would when it must consume all of
// s. Overflow and underflow to zero return errStrtodRange with ±Inf or 0.
func strtodFull(s string) (float64, error) {
	if strings.ContainsRune(s, '_') {
		return 0, errStrtodSyntax
	}
	body := s
	if body != "" && (body[0] == '+' || body[0] == '-') {
		body = body[1:]
	}
	hex := len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')
	if hex && !strings.ContainsAny(body, "pP") {
		s += "p0"
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && errors.Is(ne.Err, strconv.ErrRange) {
			return f, errStrtodRange
		}
		return 0, errStrtodSyntax
	}
	if f == 0 && mantissaNonZero(body, hex) {
		return 0, errStrtodRange
	}
	return f, nil
}

// mantissaNonZero reports whether a float literal has a non-zero digit
// before its exponent (so a zero result is an underflow).
func mantissaNonZero(body string, hex bool) bool {
	if hex {
		body = body[2:]
	}
	for i := 0; i < len(body); i++ {
		ch := body[i]
		switch {
		case hex && (ch == 'p' || ch == 'P'):
			return false
		case !hex && (ch == 'e' || ch == 'E'):
			return false
		case ch >= '1' && ch <= '9':
			return true
		case hex && ((ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')):
			return true
		}
	}
	return false
}

// isCSpace is C's isspace.
func isCSpace(ch byte) bool {
	return ch == ' ' || (ch >= '\t' && ch <= '\r')
}

// parseScoreBounds parses a score range's min and max ("(" for exclusive,
// -inf/+inf for unbounded).
func parseScoreBounds(minArg, maxArg []byte) (zbounds, bool) {
	min, minex, ok1 := parseScoreEnd(minArg)
	max, maxex, ok2 := parseScoreEnd(maxArg)
	if !ok1 || !ok2 {
		return zbounds{}, false
	}
	return zbounds{
		aboveMin: func(n *zslNode) bool {
			if minex {
				return n.score > min
			}
			return n.score >= min
		},
		belowMax: func(n *zslNode) bool {
			if maxex {
				return n.score < max
			}
			return n.score <= max
		},
		empty: min > max || (min == max && (minex || maxex)),
	}, true
}

// parseScoreEnd parses one end of a score range.
func parseScoreEnd(b []byte) (f float64, ex, ok bool) {
	if len(b) > 0 && b[0] == '(' {
		f, ok = parseRangeScore(b[1:])
		return f, true, ok
	}
	f, ok = parseRangeScore(b)
	return f, false, ok
}

// lexEnd is one end of a lex range: inf is -1 for "-", +1 for "+".
type lexEnd struct {
	s   string
	inf int
	ex  bool
}

// parseLexEnd parses "-", "+", "(value" or "[value".
func parseLexEnd(b []byte) (lexEnd, bool) {
	if len(b) == 0 {
		return lexEnd{}, false
	}
	switch b[0] {
	case '-', '+':
		if len(b) != 1 {
			return lexEnd{}, false
		}
		if b[0] == '-' {
			return lexEnd{inf: -1, ex: true}, true
		}
		return lexEnd{inf: 1, ex: true}, true
	case '(':
		return lexEnd{s: string(b[1:]), ex: true}, true
	case '[':
		return lexEnd{s: string(b[1:])}, true
	}
	return lexEnd{}, false
}

// cmpLexEnd compares a member (or another end) with a lex range end.
func cmpLexEnd(a, b lexEnd) int {
	if a.inf == b.inf && a.inf != 0 {
		return 0
	}
	if a.inf != 0 || b.inf != 0 {
		if a.inf < b.inf {
			return -1
		}
		return 1
	}
	return strings.Compare(a.s, b.s)
}

// parseLexBounds parses a lex range's min and max.
func parseLexBounds(minArg, maxArg []byte) (zbounds, bool) {
	min, ok1 := parseLexEnd(minArg)
	max, ok2 := parseLexEnd(maxArg)
	if !ok1 || !ok2 {
		return zbounds{}, false
	}
	cmp := cmpLexEnd(min, max)
	return zbounds{
		aboveMin: func(n *zslNode) bool {
			d := cmpLexEnd(lexEnd{s: n.member}, min)
			return d > 0 || (d == 0 && !min.ex)
		},
		belowMax: func(n *zslNode) bool {
			d := cmpLexEnd(lexEnd{s: n.member}, max)
			return d < 0 || (d == 0 && !max.ex)
		},
		empty: cmp > 0 || (cmp == 0 && (min.ex || max.ex)),
	}, true
}
