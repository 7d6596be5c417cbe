package benchkit

import (
	"testing"
	"time"
)

func msd(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func Test_LongestGap(t *testing.T) {
	acks := []time.Duration{msd(90), msd(100), msd(110), msd(1300), msd(1310), msd(1320), msd(5000)}
	cases := []struct {
		name     string
		from, to time.Duration
		want     time.Duration
	}{
		// The kill at 115: the gap runs from the kill, not from the ack at 110.
		{"kill mid-stream", msd(115), msd(2000), msd(1185)},
		// Acks before the kill do not count; the longest gap is after it.
		{"kill after last pre-kill ack", msd(110), msd(2000), msd(1190)},
		// Writes never resume within the interval: the whole interval.
		{"no ack after kill", msd(1400), msd(2000), msd(600)},
		// The trailing gap up to the end of the interval counts.
		{"trailing gap longest", msd(1300), msd(4000), msd(2680)},
		// An ack exactly at the end is inside the interval.
		{"ack at interval end", msd(1320), msd(5000), msd(3680)},
	}
	for _, c := range cases {
		if got := LongestGap(acks, c.from, c.to); got != c.want {
			t.Errorf("%s: LongestGap(%v, %v) = %v, want %v", c.name, c.from, c.to, got, c.want)
		}
	}
	if got := LongestGap(nil, msd(0), msd(10)); got != msd(10) {
		t.Errorf("no acks at all: got %v, want 10ms", got)
	}
}

func Test_Percentile(t *testing.T) {
	var ds []time.Duration
	for i := 20; i >= 1; i-- {
		ds = append(ds, msd(i))
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, msd(10)}, {0.99, msd(20)}, {1, msd(20)}, {0.05, msd(1)}} {
		if got := Percentile(ds, c.q); got != c.want {
			t.Errorf("Percentile(1..20 ms, %v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := Percentile(nil, 0.5); got != 0 {
		t.Errorf("Percentile(nil) = %v, want 0", got)
	}
}
