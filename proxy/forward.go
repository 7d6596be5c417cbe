package proxy

import (
	"bytes"
	"context"
	"errors"
	"math"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/resp"
	"github.com/tidwall/redcon"
)

// Error replies the proxy gives when it cannot get an answer from a primary.
const (
	// replyAmbiguous is the answer to a write whose backend connection broke
	// before its reply: it may or may not have been applied, and the proxy
	// never guesses (no silent retry of a write).
	replyAmbiguous = "-ERR proxy: the primary connection was lost before a reply; the write may or may not have been applied\r\n"
	// replyNoPrimary is the answer after HoldTimeout without a primary.
	replyNoPrimary = "-" + coordapi.ErrCodeTryAgain + " proxy: no primary available within the hold timeout\r\n"
	// replyTooManyHeld is the answer to a command that would be held while
	// MaxHeld commands already are.
	replyTooManyHeld = "-" + coordapi.ErrCodeTryAgain + " proxy: too many commands held waiting for a primary\r\n"
	// replyClosed is the answer to commands caught by Close.
	replyClosed = "-ERR proxy: shutting down\r\n"
)

// retriable reports whether a reply is an error the primary gives before
// executing anything: the command can be replayed on the next primary.
func retriable(reply []byte) bool {
	return bytes.HasPrefix(reply, []byte("-"+coordapi.ErrCodeTakenOver)) ||
		bytes.HasPrefix(reply, []byte("-READONLY")) ||
		bytes.HasPrefix(reply, []byte("-"+coordapi.ErrCodeTryAgain))
}

// request is one client command on its way to the primary.
type request struct {
	args [][]byte
	// raw is redcon.Command.Raw: the client's own bytes of a multibulk
	// command, redcon's RESP encoding of an inline one. Should it not be
	// RESP, args are encoded again.
	raw      []byte
	readonly bool
	// row is the command's row in the command counters (metrics.go).
	row int32
}

// appendRESP appends the command as a RESP array of bulk strings.
func (r *request) appendRESP(b []byte) []byte {
	if len(r.raw) > 0 && r.raw[0] == '*' {
		return append(b, r.raw...)
	}
	return resp.AppendCommandBytes(b, r.args...)
}

// forwarder is one client connection's state for forwarding its
// pipelines, reused from one pipeline to the next so that the shared path
// allocates nothing in the steady state. Only the goroutine serving the
// client uses it.
type forwarder struct {
	// reqs are the commands queued for the next forward.
	reqs []request
	// b is the batch in flight; todo the indexes of reqs it carries.
	b    batch
	todo []int
	// joined holds the replies of a pipeline that needed more than one
	// attempt, back to back.
	joined []byte
	// out holds, per command, the replies of a pipeline that needed more
	// than one attempt (nil while every reply is still in b).
	out [][]byte
	// max bounds the bytes of replies a batch keeps (the client's hard
	// output limit; 0: none); over is set when a batch went past it.
	max  int64
	over bool
	// gathered holds the replies of a pipeline sent in several batches,
	// written to the client at once at the end (growing by doubling: the
	// client's writer would grow by 1.25× per batch, copying more).
	gathered []byte
	// deadline ends the holds of the pipeline being flushed (zero: each
	// forward has its own HoldTimeout).
	deadline time.Time
	// avgReply is the client's average reply size (0: none seen yet),
	// which sizes its batches (chunk).
	avgReply int
}

// add queues one command for the next forward.
func (fw *forwarder) add(cmd redcon.Command, readonly bool, row int) {
	fw.reqs = append(fw.reqs, request{args: cmd.Args, raw: cmd.Raw, readonly: readonly, row: int32(row)})
}

// chunkReplyBytes is about how many reply bytes one batch of a client
// asks for: a pipeline whose replies are larger goes out in several
// batches, so the shared connections carry other clients' batches in
// between (no head-of-line blocking behind a pipeline of big GETs), and a
// client past its output limit is closed before the rest of its pipeline
// is asked for.
const chunkReplyBytes = 1 << 20

// firstChunk is how many commands go in a client's first batch, before
// its reply sizes are known, when the pipeline starts with a read (reads
// are what return large replies; a pipeline of writes goes whole, which
// keeps MaxHeld's per-pipeline accounting).
const firstChunk = 4

