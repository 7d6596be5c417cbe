package node

import (
	"sync/atomic"
	"time"
)

// activeWatches counts (client, key) WATCH registrations across every
// Server in the process, so touchKey costs one atomic load while nobody
// watches anything.
var activeWatches atomic.Int64

// touchKey records that key was modified: clients WATCHing it will fail
// their EXEC, and clients blocked on it retry. The caller holds s.mu.
func (s *Server) touchKey(key string) {
	s.signalKey(key)
	if activeWatches.Load() == 0 {
		return
	}
	ws := s.pubsub().watches[key]
	for cl, expiredAtWatch := range ws {
		if expiredAtWatch {
			if _, exists := s.db.Keys[key]; !exists || s.db.Expired(key, time.Now().UnixMilli()) {
				// The key was already logically gone when WATCHed and is
				// now deleted (or still expired): no visible change
				// (Redis 7's rule). Only a later change counts.
				ws[cl] = false
				continue
			}
		}
		cl.watchDirty = true
		// Its EXEC fails whatever happens next: stop tracking it.
		s.dropWatches(cl)
	}
}

// watchKey adds key to cl's WATCHed keys; the caller holds s.mu.
func (s *Server) watchKey(cl *client, key string, now int64) {
	if _, ok := cl.watched[key]; ok {
		return
	}
	if cl.watched == nil {
		cl.watched = make(map[string]struct{})
	}
	cl.watched[key] = struct{}{}
	ps := s.pubsub()
	ws := ps.watches[key]
	if ws == nil {
		ws = make(map[*client]bool)
		ps.watches[key] = ws
	}
	ws[cl] = s.db.Expired(key, now)
	activeWatches.Add(1)
}

// watchedKeyExpired reports whether a key cl WATCHed, alive then, has
// expired since without having been deleted yet (EXEC must fail then too).
func (s *Server) watchedKeyExpired(cl *client, now int64) bool {
	if len(cl.watched) == 0 {
		return false
	}
	ps := s.pubsub()
	for key := range cl.watched {
		if !ps.watches[key][cl] && s.db.Expired(key, now) {
			return true
		}
	}
	return false
}

// dropWatches removes cl from the WATCH registry, leaving watchDirty as it
// is; the caller holds s.mu.
func (s *Server) dropWatches(cl *client) {
	if len(cl.watched) == 0 {
		return
	}
	ps := s.pubsub()
	for key := range cl.watched {
		if ws := ps.watches[key]; ws != nil {
			delete(ws, cl)
			if len(ws) == 0 {
				delete(ps.watches, key)
			}
		}
		activeWatches.Add(-1)
	}
	cl.watched = nil
}

// unwatchAll forgets cl's WATCHed keys; the caller holds s.mu.
func (s *Server) unwatchAll(cl *client) {
	s.dropWatches(cl)
	cl.watchDirty = false
}
