package journal

import (
	"fmt"
	"time"
)

// maxSpare bounds the buffer the writer keeps for reuse, so one huge entry
// does not pin its memory forever.
const maxSpare = 4 << 20

// run is the background writer: it flushes what no waiter flushed (entries
// nobody waits for, such as expiry deletions), fsyncs once a second under
// "everysec", and makes the final flush on Close. Clients waiting in
// WaitDurable usually flush themselves (see flushLocked), which spares a
// goroutine hand-off per batch.
func (j *Journal) run() {
	defer func() {
		j.mu.Lock()
		j.stopped = true
		j.durable.Broadcast()
		j.mu.Unlock()
		close(j.done)
	}()
	// Under everysec the tick is the once-a-second fsync; otherwise it only
	// bounds how long a record nobody waits for stays in memory.
	interval := 100 * time.Millisecond
	if j.opts.Fsync == EverySec {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		timer := false
		select {
		case <-j.kick:
		case <-t.C:
			timer = j.opts.Fsync == EverySec
		}
		j.mu.Lock()
		for j.writing {
			j.durable.Wait()
		}
		closing := j.closing
		sync := j.opts.Fsync == Always || closing || j.syncReq > j.synced
		j.flushLocked(sync)
		if timer && !sync {
			j.syncWrittenLocked()
		}
		j.mu.Unlock()
		if closing {
			return
		}
	}
}

// syncWrittenLocked fsyncs what is already written, for everysec, without
// holding the writer's place: clients keep writing their records while the
// fsync runs (a slow disk must not stall every write for the length of an
// fsync, the latency spike Redis' everysec avoids too). Called and returns
// with j.mu held.
func (j *Journal) syncWrittenLocked() {
	upto, gen := j.written, j.gen
	if upto <= j.synced || j.err != nil {
		return
	}
	j.mu.Unlock()
	j.fileMu.RLock()
	j.fsyncs.Add(1)
	start := time.Now()
	err := j.f.Sync()
	j.observeFsync(start)
	name := j.f.Name()
	j.fileMu.RUnlock()
	j.mu.Lock()
	switch {
	case j.gen != gen:
		// A Reset replaced the file meanwhile: upto means nothing in the
		// new history.
	case err != nil:
		if j.err == nil {
			j.err = fmt.Errorf("journal: fsync %s: %w", name, err)
		}
	case upto > j.synced:
		j.synced = upto
	}
	j.durable.Broadcast()
}

// flushLocked writes every pending record (and fsyncs when sync is set and
// something is not yet synced) as the one writer of the moment: it is
// called with j.mu held and no other flush in progress, releases the lock
// for the I/O, so that new records gather meanwhile for the next flush
// (group commit), and returns with the lock held again.
func (j *Journal) flushLocked(sync bool) {
	if j.err != nil || j.writing {
		return
	}
	buf, marks, upto := j.buf, j.marks, j.lsn
	needWrite := upto > j.written || len(marks) > 0
	needSync := sync && upto > j.synced
	if !needWrite && !needSync {
		return
	}
	j.buf, j.marks, j.spare = j.spare[:0], nil, nil
	j.writing = true
	j.mu.Unlock()
	err := j.writeBatch(buf, marks)
	if err == nil && needSync {
		err = j.fsync()
	}
	j.mu.Lock()
	j.writing = false
	if err != nil {
		j.err = err
	} else {
		j.written = upto
		if needSync {
			j.synced = upto
		}
	}
	if cap(buf) <= maxSpare {
		j.spare = buf[:0]
	}
	j.durable.Broadcast()
}

// writeBatch writes buf to the segments, switching to a new segment at each
// mark.
func (j *Journal) writeBatch(buf []byte, marks []mark) error {
	prev := 0
	for _, m := range marks {
		if err := j.write(buf[prev:m.off]); err != nil {
			return err
		}
		if err := j.rotateFile(m.first, m.replid); err != nil {
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
	n, err := j.f.Write(b)
	j.bytesOut.Add(uint64(n))
	if err != nil {
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
	start := time.Now()
	err := j.f.Sync()
	j.observeFsync(start)
	if err != nil {
		return fmt.Errorf("journal: fsync %s: %w", j.f.Name(), err)
	}
	return nil
}

// observeFsync reports an fsync that began at start to Options.OnFsync.
func (j *Journal) observeFsync(start time.Time) {
	if j.opts.OnFsync != nil {
		j.opts.OnFsync(time.Since(start))
	}
}

// rotateFile fsyncs and closes the active segment and creates the next one,
// starting at first, in history replid. A finished segment is therefore
// always complete on disk: only the newest segment can have a torn tail.
// When the active segment itself starts at first (it is empty: NewHistory
// relabels a segment nothing was written to yet), the new file atomically
// replaces it.
func (j *Journal) rotateFile(first uint64, replid string) error {
	if err := j.fsync(); err != nil {
		return err
	}
	j.fileMu.Lock()
	defer j.fileMu.Unlock()
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("journal: close %s: %w", j.f.Name(), err)
	}
	f, path, err := createSegment(j.opts.Dir, replid, first)
	if err != nil {
		return fmt.Errorf("journal: create segment %d: %w", first, err)
	}
	j.f = f
	j.mu.Lock()
	if n := len(j.segs); n > 0 && j.segs[n-1].first == first {
		j.segs[n-1] = segment{path: path, first: first}
	} else {
		j.segs = append(j.segs, segment{path: path, first: first})
	}
	j.mu.Unlock()
	return nil
}
