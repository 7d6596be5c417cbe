package keyspace

import (
	"fmt"
	"time"

	"github.com/batonkv/baton/node/command"
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

// Discard is the Replier of journal replay: replies go nowhere.
type Discard struct{}

func (Discard) WriteError(string)      {}
func (Discard) WriteString(string)     {}
func (Discard) WriteBulk([]byte)       {}
func (Discard) WriteBulkString(string) {}
func (Discard) WriteInt(int)           {}
func (Discard) WriteInt64(int64)       {}
func (Discard) WriteArray(int)         {}
func (Discard) WriteNull()             {}
func (Discard) WriteRaw([]byte)        {}

// Host is what a command reaches of the server that runs it. The node's
// Server implements it; the keyspace never sees the server itself.
type Host interface {
	// ActiveExpire reports whether this node decides expiry itself (a
	// primary) rather than waiting for DELs in the journal stream.
	ActiveExpire() bool
	// CountLookup counts a read command's keyspace hit or miss (INFO).
	CountLookup(hit bool)
	// Journal appends an entry to the journal.
	Journal(args [][]byte)
	// Touch records that key was modified (WATCH, blocked clients).
	Touch(key string)
	// Block parks c until one of keys is touched or timeout passes (0 =
	// forever), setting c.Blocked.
	Block(c *Ctx, keys []string, timeout time.Duration)
	// MaxBulkLen bounds a string value (proto-max-bulk-len); 0 or less
	// means no bound.
	MaxBulkLen() int64
}

// Handler executes one command.
type Handler func(c *Ctx)

// Ctx is one command's execution context. It lives for one command only.
// Handlers run with the server lock held, so they may use DB freely but must
// never block; blocking commands park through Host.Block instead.
type Ctx struct {
	Host Host
	DB   *DB
	// Client is the issuing client, opaque to the keyspace: the server's
	// own commands read it.
	Client any
	W      Replier
	Args   [][]byte // Args[0] is the command name as sent
	Cmd    *command.Command
	Now    int64 // Unix ms, fixed for the whole command like Redis' cached time

	// Dirty counts keyspace changes; a write command with Dirty > 0 is
	// journaled as Args unless it journaled its effects explicitly.
	Dirty int
	// Journaled is set once the command appended an explicit entry.
	Journaled bool
	// Replay is true while applying journal entries: no replies, no expiry
	// decisions of our own, no new journal entries.
	Replay bool
	// Execing is true for commands run by EXEC: blocking commands must not
	// block there.
	Execing bool
	// Blocked is the host's handle of the parked command, set by
	// Host.Block; TimedOut tells a retried blocking command that its
	// deadline passed, so it replies its timeout value.
	Blocked  any
	TimedOut bool
	// Result is the command's result for metrics: ResultOK unless it
	// replied an error through Err or WrongArity.
	Result command.Result
}

// Arg returns Args[i] as a string.
func (c *Ctx) Arg(i int) string { return string(c.Args[i]) }

// Key returns Args[i] as a key string.
func (c *Ctx) Key(i int) string { return string(c.Args[i]) }

// lookup returns the live value of key (nil when missing or expired).
//
// During replay a key is returned even past its deadline: the journal is
// the primary's history, in which the key was alive when the entry was
// written (had it expired, a DEL would precede the entry). Judging expiry
// by the replaying node's clock would apply the entry to a different state
// (Redis' replicas do the same for their master's stream).
func (c *Ctx) lookup(key string) any {
	if c.Replay {
		return c.DB.Keys[key]
	}
	v := c.DB.Get(key, c.Now, c.Host.ActiveExpire())
	if c.Cmd != nil && c.Cmd.Flags&command.FlagReadonly != 0 {
		c.Host.CountLookup(v != nil)
	}
	return v
}

// journal appends an explicit journal entry for this command's effects, for
// commands whose arguments are not a deterministic description of what they
// did (relative expiry, random pops, blocking pops, float increments).
func (c *Ctx) journal(args ...[]byte) {
	c.Journaled = true
	if c.Replay {
		return
	}
	c.Host.Journal(args)
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
func (c *Ctx) touch(key string) { c.Host.Touch(key) }

// blockOn parks the current command until one of keys is touched or
// timeout passes (0 = forever). Only valid for command.FlagBlocking commands outside
// MULTI; the handler must not have replied.
func (c *Ctx) blockOn(keys []string, timeout time.Duration) { c.Host.Block(c, keys, timeout) }

// WrongArity writes Redis' arity error for the current command.
func (c *Ctx) WrongArity() {
	c.Result = command.ResultErr
	c.W.WriteError(fmt.Sprintf("ERR wrong number of arguments for '%s' command", lowerName(c.Args[0])))
}

// Err writes an error reply.
func (c *Ctx) Err(msg string) {
	c.Result = command.ErrorResult(msg)
	c.W.WriteError(msg)
}

// OK writes +OK.
func (c *Ctx) OK() { c.W.WriteString("OK") }

// IntArg parses Args[i] as an integer, replying the Redis error on failure.
func (c *Ctx) IntArg(i int) (int64, bool) {
	n, ok := ParseInt(c.Args[i])
	if !ok {
		c.Err(ErrNotInteger)
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
