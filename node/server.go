package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/internal/lifecycle"
	"github.com/batonkv/baton/internal/metricshttp"
	"github.com/batonkv/baton/internal/outbuf"
	"github.com/batonkv/baton/internal/resplimit"
	"github.com/batonkv/baton/node/coord"
	"github.com/batonkv/baton/node/journal"
	"github.com/batonkv/baton/node/keyspace"
	"github.com/batonkv/baton/node/repl"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tidwall/redcon"
)

// Server is a datastore node: a RESP server over one keyspace and its
// journal. Create it with New, run it with Serve, stop it with Close.
type Server struct {
	cfg   Config
	log   *slog.Logger
	start time.Time

	// mu is the keyspace lock: every command executes with it held, so
	// commands are atomic and journal order equals execution order.
	mu sync.Mutex
	db *keyspace.DB
	jr *journal.Journal
	// handlers are the command handlers by command index (handlers.go).
	handlers []keyspace.Handler
	// entry is scratch space for journaling a command verbatim (guarded by
	// mu).
	entry [][]byte
	// lastLSN is the LSN of the last entry appended (guarded by mu).
	lastLSN uint64
	// cows are the snapshots in progress (cowsnap.go).
	cows []*cowSnapshot
	// ps holds the pub/sub and WATCH registries (pubsub.go, watch.go).
	ps *pubsubState
	// outLimits are the client-output-buffer-limit (outlimit.go).
	outLimits atomic.Pointer[outbuf.Limits]
	// journalTap, when set (tests only), sees every appended entry.
	journalTap func(args [][]byte)
	// readyKeys are touched keys with blocked clients, and serving is set
	// while serveReady runs (guarded by mu).
	readyKeys []string
	serving   bool
	// blocked maps a key to the clients parked on it (guarded by mu).
	blocked map[string][]*waiter
	// snap is the snapshot state (node/snapshot.go); nil in memory-only
	// mode.
	snap *snapshotter

	rs *redcon.Server

	clientsMu sync.Mutex
	clients   map[int64]*client
	nextID    atomic.Int64

	stats stats
	// freeze is the TAKEN_OVER state of a coordinated takeover.
	freeze freezeState
	// unacked tracks keys of writes the replicas have not acknowledged yet
	// (repl_unacked.go; guarded by mu).
	unacked repl.Unacked
	// repl is the replication state (repl.go); replApplier is the client
	// the primary's stream is applied as.
	repl        replState
	replApplier *client
	replOnce    sync.Once
	// coord runs the node's coordination (node/coord), nil on a
	// standalone node; coordOnce starts it. leaseLog is the lease-log
	// audit file, writeLog the executed-writes audit file (nil: none).
	coord     *coord.Coordinator
	coordOnce sync.Once
	leaseLog  *coord.LeaseLog
	writeLog  *coord.WriteLog

	// admin holds CLIENT PAUSE, SHUTDOWN and run-time CONFIG state
	// (cmd_server.go, pause.go).
	admin adminState

	// met are the node's own metric instruments, reg the registry that
	// also reads its state (metrics.go); web serves them on
	// Config.HTTPAddr (nil when off).
	met *metrics
	reg *prometheus.Registry
	web *metricshttp.Server

	// life owns the server's goroutines, listener and Close order
	// (internal/lifecycle; the hooks are registered at the end of New).
	life *lifecycle.Lifecycle
	// idleTimeout is CONFIG timeout as a time.Duration (0: never), read
	// by idleLoop.
	idleTimeout atomic.Int64
}

// stats are the counters INFO stats reports.
type stats struct {
	commands       atomic.Int64
	connections    atomic.Int64
	rejectedConns  atomic.Int64
	expiredKeys    atomic.Int64
	keyspaceHits   atomic.Int64
	keyspaceMisses atomic.Int64
	// Replication syncs served to replicas, as Redis' sync_full,
	// sync_partial_ok and sync_partial_err (a partial sync asked for in a
	// known history but not served: the backlog no longer covered it).
	syncFull       atomic.Int64
	syncPartialOK  atomic.Int64
	syncPartialErr atomic.Int64
	// takeoverClosed counts connections force-closed at a takeover's
	// checkpoint.
	takeoverClosed atomic.Int64
	// idleClosed counts clients closed for being idle past the timeout.
	idleClosed atomic.Int64
}

