package integration

import (
	"testing"

	"github.com/batonkv/baton/dashboards"
	"github.com/batonkv/baton/internal/testutil"
)

// checkDashboards fails for every metric a dashboard query (panel or
// annotation) names that no scraped page exports with at least one sample:
// pages come from a live appliance after load and a takeover, so a typo or a
// renamed family in dashboards/*.json fails here. Histogram series
// (_bucket/_sum/_count) are looked up by their family, and must be of a
// histogram.
func checkDashboards(t *testing.T, pages map[string]testutil.Metrics) {
	t.Helper()
	qs, err := dashboards.Queries()
	if err != nil {
		t.Fatal(err)
	}
	exported := func(series string) bool {
		family := dashboards.Family(series)
		for _, page := range pages {
			mf := page.Family(family)
			if mf == nil || len(mf.GetMetric()) == 0 {
				continue
			}
			if family != series && mf.GetType().String() != "HISTOGRAM" {
				return false
			}
			return true
		}
		return false
	}
	names := 0
	for _, q := range qs {
		for _, m := range dashboards.MetricNames(q.Expr) {
			names++
			if !exported(m) {
				t.Errorf("%s / %s: %s is not exported by any process (query %s)", q.Dashboard, q.Panel, m, q.Expr)
			}
		}
	}
	if len(qs) < 40 || names < len(qs) {
		t.Errorf("dashboards: %d queries naming %d metrics: too few, the extraction is broken", len(qs), names)
	}
}
