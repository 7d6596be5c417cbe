package proxy

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/node/command"
	"github.com/tidwall/redcon"
)

// Replies a pinned session gives itself.
const (
	// replyTxQueued answers a command sent inside a transaction whose
	// MULTI (or WATCH) ran on a backend connection that is gone: it is not
	// queued anywhere, and EXEC will fail.
	replyTxQueued = "-ERR proxy: the primary changed during the transaction; it will be discarded at EXEC\r\n"
	// replyTxAborted answers EXEC of such a transaction: nothing of it ran.
	replyTxAborted = "-EXECABORT proxy: the primary changed during the transaction; it was discarded\r\n"
	// replyPopTimedOut answers a blocking pop whose timeout ran out while
	// it waited for a new primary (Redis 7.0's null array).
	replyPopTimedOut = "*-1\r\n"
	// replyOK is the simple +OK.
	replyOK = "+OK\r\n"
)

// entryStatus is where a pinned session's command is.
type entryStatus uint8

const (
	// entryPending: to be sent on the next usable backend connection.
	entryPending entryStatus = iota + 1
	// entryAwaiting: sent on the current backend connection, reply due.
	entryAwaiting
	// entryDone: the reply is ready (from a backend or from the proxy).
	entryDone
)

// entry is one client command of a pinned session, from the moment it is
// read until its reply is written to the client. Entries leave the session
// in client order, so replies keep the order of commands even when one is
// replayed on a new primary after later ones were answered.
type entry struct {
	args  [][]byte
	name  string // lower case
	def   *command.Command
	start time.Time // when it was read: a replayed pop waits what is left
	// status moves pending → awaiting → done, or back to pending when its
	// connection is dropped before a final reply.
	status entryStatus
	reply  []byte // raw reply: several values for (P)(UN)SUBSCRIBE
	got    int    // values in reply
	sends  int    // times sent to a backend
	// lost: a connection it was sent on broke before its reply, so it may
	// have run there.
	lost bool
	// lastErr is the last "not executed" reply (-TRYAGAIN...), given to
	// the client if no primary takes the command within the hold timeout.
	lastErr []byte
	// quit: the client asked to close once this reply is written.
	quit bool
	// pre and post are the client's transaction state before and after
	// this command (see txView).
	pre, post txView
}

// newEntry makes the entry of a command read from the client.
func newEntry(args [][]byte) *entry {
	name := strings.ToLower(string(args[0]))
	return &entry{args: args, name: name, def: command.ByName()[name], start: time.Now()}
}

// replayable reports whether a command whose connection broke before its
// reply may simply be sent again: reads, and connection state that is the
// same when set twice. Anything else (a write, a pop) is ambiguous.
func (e *entry) replayable() bool {
	if e.def != nil && e.def.Flags&command.FlagReadonly != 0 && e.def.Flags&command.FlagWrite == 0 {
		return true
	}
	switch e.name {
	case "ping", "echo", "select", "subscribe", "psubscribe", "unsubscribe", "punsubscribe", "unwatch", "reset":
		return true
	case "client":
		if len(e.args) < 2 {
			return false
		}
		switch strings.ToLower(string(e.args[1])) {
		case "setname", "getname", "id", "info", "no-evict":
			return true
		}
	}
	return false
}

// timeoutArg is the index of a blocking pop's timeout argument (seconds),
// -1 for other commands.
func timeoutArg(name string, nargs int) int {
	switch name {
	case "blpop", "brpop", "bzpopmin", "bzpopmax", "blmove", "brpoplpush":
		return nargs - 1
	case "blmpop", "bzmpop":
		return 1
	}
	return -1
}

// encode returns the command as it is sent now. A blocking pop sent again
// (a replay on a new primary) waits only the rest of its timeout (0 stays
// 0, forever); expired reports that nothing is left of it.
func (e *entry) encode(b []byte, now time.Time) (out []byte, expired bool) {
	args := e.args
	if i := timeoutArg(e.name, len(args)); e.sends > 0 && i > 0 && i < len(args) {
		secs, err := strconv.ParseFloat(string(args[i]), 64)
		// Beyond ~30 years the remaining time is the same as the original.
		if err == nil && secs > 0 && secs < 1e9 {
			left := time.Duration(secs*float64(time.Second)) - now.Sub(e.start)
			if left < time.Millisecond {
				return b, true
			}
			args = slices.Clone(args)
			args[i] = strconv.AppendFloat(nil, left.Seconds(), 'f', 3, 64)
		}
	}
	return resp.AppendCommandBytes(b, args...), false
}