// chunk is how many of the next n commands (from fw.reqs[0]) go in one
// batch, by the client's average reply size so far.
func (fw *forwarder) chunk(n int) int {
	if fw.avgReply == 0 {
		if fw.reqs[0].readonly {
			return min(n, firstChunk)
		}
		return n
	}
	return max(1, min(n, chunkReplyBytes/fw.avgReply))
}

// learn updates the average reply size with a batch of k commands whose
// replies took n bytes (a moving average, so one big reply does not make
// every later pipeline go command by command).
func (fw *forwarder) learn(n, k int) {
	avg := max(1, n/max(k, 1))
	if fw.avgReply == 0 {
		fw.avgReply = avg
		return
	}
	fw.avgReply = max(1, (3*fw.avgReply+avg)/4)
}

// flush forwards the queued commands and writes their replies to conn, in
// batches of about chunkReplyBytes of replies. A client whose replies pass
// its hard output limit is closed, its replies dropped, and the rest of
// its pipeline never sent.
func (p *Proxy) flush(conn redcon.Conn, c *client) {
	fw := &c.fw
	all := fw.reqs
	defer func() {
		// Drop the references to the commands' buffers and replies.
		clear(all)
		fw.reqs, fw.out, fw.over = all[:0], nil, false
	}()
	hard := c.out.hardLimit()
	var total int64
	// One hold timeout for the whole pipeline, whatever its batches.
	fw.deadline = time.Now().Add(p.cfg.HoldTimeout)
	defer func() { fw.deadline = time.Time{} }()
	defer func() {
		if len(fw.gathered) > 0 {
			conn.WriteRaw(fw.gathered)
		}
		if cap(fw.gathered) > maxKeptBuffer {
			fw.gathered = nil
		}
		fw.gathered = fw.gathered[:0]
	}()
	for done := 0; done < len(all); {
		fw.reqs = all[done:]
		k := fw.chunk(len(all) - done)
		fw.reqs = all[done : done+k]
		done += k
		start := time.Now()
		fw.max = 0
		if hard > 0 {
			fw.max = max(1, hard-total)
		}
		replies := p.forward(fw)
		total += int64(len(replies))
		if fw.over || c.out.overBatch(total) {
			c.out.overBatch(math.MaxInt64) // closed at its output limit
			fw.gathered = fw.gathered[:0]
			return
		}
		if k == len(all) {
			conn.WriteRaw(replies) // one batch: no copy to gather
		} else {
			fw.gather(replies)
		}
		fw.learn(len(replies), k)
		p.met.latencyShared.Observe(time.Since(start).Seconds())
		p.met.countForwarded(fw)
	}
}

