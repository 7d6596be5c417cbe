package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/benchkit"
	"github.com/batonkv/baton/internal/proc"
)

// appliance is the shared 3-coordinator, 3-node cluster with one baton
// proxy in front of it, the path the writers take.
type appliance struct {
	*benchkit.BatonCluster
	proxy *benchkit.Proc
}

// startAppliance brings up the cluster (--sync-replicas syncReplicas) and
// the proxy, and returns once a write through the proxy is acknowledged.
func startAppliance(ctx context.Context, bin, dir string, syncReplicas int, wait time.Duration) (*appliance, error) {
	a := &appliance{BatonCluster: &benchkit.BatonCluster{Bin: bin, Dir: dir, Secret: "bench-takeover-secret",
		SyncReplicas: syncReplicas, WaitTimeout: wait}}
	if err := a.Start(ctx); err != nil {
		return a, err
	}
	ports, err := proc.FreePorts(1)
	if err != nil {
		return a, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	a.proxy = &benchkit.Proc{Name: "proxy", Addr: addr, Bin: bin, Log: filepath.Join(dir, "proxy.log"), Args: []string{
		"proxy", "--addr", addr, "--coordinators", strings.Join(a.CoordAddrs(), ","),
		"--cluster-secret", a.Secret, "--log-level", "warn",
	}}
	if err := a.proxy.Start(); err != nil {
		return a, err
	}
	c := benchkit.NewClient(addr, "")
	defer c.Close()
	err = benchkit.Poll(ctx, "a write through the proxy", wait, func(ctx context.Context) error {
		return c.Set(ctx, "bench-takeover:ready", "1", 0).Err()
	})
	if err != nil {
		return a, fmt.Errorf("%w (proxy: %s)", err, a.proxy.Tail(3))
	}
	return a, nil
}

// stop kills the proxy and the cluster.
func (a *appliance) stop() {
	if a.proxy != nil {
		_ = a.proxy.Kill()
	}
	a.Stop()
}

// takeover runs BATON.TAKEOVER TO to on the coordinator leader and returns
// its report. The call is bounded by the takeover's own timeout plus the
// slack the coordinator gives it.
func (a *appliance) takeover(ctx context.Context, to string, timeout, grace time.Duration) (coordapi.TakeoverReport, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout+10*time.Second)
	defer cancel()
	args := []string{coordapi.CmdTakeover, "TO", to, "TIMEOUT", strconv.FormatInt(timeout.Milliseconds(), 10)}
	if grace > 0 {
		args = append(args, "GRACE", strconv.FormatInt(grace.Milliseconds(), 10))
	}
	v, err := coordapi.LeaderDo(ctx, a.CoordAddrs(), a.Secret, 20, args...)
	if err != nil {
		return coordapi.TakeoverReport{}, err
	}
	return coordapi.ReportFromReply(v)
}
