package command

import (
	"slices"
	"testing"
)

// Test_Lookup_CaseInsensitiveWithoutAllocating checks lookup by name in any
// case, and that it allocates nothing for names that fit its buffer.
func Test_Lookup_CaseInsensitiveWithoutAllocating(t *testing.T) {
	for _, name := range []string{"get", "GET", "GeT", "baton.psync", "ZREVRANGEBYSCORE"} {
		if cmd := Lookup([]byte(name)); cmd == nil || !eqLower(cmd.Name, name) {
			t.Errorf("Lookup(%q) = %v", name, cmd)
		}
	}
	if cmd := Lookup([]byte("nosuchcommand")); cmd != nil {
		t.Errorf("Lookup(nosuchcommand) = %v", cmd.Name)
	}
	upper := []byte("HINCRBYFLOAT")
	if n := testing.AllocsPerRun(100, func() { Lookup(upper) }); n != 0 {
		t.Errorf("Lookup allocates %v times", n)
	}
}

// eqLower reports whether lower is s lower-cased.
func eqLower(lower, s string) bool {
	if len(lower) != len(s) {
		return false
	}
	for i := range s {
		ch := s[i]
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != lower[i] {
			return false
		}
	}
	return true
}

// Test_List_IndexesAreStable checks that List and Index agree and that
// ByName holds the same commands.
func Test_List_IndexesAreStable(t *testing.T) {
	if len(List()) != len(ByName()) {
		t.Fatalf("%d commands listed, %d by name", len(List()), len(ByName()))
	}
	for i, cmd := range List() {
		if cmd.Index() != i || ByName()[cmd.Name] != cmd || string(cmd.NameBytes()) != cmd.Name {
			t.Errorf("command %q: index %d at %d", cmd.Name, cmd.Index(), i)
		}
	}
}

// Test_KeyIndexes_AndArity checks key positions and arity of a few command
// shapes.
func Test_KeyIndexes_AndArity(t *testing.T) {
	args := func(s ...string) [][]byte {
		b := make([][]byte, len(s))
		for i, a := range s {
			b[i] = []byte(a)
		}
		return b
	}
	cases := []struct {
		name string
		args [][]byte
		keys []int
	}{
		{"get", args("get", "k"), []int{1}},
		{"mset", args("mset", "a", "1", "b", "2"), []int{1, 3}},
		{"blpop", args("blpop", "a", "b", "0"), []int{1, 2}},
		{"rename", args("rename", "a", "b"), []int{1, 2}},
		{"ping", args("ping"), nil},
	}
	for _, tc := range cases {
		cmd := ByName()[tc.name]
		if got := cmd.KeyIndexes(tc.args); !slices.Equal(got, tc.keys) {
			t.Errorf("%s KeyIndexes = %v, want %v", tc.name, got, tc.keys)
		}
		if !cmd.ArityOK(len(tc.args)) {
			t.Errorf("%s: arity %d refuses %d arguments", tc.name, cmd.Arity, len(tc.args))
		}
	}
	if ByName()["get"].ArityOK(3) || !ByName()["set"].ArityOK(5) || ByName()["set"].ArityOK(2) {
		t.Error("arity checks wrong")
	}
}
