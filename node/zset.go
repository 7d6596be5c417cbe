package node

import "sort"

// zsetValue is a Redis sorted set. This is a simple placeholder; the sorted
// set family owns its implementation. Contract used elsewhere (snapshot,
// digest): newZSet, Len, Add, Score, Remove, Range (ascending by score, then
// member).
type zsetValue struct {
	scores map[string]float64
}

func newZSet() *zsetValue { return &zsetValue{scores: make(map[string]float64)} }

// Len is the number of members.
func (z *zsetValue) Len() int { return len(z.scores) }

// Add inserts member or updates its score.
func (z *zsetValue) Add(member string, score float64) { z.scores[member] = score }

// Score returns member's score.
func (z *zsetValue) Score(member string) (float64, bool) {
	s, ok := z.scores[member]
	return s, ok
}

// Remove deletes member, reporting whether it was there.
func (z *zsetValue) Remove(member string) bool {
	_, ok := z.scores[member]
	delete(z.scores, member)
	return ok
}

// Range calls fn for members in ascending (score, member) order until fn
// returns false.
func (z *zsetValue) Range(fn func(member string, score float64) bool) {
	members := make([]string, 0, len(z.scores))
	for m := range z.scores {
		members = append(members, m)
	}
	sort.Slice(members, func(i, j int) bool {
		a, b := z.scores[members[i]], z.scores[members[j]]
		if a != b {
			return a < b
		}
		return members[i] < members[j]
	})
	for _, m := range members {
		if !fn(m, z.scores[m]) {
			return
		}
	}
}
