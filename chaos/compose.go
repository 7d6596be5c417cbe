package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/batonkv/baton/internal/dockerapi"
)

// Compose-appliance defaults: what docker-compose.yml names, as seen from
// a container on the appliance's network (the chaos service).
const (
	composeToxiproxy = "toxiproxy:8474"
	composeClient    = "toxiproxy:6401" // the client-proxy1 link
	composeSocket    = "/var/run/docker.sock"
	composeLeases    = "/leases"
	composeReady     = 2 * time.Minute
)

// Compose is the target of the compose appliance (docker-compose.yml):
// 3 coordinators, 3 nodes and 2 proxies in containers, toxiproxy in its
// own container on every link. The runner runs in the appliance's network
// (the compose service "chaos"); it kills, pauses and restarts members
// through the Docker Engine API and reads the nodes' lease logs from
// their shared volume. The appliance outlives the target: each run
// starts from an emptied keyspace, every link healed and every member
// running.
type Compose struct {
	*cluster
	cfg        TargetConfig
	docker     *dockerapi.Client
	toxi       *toxiclient.Client
	containers map[string]string // member id (compose service) → container id
	links      []*Link
	leases     string
	started    time.Time
	// clientAddr is where workloads connect; toxiAddr toxiproxy's API.
	clientAddr, toxiAddr string
}

// composeMembers are docker-compose.yml's services and their kinds and
// direct addresses.
var composeMembers = []struct{ id, kind, addr string }{
	{"c1", KindCoordinator, "c1:7379"}, {"c2", KindCoordinator, "c2:7379"}, {"c3", KindCoordinator, "c3:7379"},
	{"n1", KindNode, "n1:6379"}, {"n2", KindNode, "n2:6379"}, {"n3", KindNode, "n3:6379"},
	{"proxy1", KindProxy, "proxy1:6379"}, {"proxy2", KindProxy, "proxy2:6379"},
}

// StartCompose connects to the running compose appliance: it finds the
// project's containers (the project of the container it runs in, or
// BATON_COMPOSE_PROJECT), starts and thaws every member, heals every
// link, waits until the appliance is healthy and empties the keyspace.
func StartCompose(ctx context.Context, cfg TargetConfig) (*Compose, error) {
	if len(cfg.Env) > 0 {
		return nil, errors.New("the compose target cannot change its processes' environment (test-only switches need --target local)")
	}
	c := &Compose{cfg: cfg, docker: dockerapi.New(envOr("BATON_DOCKER_SOCKET", composeSocket)),
		started: time.Now(), leases: envOr("BATON_LEASE_DIR", composeLeases),
		clientAddr: envOr("BATON_CHAOS_CLIENT", composeClient), toxiAddr: envOr("BATON_TOXIPROXY", composeToxiproxy)}
	c.toxi = toxiclient.NewClient(c.toxiAddr)
	c.cluster = newCluster(envOr("BATON_CLUSTER_SECRET", "baton-compose"), c.running)
	ok := false
	defer func() {
		if !ok {
			c.closeClients()
			c.docker.Close()
		}
	}()
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	if err := c.findContainers(ctx); err != nil {
		return nil, err
	}
	for _, m := range composeMembers {
		c.addMember(m.id, m.kind, m.addr)
	}
	c.setEntry(c.clientAddr)
	if err := c.findLinks(); err != nil {
		return nil, err
	}
	if err := c.reset(ctx); err != nil {
		return nil, err
	}
	if err := poll(ctx, composeReady, func() error { return c.Health(ctx) }); err != nil {
		return nil, fmt.Errorf("the compose appliance is not healthy: %w", err)
	}
	if err := c.entry.FlushAll(ctx).Err(); err != nil {
		return nil, fmt.Errorf("empty the keyspace through the proxy: %w", err)
	}
	ok = true
	return c, nil
}

// envOr returns the environment variable name, or def when it is empty.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// findContainers maps every member to its container.
func (c *Compose) findContainers(ctx context.Context) error {
	project := os.Getenv("BATON_COMPOSE_PROJECT")
	if project == "" {
		host, _ := os.Hostname()
		self, err := c.docker.Inspect(ctx, host)
		if err != nil {
			return fmt.Errorf("the compose target runs in the appliance's network (the chaos service) or needs BATON_COMPOSE_PROJECT: %w", err)
		}
		project = self.Labels[dockerapi.LabelProject]
	}
	ids, err := c.docker.ProjectServices(ctx, project)
	if err != nil {
		return err
	}
	c.containers = map[string]string{}
	for _, m := range composeMembers {
		if ids[m.id] == "" {
			return fmt.Errorf("compose project %q has no %s container (is the appliance up?)", project, m.id)
		}
		c.containers[m.id] = ids[m.id]
	}
	return nil
}

// findLinks reads the links toxiproxy was configured with
// (deploy/compose/toxiproxy.json) and names their ends from their names.
func (c *Compose) findLinks() error {
	proxies, err := c.toxi.Proxies()
	if err != nil {
		return fmt.Errorf("toxiproxy at %s: %w", c.toxiAddr, err)
	}
	for name, p := range proxies {
		kind, from, to, err := parseLinkName(name)
		if err != nil {
			return err
		}
		c.links = append(c.links, &Link{Name: name, Kind: kind, From: from, To: to, Listen: p.Listen, Upstream: p.Upstream, proxy: p})
	}
	sortLinks(c.links)
	return nil
}

// parseLinkName tells a link's kind and ends from its name: client-proxyX,
// nX (proxies and coordinators → node X), repl-nX, nX-cY, proxyX-cY, cX-cY.
func parseLinkName(name string) (kind, from, to string, err error) {
	a, b, two := strings.Cut(name, "-")
	switch {
	case !two && strings.HasPrefix(a, "n"):
		return LinkNode, "proxy", a, nil
	case two && a == "client":
		return LinkClient, "client", b, nil
	case two && a == "repl":
		return LinkReplication, "replicas", b, nil
	case two && strings.HasPrefix(a, "n") && strings.HasPrefix(b, "c"):
		return LinkNodeCoord, a, b, nil
	case two && strings.HasPrefix(a, "proxy") && strings.HasPrefix(b, "c"):
		return LinkProxyCoord, a, b, nil
	case two && strings.HasPrefix(a, "c") && strings.HasPrefix(b, "c"):
		return LinkRaft, a, b, nil
	}
	return "", "", "", fmt.Errorf("toxiproxy link %q: not a link of the compose appliance", name)
}

// reset brings the appliance back to whole: every member started and
// thawed, every toxic removed and every link up.
func (c *Compose) reset(ctx context.Context) error {
	var errs []error
	for _, m := range composeMembers {
		id := c.containers[m.id]
		st, err := c.docker.Inspect(ctx, id)
		switch {
		case err != nil:
			errs = append(errs, err)
		case st.Paused:
			errs = append(errs, c.docker.Unpause(ctx, id))
		case !st.Running:
			errs = append(errs, c.docker.Start(ctx, id))
		}
	}
	errs = append(errs, c.HealAll())
	return errors.Join(errs...)
}
