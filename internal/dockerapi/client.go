// Package dockerapi is the small part of the Docker Engine API the chaos
// suite drives the compose appliance with: find a compose project's
// containers, kill, stop, start, pause and unpause them, and read their
// logs. It speaks HTTP over the engine's unix socket, so the chaos runner
// needs neither the docker CLI nor a shell in its scratch image.
package dockerapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Compose labels every compose implementation (docker-compose 1.x and the
// compose plugin) puts on a project's containers.
const (
	LabelProject = "com.docker.compose.project"
	LabelService = "com.docker.compose.service"
	LabelOneOff  = "com.docker.compose.oneoff"
)

// ErrNotFound is returned when the engine knows no such container.
var ErrNotFound = errors.New("docker: no such container")

// Client talks to one Docker Engine.
type Client struct {
	http *http.Client
}

// New returns a client of the engine listening on the unix socket path.
func New(socket string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		MaxIdleConns: 4,
	}
	return &Client{http: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Container is what the suite reads of one container.
type Container struct {
	ID     string
	Name   string
	Labels map[string]string
	// Running is true for a paused container too.
	Running bool
	Paused  bool
}

// inspect is the part of GET /containers/{id}/json decoded.
type inspect struct {
	ID     string `json:"Id"`
	Name   string `json:"Name"`
	Config struct {
		Labels map[string]string `json:"Labels"`
	} `json:"Config"`
	State struct {
		Running bool `json:"Running"`
		Paused  bool `json:"Paused"`
	} `json:"State"`
}

// Inspect reads one container by id or name.
func (c *Client) Inspect(ctx context.Context, id string) (Container, error) {
	var in inspect
	if err := c.do(ctx, http.MethodGet, "/containers/"+url.PathEscape(id)+"/json", nil, &in); err != nil {
		return Container{}, fmt.Errorf("inspect %s: %w", id, err)
	}
	return Container{ID: in.ID, Name: strings.TrimPrefix(in.Name, "/"), Labels: in.Config.Labels,
		Running: in.State.Running, Paused: in.State.Paused}, nil
}

// ProjectServices returns the container id of every service of a compose
// project (one-off `run` containers excluded), running or not.
func (c *Client) ProjectServices(ctx context.Context, project string) (map[string]string, error) {
	filters, _ := json.Marshal(map[string][]string{"label": {LabelProject + "=" + project}})
	q := url.Values{"all": {"1"}, "filters": {string(filters)}}
	var list []struct {
		ID     string            `json:"Id"`
		Labels map[string]string `json:"Labels"`
	}
	if err := c.do(ctx, http.MethodGet, "/containers/json", q, &list); err != nil {
		return nil, fmt.Errorf("list project %s: %w", project, err)
	}
	out := map[string]string{}
	for _, ct := range list {
		if strings.EqualFold(ct.Labels[LabelOneOff], "true") {
			continue
		}
		if s := ct.Labels[LabelService]; s != "" {
			out[s] = ct.ID
		}
	}
	return out, nil
}

// Kill sends a signal ("KILL", "TERM", "STOP"…) to the container's main
// process.
func (c *Client) Kill(ctx context.Context, id, signal string) error {
	return c.action(ctx, id, "kill", url.Values{"signal": {signal}})
}

// Stop stops a container: SIGTERM, then SIGKILL after timeout.
func (c *Client) Stop(ctx context.Context, id string, timeout time.Duration) error {
	return c.action(ctx, id, "stop", url.Values{"t": {fmt.Sprint(int(timeout.Seconds()))}})
}

// Start starts a stopped container; starting a running one is no error.
func (c *Client) Start(ctx context.Context, id string) error { return c.action(ctx, id, "start", nil) }

// Pause freezes every process of a container (the cgroup freezer).
func (c *Client) Pause(ctx context.Context, id string) error { return c.action(ctx, id, "pause", nil) }

// Unpause thaws a paused container.
func (c *Client) Unpause(ctx context.Context, id string) error {
	return c.action(ctx, id, "unpause", nil)
}

// action POSTs /containers/{id}/{verb}.
func (c *Client) action(ctx context.Context, id, verb string, q url.Values) error {
	if err := c.do(ctx, http.MethodPost, "/containers/"+url.PathEscape(id)+"/"+verb, q, nil); err != nil {
		return fmt.Errorf("%s %s: %w", verb, id, err)
	}
	return nil
}

// do sends one request; a JSON reply is decoded into out when out is not
// nil. 304 (already started or stopped) is success.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, out any) error {
	u := "http://docker" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return ErrNotFound
	case resp.StatusCode == http.StatusNotModified:
		return nil
	case resp.StatusCode >= 300:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("docker: %s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
