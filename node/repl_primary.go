package node

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/node/journal"
	"github.com/batonkv/baton/node/keyspace"
	"github.com/tidwall/redcon"
)

// replica is one replica streaming from this node (the primary side of a
// link), registered from BATON.PSYNC until its connection ends.
type replica struct {
	cl *client
	// ip and port identify the replica as INFO shows it (port is its
	// listening port, from the handshake).
	ip   string
	port int
	// ack is the last LSN the replica acknowledged; ackAt when (Unix ns).
	ack   atomic.Uint64
	ackAt atomic.Int64
	// online is set once a full sync's snapshot was sent (state "online"
	// in INFO; "send_bulk" before).
	online atomic.Bool
	// getack asks the sender to send GETACK.
	getack chan struct{}
	// cur reads the journal after the replica's position; cs is the full
	// sync's snapshot in progress (nil for a partial sync).
	cur *journal.Cursor
	cs  *cowSnapshot
	// freshAt (Unix ns) is a moment before which the replica holds every
	// write: the basis of its lag in seconds (metrics). target, targetAt
	// and checkedAt belong to the ack reader (noteFresh).
	freshAt   atomic.Int64
	target    uint64
	targetAt  int64
	checkedAt int64
}

// cmdPsync: BATON.PSYNC replid lsn — the replica offers the history and
// LSN it holds. The primary answers +CONTINUE replid lsn epoch when its
// backlog reaches back to lsn in that history (or its previous one, PSYNC2
// style), else +FULL replid lsn epoch followed by a snapshot at lsn taken
// copy-on-write. Either way the connection then carries the stream.
func (s *Server) cmdPsync(c *keyspace.Ctx) {
	cl := clientOf(c)
	if c.Execing || cl.inMulti {
		c.Err("ERR BATON.PSYNC is not allowed in a transaction")
		return
	}
	lsn, err := strconv.ParseUint(c.Arg(2), 10, 64)
	if err != nil {
		c.Err("ERR invalid LSN")
		return
	}
	h := s.jr.History()
	epoch := s.repl.epoch.Load()
	r := &replica{cl: cl, getack: make(chan struct{}, 1), port: cl.replPort}
	r.ip, _, _ = net.SplitHostPort(cl.addr)
	offered := c.Arg(1)
	ok := lsn == 0 || (offered == h.Replid && lsn <= h.LSN) ||
		(h.PrevReplid != "" && offered == h.PrevReplid && lsn <= h.PrevEnd)
	if h.PrevReplid != "" && offered == h.PrevReplid && lsn > h.PrevEnd {
		// A former primary (or a replica of it) holds writes past the
		// point where this node took over: they exist nowhere else.
		s.repl.divergentTails.Add(1)
		s.repl.divergentEntries.Add(int64(lsn - h.PrevEnd))
		s.log.Warn("replica has a divergent tail beyond this history's branch point; its full sync discards it",
			"replica", cl.addr, "history", offered, "branch_lsn", h.PrevEnd, "replica_lsn", lsn, "discarded_entries", lsn-h.PrevEnd)
	}
	if ok {
		if cur, err := s.jr.NewCursor(lsn); err == nil {
			r.cur = cur
			r.ack.Store(lsn)
			r.online.Store(true)
			c.W.WriteString(fmt.Sprintf("CONTINUE %s %d %d", h.Replid, lsn, epoch))
			cl.psync = r
			s.stats.syncPartialOK.Add(1)
			return
		}
		s.stats.syncPartialErr.Add(1)
	}
	s.stats.syncFull.Add(1)
	// A full sync: the snapshot and the cursor start at the same LSN,
	// under this one hold of the lock, so the stream after the snapshot
	// is exactly the journal after it.
	r.cs = s.startSnapshot(false)
	cur, err := s.jr.NewCursor(r.cs.lsn)
	if err != nil {
		s.abortSnapshot(r.cs)
		c.Err("ERR full sync: " + err.Error())
		return
	}
	r.cur = cur
	c.W.WriteString(fmt.Sprintf("FULL %s %d %d", h.Replid, r.cs.lsn, epoch))
	cl.psync = r
}

