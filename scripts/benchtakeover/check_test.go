package main

import (
	"strings"
	"testing"
	"time"
)

func Test_CheckList(t *testing.T) {
	cases := []struct {
		name  string
		list  []string
		acked []int64
		want  string // "" or a substring of the complaint
	}{
		{"all acknowledged, in order", []string{"0", "1", "2"}, []int64{0, 1, 2}, ""},
		// 1 failed ambiguously and was not applied; 3 failed and was.
		{"ambiguous appends may be missing or present", []string{"0", "2", "3"}, []int64{0, 2}, ""},
		{"lost acknowledged append", []string{"0", "2"}, []int64{0, 1, 2}, "1 acknowledged appends missing (first: 1)"},
		{"duplicated append", []string{"0", "1", "1"}, []int64{0, 1}, "duplicated or reordered"},
		{"reordered appends", []string{"1", "0"}, []int64{0, 1}, "duplicated or reordered"},
		{"foreign element", []string{"0", "x"}, []int64{0}, "not a sequence number"},
		{"empty list, nothing acknowledged", nil, nil, ""},
	}
	for _, c := range cases {
		got := checkList(c.list, c.acked)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: checkList(%v, %v) = %q, want %q", c.name, c.list, c.acked, got, c.want)
		}
	}
}

func Test_LongestInFlight(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	ops := []op{
		{send: ms(0), reply: ms(500), acked: true},     // ends before the window
		{send: ms(900), reply: ms(1200), acked: true},  // sent before, answered inside: 300
		{send: ms(1100), reply: ms(1150)},              // inside, failed: 50
		{send: ms(1900), reply: ms(2600), acked: true}, // sent inside, answered after: 700
		{send: ms(2100), reply: ms(4000), acked: true}, // sent after the window
	}
	if got := longestInFlight(ops, ms(1000), ms(2000)); got != ops[3] {
		t.Errorf("longestInFlight = %v, want %v (the append sent inside the window, answered after it)", got, ops[3])
	}
	if got := longestInFlight(ops[:3], ms(1000), ms(2000)); got != ops[1] {
		t.Errorf("longestInFlight = %v, want %v (the append in flight at the window's start)", got, ops[1])
	}
	if got := longestInFlight(nil, 0, ms(10)); got != (op{}) {
		t.Errorf("longestInFlight(no ops) = %v, want the zero op", got)
	}
}
