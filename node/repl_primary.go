package node

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"runtime"
	"strconv"
	"time"

	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/node/journal"
	"github.com/batonkv/baton/node/keyspace"
	"github.com/batonkv/baton/node/repl"
	"github.com/tidwall/redcon"
)

// replica is one replica streaming from this node (the primary side of a
// link), registered from BATON.PSYNC until its connection ends.
type replica struct {
	cl   *client
	peer *repl.Peer
	// cur reads the journal after the replica's position; cs is the full
	// sync's snapshot in progress (nil for a partial sync).
	cur *journal.Cursor
	cs  *cowSnapshot
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
	r := &replica{cl: cl}
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
			r.peer = repl.NewPeer(cl.addr, cl.replPort, lsn)
			r.peer.SetOnline()
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
	r.peer = repl.NewPeer(cl.addr, cl.replPort, 0)
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
		s.repl.acks.Add(r.peer)
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
	s.repl.acks.Remove(r.peer)
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
		if r.peer.Online() {
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
			s.repl.acks.Ack(r.peer, lsn, time.Now().UnixNano(), s.jr.LSN)
		}
	}
}

// sendStream sends a full sync's snapshot if one is due, then the journal
// after the replica's position, until ctx ends or a write fails.
func (s *Server) sendStream(ctx context.Context, r *replica, w *resp.Writer) error {
	if r.cs != nil {
		if err := s.sendSnapshot(ctx, r, w); err != nil {
			return err
		}
		r.peer.SetOnline()
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
			repl.WriteLogFrame(w, s.repl.epoch.Load(), s.repl.acks.Waiting(), out)
			continue
		}
		if err := w.Flush(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.cur.C():
		case <-r.peer.GetAck():
			repl.WriteIntFrame(w, repl.FrameGetAck)
		case <-ping.C:
			repl.WriteIntFrame(w, repl.FramePing, s.repl.epoch.Load(), r.cur.Pos())
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
		repl.WriteSnapFrame(w, chunk)
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
	repl.WriteIntFrame(w, repl.FrameSnapEnd, uint64(crc.Sum32()))
	return w.Flush()
}

// waitAcks waits until n replicas acknowledged lsn of generation gen, the
// deadline passes (zero: no deadline) or cl disconnects (see
// repl.Acks.Wait), and returns how many did.
func (s *Server) waitAcks(cl *client, lsn, gen uint64, n int, deadline time.Time) int {
	var gone <-chan struct{}
	if cl.netConn != nil {
		g, stop := cl.netConn.watchClose()
		gone = g
		defer stop()
	}
	got, left := s.repl.acks.Wait(s.ctx, lsn, gen, n, deadline, gone)
	if left {
		cl.killed.Store(true)
	}
	return got
}