// startSender detaches a connection that ran BATON.PSYNC and runs its
// sender and ack reader until the replica goes away or the server closes.
func (s *Server) startSender(cl *client, conn redcon.Conn) {
	r := cl.psync
	var pending []byte
	if bw := redcon.BaseWriter(conn); bw != nil {
		pending = append(pending, bw.Buffer()...)
		bw.SetBuffer(nil)
	}
	dc := conn.Detach()
	if !s.ownGoroutines(1) {
		s.dropReplica(r)
		s.endDetached(cl, dc)
		return
	}
	go func() {
		defer s.wg.Done()
		s.repl.replicasMu.Lock()
		s.repl.replicas[r] = struct{}{}
		s.repl.replicasMu.Unlock()
		w := resp.NewWriter(deadlineConn{dc.NetConn()})
		w.WriteRaw(pending)
		ctx, cancel := context.WithCancel(s.ctx)
		readerDone := make(chan struct{})
		go func() {
			defer close(readerDone)
			defer cancel()
			s.readAcks(r, dc)
		}()
		err := s.sendStream(ctx, r, w)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("replica stream ended", "replica", cl.addr, "err", err)
		}
		dc.NetConn().Close()
		<-readerDone
		cancel()
		s.dropReplica(r)
		s.endDetached(cl, dc)
	}()
}

// deadlineConn bounds every write to a replica: one that stops reading
// (partitioned, hung) is dropped after linkTimeout instead of holding its
// sender forever.
type deadlineConn struct{ net.Conn }

// Write implements io.Writer with a write deadline.
func (c deadlineConn) Write(b []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(linkTimeout))
	return c.Conn.Write(b)
}

// dropReplica forgets r and releases its journal cursor and snapshot.
func (s *Server) dropReplica(r *replica) {
	s.repl.replicasMu.Lock()
	delete(s.repl.replicas, r)
	s.repl.replicasMu.Unlock()
	s.mu.Lock()
	if r.cs != nil {
		s.abortSnapshot(r.cs)
	}
	s.mu.Unlock()
	r.cur.Close()
}

// readAcks reads REPLCONF ACK from the replica until the connection ends.
func (s *Server) readAcks(r *replica, dc redcon.DetachedConn) {
	for {
		// A streaming replica acks every 100 ms: silence means it is gone
		// (even if no FIN ever arrives, as in a partition). During a full
		// sync it sends nothing; the sender's write deadline covers it.
		var deadline time.Time
		if r.online.Load() {
			deadline = time.Now().Add(linkTimeout)
		}
		dc.NetConn().SetReadDeadline(deadline)
		cmd, err := dc.ReadCommand()
		if err != nil {
			return
		}
		if len(cmd.Args) == 3 && keyspace.EqFold(cmd.Args[0], "replconf") && keyspace.EqFold(cmd.Args[1], "ack") {
			lsn, err := strconv.ParseUint(string(cmd.Args[2]), 10, 64)
			if err != nil {
				return
			}
			now := time.Now().UnixNano()
			r.ackAt.Store(now)
			s.noteFresh(r, lsn, now)
			if lsn > r.ack.Load() {
				r.ack.Store(lsn)
				s.raiseAckFloor()
				s.signalAcks()
			}
		}
	}
}

// freshCheckInterval bounds how often an ack reader reads the journal's
// LSN for noteFresh (acks may come once per frame under --sync-replicas).
const freshCheckInterval = int64(50 * time.Millisecond)

// noteFresh advances r.freshAt after an ack of lsn at now (Unix ns): the
// ack reader remembers the node's LSN at some moment (target, targetAt);
// once the replica acknowledged it, the replica held every write made
// before that moment, and the next target is the node's LSN now. A replica
// that acknowledged the node's current LSN is fresh as of now.
func (s *Server) noteFresh(r *replica, lsn uint64, now int64) {
	if r.checkedAt != 0 && now-r.checkedAt < freshCheckInterval {
		return
	}
	r.checkedAt = now
	cur := s.jr.LSN()
	switch {
	case lsn >= cur:
		r.freshAt.Store(now)
	case r.targetAt != 0 && lsn >= r.target:
		r.freshAt.Store(r.targetAt)
	case r.targetAt != 0:
		return // still short of the target
	}
	r.target, r.targetAt = cur, now
}

