package consensus

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/internal/resplimit"
	"github.com/tidwall/redcon"
)

// apiTimeout bounds one API command's Raft work.
const apiTimeout = 5 * time.Second

// apiConn is one API client connection.
type apiConn struct {
	nc net.Conn
	// authed: the client presented the cluster secret (or none is set).
	// An atomic: the input guard reads it to apply the pre-authentication
	// bounds.
	authed atomic.Bool
	// watch is set by BATON.WATCH: the connection becomes a push stream.
	watch bool
}

// accept admits a connection.
func (c *Service) accept(conn redcon.Conn) bool {
	if !c.life.Track(conn.NetConn()) {
		return false
	}
	ac := &apiConn{nc: conn.NetConn()}
	ac.authed.Store(c.cfg.Secret == "")
	if rc, ok := conn.NetConn().(*resplimit.Conn); ok {
		// Before its first read (redcon calls accept first).
		rc.SetAuthed(ac.authed.Load)
	}
	conn.SetContext(ac)
	return true
}

// closedConn forgets a connection (detached ones are forgotten by their
// own loop).
func (c *Service) closedConn(conn redcon.Conn, err error) {
	ac, ok := conn.Context().(*apiConn)
	if !ok || (err != nil && err.Error() == "detached") {
		return
	}
	c.forget(ac)
}

// forget drops ac from the connections Close closes.
func (c *Service) forget(ac *apiConn) { c.life.Untrack(ac.nc) }

// apiCommands are the API's commands; leaderOnly ones are redirected by
// followers.
var apiCommands = map[string]struct {
	fn         func(c *Service, ctx context.Context, args [][]byte) any
	arity      int // exact argument count including the name; negative: at least -arity
	leaderOnly bool
}{
	strings.ToLower(coordapi.CmdTopology):   {(*Service).cmdTopology, -1, false},
	strings.ToLower(coordapi.CmdRegister):   {(*Service).cmdRegister, -3, true},
	strings.ToLower(coordapi.CmdDeregister): {(*Service).cmdDeregister, 2, true},
	strings.ToLower(coordapi.CmdLease):      {(*Service).cmdLease, 3, true},
	strings.ToLower(coordapi.CmdFailover):   {(*Service).cmdFailover, -1, true},
	strings.ToLower(coordapi.CmdTakeover):   {(*Service).cmdTakeover, -1, true},
	strings.ToLower(coordapi.CmdJoin):       {(*Service).cmdJoin, 4, true},
	strings.ToLower(coordapi.CmdRemove):     {(*Service).cmdRemove, 2, true},
	strings.ToLower(coordapi.CmdMembers):    {(*Service).cmdMembers, 1, false},
}

// A reply value: string → bulk, int64 → integer, status → +…, error → -…,
// []string → array of bulks.
type status string

// serveRESP handles one API command.
func (c *Service) serveRESP(conn redcon.Conn, cmd redcon.Command) {
	ac, ok := conn.Context().(*apiConn)
	if !ok {
		conn.Close()
		return
	}
	name := strings.ToLower(string(cmd.Args[0]))
	switch name {
	case "auth":
		c.cmdAuth(conn, ac, cmd.Args)
		return
	case "ping":
		conn.WriteString("PONG")
		return
	case "quit":
		conn.WriteString("OK")
		conn.Close()
		return
	}
	if !ac.authed.Load() {
		conn.WriteError(coordapi.ErrCodeNoAuth + " Authentication required.")
		return
	}
	if strings.EqualFold(name, coordapi.CmdWatch) {
		c.startWatch(conn, ac)
		return
	}
	h, ok := apiCommands[name]
	if !ok {
		conn.WriteError(fmt.Sprintf("ERR unknown command '%s'", resp.Sanitize(name, errLineMax)))
		return
	}
	if (h.arity > 0 && len(cmd.Args) != h.arity) || (h.arity < 0 && len(cmd.Args) < -h.arity) {
		conn.WriteError(fmt.Sprintf("ERR wrong number of arguments for '%s' command", name))
		return
	}
	if h.leaderOnly && !c.raft.IsLeader() {
		c.writeRedirect(conn)
		return
	}
	ctx, cancel := context.WithTimeout(c.life.Context(), apiTimeout)
	defer cancel()
	writeReply(conn, h.fn(c, ctx, cmd.Args))
}

// cmdAuth checks the cluster secret.
func (c *Service) cmdAuth(conn redcon.Conn, ac *apiConn, args [][]byte) {
	if len(args) != 2 {
		conn.WriteError("ERR wrong number of arguments for 'auth' command")
		return
	}
	if c.cfg.Secret == "" {
		conn.WriteError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
		return
	}
	if subtle.ConstantTimeCompare(args[1], []byte(c.cfg.Secret)) != 1 {
		c.log.Warn("API client presented a wrong cluster secret", "client", ac.nc.RemoteAddr().String())
		conn.WriteError(coordapi.ErrCodeWrongPass + " invalid cluster secret")
		return
	}
	ac.authed.Store(true)
	conn.WriteString("OK")
}

