package node

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/node/command"
	"github.com/batonkv/baton/node/journal"
	"github.com/batonkv/baton/node/keyspace"
	"github.com/batonkv/baton/node/repl"
)

// Timeouts of the replica side of a link.
const (
	// handshakeTimeout bounds connect + AUTH + BATON.HANDSHAKE.
	handshakeTimeout = 5 * time.Second
	// ackInterval is how often a replica acknowledges its applied LSN.
	ackInterval = 100 * time.Millisecond
	// maxBackoff caps the delay between reconnection attempts.
	maxBackoff = 2 * time.Second
)

// linkTimeout drops a link that heard nothing (not even a PING, or an ack
// the other way) for this long (a variable so tests can shorten it).
var linkTimeout = 10 * time.Second

// handshake is an authenticated connection to a primary that accepted
// BATON.HANDSHAKE, and what the primary said of itself.
type handshake struct {
	rc     *resp.Conn
	runID  string
	replid string
	lsn    uint64
	epoch  uint64
}

// dialPrimary connects to target, authenticates and handshakes, changing
// nothing in the node: the v2 REPLICAOF does this before it commits to the
// switch.
func (s *Server) dialPrimary(ctx context.Context, target string) (*handshake, error) {
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	rc, err := resp.Dial(ctx, target, s.cfg.PrimaryAuth)
	if err != nil {
		return nil, err
	}
	repl.BoundFrames(rc.Reader)
	hs, err := s.handshakeOn(ctx, rc)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return hs, nil
}

// handshakeOn runs BATON.HANDSHAKE on a fresh, authenticated connection.
func (s *Server) handshakeOn(ctx context.Context, rc *resp.Conn) (*handshake, error) {
	port := 0
	if a, ok := s.Addr().(*net.TCPAddr); ok {
		port = a.Port
	}
	r, err := rc.Do(ctx, "BATON.HANDSHAKE", s.runID(), strconv.Itoa(port), strconv.FormatUint(s.repl.epoch.Load(), 10))
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	if r.Kind == resp.ErrorReply {
		return nil, fmt.Errorf("handshake refused (not a compatible Baton node?): %s", r.Str)
	}
	if r.Kind != resp.Array || len(r.Elems) != 5 {
		return nil, fmt.Errorf("handshake: %w: unexpected reply %s", repl.ErrProtocol, resp.Sanitize(r.String(), 128))
	}
	hs := &handshake{rc: rc, runID: r.Elems[0].Str, replid: r.Elems[1].Str}
	hs.lsn, err = strconv.ParseUint(r.Elems[2].Str, 10, 64)
	if err == nil {
		hs.epoch, err = strconv.ParseUint(r.Elems[3].Str, 10, 64)
	}
	if err != nil {
		return nil, fmt.Errorf("handshake: %w: %v", repl.ErrProtocol, err)
	}
	if hs.runID == s.runID() {
		return nil, errSelf
	}
	if ours := s.repl.epoch.Load(); hs.epoch < ours {
		s.refuseEpoch(rc.NetConn().RemoteAddr().String(), hs.epoch)
		return nil, fmt.Errorf("%w: the primary is at epoch %d, this node has seen %d", errStaleEpoch, hs.epoch, ours)
	}
	return hs, nil
}

// replLink is a replica's link to its primary: one goroutine that connects
// (with backoff), syncs and applies the stream until stopped.
type replLink struct {
	s      *Server
	target string
	cancel context.CancelFunc
	done   chan struct{}

	mu sync.Mutex
	nc net.Conn // the current connection, closed by stop
}

// newLink starts a link to target, using hs first when given; the caller
// holds s.mu. It returns nil when the server is closing.
func (s *Server) newLink(target string, hs *handshake) *replLink {
	s.repl.linkState.Store(linkConnect)
	if !s.ownGoroutines(1) {
		if hs != nil {
			hs.rc.Close()
		}
		return nil
	}
	ctx, cancel := context.WithCancel(s.ctx)
	l := &replLink{s: s, target: target, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer s.wg.Done()
		defer close(l.done)
		l.run(ctx, hs)
	}()
	return l
}

// stop ends the link and waits for its goroutine.
func (l *replLink) stop() {
	l.cancel()
	l.mu.Lock()
	if l.nc != nil {
		l.nc.Close()
	}
	l.mu.Unlock()
	<-l.done
}

// run connects and streams until ctx ends, retrying with backoff.
func (l *replLink) run(ctx context.Context, hs *handshake) {
	s := l.s
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if hs == nil {
			s.repl.linkState.Store(linkConnect)
			var err error
			hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
			hs, err = s.dialPrimary(hctx, l.target)
			cancel()
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("replication: cannot reach primary; retrying", "primary", l.target, "err", err, "backoff", backoff)
				}
				select {
				case <-ctx.Done():
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, maxBackoff)
				continue
			}
		}
		l.mu.Lock()
		l.nc = hs.rc.NetConn()
		l.mu.Unlock()
		if ctx.Err() != nil {
			hs.rc.Close()
			return
		}
		start := time.Now()
		err := l.session(ctx, hs)
		hs.rc.Close()
		hs = nil
		s.repl.linkState.Store(linkConnect)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("replication link lost; reconnecting", "primary", l.target, "err", err)
		if time.Since(start) > maxBackoff {
			backoff = 100 * time.Millisecond
		}
	}
}

