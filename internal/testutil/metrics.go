package testutil

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metrics are metric families, gathered from a registry or parsed from a
// /metrics page, with lookups for tests.
type Metrics []*dto.MetricFamily

// Gather gathers g, failing the test on an error.
func Gather(t testing.TB, g prometheus.Gatherer) Metrics {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	return mfs
}

// ParseMetrics parses a /metrics page in Prometheus' text format, failing
// the test on an error.
func ParseMetrics(t testing.TB, page string) Metrics {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := p.TextToMetricFamilies(strings.NewReader(page))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := make(Metrics, 0, len(byName))
	for _, mf := range byName {
		out = append(out, mf)
	}
	return out
}

// Family returns the family called name, or nil.
func (ms Metrics) Family(name string) *dto.MetricFamily {
	for _, mf := range ms {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

// Sample returns the value of the first series of family name whose labels
// include every label of want (a counter's or gauge's value, a histogram's
// sample count), and whether there is one.
func (ms Metrics) Sample(name string, want map[string]string) (float64, bool) {
	mf := ms.Family(name)
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		n := 0
		for _, lp := range m.GetLabel() {
			if v, ok := want[lp.GetName()]; ok && v == lp.GetValue() {
				n++
			}
		}
		if n != len(want) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// Value is Sample of a series that must exist: the test fails otherwise.
func Value(t testing.TB, g prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	v, ok := Gather(t, g).Sample(name, want)
	if !ok {
		t.Fatalf("no series %s%v", name, want)
	}
	return v
}

// Lint fails the test for every problem promlint finds in g's metrics.
func Lint(t testing.TB, g prometheus.Gatherer) {
	t.Helper()
	Gather(t, g).Lint(t, "")
}

// Lint fails the test for every problem promlint finds in ms; what names
// their source in the messages.
func (ms Metrics) Lint(t testing.TB, what string) {
	t.Helper()
	problems, err := promlint.NewWithMetricFamilies(ms).Lint()
	if err != nil {
		t.Fatalf("lint metrics %s: %v", what, err)
	}
	for _, p := range problems {
		t.Errorf("promlint %s: %s: %s", what, p.Metric, p.Text)
	}
}
