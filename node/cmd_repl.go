package node

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/batonkv/baton/node/keyspace"
	"github.com/batonkv/baton/node/repl"
)

// errReadonly is Redis' reply to a write on a replica.
const errReadonly = "READONLY You can't write against a read only replica."

// cmdReplicaof: REPLICAOF host port | NO ONE. The switch (v2) first
// connects, authenticates and handshakes with the new primary without
// touching the node's state; only if that works does it swap the link. It
// runs without the keyspace lock (clients keep being served) and calls are
// serialized.
func (s *Server) cmdReplicaof(c *keyspace.Ctx) {
	cl := clientOf(c)
	if c.Execing {
		c.Err("ERR REPLICAOF is not allowed in a transaction")
		return
	}
	if keyspace.EqFold(c.Args[1], "no") && keyspace.EqFold(c.Args[2], "one") {
		cl.deferred = func(w keyspace.Replier) {
			s.promote()
			w.WriteString("OK")
		}
		return
	}
	port, err := strconv.Atoi(c.Arg(2))
	if err != nil || port <= 0 || port > 65535 {
		c.Err("ERR Invalid master port")
		return
	}
	target := net.JoinHostPort(c.Arg(1), strconv.Itoa(port))
	cl.deferred = func(w keyspace.Replier) {
		already, err := s.replicaof(target)
		switch {
		case err != nil:
			w.WriteError(fmt.Sprintf("ERR REPLICAOF %s failed, nothing changed: %v", target, err))
		case already:
			w.WriteString("OK Already connected to specified master")
		default:
			w.WriteString("OK")
		}
	}
}

// replicaof makes the node a replica of target with the v2 algorithm. It
// reports already when target is the current primary.
func (s *Server) replicaof(target string) (already bool, err error) {
	s.repl.opMu.Lock()
	defer s.repl.opMu.Unlock()
	s.mu.Lock()
	same := s.isReplica() && s.repl.primary == target
	s.mu.Unlock()
	if same {
		return true, nil
	}
	// v2: connect, authenticate and handshake with the new primary with no
	// state change at all; only if that succeeds is the link swapped, so
	// a failed REPLICAOF leaves the node exactly as it was (still serving,
	// still replicating from its old primary).
	hs, err := repl.Dial(s.life.Context(), s.replHost(), target)
	if err != nil {
		return false, err
	}
	s.switchPrimary(target, hs)
	return false, nil
}

// switchPrimary swaps the replication link to an established handshake,
// under the lock.
func (s *Server) switchPrimary(target string, hs *repl.Handshake) {
	s.stopLink()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isClosing() {
		hs.Close()
		return
	}
	wasPrimary := !s.isReplica()
	s.repl.role = roleReplica
	s.repl.primary = target
	s.repl.status.SetSynced(false)
	s.repl.link = repl.StartLink(s.life.Context(), s.replHost(), target, hs)
	s.log.Info("replicating", "primary", target, "was_primary", wasPrimary)
	if wasPrimary {
		s.wakeAllBlockedLocked()
		s.thaw(0, "demoted")
		s.repl.acks.NewGeneration()
		s.resetUnacked(false)
	}
}

// promote makes a replica the primary of a new history (REPLICAOF NO ONE):
// the old history id and its end LSN are remembered, so former siblings
// continue with a partial sync.
func (s *Server) promote() {
	s.repl.opMu.Lock()
	defer s.repl.opMu.Unlock()
	s.stopLink()
	s.mu.Lock()
	if !s.isReplica() {
		s.mu.Unlock()
		return
	}
	s.repl.role = rolePrimary
	s.repl.primary = ""
	s.repl.status.SetSynced(false)
	h := s.jr.NewHistory()
	s.repl.acks.NewGeneration()
	s.resetUnacked(true)
	s.mu.Unlock()
	// The new history's first segment is on disk before REPLICAOF NO ONE
	// replies, so a restart finds the boundary (and the previous id).
	if err := s.jr.Sync(h.LSN); err != nil {
		s.log.Error("journal sync after promotion", "err", err)
	}
	s.log.Info("promoted to primary", "replid", h.Replid, "lsn", h.LSN,
		"prev_replid", h.PrevReplid, "prev_end", h.PrevEnd, "epoch", s.repl.epoch.Load())
}

