// Package metricshttp serves a process's Prometheus registry on /metrics and
// its health on /healthz, and checks such a /healthz from the outside (`baton
// healthcheck`). The node, the proxy and the coordinator all serve the same
// two endpoints on their --http-addr; each keeps its own registry (passed in,
// never the global default) so several components can run in one test
// process.
package metricshttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a registry holding the Go runtime's collector (heap,
// GC, goroutines: go_*) and the process collector (CPU, RSS, open files:
// process_*), the memory metrics every component shares.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// HealthFunc reports a component's health: ok selects 200 or 503, body is
// encoded as JSON (it says what the component is doing: role, epoch...).
type HealthFunc func() (ok bool, body any)

// Server is an HTTP server of /metrics and /healthz on its own listener.
type Server struct {
	ln   net.Listener
	hs   *http.Server
	done chan struct{}
}

// Start listens on addr and serves reg on /metrics and health on /healthz
// until Close.
func Start(addr string, reg prometheus.Gatherer, health HealthFunc) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen http %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		ok, body := health()
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(body)
	})
	s := &Server{ln: ln, done: make(chan struct{}),
		hs: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		defer close(s.done)
		s.hs.Serve(ln)
	}()
	return s, nil
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops the server, closes its connections and waits for its
// goroutine.
func (s *Server) Close() error {
	err := s.hs.Close()
	<-s.done
	return err
}

// ErrUnhealthy is returned by Check when /healthz answered, but not 200.
var ErrUnhealthy = errors.New("unhealthy")

// Check GETs url (a /healthz) within timeout and returns nil for a 200,
// an error wrapping ErrUnhealthy (with the body) for another status, or the
// transport error. The body of a 200 is returned too, for the caller to
// print.
func Check(ctx context.Context, url string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("%w: %s: %s", ErrUnhealthy, resp.Status, body)
	}
	return string(body), nil
}
