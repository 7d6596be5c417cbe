package node

import (
	"fmt"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/node/command"
	"github.com/batonkv/baton/node/keyspace"
	"github.com/tidwall/redcon"
)

// syncReply is where one write's reply lies in a pipeline's output buffer,
// and the LSN it must see acknowledged under --sync-replicas.
type syncReply struct {
	start, end int
	lsn        uint64
	// read is set for a read's reply: it showed the dataset as of lsn,
	// which must be replicated before anyone sees it (no dirty reads).
	read bool
}

// replyBuf is the reply buffer of a connection, looked up once per
// pipeline (runPipeline) or per use (replyLen).
type replyBuf struct{ w *redcon.Writer }

// replyBuffer returns w's reply buffer; it has none when w is not a
// buffered connection.
func replyBuffer(w keyspace.Replier) replyBuf {
	if conn, ok := w.(redcon.Conn); ok {
		return replyBuf{redcon.BaseWriter(conn)}
	}
	return replyBuf{}
}

// len is the length of the replies built so far, or -1 without a buffer.
func (r replyBuf) len() int {
	if r.w == nil {
		return -1
	}
	return writerLen(r.w)
}

// replyLen is the length of the reply buffer behind w, or -1 when w is not
// a buffered connection.
func replyLen(w keyspace.Replier) int { return replyBuffer(w).len() }

// noteSyncReply records a write's reply position for --sync-replicas; the
// caller holds s.mu.
func (s *Server) noteSyncReply(cl *client, start int, w keyspace.Replier, lsn uint64) {
	if start < 0 {
		return
	}
	cl.syncReplies = append(cl.syncReplies, syncReply{start: start, end: replyLen(w), lsn: lsn})
}

// noteSyncRead holds a read's reply, under --sync-replicas, until the
// writes it may show (up to lsn: see readLSN) are acknowledged by the
// replicas, like a write's: otherwise a client could read a value whose
// write is still waiting for its replicas, and a failover then could take
// back what it saw (a dirty read, found by the chaos suite's
// linearizability check). The caller holds s.mu.
func (s *Server) noteSyncRead(cl *client, start int, w keyspace.Replier, lsn uint64) {
	if start < 0 || lsn == 0 || lsn <= s.repl.acks.Floor() {
		return
	}
	cl.syncReplies = append(cl.syncReplies, syncReply{start: start, end: replyLen(w), lsn: lsn, read: true})
	if lsn > cl.pendingLSN {
		cl.pendingLSN = lsn
		cl.pendingGen = s.repl.acks.Gen()
	}
}

// writeServed copies out the reply of cl's blocked command that another
// client's command served (serveReady) and, under --sync-replicas, holds
// it until the replicas acknowledge the pop's journal entry, like an
// immediate pop's: a late-served pop answered before its acks could be
// undone by a failover that brings the element back. settle (at the end
// of the pipeline, or before the next park) turns it into NOREPL on
// timeout. The caller holds s.mu.
func (s *Server) writeServed(cl *client, w keyspace.Replier, b *waiter) {
	start := -1
	if s.cfg.SyncReplicas > 0 {
		start = replyLen(w)
	}
	w.WriteRaw(b.reply)
	if b.lsn == 0 {
		return
	}
	if b.lsn > cl.pendingLSN {
		cl.pendingLSN, cl.pendingGen = b.lsn, b.gen
	}
	s.noteSyncReply(cl, start, w, b.lsn)
}

// retrySync retries cl's parked command on its own goroutine (timed out,
// or woken to re-check) and holds a reply that wrote (a pop that found an
// element) until the replicas acknowledge it, as writeServed does. The
// caller holds s.mu.
func (s *Server) retrySync(cl *client, w keyspace.Replier, b *waiter, timedOut bool) *waiter {
	before, start := s.lastLSN, -1
	if s.cfg.SyncReplicas > 0 {
		start = replyLen(w)
	}
	next := s.retry(b, timedOut)
	if next == nil && s.lastLSN > before {
		s.noteSyncReply(cl, start, w, s.lastLSN)
	}
	return next
}

// observes reports whether cmd's reply can show the dataset (a read, or
// EXEC of reads): under --sync-replicas it waits for replication too.
func observes(cmd *command.Command) bool {
	return cmd != nil && (cmd.Flags&command.FlagReadonly != 0 || cmd.Name == "exec")
}

