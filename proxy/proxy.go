package proxy

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/batonkv/baton/node"
	"github.com/tidwall/redcon"
)

// Defaults for Config fields left zero.
const (
	// DefaultHoldTimeout bounds how long a command waits for a primary.
	DefaultHoldTimeout = 5 * time.Second
	// DefaultMaxClients bounds concurrent client connections.
	DefaultMaxClients = 10000
	// DefaultPoolSize is the number of shared connections per primary.
	DefaultPoolSize = 4
)

// holdRetryInterval is how often a held command looks again for a primary
// that will take it, when no topology change wakes it first.
const holdRetryInterval = 50 * time.Millisecond

// Config configures a Proxy. Exactly one of Coordinators and Backend is set.
type Config struct {
	// Addr is the listen address, for logs (Serve takes the listener).
	Addr string
	// Coordinators are coordinator API addresses; the proxy follows the
	// primary of the highest epoch any of them reports.
	Coordinators []string
	// ClusterSecret is sent with AUTH to the coordinators.
	ClusterSecret string
	// Backend is a static primary address, used when Coordinators is empty.
	Backend string
	// BackendAuth is the password the proxy sends with AUTH to nodes.
	BackendAuth string
	// RequirePass is the password clients must AUTH to the proxy with.
	RequirePass string
	// HoldTimeout bounds how long a command is held while no primary takes
	// it (none known, or it answered -TAKENOVER/-READONLY/-TRYAGAIN).
	HoldTimeout time.Duration
	// MaxClients bounds concurrent client connections.
	MaxClients int
	// PoolSize is the number of shared backend connections per primary.
	PoolSize int
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
}

// Validate fills defaults and reports a configuration that cannot work.
func (c *Config) Validate() error {
	if c.HoldTimeout <= 0 {
		c.HoldTimeout = DefaultHoldTimeout
	}
	if c.MaxClients <= 0 {
		c.MaxClients = DefaultMaxClients
	}
	if c.PoolSize <= 0 {
		c.PoolSize = DefaultPoolSize
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if len(c.Coordinators) == 0 && c.Backend == "" {
		return errors.New("proxy: need coordinators or a static backend")
	}
	if len(c.Coordinators) > 0 && c.Backend != "" {
		return errors.New("proxy: coordinators and a static backend are exclusive")
	}
	return nil
}

// Proxy is the RESP proxy: it accepts clients, forwards their commands to
// the current primary over shared pipelined connections, and holds and
// replays commands across role changes.
type Proxy struct {
	cfg Config
	log *slog.Logger
	srv *redcon.Server

	// ctx ends at Close; done is its Done channel.
	ctx    context.Context
	cancel context.CancelFunc
	done   <-chan struct{}
	// wg tracks the proxy's own goroutines (pollers, backend readers,
	// pinned sessions).
	wg sync.WaitGroup
	// kick has one channel per coordinator poller, to poll at once.
	kick []chan struct{}

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
	closed    bool
	serving   bool
}

// client is the proxy's per-connection state.
type client struct {
	authed bool
	// detached is set when the connection was handed to a pinned session,
	// which then owns its accounting.
	detached bool
}

// New validates cfg and returns a proxy; with coordinators it starts
// polling them at once.
func New(cfg Config) (*Proxy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		cfg: cfg, log: cfg.Logger.With("component", "proxy"),
		ctx: ctx, cancel: cancel, done: ctx.Done(),
		changed: make(chan struct{}),
		pools:   map[string]*pool{},
		pinned:  map[*pinnedSession]struct{}{},
	}
	p.primaryAddr = cfg.Backend
	p.srv = redcon.NewServerNetwork("tcp", cfg.Addr, p.handle, p.accept, p.closedConn)
	for _, addr := range cfg.Coordinators {
		ch := make(chan struct{}, 1)
		p.kick = append(p.kick, ch)
		p.wg.Add(1)
		go p.pollCoordinator(addr, ch)
	}
	return p, nil
}

// Serve accepts clients on ln until Close.
func (p *Proxy) Serve(ln net.Listener) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		ln.Close()
		return errors.New("proxy: closed")
	}
	p.serving = true
	p.mu.Unlock()
	p.log.Info("serving", "addr", ln.Addr().String())
	if err := p.srv.Serve(ln); err != nil {
		return fmt.Errorf("proxy: serve: %w", err)
	}
	return nil
}

// Close stops accepting, closes every client and backend connection, and
// waits for the proxy's goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	serving := p.serving
	pools := p.pools
	sessions := p.pinned
	p.pools, p.pinned = map[string]*pool{}, map[*pinnedSession]struct{}{}
	p.mu.Unlock()
	// Order: wake held commands and pollers, stop accepting (redcon closes
	// its attached connections), then the backends and pinned sessions.
	p.cancel()
	if serving {
		p.srv.Close()
	}
	for _, pl := range pools {
		pl.close()
	}
	for s := range sessions {
		s.close()
	}
	p.wg.Wait()
	return nil
}