// writeRedirect sends a follower's answer to a leader-only command.
func (c *Service) writeRedirect(conn redcon.Conn) {
	if addr := c.leaderAPIAddr(); addr != "" {
		conn.WriteError(coordapi.ErrCodeRedirect + " " + addr)
		return
	}
	conn.WriteError(coordapi.ErrCodeNoLeader + " no coordinator leader elected")
}

// writeReply writes a handler's result.
func writeReply(conn redcon.Conn, v any) {
	switch v := v.(type) {
	case error:
		var nl *NotLeaderError
		if errors.As(v, &nl) {
			conn.WriteError(coordapi.ErrCodeNoLeader + " " + v.Error())
			return
		}
		msg := v.Error()
		if i := strings.IndexByte(msg, ' '); i <= 0 || strings.ToUpper(msg[:i]) != msg[:i] {
			msg = "ERR " + msg
		}
		conn.WriteError(resp.Sanitize(msg, errLineMax))
	case status:
		conn.WriteString(string(v))
	case string:
		conn.WriteBulkString(v)
	case int64:
		conn.WriteInt64(v)
	case []string:
		conn.WriteArray(len(v))
		for _, s := range v {
			conn.WriteBulkString(s)
		}
	default:
		conn.WriteError(fmt.Sprintf("ERR internal: reply %T", v))
	}
}

// errLineMax bounds an error reply's text: long enough for any of the
// service's messages (a takeover's rollback reason included).
const errLineMax = 64 << 10

// cmdTopology: BATON.TOPOLOGY [LOCAL] — the committed topology, read
// linearizably on the leader (LOCAL: this member's applied state, from
// any member).
func (c *Service) cmdTopology(ctx context.Context, args [][]byte) any {
	if len(args) == 2 && strings.EqualFold(string(args[1]), "local") {
		return c.raft.Local().JSON()
	}
	if len(args) != 1 {
		return errors.New("ERR syntax error")
	}
	t, err := c.raft.Read(ctx)
	if err != nil {
		return err
	}
	return t.JSON()
}

// cmdRegister: BATON.REGISTER node-id addr — a node joins the shard (or
// updates its address). The first node of a fresh shard becomes primary of
// epoch 1.
func (c *Service) cmdRegister(ctx context.Context, args [][]byte) any {
	if len(args) > 4 {
		return errors.New("ERR syntax error")
	}
	n := coordapi.Node{ID: string(args[1]), Addr: string(args[2])}
	if len(args) == 4 && string(args[3]) != string(args[2]) {
		n.ReplAddr = string(args[3])
	}
	if n.ID == "" || n.Addr == "" {
		return errors.New("ERR node id and address must not be empty")
	}
	if cur, ok := c.raft.Local().Member(n.ID); ok && cur == n {
		t, err := c.raft.Read(ctx)
		if err != nil {
			return err
		}
		return t.JSON()
	}
	t, err := c.raft.Apply(ctx, Command{Op: OpRegister, Node: &n})
	if err != nil {
		return err
	}
	c.log.Info("node registered", "node", n.ID, "addr", n.Addr, "epoch", t.Epoch, "primary", t.Primary)
	return t.JSON()
}

// cmdDeregister: BATON.DEREGISTER node-id removes a node that is not the
// primary.
func (c *Service) cmdDeregister(ctx context.Context, args [][]byte) any {
	t, err := c.raft.Apply(ctx, Command{Op: OpDeregister, ID: string(args[1])})
	if err != nil {
		return err
	}
	return t.JSON()
}