// stopLink stops the replica link, if any, and waits for it (without the
// keyspace lock, which the link takes to apply entries).
func (s *Server) stopLink() {
	s.mu.Lock()
	l := s.repl.link
	s.repl.link = nil
	s.mu.Unlock()
	if l != nil {
		l.Stop()
	}
}

// cmdWait: WAIT numreplicas timeout blocks until numreplicas replicas
// acknowledged the client's last write, or timeout ms pass (0: forever);
// it replies how many did. Inside a transaction it does not block.
func (s *Server) cmdWait(c *keyspace.Ctx) {
	cl := clientOf(c)
	n, ok := c.IntArg(1)
	if !ok {
		return
	}
	ms, ok := c.IntArg(2)
	if !ok {
		return
	}
	if ms < 0 {
		c.Err("ERR timeout is negative")
		return
	}
	if s.isReplica() {
		c.Err("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
		return
	}
	lsn, gen := cl.lastWriteLSN, cl.lastWriteGen
	got := s.repl.acks.AckedIn(lsn, gen)
	if c.Execing || n <= 0 || int64(got) >= n {
		c.W.WriteInt(got)
		return
	}
	var deadline time.Time
	if ms > 0 {
		deadline = time.Now().Add(time.Duration(ms) * time.Millisecond)
	}
	cl.deferred = func(w keyspace.Replier) {
		w.WriteInt(s.waitAcks(cl, lsn, gen, int(n), deadline))
	}
}

// cmdReplconf: REPLCONF on an ordinary connection (Redis replicas send
// several during their handshake); acks are read by the stream's reader.
func (s *Server) cmdReplconf(c *keyspace.Ctx) { c.OK() }

// cmdEpoch: BATON.EPOCH [epoch] replies the node's epoch, or raises it. An
// epoch never goes back.
func (s *Server) cmdEpoch(c *keyspace.Ctx) {
	if len(c.Args) == 1 {
		c.W.WriteInt64(int64(s.repl.epoch.Load()))
		return
	}
	if len(c.Args) != 2 {
		c.WrongArity()
		return
	}
	e, err := strconv.ParseUint(c.Arg(1), 10, 64)
	if err != nil {
		c.Err("ERR epoch must be a non-negative integer")
		return
	}
	if err := s.raiseEpoch(e); err != nil {
		c.Err("ERR " + err.Error())
		return
	}
	c.OK()
}

// cmdHandshake: BATON.HANDSHAKE runid listening-port epoch — a replica
// introduces itself before PSYNC. The reply, [runid, replid, lsn, epoch,
// role], lets the replica check identity, history and epoch before it
// changes anything.
func (s *Server) cmdHandshake(c *keyspace.Ctx) {
	cl := clientOf(c)
	port, err := strconv.Atoi(c.Arg(2))
	if err != nil || port < 0 || port > 65535 {
		c.Err("ERR invalid listening port")
		return
	}
	cl.replPort = port
	c.W.WriteArray(5)
	c.W.WriteBulkString(s.runID())
	c.W.WriteBulkString(s.jr.Replid())
	c.W.WriteBulkString(strconv.FormatUint(s.lastLSN, 10))
	// The epoch this node leads (repl.Host.LeadEpoch): a replica that
	// knows a newer one refuses a deposed primary here.
	c.W.WriteBulkString(strconv.FormatUint(s.leadEpoch(), 10))
	c.W.WriteBulkString(s.roleName())
}

// cmdRole: ROLE as Redis replies it. A primary: ["master", lsn,
// [[ip, port, acked lsn]...]]. A replica: ["slave", host, port, state,
// offset], where offset is 0 until it completed a sync with this primary.
func (s *Server) cmdRole(c *keyspace.Ctx) {
	if s.isReplica() {
		host, port, _ := splitHostPort(s.repl.primary)
		c.W.WriteArray(5)
		c.W.WriteBulkString("slave")
		c.W.WriteBulkString(host)
		c.W.WriteInt(port)
		c.W.WriteBulkString(s.repl.status.State())
		c.W.WriteInt64(int64(s.replicaOffset()))
		return
	}
	infos := s.repl.acks.Infos(time.Now())
	c.W.WriteArray(3)
	c.W.WriteBulkString("master")
	c.W.WriteInt64(int64(s.lastLSN))
	c.W.WriteArray(len(infos))
	for _, ri := range infos {
		c.W.WriteArray(3)
		c.W.WriteBulkString(ri.IP)
		c.W.WriteBulkString(strconv.Itoa(ri.Port))
		c.W.WriteBulkString(strconv.FormatUint(ri.Ack, 10))
	}
}

// infoReplication fills INFO replication with Redis' fields (offsets are
// LSNs) and Baton's epoch and link details.
func infoReplication(s *Server, now time.Time, add func(k, v string)) {
	add("role", s.roleName())
	lsn := s.lastLSN
	offset := lsn
	if s.isReplica() {
		offset = s.replicaOffset()
		host, port, _ := splitHostPort(s.repl.primary)
		state := s.repl.status.State()
		add("master_host", host)
		add("master_port", strconv.Itoa(port))
		add("master_link_status", map[bool]string{true: "up", false: "down"}[state == repl.LinkConnected])
		add("master_last_io_seconds_ago", strconv.FormatInt(s.repl.status.LastIOSeconds(now), 10))
		add("master_sync_in_progress", map[bool]string{true: "1", false: "0"}[state == repl.LinkSync])
		add("slave_read_repl_offset", strconv.FormatUint(offset, 10))
		add("slave_repl_offset", strconv.FormatUint(offset, 10))
		add("slave_priority", "100")
		add("slave_read_only", "1")
		add("replica_announced", "1")
		add("baton_link_state", state)
	}
	infos := s.repl.acks.Infos(now)
	add("connected_slaves", strconv.Itoa(len(infos)))
	for i, ri := range infos {
		add("slave"+strconv.Itoa(i), ri.InfoLine(lsn))
	}
	h := s.jr.History()
	// A frozen primary is mid-takeover (Redis' name for its own FAILOVER).
	add("master_failover_state", map[bool]string{true: "failover-in-progress", false: "no-failover"}[s.frozen()])
	add("master_replid", h.Replid)
	replid2, second := strings.Repeat("0", 40), "-1"
	if h.PrevReplid != "" {
		replid2, second = h.PrevReplid, strconv.FormatUint(h.PrevEnd+1, 10)
	}
	add("master_replid2", replid2)
	add("master_repl_offset", strconv.FormatUint(offset, 10))
	add("second_repl_offset", second)
	add("repl_backlog_active", "1")
	add("repl_backlog_size", strconv.Itoa(s.cfg.BacklogBytes))
	add("baton_epoch", strconv.FormatUint(s.repl.epoch.Load(), 10))
	add("baton_epoch_refusals", strconv.FormatInt(s.repl.epochRefusals.Load(), 10))
	add("baton_last_epoch_refusal", s.repl.lastRefusal.Load().(string))
	add("baton_sync_replicas", strconv.Itoa(s.cfg.SyncReplicas))
	add("baton_coordinated", map[bool]string{true: "1", false: "0"}[s.coord != nil])
	add("baton_node_id", s.cfg.NodeID)
	leaseMs, leaseEpoch := s.leaseInfo(time.Now())
	add("baton_lease_ms_left", leaseMs)
	add("baton_lease_epoch", leaseEpoch)
}
