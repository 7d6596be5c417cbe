package outbuf

import (
	"testing"
	"time"
)

// Test_Parse: Redis' syntax and CONFIG GET format (checked against
// redis-server 7: "normal 0 0 0 slave 268435456 67108864 60 pubsub
// 33554432 8388608 60" by default).
func Test_Parse(t *testing.T) {
	if got, want := Defaults().String(), "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"; got != want {
		t.Fatalf("defaults %q, want %q", got, want)
	}
	ls, err := Parse("normal 1mb 512kb 10 replica 1k 2 3", Defaults())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ls.String(), "normal 1048576 524288 10 slave 1000 2 3 pubsub 33554432 8388608 60"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	for s, want := range map[string]error{"normal 1 2": ErrArgs, "": ErrArgs, "bogus 1 2 3": ErrClass, "normal x 2 3": ErrValue, "normal 1 2 -3": ErrValue} {
		if _, err := Parse(s, Defaults()); err != want {
			t.Errorf("Parse(%q) = %v, want %v", s, err, want)
		}
	}
	l := Limit{Hard: 100, Soft: 10, SoftFor: time.Second}
	now := time.Now()
	if w, over := l.Over(101, time.Time{}, now); !over || w != "hard" {
		t.Errorf("101 bytes: %q %v", w, over)
	}
	if _, over := l.Over(50, now.Add(-time.Second/2), now); over {
		t.Error("soft for half its time: over")
	}
	if w, over := l.Over(50, now.Add(-time.Second), now); !over || w != "soft" {
		t.Errorf("soft for its time: %q %v", w, over)
	}
}
