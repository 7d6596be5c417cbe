package dashboards

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestMetricNames: the lexical extraction finds exactly the selected
// metrics, not functions, keywords, label names or values, or durations.
func TestMetricNames(t *testing.T) {
	cases := map[string][]string{
		`histogram_quantile(0.99, sum by (path, le) (rate(baton_proxy_pipeline_duration_seconds_bucket{job="baton-proxy"}[$__rate_interval])))`: {"baton_proxy_pipeline_duration_seconds_bucket"},
		`1 - sum(rate(a_total{result="ok"}[5m])) / sum(rate(a_total[5m]))`:                                                                      {"a_total"},
		`changes(max(baton_coordinator_epoch{job="x"})[$__rate_interval:]) > 0`:                                                                 {"baton_coordinator_epoch"},
		`sum by (step) (s_sum) / sum by (step) (s_count) or on (x) up offset 5m`:                                                                {"s_count", "s_sum", "up"},
		`baton_node_role{job="baton-node", role=~"prim.*"} == 1 and bool x`:                                                                     {"baton_node_role", "x"},
	}
	for expr, want := range cases {
		if got := MetricNames(expr); !reflect.DeepEqual(got, want) {
			t.Errorf("MetricNames(%s) = %v, want %v", expr, got, want)
		}
	}
}

// TestDashboardsShape: four dashboards, each Grafana JSON with schema 39, a
// unique uid, the Prometheus datasource variable used by every panel and
// target, the epoch-change annotation, and panels whose grid positions do
// not overlap; every metric a query names is documented in OPERATIONS.md.
func TestDashboardsShape(t *testing.T) {
	if got := Names(); !reflect.DeepEqual(got, []string{"overview.json", "proxy.json", "replication.json", "takeover.json"}) {
		t.Fatalf("dashboards = %v", got)
	}
	uids := map[string]bool{}
	for _, name := range Names() {
		data, _ := Raw(name)
		var d struct {
			UID           string `json:"uid"`
			SchemaVersion int    `json:"schemaVersion"`
			Templating    struct {
				List []struct{ Name, Type, Query string } `json:"list"`
			} `json:"templating"`
			Panels []struct {
				ID         int                      `json:"id"`
				Title      string                   `json:"title"`
				Datasource map[string]string        `json:"datasource"`
				GridPos    struct{ H, W, X, Y int } `json:"gridPos"`
				Targets    []struct {
					Datasource map[string]string `json:"datasource"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d.SchemaVersion != 39 || d.UID == "" || uids[d.UID] {
			t.Errorf("%s: schemaVersion %d, uid %q (must be 39 and unique)", name, d.SchemaVersion, d.UID)
		}
		uids[d.UID] = true
		if len(d.Templating.List) != 1 || d.Templating.List[0].Type != "datasource" || d.Templating.List[0].Query != "prometheus" {
			t.Errorf("%s: templating %+v, want one prometheus datasource variable", name, d.Templating.List)
		}
		if !strings.Contains(string(data), `"name": "Epoch changes"`) {
			t.Errorf("%s: no epoch-change annotation", name)
		}
		cells := map[[2]int]string{}
		for _, p := range d.Panels {
			if p.Datasource["uid"] != "${datasource}" {
				t.Errorf("%s/%s: datasource %v", name, p.Title, p.Datasource)
			}
			for _, tg := range p.Targets {
				if tg.Datasource["uid"] != "${datasource}" {
					t.Errorf("%s/%s: target datasource %v", name, p.Title, tg.Datasource)
				}
			}
			for x := p.GridPos.X; x < p.GridPos.X+p.GridPos.W; x++ {
				for y := p.GridPos.Y; y < p.GridPos.Y+p.GridPos.H; y++ {
					if other, ok := cells[[2]int{x, y}]; ok {
						t.Errorf("%s: panels %q and %q overlap", name, other, p.Title)
					}
					cells[[2]int{x, y}] = p.Title
				}
			}
		}
	}
	checkQueriesDocumented(t)
}

// checkQueriesDocumented fails for a query naming a metric (histogram
// suffixes stripped) that docs/OPERATIONS.md does not list.
func checkQueriesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/OPERATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	qs, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		for _, m := range MetricNames(q.Expr) {
			family := Family(m)
			if !strings.Contains(string(doc), "`"+family+"`") && !strings.Contains(string(doc), family+"`") {
				t.Errorf("%s / %s: %s is not documented in docs/OPERATIONS.md", q.Dashboard, q.Panel, family)
			}
		}
	}
}