// newGeneration records a role change and wakes every ack waiter: those of
// the previous generation fail (see replState.gen).
func (s *Server) newGeneration() {
	s.repl.gen.Add(1)
	s.repl.ackedFloor.Store(0)
	s.signalAcks()
}

// raiseAckFloor moves the high-water mark of what --sync-replicas k
// replicas acknowledged in this generation up to the k-th highest ack.
func (s *Server) raiseAckFloor() {
	k := s.cfg.SyncReplicas
	if k <= 0 {
		return
	}
	gen := s.repl.gen.Load()
	floor := s.ackFloor(k)
	for {
		cur := s.repl.ackedFloor.Load()
		if floor <= cur || s.repl.gen.Load() != gen {
			return
		}
		if s.repl.ackedFloor.CompareAndSwap(cur, floor) {
			return
		}
	}
}

// floorCovers reports whether lsn of generation gen was acknowledged by
// --sync-replicas replicas at some point: once acknowledged it stays so,
// even if those replicas went away since.
func (s *Server) floorCovers(lsn, gen uint64) bool {
	if s.repl.gen.Load() != gen {
		return false
	}
	covered := lsn <= s.repl.ackedFloor.Load()
	return covered && s.repl.gen.Load() == gen
}

// signalAcks wakes every client waiting for acknowledgements.
func (s *Server) signalAcks() {
	s.repl.replicasMu.Lock()
	close(s.repl.ackCh)
	s.repl.ackCh = make(chan struct{})
	s.repl.replicasMu.Unlock()
}

// sendStream sends a full sync's snapshot if one is due, then the journal
// after the replica's position, until ctx ends or a write fails.
func (s *Server) sendStream(ctx context.Context, r *replica, w *resp.Writer) error {
	if r.cs != nil {
		if err := s.sendSnapshot(ctx, r, w); err != nil {
			return err
		}
		r.online.Store(true)
	}
	ping := time.NewTicker(time.Second)
	defer ping.Stop()
	var buf []byte
	for {
		out, _, err := r.cur.Read(buf[:0], 256<<10)
		if err != nil {
			if errors.Is(err, journal.ErrNotInBacklog) {
				return fmt.Errorf("replica fell behind the backlog (it will resync): %w", err)
			}
			return err
		}
		if len(out) > 0 {
			buf = out
			writeLogFrame(w, s.repl.epoch.Load(), s.repl.ackWaiters.Load() > 0, out)
			continue
		}
		if err := w.Flush(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.cur.C():
		case <-r.getack:
			writeIntFrame(w, frameGetAck)
		case <-ping.C:
			writeIntFrame(w, framePing, s.repl.epoch.Load(), r.cur.Pos())
		}
	}
}

// fullSyncStepHook, when set (tests only), runs after each chunk of a full
// sync's snapshot was written, so a test can hold a sync midway.
var fullSyncStepHook func()

// sendSnapshot streams r's copy-on-write snapshot a step at a time: the
// keyspace lock is held for one step only, and writes go on meanwhile.
func (s *Server) sendSnapshot(ctx context.Context, r *replica, w *resp.Writer) error {
	crc := crc32.New(crc32c)
	var spare []byte
	for done := false; !done; {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var chunk []byte
		aborted := false
		s.mu.Lock()
		if r.cs.aborted {
			aborted = true
		} else if done = s.stepSnapshot(r.cs, cowStepKeys); done {
			chunk = s.endSnapshot(r.cs).data
			r.cs = nil
		} else {
			chunk = r.cs.takeBytes(spare)
		}
		s.mu.Unlock()
		if aborted {
			return errors.New("full sync abandoned: this node's keyspace was replaced")
		}
		crc.Write(chunk)
		writeSnapFrame(w, chunk)
		// The chunk is flushed before its memory is reused.
		if err := w.Flush(); err != nil {
			return err
		}
		spare = chunk
		if fullSyncStepHook != nil {
			fullSyncStepHook()
		}
		runtime.Gosched()
	}
	writeIntFrame(w, frameSnapEnd, uint64(crc.Sum32()))
	return w.Flush()
}

