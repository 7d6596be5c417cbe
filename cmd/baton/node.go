package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/batonkv/baton/internal/outbuf"
	"github.com/batonkv/baton/internal/proc"
	"github.com/batonkv/baton/node"
)

// runNode runs `baton node`: a datastore node until SIGINT/SIGTERM or
// SHUTDOWN.
func runNode(args []string, stdout, stderr io.Writer) int {
	d := node.DefaultConfig()
	fs := newFlagSet("node", stderr)
	addr := fs.String("addr", d.Addr, "RESP listen address; port 0 picks a free port")
	dir := fs.String("dir", "", "data directory for the journal and snapshots (empty: memory only)")
	fsync := fs.String("fsync", string(d.Fsync), "journal fsync policy: always, everysec or no")
	snapEvery := fs.Duration("snapshot-interval", d.SnapshotInterval, "how often to snapshot when the journal grew enough (0 disables)")
	snapMin := fs.Uint64("snapshot-min-writes", d.SnapshotMinWrites, "journal entries since the last snapshot that make one due")
	pass := fs.String("requirepass", "", "password clients must AUTH with")
	maxClients := fs.Int("maxclients", d.MaxClients, "maximum concurrent client connections")
	idle := fs.Int64("timeout", 0, "close a client idle for this many seconds (0: never), as Redis' timeout")
	maxBulk := fs.Int64("proto-max-bulk-len", d.MaxBulkLen, "maximum length of one bulk string in a request")
	maxQuery := fs.Int64("client-query-buffer-limit", d.MaxQueryBuffer, "maximum size of one pending request")
	outLimit := fs.String("client-output-buffer-limit", outbuf.Defaults().String(),
		"Redis' client-output-buffer-limit: <class> <hard> <soft> <seconds>, classes normal, replica (slave) and pubsub; a client with more replies pending than hard, or than soft for seconds, is closed (sizes in bytes or with kb/mb/gb; 0: no bound; classes not named keep Redis' defaults)")
	nextFree := fs.Bool("next-free-port", false, "if the --addr port is taken, listen on the next free one (printed)")
	backlog := fs.Int("backlog-size", d.BacklogBytes, "replication backlog in bytes: a replica that fell behind by less continues with a partial sync")
	replicaOf := fs.String("replicaof", "", "start as a replica of this primary (host:port)")
	primaryAuth := fs.String("primary-auth", "", "password to AUTH with on the primary (masterauth)")
	syncReplicas := fs.Int("sync-replicas", 0, "acknowledge a write only once this many replicas acknowledged it")
	syncTimeout := fs.Duration("sync-timeout", d.SyncTimeout, "how long a write waits for --sync-replicas acknowledgements before its client gets a NOREPL error")
	epoch := fs.Uint64("epoch", 0, "primary epoch to start with, if the data directory records none newer")
	coordinators := fs.String("coordinators", "", "comma-separated coordinator API addresses: the coordinators decide this node's role (empty: standalone)")
	nodeID := fs.String("node-id", "", "this node's id in the coordinators' topology (required with --coordinators)")
	clusterSecret := fs.String("cluster-secret", "", "secret to AUTH with on the coordinators")
	replAddr := fs.String("replication-addr", "", "address replicas dial to replicate from this node, registered with the coordinators (default: the advertise address)")
	advertiseAddr := fs.String("advertise-addr", "", "address other nodes reach this node at, registered with the coordinators (default: the listening address)")
	leaseLog := fs.String("lease-log", "", "append every granted write lease window to this file (for audits of the one-writer invariant)")
	writeLog := fs.String("write-log", "", "append the windows in which this node executed writes as a primary to this file (for audits of the one-writer invariant)")
	httpAddr := fs.String("http-addr", "", "address for Prometheus /metrics and /healthz (empty: off)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	cpuProfile := fs.String("cpu-profile", "", "write a Go CPU profile of the whole run to this file (for benchmarks)")
	logger, code, ok := parseAndLog(fs, "node", args, logLevel, stderr)
	if !ok {
		return code
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "baton node:", err)
			return 1
		}
		defer stop()
	}
	policy, err := node.ParseFsyncPolicy(*fsync)
	if err != nil {
		fmt.Fprintln(stderr, "baton node:", err)
		return 2
	}
	outLimits, err := outbuf.Parse(*outLimit, outbuf.Defaults())
	if err != nil {
		fmt.Fprintln(stderr, "baton node: client-output-buffer-limit:", err)
		return 2
	}
	cfg := node.Config{
		OutputLimits: &outLimits,
		Addr:         *addr, DataDir: *dir, Fsync: policy,
		SnapshotInterval: *snapEvery, SnapshotMinWrites: *snapMin,
		RequirePass: *pass, MaxClients: *maxClients, IdleTimeout: time.Duration(*idle) * time.Second,
		MaxBulkLen: *maxBulk, MaxQueryBuffer: *maxQuery,
		BacklogBytes: *backlog, ReplicaOf: *replicaOf, PrimaryAuth: *primaryAuth,
		SyncReplicas: *syncReplicas, SyncTimeout: *syncTimeout, Epoch: *epoch,
		Coordinators: splitList(*coordinators), NodeID: *nodeID, LeaseLog: *leaseLog, WriteLog: *writeLog,
		ClusterSecret: *clusterSecret, AdvertiseAddr: *advertiseAddr, ReplicationAddr: *replAddr,
		HTTPAddr: *httpAddr, Logger: logger,
	}
	if *dir != "" {
		if err := os.MkdirAll(*dir, 0o700); err != nil {
			fmt.Fprintln(stderr, "baton node:", err)
			return 1
		}
	}
	srv, err := node.New(cfg)
	if err != nil {
		logger.Error("start node", "err", err)
		return 1
	}
	ln, err := listen(*addr, *nextFree)
	if err != nil {
		srv.Close()
		logger.Error("listen", "addr", *addr, "err", err)
		return 1
	}
	fmt.Fprintln(stdout, proc.Listening("node")+ln.Addr().String())
	if a := srv.HTTPAddr(); a != nil {
		fmt.Fprintf(stdout, "baton node serving /metrics and /healthz on %s\n", a)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	return waitAndClose(logger, srv, served, srv.ShutdownRequested())
}

