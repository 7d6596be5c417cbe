package proxy

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/internal/lifecycle"
	"github.com/batonkv/baton/internal/metricshttp"
	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/internal/resplimit"
	"github.com/batonkv/baton/internal/tlsfiles"
	"github.com/batonkv/baton/node/command"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tidwall/redcon"
)

// holdRetryInterval is how often a held command looks again for a primary
// that will take it, when no topology change wakes it first.
const holdRetryInterval = 50 * time.Millisecond

// holdRetryMin is the first retry interval of a held command (see hold).
const holdRetryMin = 2 * time.Millisecond

// Proxy is the RESP proxy: it accepts clients, forwards their commands to
// the current primary over shared pipelined connections, and holds and
// replays commands across role changes.
type Proxy struct {
	cfg Config
	log *slog.Logger
	srv *redcon.Server

	// life is the proxy's lifecycle: its context ends at Close, and it
	// owns the proxy's goroutines (watchers, pollers, the replica tracker,
	// backend readers and flushers, pinned sessions) and the listener.
	life *lifecycle.Lifecycle
	// coords are the links to the coordinators (discovery.go).
	coords []*coordLink
	// replicas decides which replicas may serve reads (nil unless
	// ReadFromReplicas).
	replicas *replicaTracker

	// out bounds the clients' pending replies (outlimit.go).
	out *outputLimits

	// held counts the commands held waiting for a primary (see MaxHeld).
	held atomic.Int64

	mu sync.Mutex
	// primaryAddr is where commands go ("" when unknown); changed is
	// closed and replaced whenever it changes.
	primaryAddr string
	changed     chan struct{}
	// epoch is the highest coordinator epoch seen (haveEpoch: any).
	epoch     uint64
	haveEpoch bool
	pools     map[string]*pool
	clients   int
	pinned    map[*pinnedSession]struct{}

	// topoVersion and members (addresses) come from the newest topology
	// record of epoch; guarded by mu.
	topoVersion uint64
	members     []string
	// lastPrimary is the last non-empty primary address (a switchover is
	// a move to another one); guarded by mu.
	lastPrimary string

	// met are the proxy's metric instruments, reg its registry
	// (metrics.go); web serves them on Config.HTTPAddr (nil when off).
	met *metrics
	reg *prometheus.Registry
	web *metricshttp.Server
	// tls, when set, is the client port's TLS (Config.TLSCertFile).
	tls *tls.Config
}

// client is the proxy's per-connection state.
type client struct {
	// authed: the client authenticated (or needs not). An atomic: the
	// input guard reads it to apply the pre-authentication bounds.
	authed atomic.Bool
	// detached is set when the connection was handed to a pinned session,
	// which then owns its accounting.
	detached bool
	// fw forwards the client's pipelines on the shared path.
	fw forwarder
	// out is the client's connection, which bounds its pending output
	// (nil if unknown: then unbounded).
	out *outConn
}