// forward sends fw.reqs to the primary as one pipelined batch and returns
// their raw replies, back to back, in order; the slice is fw's until the
// next forward. It holds, don't fail: with no primary, or for commands the
// primary rejected before execution, it waits for a (new) primary up to
// HoldTimeout and replays them, holding at most MaxHeld commands across
// all clients (the excess is answered with replyTooManyHeld). A command
// whose connection broke before its reply is replayed only if it is
// read-only; a write gets replyAmbiguous.
//
// Replays can reorder a pipeline: if command i was rejected and command
// i+1 ran, i runs after i+1. A node that refuses a command with -TRYAGAIN
// or -TAKENOVER refuses every later data command of the pipeline it read
// (node/dispatch.go), so this needs a batch the node read in two parts, or
// a read after a -READONLY (a demoted primary serves reads as a replica).
func (p *Proxy) forward(fw *forwarder) []byte {
	if len(fw.reqs) == 0 {
		return nil
	}
	fw.todo = fw.todo[:0]
	for i := range fw.reqs {
		fw.todo = append(fw.todo, i)
	}
	deadline := fw.deadline
	if deadline.IsZero() {
		deadline = time.Now().Add(p.cfg.HoldTimeout)
	}
	// fw.out is allocated once a pipeline needs more than one attempt;
	// until then every reply is still in fw.b.
	fw.out = nil
	held := 0 // commands of fw counted in p.held
	var holdStart time.Time
	defer func() {
		p.held.Add(-int64(held))
		p.met.observeHold(holdStart)
	}()
	// --read-from replicas (replicas.go): a read-only batch goes to a
	// replica first; what it could not answer goes on to the primary at
	// once, as if no replica had been tried.
	if replica := p.replicaFor(fw.reqs); replica != "" {
		if replies, done, _ := p.tryOnce(replica, fw, &fw.out); done {
			p.met.replicaServed.Add(float64(len(fw.reqs)))
			return replies
		}
		p.met.replicaServed.Add(float64(len(fw.reqs) - len(fw.todo)))
		p.replicaFailed(replica, len(fw.todo))
	}
	var lastErr []byte
	for attempt := 0; ; attempt++ {
		addr, changed := p.primary()
		if addr != "" {
			replies, done, e := p.tryOnce(addr, fw, &fw.out)
			if done {
				return replies
			}
			lastErr = e
			p.refresh()
		}
		if fw.out == nil {
			fw.out = make([][]byte, len(fw.reqs))
		}
		held = p.keepHeld(fw, fw.out, held)
		if len(fw.todo) == 0 {
			return fw.join(fw.out)
		}
		if holdStart.IsZero() {
			holdStart = time.Now()
		}
		if !p.hold(deadline, changed, attempt) {
			return p.giveUp(fw, fw.out, lastErr)
		}
	}
}

// tryOnce sends the commands of fw still to do (fw.todo) to addr. done
// reports that every command of fw has its final reply: replies are then
// all of them, back to back. Otherwise fw.todo holds the commands to
// replay and lastErr the error reply to give if the hold times out.
func (p *Proxy) tryOnce(addr string, fw *forwarder, out *[][]byte) (replies []byte, done bool, lastErr []byte) {
	sent, refusal := p.attempt(addr, fw)
	if !sent {
		return nil, false, refusal
	}
	if fw.b.over {
		// Past the client's output limit: its replies were dropped, and
		// the client is closed (flush); nothing is replayed.
		fw.over = true
		return nil, true, nil
	}
	if *out == nil && fw.b.err == nil && !fw.b.anyRetriable() {
		return fw.b.replies, true, nil // the fast path: every reply final, in order
	}
	if *out == nil {
		*out = make([][]byte, len(fw.reqs))
	}
	lastErr = p.settle(fw, *out)
	if len(fw.todo) == 0 {
		return fw.join(*out), true, nil
	}
	return nil, false, lastErr
}

// giveUp answers the commands still held when the hold ended (timeout or
// Close) and returns all replies.
func (p *Proxy) giveUp(fw *forwarder, out [][]byte, lastErr []byte) []byte {
	fill := []byte(replyNoPrimary)
	if lastErr != nil {
		fill = lastErr
	}
	if p.ctx().Err() != nil {
		fill = []byte(replyClosed)
	} else {
		p.met.holdTimeouts.Add(float64(len(fw.todo)))
	}
	for _, i := range fw.todo {
		out[i] = fill
	}
	return fw.join(out)
}

// keepHeld adjusts the commands of fw counted against MaxHeld (held of
// them so far) to the ones still to do; those beyond the limit leave todo
// with replyTooManyHeld. It returns the new count.
func (p *Proxy) keepHeld(fw *forwarder, out [][]byte, held int) int {
	need := len(fw.todo)
	if need < held {
		p.held.Add(-int64(held - need))
		return need
	}
	for held < need {
		cur := p.held.Load()
		grant := min(int64(need-held), int64(p.cfg.MaxHeld)-cur)
		if grant <= 0 {
			break
		}
		if p.held.CompareAndSwap(cur, cur+grant) {
			held += int(grant)
		}
	}
	p.met.tooManyHeld.Add(float64(len(fw.todo) - held))
	for _, i := range fw.todo[held:] {
		out[i] = []byte(replyTooManyHeld)
	}
	fw.todo = fw.todo[:held]
	return held
}

