package node

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/node/keyspace"
)

// failoverDefaultTimeout bounds a FAILOVER without TIMEOUT (the
// coordinators' default takeover timeout).
const failoverDefaultTimeout = 5 * time.Second

// cmdFailover: FAILOVER [TO host port] [TIMEOUT ms] — Redis' planned
// failover, run as the coordinators' takeover (BATON.TAKEOVER) so that
// redis-cli users get the same state machine as `baton ctl takeover`.
// Unlike Redis it replies when the takeover is over: +OK once the new
// epoch is committed, an error saying which step failed after a rollback.
// FORCE is refused (a takeover never skips LSN parity), as is ABORT (it
// rolls back by itself at its timeout).
func (s *Server) cmdFailover(c *keyspace.Ctx) {
	cl := clientOf(c)
	if s.coord == nil {
		c.Err("ERR FAILOVER needs coordinators: this node runs without --coordinators")
		return
	}
	if s.isReplica() {
		c.Err("ERR FAILOVER is not valid when server is a replica.")
		return
	}
	args := []string{coordapi.CmdTakeover}
	timeout := failoverDefaultTimeout
	for i := 1; i < len(c.Args); i++ {
		switch strings.ToLower(string(c.Args[i])) {
		case "to":
			if i+2 >= len(c.Args) {
				c.Err("ERR syntax error")
				return
			}
			args = append(args, "TO", net.JoinHostPort(string(c.Args[i+1]), string(c.Args[i+2])))
			i += 2
		case "timeout":
			ms, err := strconv.ParseInt(string(argOr(c, i+1)), 10, 64)
			if err != nil || ms <= 0 {
				c.Err("ERR FAILOVER timeout must be greater than 0")
				return
			}
			timeout = time.Duration(ms) * time.Millisecond
			args = append(args, "TIMEOUT", strconv.FormatInt(ms, 10))
			i++
		case "force":
			c.Err("ERR FAILOVER FORCE is not supported: a takeover never skips LSN parity")
			return
		case "abort":
			c.Err("ERR FAILOVER ABORT is not supported: a takeover rolls back by itself at its timeout")
			return
		default:
			c.Err("ERR syntax error")
			return
		}
	}
	cl.deferred = func(w keyspace.Replier) {
		w.WriteRaw([]byte(s.runFailover(args, timeout)))
	}
}

// argOr returns argument i, or nil past the end.
func argOr(c *keyspace.Ctx, i int) []byte {
	if i < len(c.Args) {
		return c.Args[i]
	}
	return nil
}

// runFailover asks the coordinator leader for the takeover and turns its
// report into a RESP reply. BATON.TAKEOVER goes out with Client.Do, which
// never sends a command twice: a takeover must not run again because a
// reply was lost.
func (s *Server) runFailover(args []string, timeout time.Duration) string {
	ctx, cancel := context.WithTimeout(s.life.Context(), timeout+5*time.Second)
	defer cancel()
	cc := coordapi.NewClient(s.cfg.Coordinators, s.cfg.ClusterSecret)
	defer cc.Close()
	v, err := cc.Do(ctx, args...)
	if err != nil {
		return "-ERR FAILOVER: " + resp.Sanitize(err.Error(), 400) + "\r\n"
	}
	rep, err := coordapi.ReportFromReply(v)
	if err != nil {
		return "-ERR FAILOVER: unexpected reply from the coordinators\r\n"
	}
	if rep.Outcome != coordapi.OutcomeCommitted {
		return "-ERR FAILOVER rolled back at step " + rep.FailedStep + ": " + resp.Sanitize(rep.Reason, 400) + "\r\n"
	}
	return "+OK\r\n"
}
