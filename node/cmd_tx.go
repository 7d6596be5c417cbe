package node

import (
	"strings"

	"github.com/batonkv/baton/node/command"
	"github.com/batonkv/baton/node/keyspace"
)

// Transaction error strings, as Redis 7.0 sends them.
const (
	errMultiNested  = "ERR MULTI calls can not be nested"
	errExecNoMulti  = "ERR EXEC without MULTI"
	errDiscardNoMul = "ERR DISCARD without MULTI"
	errWatchInMulti = "ERR WATCH inside MULTI is not allowed"
	errExecAbort    = "EXECABORT Transaction discarded because of previous errors."
)

// nullArray is RESP2's null array, EXEC's reply when a WATCHed key changed.
var nullArray = []byte("*-1\r\n")

// cmdMulti: MULTI starts queuing the connection's commands for EXEC.
func (s *Server) cmdMulti(c *keyspace.Ctx) {
	cl := clientOf(c)
	if c.Replay {
		return
	}
	if cl.inMulti {
		c.Err(errMultiNested)
		return
	}
	cl.inMulti, cl.multiErr, cl.multiQueue = true, false, nil
	c.OK()
}

// cmdDiscard: DISCARD drops the queued transaction and the WATCHes.
func (s *Server) cmdDiscard(c *keyspace.Ctx) {
	cl := clientOf(c)
	if c.Replay {
		return
	}
	if !cl.inMulti {
		c.Err(errDiscardNoMul)
		return
	}
	cl.inMulti, cl.multiErr, cl.multiQueue = false, false, nil
	s.unwatchAll(cl)
	c.OK()
}

// cmdExec: EXEC runs the queued commands atomically (the keyspace lock is
// held throughout) and replies an array of their replies; a queuing error
// aborts it (EXECABORT) and a modified WATCHed key makes it reply a null
// array. Writes are bracketed by multi/exec journal entries so recovery
// and replicas apply the transaction all or nothing.
func (s *Server) cmdExec(c *keyspace.Ctx) {
	cl := clientOf(c)
	if c.Replay {
		return
	}
	if !cl.inMulti {
		c.Err(errExecNoMulti)
		return
	}
	queue, failed := cl.multiQueue, cl.multiErr
	cl.inMulti, cl.multiErr, cl.multiQueue = false, false, nil
	if failed {
		s.unwatchAll(cl)
		c.Err(errExecAbort)
		return
	}
	if cl.watchDirty || s.watchedKeyExpired(cl, c.Now) {
		s.unwatchAll(cl)
		c.W.WriteRaw(nullArray)
		return
	}
	s.unwatchAll(cl)
	writes := false
	for _, args := range queue {
		if cmd := command.Lookup(args[0]); cmd != nil && cmd.Flags&command.FlagWrite != 0 {
			writes = true
			break
		}
	}
	if writes {
		s.appendJournal([][]byte{[]byte(journalMulti)})
	}
	c.W.WriteArray(len(queue))
	for _, args := range queue {
		if blocked := s.call(cl, c.W, args, true); blocked != nil {
			// Blocking commands never block inside EXEC; a handler that
			// still parked gets its timeout reply.
			s.unregisterWaiter(blocked)
			c.W.WriteNull()
		}
	}
	if writes {
		s.appendJournal([][]byte{[]byte(journalExec)})
	}
}

// cmdWatch: WATCH key [key ...] makes the next EXEC fail if any of the
// keys is modified (or expires) before it.
func (s *Server) cmdWatch(c *keyspace.Ctx) {
	cl := clientOf(c)
	if cl.inMulti {
		c.Err(errWatchInMulti)
		return
	}
	for i := 1; i < len(c.Args); i++ {
		s.watchKey(cl, c.Key(i), c.Now)
	}
	c.OK()
}

// cmdUnwatch: UNWATCH forgets every WATCHed key.
func (s *Server) cmdUnwatch(c *keyspace.Ctx) {
	cl := clientOf(c)
	s.unwatchAll(cl)
	c.OK()
}

// rejectCommand replies msg for a command refused before it ran (NOAUTH,
// arity, subscribed mode). A refused EXEC also discards the transaction
// and replies EXECABORT, as Redis' execCommandAbort does. The caller holds
// s.mu.
func (s *Server) rejectCommand(cl *client, w keyspace.Replier, cmd *command.Command, msg string) {
	if cmd.Name == "exec" {
		cl.inMulti, cl.multiErr, cl.multiQueue = false, false, nil
		s.unwatchAll(cl)
		msg = "EXECABORT Transaction discarded because of: " + strings.TrimPrefix(msg, "ERR ")
	}
	s.met.countCommand(cmd, command.ErrorResult(msg))
	w.WriteError(msg)
}