// waitAndClose blocks until a signal, a shutdown request (nil: none) or
// the server's own end, then closes the server and reports the exit code.
func waitAndClose(logger *slog.Logger, srv interface{ Close() error }, served <-chan error, shutdown <-chan struct{}) int {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	code := 0
	select {
	case s := <-sig:
		logger.Info("signal received; shutting down", "signal", s.String())
	case <-shutdown:
		logger.Info("SHUTDOWN received; shutting down")
	case err := <-served:
		if err != nil {
			logger.Error("serve", "err", err)
			code = 1
		}
	}
	if err := srv.Close(); err != nil {
		logger.Error("close", "err", err)
		code = 1
	}
	return code
}

// parseAndLog parses a subcommand's flags (with environment fallbacks) and
// builds its logger; when ok is false the subcommand exits with code.
func parseAndLog(fs *flag.FlagSet, name string, args []string, level *string, stderr io.Writer) (logger *slog.Logger, code int, ok bool) {
	if err := parseWithEnv(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0, false
		}
		fmt.Fprintf(stderr, "baton %s: %v\n", name, err)
		return nil, 2, false
	}
	logger, err := newLogger(stderr, *level)
	if err != nil {
		fmt.Fprintf(stderr, "baton %s: %v\n", name, err)
		return nil, 2, false
	}
	return logger, 0, true
}

// newLogger returns a text slog logger at the given level.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// listen listens on addr; with nextFree it tries the following 100 ports
// when addr's port is taken.
func listen(addr string, nextFree bool) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil || !nextFree || !errors.Is(err, syscall.EADDRINUSE) {
		return ln, err
	}
	host, portStr, perr := net.SplitHostPort(addr)
	if perr != nil {
		return nil, err
	}
	port, perr := strconv.Atoi(portStr)
	if perr != nil {
		return nil, err
	}
	for p := port + 1; p <= port+100 && p < 65536; p++ {
		if ln, e := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p))); e == nil {
			return ln, nil
		}
	}
	return nil, fmt.Errorf("no free port in %d..%d: %w", port, port+100, err)
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