// session offers the node's history to the primary, runs a full sync if the
// primary asks for one, and applies the stream until an error.
func (l *replLink) session(ctx context.Context, hs *handshake) error {
	s := l.s
	rc := hs.rc
	s.repl.linkState.Store(linkConnecting)
	s.mu.Lock()
	h := s.jr.History()
	s.mu.Unlock()
	pctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	r, err := rc.Do(pctx, "BATON.PSYNC", h.Replid, strconv.FormatUint(h.LSN, 10))
	cancel()
	if err != nil {
		return fmt.Errorf("psync: %w", err)
	}
	if r.Kind != resp.SimpleString {
		return fmt.Errorf("psync refused: %s", resp.Sanitize(r.Str, 256))
	}
	f := strings.Fields(r.Str)
	if len(f) != 4 || (f[0] != "CONTINUE" && f[0] != "FULL") || !journal.ValidReplid(f[1]) {
		return fmt.Errorf("psync: %w: %q", repl.ErrProtocol, r.Str)
	}
	lsn, err1 := strconv.ParseUint(f[2], 10, 64)
	epoch, err2 := strconv.ParseUint(f[3], 10, 64)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("psync: %w: %q", repl.ErrProtocol, r.Str)
	}
	if err := l.checkEpoch(epoch); err != nil {
		return err
	}
	s.repl.lastIO.Store(time.Now().UnixNano())
	if f[0] == "FULL" {
		if err := l.fullSync(ctx, rc, f[1], lsn); err != nil {
			return fmt.Errorf("full sync: %w", err)
		}
	} else if err := l.continueSync(f[1], lsn); err != nil {
		return err
	}
	s.repl.linkState.Store(linkConnected)
	s.log.Info("replication streaming", "primary", l.target, "mode", f[0], "lsn", s.repl.applied.Load())
	return l.stream(ctx, rc)
}

// checkEpoch refuses a primary whose epoch is older than the newest seen
// and adopts a newer one.
func (l *replLink) checkEpoch(epoch uint64) error {
	s := l.s
	if ours := s.repl.epoch.Load(); epoch < ours {
		s.refuseEpoch(l.target, epoch)
		return fmt.Errorf("%w: primary epoch %d < %d", errStaleEpoch, epoch, ours)
	}
	return s.raiseEpoch(epoch)
}

// continueSync adopts the primary's history id after a partial sync (the
// primary may have been promoted since: its new id continues ours).
func (l *replLink) continueSync(replid string, lsn uint64) error {
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastLSN != lsn {
		return fmt.Errorf("psync: %w: CONTINUE at %d but this node is at %d", repl.ErrProtocol, lsn, s.lastLSN)
	}
	if s.jr.Replid() != replid {
		if _, err := s.jr.SwitchHistory(replid); err != nil {
			return err
		}
	}
	s.repl.synced = true
	s.repl.applied.Store(s.lastLSN)
	return nil
}

// stream applies frames until the connection fails or ctx ends, and acks.
func (l *replLink) stream(ctx context.Context, rc *resp.Conn) error {
	s := l.s
	ackDone := make(chan struct{})
	ackNow := make(chan struct{}, 1)
	var wmu sync.Mutex
	sendAck := func() error {
		wmu.Lock()
		defer wmu.Unlock()
		return rc.Send("REPLCONF", "ACK", strconv.FormatUint(s.repl.applied.Load(), 10))
	}
	sctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		<-ackDone
	}()
	go func() {
		defer close(ackDone)
		t := time.NewTicker(ackInterval)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
			case <-ackNow:
			}
			if sendAck() != nil {
				rc.Close()
				return
			}
		}
	}()
	var tx replTxn
	var f resp.Frame
	for {
		rc.NetConn().SetReadDeadline(time.Now().Add(linkTimeout))
		if err := rc.ReadFrame(&f); err != nil {
			return err
		}
		frame := f.Args
		s.repl.lastIO.Store(time.Now().UnixNano())
		ack := false
		switch string(frame[0]) {
		case repl.FrameLog:
			if len(frame) != 4 {
				return fmt.Errorf("%w: LOG frame of %d elements", repl.ErrProtocol, len(frame))
			}
			if err := l.frameEpoch(frame[1]); err != nil {
				return err
			}
			if err := s.applyRecords(&tx, frame[3]); err != nil {
				return err
			}
			ack = string(frame[2]) == "1"
		case repl.FramePing:
			if len(frame) != 3 {
				return fmt.Errorf("%w: PING frame of %d elements", repl.ErrProtocol, len(frame))
			}
			if err := l.frameEpoch(frame[1]); err != nil {
				return err
			}
		case repl.FrameGetAck:
			ack = true
		default:
			return fmt.Errorf("%w: unexpected frame %q", repl.ErrProtocol, frame[0])
		}
		if ack {
			select {
			case ackNow <- struct{}{}:
			default:
			}
		}
	}
}

