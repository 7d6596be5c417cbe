package check

import (
	"strings"
	"testing"
	"time"
)

// win is a window in microseconds, as the lease log writes them.
func win(node string, epoch uint64, from, until int64) LeaseWindow {
	return LeaseWindow{Node: node, Epoch: epoch, From: time.UnixMicro(from), Until: time.UnixMicro(until)}
}

func TestParseLeaseLog(t *testing.T) {
	tests := []struct {
		name, log string
		want      []LeaseWindow
		err       string // "" when parsing must succeed
	}{
		{"empty", "", nil, ""},
		{"windows, blank lines skipped", "n1 3 100 200\n\n  n1 3 150 250  \nn2 4 300 400\n",
			[]LeaseWindow{win("n1", 3, 100, 200), win("n1", 3, 150, 250), win("n2", 4, 300, 400)}, ""},
		{"end cuts windows of its node that began before it", "n1 3 100 200\nn1 3 150 250\nn1 3 end 180\nn2 4 100 300\n",
			[]LeaseWindow{win("n1", 3, 100, 180), win("n1", 3, 150, 180), win("n2", 4, 100, 300)}, ""},
		{"end leaves later windows (a thaw) alone, wherever it sits", "n1 3 end 180\nn1 3 100 200\nn1 3 190 260\n",
			[]LeaseWindow{win("n1", 3, 100, 180), win("n1", 3, 190, 260)}, ""},
		{"end cuts windows of any epoch of that node", "n1 2 100 200\nn1 3 end 150\n",
			[]LeaseWindow{win("n1", 2, 100, 150)}, ""},
		{"empty windows dropped", "n1 3 100 100\nn1 3 200 300\nn1 3 end 200\n",
			[]LeaseWindow{win("n1", 3, 200, 300)}, ""},

		{"too few fields", "n1 3 100\n", nil, "line 1"},
		{"bad epoch", "n1 x 100 200\n", nil, "epoch"},
		{"bad from", "n1 3 1e3 200\n", nil, "from"},
		{"bad until", "n1 3 100 soon\n", nil, "until"},
		{"bad end", "n1 3 100 200\nn1 3 end later\n", nil, "line 2"},
		{"window ends before it begins", "n1 3 300 200\n", nil, "ends before"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseLeaseLog(strings.NewReader(tc.log))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("window %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}
