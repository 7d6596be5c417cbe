package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/resp"
	"github.com/redis/go-redis/v9"
)

// ctlCommands are `baton ctl`'s operations.
var ctlCommands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"takeover": runCtlTakeover,
	"status":   runCtlStatus,
}

// runCtl runs `baton ctl <operation>`: operator commands sent to the
// coordinator group.
func runCtl(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || ctlCommands[args[0]] == nil {
		fmt.Fprintln(stderr, "Usage: baton ctl <operation> [flags]   (baton ctl <operation> --help)")
		fmt.Fprintln(stderr, "\nOperations:\n  takeover   move the primary role in a planned handover (zero client errors)")
		fmt.Fprintln(stderr, "  status     the shard's nodes (role, epoch, LSN, lag, lease) and coordinators (Raft state); --watch redraws")
		return 2
	}
	return ctlCommands[args[0]](args[1:], stdout, stderr)
}

// ctlConn is an operator's connection to the coordinator group: it sends
// leader-only commands to whichever configured coordinator leads.
type ctlConn struct {
	addrs  []string
	secret string
}

// client returns a go-redis client for one coordinator.
func (c *ctlConn) client(addr string, timeout time.Duration) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: addr, Password: c.secret, MaxRetries: -1, DialTimeout: time.Second,
		ReadTimeout: timeout, WriteTimeout: time.Second, Protocol: 2, DisableIdentity: true,
	})
}

// leaderDo sends a leader-only command to the coordinator leader
// (coordapi.LeaderDo), bounded by timeout.
func (c *ctlConn) leaderDo(ctx context.Context, timeout time.Duration, args ...string) (resp.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return coordapi.LeaderDo(ctx, c.addrs, c.secret, 10, args...)
}

// localTopology reads one coordinator's applied record (BATON.TOPOLOGY
// LOCAL, answered by any member).
func localTopology(ctx context.Context, cl *redis.Client) (coordapi.Topology, error) {
	s, err := cl.Do(ctx, coordapi.CmdTopology, "LOCAL").Text()
	if err != nil {
		return coordapi.Topology{}, err
	}
	return coordapi.Decode(s)
}

// topologyStep describes one coordinator's committed record: its epoch,
// primary, state and takeover step.
func (c *ctlConn) topologyStep(ctx context.Context, cl *redis.Client) (string, error) {
	t, err := localTopology(ctx, cl)
	if err != nil {
		return "", err
	}
	step := ""
	if t.Takeover != nil {
		step = " step " + t.Takeover.Step
	}
	return fmt.Sprintf("epoch %d, primary %s, state %s%s", t.Epoch, t.Primary, t.State, step), nil
}

// follow prints every change of the committed record until ctx ends.
func (c *ctlConn) follow(ctx context.Context, out io.Writer, start time.Time) {
	cl := c.client(c.addrs[0], time.Second)
	defer cl.Close()
	last := ""
	for ctx.Err() == nil {
		if s, err := c.topologyStep(ctx, cl); err == nil && s != last {
			fmt.Fprintf(out, "%8.1f ms  %s\n", float64(time.Since(start).Microseconds())/1000, s)
			last = s
		}
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Millisecond):
		}
	}
}
