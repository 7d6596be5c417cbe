package coord

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// writeLogFlush is how often at most the WriteLog appends its open
// window: a kill -9 loses at most this much of the window's tail.
const writeLogFlush = 5 * time.Millisecond

// WriteLog is the executed-writes audit file: the windows in which the node
// actually executed writes as a primary, as `node epoch first_us last_us`
// lines in wall-clock microseconds — first and last are the times of real
// writes of that epoch (journal appends: commands, transaction markers,
// expiry deletions). Where the lease log (LeaseLog) says when a node
// could write, this says when it did: a checker comparing the windows of
// all nodes (chaos/check.WriteOverlap) proves that no two nodes executed
// writes at the same time, whatever the lease machinery believed.
//
// One window stays open per epoch and is rewritten with a later last at
// most every writeLogFlush (the lines of one window share first; a reader
// keeps the latest last), so the cost is one clock reading per write and
// one short append every few milliseconds while writes flow. Lines are
// written with write(2) at once: a kill -9 loses at most the tail not yet
// flushed.
//
// A nil *WriteLog logs nothing.
type WriteLog struct {
	path string
	node string
	log  *slog.Logger

	mu sync.Mutex
	// The open window: epoch, first and last write (unix µs); open is
	// false before the first write.
	open               bool
	epoch              uint64
	first, last        int64
	flushedLast        int64
	flushedAt          time.Time
	timer              *time.Timer
	timerArmed, closed bool
}

// NewWriteLog returns the executed-writes log at path for node nodeID,
// nil when path is "" (no log); failures to write are logged to log.
func NewWriteLog(path, nodeID string, log *slog.Logger) *WriteLog {
	if path == "" {
		return nil
	}
	return &WriteLog{path: path, node: nodeID, log: log}
}

// Wrote records that the node executed a write of epoch as a primary now.
func (l *WriteLog) Wrote(epoch uint64) {
	if l == nil {
		return
	}
	now := time.Now()
	us := now.UnixMicro()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	if l.open && l.epoch != epoch {
		l.flushLocked()
		l.open = false
	}
	if !l.open {
		l.open, l.epoch, l.first, l.last, l.flushedLast = true, epoch, us, us, -1
	}
	l.last = max(l.last, us)
	switch {
	case now.Sub(l.flushedAt) >= writeLogFlush:
		l.flushLocked()
	case !l.timerArmed:
		// The tail of a burst is flushed by a timer, not by a later write
		// that may never come.
		l.timerArmed = true
		if l.timer == nil {
			l.timer = time.AfterFunc(writeLogFlush, l.onTimer)
		} else {
			l.timer.Reset(writeLogFlush)
		}
	}
}

// onTimer flushes the open window's tail.
func (l *WriteLog) onTimer() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timerArmed = false
	if !l.closed {
		l.flushLocked()
	}
}

// Close flushes the open window; later writes are not logged.
func (l *WriteLog) Close() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer != nil {
		l.timer.Stop()
	}
	l.flushLocked()
	l.closed = true
}

// flushLocked appends the open window if it grew since the last append.
func (l *WriteLog) flushLocked() {
	if !l.open || l.last == l.flushedLast {
		return
	}
	l.flushedLast, l.flushedAt = l.last, time.Now()
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		l.log.Warn("write log", "err", err)
		return
	}
	fmt.Fprintf(f, "%s %d %d %d\n", l.node, l.epoch, l.first, l.last)
	f.Close()
}
