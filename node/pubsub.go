package node

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/internal/outbuf"
	"github.com/batonkv/baton/node/keyspace"
	"github.com/tidwall/redcon"
)

// defaultPubsubOutputLimit is the most a subscriber may have queued and not
// yet written before it is disconnected, like Redis'
// client-output-buffer-limit pubsub hard limit.
const defaultPubsubOutputLimit = 32 << 20

// subscriber is a client's pub/sub state. Its maps change only on the
// client's own goroutine with s.mu held (and the registry's lock).
type subscriber struct {
	channels map[string]struct{}
	patterns map[string]struct{}
	// out carries everything the client is sent once it is detached:
	// command replies and published messages, in execution order.
	out *outQueue
}

// count is the number of channels and patterns subscribed.
func (sb *subscriber) count() int { return len(sb.channels) + len(sb.patterns) }

// pubsubState is a Server's pub/sub and WATCH registries.
type pubsubState struct {
	// mu guards channels and patterns: publishers hold s.mu too, but a
	// closing client may be forgotten without it.
	mu       sync.Mutex
	channels map[string]map[*client]struct{}
	patterns map[string]map[*client]struct{}
	// watches maps a WATCHed key to its watchers and whether the key was
	// already logically expired when WATCHed (guarded by s.mu).
	watches map[string]map[*client]bool
	// outLimit is the per-subscriber output bound for new subscribers.
	outLimit atomic.Int64
}

// newPubsubState returns empty registries.
func newPubsubState() *pubsubState {
	st := &pubsubState{
		channels: make(map[string]map[*client]struct{}),
		patterns: make(map[string]map[*client]struct{}),
		watches:  make(map[string]map[*client]bool),
	}
	st.outLimit.Store(defaultPubsubOutputLimit)
	return st
}

// pubsub returns s's pub/sub and WATCH registries.
func (s *Server) pubsub() *pubsubState { return s.ps }

// subscriberOf returns cl's subscriber state, creating it on first
// subscription; the caller holds s.mu.
func (s *Server) subscriberOf(cl *client) *subscriber {
	if cl.sub == nil {
		cl.sub = &subscriber{
			channels: make(map[string]struct{}),
			patterns: make(map[string]struct{}),
			out:      newOutQueue(s.pubsub().outLimit.Load()),
		}
	}
	return cl.sub
}

// addSub registers cl under name in reg; the caller holds ps.mu.
func addSub(reg map[string]map[*client]struct{}, name string, cl *client) {
	set := reg[name]
	if set == nil {
		set = make(map[*client]struct{})
		reg[name] = set
	}
	set[cl] = struct{}{}
}

// removeSub forgets cl under name in reg; the caller holds ps.mu.
func removeSub(reg map[string]map[*client]struct{}, name string, cl *client) {
	if set := reg[name]; set != nil {
		delete(set, cl)
		if len(set) == 0 {
			delete(reg, name)
		}
	}
}

// unsubscribeAll drops every subscription of cl without replying (RESET,
// disconnection). The caller holds s.mu, unless cl has no subscriptions
// left (then this only reads).
func (s *Server) unsubscribeAll(cl *client) {
	sb := cl.sub
	if sb == nil || sb.count() == 0 {
		return
	}
	ps := s.pubsub()
	ps.mu.Lock()
	for ch := range sb.channels {
		removeSub(ps.channels, ch, cl)
	}
	for pat := range sb.patterns {
		removeSub(ps.patterns, pat, cl)
	}
	ps.mu.Unlock()
	clear(sb.channels)
	clear(sb.patterns)
}

// publish delivers msg on channel to every subscriber of the channel and of
// every matching pattern, and returns the number of deliveries. The caller
// holds s.mu; nothing here waits for a subscriber.
func (s *Server) publish(channel, msg []byte) int {
	ps := s.pubsub()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	n := 0
	if subs := ps.channels[string(channel)]; len(subs) > 0 {
		m := redcon.AppendArray(nil, 3)
		m = redcon.AppendBulkString(m, "message")
		m = redcon.AppendBulk(m, channel)
		m = redcon.AppendBulk(m, msg)
		for cl := range subs {
			s.deliver(cl, m)
			n++
		}
	}
	for pat, subs := range ps.patterns {
		if !keyspace.GlobMatch([]byte(pat), channel) {
			continue
		}
		m := redcon.AppendArray(nil, 4)
		m = redcon.AppendBulkString(m, "pmessage")
		m = redcon.AppendBulkString(m, pat)
		m = redcon.AppendBulk(m, channel)
		m = redcon.AppendBulk(m, msg)
		for cl := range subs {
			s.deliver(cl, m)
			n++
		}
	}
	return n
}