// New recovers the node's state from cfg.DataDir (snapshot, then the journal
// tail) and returns a Server ready to Serve.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("node config: %w", err)
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "node"),
		start:   time.Now(),
		db:      keyspace.NewDB(),
		blocked: make(map[string][]*waiter),
		ps:      newPubsubState(),
		clients: make(map[int64]*client),
		life:    lifecycle.New(),
		met:     newMetrics(),
	}
	ls := outbuf.Defaults()
	if cfg.OutputLimits != nil {
		ls = *cfg.OutputLimits
	}
	s.setOutputLimits(ls)
	s.initCoord()
	handlers, err := bindHandlers(keyspace.Handlers(), s.serverHandlers())
	if err != nil {
		s.life.Close()
		return nil, fmt.Errorf("node: %w", err)
	}
	s.handlers = handlers
	s.reg = s.newRegistry()
	s.db.OnExpire = s.journalExpiry
	s.db.Touched = s.touchKey
	jr, err := s.recover()
	if err != nil {
		s.life.Close()
		return nil, err
	}
	s.jr = jr
	s.replApplier = authedClient()
	if err := s.initRepl(); err != nil {
		s.life.Close()
		jr.Close()
		return nil, err
	}
	s.rs = redcon.NewServerNetwork("tcp", cfg.Addr, redcon.HandlerFunc(s.serveRESP), s.accept, s.closedConn)
	if cfg.HTTPAddr != "" {
		if s.web, err = metricshttp.Start(cfg.HTTPAddr, s.reg, s.health); err != nil {
			s.life.Close()
			jr.Close()
			return nil, err
		}
	}
	s.life.Go(s.activeExpireLoop)
	s.idleTimeout.Store(int64(cfg.IdleTimeout))
	s.life.Go(s.idleLoop)
	s.life.Go(func(ctx context.Context) { s.outputWatch(ctx.Done()) })
	if s.snap != nil {
		s.life.Go(s.snapshotLoop)
	}
	// Close, after it stopped accepting: stop the replication link, close
	// every client connection (detached ones too), wake parked clients;
	// once every goroutine ended, close the metrics server, then flush and
	// close the journal.
	s.life.OnClose(s.closeJournal)
	s.life.OnClose(s.closeWriteLog)
	if s.web != nil {
		s.life.OnClose(s.web.Close)
	}
	s.life.OnStop(s.wakeAllBlocked)
	s.life.OnStop(s.closeClients)
	s.life.OnStop(s.stopLink)
	return s, nil
}

// Serve accepts clients on ln until Close. It returns nil after Close, and
// ErrClosed when Close came first.
func (s *Server) Serve(ln net.Listener) error {
	lim := resplimit.Limits{
		MaxBulk:          s.cfg.MaxBulkLen,
		MaxMultibulk:     s.cfg.MaxMultibulkLen,
		MaxQuery:         s.cfg.MaxQueryBuffer,
		MaxInline:        s.cfg.MaxInlineLen,
		PreAuthMultibulk: resplimit.PreAuthMultibulk,
		PreAuthBulk:      resplimit.PreAuthBulk,
	}
	return s.life.Serve(ln, s.rs, func(ln net.Listener) error {
		s.replOnce.Do(s.startReplication)
		s.coordOnce.Do(s.startCoord)
		return s.rs.Serve(limitListener{Listener: ln, lim: lim})
	})
}

// Addr is the listening address once Serve has started, or nil.
func (s *Server) Addr() net.Addr { return s.life.Addr() }

// Close stops accepting, closes every client connection (detached ones
// too), stops background work, and flushes and closes the journal, in the
// order New registered with the lifecycle.
func (s *Server) Close() error { return s.life.Close() }

// closeClients closes every client's socket at Close.
func (s *Server) closeClients() {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	for _, cl := range s.clients {
		cl.killed.Store(true)
		// The socket, not redcon's conn: redcon's Close flushes the reply
		// buffer, racing the connection's own goroutine (redcon #58).
		cl.conn.NetConn().Close()
	}
}

