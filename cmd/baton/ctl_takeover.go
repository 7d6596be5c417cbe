package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/redis/go-redis/v9"
)

// runCtlTakeover runs `baton ctl takeover`: a coordinated takeover,
// showing the committed steps as they happen and a summary at the end. It
// exits 0 when the new epoch was committed, 1 on a rollback or an error.
func runCtlTakeover(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("ctl takeover", stderr)
	target := addCtlTarget(fs)
	to := fs.String("to", "", "node id (or host:port) to hand the primary role to; default: the most caught-up replica")
	timeout := fs.Duration("timeout", coordapi.DefaultTakeoverTimeout, "deadline for the takeover up to its commit; missed → rollback")
	probe := fs.String("proxy", "", "a proxy address to measure the write pause through: a probe key (baton:takeover:probe) is written continuously during the takeover")
	grace := fs.Duration("grace", 0, "how long the old primary waits for hung connections before closing them (default: the coordinator's --takeover-grace)")
	if err := parseWithEnv(fs, args); err != nil {
		return 2
	}
	c, err := target.conn()
	if err != nil {
		fmt.Fprintln(stderr, "baton ctl takeover:", err)
		return 2
	}
	cmd := []string{coordapi.CmdTakeover, "TIMEOUT", strconv.FormatInt(timeout.Milliseconds(), 10)}
	if *to != "" {
		cmd = append(cmd, "TO", *to)
	}
	if *grace > 0 {
		cmd = append(cmd, "GRACE", strconv.FormatInt(grace.Milliseconds(), 10))
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout+10*time.Second)
	defer cancel()
	var pw *pauseProbe
	if *probe != "" {
		pw = startPauseProbe(ctx, *probe)
	}
	followCtx, stopFollow := context.WithCancel(ctx)
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		c.follow(followCtx, stdout, start)
	}()
	v, err := c.leaderDo(ctx, *timeout+5*time.Second, cmd...)
	time.Sleep(20 * time.Millisecond) // let the follower print the final record
	stopFollow()
	<-followed
	if err != nil {
		fmt.Fprintln(stderr, "baton ctl takeover:", err)
		return 1
	}
	rep, err := coordapi.ReportFromReply(v)
	if err != nil {
		fmt.Fprintln(stderr, "baton ctl takeover:", err)
		return 1
	}
	printTakeoverReport(stdout, rep)
	if pw != nil {
		pause, writes, errs := pw.stop()
		fmt.Fprintf(stdout, "  write pause seen through the proxy %s: %.1f ms (%d probe writes, %d errors)\n",
			*probe, float64(pause.Microseconds())/1000, writes, errs)
	}
	if rep.Outcome != coordapi.OutcomeCommitted {
		return 1
	}
	return 0
}

// printTakeoverReport writes the operator's summary of a takeover.
func printTakeoverReport(w io.Writer, rep coordapi.TakeoverReport) {
	fmt.Fprintf(w, "\ntakeover %s → %s: %s", rep.From, rep.To, rep.Outcome)
	if rep.Outcome != coordapi.OutcomeCommitted {
		fmt.Fprintf(w, " at step %s: %s", rep.FailedStep, rep.Reason)
	}
	fmt.Fprintf(w, "\n  epoch %d, LSN at handover %d, connections force-closed %d, total %.1f ms\n",
		rep.Epoch, rep.LSN, rep.ForceClosed, rep.TotalMs)
	fmt.Fprintf(w, "  %-10s %10s\n", "step", "ms")
	for _, st := range rep.Steps {
		fmt.Fprintf(w, "  %-10s %10.1f\n", st.Name, st.Ms)
	}
}

// pauseProbe writes a probe key through a proxy in a loop and keeps the
// longest time one write waited: the write pause a client saw.
type pauseProbe struct {
	stopc        chan struct{}
	done         chan struct{}
	cl           *redis.Client
	longest      time.Duration
	writes, errs int
}

// startPauseProbe starts writing through addr until stop.
func startPauseProbe(ctx context.Context, addr string) *pauseProbe {
	p := &pauseProbe{stopc: make(chan struct{}), done: make(chan struct{}),
		cl: redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1, Protocol: 2, DisableIdentity: true})}
	go func() {
		defer close(p.done)
		for n := 0; ; n++ {
			select {
			case <-p.stopc:
				return
			default:
			}
			t0 := time.Now()
			err := p.cl.Set(ctx, "baton:takeover:probe", n, 0).Err()
			p.longest = max(p.longest, time.Since(t0))
			p.writes++
			if err != nil {
				p.errs++
				time.Sleep(10 * time.Millisecond)
			}
		}
	}()
	return p
}

// stop ends the probe and returns the longest wait, writes and errors.
func (p *pauseProbe) stop() (time.Duration, int, int) {
	close(p.stopc)
	<-p.done
	p.cl.Close()
	return p.longest, p.writes, p.errs
}