// replicaInfo is one replica as INFO and ROLE show it.
type replicaInfo struct {
	ip     string
	port   int
	state  string
	ack    uint64
	lagSec int64
}

// replicaInfos lists the connected replicas.
func (s *Server) replicaInfos(now time.Time) []replicaInfo {
	s.repl.replicasMu.Lock()
	defer s.repl.replicasMu.Unlock()
	out := make([]replicaInfo, 0, len(s.repl.replicas))
	for r := range s.repl.replicas {
		ri := replicaInfo{ip: r.ip, port: r.port, state: "send_bulk", ack: r.ack.Load(), lagSec: -1}
		if r.online.Load() {
			ri.state = "online"
		}
		if at := r.ackAt.Load(); at > 0 {
			ri.lagSec = int64(now.Sub(time.Unix(0, at)) / time.Second)
		}
		out = append(out, ri)
	}
	return out
}

// ackedReplicas counts the replicas that acknowledged lsn.
func (s *Server) ackedReplicas(lsn uint64) int {
	s.repl.replicasMu.Lock()
	defer s.repl.replicasMu.Unlock()
	n := 0
	for r := range s.repl.replicas {
		if r.ack.Load() >= lsn {
			n++
		}
	}
	return n
}

// ackedIn is ackedReplicas for an LSN of generation gen: 0 once the
// generation moved on.
func (s *Server) ackedIn(lsn, gen uint64) int {
	if s.repl.gen.Load() != gen {
		return 0
	}
	n := s.ackedReplicas(lsn)
	if s.repl.gen.Load() != gen {
		return 0
	}
	return n
}

// waitAcks waits until n replicas acknowledged lsn, the deadline passes
// (zero: no deadline) or cl disconnects, asking every replica for an ack at
// once, and returns how many did.
//
// gen is the generation lsn belongs to: once the node changed role the
// wait ends with 0 (acks of a new history say nothing about lsn).
func (s *Server) waitAcks(cl *client, lsn, gen uint64, n int, deadline time.Time) int {
	s.repl.ackWaiters.Add(1)
	defer s.repl.ackWaiters.Add(-1)
	s.requestAcks()
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	var gone <-chan struct{}
	if cl.netConn != nil {
		g, stop := cl.netConn.watchClose()
		gone = g
		defer stop()
	}
	for {
		s.repl.replicasMu.Lock()
		ch := s.repl.ackCh
		s.repl.replicasMu.Unlock()
		got := s.ackedIn(lsn, gen)
		if got >= n || s.repl.gen.Load() != gen {
			return got
		}
		if n <= s.cfg.SyncReplicas && s.floorCovers(lsn, gen) {
			return n
		}
		select {
		case <-ch:
		case <-timeout:
			return s.ackedIn(lsn, gen)
		case <-gone:
			cl.killed.Store(true)
			return s.ackedIn(lsn, gen)
		case <-s.ctx.Done():
			return s.ackedIn(lsn, gen)
		}
	}
}

// requestAcks asks every replica to acknowledge now (GETACK).
func (s *Server) requestAcks() {
	s.repl.replicasMu.Lock()
	defer s.repl.replicasMu.Unlock()
	for r := range s.repl.replicas {
		select {
		case r.getack <- struct{}{}:
		default:
		}
	}
}

// formatReplicaLine renders INFO's slaveN value.
func (ri replicaInfo) infoLine(lsn uint64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ip=%s,port=%d,state=%s,offset=%d,lag=%d,lag_lsn=%d",
		ri.ip, ri.port, ri.state, ri.ack, max(ri.lagSec, 0), lsn-min(lsn, ri.ack))
	return b.String()
}
