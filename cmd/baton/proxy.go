package main

import (
	"fmt"
	"io"

	"github.com/batonkv/baton/internal/proc"
	"github.com/batonkv/baton/proxy"
)

// runProxy runs `baton proxy`: the RESP endpoint applications use, until
// SIGINT/SIGTERM.
func runProxy(args []string, stdout, stderr io.Writer) int {
	d := proxy.DefaultConfig()
	fs := newFlagSet("proxy", stderr)
	addr := fs.String("addr", d.Addr, "RESP listen address for clients; port 0 picks a free port")
	coordinators := fs.String("coordinators", "", "comma-separated coordinator API addresses to follow the primary through (a BATON.WATCH push stream on each, with a BATON.TOPOLOGY poll as fallback)")
	secret := fs.String("cluster-secret", "", "secret to AUTH with on the coordinators")
	backend := fs.String("backend", "", "static primary address (host:port) when there are no coordinators")
	backendAuth := fs.String("backend-auth", "", "password to AUTH with on the nodes")
	pass := fs.String("requirepass", "", "password clients must AUTH with at the proxy")
	tlsCert := fs.String("tls-cert-file", "", "PEM certificate: clients must speak TLS (reloaded when the file changes)")
	tlsKey := fs.String("tls-key-file", "", "PEM private key of --tls-cert-file")
	hold := fs.Duration("hold-timeout", d.HoldTimeout, "how long a command is held while no primary takes it")
	maxClients := fs.Int("maxclients", d.MaxClients, "maximum concurrent client connections")
	poolSize := fs.Int("pool-size", d.PoolSize, "shared pipelined connections per primary")
	maxHeld := fs.Int("max-held", d.MaxHeld, "most commands held at once waiting for a primary; beyond it they get -TRYAGAIN at once")
	readFrom := fs.String("read-from", d.ReadFrom, "where read-only commands go: primary, or replicas (a pipeline of reads goes to a replica within --max-replica-lag, else to the primary; writes and pinned clients always use the primary)")
	maxLag := fs.Duration("max-replica-lag", d.MaxReplicaLag, "with --read-from replicas: a replica serves reads only while it holds every write the primary acknowledged up to this long ago (measured from the INFO replication of the primary and the replicas, read every 200 ms)")
	replicas := fs.String("replicas", "", "with --backend and --read-from replicas: comma-separated replica addresses (with --coordinators the replicas are the topology's members)")
	nextFree := fs.Bool("next-free-port", false, "if the --addr port is taken, listen on the next free one (printed)")
	outLimit := fs.String("client-output-buffer-limit", "normal "+d.OutputLimit.String()+" pubsub "+d.PubSubOutputLimit.String(),
		"Redis' client-output-buffer-limit: <class> <hard> <soft> <seconds>, classes normal and pubsub; a client with more replies pending than hard, or than soft for seconds, is closed (sizes in bytes or with kb/mb/gb; 0: no bound)")
	httpAddr := fs.String("http-addr", "", "address for Prometheus /metrics and /healthz (empty: off)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logger, code, ok := parseAndLog(fs, "proxy", args, logLevel, stderr)
	if !ok {
		return code
	}
	normal, pubsub, err := proxy.ParseOutputLimits(*outLimit, d.OutputLimit, d.PubSubOutputLimit)
	if err != nil {
		fmt.Fprintln(stderr, "baton proxy:", err)
		return 2
	}
	p, err := proxy.New(proxy.Config{
		OutputLimit: normal, PubSubOutputLimit: pubsub,
		Addr: *addr, Coordinators: splitList(*coordinators), ClusterSecret: *secret,
		Backend: *backend, BackendAuth: *backendAuth, RequirePass: *pass, TLSCertFile: *tlsCert, TLSKeyFile: *tlsKey,
		HoldTimeout: *hold, MaxClients: *maxClients, PoolSize: *poolSize, MaxHeld: *maxHeld,
		ReadFrom: *readFrom, MaxReplicaLag: *maxLag, Replicas: splitList(*replicas), HTTPAddr: *httpAddr,
		Logger: logger,
	})
	if err != nil {
		fmt.Fprintln(stderr, "baton proxy:", err)
		return 2
	}
	ln, err := listen(*addr, *nextFree)
	if err != nil {
		p.Close()
		logger.Error("listen", "addr", *addr, "err", err)
		return 1
	}
	fmt.Fprintln(stdout, proc.Listening("proxy")+ln.Addr().String())
	if a := p.HTTPAddr(); a != nil {
		fmt.Fprintf(stdout, "baton proxy serving /metrics and /healthz on %s\n", a)
	}
	served := make(chan error, 1)
	go func() { served <- p.Serve(ln) }()
	return waitAndClose(logger, p, served, nil)
}
