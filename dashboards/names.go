package dashboards

import (
	"regexp"
	"sort"
	"strings"
)

// The Prometheus parser module (github.com/prometheus/prometheus) drags in
// cloud SDKs and does not `go mod tidy` cleanly with this module's
// dependencies, so metric names are found lexically instead. That is sound
// for the PromQL the dashboards use: once string literals, label matchers
// {…}, ranges […], grouping lists (by/without/on/ignoring/group_*) and
// numbers are removed, every remaining identifier is a function (followed by
// "("), a keyword, or a metric name. Syntax itself is proven by Prometheus:
// `make dashboards-check` evaluates every query through its HTTP API.
var (
	stringLit  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	matchers   = regexp.MustCompile(`\{[^{}]*\}`)
	ranges     = regexp.MustCompile(`\[[^\[\]]*\]`)
	grouping   = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	identifier = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	number     = regexp.MustCompile(`\b\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:ms|[smhdwy])*\b`)
	keywords   = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true,
		"group_right": true, "and": true, "or": true, "unless": true, "bool": true, "offset": true,
		"inf": true, "nan": true, "atan2": true}
)

// MetricNames returns the metric names expr selects, sorted and unique.
func MetricNames(expr string) []string {
	s := stringLit.ReplaceAllString(expr, `""`)
	s = strings.NewReplacer("$__rate_interval", "", "$__interval", "", "$__range", "").Replace(s)
	s = matchers.ReplaceAllString(s, " ")
	s = ranges.ReplaceAllString(s, " ")
	s = grouping.ReplaceAllString(s, " ")
	s = number.ReplaceAllString(s, " ")
	seen := map[string]bool{}
	var out []string
	for _, m := range identifier.FindAllStringSubmatch(s, -1) {
		name := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m[0]), "("))
		if m[1] != "" || keywords[strings.ToLower(name)] || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Family returns the metric family a series name belongs to: a histogram's
// _bucket, _sum and _count series belong to the histogram.
func Family(name string) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			return base
		}
	}
	return name
}
