package chaos

import (
	"fmt"
	"net"
	"net/http"
	"sort"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Link kinds: which connection of the appliance a toxiproxy proxy carries.
const (
	// LinkClient carries the workloads' connections to the baton proxy.
	LinkClient = "client"
	// LinkNode carries the baton proxy's and the coordinators' connections
	// to a node (the node advertises this proxy's address).
	LinkNode = "node"
	// LinkReplication carries the replicas' streams from a node (its
	// --replication-addr).
	LinkReplication = "replication"
	// LinkNodeCoord carries one node's lease renewals and registrations to
	// one coordinator.
	LinkNodeCoord = "node-coord"
	// LinkRaft carries one coordinator's Raft RPCs to another.
	LinkRaft = "raft"
	// LinkProxyCoord carries one baton proxy's topology stream from one
	// coordinator.
	LinkProxyCoord = "proxy-coord"
)

// Link is one toxiproxy proxy on a link of the appliance: From dials
// Listen, and toxiproxy forwards to To's Upstream.
type Link struct {
	// Name is the toxiproxy proxy's name, e.g. "n1-c2" or "repl-n3".
	Name string
	Kind string
	// From and To are member ids ("client" for the workloads). For
	// LinkNode From is "proxy" (the proxies; on the compose target the
	// coordinators' probes share it) or, on the local target,
	// "coordinators" (their probes and takeover calls, link "nX-probe");
	// for LinkReplication From is a replica's id, or "replicas" when the
	// link is shared.
	From, To string
	// Listen is the address From dials; Upstream the real address.
	Listen, Upstream string

	proxy *toxiclient.Proxy
}

// AddToxic adds a toxic to the link; stream is "upstream" (From → To) or
// "downstream" (To → From).
func (l *Link) AddToxic(name, typ, stream string, attrs map[string]any) error {
	_, err := l.proxy.AddToxic(name, typ, stream, 1, toxiclient.Attributes(attrs))
	if err != nil {
		return fmt.Errorf("toxiproxy: %s toxic %s on %s: %w", typ, name, l.Name, err)
	}
	return nil
}

// RemoveToxic removes a toxic added by AddToxic.
func (l *Link) RemoveToxic(name string) error {
	if err := l.proxy.RemoveToxic(name); err != nil {
		return fmt.Errorf("toxiproxy: remove %s from %s: %w", name, l.Name, err)
	}
	return nil
}

// Down disables the link: its connections close and new ones are refused
// (a partition).
func (l *Link) Down() error {
	if err := l.proxy.Disable(); err != nil {
		return fmt.Errorf("toxiproxy: disable %s: %w", l.Name, err)
	}
	return nil
}

// Up enables the link again.
func (l *Link) Up() error {
	if err := l.proxy.Enable(); err != nil {
		return fmt.Errorf("toxiproxy: enable %s: %w", l.Name, err)
	}
	return nil
}

// toxi is an embedded toxiproxy server driven through its HTTP client, as
// a toxiproxy deployment would be (the compose target will point the same
// client at a toxiproxy container).
type toxi struct {
	srv    *toxiproxy.ApiServer
	hs     *http.Server
	served chan struct{}
	client *toxiclient.Client
	links  map[string]*Link
}

// startToxiproxy serves toxiproxy's API on a free loopback port.
func startToxiproxy() (*toxi, error) {
	// Toxics log through zerolog's global logger (to stderr); the chaos
	// run reports faults itself.
	zerolog.SetGlobalLevel(zerolog.Disabled)
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	// Serving Routes on our own listener makes the API ready at once and
	// lets close stop it without a race.
	x := &toxi{srv: srv, served: make(chan struct{}), links: map[string]*Link{},
		hs:     &http.Server{Handler: srv.Routes(), ReadHeaderTimeout: 5 * time.Second},
		client: toxiclient.NewClient(ln.Addr().String())}
	go func() {
		defer close(x.served)
		x.hs.Serve(ln)
	}()
	return x, nil
}

// add creates a link from a free loopback port to upstream.
func (x *toxi) add(name, kind, from, to, upstream string) (*Link, error) {
	p, err := x.client.CreateProxy(name, "127.0.0.1:0", upstream)
	if err != nil {
		return nil, fmt.Errorf("toxiproxy: create %s → %s: %w", name, upstream, err)
	}
	l := &Link{Name: name, Kind: kind, From: from, To: to, Listen: p.Listen, Upstream: upstream, proxy: p}
	x.links[name] = l
	return l, nil
}

// heal removes every toxic and enables every link (the end of a run).
func (x *toxi) heal() error {
	if err := x.client.ResetState(); err != nil {
		return fmt.Errorf("toxiproxy: reset: %w", err)
	}
	return nil
}

// sorted returns the links by name.
func (x *toxi) sorted() []*Link {
	out := make([]*Link, 0, len(x.links))
	for _, l := range x.links {
		out = append(out, l)
	}
	sortLinks(out)
	return out
}

// sortLinks sorts links by name.
func sortLinks(links []*Link) {
	sort.Slice(links, func(i, j int) bool { return links[i].Name < links[j].Name })
}

// close stops the API and every proxy (their connections close).
func (x *toxi) close() {
	x.hs.Close()
	<-x.served
	x.srv.Collection.Clear()
}