// New validates cfg (zero fields take DefaultConfig's values) and returns
// a proxy; with coordinators it starts watching (and polling) them at once.
func New(cfg Config) (*Proxy, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Proxy{
		cfg: cfg, log: cfg.Logger.With("component", "proxy"),
		life:    lifecycle.New(),
		changed: make(chan struct{}),
		pools:   map[string]*pool{},
		pinned:  map[*pinnedSession]struct{}{},
		met:     newMetrics(),
	}
	if cfg.TLSCertFile != "" {
		tc, err := tlsfiles.ServerConfig(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		p.tls = tc
	}
	p.out = &outputLimits{normal: cfg.OutputLimit, pubsub: cfg.PubSubOutputLimit, log: p.log,
		closed: func(class string) { p.met.outputLimitClosed.WithLabelValues(class).Inc() },
		conns:  map[string]*outConn{}}
	p.reg = p.newRegistry()
	p.primaryAddr, p.lastPrimary = cfg.Backend, cfg.Backend
	p.srv = redcon.NewServerNetwork("tcp", cfg.Addr, p.handle, p.accept, p.closedConn)
	if cfg.HTTPAddr != "" {
		web, err := metricshttp.Start(cfg.HTTPAddr, p.reg, p.health)
		if err != nil {
			p.life.Close()
			return nil, fmt.Errorf("proxy: %w", err)
		}
		p.web = web
		// Last, after every goroutine ended (a resource opened first is
		// closed last).
		p.life.OnClose(func() error {
			web.Close()
			return nil
		})
	}
	// Once nothing is accepted any more, the backends and pinned sessions
	// end, which wakes the goroutines waiting on them.
	p.life.OnStop(p.closeBackends)
	p.startDiscovery()
	p.startReplicaTracker()
	p.life.Go(func(ctx context.Context) { p.out.watch(ctx.Done()) })
	return p, nil
}

// Serve accepts clients on ln until Close, each through the client input
// limits (clientLimits).
func (p *Proxy) Serve(ln net.Listener) error {
	err := p.life.Serve(ln, p.srv, func(ln net.Listener) error {
		p.log.Info("serving", "addr", ln.Addr().String())
		if p.tls != nil {
			ln = tls.NewListener(ln, p.tls)
		}
		// Client input limits apply to the raw stream (decrypted), before
		// redcon buffers it; output is counted against the client's limit.
		return p.srv.Serve(resplimit.Listener{Listener: outListener{ln, p.out}, Limits: clientLimits()})
	})
	if err != nil {
		return fmt.Errorf("proxy: serve: %w", err)
	}
	return nil
}

// Close wakes held commands and pollers, stops accepting (redcon closes its
// attached connections), closes the backends and pinned sessions, waits for
// the proxy's goroutines and stops the metrics server: the lifecycle's
// order (internal/lifecycle).
func (p *Proxy) Close() error { return p.life.Close() }

// closeBackends closes every pool and pinned session; none is created
// afterwards (poolFor and pin check Closing under p.mu).
func (p *Proxy) closeBackends() {
	p.mu.Lock()
	pools, sessions := p.pools, p.pinned
	p.pools, p.pinned = map[string]*pool{}, map[*pinnedSession]struct{}{}
	p.mu.Unlock()
	for _, pl := range pools {
		pl.close()
	}
	for s := range sessions {
		s.close()
	}
}

// accept enforces MaxClients.
func (p *Proxy) accept(conn redcon.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.life.Closing() || p.clients >= p.cfg.MaxClients {
		p.met.rejected.Inc()
		conn.WriteError("ERR max number of clients reached")
		return false
	}
	p.met.connections.Inc()
	p.clients++
	c := &client{out: p.out.lookup(conn.RemoteAddr())}
	c.authed.Store(p.cfg.RequirePass == "")
	if rc, ok := conn.NetConn().(*resplimit.Conn); ok {
		// Before its first read (redcon calls accept first).
		rc.SetAuthed(c.authed.Load)
	}
	conn.SetContext(c)
	return true
}

// closedConn releases a client slot, unless a pinned session took the
// connection over (redcon calls this at Detach time too).
func (p *Proxy) closedConn(conn redcon.Conn, _ error) {
	if c, ok := conn.Context().(*client); ok && c.detached {
		return
	}
	p.releaseClient()
}

// releaseClient frees one client slot.
func (p *Proxy) releaseClient() {
	p.mu.Lock()
	p.clients--
	p.mu.Unlock()
}

// poolFor returns the shared pool for a node address.
func (p *Proxy) poolFor(addr string) (*pool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.life.Closing() {
		return nil, lifecycle.ErrClosed
	}
	pl := p.pools[addr]
	if pl == nil {
		pl = &pool{addr: addr, password: p.cfg.BackendAuth, life: p.life, conns: make([]*backendConn, p.cfg.PoolSize)}
		p.pools[addr] = pl
	}
	return pl, nil
}

// maxCommandName is the longest command name handle lower-cases (on the
// stack); no known command has a longer one.
const maxCommandName = 32

// handle serves one command and the rest of its pipeline: commands are
// forwarded in order as one batch; a command that needs a pinned
// connection hands the client, with whatever follows it, to a pinned
// session. The shared path allocates nothing per command: names are
// lower-cased into a stack buffer for the table lookup, commands go out as
// the client's RESP bytes, and the replies come back as one buffer.
func (p *Proxy) handle(conn redcon.Conn, first redcon.Command) {
	c := conn.Context().(*client)
	rest := conn.ReadPipeline()
	fw := &c.fw
	for i := -1; i < len(rest); i++ {
		cmd := first
		if i >= 0 {
			cmd = rest[i]
		}
		if c.out != nil && c.out.killed.Load() {
			return // closed at its output limit: nothing more runs
		}
		var nb [maxCommandName]byte
		name := string(lowerName(nb[:0], cmd.Args[0])) // stays on the stack
		if isLocal(name, cmd.Args) || !c.authed.Load() {
			// The proxy's own replies must stay in order with forwarded
			// ones: send what is queued first.
			p.flush(conn, c)
			if _, quit := p.local(conn, c, name, cmd.Args); quit {
				conn.Close()
				return
			}
			continue
		}
		def := command.ByName()[name]
		if def != nil && !def.ArityOK(len(cmd.Args)) {
			// Order matters: earlier commands' replies go first.
			p.flush(conn, c)
			p.met.count(def.Index(), resultErr, 1)
			conn.WriteError("ERR wrong number of arguments for '" + def.Name + "' command")
			continue
		}
		if refusal, ok := internalRefusal(def, cmd.Args); ok {
			p.flush(conn, c)
			p.met.count(def.Index(), resultErr, 1)
			conn.WriteError(refusal)
			continue
		}
		if needsPin(name, def, cmd.Args) {
			p.flush(conn, c)
			p.pin(conn, c, append([]redcon.Command{cmd}, rest[i+1:]...))
			return
		}
		fw.add(cmd, def != nil && def.Flags&command.FlagReadonly != 0, p.met.row(def))
	}
	p.flush(conn, c)
}

// lowerName appends name lower-cased (ASCII) to buf, or returns name as it
// is when it does not fit buf's capacity.
func lowerName(buf, name []byte) []byte {
	if len(name) > cap(buf) {
		return name
	}
	for _, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf = append(buf, ch)
	}
	return buf
}

