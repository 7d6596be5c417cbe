package node

import (
	"errors"
	"strconv"
	"time"

	"github.com/batonkv/baton/node/keyspace"
	"github.com/batonkv/baton/node/repl"
	"github.com/tidwall/redcon"
)

// cmdPsync: BATON.PSYNC replid lsn [alias] — the replica offers the
// history and LSN it holds (and, when its history holds no entry of its
// own, the previous one its data equally belongs to); repl.Accept answers
// +CONTINUE or +FULL. Either way the connection then carries the stream
// (startSender).
func (s *Server) cmdPsync(c *keyspace.Ctx) {
	cl := clientOf(c)
	if c.Execing || cl.inMulti {
		c.Err("ERR BATON.PSYNC is not allowed in a transaction")
		return
	}
	if len(c.Args) > 4 {
		c.Err("ERR wrong number of arguments for 'baton.psync' command")
		return
	}
	lsn, err := strconv.ParseUint(c.Arg(2), 10, 64)
	if err != nil {
		c.Err("ERR invalid LSN")
		return
	}
	alias := ""
	if len(c.Args) == 4 {
		alias = c.Arg(3)
	}
	sn, reply, err := repl.Accept(s.replHost(), cl.addr, cl.replPort, c.Arg(1), alias, lsn)
	if err != nil {
		c.Err("ERR " + err.Error())
		return
	}
	c.W.WriteString(reply)
	cl.psync = sn
}

// startSender detaches a connection that ran BATON.PSYNC and runs its
// sender until the replica goes away or the server closes.
func (s *Server) startSender(cl *client, conn redcon.Conn) {
	sn := cl.psync
	cl.outClass.Store(outReplica)
	var pending []byte
	if bw := redcon.BaseWriter(conn); bw != nil {
		pending = append(pending, bw.Buffer()...)
		bw.SetBuffer(nil)
	}
	dc := conn.Detach()
	readCommand := func() ([][]byte, error) {
		cmd, err := dc.ReadCommand()
		return cmd.Args, err
	}
	if !s.replHost().Go(func() {
		sn.Run(s.life.Context(), dc.NetConn(), pending, readCommand)
		s.endDetached(cl, dc)
	}) {
		sn.Close()
		s.endDetached(cl, dc)
	}
}

// fullSyncStepHook, when set (tests only), runs after each chunk but the
// last of a full sync's snapshot was sent, so a test can hold a sync
// midway.
var fullSyncStepHook func()

// fullSyncSnapshot starts a copy-on-write snapshot for a full sync (see
// repl.Host.StartSnapshot); the caller holds s.mu.
func (s *Server) fullSyncSnapshot() (next func(spare []byte) ([]byte, bool, error), stop func()) {
	cs := s.startSnapshot(false)
	steps, ended := 0, false
	next = func(spare []byte) ([]byte, bool, error) {
		if steps++; steps > 1 && fullSyncStepHook != nil {
			fullSyncStepHook()
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if cs.aborted {
			return nil, false, errFullSyncAbandoned
		}
		if s.stepSnapshot(cs, cowStepKeys) {
			ended = true
			return s.endSnapshot(cs).data, true, nil
		}
		return cs.takeBytes(spare), false, nil
	}
	stop = func() {
		s.mu.Lock()
		if !ended {
			s.abortSnapshot(cs)
		}
		s.mu.Unlock()
	}
	return next, stop
}

// errFullSyncAbandoned ends a full sync whose snapshot was voided.
var errFullSyncAbandoned = errors.New("full sync abandoned: this node's keyspace was replaced")

// waitAcks waits until n replicas acknowledged lsn of generation gen, the
// deadline passes (zero: no deadline) or cl disconnects (see
// repl.Acks.Wait), and returns how many did.
func (s *Server) waitAcks(cl *client, lsn, gen uint64, n int, deadline time.Time) int {
	var gone <-chan struct{}
	if cl.netConn != nil {
		g, stop := cl.netConn.watchClose()
		gone = g
		defer stop()
	}
	for {
		// On a coordinated node acknowledgements count only until its
		// lease ends (coord.Coordinator.AckDeadline): no use waiting past
		// that, unless a renewal moved it meanwhile.
		until := deadline
		if s.coord != nil {
			if end := s.coord.AckDeadline(); end.Before(until) {
				until = end
			}
		}
		got, left := s.repl.acks.Wait(s.life.Context(), lsn, gen, n, until, gone)
		if left {
			cl.killed.Store(true)
			return got
		}
		if got >= n || until.Equal(deadline) || s.coord == nil || !s.coord.AckDeadline().After(until) {
			return got
		}
	}
}