// frameEpoch checks the epoch a frame carries.
func (l *replLink) frameEpoch(b []byte) error {
	e, err := repl.FrameUint(b)
	if err != nil {
		return err
	}
	if e == l.s.repl.epoch.Load() {
		return nil
	}
	return l.checkEpoch(e)
}

// replTxn holds the entries of a transaction whose exec marker has not
// arrived yet. They are neither journaled nor applied before it: the
// replica's journal and keyspace only ever hold whole transactions, and a
// link lost in the middle resumes (partial sync) from before the multi.
type replTxn struct {
	open    bool
	entries []replEntry
}

// replEntry is one record of the primary's stream: decoded, and raw as the
// primary's journal holds it.
type replEntry struct {
	e   journal.Entry
	raw []byte
}

// applyRecords journals and applies raw journal records from the primary,
// with the keyspace lock held for the batch. Each record must carry the
// next LSN; it is journaled byte for byte as the primary's.
func (s *Server) applyRecords(tx *replTxn, records []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := journal.EachRecord(records, func(e journal.Entry, raw []byte) error {
		want := s.lastLSN + 1 + uint64(len(tx.entries))
		if e.LSN != want {
			return fmt.Errorf("%w: record LSN %d, expected %d", repl.ErrProtocol, e.LSN, want)
		}
		if len(e.Args) == 0 {
			return fmt.Errorf("%w: empty record at LSN %d", repl.ErrProtocol, e.LSN)
		}
		switch {
		case keyspace.EqFold(e.Args[0], journalMulti):
			tx.open = true
			tx.entries = append(tx.entries[:0], cloneReplEntry(e, raw))
			return nil
		case tx.open && (keyspace.EqFold(e.Args[0], journalExec) || keyspace.EqFold(e.Args[0], journalDiscard)):
			apply := keyspace.EqFold(e.Args[0], journalExec)
			entries := append(tx.entries, replEntry{e, raw})
			tx.open, tx.entries = false, tx.entries[:0]
			for _, te := range entries {
				if err := s.appendReplicated(te); err != nil {
					return err
				}
			}
			if apply {
				for _, te := range entries[1 : len(entries)-1] {
					if err := s.applyReplicated(te.e.Args); err != nil {
						return err
					}
				}
			}
		case tx.open:
			tx.entries = append(tx.entries, cloneReplEntry(e, raw))
			return nil
		default:
			if err := s.appendReplicated(replEntry{e, raw}); err != nil {
				return err
			}
			// Handlers keep argument slices as values: they must not
			// alias the frame buffer, which the next frame reuses.
			if err := s.applyReplicated(cloneArgs(e.Args)); err != nil {
				return err
			}
		}
		s.repl.applied.Store(s.lastLSN)
		return nil
	})
	return err
}

// appendReplicated journals a record of the primary's stream as is; the
// caller holds s.mu.
func (s *Server) appendReplicated(re replEntry) error {
	lsn, err := s.jr.AppendRecord(re.raw)
	if err != nil {
		return err
	}
	s.lastLSN = lsn
	if s.journalTap != nil {
		s.journalTap(re.e.Args)
	}
	return nil
}

// cloneReplEntry copies a record held back in a transaction out of the
// frame buffer.
func cloneReplEntry(e journal.Entry, raw []byte) replEntry {
	return replEntry{e: journal.Entry{LSN: e.LSN, Args: cloneArgs(e.Args)}, raw: bytes.Clone(raw)}
}

// cloneArgs copies arguments into one allocation (each clipped to its
// length, so no append through one reaches the next).
func cloneArgs(in [][]byte) [][]byte {
	n := 0
	for _, a := range in {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	args := make([][]byte, len(in))
	for i, a := range in {
		start := len(buf)
		buf = append(buf, a...)
		args[i] = buf[start:len(buf):len(buf)]
	}
	return args
}

// applyReplicated applies one entry of the primary's stream: like replay
// (the primary's history decides expiry), but through exec, so snapshots
// in progress preserve keys and WATCHers see the change. The caller holds
// s.mu and has journaled the entry.
func (s *Server) applyReplicated(args [][]byte) error {
	cmd := command.Lookup(args[0])
	if cmd == nil || !cmd.ArityOK(len(args)) {
		return errUnknownEntry(args)
	}
	c := keyspace.Ctx{Host: s.host(), DB: s.db, Client: s.replApplier, W: keyspace.Discard{}, Args: args, Cmd: cmd, Now: time.Now().UnixMilli(), Replay: true}
	s.exec(&c)
	return nil
}
