package journal

import "fmt"

// SwitchHistory continues the journal as history replid from the current
// LSN, remembering the current id and LSN as the previous history. A
// promoted replica switches to a fresh id (NewHistory); a replica whose
// primary was promoted since switches to that primary's new id when it
// continues with a partial sync (PSYNC2's "+CONTINUE new-id"). Like Rotate
// it does no I/O: the next record goes to a new segment whose header
// carries the new id (Sync(LSN()) forces it to disk).
func (j *Journal) SwitchHistory(replid string) (History, error) {
	if !ValidReplid(replid) {
		return History{}, fmt.Errorf("journal: switch history: bad replication id %q", replid)
	}
	j.mu.Lock()
	j.prevReplid, j.prevEnd = j.replid, j.lsn
	j.replid = replid
	h := j.historyLocked()
	if j.kick == nil || j.closing {
		j.mu.Unlock()
		return h, nil
	}
	first := j.lsn + 1
	if n := len(j.marks); n > 0 && j.marks[n-1].first == first {
		// A rotation to an empty segment is pending: label it instead.
		j.marks[n-1].replid = j.replid
	} else {
		// Also when the active segment starts at first (it is empty):
		// rotateFile then replaces it with one carrying the new id.
		j.marks = append(j.marks, mark{off: len(j.buf), first: first, replid: j.replid})
		j.headFirst = first
	}
	j.mu.Unlock()
	j.wake()
	return h, nil
}
