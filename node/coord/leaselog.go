package coord

import (
	"fmt"
	"log/slog"
	"os"
	"time"
)

// LeaseLog is the lease-log audit file: every granted lease window as
// `node epoch from_us until_us`, in wall-clock microseconds. Every write
// the node accepts lies inside one of its windows, so a checker comparing
// the windows of all nodes (on one host, one clock; chaos/check reads the
// format) proves that no two nodes accepted writes at the same time. Lines
// are written with write(2) at once: a kill -9 loses nothing.
//
// A takeover's freeze ends the node's windows early: End appends
// `node epoch end at_us`, which cuts every window that began before at_us;
// a thaw (rollback) logs the rest of its lease as a new window
// (Coordinator.Thawed). Grants that land while frozen are not logged:
// nothing is accepted under them.
//
// A nil *LeaseLog logs nothing.
type LeaseLog struct {
	path string
	node string
	log  *slog.Logger
}

// NewLeaseLog returns the lease log at path for node nodeID, nil when path
// is "" (no log); failures to write are logged to log.
func NewLeaseLog(path, nodeID string, log *slog.Logger) *LeaseLog {
	if path == "" {
		return nil
	}
	return &LeaseLog{path: path, node: nodeID, log: log}
}

// Window appends a lease window of epoch: from, for d.
func (l *LeaseLog) Window(epoch uint64, from time.Time, d time.Duration) {
	if l == nil {
		return
	}
	l.append(fmt.Sprintf("%s %d %d %d\n", l.node, epoch, from.UnixMicro(), from.Add(d).UnixMicro()))
}

// End records that the node stopped accepting writes of epoch at t (a
// takeover froze it).
func (l *LeaseLog) End(epoch uint64, at time.Time) {
	if l == nil {
		return
	}
	l.append(fmt.Sprintf("%s %d end %d\n", l.node, epoch, at.UnixMicro()))
}

// append appends one line to the file.
func (l *LeaseLog) append(line string) {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		l.log.Warn("lease log", "err", err)
		return
	}
	f.WriteString(line)
	f.Close()
}