// settle makes the client's writes so far as durable as the fsync policy
// promises and, under --sync-replicas k, acknowledged by k replicas: a
// write whose acknowledgements do not arrive within the sync timeout has
// its reply replaced by a NOREPL error. The write itself stays applied and
// journaled (it may still reach the replicas, and survives a restart of
// this node): the error says its replication is not guaranteed, not that
// it did not happen — like a Redis client whose WAIT returned too few.
// Called without s.mu.
func (s *Server) settle(cl *client, w keyspace.Replier) {
	lsn, gen := cl.pendingLSN, cl.pendingGen
	if lsn == 0 {
		return
	}
	cl.pendingLSN = 0
	if err := s.jr.WaitDurable(lsn); err != nil {
		s.log.Error("journal not durable; closing client", "lsn", lsn, "err", err)
		cl.killed.Store(true)
		return
	}
	k := s.cfg.SyncReplicas
	if k <= 0 {
		return
	}
	defer func() { cl.syncReplies = cl.syncReplies[:0] }()
	if unsafeAckBeforeSync {
		return
	}
	// Only acknowledgements that counted as they arrived are seen here
	// (acksCount): a coordinated primary counts none that came after its
	// lease lapsed, so a deposed primary answers NOREPL however many of
	// its replicas still acked.
	if s.repl.acks.FloorCovers(lsn, gen) || s.repl.acks.AckedIn(lsn, gen) >= k {
		return
	}
	if got := s.waitAcks(cl, lsn, gen, k, time.Now().Add(s.cfg.SyncTimeout)); got >= k {
		return
	}
	s.failUnreplicated(cl, w, k, gen)
}

// acksCount is the rule repl.Acks applies to every replica
// acknowledgement as it arrives (repl.Acks.SetGate): a standalone node
// counts them all; a coordinated one only under its lease, or while a
// takeover froze it (coord.Coordinator.AcksCount has the invariant).
func (s *Server) acksCount() bool {
	return s.coord == nil || s.coord.AcksCount(time.Now())
}

// failUnreplicated replaces the replies of the writes (and reads) that
// fewer than k replicas acknowledged in generation gen with a NOREPL
// error; when acknowledgements no longer count (acksCount: the lease
// lapsed), the error says so.
func (s *Server) failUnreplicated(cl *client, w keyspace.Replier, k int, gen uint64) {
	lapsed := !s.acksCount()
	conn, ok := w.(redcon.Conn)
	if !ok {
		return
	}
	bw := redcon.BaseWriter(conn)
	if bw == nil {
		return
	}
	old := bw.Buffer()
	var out []byte
	pos := 0
	for _, r := range cl.syncReplies {
		if r.end > len(old) || r.start < pos {
			break // the buffer was flushed meanwhile; nothing left to fix
		}
		got := s.repl.acks.AckedIn(r.lsn, gen)
		if got >= k || s.repl.acks.FloorCovers(r.lsn, gen) {
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(old)+128)
		}
		s.met.noRepl.Inc()
		out = append(out, old[pos:r.start]...)
		out = append(out, '-')
		switch {
		case lapsed && r.read:
			out = fmt.Appendf(out, coordapi.ErrCodeNoRepl+" read not answered: this node's write lease lapsed before the data it saw (up to LSN %d) was acknowledged by %d required replicas; it may not survive a failover",
				r.lsn, k)
		case lapsed:
			out = fmt.Appendf(out, coordapi.ErrCodeNoRepl+" write applied and journaled at LSN %d but this node's write lease lapsed before %d required replicas acknowledged it; it may be lost on failover",
				r.lsn, k)
		case r.read:
			out = fmt.Appendf(out, coordapi.ErrCodeNoRepl+" read not answered: the data it saw (up to LSN %d) was acknowledged by %d of %d required replicas within %s and may not survive a failover",
				r.lsn, got, k, s.cfg.SyncTimeout)
		default:
			out = fmt.Appendf(out, coordapi.ErrCodeNoRepl+" write applied and journaled at LSN %d but acknowledged by %d of %d required replicas within %s; it may be lost on failover",
				r.lsn, got, k, s.cfg.SyncTimeout)
		}
		out = append(out, '\r', '\n')
		pos = r.end
	}
	if out == nil {
		return
	}
	out = append(out, old[pos:]...)
	bw.SetBuffer(out)
}
