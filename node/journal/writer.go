package journal

import (
	"fmt"
	"time"
)

// maxSpare bounds the buffer the writer keeps for reuse, so one huge entry
// does not pin its memory forever.
const maxSpare = 4 << 20

// run is the writer goroutine: it takes the pending buffer, writes it to the
// active segment (rotating where Rotate asked), and fsyncs per policy. While
// it writes or fsyncs, new entries gather in the buffer, so the next round
// serves them all with one write and one fsync (group commit).
func (j *Journal) run() {
	defer func() {
		j.mu.Lock()
		j.stopped = true
		j.durable.Broadcast()
		j.mu.Unlock()
		close(j.done)
	}()
	var tick <-chan time.Time
	if j.opts.Fsync == EverySec {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		tick = t.C
	}
	var spare []byte
	for {
		timer := false
		select {
		case <-j.kick:
		case <-tick:
			timer = true
		}
		j.mu.Lock()
		buf, marks, upto := j.buf, j.marks, j.lsn
		j.buf, j.marks = spare[:0], nil
		closing, failed := j.closing, j.err != nil
		needSync := upto > j.synced &&
			(j.opts.Fsync == Always || closing || timer || j.syncReq > j.synced)
		j.mu.Unlock()

		var err error
		if !failed {
			err = j.writeBatch(buf, marks)
			if err == nil && needSync {
				err = j.fsync()
			}
		}
		j.mu.Lock()
		switch {
		case failed:
		case err != nil:
			j.err = err
		default:
			j.written = upto
			if needSync {
				j.synced = upto
			}
		}
		j.durable.Broadcast()
		j.mu.Unlock()
		if cap(buf) <= maxSpare {
			spare = buf
		} else {
			spare = nil
		}
		if closing {
			return
		}
	}
}

// writeBatch writes buf to the segments, switching to a new segment at each
// mark.
func (j *Journal) writeBatch(buf []byte, marks []mark) error {
	prev := 0
	for _, m := range marks {
		if err := j.write(buf[prev:m.off]); err != nil {
			return err
		}
		if err := j.rotateFile(m.first); err != nil {
			return err
		}
		prev = m.off
	}
	return j.write(buf[prev:])
}

// write appends b to the active segment.
func (j *Journal) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if j.writeHook != nil {
		if err := j.writeHook(); err != nil {
			return fmt.Errorf("journal: write %s: %w", j.f.Name(), err)
		}
	}
	if _, err := j.f.Write(b); err != nil {
		return fmt.Errorf("journal: write %s: %w", j.f.Name(), err)
	}
	return nil
}

// fsync makes the active segment durable.
func (j *Journal) fsync() error {
	if j.beforeFsync != nil {
		j.beforeFsync()
	}
	j.fsyncs.Add(1)
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal: fsync %s: %w", j.f.Name(), err)
	}
	return nil
}

// rotateFile fsyncs and closes the active segment and creates the next one,
// starting at first. A finished segment is therefore always complete on
// disk: only the newest segment can have a torn tail.
func (j *Journal) rotateFile(first uint64) error {
	if err := j.fsync(); err != nil {
		return err
	}
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("journal: close %s: %w", j.f.Name(), err)
	}
	f, path, err := createSegment(j.opts.Dir, j.replid, first)
	if err != nil {
		return fmt.Errorf("journal: create segment %d: %w", first, err)
	}
	j.f = f
	j.mu.Lock()
	j.segs = append(j.segs, segment{path: path, first: first})
	j.mu.Unlock()
	return nil
}
