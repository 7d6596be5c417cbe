package node

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/node/keyspace"
	"github.com/batonkv/baton/node/repl"
	"github.com/tidwall/redcon"
)

// client is one connection's state.
type client struct {
	id      int64
	conn    redcon.Conn
	netConn *clientConn // nil for replay and detached placeholders
	addr    string
	laddr   string
	created time.Time

	// authed: the client authenticated (or needs not). An atomic: the
	// connection's input guard reads it to apply the pre-authentication
	// bounds, and CONFIG SET requirepass "" sets it from other clients.
	authed atomic.Bool
	// internal: authenticated as coordapi.InternalUser, the appliance's
	// own identity, which alone runs control commands (command.Internal)
	// on a node with a cluster secret.
	internal atomic.Bool

	// Fields below are guarded by the server lock.
	name    string
	lastCmd string
	// lastAt is when the client's last pipeline started (Unix ns): CLIENT
	// LIST reads it from other connections, so it is an atomic.
	lastAt atomic.Int64
	// pipe holds the pipeline being run (reused; connection goroutine only).
	pipe []redcon.Command
	// nowMs is the clock reading (Unix ms) for the pipeline being run.
	nowMs int64
	// pipeStart is when the pipeline being run started, and parked is set
	// once one of its commands parked (blocking pop): the pipeline latency
	// metric leaves those out (connection goroutine only).
	pipeStart time.Time
	parked    bool
	// refused is the -TRYAGAIN/-TAKENOVER reply that refused a command of
	// the pipeline being run, "" while none was refused. Every later data
	// command of the pipeline gets it too (dispatch.go). Reset by
	// runPipeline; set under s.mu (by retry, possibly on another client's
	// goroutine while this one is parked) and read under s.mu.
	refused string

	// pendingLSN is the last journal entry this client's pipeline caused;
	// with fsync always the replies wait until it is durable.
	pendingLSN uint64
	// pendingGen is the replication generation of pendingLSN (repl.go).
	pendingGen uint64
	// lastWriteGen is the replication generation of lastWriteLSN.
	lastWriteGen uint64

	// MULTI state.
	inMulti    bool
	multiErr   bool
	multiQueue [][][]byte
	// watched keys and whether one was modified since WATCH.
	watched    map[string]struct{}
	watchDirty bool

	// Pub/sub state (owned by the pub/sub family).
	sub *subscriber

	// lastWriteLSN is the LSN of the client's last write (WAIT's target).
	lastWriteLSN uint64
	// deferred, set by a handler that must wait without the keyspace lock
	// (WAIT, REPLICAOF), runs after it with the lock released and writes
	// the reply.
	deferred func(w keyspace.Replier)
	// replPort is the listening port a replica announced (BATON.HANDSHAKE);
	// psync is set once BATON.PSYNC turned the connection into a stream.
	replPort int
	psync    *repl.Sender
	// syncReplies records, under --sync-replicas, where each write's reply
	// lies in the pipeline's output, to replace it if replicas time out.
	syncReplies []syncReply

	// busy is set while the connection runs a pipeline (replies written
	// included); served counts finished pipelines. A takeover's checkpoint
	// waits for connections busy at the freeze (node/takeover.go).
	busy   atomic.Bool
	served atomic.Uint64
	// omem is the size of the replies being written to the connection
	// (CLIENT LIST omem): large and lasting for a client that does not read.
	omem atomic.Int64
	// overSoft is when the client's pending output went above its soft
	// output limit (Unix ns; 0: it is not above); see outputWatch.
	overSoft atomic.Int64
	// outClass is the client's output class (outNormal, outPubSub,
	// outReplica); outq its subscriber queue once it subscribed.
	outClass atomic.Int32
	outq     atomic.Pointer[outQueue]

	// idleExempt is set once the connection carries a replication stream
	// or a subscription: the idle timeout never closes it.
	idleExempt atomic.Bool

	// quit asks the serve loop to close after flushing the reply.
	quit bool
	// killed is set by CLIENT KILL and Close from other goroutines.
	killed atomic.Bool
	// wmu serializes writes on a detached connection.
	wmu sync.Mutex
}

// subscribed reports whether the client is in RESP2 subscribed mode.
func (cl *client) subscribed() bool { return cl.sub != nil && cl.sub.count() > 0 }

// authedClient is a client that needs no authentication: replication's
// applier, replay, tests.
func authedClient() *client {
	cl := &client{}
	cl.authed.Store(true)
	cl.internal.Store(true)
	return cl
}