// isSubscribeCmd reports whether name is one of the commands answered by
// one pub/sub confirmation per channel or pattern.
func isSubscribeCmd(name string) bool {
	switch name {
	case "subscribe", "psubscribe", "unsubscribe", "punsubscribe":
		return true
	}
	return false
}

// pubsubReply splits an array reply of 3 or 4 elements whose first is a
// bulk string (a pub/sub confirmation or message): its lower-case kind and
// elements. ok is false for any other reply.
func pubsubReply(r []byte) (kind string, elems []redcon.RESP, ok bool) {
	n, v := redcon.ReadNextRESP(r)
	if n == 0 || v.Type != redcon.Array || v.Count < 3 || v.Count > 4 {
		return "", nil, false
	}
	v.ForEach(func(x redcon.RESP) bool {
		elems = append(elems, x)
		return true
	})
	if len(elems) == 0 || elems[0].Type != redcon.Bulk {
		return "", nil, false
	}
	return strings.ToLower(string(elems[0].Data)), elems, true
}

// isMessage reports whether r is a published message (pushed to a
// subscriber, not the reply of a command).
func isMessage(r []byte) bool {
	kind, elems, ok := pubsubReply(r)
	return ok && (kind == "message" && len(elems) == 3 || kind == "pmessage" && len(elems) == 4)
}

// notExecuted reports whether a reply means the command did not run: the
// node was not (or no longer) a primary taking writes. -UNBLOCKED is a
// parked pop released because its node was demoted.
func notExecuted(r []byte) bool {
	return retriable(r) || bytes.HasPrefix(r, []byte("-UNBLOCKED"))
}

// connState is what a pinned client set on its backend connection and
// confirmed by the backend's replies; it is restored on every new backend
// connection before anything else.
type connState struct {
	name        string // CLIENT SETNAME
	db          []byte // SELECT, when sent
	subs, psubs map[string]bool
}

// subscribed reports whether the connection is in pub/sub mode.
func (cs *connState) subscribed() bool {
	return len(cs.subs)+len(cs.psubs) > 0
}

// restoreCommands encodes the commands that recreate the state, and how
// many replies they produce.
func (cs *connState) restoreCommands() ([]byte, int) {
	var b []byte
	n := 0
	if cs.name != "" {
		b = resp.AppendCommand(b, "CLIENT", "SETNAME", cs.name)
		n++
	}
	if cs.db != nil {
		b = resp.AppendCommandBytes(b, []byte("SELECT"), cs.db)
		n++
	}
	for _, set := range []struct {
		cmd string
		m   map[string]bool
	}{{"SUBSCRIBE", cs.subs}, {"PSUBSCRIBE", cs.psubs}} {
		if len(set.m) == 0 {
			continue
		}
		args := [][]byte{[]byte(set.cmd)}
		for k := range set.m {
			args = append(args, []byte(k))
		}
		b = resp.AppendCommandBytes(b, args...)
		n += len(set.m)
	}
	return b, n
}

// apply records the effect of one reply value r to e.
func (cs *connState) apply(e *entry, r []byte) {
	if len(r) == 0 || r[0] == '-' {
		return
	}
	if cs.subs == nil {
		cs.subs, cs.psubs = map[string]bool{}, map[string]bool{}
	}
	if kind, elems, ok := pubsubReply(r); ok && isSubscribeCmd(kind) && len(elems) == 3 {
		ch := string(elems[1].Data)
		switch kind {
		case "subscribe":
			cs.subs[ch] = true
		case "psubscribe":
			cs.psubs[ch] = true
		case "unsubscribe":
			delete(cs.subs, ch)
		case "punsubscribe":
			delete(cs.psubs, ch)
		}
		return
	}
	switch {
	case e.name == "client" && len(e.args) == 3 && strings.EqualFold(string(e.args[1]), "setname"):
		cs.name = string(e.args[2])
	case e.name == "select" && len(e.args) == 2:
		cs.db = e.args[1]
	case e.name == "reset":
		*cs = connState{}
	}
}

// complete reports whether e, whose latest reply value is r, has all its
// replies: one, except for (P)(UN)SUBSCRIBE, which get one confirmation per
// channel or pattern, or, without arguments, one per subscription dropped.
func (cs *connState) complete(e *entry, r []byte) bool {
	kind, _, ok := pubsubReply(r)
	if !isSubscribeCmd(e.name) || !ok || kind != e.name {
		return true // an error, +QUEUED in MULTI, or a one-value reply
	}
	switch {
	case len(e.args) > 1:
		return e.got >= len(e.args)-1
	case e.name == "unsubscribe":
		return len(cs.subs) == 0
	case e.name == "punsubscribe":
		return len(cs.psubs) == 0
	}
	return true
}
