package chaos

import (
	"fmt"
	"html/template"
	"time"
)

// reportHTML renders report.html: the summary table, then every run with
// its faults, its checkers' verdicts and links to their artifacts
// (porcupine's visualization when linearizability failed or timed out).
var reportHTML = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms": func(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) },
}).Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Baton chaos report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
.pass{background:#e6f4ea}.fail{background:#fce8e6}.skip{background:#f1f3f4}
details{margin:.3em 0}code{font-size:90%}
</style></head><body>
<h1>Baton chaos report</h1>
<p>Started {{.Started.Format "2006-01-02 15:04:05"}}; target <b>{{.Target}}</b>; --sync-replicas {{.SyncReplicas}};
seeds {{.Seed}} ({{.Seeds}} per scenario); {{.Duration}} of faults per run.
Result: <b>{{if .Passed}}every run passed{{else}}FAILED{{end}}</b>.</p>
{{if eq .SyncReplicas 0}}<p>Without --sync-replicas a primary acknowledges writes before any replica has them:
the <i>lost writes</i> column counts the acknowledged writes that failovers lost.</p>{{end}}
<table><tr><th>scenario</th><th>seed</th><th>faults</th><th>ops</th><th>errors (fail / unknown)</th>
<th>max write gap</th><th>lost writes</th><th>linearizable</th><th>result</th></tr>
{{range .Runs}}<tr class="{{if .Skipped}}skip{{else if .Passed}}pass{{else}}fail{{end}}">
<td><a href="#{{.Dir}}">{{.Scenario}}</a></td><td>{{.Seed}}</td><td>{{len .Faults}}</td><td>{{.Ops}}</td>
<td>{{.FailOps}} / {{.InfoOps}}</td><td>{{printf "%.0f" .MaxGapMs}} ms</td><td>{{.LostWrites}}</td>
<td>{{.Linearizable}}</td><td>{{.Verdict}}</td></tr>
{{end}}</table>
{{range .Runs}}<h2 id="{{.Dir}}">{{.Scenario}}, seed {{.Seed}}: {{.Verdict}}</h2>
<p>{{printf "%.1f" .Seconds}} s; logs, lease logs and history in <code>{{.Dir}}/</code>.
{{if .Error}}<br><b>Error:</b> {{.Error}}{{end}}{{if .Skipped}}<br>Skipped: {{.Skipped}}{{end}}</p>
{{if .Faults}}<table><tr><th>#</th><th>fault</th><th>injected</th><th>healed</th><th>healthy again</th><th>error</th></tr>
{{range .Faults}}<tr><td>{{.N}}</td><td>{{.What}}</td><td>{{ms .At}}</td><td>{{ms .HealedAt}}</td>
<td>{{if .HealthyAt}}{{ms .HealthyAt}}{{else}}never{{end}}</td><td>{{.Error}}</td></tr>{{end}}</table>{{end}}
<table><tr><th>checker</th><th>verdict</th><th>summary</th></tr>
{{range .Results}}<tr class="{{if .OK}}pass{{else}}fail{{end}}"><td>{{.Name}}</td>
<td>{{if not .OK}}FAIL{{else if .Unknown}}unknown{{else}}ok{{end}}</td>
<td>{{.Summary}}{{if .Details}}<details><summary>details</summary><ul>{{range .Details}}<li>{{.}}</li>{{end}}</ul></details>{{end}}
{{range .Artifacts}}<br><a href="{{.}}">{{.}}</a>{{end}}</td></tr>{{end}}</table>
{{end}}</body></html>
`))

// Verdict is the run's result as the summary table shows it.
func (rr RunReport) Verdict() string { return rr.verdict() }
