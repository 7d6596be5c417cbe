package repl

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/node/journal"
)

// Link is a replica's link to its primary: one goroutine that connects
// (with backoff), syncs and applies the stream until stopped.
type Link struct {
	h      Host
	target string
	cancel context.CancelFunc
	done   chan struct{}

	mu sync.Mutex
	nc net.Conn // the current connection, closed by Stop
}

// StartLink starts a link to target on a goroutine the host owns, using
// hs first when given (REPLICAOF's handshake); ctx is the node's lifetime.
// It returns nil when the host is closing (hs is closed then).
func StartLink(ctx context.Context, h Host, target string, hs *Handshake) *Link {
	h.Status().setState(LinkConnect)
	ctx, cancel := context.WithCancel(ctx)
	l := &Link{h: h, target: target, cancel: cancel, done: make(chan struct{})}
	ok := h.Go(func() {
		defer close(l.done)
		l.run(ctx, hs)
	})
	if !ok {
		cancel()
		if hs != nil {
			hs.Close()
		}
		return nil
	}
	return l
}

// Stop ends the link and waits for its goroutine (the caller must not
// hold the lock: the link takes it to apply entries).
func (l *Link) Stop() {
	l.cancel()
	l.mu.Lock()
	if l.nc != nil {
		l.nc.Close()
	}
	l.mu.Unlock()
	<-l.done
}

// run connects and streams until ctx ends, retrying with backoff.
func (l *Link) run(ctx context.Context, hs *Handshake) {
	log, st := l.h.Logger(), l.h.Status()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if hs == nil {
			st.setState(LinkConnect)
			var err error
			if hs, err = Dial(ctx, l.h, l.target); err != nil {
				if ctx.Err() == nil {
					log.Warn("replication: cannot reach primary; retrying", "primary", l.target, "err", err, "backoff", backoff)
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
			hs.Close()
			return
		}
		start := time.Now()
		err := l.session(ctx, hs.rc)
		hs.Close()
		hs = nil
		st.setState(LinkConnect)
		if ctx.Err() != nil {
			return
		}
		log.Warn("replication link lost; reconnecting", "primary", l.target, "err", err)
		if time.Since(start) > maxBackoff {
			backoff = 100 * time.Millisecond
		}
	}
}

// session offers the node's history to the primary, runs a full sync if the
// primary asks for one, and applies the stream until an error.
func (l *Link) session(ctx context.Context, rc *resp.Conn) error {
	st := l.h.Status()
	st.setState(LinkConnecting)
	h := l.h.Journal().History()
	args := []string{"BATON.PSYNC", h.Replid, strconv.FormatUint(h.LSN, 10)}
	if h.PrevReplid != "" && h.LSN == h.PrevEnd {
		// The current history holds no entry of its own yet (a node that
		// restarted as a primary minted it, or a promotion nobody wrote
		// to): the data is also the previous history's up to this LSN,
		// which the primary may know when it does not know ours.
		args = append(args, h.PrevReplid)
	}
	pctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	r, err := rc.Do(pctx, args...)
	cancel()
	if err != nil {
		return fmt.Errorf("psync: %w", err)
	}
	if r.Kind != resp.SimpleString {
		return fmt.Errorf("psync refused: %s", resp.Sanitize(r.Str, 256))
	}
	f := strings.Fields(r.Str)
	if len(f) != 4 || (f[0] != "CONTINUE" && f[0] != "FULL") || !journal.ValidReplid(f[1]) {
		return fmt.Errorf("psync: %w: %q", ErrProtocol, r.Str)
	}
	lsn, err1 := strconv.ParseUint(f[2], 10, 64)
	epoch, err2 := strconv.ParseUint(f[3], 10, 64)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("psync: %w: %q", ErrProtocol, r.Str)
	}
	if err := l.checkEpoch(epoch); err != nil {
		return err
	}
	st.heard()
	if f[0] == "FULL" {
		if err := l.fullSync(ctx, rc, f[1], lsn); err != nil {
			return fmt.Errorf("full sync: %w", err)
		}
	} else if err := l.h.ContinueSync(f[1], lsn); err != nil {
		return err
	}
	st.setState(LinkConnected)
	l.h.Logger().Info("replication streaming", "primary", l.target, "mode", f[0], "lsn", st.Applied.Load())
	return l.stream(ctx, rc)
}

// checkEpoch refuses a primary whose epoch is older than the newest seen
// (epochs ride the stream: this runs at PSYNC and for every frame that
// carries another epoch) and adopts a newer one.
func (l *Link) checkEpoch(epoch uint64) error {
	if ours := l.h.Epoch(); epoch < ours {
		l.h.RefuseEpoch(l.target, epoch)
		return fmt.Errorf("%w: primary epoch %d < %d", ErrStaleEpoch, epoch, ours)
	}
	return l.h.RaiseEpoch(epoch)
}

// frameEpoch checks the epoch a frame carries.
func (l *Link) frameEpoch(b []byte) error {
	e, err := FrameUint(b)
	if err != nil {
		return err
	}
	if e == l.h.Epoch() {
		return nil
	}
	return l.checkEpoch(e)
}

// fullSync receives the primary's snapshot at (replid, lsn) and has the
// host install it.
func (l *Link) fullSync(ctx context.Context, rc *resp.Conn, replid string, lsn uint64) error {
	st := l.h.Status()
	// Out of sync before the state says "sync": no moment reports this
	// link's old offset with a full sync under way.
	st.SetSynced(false)
	st.setState(LinkSync)
	start := time.Now()
	ss := &snapStream{rc: rc, st: st, timeout: l.h.LinkTimeout()}
	if err := l.h.FullSync(ctx, ss, replid, lsn); err != nil {
		return err
	}
	l.h.Logger().Info("full sync done", "replid", replid, "lsn", lsn, "bytes", ss.n, "took", time.Since(start))
	return nil
}
