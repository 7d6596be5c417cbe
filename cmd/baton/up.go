package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/batonkv/baton/internal/proc"
	"github.com/batonkv/baton/internal/tlsfiles"
	"github.com/redis/go-redis/v9"
)

// upStartLimit bounds the start of one process of the appliance.
const upStartLimit = 15 * time.Second

// upProc is one process of the local appliance.
type upProc struct {
	name string
	proc *proc.Process
}

// runUp runs `baton up`: the whole appliance — 3 coordinators, 3 nodes and
// a proxy — as child processes on loopback, until SIGINT/SIGTERM.
func runUp(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("up", stderr)
	addr := fs.String("addr", "127.0.0.1:6379", "the proxy's address; if the port is taken, the next free one is used (printed)")
	dir := fs.String("dir", "", "data and logs directory (empty: a temporary one, removed on exit)")
	secret := fs.String("cluster-secret", "", "cluster secret shared by the appliance's processes (empty: the one in DIR/cluster-secret, generated there on the first start)")
	useTLS := fs.Bool("tls", false, "the proxy's client port speaks TLS only, with a private CA and certificate made in DIR/tls (kept across restarts)")
	logLevel := fs.String("log-level", "info", "log level of `baton up` itself: debug, info, warn, error")
	logger, code, ok := parseAndLog(fs, "up", args, logLevel, stderr)
	if !ok {
		return code
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "baton-up-")
		if err != nil {
			logger.Error("temp dir", "err", err)
			return 1
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	secretFile := filepath.Join(*dir, clusterSecretFile)
	if *secret == "" {
		var err error
		if *secret, err = loadOrCreateSecret(secretFile); err != nil {
			logger.Error("baton up: cluster secret", "err", err)
			return 1
		}
	}
	bin, err := os.Executable()
	if err != nil {
		logger.Error("own executable", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	a := &appliance{bin: bin, dir: *dir, secret: *secret, log: logger}
	if *useTLS {
		a.tlsDir = filepath.Join(*dir, "tls")
		if err := tlsfiles.EnsureLocal(a.tlsDir); err != nil {
			logger.Error("baton up: TLS certificates", "err", err)
			return 1
		}
	}
	defer a.stopAll()
	proxyAddr, err := a.start(ctx, *addr)
	if err != nil {
		logger.Error("baton up", "err", err)
		return 1
	}
	status, err := a.waitWritable(ctx, proxyAddr)
	if err != nil {
		logger.Error("baton up: the appliance did not become writable", "err", err, "logs", filepath.Join(*dir, "logs"))
		return 1
	}
	fmt.Fprintln(stdout, proc.Listening("up")+proxyAddr)
	fmt.Fprintf(stdout, "baton up: the proxy above fronts 3 coordinators and 3 nodes; data and logs in %s\n", *dir)
	fmt.Fprintf(stdout, "baton up: %s\n", status)
	fmt.Fprintf(stdout, "baton up: coordinators %s; see it with: baton ctl status --dir %s; move the primary with: baton ctl takeover --dir %s --proxy %s\n",
		a.coords, *dir, *dir, proxyAddr)
	if a.tlsDir != "" {
		host, port, _ := net.SplitHostPort(proxyAddr)
		fmt.Fprintf(stdout, "baton up: TLS only; connect with: redis-cli --tls --cacert %s -h %s -p %s\n",
			filepath.Join(a.tlsDir, tlsfiles.CAFile), host, port)
	}
	<-ctx.Done()
	logger.Info("stopping the appliance")
	return 0
}

// appliance is the set of processes `baton up` runs.
type appliance struct {
	bin, dir, secret string
	// tlsDir, when set, holds the proxy's TLS CA and certificate.
	tlsDir string
	// coords are the coordinators' API addresses, comma-separated.
	coords string
	log    *slog.Logger
	procs  []*upProc
}

// start launches coordinators, nodes and the proxy, and returns the proxy's
// address.
func (a *appliance) start(ctx context.Context, proxyAddr string) (string, error) {
	if err := os.MkdirAll(filepath.Join(a.dir, "logs"), 0o755); err != nil {
		return "", err
	}
	addrs, fresh, err := loadOrPickAddrs(a.dir)
	if err != nil {
		return "", err
	}
	if !fresh {
		a.log.Info("resuming the appliance in its directory, at its addresses", "dir", a.dir)
	}
	raftAddrs, apiAddrs := addrs.Raft, addrs.API
	var peers []string
	for i := range 3 {
		peers = append(peers, fmt.Sprintf("c%d=%s/%s", i+1, raftAddrs[i], apiAddrs[i]))
	}
	for i := range 3 {
		id := fmt.Sprintf("c%d", i+1)
		if _, err := a.spawn(ctx, id, "coordinator", "--id", id, "--raft-addr", raftAddrs[i], "--addr", apiAddrs[i],
			"--dir", filepath.Join(a.dir, id), "--peers", strings.Join(peers, ",")); err != nil {
			return "", err
		}
	}
	coords := strings.Join(apiAddrs, ",")
	a.coords = coords
	for i := range 3 {
		id := fmt.Sprintf("n%d", i+1)
		if _, err := a.spawn(ctx, id, "node", "--addr", addrs.Nodes[i], "--dir", filepath.Join(a.dir, id),
			"--coordinators", coords, "--node-id", id, "--sync-replicas", "1"); err != nil {
			return "", err
		}
	}
	args := []string{"--addr", proxyAddr, "--next-free-port", "--coordinators", coords}
	if a.tlsDir != "" {
		args = append(args, "--tls-cert-file", filepath.Join(a.tlsDir, tlsfiles.CertFile), "--tls-key-file", filepath.Join(a.tlsDir, tlsfiles.KeyFile))
	}
	return a.spawn(ctx, "proxy", "proxy", args...)
}

// spawn starts `baton sub args…`, logs to dir/logs/name.log, and returns the
// address from its "listening on" line.
func (a *appliance) spawn(ctx context.Context, name, sub string, args ...string) (string, error) {
	p, err := proc.Start(ctx, proc.Config{
		Name: name, Bin: a.bin, Args: append([]string{sub}, args...),
		// The secret rides the environment, never a command line (ps).
		Env:     []string{"BATON_CLUSTER_SECRET=" + a.secret},
		LogPath: filepath.Join(a.dir, "logs", name+".log"), AddrPrefix: proc.Listening(sub),
		StartTimeout: upStartLimit,
		// Children die with `baton up`, even if it is killed outright.
		DeathSignal: syscall.SIGTERM,
	})
	if err != nil {
		return "", err
	}
	a.procs = append(a.procs, &upProc{name: name, proc: p})
	return p.Addr(), nil
}

// waitWritable waits until a write through the proxy succeeds and returns
// a one-line status.
func (a *appliance) waitWritable(ctx context.Context, proxyAddr string) (string, error) {
	opts := &redis.Options{Addr: proxyAddr, MaxRetries: -1, Protocol: 2, DisableIdentity: true}
	if a.tlsDir != "" {
		tc, err := tlsfiles.ClientConfig(filepath.Join(a.tlsDir, tlsfiles.CAFile))
		if err != nil {
			return "", err
		}
		opts.TLSConfig = tc
	}
	c := redis.NewClient(opts)
	defer c.Close()
	// The probe's key is deleted once written: the user's keyspace must
	// not keep it (DBSIZE, KEYS *).
	probe := fmt.Sprintf("baton:up:%d", time.Now().UnixNano())
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.Set(ctx, probe, "1", 0).Err()
		if err == nil {
			err = c.Del(ctx, probe).Err()
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", err
		}
		time.Sleep(100 * time.Millisecond)
	}
	var nodes []string
	for _, p := range a.procs {
		if strings.HasPrefix(p.name, "n") {
			nc := redis.NewClient(&redis.Options{Addr: p.proc.Addr(), MaxRetries: -1, Protocol: 2, DisableIdentity: true})
			role, _ := nc.Do(ctx, "role").Slice()
			nc.Close()
			r := "?"
			if len(role) > 0 {
				r, _ = role[0].(string)
			}
			nodes = append(nodes, fmt.Sprintf("%s %s %s", p.name, p.proc.Addr(), r))
		}
	}
	return "nodes: " + strings.Join(nodes, ", "), nil
}

// stopAll stops every process, proxy first, waiting up to 10 s each
// before killing it.
func (a *appliance) stopAll() {
	for i := len(a.procs) - 1; i >= 0; i-- {
		a.procs[i].proc.Terminate(10 * time.Second)
	}
}
