package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/batonkv/baton/internal/proc"
)

// localSecret is the cluster secret of a local target.
const localSecret = "baton-chaos"

// Local is the local target: 3 coordinators, 3 nodes and 1 proxy (2 with
// TargetConfig.Proxies) of a baton binary on loopback, with an embedded
// toxiproxy on every link: client→proxy, proxy→node and coordinator→node
// (the nodes advertise a demux that sends each to its own link),
// node→node replication (--replication-addr, a demux too: one link per
// replica), node→coordinator (the nodes' --coordinators),
// proxy→coordinator (the proxies' --coordinators) and
// coordinator→coordinator (Raft, --raft-dial).
type Local struct {
	*cluster
	cfg         TargetConfig
	toxi        *toxi
	procs       map[string]*process
	clientLinks []*Link
	demuxes     []*demux

	closeOnce sync.Once
	closeErr  error
}

// StartLocal starts a local target in cfg.Dir and returns once n1 is the
// primary and n2, n3 its connected replicas; on error nothing is left
// running.
func StartLocal(ctx context.Context, cfg TargetConfig) (*Local, error) {
	l := &Local{cfg: cfg, procs: map[string]*process{}}
	l.cluster = newCluster(localSecret, func(id string) bool { p := l.procs[id]; return p != nil && p.alive() })
	ok := false
	defer func() {
		if !ok {
			l.Close()
		}
	}()
	for _, d := range []string{"logs", "data", "leases"} {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	x, err := startToxiproxy()
	if err != nil {
		return nil, err
	}
	l.toxi = x
	if err := l.plan(); err != nil {
		return nil, err
	}
	if err := l.boot(ctx); err != nil {
		return nil, err
	}
	ok = true
	return l, nil
}

// plan reserves every address, creates every link and records each
// process's flags. The addresses stay held until the links exist, so
// toxiproxy cannot pick one of them.
func (l *Local) plan() error {
	proxies := max(l.cfg.Proxies, 1)
	ports, err := proc.Reserve(9 + proxies)
	if err != nil {
		return err
	}
	defer ports.Release()
	addrs := ports.Addrs()
	raftAddrs, apis, nodeAddrs, proxyAddrs := addrs[:3], addrs[3:6], addrs[6:9], addrs[9:]
	var peers []string
	for i := range 3 {
		peers = append(peers, fmt.Sprintf("c%d=%s/%s", i+1, raftAddrs[i], apis[i]))
	}
	for i := range 3 {
		id := fmt.Sprintf("c%d", i+1)
		var dial []string
		for j := range 3 {
			if j == i {
				continue
			}
			to := fmt.Sprintf("c%d", j+1)
			lk, err := l.toxi.add(id+"-"+to, LinkRaft, id, to, raftAddrs[j])
			if err != nil {
				return err
			}
			dial = append(dial, to+"="+lk.Listen)
		}
		l.add(id, KindCoordinator, apis[i], "--id", id, "--raft-addr", raftAddrs[i], "--addr", apis[i],
			"--dir", filepath.Join(l.cfg.Dir, "data", id), "--peers", strings.Join(peers, ","),
			"--raft-dial", strings.Join(dial, ","), "--cluster-secret", localSecret, "--log-level", "warn")
	}
	for i := range 3 {
		if err := l.planNode(i, nodeAddrs[i], apis); err != nil {
			return err
		}
	}
	for i, addr := range proxyAddrs {
		if err := l.planProxy(proxyID(i), addr, apis); err != nil {
			return err
		}
	}
	l.setEntry(l.clientLinks[0].Listen)
	return nil
}

// proxyID names the local target's proxy i: "proxy", "proxy2"…
func proxyID(i int) string {
	if i == 0 {
		return "proxy"
	}
	return fmt.Sprintf("proxy%d", i+1)
}

// planProxy creates a proxy's links (client→proxy, proxy→coordinators)
// and records its flags.
func (l *Local) planProxy(id, addr string, apis []string) error {
	var coords []string
	for j, api := range apis {
		c := fmt.Sprintf("c%d", j+1)
		lk, err := l.toxi.add(id+"-"+c, LinkProxyCoord, id, c, api)
		if err != nil {
			return err
		}
		coords = append(coords, lk.Listen)
	}
	l.add(id, KindProxy, addr, "--addr", addr, "--coordinators", strings.Join(coords, ","),
		"--cluster-secret", localSecret, "--log-level", "warn")
	lk, err := l.toxi.add("client-"+id, LinkClient, "client", id, addr)
	if err != nil {
		return err
	}
	l.clientLinks = append(l.clientLinks, lk)
	return nil
}

// planNode creates node i's links and records its flags. Its advertised
// address is a demux sending the coordinators' connections to link
// "nX-probe" and the rest (the proxies') to "nX"; its replication address
// a demux sending each other node's to "repl-nX-nY" (the rest to
// "repl-nX").
func (l *Local) planNode(i int, addr string, apis []string) error {
	id := fmt.Sprintf("n%d", i+1)
	pids := func() map[int]string { return pidsOf(l.procs) }
	adv, err := l.toxi.add(id, LinkNode, "proxy", id, addr)
	if err != nil {
		return err
	}
	probe, err := l.toxi.add(id+"-probe", LinkNode, "coordinators", id, addr)
	if err != nil {
		return err
	}
	route := map[string]string{}
	for j := range apis {
		route[fmt.Sprintf("c%d", j+1)] = probe.Listen
	}
	advMux, err := l.demux(route, adv.Listen, pids)
	if err != nil {
		return err
	}
	repl, err := l.toxi.add("repl-"+id, LinkReplication, "replicas", id, addr)
	if err != nil {
		return err
	}
	route = map[string]string{}
	for j := range 3 {
		if j == i {
			continue
		}
		from := fmt.Sprintf("n%d", j+1)
		lk, err := l.toxi.add("repl-"+id+"-"+from, LinkReplication, from, id, addr)
		if err != nil {
			return err
		}
		route[from] = lk.Listen
	}
	replMux, err := l.demux(route, repl.Listen, pids)
	if err != nil {
		return err
	}
	var coords []string
	for j, api := range apis {
		c := fmt.Sprintf("c%d", j+1)
		lk, err := l.toxi.add(id+"-"+c, LinkNodeCoord, id, c, api)
		if err != nil {
			return err
		}
		coords = append(coords, lk.Listen)
	}
	l.add(id, KindNode, addr, "--addr", addr, "--dir", filepath.Join(l.cfg.Dir, "data", id),
		"--node-id", id, "--coordinators", strings.Join(coords, ","), "--cluster-secret", localSecret,
		"--advertise-addr", advMux.addr(), "--replication-addr", replMux.addr(),
		"--sync-replicas", strconv.Itoa(l.cfg.SyncReplicas),
		"--lease-log", l.leaseLog(id), "--write-log", l.writeLog(id), "--log-level", "warn")
	return nil
}

// demux starts a demux (closed by Close).
func (l *Local) demux(route map[string]string, def string, pids func() map[int]string) (*demux, error) {
	d, err := startDemux(route, def, pids)
	if err != nil {
		return nil, err
	}
	l.demuxes = append(l.demuxes, d)
	return d, nil
}

// add records a process and its direct client.
func (l *Local) add(id, kind, addr string, args ...string) {
	l.procs[id] = newProcess(id, kind, l.cfg.Bin, addr, filepath.Join(l.cfg.Dir, "logs", id+".log"), l.cfg.Env, args)
	l.addMember(id, kind, addr)
}

// leaseLog is node id's lease log.
func (l *Local) leaseLog(id string) string {
	return filepath.Join(l.cfg.Dir, "leases", id+".leases")
}

// writeLog is node id's executed-writes log (beside its lease log).
func (l *Local) writeLog(id string) string {
	return filepath.Join(l.cfg.Dir, "leases", id+".writes")
}

// boot starts the coordinators, then n1 alone until it is the primary of
// epoch 1, then n2 and n3 and the proxy, and waits until it is healthy.
func (l *Local) boot(ctx context.Context) error {
	for _, id := range []string{"c1", "c2", "c3", "n1"} {
		if err := l.procs[id].start(ctx); err != nil {
			return err
		}
	}
	err := poll(ctx, 30*time.Second, func() error {
		t, err := l.Topology(ctx)
		if err == nil && t.Primary != "n1" {
			err = fmt.Errorf("primary %q", t.Primary)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("n1 did not become the primary: %w", err)
	}
	for _, id := range append([]string{"n2", "n3"}, l.Members(KindProxy)...) {
		if err := l.procs[id].start(ctx); err != nil {
			return err
		}
	}
	if err := poll(ctx, 30*time.Second, func() error { return l.Health(ctx) }); err != nil {
		return fmt.Errorf("the new appliance is not healthy: %w", err)
	}
	return nil
}

// poll calls f every 100 ms until it returns nil, limit passes or ctx
// ends; it returns f's last error.
func poll(ctx context.Context, limit time.Duration, f func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
