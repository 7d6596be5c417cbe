package repl

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
)

// crc32c is SNAPEND's checksum, CRC-32C of the snapshot body (the
// replica installs it as the snapshot's trailer).
var crc32c = crc32.MakeTable(crc32.Castagnoli)

// Sender is the primary's side of one replica's link, from BATON.PSYNC
// until its connection ends: the journal after the replica's position,
// after a full sync's snapshot when one is due.
type Sender struct {
	h    Host
	peer *Peer
	cur  *journal.Cursor
	// next and stop step and release a full sync's snapshot (nil for a
	// partial sync; next is nil once the snapshot was sent).
	next func(spare []byte) ([]byte, bool, error)
	stop func()
}

// Accept answers BATON.PSYNC replid lsn [alias] from the replica at addr
// (its connection's remote address) listening on port; the caller holds
// the lock. alias (may be empty) is another history the replica's data
// equally belongs to up to lsn (its previous one, when its own holds no
// entry yet). The reply is CONTINUE replid lsn epoch when the backlog
// reaches back to lsn in an offered history that is this node's current
// one or its previous one (PSYNC2 style: siblings of a promoted replica
// continue), else FULL replid lsn epoch, a copy-on-write snapshot at lsn
// to be sent first. Either way Run then carries the stream.
func Accept(h Host, addr string, port int, offered, alias string, lsn uint64) (*Sender, string, error) {
	jr := h.Journal()
	hist := jr.History()
	// The epoch this node leads, not the newest it heard of: a deposed
	// primary's reply must not pass a replica's stale-epoch check.
	epoch := h.LeadEpoch()
	ok := lsn == 0 || continues(hist, offered, lsn) || (alias != "" && continues(hist, alias, lsn))
	if !ok && hist.PrevReplid != "" && (offered == hist.PrevReplid || alias == hist.PrevReplid) && lsn > hist.PrevEnd {
		// A former primary (or a replica of it) holds writes past the
		// point where this node took over, or past where this node's copy
		// of its recovered history ends (it streamed entries a crash then
		// lost): they exist nowhere else.
		h.Count(DivergentTail, int64(lsn-hist.PrevEnd))
		h.Logger().Warn("replica has a divergent tail beyond this history's branch point; its full sync discards it",
			"replica", addr, "history", hist.PrevReplid, "branch_lsn", hist.PrevEnd, "replica_lsn", lsn, "discarded_entries", lsn-hist.PrevEnd)
	}
	if ok {
		if cur, err := jr.NewCursor(lsn); err == nil {
			sn := &Sender{h: h, peer: NewPeer(addr, port, lsn), cur: cur}
			sn.peer.SetOnline()
			h.Count(SyncPartialOK, 1)
			return sn, fmt.Sprintf("CONTINUE %s %d %d", hist.Replid, lsn, epoch), nil
		}
		h.Count(SyncPartialErr, 1)
	}
	h.Count(SyncFull, 1)
	// A full sync: the snapshot and the cursor start at the same LSN,
	// under this one hold of the lock, so the stream after the snapshot
	// is exactly the journal after it.
	at := jr.LSN()
	cur, err := jr.NewCursor(at)
	if err != nil {
		return nil, "", fmt.Errorf("full sync: %w", err)
	}
	sn := &Sender{h: h, peer: NewPeer(addr, port, 0), cur: cur}
	sn.next, sn.stop = h.StartSnapshot()
	return sn, fmt.Sprintf("FULL %s %d %d", hist.Replid, at, epoch), nil
}

// continues reports whether a replica holding history replid up to lsn
// holds a prefix of this node's data. Invariant: only up to where this
// node's copy of that history ends — its current history up to its LSN,
// its previous one up to the branch point (a promotion, or a restart: a
// restarted node begins a new history at what it recovered, since it may
// have streamed more than its disk kept). A replica beyond that holds
// entries this node does not have, or has with other contents.
func continues(hist journal.History, replid string, lsn uint64) bool {
	return (replid == hist.Replid && lsn <= hist.LSN) ||
		(hist.PrevReplid != "" && replid == hist.PrevReplid && lsn <= hist.PrevEnd)
}

