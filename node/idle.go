package node

import (
	"context"
	"strconv"
	"time"
)

// idleCheckEvery is how often idle clients are looked for (Redis checks
// its clients' idle time about once a second too).
const idleCheckEvery = time.Second

// idleLoop closes clients idle for longer than the timeout (CONFIG SET
// timeout, --timeout), until ctx ends. A client is idle when it runs no
// pipeline (busy: a parked blocking command and replies still being
// written count as work) and started none for the timeout; the detached
// connections of replicas and subscribers are exempt, as in Redis.
func (s *Server) idleLoop(ctx context.Context) {
	tick := time.NewTicker(idleCheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if d := time.Duration(s.idleTimeout.Load()); d > 0 {
				s.closeIdle(now, d)
			}
		}
	}
}

// closeIdle closes every client idle for longer than d at now.
func (s *Server) closeIdle(now time.Time, d time.Duration) {
	cutoff := now.Add(-d).UnixNano()
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	for _, cl := range s.clients {
		if cl.idleExempt.Load() || cl.busy.Load() || cl.lastAt.Load() > cutoff || cl.conn == nil {
			continue
		}
		cl.killed.Store(true)
		cl.conn.NetConn().Close()
		s.stats.idleClosed.Add(1)
	}
}

// setIdleTimeout validates a new timeout (seconds, as Redis').
func setIdleTimeout(s *Server, v string) (func(), string) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, "argument couldn't be parsed into an integer"
	}
	if n < 0 || n > 1<<31-1 {
		return nil, "argument must be between 0 and 2147483647 inclusive"
	}
	return func() { s.idleTimeout.Store(int64(time.Duration(n) * time.Second)) }, ""
}
