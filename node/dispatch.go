package node

import (
	"strings"
	"time"

	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/node/command"
	"github.com/batonkv/baton/node/keyspace"
	"github.com/tidwall/redcon"
)

// serveRESP is redcon's handler. It takes the rest of the pipeline redcon
// already read, so the whole pipeline runs under one acquisition of the
// keyspace lock and its replies leave in one flush.
func (s *Server) serveRESP(conn redcon.Conn, cmd redcon.Command) {
	cl, ok := conn.Context().(*client)
	if !ok {
		conn.Close()
		return
	}
	// cl.pipe is reused pipeline after pipeline: only this connection's
	// goroutine touches it, and nothing keeps it past runPipeline.
	cl.pipe = append(append(cl.pipe[:0], cmd), conn.ReadPipeline()...)
	cl.busy.Store(true)
	defer cl.busy.Store(false)
	s.runPipeline(cl, conn, cl.pipe)
	clear(cl.pipe)
	if cl.psync != nil {
		// BATON.PSYNC: the connection now carries a replication stream.
		cl.idleExempt.Store(true)
		s.startSender(cl, conn)
		return
	}
	if cl.sub != nil {
		// A client that has subscribed is served by its own loop from now
		// on (node/pubsub.go), so no subscriber can stall a publisher.
		cl.idleExempt.Store(true)
		s.detachSubscriber(cl, conn)
		return
	}
	if cl.quit || cl.killed.Load() {
		if w := redcon.BaseWriter(conn); w != nil {
			w.Flush()
		}
		conn.Close()
		return
	}
	// The replies are written here, not after the handler returns, so
	// that busy covers them: a client that never reads stays busy.
	if w := redcon.BaseWriter(conn); w != nil {
		n := int64(writerLen(w))
		cl.omem.Store(n)
		if s.overOutputLimit(cl, n) {
			// Over the hard limit: closed, its replies never written.
			w.SetBuffer(nil)
			cl.omem.Store(0)
			conn.Close()
			return
		}
		w.Flush()
		cl.omem.Store(0)
		cl.overSoft.Store(0)
	}
	cl.served.Add(1)
	if !cl.parked {
		s.met.pipeline.Observe(time.Since(cl.pipeStart).Seconds())
	}
}

// runPipeline executes cmds in order for cl, holding the keyspace lock
// across consecutive commands. It releases the lock only to park a blocked
// command or to honour CLIENT PAUSE, and before returning waits until the
// client's writes are as durable as the fsync policy promises.
func (s *Server) runPipeline(cl *client, w keyspace.Replier, cmds []redcon.Command) {
	// One clock reading serves the whole pipeline (Redis caches its clock
	// per event-loop iteration in the same way).
	now := time.Now()
	cl.lastAt.Store(now.UnixNano())
	cl.nowMs = now.UnixMilli()
	cl.pipeStart, cl.parked, cl.refused = now, false, ""
	locked, lockedAt := false, 0
	out := replyBuffer(w) // none when w is not a connection: no yields
	for _, cmd := range cmds {
		if cl.quit || cl.killed.Load() {
			break
		}
		if len(cmd.Args) == 0 {
			continue
		}
		if !locked {
			s.mu.Lock()
			locked, lockedAt = true, out.len()
		}
		// Checked with the lock held: CLIENT PAUSE takes effect under the
		// same lock, so no command overtakes a pause that replied OK.
		for s.pausedFor(cl, cmd.Args) {
			s.mu.Unlock()
			locked = false
			s.waitPause(cl, w, cmd.Args)
			cl.nowMs = time.Now().UnixMilli()
			if cl.killed.Load() || s.isClosing() {
				break
			}
			s.mu.Lock()
			locked = true
		}
		if !locked {
			break
		}
		before, start := s.lastLSN, -1
		if s.cfg.SyncReplicas > 0 {
			start = out.len()
		}
		if out.w != nil {
			writerReserve(out.w)
		}
		blocked := s.call(cl, w, cmd.Args, false)
		if out.w != nil {
			// CLIENT LIST omem shows the replies built so far too; past
			// the hard output limit the client is closed at once, the
			// rest of its pipeline not run (as Redis checks the limit on
			// every reply it adds).
			n := int64(writerLen(out.w))
			cl.omem.Store(n)
			if s.overOutputLimit(cl, n) {
				out.w.SetBuffer(nil)
				cl.omem.Store(0)
			}
		}
		if blocked == nil && start >= 0 {
			if s.lastLSN > before {
				s.noteSyncReply(cl, start, w, s.lastLSN)
			} else if rc := command.Lookup(cmd.Args[0]); observes(rc) {
				s.noteSyncRead(cl, start, w, s.readLSN(rc, cmd.Args))
			}
		}
		s.serveReady()
		if fn := cl.deferred; fn != nil {
			// WAIT and REPLICAOF wait without the lock, in order.
			cl.deferred = nil
			s.mu.Unlock()
			s.settle(cl, w)
			fn(w)
			s.mu.Lock()
		}
		for blocked != nil {
			cl.parked = true
			s.mu.Unlock()
			timedOut := s.park(cl, w, blocked)
			cl.nowMs = time.Now().UnixMilli()
			s.mu.Lock()
			switch {
			case blocked.served:
				// Another client's command served this one (serveReady).
				s.writeServed(cl, w, blocked)
				blocked = nil
			case blocked.next != nil:
				blocked = blocked.next
			case cl.killed.Load() || s.isClosing():
				s.unregisterWaiter(blocked)
				blocked = nil
			default:
				blocked = s.retrySync(cl, w, blocked, timedOut)
				s.serveReady()
			}
		}
		if locked && out.len()-lockedAt > lockYieldBytes {
			// A pipeline of large replies (GETs of big values) lets other
			// clients in between its commands: each command still runs
			// whole under the lock, as in Redis, but copying megabytes
			// of replies does not stall every writer behind it.
			s.mu.Unlock()
			locked = false
		}
	}
	if locked {
		s.mu.Unlock()
	}
	s.settle(cl, w)
}

