package check

import (
	"slices"
	"testing"
	"time"
)

func TestAvailability(t *testing.T) {
	tests := []struct {
		name    string
		ops     []Op
		end     time.Duration
		ok      bool
		want    map[string]float64
		details []string // exact Details after the first (gap) line
	}{
		{"nothing acknowledged", []Op{failed(setOp(0, "x", "a", 0, 10), "TRYAGAIN no write lease")},
			time.Second, false, map[string]float64{"max_gap_ms": 1000, "ok_writes": 0, "errors_fail": 1},
			[]string{"fail TRYAGAIN: 1"}},
		{"gap from the start", []Op{setOp(0, "x", "a", 0, 400), setOp(0, "x", "b", 500, 600)},
			700 * time.Millisecond, true, map[string]float64{"max_gap_ms": 400, "max_gap_from_ms": 0, "ok_writes": 2}, nil},
		{"gap in the middle, writes of every kind", []Op{
			writeOp(0, "append", "l", "a", 0, 100), writeOp(1, "add", "s", "a", 0, 150), incrOp(2, "c", "1", 0, 200),
			casOp(0, "x", "", "a", true, 800, 900), setOp(1, "x", "b", 900, 950)},
			time.Second, true, map[string]float64{"max_gap_ms": 700, "max_gap_from_ms": 200, "ok_writes": 5}, nil},
		{"gap to the end; reads and refused cas are not writes", []Op{
			setOp(0, "x", "a", 0, 100), getOp(0, "x", "a", 200, 300), casOp(0, "x", "z", "b", false, 400, 500)},
			time.Second, true, map[string]float64{"max_gap_ms": 900, "max_gap_from_ms": 100, "ok_writes": 1}, nil},
		{"errors grouped by kind, most frequent first", []Op{
			setOp(0, "x", "a", 0, 100),
			failed(setOp(1, "x", "b", 0, 10), "TRYAGAIN no write lease (epoch 3): retry"),
			failed(setOp(1, "x", "b", 20, 30), "TRYAGAIN no write lease (epoch 4): retry"),
			failed(getOp(1, "x", "b", 40, 50), "READONLY You can't write against a read only replica."),
			failed(setOp(2, "x", "c", 0, 10), "dial tcp 127.0.0.1:7000: connect: connection refused"),
			unknown(setOp(3, "x", "d", 0, 10), "read tcp 127.0.0.1:5->127.0.0.1:6: i/o timeout"),
			unknown(incrOp(3, "c", "", 20, 30), "ERR ambiguous write: the primary failed mid-request"),
			unknown(incrOp(3, "c", "", 40, 50), "EOF"),
		}, 100 * time.Millisecond, true, map[string]float64{"errors_fail": 4, "errors_info": 3, "ok_writes": 1},
			[]string{"fail TRYAGAIN: 2", "fail READONLY: 1", "fail connection refused: 1",
				"info EOF: 1", "info ERR: 1", "info i/o timeout: 1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Availability(tc.ops, tc.end)
			if res.OK != tc.ok || res.Name != "availability" {
				t.Fatalf("OK=%v, want %v: %s %q", res.OK, tc.ok, res.Summary, res.Details)
			}
			for k, v := range tc.want {
				if res.Metrics[k] != v {
					t.Errorf("metric %s = %v, want %v (%v)", k, res.Metrics[k], v, res.Metrics)
				}
			}
			if tc.details != nil && !slices.Equal(res.Details[1:], tc.details) {
				t.Errorf("details %q, want gap line then %q", res.Details, tc.details)
			}
		})
	}
}

func TestErrorKind(t *testing.T) {
	for err, want := range map[string]string{
		"":                               "unknown",
		"TRYAGAIN no write lease":        "TRYAGAIN",
		"ERR unknown command":            "ERR",
		"READONLY You can't write":       "READONLY",
		"redis: connection pool timeout": "pool timeout",
		"read tcp 1.2.3.4:5->6.7.8.9:10: i/o timeout":               "i/o timeout",
		"write tcp 1.2.3.4:5->6.7.8.9:10: connection reset by peer": "connection reset",
		"EOF":                       "EOF",
		"context deadline exceeded": "context deadline exceeded",
		"weird: thing":              "weird",
	} {
		if got := ErrorKind(err); got != want {
			t.Errorf("ErrorKind(%q) = %q, want %q", err, got, want)
		}
	}
}
