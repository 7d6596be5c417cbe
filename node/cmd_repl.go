package node

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)


// errReadonly is Redis' reply to a write on a replica.
const errReadonly = "READONLY You can't write against a read only replica."

// cmdReplicaof: REPLICAOF host port | NO ONE. The switch (v2) first
// connects, authenticates and handshakes with the new primary without
// touching the node's state; only if that works does it swap the link. It
// runs without the keyspace lock (clients keep being served) and calls are
// serialized.
func cmdReplicaof(c *Ctx) {
	if c.execing {
		c.err("ERR REPLICAOF is not allowed in a transaction")
		return
	}
	s := c.s
	if eqFold(c.args[1], "no") && eqFold(c.args[2], "one") {
		c.cl.deferred = func(w Replier) {
			s.promote()
			w.WriteString("OK")
		}
		return
	}
	port, err := strconv.Atoi(c.arg(2))
	if err != nil || port <= 0 || port > 65535 {
		c.err("ERR Invalid master port")
		return
	}
	target := net.JoinHostPort(c.arg(1), strconv.Itoa(port))
	c.cl.deferred = func(w Replier) {
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
	ctx, cancel := context.WithTimeout(s.ctx, handshakeTimeout)
	defer cancel()
	hs, err := s.dialPrimary(ctx, target)
	if err != nil {
		return false, err
	}
	s.switchPrimary(target, hs)
	return false, nil
}

// switchPrimary swaps the replication link to an established handshake.
func (s *Server) switchPrimary(target string, hs *handshake) {
	s.stopLink()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		hs.rc.nc.Close()
		return
	}
	wasPrimary := !s.isReplica()
	s.repl.role = roleReplica
	s.repl.primary = target
	s.repl.synced = false
	s.repl.link = s.newLink(target, hs)
	s.log.Info("replicating", "primary", target, "was_primary", wasPrimary)
	if wasPrimary {
		s.wakeAllBlockedLocked()
		s.thaw(0, "demoted")
		s.newGeneration()
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
	s.repl.synced = false
	h := s.jr.NewHistory()
	s.newGeneration()
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
		l.stop()
	}
}

// cmdWait: WAIT numreplicas timeout blocks until numreplicas replicas
// acknowledged the client's last write, or timeout ms pass (0: forever);
// it replies how many did. Inside a transaction it does not block.
func cmdWait(c *Ctx) {
	n, ok := c.intArg(1)
	if !ok {
		return
	}
	ms, ok := c.intArg(2)
	if !ok {
		return
	}
	if ms < 0 {
		c.err("ERR timeout is negative")
		return
	}
	s := c.s
	if s.isReplica() {
		c.err("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
		return
	}
	lsn, gen := c.cl.lastWriteLSN, c.cl.lastWriteGen
	got := s.ackedIn(lsn, gen)
	if c.execing || n <= 0 || int64(got) >= n {
		c.w.WriteInt(got)
		return
	}
	var deadline time.Time
	if ms > 0 {
		deadline = time.Now().Add(time.Duration(ms) * time.Millisecond)
	}
	c.cl.deferred = func(w Replier) {
		w.WriteInt(s.waitAcks(c.cl, lsn, gen, int(n), deadline))
	}
}

// cmdReplconf: REPLCONF on an ordinary connection (Redis replicas send
// several during their handshake); acks are read by the stream's reader.
func cmdReplconf(c *Ctx) { c.ok() }

// cmdEpoch: BATON.EPOCH [epoch] replies the node's epoch, or raises it. An
// epoch never goes back.
func cmdEpoch(c *Ctx) {
	s := c.s
	if len(c.args) == 1 {
		c.w.WriteInt64(int64(s.repl.epoch.Load()))
		return
	}
	if len(c.args) != 2 {
		c.wrongArity()
		return
	}
	e, err := strconv.ParseUint(c.arg(1), 10, 64)
	if err != nil {
		c.err("ERR epoch must be a non-negative integer")
		return
	}
	if err := s.raiseEpoch(e); err != nil {
		c.err("ERR " + err.Error())
		return
	}
	c.ok()
}

// cmdHandshake: BATON.HANDSHAKE runid listening-port epoch — a replica
// introduces itself before PSYNC. The reply, [runid, replid, lsn, epoch,
// role], lets the replica check identity, history and epoch before it
// changes anything.
func cmdHandshake(c *Ctx) {
	port, err := strconv.Atoi(c.arg(2))
	if err != nil || port < 0 || port > 65535 {
		c.err("ERR invalid listening port")
		return
	}
	c.cl.replPort = port
	s := c.s
	c.w.WriteArray(5)
	c.w.WriteBulkString(s.runID())
	c.w.WriteBulkString(s.jr.Replid())
	c.w.WriteBulkString(strconv.FormatUint(s.lastLSN, 10))
	c.w.WriteBulkString(strconv.FormatUint(s.repl.epoch.Load(), 10))
	c.w.WriteBulkString(s.roleName())
}

// cmdRole: ROLE as Redis replies it. A primary: ["master", lsn,
// [[ip, port, acked lsn]...]]. A replica: ["slave", host, port, state,
// offset], where offset is 0 until it completed a sync with this primary.
func cmdRole(c *Ctx) {
	s := c.s
	if s.isReplica() {
		host, port, _ := splitHostPort(s.repl.primary)
		c.w.WriteArray(5)
		c.w.WriteBulkString("slave")
		c.w.WriteBulkString(host)
		c.w.WriteInt(port)
		c.w.WriteBulkString(s.repl.linkState.Load().(string))
		c.w.WriteInt64(int64(s.replicaOffset()))
		return
	}
	infos := s.replicaInfos(time.Now())
	c.w.WriteArray(3)
	c.w.WriteBulkString("master")
	c.w.WriteInt64(int64(s.lastLSN))
	c.w.WriteArray(len(infos))
	for _, ri := range infos {
		c.w.WriteArray(3)
		c.w.WriteBulkString(ri.ip)
		c.w.WriteBulkString(strconv.Itoa(ri.port))
		c.w.WriteBulkString(strconv.FormatUint(ri.ack, 10))
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
		state := s.repl.linkState.Load().(string)
		add("master_host", host)
		add("master_port", strconv.Itoa(port))
		add("master_link_status", map[bool]string{true: "up", false: "down"}[state == linkConnected])
		add("master_last_io_seconds_ago", strconv.FormatInt(s.lastIOSeconds(now), 10))
		add("master_sync_in_progress", map[bool]string{true: "1", false: "0"}[state == linkSync])
		add("slave_read_repl_offset", strconv.FormatUint(offset, 10))
		add("slave_repl_offset", strconv.FormatUint(offset, 10))
		add("slave_priority", "100")
		add("slave_read_only", "1")
		add("replica_announced", "1")
		add("baton_link_state", state)
	}
	infos := s.replicaInfos(now)
	add("connected_slaves", strconv.Itoa(len(infos)))
	for i, ri := range infos {
		add("slave"+strconv.Itoa(i), ri.infoLine(lsn))
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