// lockYieldBytes is how many reply bytes a pipeline builds under one hold
// of the keyspace lock before it lets other clients in.
const lockYieldBytes = 64 << 10

// call executes one command with the keyspace lock held. execing is true for
// commands run by EXEC. It returns a waiter when the command must block.
func (s *Server) call(cl *client, w keyspace.Replier, args [][]byte, execing bool) *waiter {
	s.stats.commands.Add(1)
	cmd := command.Lookup(args[0])
	if cmd == nil {
		cl.flagMultiError()
		s.met.countCommand(nil, command.ResultErr)
		w.WriteError(unknownCommand(args))
		return nil
	}
	if !cl.authed.Load() && cmd.Flags&command.FlagNoAuth == 0 {
		cl.flagMultiError()
		s.rejectCommand(cl, w, cmd, errNoAuth)
		return nil
	}
	if !cmd.ArityOK(len(args)) {
		cl.flagMultiError()
		s.rejectCommand(cl, w, cmd, "ERR wrong number of arguments for '"+cmd.Name+"' command")
		return nil
	}
	// Control commands are the appliance's (its processes authenticate as
	// coordapi.InternalUser with the cluster secret): an application
	// client, whatever its password, may not fence, freeze, repoint, stop
	// or reconfigure the node.
	if s.cfg.ClusterSecret != "" && !cl.internal.Load() {
		if name, ok := cmd.Internal(args); ok {
			cl.flagMultiError()
			s.rejectCommand(cl, w, cmd, command.NoPerm(name))
			return nil
		}
	}
	// Invariant (issue 16, finding 6): once a command of a pipeline was
	// refused as not executed (-TRYAGAIN, -TAKENOVER), no later data
	// command of that pipeline runs — it gets the same refusal, even if
	// the lease was renewed or the freeze lifted meanwhile. The proxy
	// replays the refused commands in order, so a client never sees a
	// later write take effect before an earlier refused one.
	if cl.refused != "" && !execing && refusedWhileFrozen(cmd) {
		cl.flagMultiError()
		s.rejectCommand(cl, w, cmd, cl.refused)
		return nil
	}
	if s.frozen() && !execing && refusedWhileFrozen(cmd) {
		// TAKEN_OVER: nothing more runs here; the proxy replays it on
		// the new primary (an EXEC discards its transaction).
		cl.flagMultiError()
		cl.refused = s.takenOverError()
		s.rejectCommand(cl, w, cmd, cl.refused)
		return nil
	}
	if cmd.Flags&command.FlagWrite != 0 && s.isReplica() {
		cl.flagMultiError()
		s.rejectCommand(cl, w, cmd, errReadonly)
		return nil
	}
	// The lease fence (node/coord): a coordinated primary runs a data
	// command — a write, and a read too (issue 16, finding 4: a deposed
	// primary cut off from the coordinators must not serve stale reads) —
	// only under a valid lease. A command queued in MULTI flags the
	// transaction; EXEC checks again when it runs, so a transaction queued
	// under a lease never executes after it expired. The commands EXEC runs
	// are covered by EXEC's own check (same lock hold, same clock).
	// Replicas serve reads by their own rules; a standalone node (s.coord
	// nil) has no fence. Cost on the hot path: flag tests, then one clock
	// reading and two atomic loads per data command, no allocation.
	if s.coord != nil && !execing && needsLease(cl, cmd) && !s.isReplica() {
		if msg := s.fenceWrite(); msg != "" {
			cl.flagMultiError()
			cl.refused = msg
			s.rejectCommand(cl, w, cmd, msg)
			return nil
		}
	}
	if cl.subscribed() && !execing && cmd.Flags&command.FlagSubscribed == 0 {
		s.rejectCommand(cl, w, cmd, "ERR Can't execute '"+cmd.Name+"': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
		return nil
	}
	if cl.inMulti && !execing && cmd.Flags&command.FlagNoMulti == 0 {
		cl.multiQueue = append(cl.multiQueue, args)
		w.WriteString("QUEUED")
		return nil
	}
	now := cl.nowMs
	if now == 0 {
		now = time.Now().UnixMilli()
	}
	c := keyspace.Ctx{Host: s.host(), DB: s.db, Client: cl, W: w, Args: args, Cmd: cmd, Now: now, Execing: execing}
	blocked := s.exec(&c)
	s.met.countCommand(cmd, c.Result)
	return blocked
}

// exec runs c's handler and journals and signals its effects.
func (s *Server) exec(c *keyspace.Ctx) *waiter {
	before := s.lastLSN
	if len(s.cows) > 0 && c.Cmd.Flags&command.FlagWrite != 0 {
		s.preserveCommandKeys(c)
	}
	s.handlers[c.Cmd.Index()](c)
	if c.Dirty > 0 {
		if c.Cmd.Flags&command.FlagWrite != 0 && !c.Journaled && !c.Replay {
			// The journal encodes the entry at once and keeps no reference,
			// so one scratch slice (guarded by s.mu) serves every command.
			s.entry = append(append(s.entry[:0], c.Cmd.NameBytes()), c.Args[1:]...)
			s.appendJournal(s.entry)
			clear(s.entry)
		}
		c.Cmd.EachKey(c.Args, func(i int) { s.touchKey(string(c.Args[i])) })
		if s.lastLSN > before && !c.Replay {
			s.noteUnacked(c.Cmd, c.Args)
		}
	}
	if cl, ok := c.Client.(*client); ok {
		if s.lastLSN > before {
			cl.lastWriteLSN, cl.lastWriteGen = s.lastLSN, s.repl.acks.Gen()
			if !s.serving {
				// A pop serveReady runs for a parked client is settled
				// by that client's goroutine (writeServed), which reads
				// its pending LSN without the lock.
				cl.pendingLSN, cl.pendingGen = cl.lastWriteLSN, cl.lastWriteGen
			}
		}
		cl.lastCmd = c.Cmd.Name
	}
	blocked, _ := c.Blocked.(*waiter)
	return blocked
}

// applyEntry applies one journal entry during recovery; the caller holds
// s.mu. Entries are deterministic, so no reply, expiry decision or new
// journal entry comes of it.
func (s *Server) applyEntry(args [][]byte) error {
	cmd := command.Lookup(args[0])
	if cmd == nil || !cmd.ArityOK(len(args)) {
		return errUnknownEntry(args)
	}
	c := keyspace.Ctx{Host: s.host(), DB: s.db, Client: authedClient(), W: keyspace.Discard{}, Args: args, Cmd: cmd, Now: time.Now().UnixMilli(), Replay: true}
	s.handlers[cmd.Index()](&c)
	return nil
}

// flagMultiError marks a transaction in progress as failed (EXECABORT).
func (cl *client) flagMultiError() {
	if cl.inMulti {
		cl.multiErr = true
	}
}

// unknownCommand formats Redis 7's unknown command error.
func unknownCommand(args [][]byte) string {
	var b strings.Builder
	b.WriteString("ERR unknown command '")
	b.WriteString(resp.Sanitize(string(args[0]), 128))
	b.WriteString("', with args beginning with: ")
	for _, a := range args[1:] {
		if b.Len() > 256 {
			break
		}
		b.WriteString("'")
		b.WriteString(resp.Sanitize(string(a), 128))
		b.WriteString("' ")
	}
	return b.String()
}