// accept enforces MaxClients.
func (p *Proxy) accept(conn redcon.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.clients >= p.cfg.MaxClients {
		conn.WriteError("ERR max number of clients reached")
		return false
	}
	p.clients++
	conn.SetContext(&client{authed: p.cfg.RequirePass == ""})
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
	if p.closed {
		return nil, errors.New("proxy: closed")
	}
	pl := p.pools[addr]
	if pl == nil {
		pl = &pool{addr: addr, password: p.cfg.BackendAuth, wg: &p.wg, conns: make([]*backendConn, p.cfg.PoolSize)}
		p.pools[addr] = pl
	}
	return pl, nil
}

// request is one client command on its way to the primary.
type request struct {
	args     [][]byte
	readonly bool
}

// handle serves one command and the rest of its pipeline: commands are
// forwarded in order as one batch; a command that needs a pinned
// connection hands the client, with whatever follows it, to a pinned
// session.
func (p *Proxy) handle(conn redcon.Conn, first redcon.Command) {
	cmds := append([]redcon.Command{first}, conn.ReadPipeline()...)
	c := conn.Context().(*client)
	var reqs []request
	flush := func() {
		for _, r := range p.forward(reqs) {
			conn.WriteRaw(r)
		}
		reqs = reqs[:0]
	}
	for i, cmd := range cmds {
		name := strings.ToLower(string(cmd.Args[0]))
		if isLocal(name, cmd.Args) || !c.authed {
			// The proxy's own replies must stay in order with forwarded
			// ones: send what is queued first.
			flush()
		}
		if handled, quit := p.local(conn, c, name, cmd.Args); handled {
			if quit {
				flush()
				conn.Close()
				return
			}
			continue
		}
		def := node.Commands()[name]
		if def != nil && !arityOK(def.Arity, len(cmd.Args)) {
			// Order matters: earlier commands' replies go first.
			flush()
			conn.WriteError("ERR wrong number of arguments for '" + name + "' command")
			continue
		}
		if needsPin(name, def, cmd.Args) {
			flush()
			p.pin(conn, c, cmds[i:])
			return
		}
		reqs = append(reqs, request{args: cmd.Args, readonly: def != nil && def.Flags&node.FlagReadonly != 0})
	}
	flush()
}

// arityOK reports whether n arguments (including the name) fit arity.
func arityOK(arity, n int) bool {
	if arity >= 0 {
		return n == arity
	}
	return n >= -arity
}

// needsPin reports whether a command makes the client stateful on its
// backend connection: transactions, subscriptions, blocking commands and
// connection state (CLIENT SETNAME, SELECT...) all need a connection of
// their own.
func needsPin(name string, def *node.Command, args [][]byte) bool {
	if def == nil {
		return false
	}
	if name == "publish" || name == "pubsub" {
		return false
	}
	return def.Flags&(node.FlagConnState|node.FlagBlocking|node.FlagPubSub) != 0
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

// local answers commands that concern the client's connection to the proxy
// itself (AUTH, HELLO, QUIT, CLIENT SETINFO) and refuses everything else
// before AUTH. handled reports whether the command was consumed; quit that
// the client asked to close.
func (p *Proxy) local(conn redcon.Conn, c *client, name string, args [][]byte) (handled, quit bool) {
	if !isLocal(name, args) {
		if !c.authed {
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
		conn.WriteString("OK")
	case "auth":
		if len(args) < 2 || len(args) > 3 {
			conn.WriteError("ERR wrong number of arguments for 'auth' command")
			break
		}
		p.auth(conn, c, args[len(args)-1], false)
	case "hello":
		p.hello(conn, c, args)
	}
	return true, false
}

// auth checks a password against RequirePass and writes the AUTH reply
// (quiet: only errors, for HELLO's AUTH option).
func (p *Proxy) auth(conn redcon.Conn, c *client, pass []byte, quiet bool) bool {
	if p.cfg.RequirePass == "" {
		conn.WriteError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
		return false
	}
	if subtle.ConstantTimeCompare(pass, []byte(p.cfg.RequirePass)) != 1 {
		conn.WriteError("WRONGPASS invalid username-password pair or user is disabled.")
		return false
	}
	c.authed = true
	if !quiet {
		conn.WriteString("OK")
	}
	return true
}

// hello answers HELLO [2 [AUTH user pass] [SETNAME name]]; the proxy speaks
// RESP2 only.
func (p *Proxy) hello(conn redcon.Conn, c *client, args [][]byte) {
	if len(args) >= 2 && string(args[1]) != "2" {
		conn.WriteError("NOPROTO unsupported protocol version")
		return
	}
	for j := 2; j < len(args); j++ {
		if strings.EqualFold(string(args[j]), "auth") && j+2 < len(args) {
			if !p.auth(conn, c, args[j+2], true) {
				return
			}
			j += 2
		} else if strings.EqualFold(string(args[j]), "setname") && j+1 < len(args) {
			j++ // names are a backend-connection notion; ignored here
		} else {
			conn.WriteError("ERR Syntax error in HELLO option '" + string(args[j]) + "'")
			return
		}
	}
	if !c.authed {
		conn.WriteError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
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
