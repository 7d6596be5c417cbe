package dashboards

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.json
var files embed.FS

// Query is one PromQL expression of a dashboard: a panel target or an
// annotation.
type Query struct {
	// Dashboard is the file name (overview.json, …).
	Dashboard string
	// Panel is the panel title, or "annotation: <name>".
	Panel string
	// Expr is the PromQL as Grafana stores it ($__rate_interval included).
	Expr string
}

// board is the part of Grafana's dashboard JSON the queries live in.
type board struct {
	Annotations struct {
		List []struct {
			Name string `json:"name"`
			Expr string `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// Names returns the dashboard file names, sorted.
func Names() []string {
	names, _ := fs.Glob(files, "*.json")
	sort.Strings(names)
	return names
}

// Raw returns a dashboard file's JSON.
func Raw(name string) ([]byte, error) { return files.ReadFile(name) }

// Queries returns every panel and annotation query of every dashboard; a
// panel without a query is an error (every panel must be provable).
func Queries() ([]Query, error) {
	var out []Query
	for _, name := range Names() {
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var b board
		if err := json.Unmarshal(data, &b); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for _, a := range b.Annotations.List {
			if a.Expr != "" {
				out = append(out, Query{Dashboard: name, Panel: "annotation: " + a.Name, Expr: a.Expr})
			}
		}
		for _, p := range b.Panels {
			if len(p.Targets) == 0 {
				return nil, fmt.Errorf("%s: panel %q has no query", name, p.Title)
			}
			for _, t := range p.Targets {
				if strings.TrimSpace(t.Expr) == "" {
					return nil, fmt.Errorf("%s: panel %q has an empty query", name, p.Title)
				}
				out = append(out, Query{Dashboard: name, Panel: p.Title, Expr: t.Expr})
			}
		}
	}
	return out, nil
}

// Evaluable returns expr with Grafana's interval variables replaced by
// window, so that Prometheus itself can evaluate it.
func Evaluable(expr, window string) string {
	return strings.NewReplacer("$__rate_interval", window, "$__interval", window, "$__range", window).Replace(expr)
}
