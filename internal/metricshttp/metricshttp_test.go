package metricshttp

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func Test_StartAndCheck(t *testing.T) {
	reg := NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "baton_test_things_total", Help: "Things."})
	reg.MustRegister(c)
	c.Add(3)
	var healthy atomic.Bool
	s, err := Start("127.0.0.1:0", reg, func() (bool, any) {
		return healthy.Load(), map[string]bool{"healthy": healthy.Load()}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	base := "http://" + s.Addr().String()
	ctx := context.Background()

	page, err := Check(ctx, base+"/metrics", time.Second)
	if err != nil || !strings.Contains(page, "baton_test_things_total 3") || !strings.Contains(page, "go_goroutines") {
		t.Fatalf("/metrics: %v\n%s", err, page)
	}
	if body, err := Check(ctx, base+"/healthz", time.Second); !errors.Is(err, ErrUnhealthy) {
		t.Fatalf("unhealthy /healthz: %q, %v; want ErrUnhealthy", body, err)
	}
	healthy.Store(true)
	if body, err := Check(ctx, base+"/healthz", time.Second); err != nil || strings.TrimSpace(body) != `{"healthy":true}` {
		t.Fatalf("healthy /healthz: %q, %v", body, err)
	}
	s.Close()
	if _, err := Check(ctx, base+"/healthz", time.Second); err == nil || errors.Is(err, ErrUnhealthy) {
		t.Fatalf("closed server: %v, want a connection error", err)
	}
}
