package node

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/node/command"
	"github.com/batonkv/baton/node/keyspace"
)

// CLIENT PAUSE modes, ordered so that a stronger pause wins.
const (
	pauseNone int32 = iota
	pauseWrite
	pauseAll
)

// pauseState is CLIENT PAUSE's state. mode and until are atomics so that
// the per-command check is a single load while no pause is active.
type pauseState struct {
	mode  atomic.Int32 // pauseNone, pauseWrite or pauseAll
	until atomic.Int64 // end of the pause, Unix ns
	// waiting counts the commands held back right now.
	waiting atomic.Int32

	mu sync.Mutex
	// ended is closed when the pause is lifted by CLIENT UNPAUSE (guarded
	// by mu; nil while nobody may wait).
	ended chan struct{}
}

// pause starts or extends a pause: the stronger mode and the later end of
// the current and the new pause apply, as in Redis.
func (p *pauseState) pause(mode int32, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.mode.Load()
	if cur != pauseNone && time.Now().UnixNano() >= p.until.Load() {
		cur = pauseNone // the previous pause already ran out
	}
	end := until.UnixNano()
	if cur != pauseNone && p.until.Load() > end {
		end = p.until.Load()
	}
	if cur > mode {
		mode = cur
	}
	if p.ended == nil {
		p.ended = make(chan struct{})
	}
	p.until.Store(end)
	p.mode.Store(mode)
}

// unpause lifts the pause and releases every waiting client.
func (p *pauseState) unpause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode.Store(pauseNone)
	p.until.Store(0)
	if p.ended != nil {
		close(p.ended)
		p.ended = nil
	}
}

// active returns the pause mode in force now.
func (p *pauseState) active() int32 {
	mode := p.mode.Load()
	if mode == pauseNone {
		return pauseNone
	}
	if time.Now().UnixNano() >= p.until.Load() {
		return pauseNone
	}
	return mode
}

// pausedFor reports whether CLIENT PAUSE currently holds back args from cl.
// With no pause active it is one atomic load.
func (s *Server) pausedFor(cl *client, args [][]byte) bool {
	switch s.admin.pause.active() {
	case pauseNone:
		return false
	case pauseAll:
		return true
	}
	return mayReplicate(cl, args)
}

// mayReplicate reports whether a command is held back by CLIENT PAUSE
// WRITE: write commands, and the commands Redis flags may-replicate
// (PUBLISH, scripts), and EXEC of a transaction that queued a write.
func mayReplicate(cl *client, args [][]byte) bool {
	cmd := command.Lookup(args[0])
	if cmd == nil {
		return false
	}
	if cmd.Flags&command.FlagWrite != 0 {
		return true
	}
	switch cmd.Name {
	case "publish", "spublish", "eval", "evalsha", "fcall":
		return true
	case "exec":
		// The queue belongs to cl's own goroutine, which is the caller.
		for _, q := range cl.multiQueue {
			if qc := command.Lookup(q[0]); qc != nil && qc.Flags&command.FlagWrite != 0 {
				return true
			}
		}
	}
	return false
}

// waitPause waits, without the keyspace lock, until the pause ends (by
// CLIENT UNPAUSE or its timeout), the client disconnects or the server
// closes.
func (s *Server) waitPause(cl *client, out keyspace.Replier, args [][]byte) {
	s.settle(cl, out)
	flushReplies(out)
	p := &s.admin.pause
	p.waiting.Add(1)
	defer p.waiting.Add(-1)
	var gone <-chan struct{}
	if cl.netConn != nil {
		g, stop := cl.netConn.watchClose()
		gone = g
		defer stop()
	}
	for s.pausedFor(cl, args) {
		p.mu.Lock()
		ended := p.ended
		p.mu.Unlock()
		if ended == nil {
			return
		}
		t := time.NewTimer(time.Until(time.Unix(0, p.until.Load())))
		select {
		case <-ended:
		case <-t.C:
		case <-gone:
			t.Stop()
			cl.killed.Store(true)
			return
		case <-s.life.Context().Done():
			t.Stop()
			return
		}
		t.Stop()
	}
}
