package node

import (
	"time"

	"github.com/batonkv/baton/internal/outbuf"
	"github.com/prometheus/client_golang/prometheus"
)

// Output classes of a client (client.outClass), for its
// client-output-buffer-limit.
const (
	outNormal int32 = iota
	outPubSub
	outReplica
)

// outClassNames are the class names, by outClass.
var outClassNames = [...]string{outbuf.Normal, outbuf.PubSub, outbuf.Replica}

// outputWatchInterval is how often outputWatch looks at every client's
// pending output (the soft limit's resolution).
const outputWatchInterval = 100 * time.Millisecond

// newOutputLimitClosed is the counter of clients closed at their output
// limit, by class, every class exported from the start.
func newOutputLimitClosed() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "baton_node_output_limit_closed_total",
		Help: "Clients closed because their pending replies overcame the client-output-buffer-limit of their class (normal, pubsub, replica).",
	}, []string{"class"})
	for _, class := range outClassNames {
		c.WithLabelValues(class)
	}
	return c
}

// outputLimits returns the current limits (CONFIG SET replaces them).
func (s *Server) outputLimits() outbuf.Limits { return *s.outLimits.Load() }

// setOutputLimits installs ls; a new subscriber's queue takes the pub/sub
// hard limit (no bound for 0).
func (s *Server) setOutputLimits(ls outbuf.Limits) {
	s.outLimits.Store(&ls)
	hard := ls.PubSub.Hard
	if hard <= 0 {
		hard = 1 << 62
	}
	s.pubsub().outLimit.Store(hard)
}

// limitOf is the limit of a client's class.
func limitOf(ls outbuf.Limits, class int32) outbuf.Limit {
	switch class {
	case outPubSub:
		return ls.PubSub
	case outReplica:
		return ls.Replica
	}
	return ls.Normal
}

// pendingOutput is the bytes of replies the client has pending: being
// built or written (omem), or queued for a subscriber.
func (cl *client) pendingOutput() int64 {
	if q := cl.outq.Load(); q != nil {
		return q.pending()
	}
	return cl.omem.Load()
}

// overOutputLimit checks n pending bytes of cl against its class' limit
// at now; over it, cl is closed (counted and logged once) and the result
// is true. It also starts or ends the soft limit's clock.
func (s *Server) overOutputLimit(cl *client, n int64) bool {
	class := cl.outClass.Load()
	l := limitOf(*s.outLimits.Load(), class)
	if (l.Hard <= 0 || n <= l.Hard) && (l.Soft <= 0 || n <= l.Soft) {
		// The common case, without a clock reading: within the limits.
		if cl.overSoft.Load() != 0 {
			cl.overSoft.Store(0)
		}
		return false
	}
	now := time.Now()
	var since time.Time
	switch at := cl.overSoft.Load(); {
	case l.Soft <= 0 || n <= l.Soft:
		cl.overSoft.Store(0)
	case at == 0:
		cl.overSoft.Store(now.UnixNano())
		since = now
	default:
		since = time.Unix(0, at)
	}
	which, over := l.Over(n, since, now)
	if !over {
		return false
	}
	if cl.killed.CompareAndSwap(false, true) {
		s.met.outputLimitClosed.WithLabelValues(outClassNames[class]).Inc()
		s.log.Warn("client closed for overcoming its output buffer limit",
			"id", cl.id, "addr", cl.addr, "class", outClassNames[class], "limit", which, "pending_bytes", n)
		if cl.conn != nil {
			cl.conn.NetConn().Close()
		}
	}
	return true
}

// outputWatch checks every client's pending output against its limits
// each outputWatchInterval, so a client that stopped reading is closed
// while the node is blocked writing to it, until done.
func (s *Server) outputWatch(done <-chan struct{}) {
	t := time.NewTicker(outputWatchInterval)
	defer t.Stop()
	var pending []*client
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		pending = pending[:0]
		s.clientsMu.Lock()
		for _, cl := range s.clients {
			if cl.pendingOutput() > 0 || cl.overSoft.Load() != 0 {
				pending = append(pending, cl)
			}
		}
		s.clientsMu.Unlock()
		for _, cl := range pending {
			if !cl.killed.Load() {
				s.overOutputLimit(cl, cl.pendingOutput())
			}
		}
		clear(pending)
	}
}
