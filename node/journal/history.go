package journal

import (
	"errors"
	"fmt"
	"os"
)

// ErrReset is returned by WaitDurable and Sync when Reset discarded the
// journal while they waited: the entry they waited for belonged to the
// discarded history and will never be durable.
var ErrReset = errors.New("journal: reset while waiting")

// History identifies the data a journal holds, PSYNC2-style: the current
// history (Replid) up to LSN, and the history it continued from: every
// entry up to PrevEnd is the same as in history PrevReplid, so a replica of
// PrevReplid holding at most PrevEnd entries can continue with a partial
// sync after a promotion.
type History struct {
	// Replid is the current replication id.
	Replid string
	// LSN is the last assigned LSN.
	LSN uint64
	// PrevReplid is the history the current one continued (empty if none
	// is known).
	PrevReplid string
	// PrevEnd is the last LSN of PrevReplid (0 if none).
	PrevEnd uint64
}

// History returns the current history and its predecessor, as one
// consistent snapshot.
func (j *Journal) History() History {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.historyLocked()
}

// historyLocked is History with j.mu held.
func (j *Journal) historyLocked() History {
	return History{Replid: j.replid, LSN: j.lsn, PrevReplid: j.prevReplid, PrevEnd: j.prevEnd}
}

// NewHistory starts a new history, as a promoted replica does: it mints a
// replication id, remembers the current one and LSN as the previous
// history, and makes the next entry go to a new segment whose header
// carries the new id (so recovery finds the boundary). LSNs continue where
// they were. Like Rotate it does no I/O (the writer creates the segment),
// so it may be called under the caller's lock; the switch is on disk once
// the next flush ran (Sync(LSN()) forces it). It returns the new history.
func (j *Journal) NewHistory() History {
	h, _ := j.SwitchHistory(NewReplid())
	return h
}

// Reset discards the whole journal and continues it as history replid
// after LSN lsn, as a replica does once a full sync loaded the primary's
// snapshot at (replid, lsn): pending records, the backlog and every segment
// file go, a new segment starts at lsn+1, and the previous history is
// forgotten. The caller must make sure no Append runs meanwhile (it holds
// the lock it appends under); the writer and WaitDurable or Sync callers
// may be active: they finish their flush first, and those still waiting
// return ErrReset. Open Cursors become invalid (Read returns
// ErrNotInBacklog). Reopening the directory with Options{Replid: replid,
// After: lsn} recovers an empty tail. An I/O error becomes the journal's
// sticky error.
func (j *Journal) Reset(replid string, lsn uint64) error {
	if !ValidReplid(replid) {
		return fmt.Errorf("journal: reset: bad replication id %q", replid)
	}
	j.mu.Lock()
	if j.kick != nil {
		for j.writing {
			j.durable.Wait()
		}
		switch {
		case j.closing:
			j.mu.Unlock()
			return ErrClosed
		case j.err != nil:
			err := j.err
			j.mu.Unlock()
			return fmt.Errorf("journal: reset: %w", err)
		}
	}
	j.gen++
	j.replid, j.prevReplid, j.prevEnd = replid, "", 0
	j.lsn, j.written, j.synced, j.syncReq, j.headFirst = lsn, lsn, lsn, lsn, lsn+1
	j.buf, j.marks = j.buf[:0], nil
	j.bl.reset()
	if j.kick == nil {
		j.mu.Unlock()
		return nil
	}
	// Take the writer's place for the file work, so that no flush runs
	// and Compact finds nothing to delete meanwhile.
	j.writing = true
	old := j.segs
	j.segs = nil
	j.durable.Broadcast() // waiters return ErrReset
	j.mu.Unlock()

	path, err := j.replaceSegments(old, replid, lsn+1)

	j.mu.Lock()
	defer j.mu.Unlock()
	j.writing = false
	if err != nil {
		j.err = err
	} else {
		j.segs = []segment{{path: path, first: lsn + 1}}
	}
	j.durable.Broadcast()
	return err
}

// replaceSegments closes the active segment, deletes the segments in old,
// newest first (a crash midway leaves only the oldest, which a snapshot at
// the reset point covers or makes refuse to recover, never a silent mix of
// histories), and creates the segment starting at first for replid as the
// active one.
func (j *Journal) replaceSegments(old []segment, replid string, first uint64) (string, error) {
	j.fileMu.Lock()
	defer j.fileMu.Unlock()
	if err := j.f.Close(); err != nil {
		return "", fmt.Errorf("journal: reset: close %s: %w", j.f.Name(), err)
	}
	for i := len(old) - 1; i >= 0; i-- {
		if err := os.Remove(old[i].path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("journal: reset: %w", err)
		}
	}
	if err := syncDir(j.opts.Dir); err != nil {
		return "", fmt.Errorf("journal: reset: fsync %s: %w", j.opts.Dir, err)
	}
	f, path, err := createSegment(j.opts.Dir, replid, first)
	if err != nil {
		return "", fmt.Errorf("journal: reset: create segment %d: %w", first, err)
	}
	j.f = f
	return path, nil
}