// deliver queues m for cl. A subscriber whose queue would pass its bound
// is disconnected instead of ever slowing the publisher.
func (s *Server) deliver(cl *client, m []byte) {
	if cl.sub == nil || cl.sub.out.push(m) {
		return
	}
	if !cl.killed.CompareAndSwap(false, true) {
		return // closed already (and logged once)
	}
	s.met.outputLimitClosed.WithLabelValues(outbuf.PubSub).Inc()
	s.log.Warn("pub/sub client over its output limit; disconnecting",
		"id", cl.id, "addr", cl.addr, "limit", cl.sub.out.limit)
	if cl.conn != nil {
		cl.conn.NetConn().Close()
	}
}

// sortedKeys returns m's keys in order (deterministic unsubscribe-all).
func sortedKeys(m map[string]struct{}) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// outQueue is a detached client's output: bytes appended in execution
// order (replies and messages, both under s.mu) and written to the socket
// by the client's own writer goroutine, so a slow reader only ever delays
// itself.
type outQueue struct {
	limit int64
	wake  chan struct{} // capacity 1: "there may be work"

	mu       sync.Mutex
	buf      []byte
	spare    []byte
	inflight int  // bytes the writer is writing now
	hold     bool // a command is running: its replies wait for durability
	closed   bool // no more output; draining says whether buf still goes out
	draining bool
	dead     bool // over the limit or closed: pushes are dropped
}

func newOutQueue(limit int64) *outQueue {
	return &outQueue{limit: limit, wake: make(chan struct{}, 1)}
}

// pending is the bytes queued and being written (CLIENT LIST omem).
func (q *outQueue) pending() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return int64(len(q.buf) + q.inflight)
}