// needsPin reports whether a command makes the client stateful on its
// backend connection: transactions, subscriptions, blocking commands and
// connection state (CLIENT SETNAME, SELECT...) all need a connection of
// their own.
func needsPin(name string, def *command.Command, args [][]byte) bool {
	if def == nil {
		return false
	}
	if name == "publish" || name == "pubsub" {
		return false
	}
	return def.Flags&(command.FlagConnState|command.FlagBlocking|command.FlagPubSub) != 0
}

// isLocal reports whether the proxy answers the command itself.
func isLocal(name string, args [][]byte) bool {
	switch name {
	case "auth", "hello", "quit":
		return true
	case "client":
		return len(args) >= 2 && strings.EqualFold(string(args[1]), "setinfo")
	}
	return false
}

// internalRefusal is the NOPERM error for a control command (replication,
// epochs, freezes, FAILOVER, SHUTDOWN, CONFIG SET, CLIENT KILL...: see
// command.Internal), which the proxy never forwards: its clients are
// applications; operators use baton ctl.
func internalRefusal(def *command.Command, args [][]byte) (string, bool) {
	if def == nil {
		return "", false
	}
	name, ok := def.Internal(args)
	if !ok {
		return "", false
	}
	return command.NoPerm(name), true
}

// local answers commands that concern the client's connection to the proxy
// itself (AUTH, HELLO, QUIT, CLIENT SETINFO) and refuses everything else
// before AUTH. handled reports whether the command was consumed; quit that
// the client asked to close.
func (p *Proxy) local(conn redcon.Conn, c *client, name string, args [][]byte) (handled, quit bool) {
	if !isLocal(name, args) {
		if !c.authed.Load() {
			p.met.count(p.met.row(command.ByName()[name]), resultNoAuth, 1)
			conn.WriteError("NOAUTH Authentication required.")
			return true, false
		}
		return false, false
	}
	switch name {
	case "quit":
		conn.WriteString("OK")
		return true, true
	case "client":
		clientSetinfo(conn, args)
	case "auth":
		p.auth(conn, c, args)
	case "hello":
		p.hello(conn, c, args)
	}
	return true, false
}

// Connection replies of the proxy's own commands, as Redis 7.0 words them
// (the node uses the same words: a client sees no difference).
const (
	errWrongPass    = "WRONGPASS invalid username-password pair or user is disabled."
	errAuthNoPass   = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	errNoProto      = "NOPROTO unsupported protocol version"
	errProtoVersion = "ERR Protocol version is not an integer or out of range"
	errHelloNoAuth  = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
	errClientName   = "ERR Client names cannot contain spaces, newlines or special characters."
)

