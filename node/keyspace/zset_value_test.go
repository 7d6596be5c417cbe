package keyspace

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"
)

// zsetModel is the naive sorted set the skiplist is checked against.
type zsetModel map[string]float64

// sorted returns the model's elements in (score, member) order.
func (m zsetModel) sorted() []zslNode {
	out := make([]zslNode, 0, len(m))
	for k, v := range m {
		out = append(out, zslNode{member: k, score: v})
	}
	sort.Slice(out, func(i, j int) bool { return zslLess(out[i].score, out[i].member, out[j].score, out[j].member) })
	return out
}

func Test_ZSet_SkiplistMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	z, m := NewZSet(), zsetModel{}
	member := func() string { return fmt.Sprintf("m%02d", rng.IntN(60)) }
	for step := 0; step < 20000; step++ {
		switch rng.IntN(4) {
		case 0, 1:
			k, s := member(), float64(rng.IntN(20))
			z.Add(k, s)
			m[k] = s
		case 2:
			k := member()
			_, had := m[k]
			delete(m, k)
			if got := z.Remove(k); got != had {
				t.Fatalf("step %d: Remove(%s) = %v, want %v", step, k, got, had)
			}
		case 3:
			k := member()
			if s, ok := m[k]; ok {
				s += float64(rng.IntN(7) - 3)
				z.Add(k, s)
				m[k] = s
			}
		}
		if step%97 != 0 {
			continue
		}
		want := m.sorted()
		var got []zslNode
		z.Range(func(k string, s float64) bool { got = append(got, zslNode{member: k, score: s}); return true })
		if z.Len() != len(want) || z.length != len(want) || len(got) != len(want) {
			t.Fatalf("step %d: len %d/%d/%d, want %d", step, z.Len(), z.length, len(got), len(want))
		}
		for i, w := range want {
			if got[i].member != w.member || got[i].score != w.score {
				t.Fatalf("step %d: Range[%d] = %v, want %v", step, i, got[i], w)
			}
			if r, ok := z.rank(w.member); !ok || r != i {
				t.Fatalf("step %d: rank(%s) = %d %v, want %d", step, w.member, r, ok, i)
			}
			if n := z.byRank(i); n == nil || n.member != w.member {
				t.Fatalf("step %d: byRank(%d) = %v, want %s", step, i, n, w.member)
			}
		}
		if len(want) > 0 && (z.first().member != want[0].member || z.last().member != want[len(want)-1].member) {
			t.Fatalf("step %d: first/last wrong", step)
		}
		lo, hi := float64(rng.IntN(20)), float64(rng.IntN(20))
		b, _ := parseScoreBounds([]byte(fmt.Sprint(lo)), []byte(fmt.Sprintf("(%v", hi)))
		n := 0
		for _, w := range want {
			if w.score >= lo && w.score < hi {
				n++
			}
		}
		if got := z.countIn(b); got != n {
			t.Fatalf("step %d: countIn [%v,%v) = %d, want %d", step, lo, hi, got, n)
		}
	}
}

func Benchmark_ZSet_AddRankRange(b *testing.B) {
	z := NewZSet()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < b.N; i++ {
		m := strconv.Itoa(rng.IntN(1 << 20))
		z.Add(m, float64(rng.IntN(1<<16)))
		if _, ok := z.rank(m); !ok {
			b.Fatal("rank lost")
		}
		z.byRank(z.Len() / 2)
	}
}