// closeJournal flushes and closes the journal, last of all at Close.
func (s *Server) closeJournal() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.jr.Close(); err != nil {
		return fmt.Errorf("close journal: %w", err)
	}
	return nil
}

// activeExpireLoop removes expired keys ten times a second.
func (s *Server) activeExpireLoop(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.mu.Lock()
			if s.activeExpire() {
				s.db.ActiveExpireCycle(time.Now().UnixMilli(), 16)
			}
			s.mu.Unlock()
		}
	}
}

// activeExpire reports whether this node decides expiry itself (a primary)
// rather than waiting for DELs in the journal stream (a replica).
//
// While clients are paused no key expires (lazily or actively), as in Redis:
// the journal must not grow during a pause, which a takeover relies on.
//
// A replica never expires keys itself: its primary's DELs arrive in the
// stream, at the same point of the history as on the primary.
//
// A coordinated primary without a valid lease does not either: deleting
// would be a write its successor may never see.
func (s *Server) activeExpire() bool {
	return s.admin.pause.active() == pauseNone && !s.isReplica() && !s.frozen() && s.fenceWrite() == ""
}

// journalExpiry journals the deletion of an expired key as DEL, so replay
// and replicas see the same deletion at the same point of the history.
func (s *Server) journalExpiry(key string) {
	s.stats.expiredKeys.Add(1)
	s.appendJournal([][]byte{[]byte("del"), []byte(key)})
	s.noteUnackedKey(key)
}

// appendJournal appends an entry; the caller holds s.mu.
func (s *Server) appendJournal(args [][]byte) uint64 {
	s.lastLSN = s.jr.Append(args)
	if s.writeLog != nil && !s.isReplica() {
		// Every write a primary executes passes here (commands,
		// transaction markers, expiry deletions): the audit of
		// executed writes (coord.WriteLog).
		s.writeLog.Wrote(s.repl.epoch.Load())
	}
	if s.journalTap != nil {
		s.journalTap(args)
	}
	return s.lastLSN
}

// accept admits a connection unless the client limit is reached.
func (s *Server) accept(conn redcon.Conn) bool {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	if s.isClosing() {
		return false
	}
	if len(s.clients) >= s.cfg.MaxClients {
		s.stats.rejectedConns.Add(1)
		conn.NetConn().Write([]byte("-" + errMaxClients + "\r\n"))
		return false
	}
	cl := &client{
		id:      s.nextID.Add(1),
		conn:    conn,
		addr:    conn.RemoteAddr(),
		created: time.Now(),
	}
	cl.authed.Store(s.cfg.RequirePass == "")
	cl.lastAt.Store(cl.created.UnixNano())
	if cc, ok := conn.NetConn().(*clientConn); ok {
		cl.netConn = cc
		cl.laddr = cc.LocalAddr().String()
		// Before its first read (redcon calls accept first): until the
		// client authenticates, Redis' pre-authentication bounds apply.
		cc.guard.SetAuthed(cl.authed.Load)
	}
	conn.SetContext(cl)
	s.clients[cl.id] = cl
	s.stats.connections.Add(1)
	return true
}

// closedConn forgets a connection. A detached connection is forgotten by
// its own loop instead.
func (s *Server) closedConn(conn redcon.Conn, err error) {
	if errors.Is(err, resplimit.ErrHTTP) {
		s.log.Warn("possible security attack: an HTTP request (POST or Host:) on the client port, as a web page may send to attack a datastore; connection closed",
			"client", conn.RemoteAddr())
	}
	cl, ok := conn.Context().(*client)
	if !ok || (err != nil && err.Error() == "detached") {
		return
	}
	s.forgetClient(cl)
}

// forgetClient removes every trace of a closed client.
func (s *Server) forgetClient(cl *client) {
	s.clientsMu.Lock()
	delete(s.clients, cl.id)
	s.clientsMu.Unlock()
	s.mu.Lock()
	s.unwatchAll(cl)
	s.mu.Unlock()
	s.unsubscribeAll(cl)
}

// isClosing reports whether Close has started.
func (s *Server) isClosing() bool { return s.life.Closing() }

// closeWriteLog flushes the executed-writes log's open window at Close.
func (s *Server) closeWriteLog() error {
	s.writeLog.Close()
	return nil
}
