package check

import (
	"fmt"
	"time"
)

// maxDetails bounds Result.Details: a broken build can produce thousands of
// violations, and the report needs the first few plus a count, not all.
const maxDetails = 20

// details collects a Result's detail lines, keeping the first maxDetails
// and counting the rest.
type details struct {
	lines   []string
	dropped int
}

// addf records one line (or counts it when the bound is reached).
func (d *details) addf(format string, args ...any) {
	if len(d.lines) >= maxDetails {
		d.dropped++
		return
	}
	d.lines = append(d.lines, fmt.Sprintf(format, args...))
}

// list returns the lines, with a trailing "… and N more" when some were
// dropped.
func (d *details) list() []string {
	if d.dropped == 0 {
		return d.lines
	}
	return append(d.lines, fmt.Sprintf("… and %d more", d.dropped))
}

// ms converts a duration to (fractional) milliseconds for Metrics.
func ms(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}
