package keyspace

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// Test_List_Deque checks the ring buffer against a slice model under a
// random mix of operations, including growth, wrap-around and shrinking.
func Test_List_Deque(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	l := NewList()
	var model [][]byte
	for step := 0; step < 20000; step++ {
		v := []byte(fmt.Sprint(rng.IntN(10)))
		switch op := rng.IntN(10); {
		case op < 3 && step%5000 < 4000:
			l.PushBack(v)
			model = append(model, v)
		case op < 6 && step%5000 < 4000:
			l.PushFront(v)
			model = append([][]byte{v}, model...)
		case op == 6 && len(model) > 0:
			left := rng.IntN(2) == 0
			got := l.Pop(left)
			var want []byte
			if left {
				want, model = model[0], model[1:]
			} else {
				want, model = model[len(model)-1], model[:len(model)-1]
			}
			if string(got) != string(want) {
				t.Fatalf("step %d: pop %q, want %q", step, got, want)
			}
		case op == 7:
			i := rng.IntN(len(model) + 1)
			l.Insert(i, v)
			model = slices.Insert(model, i, v)
		case op == 8 && rng.IntN(20) == 0:
			fromTail := rng.IntN(2) == 0
			limit := rng.IntN(3)
			l.RemoveIf(fromTail, limit, func(e []byte) bool { return string(e) == string(v) })
			model = modelRemove(model, fromTail, limit, string(v))
		case op == 9 && rng.IntN(50) == 0 && len(model) > 0:
			a, b := rng.IntN(len(model)), rng.IntN(len(model))
			a, b = min(a, b), max(a, b)
			l.Trim(a, b, true)
			model = model[a : b+1]
		case len(model) > 0:
			i := rng.IntN(len(model))
			l.Set(i, v)
			model[i] = v
		}
		if l.Len() != len(model) {
			t.Fatalf("step %d: len %d, want %d", step, l.Len(), len(model))
		}
		if step%97 == 0 {
			var got [][]byte
			l.Range(func(e []byte) bool { got = append(got, e); return true })
			for i := range model {
				if string(got[i]) != string(model[i]) || string(l.Index(i)) != string(model[i]) {
					t.Fatalf("step %d: element %d is %q, want %q", step, i, got[i], model[i])
				}
			}
		}
	}
}

// modelRemove is RemoveIf on a slice.
func modelRemove(m [][]byte, fromTail bool, limit int, v string) [][]byte {
	out := slices.Clone(m)
	removed := 0
	if !fromTail {
		for i := 0; i < len(out); {
			if (limit == 0 || removed < limit) && string(out[i]) == v {
				out = slices.Delete(out, i, i+1)
				removed++
				continue
			}
			i++
		}
		return out
	}
	for i := len(out) - 1; i >= 0; i-- {
		if (limit == 0 || removed < limit) && string(out[i]) == v {
			out = slices.Delete(out, i, i+1)
			removed++
		}
	}
	return out
}