// join returns the replies of out back to back.
func (fw *forwarder) join(out [][]byte) []byte {
	if cap(fw.joined) > maxKeptBuffer {
		fw.joined = nil
	}
	fw.joined = fw.joined[:0]
	for _, r := range out {
		fw.joined = append(fw.joined, r...)
	}
	return fw.joined
}

// hold waits until the primary changes, the retry interval passes, or the
// deadline or Close; it reports whether to try again. The interval starts
// at holdRetryMin and doubles with attempt up to holdRetryInterval: a new
// primary refuses writes for the few milliseconds until it has promoted
// itself and holds its first lease, and the proxy learns of it at the same
// instant as the node — the first retries must come quickly.
func (p *Proxy) hold(deadline time.Time, changed <-chan struct{}, attempt int) bool {
	left := time.Until(deadline)
	if left <= 0 {
		return false
	}
	wait := holdRetryInterval
	if attempt < 8 {
		wait = min(holdRetryMin<<attempt, holdRetryInterval)
	}
	t := time.NewTimer(min(left, wait))
	defer t.Stop()
	select {
	case <-p.ctx().Done():
		return false
	case <-changed:
	case <-t.C:
	}
	return true
}

// attempt sends the requests at indexes fw.todo to addr and waits for the
// batch to finish. sent is false, with the error reply to give if the hold
// times out, when none of them was written (all are to be replayed).
func (p *Proxy) attempt(addr string, fw *forwarder) (sent bool, refusal []byte) {
	pl, err := p.poolFor(addr)
	if err != nil {
		return false, []byte(replyClosed)
	}
	bc, err := pl.get(p.ctx())
	if err != nil {
		p.log.Debug("backend unavailable", "addr", addr, "err", err)
		if p.ctx().Err() == nil {
			p.met.backendErrors.WithLabelValues(backendDial).Inc()
		}
		return false, []byte("-" + coordapi.ErrCodeTryAgain + " proxy: primary " + addr + " unreachable\r\n")
	}
	fw.b.reset(len(fw.todo))
	fw.b.max = fw.max
	if err := bc.send(&fw.b, fw.reqs, fw.todo); err != nil {
		p.met.backendErrors.WithLabelValues(backendSend).Inc()
		return false, []byte("-" + coordapi.ErrCodeTryAgain + " proxy: primary " + addr + " connection lost\r\n")
	}
	<-fw.b.done // the pool is closed by Close, which fails every batch
	if fw.b.err != nil && p.ctx().Err() == nil {
		p.met.backendError(fw.b.err)
	}
	if errors.Is(fw.b.err, errNotSent) {
		return false, []byte("-" + coordapi.ErrCodeTryAgain + " proxy: primary " + addr + " connection lost\r\n")
	}
	if fw.b.err != nil {
		p.log.Info("backend connection lost", "addr", addr, "err", fw.b.err)
	}
	return true, nil
}

// settle stores the final replies of the batch fw.b into out (copies: the
// batch is reused) and leaves in fw.todo the indexes to replay. It returns
// the last retriable error reply seen, to give the client if the hold
// times out.
func (p *Proxy) settle(fw *forwarder, out [][]byte) (lastErr []byte) {
	b := &fw.b
	again := fw.todo[:0] // filters in place: writes never pass reads
	for k, i := range fw.todo {
		switch {
		case k < b.got() && retriable(b.reply(k)):
			again, lastErr = append(again, i), append([]byte(nil), b.reply(k)...)
			p.met.replayed.Inc()
		case k < b.got():
			out[i] = append([]byte(nil), b.reply(k)...)
		case fw.reqs[i].readonly && !errors.Is(p.ctx().Err(), context.Canceled):
			again = append(again, i)
			p.met.replayed.Inc()
		default:
			out[i] = []byte(replyAmbiguous)
			p.met.ambiguous.Inc()
		}
	}
	fw.todo = again
	return lastErr
}

// gather appends one batch's replies to fw.gathered, doubling its capacity
// when it must grow.
func (fw *forwarder) gather(replies []byte) {
	if need := len(fw.gathered) + len(replies); need > cap(fw.gathered) {
		fw.gathered = append(make([]byte, 0, max(need, 2*cap(fw.gathered))), fw.gathered...)
	}
	fw.gathered = append(fw.gathered, replies...)
}
