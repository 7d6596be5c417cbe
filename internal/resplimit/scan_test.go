package resplimit

import "testing"

// scanAll feeds data to a fresh scanner in chunks of size step and reports
// the violation it found (if any) and the bytes accepted before it.
func scanAll(data []byte, step int, lim Limits) (accepted int, violation string) {
	s := NewScanner(lim)
	for off := 0; off < len(data); off += step {
		end := min(off+step, len(data))
		accepted += s.Scan(data[off:end])
		if s.Violation() != "" {
			return accepted, s.Violation()
		}
	}
	return accepted, ""
}

// FuzzClientConnScan checks the request-limit scanner: however a stream is
// split into reads, it finds the same violation (or none), and it never
// accepts bytes past the request that broke a limit. (Its name dates from
// when the scanner lived in the node's clientConn; the seed corpus in
// testdata/fuzz keeps it.)
func FuzzClientConnScan(f *testing.F) {
	for _, seed := range []string{
		"*1\r\n$4\r\nPING\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20\r\n01234567890123456789\r\n",
		"PING\r\nECHO hello\r\n",
		"*9\r\n",
		"*2\r\n$4\r\nECHO\r\n$99999\r\n",
		"PING " + string(make([]byte, 80)),
		"*1\r\n$1234567890123456789012345678901234567890\r\n",
	} {
		f.Add([]byte(seed), uint8(1))
		f.Add([]byte(seed), uint8(7))
	}
	lim := Limits{MaxBulk: 32, MaxMultibulk: 4, MaxQuery: 200, MaxInline: 64}
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		whole, errWhole := scanAll(data, len(data)+1, lim)
		split, errSplit := scanAll(data, int(step)%16+1, lim)
		if errWhole != errSplit {
			t.Fatalf("one read found %q, split reads found %q", errWhole, errSplit)
		}
		if errWhole == "" && (whole != len(data) || split != len(data)) {
			t.Fatalf("no violation but accepted %d/%d of %d bytes", whole, split, len(data))
		}
		if whole > len(data) || split > len(data) {
			t.Fatalf("accepted more than was read")
		}
	})
}
