// Command dashcheck evaluates every query of Baton's Grafana dashboards
// (panels and annotations) through a Prometheus server's HTTP API, prints a
// table of dashboard, panel, series count and query, and exits 1 if any
// query fails or returns no series. scripts/dashboards-check.sh runs it
// against Prometheus scraping a live local appliance.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"text/tabwriter"
	"time"

	"github.com/batonkv/baton/dashboards"
)

func main() {
	prom := flag.String("prometheus", "http://127.0.0.1:9090", "Prometheus base URL")
	window := flag.String("window", "5m", "what $__rate_interval stands for")
	flag.Parse()
	qs, err := dashboards.Queries()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dashcheck:", err)
		os.Exit(1)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DASHBOARD\tPANEL\tSERIES\tRESULT\tQUERY")
	failed := 0
	for _, q := range qs {
		expr := dashboards.Evaluable(q.Expr, *window)
		n, err := series(client, *prom, expr)
		result := "ok"
		switch {
		case err != nil:
			result, failed = "ERROR: "+err.Error(), failed+1
		case n == 0:
			result, failed = "NO SERIES", failed+1
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", q.Dashboard, q.Panel, n, result, expr)
	}
	tw.Flush()
	fmt.Printf("%d passed, %d failed\n", len(qs)-failed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

// series runs an instant query and returns how many series it returned.
func series(client *http.Client, prom, expr string) (int, error) {
	resp, err := client.Get(prom + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("%s: %w", resp.Status, err)
	}
	if body.Status != "success" {
		return 0, fmt.Errorf("%s", body.Error)
	}
	var vec []json.RawMessage
	if err := json.Unmarshal(body.Data.Result, &vec); err != nil {
		return 1, nil // a scalar: one value
	}
	return len(vec), nil
}