// credentialsOK reports whether user/pass authenticate as Redis' default
// user, the only one the proxy knows: any password when RequirePass is
// empty (the default user is "nopass"), else RequirePass.
func (p *Proxy) credentialsOK(user, pass []byte) bool {
	if string(user) != "default" {
		return false
	}
	return p.cfg.RequirePass == "" || subtle.ConstantTimeCompare(pass, []byte(p.cfg.RequirePass)) == 1
}

// auth answers AUTH [username] password: the one-argument form needs a
// RequirePass, the two-argument form authenticates as "default".
func (p *Proxy) auth(conn redcon.Conn, c *client, args [][]byte) {
	switch len(args) {
	case 1:
		conn.WriteError("ERR wrong number of arguments for 'auth' command")
		return
	case 2:
		if p.cfg.RequirePass == "" {
			conn.WriteError(errAuthNoPass)
			return
		}
		if !p.credentialsOK([]byte("default"), args[1]) {
			conn.WriteError(errWrongPass)
			return
		}
	case 3:
		if !p.credentialsOK(args[1], args[2]) {
			conn.WriteError(errWrongPass)
			return
		}
	default:
		conn.WriteError("ERR syntax error")
		return
	}
	c.authed.Store(true)
	conn.WriteString("OK")
}

// clientSetinfo answers CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2;
// clients such as go-redis send it on every new connection) at the proxy,
// so that it does not pin the client: the library name belongs to the
// client's connection to the proxy, not to a backend connection.
func clientSetinfo(conn redcon.Conn, args [][]byte) {
	if len(args) != 4 {
		conn.WriteError("ERR wrong number of arguments for 'client|setinfo' command")
		return
	}
	attr := string(args[2])
	if !strings.EqualFold(attr, "lib-name") && !strings.EqualFold(attr, "lib-ver") {
		conn.WriteError("ERR Unrecognized option '" + resp.Sanitize(attr, errTextMax) + "'")
		return
	}
	if !validClientName(args[3]) {
		conn.WriteError("ERR " + resp.Sanitize(attr, errTextMax) + " cannot contain spaces, newlines or special characters.")
		return
	}
	conn.WriteString("OK")
}

// validClientName reports whether name may be a client name (or library
// name): printable ASCII without spaces.
func validClientName(name []byte) bool {
	for _, ch := range name {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

// errTextMax bounds client text echoed inside an error line.
const errTextMax = 128

// hello answers HELLO [protover [AUTH user pass] [SETNAME name]] as the
// node does, except that the proxy speaks RESP2 only, describes itself
// (server baton-proxy, id 0) and does not keep the name: names belong to
// backend connections, which the shared path does not own.
func (p *Proxy) hello(conn redcon.Conn, c *client, args [][]byte) {
	if len(args) >= 2 {
		ver, err := strconv.ParseInt(string(args[1]), 10, 64)
		if err != nil {
			conn.WriteError(errProtoVersion)
			return
		}
		if ver != 2 {
			conn.WriteError(errNoProto)
			return
		}
	}
	var user, pass []byte
	for j := 2; j < len(args); j++ {
		more := len(args) - 1 - j
		switch opt := string(args[j]); {
		case strings.EqualFold(opt, "auth") && more >= 2:
			user, pass = args[j+1], args[j+2]
			j += 2
		case strings.EqualFold(opt, "setname") && more >= 1:
			if !validClientName(args[j+1]) {
				conn.WriteError(errClientName)
				return
			}
			j++
		default:
			conn.WriteError("ERR Syntax error in HELLO option '" + resp.Sanitize(opt, errTextMax) + "'")
			return
		}
	}
	if user != nil {
		if !p.credentialsOK(user, pass) {
			conn.WriteError(errWrongPass)
			return
		}
		c.authed.Store(true)
	}
	if !c.authed.Load() {
		conn.WriteError(errHelloNoAuth)
		return
	}
	conn.WriteArray(14)
	for _, kv := range []string{"server", "baton-proxy", "version", "0.1.0"} {
		conn.WriteBulkString(kv)
	}
	conn.WriteBulkString("proto")
	conn.WriteInt(2)
	conn.WriteBulkString("id")
	conn.WriteInt(0)
	for _, kv := range []string{"mode", "standalone", "role", "master"} {
		conn.WriteBulkString(kv)
	}
	conn.WriteBulkString("modules")
	conn.WriteArray(0)
}

// ctx is the proxy's context: it ends when Close begins.
func (p *Proxy) ctx() context.Context { return p.life.Context() }