// cmdLease: BATON.LEASE node-id epoch — the primary of epoch renews its
// write lease; the reply is the lease in milliseconds. Granted only after
// this member verified it still leads (a deposed leader cannot grant) and
// only to the primary of the current epoch.
func (c *Service) cmdLease(ctx context.Context, args [][]byte) any {
	node := string(args[1])
	epoch, err := strconv.ParseUint(string(args[2]), 10, 64)
	if err != nil {
		return errors.New("ERR invalid epoch")
	}
	t, err := c.raft.Read(ctx)
	if err != nil {
		c.metrics.leaseRefusals.Inc()
		return err
	}
	if t.State == coordapi.StateTakeover && t.Takeover != nil && t.Takeover.From == node {
		// The role is being handed over: a primary that restarted after
		// its freeze must not take writes past the LSN the target matches.
		c.metrics.leaseRefusals.Inc()
		return fmt.Errorf("%s the primary role of epoch %d is being handed over from %q", coordapi.ErrCodeNotPrimary, epoch, node)
	}
	if t.Primary != node || t.Epoch != epoch {
		c.metrics.leaseRefusals.Inc()
		return fmt.Errorf("%s epoch %d's primary is %q (asked: %q for epoch %d)", coordapi.ErrCodeNotPrimary, t.Epoch, t.Primary, node, epoch)
	}
	if !c.leases.grant(node, epoch, time.Now(), c.cfg.Lease) {
		c.metrics.leaseRefusals.Inc()
		return fmt.Errorf("%s the primary role of epoch %d is being moved away from %q", coordapi.ErrCodeNotPrimary, epoch, node)
	}
	c.metrics.leasesGranted.Inc()
	return int64(c.cfg.Lease / time.Millisecond)
}

// cmdFailover: BATON.FAILOVER [node-id] — move the primary role now, to the
// best candidate or to node-id: renewals of the current primary's lease are
// refused at once, and the new epoch is committed once that lease ended.
func (c *Service) cmdFailover(ctx context.Context, args [][]byte) any {
	if len(args) > 2 {
		return errors.New("ERR syntax error")
	}
	t, err := c.raft.Read(ctx)
	if err != nil {
		return err
	}
	to := ""
	if len(args) == 2 {
		to = string(args[1])
		if _, ok := t.Member(to); !ok || to == t.Primary {
			return fmt.Errorf("ERR %q is not a replica of this shard", to)
		}
	}
	nt, err := c.failover(ctx, t, to, "requested")
	if err != nil {
		return err
	}
	return nt.JSON()
}

// cmdJoin: BATON.JOIN id raft-addr api-addr adds a coordinator as a voter.
func (c *Service) cmdJoin(ctx context.Context, args [][]byte) any {
	p := Peer{ID: string(args[1]), RaftAddr: string(args[2]), APIAddr: string(args[3])}
	if err := c.raft.AddVoter(ctx, p); err != nil {
		return err
	}
	c.log.Info("coordinator joined", "member", p.ID, "raft_addr", p.RaftAddr)
	return status("OK")
}

// cmdRemove: BATON.REMOVE id removes a coordinator from the group.
func (c *Service) cmdRemove(ctx context.Context, args [][]byte) any {
	if err := c.raft.RemoveServer(ctx, string(args[1])); err != nil {
		return err
	}
	c.log.Info("coordinator removed", "member", string(args[1]))
	return status("OK")
}

// cmdMembers: BATON.MEMBERS lists the Raft servers as "id raft-addr
// suffrage", the leader marked.
func (c *Service) cmdMembers(ctx context.Context, _ [][]byte) any {
	servers, err := c.raft.Servers()
	if err != nil {
		return err
	}
	leader, _ := c.raft.Leader()
	out := make([]string, 0, len(servers))
	for _, s := range servers {
		line := fmt.Sprintf("%s %s %s", s.ID, s.Address, s.Suffrage)
		if string(s.ID) == leader {
			line += " leader"
		}
		out = append(out, line)
	}
	return out
}

// cmdTakeover: BATON.TAKEOVER [TO node-id] [TIMEOUT ms] [GRACE ms] — a
// coordinated takeover (see Takeover). The reply is the report as JSON,
// for a rollback too (its outcome and failed step say why); an error only
// when no takeover could start.
func (c *Service) cmdTakeover(_ context.Context, args [][]byte) any {
	to := ""
	timeout, grace := coordapi.DefaultTakeoverTimeout, time.Duration(0)
	for i := 1; i < len(args); i += 2 {
		if i+1 >= len(args) {
			return errors.New("ERR syntax error")
		}
		val := string(args[i+1])
		switch strings.ToLower(string(args[i])) {
		case "to":
			to = val
		case "timeout", "grace":
			ms, err := strconv.ParseInt(val, 10, 64)
			if err != nil || ms <= 0 {
				return errors.New("ERR timeout and grace are positive milliseconds")
			}
			if strings.EqualFold(string(args[i]), "timeout") {
				timeout = time.Duration(ms) * time.Millisecond
			} else {
				grace = time.Duration(ms) * time.Millisecond
			}
		default:
			return errors.New("ERR syntax error")
		}
	}
	// The takeover has its own bound (timeout), not the API's.
	ctx, cancel := context.WithTimeout(c.life.Context(), timeout+5*time.Second)
	defer cancel()
	rep, err := c.Takeover(ctx, to, timeout, grace)
	if err != nil {
		return err
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("ERR encode report: %v", err)
	}
	return string(b)
}
