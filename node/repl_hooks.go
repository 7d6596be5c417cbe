package node

import (
	"context"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/node/journal"
	"github.com/batonkv/baton/node/repl"
)

// replHooks is the Server as replication sees it (repl.Host): the
// keyspace lock, the journal, applying and installing what the primary
// sends, epochs, snapshots, goroutines, logging and counters, without
// node/repl importing node. Converting a *Server costs nothing.
type replHooks Server

var _ repl.Host = (*replHooks)(nil)

// replHost returns s as replication's repl.Host.
func (s *Server) replHost() repl.Host { return (*replHooks)(s) }

func (h *replHooks) Logger() *slog.Logger { return h.log }

func (h *replHooks) Go(fn func()) bool {
	if !h.life.Own() {
		return false
	}
	go func() {
		defer h.life.Done()
		fn()
	}()
	return true
}

func (h *replHooks) Local() repl.Local {
	port := 0
	if a, ok := (*Server)(h).Addr().(*net.TCPAddr); ok {
		port = a.Port
	}
	local := repl.Local{RunID: (*Server)(h).runID(), Port: port, Auth: h.cfg.PrimaryAuth}
	if h.cfg.ClusterSecret != "" {
		// The replication commands are control commands: only the
		// appliance's internal identity runs them on its primary.
		local.User, local.Auth = coordapi.InternalUser, h.cfg.ClusterSecret
	}
	return local
}

func (h *replHooks) LinkTimeout() time.Duration { return linkTimeout }

func (h *replHooks) Epoch() uint64 { return h.repl.epoch.Load() }

func (h *replHooks) RaiseEpoch(epoch uint64) error { return (*Server)(h).raiseEpoch(epoch) }

func (h *replHooks) RefuseEpoch(primary string, theirs uint64) {
	(*Server)(h).refuseEpoch(primary, theirs)
}

func (h *replHooks) Journal() *journal.Journal { return h.jr }

func (h *replHooks) Status() *repl.Status { return &h.repl.status }

func (h *replHooks) Acks() *repl.Acks { return h.repl.acks }

func (h *replHooks) Count(ev repl.Event, n int64) {
	switch ev {
	case repl.SyncFull:
		h.stats.syncFull.Add(n)
	case repl.SyncPartialOK:
		h.stats.syncPartialOK.Add(n)
	case repl.SyncPartialErr:
		h.stats.syncPartialErr.Add(n)
	case repl.DivergentTail:
		h.repl.divergentTails.Add(1)
		h.repl.divergentEntries.Add(n)
	}
}

func (h *replHooks) ContinueSync(replid string, lsn uint64) error {
	return (*Server)(h).continueSync(replid, lsn)
}

func (h *replHooks) FullSync(ctx context.Context, body io.Reader, replid string, lsn uint64) error {
	return (*Server)(h).fullSync(ctx, body, replid, lsn)
}

func (h *replHooks) ApplyRecords(tx *repl.Txn, records []byte) error {
	return (*Server)(h).applyRecords(tx, records)
}

func (h *replHooks) StartSnapshot() (next func(spare []byte) ([]byte, bool, error), stop func()) {
	return (*Server)(h).fullSyncSnapshot()
}

// linkTimeout drops a replication link that heard nothing (not even a
// PING, or an ack the other way) for this long (a variable so tests can
// shorten it).
var linkTimeout = 10 * time.Second