// Run streams to the replica over nc until it goes away or ctx ends, then
// releases the sender. pending are replies already built for the
// connection, sent first; readCommand reads the replica's next command
// (its acks) from nc.
func (sn *Sender) Run(ctx context.Context, nc net.Conn, pending []byte, readCommand func() ([][]byte, error)) {
	acks := sn.h.Acks()
	acks.Add(sn.peer)
	timeout := sn.h.LinkTimeout()
	w := resp.NewWriterSize(deadlineConn{nc, timeout}, streamBuffer)
	w.WriteRaw(pending)
	ctx, cancel := context.WithCancel(ctx)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer cancel()
		sn.readAcks(nc, timeout, readCommand)
	}()
	err := sn.send(ctx, w)
	if err != nil && ctx.Err() == nil {
		sn.h.Logger().Warn("replica stream ended", "replica", sn.peer.Addr, "err", err)
	}
	nc.Close()
	<-readerDone
	cancel()
	sn.Close()
}

// Close forgets the replica and releases its journal cursor and snapshot
// (Run does it; call it for a sender that never runs).
func (sn *Sender) Close() {
	sn.h.Acks().Remove(sn.peer)
	if sn.stop != nil {
		sn.stop()
	}
	sn.cur.Close()
}

// deadlineConn bounds every write to a replica: one that stops reading
// (partitioned, hung) is dropped after the link timeout instead of holding
// its sender forever.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

// Write implements io.Writer with a write deadline.
func (c deadlineConn) Write(b []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(b)
}

// readAcks reads REPLCONF ACK from the replica until the connection ends.
func (sn *Sender) readAcks(nc net.Conn, timeout time.Duration, readCommand func() ([][]byte, error)) {
	acks, jr := sn.h.Acks(), sn.h.Journal()
	for {
		// A streaming replica acks every 100 ms: silence means it is gone
		// (even if no FIN ever arrives, as in a partition). During a full
		// sync it sends nothing; the sender's write deadline covers it.
		var deadline time.Time
		if sn.peer.Online() {
			deadline = time.Now().Add(timeout)
		}
		nc.SetReadDeadline(deadline)
		args, err := readCommand()
		if err != nil {
			return
		}
		if len(args) == 3 && keyspace.EqFold(args[0], "replconf") && keyspace.EqFold(args[1], "ack") {
			lsn, err := strconv.ParseUint(string(args[2]), 10, 64)
			if err != nil {
				return
			}
			acks.Ack(sn.peer, lsn, time.Now().UnixNano(), jr.LSN)
		}
	}
}

// send sends a full sync's snapshot if one is due, then the journal after
// the replica's position, until ctx ends or a write fails.
func (sn *Sender) send(ctx context.Context, w *resp.Writer) error {
	if sn.next != nil {
		if err := sn.sendSnapshot(ctx, w); err != nil {
			return err
		}
		sn.peer.SetOnline()
	}
	ping := time.NewTicker(time.Second)
	defer ping.Stop()
	acks := sn.h.Acks()
	var buf []byte
	for {
		out, _, err := sn.cur.Read(buf[:0], 256<<10)
		if err != nil {
			if errors.Is(err, journal.ErrNotInBacklog) {
				return fmt.Errorf("replica fell behind the backlog (it will resync): %w", err)
			}
			return err
		}
		if len(out) > 0 {
			buf = out
			WriteLogFrame(w, sn.h.LeadEpoch(), acks.Waiting(), out)
			continue
		}
		if err := w.Flush(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-sn.cur.C():
		case <-sn.peer.GetAck():
			WriteIntFrame(w, FrameGetAck)
		case <-ping.C:
			WriteIntFrame(w, FramePing, sn.h.LeadEpoch(), sn.cur.Pos())
		}
	}
}

// sendSnapshot streams the full sync's copy-on-write snapshot a step at a
// time: the host holds its lock for one step only, and writes go on
// meanwhile.
func (sn *Sender) sendSnapshot(ctx context.Context, w *resp.Writer) error {
	crc := crc32.New(crc32c)
	var spare []byte
	for done := false; !done; {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		chunk, last, err := sn.next(spare)
		if err != nil {
			return err
		}
		done = last
		crc.Write(chunk)
		WriteSnapFrame(w, chunk)
		// The chunk is flushed before its memory is reused.
		if err := w.Flush(); err != nil {
			return err
		}
		spare = chunk
		runtime.Gosched()
	}
	sn.next = nil
	WriteIntFrame(w, FrameSnapEnd, uint64(crc.Sum32()))
	return w.Flush()
}