// signal wakes the writer.
func (q *outQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// push appends a published message. It reports false when that would pass
// the limit: the queue is then dead and its client must be disconnected.
func (q *outQueue) push(m []byte) bool {
	q.mu.Lock()
	if q.dead {
		q.mu.Unlock()
		return true
	}
	if int64(len(q.buf)+q.inflight+len(m)) > q.limit {
		q.dead, q.closed, q.buf = true, true, nil
		q.mu.Unlock()
		q.signal()
		return false
	}
	q.buf = append(q.buf, m...)
	hold := q.hold
	q.mu.Unlock()
	if !hold {
		q.signal()
	}
	return true
}

// appendRaw appends reply bytes (never refused: a client's own replies are
// not bounded, as for Redis' normal clients).
func (q *outQueue) appendRaw(fn func(b []byte) []byte) {
	q.mu.Lock()
	if !q.dead {
		q.buf = fn(q.buf)
	}
	q.mu.Unlock()
}

// prepend puts b before everything queued (the replies redcon buffered
// before the connection was detached).
func (q *outQueue) prepend(b []byte) {
	if len(b) == 0 {
		return
	}
	q.mu.Lock()
	q.buf = append(b, q.buf...)
	q.mu.Unlock()
}

// setHold holds back (true) or releases (false) the queued output.
func (q *outQueue) setHold(hold bool) {
	q.mu.Lock()
	q.hold = hold
	q.mu.Unlock()
	if !hold {
		q.signal()
	}
}

// close ends the queue; with drain, what is queued is still written.
func (q *outQueue) close(drain bool) {
	q.mu.Lock()
	q.closed, q.hold = true, false
	q.draining = drain && !q.dead
	q.dead = true
	q.mu.Unlock()
	q.signal()
}

// next waits for bytes to write; ok is false when the writer must stop.
func (q *outQueue) next() (b []byte, ok bool) {
	for {
		q.mu.Lock()
		if q.closed && !q.draining {
			q.mu.Unlock()
			return nil, false
		}
		if len(q.buf) > 0 && !q.hold {
			b = q.buf
			q.buf, q.spare = q.spare[:0], nil
			q.inflight = len(b)
			q.mu.Unlock()
			return b, true
		}
		if q.closed {
			q.mu.Unlock()
			return nil, false
		}
		q.mu.Unlock()
		<-q.wake
	}
}

// written returns b, fully written, to the queue for reuse.
func (q *outQueue) written(b []byte) {
	q.mu.Lock()
	q.inflight = 0
	if cap(b) <= 64<<10 {
		q.spare = b[:0]
	}
	q.mu.Unlock()
}

// queueReplier is the Replier of a detached client: replies go into its
// outQueue in execution order.
type queueReplier struct{ q *outQueue }

func (r queueReplier) WriteError(msg string) {
	r.q.appendRaw(func(b []byte) []byte { return redcon.AppendError(b, msg) })
}
func (r queueReplier) WriteString(str string) {
	r.q.appendRaw(func(b []byte) []byte { return redcon.AppendString(b, str) })
}
func (r queueReplier) WriteBulk(bulk []byte) {
	r.q.appendRaw(func(b []byte) []byte { return redcon.AppendBulk(b, bulk) })
}
func (r queueReplier) WriteBulkString(bulk string) {
	r.q.appendRaw(func(b []byte) []byte { return redcon.AppendBulkString(b, bulk) })
}
func (r queueReplier) WriteInt(num int) { r.WriteInt64(int64(num)) }
func (r queueReplier) WriteInt64(num int64) {
	r.q.appendRaw(func(b []byte) []byte { return redcon.AppendInt(b, num) })
}
func (r queueReplier) WriteArray(count int) {
	r.q.appendRaw(func(b []byte) []byte { return redcon.AppendArray(b, count) })
}
func (r queueReplier) WriteNull() {
	r.q.appendRaw(func(b []byte) []byte { return redcon.AppendNull(b) })
}
func (r queueReplier) WriteRaw(data []byte) {
	r.q.appendRaw(func(b []byte) []byte { return append(b, data...) })
}

// detachSubscriber takes over the connection of a client that has
// subscribed: redcon stops serving it, and two goroutines of ours do — a
// reader that runs the client's commands and a writer that drains its
// outQueue — so a published message never waits for a subscriber. It runs
// on redcon's connection goroutine, after the pipeline that subscribed.
func (s *Server) detachSubscriber(cl *client, conn redcon.Conn) {
	q := cl.sub.out
	cl.outq.Store(q)
	cl.outClass.Store(outPubSub)
	if bw := redcon.BaseWriter(conn); bw != nil {
		// The pipeline's replies, which come before any message queued
		// since.
		q.prepend(bw.Buffer())
		bw.SetBuffer(nil)
	}
	dc := conn.Detach()
	if !s.life.OwnN(2) {
		q.close(false)
		s.endDetached(cl, dc)
		return
	}
	writerDone := make(chan struct{})
	go s.subscriberWriter(cl, q, writerDone)
	go s.subscriberReader(cl, dc, q, writerDone)
}

// subscriberReader runs a detached client's commands one by one until it
// quits, is killed or disconnects, then cleans up after it.
func (s *Server) subscriberReader(cl *client, dc redcon.DetachedConn, q *outQueue, writerDone <-chan struct{}) {
	defer s.life.Done()
	rep := queueReplier{q: q}
	cmds := make([]redcon.Command, 1)
	for !cl.quit && !cl.killed.Load() {
		cmd, err := dc.ReadCommand()
		if err != nil {
			if msg := err.Error(); len(msg) > 15 && msg[:15] == "Protocol error:" {
				rep.WriteError("ERR " + msg)
				cl.quit = true
			}
			break
		}
		cmds[0] = cmd
		q.setHold(true)
		s.runPipeline(cl, rep, cmds)
		q.setHold(false)
	}
	drain := cl.quit && !cl.killed.Load() && !s.isClosing()
	q.close(drain)
	nc := dc.NetConn()
	if drain {
		// The last replies (QUIT's +OK) go out unless the client stops
		// reading; then Close or the deadline ends the wait.
		nc.SetWriteDeadline(time.Now().Add(drainTimeout))
	} else {
		nc.Close()
	}
	<-writerDone
	s.endDetached(cl, dc)
}

// drainTimeout bounds how long a quitting detached client's last replies
// may take to be written.
const drainTimeout = 5 * time.Second

// subscriberWriter writes a detached client's output until the queue
// closes or the socket fails.
func (s *Server) subscriberWriter(cl *client, q *outQueue, done chan<- struct{}) {
	defer s.life.Done()
	defer close(done)
	nc := cl.conn.NetConn()
	for {
		b, ok := q.next()
		if !ok {
			return
		}
		if _, err := nc.Write(b); err != nil {
			q.close(false)
			cl.killed.Store(true)
			nc.Close() // wakes the reader
			return
		}
		q.written(b)
	}
}

// endDetached closes a detached client's socket and forgets the client.
func (s *Server) endDetached(cl *client, dc redcon.DetachedConn) {
	dc.NetConn().Close()
	s.mu.Lock()
	s.unsubscribeAll(cl)
	s.mu.Unlock()
	s.forgetClient(cl)
}
