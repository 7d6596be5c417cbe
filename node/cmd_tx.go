package node

import "strings"

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
func cmdMulti(c *Ctx) {
	if c.replay {
		return
	}
	cl := c.cl
	if cl.inMulti {
		c.err(errMultiNested)
		return
	}
	cl.inMulti, cl.multiErr, cl.multiQueue = true, false, nil
	c.ok()
}

// cmdDiscard: DISCARD drops the queued transaction and the WATCHes.
func cmdDiscard(c *Ctx) {
	if c.replay {
		return
	}
	cl := c.cl
	if !cl.inMulti {
		c.err(errDiscardNoMul)
		return
	}
	cl.inMulti, cl.multiErr, cl.multiQueue = false, false, nil
	c.s.unwatchAll(cl)
	c.ok()
}

// cmdExec: EXEC runs the queued commands atomically (the keyspace lock is
// held throughout) and replies an array of their replies; a queuing error
// aborts it (EXECABORT) and a modified WATCHed key makes it reply a null
// array. Writes are bracketed by multi/exec journal entries so recovery
// and replicas apply the transaction all or nothing.
func cmdExec(c *Ctx) {
	if c.replay {
		return
	}
	cl, s := c.cl, c.s
	if !cl.inMulti {
		c.err(errExecNoMulti)
		return
	}
	queue, failed := cl.multiQueue, cl.multiErr
	cl.inMulti, cl.multiErr, cl.multiQueue = false, false, nil
	if failed {
		s.unwatchAll(cl)
		c.err(errExecAbort)
		return
	}
	if cl.watchDirty || s.watchedKeyExpired(cl, c.now) {
		s.unwatchAll(cl)
		c.w.WriteRaw(nullArray)
		return
	}
	s.unwatchAll(cl)
	writes := false
	for _, args := range queue {
		if cmd := lookupCommand(args[0]); cmd != nil && cmd.Flags&FlagWrite != 0 {
			writes = true
			break
		}
	}
	if writes {
		s.appendJournal([][]byte{[]byte(journalMulti)})
	}
	c.w.WriteArray(len(queue))
	for _, args := range queue {
		if blocked := s.call(cl, c.w, args, true); blocked != nil {
			// Blocking commands never block inside EXEC; a handler that
			// still parked gets its timeout reply.
			s.unregisterWaiter(blocked)
			c.w.WriteNull()
		}
	}
	if writes {
		s.appendJournal([][]byte{[]byte(journalExec)})
	}
}

// cmdWatch: WATCH key [key ...] makes the next EXEC fail if any of the
// keys is modified (or expires) before it.
func cmdWatch(c *Ctx) {
	if c.cl.inMulti {
		c.err(errWatchInMulti)
		return
	}
	for i := 1; i < len(c.args); i++ {
		c.s.watchKey(c.cl, c.key(i), c.now)
	}
	c.ok()
}

// cmdUnwatch: UNWATCH forgets every WATCHed key.
func cmdUnwatch(c *Ctx) {
	c.s.unwatchAll(c.cl)
	c.ok()
}

// rejectCommand replies msg for a command refused before it ran (NOAUTH,
// arity, subscribed mode). A refused EXEC also discards the transaction
// and replies EXECABORT, as Redis' execCommandAbort does. The caller holds
// s.mu.
func (s *Server) rejectCommand(cl *client, w Replier, cmd *Command, msg string) {
	if cmd.Name == "exec" {
		cl.inMulti, cl.multiErr, cl.multiQueue = false, false, nil
		s.unwatchAll(cl)
		msg = "EXECABORT Transaction discarded because of: " + strings.TrimPrefix(msg, "ERR ")
	}
	s.met.countCommand(cmd, errorResult(msg))
	w.WriteError(msg)
}
