package chaos

import (
	"errors"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/batonkv/baton/chaos/check"
	"github.com/batonkv/baton/coordapi"
	"github.com/redis/go-redis/v9"
)

// history records the operations of every workload of one run, with their
// times on one monotonic clock.
type history struct {
	start time.Time

	mu       sync.Mutex
	ops      []check.Op
	nextProc int
}

// newHistory starts the run's clock.
func newHistory() *history { return &history{start: time.Now()} }

// since is the run's clock.
func (h *history) since() time.Duration { return time.Since(h.start) }

// process returns a fresh process id: a client takes a new one after each
// Info operation, which may still take effect later (Jepsen's rule), so a
// process's operations never overlap.
func (h *history) process() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.nextProc++
	return h.nextProc
}

// add records a completed operation.
func (h *history) add(op check.Op) {
	h.mu.Lock()
	h.ops = append(h.ops, op)
	h.mu.Unlock()
}

// snapshot returns a copy of the operations so far.
func (h *history) snapshot() []check.Op {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]check.Op(nil), h.ops...)
}

// errNotSent marks an error that happened before the write was sent (a
// compare-and-set's WATCH or GET failed): the write surely did not apply.
type errNotSent struct{ err error }

// Error implements error.
func (e errNotSent) Error() string { return e.err.Error() }

// Unwrap exposes the cause to errors.Is and errors.As.
func (e errNotSent) Unwrap() error { return e.err }

// refusals are reply prefixes that guarantee the command did not execute:
// no write lease or a role change (TRYAGAIN, TAKENOVER), a replica
// (READONLY), a discarded transaction (EXECABORT, the proxy's note on a
// command queued across a switch), a node still loading.
var refusals = []string{coordapi.ErrCodeTryAgain, "READONLY", "EXECABORT", coordapi.ErrCodeTakenOver, "LOADING", "MASTERDOWN", "CLUSTERDOWN",
	"ERR proxy: the primary changed during the transaction"}

// Classify maps a command's error to what the client knows of it: OK for
// none; Fail only when the command surely did not apply (a refusal reply,
// a WATCH abort, nothing sent because the connection was refused or never
// made); Info for everything else — a timeout, a connection lost after
// sending, the proxy's ambiguous-write error, NOREPL — whose write may or
// may not have applied.
func Classify(err error) check.Status {
	if err == nil {
		return check.OK
	}
	var ns errNotSent
	var oe *net.OpError
	switch {
	case errors.As(err, &ns), errors.Is(err, redis.TxFailedErr), errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, redis.ErrClosed), errors.Is(err, syscall.ECONNREFUSED):
		return check.Fail
	case errors.As(err, &oe) && oe.Op == "dial":
		return check.Fail
	}
	var re redis.Error
	if errors.As(err, &re) {
		for _, p := range refusals {
			if strings.HasPrefix(re.Error(), p) {
				return check.Fail
			}
		}
	}
	return check.Info
}
