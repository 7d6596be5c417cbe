package node

import (
	"fmt"

	"github.com/tidwall/redcon"
)

// Replier is where a command writes its reply: a client connection, a MULTI
// reply array, or nowhere (journal replay).
type Replier interface {
	WriteError(msg string)
	WriteString(str string)
	WriteBulk(bulk []byte)
	WriteBulkString(bulk string)
	WriteInt(num int)
	WriteInt64(num int64)
	WriteArray(count int)
	WriteNull()
	WriteRaw(data []byte)
}

var _ Replier = (redcon.Conn)(nil)

// discard is the Replier of journal replay: replies go nowhere.
type discard struct{}

func (discard) WriteError(string)      {}
func (discard) WriteString(string)     {}
func (discard) WriteBulk([]byte)       {}
func (discard) WriteBulkString(string) {}
func (discard) WriteInt(int)           {}
func (discard) WriteInt64(int64)       {}
func (discard) WriteArray(int)         {}
func (discard) WriteNull()             {}
func (discard) WriteRaw([]byte)        {}

// Ctx is one command's execution context. It lives for one command only.
// Handlers run with the server lock held, so they may use DB freely but must
// never block; blocking commands use the waiter mechanism instead.
type Ctx struct {
	s    *Server
	db   *DB
	cl   *client // the issuing client; a detached placeholder during replay
	w    Replier
	args [][]byte // args[0] is the command name as sent
	cmd  *Command
	now  int64 // Unix ms, fixed for the whole command like Redis' cached time

	// dirty counts keyspace changes; a write command with dirty > 0 is
	// journaled as args unless it journaled its effects explicitly.
	dirty int
	// journaled is set once the command appended an explicit entry.
	journaled bool
	// replay is true while applying journal entries: no replies, no expiry
	// decisions of our own, no new journal entries.
	replay bool
	// execing is true for commands run by EXEC: blocking commands must not
	// block there.
	execing bool
	// blocked is set by blockOn; timedOut tells a retried blocking command
	// that its deadline passed, so it replies its timeout value.
	blocked  *waiter
	timedOut bool
	// result is the command's result for metrics: resultOK unless it
	// replied an error through err or wrongArity.
	result uint8
}

// arg returns args[i] as a string.
func (c *Ctx) arg(i int) string { return string(c.args[i]) }

// key returns args[i] as a key string.
func (c *Ctx) key(i int) string { return string(c.args[i]) }

// lookup returns the live value of key (nil when missing or expired).
//
// During replay a key is returned even past its deadline: the journal is
// the primary's history, in which the key was alive when the entry was
// written (had it expired, a DEL would precede the entry). Judging expiry
// by the replaying node's clock would apply the entry to a different state
// (Redis' replicas do the same for their master's stream).
func (c *Ctx) lookup(key string) any {
	if c.replay {
		return c.db.keys[key]
	}
	v := c.db.get(key, c.now, c.s.activeExpire())
	if c.cmd != nil && c.cmd.Flags&FlagReadonly != 0 {
		if v == nil {
			c.s.stats.keyspaceMisses.Add(1)
		} else {
			c.s.stats.keyspaceHits.Add(1)
		}
	}
	return v
}

// journal appends an explicit journal entry for this command's effects, for
// commands whose arguments are not a deterministic description of what they
// did (relative expiry, random pops, blocking pops, float increments).
func (c *Ctx) journal(args ...[]byte) {
	c.journaled = true
	if c.replay {
		return
	}
	c.s.appendJournal(args)
}

// journalStrings is journal with string arguments.
func (c *Ctx) journalStrings(args ...string) {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	c.journal(b...)
}

// touch records that key was modified (WATCH, blocked clients).
func (c *Ctx) touch(key string) {
	c.s.touchKey(key)
}

// wrongArity writes Redis' arity error for the current command.
func (c *Ctx) wrongArity() {
	c.result = resultErr
	c.w.WriteError(fmt.Sprintf("ERR wrong number of arguments for '%s' command", lowerName(c.args[0])))
}

// err writes an error reply.
func (c *Ctx) err(msg string) {
	c.result = errorResult(msg)
	c.w.WriteError(msg)
}

// ok writes +OK.
func (c *Ctx) ok() { c.w.WriteString("OK") }

// intArg parses args[i] as an integer, replying the Redis error on failure.
func (c *Ctx) intArg(i int) (int64, bool) {
	n, ok := parseInt(c.args[i])
	if !ok {
		c.err(errNotInteger)
	}
	return n, ok
}

// lowerName lower-cases a command name for error messages.
func lowerName(b []byte) string {
	out := make([]byte, len(b))
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		out[i] = ch
	}
	return string(out)
}
