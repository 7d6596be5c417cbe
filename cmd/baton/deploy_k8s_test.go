package main

// The Kubernetes manifests in deploy/k8s are checked here, in package main,
// against the binary's real flag sets: no cluster (and no kubectl) is
// needed, and a renamed flag breaks this test rather than a deployment.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const (
	// k8sDir holds the manifests, relative to this package.
	k8sDir = "../../deploy/k8s"
	// k8sImage is the image every Baton container runs (deploy/k8s/README.md).
	k8sImage = "baton:local"
	// k8sPodIP stands for status.podIP when a pod's arguments are expanded.
	k8sPodIP = "10.0.0.1"
)

// k8sWant lists the objects the manifests must define; replicas is checked
// for workloads (0: not a workload).
var k8sWant = []struct {
	kind, name string
	replicas   int
}{
	{"StatefulSet", "baton-coordinator", 3},
	{"StatefulSet", "baton-node", 3},
	{"Deployment", "baton-proxy", 2},
	{"Service", "baton-coordinator", 0},
	{"Service", "baton-node", 0},
	{"Service", "baton-proxy", 0},
	{"Secret", "baton-cluster-secret", 0},
}

// k8sSubcommands are the subcommands a manifest may run.
var k8sSubcommands = []string{"coordinator", "node", "proxy"}

func TestK8sManifests(t *testing.T) {
	docs := loadK8sDocs(t, readK8sFiles(t))
	for _, p := range checkK8s(docs, k8sFlags(t)) {
		t.Error(p)
	}
}

func TestK8sFlagNames(t *testing.T) {
	node := flagNames(t, "node")
	if !node["sync-replicas"] || !node["advertise-addr"] || node["peers"] {
		t.Errorf("node flags %v: want sync-replicas and advertise-addr, not peers", node)
	}
	if st := flagNames(t, "ctl status"); !st["coordinators"] {
		t.Errorf("ctl status flags %v: want coordinators", st)
	}
	if f, ok := envFlag("BATON_SYNC_REPLICAS"); !ok || f != "sync-replicas" || envName(f) != "BATON_SYNC_REPLICAS" {
		t.Errorf("envFlag(BATON_SYNC_REPLICAS) = %q, %v", f, ok)
	}
}

// TestK8sCheckerRejectsBrokenManifests breaks one thing at a time in a copy
// of the real manifests and expects checkK8s to name it.
func TestK8sCheckerRejectsBrokenManifests(t *testing.T) {
	cases := []struct{ name, file, old, new, want string }{
		{"misspelled flag", "node.yaml", "--sync-replicas=1", "--sync-replica=1", "--sync-replica is no flag of baton node"},
		{"flag of another subcommand", "proxy.yaml", "- --addr=0.0.0.0:6379", "- --addr=0.0.0.0:6379\n            - --sync-replicas=1", "--sync-replicas is no flag of baton proxy"},
		{"env of no flag", "proxy.yaml", "name: BATON_COORDINATORS", "name: BATON_COORDINATOR", "env BATON_COORDINATOR:"},
		{"positional argument", "node.yaml", "- --sync-replicas=1", "- sync-replicas=1", "positional"},
		{"unknown subcommand", "proxy.yaml", "- proxy\n", "- proxies\n", `first argument "proxies" is no subcommand`},
		{"no apiVersion", "proxy.yaml", "apiVersion: apps/v1\n", "", "apiVersion, kind and metadata.name are required"},
		{"missing object", "proxy.yaml", "kind: Deployment", "kind: DaemonSet", "missing Deployment/baton-proxy"},
		{"image", "proxy.yaml", "image: baton:local", "image: baton:latest", `image "baton:latest"`},
		{"replicas", "node.yaml", "replicas: 3", "replicas: 4", "replicas 4, want 3"},
		{"namespace", "proxy.yaml", "name: baton-proxy\n", "name: baton-proxy\n  namespace: prod\n", `hard-coded namespace "prod"`},
		{"service selector", "proxy.yaml", "component: proxy\n  ports:", "component: proxi\n  ports:", "selects the pods of 0 workloads"},
		{"service target port", "node.yaml", "targetPort: redis", "targetPort: resp", "targetPort resp is no container port"},
		{"not headless", "node.yaml", "clusterIP: None", "clusterIP: 10.96.0.10", `"baton-node" is not a headless Service`},
		{"not published before ready", "coordinator.yaml", "publishNotReadyAddresses: true", "publishNotReadyAddresses: false", "publishNotReadyAddresses"},
		{"ordered start", "coordinator.yaml", "podManagementPolicy: Parallel", "podManagementPolicy: OrderedReady", "podManagementPolicy"},
		{"undefined variable", "node.yaml", "$(POD_NAME).baton-node", "$(POD).baton-node", "uses $(POD), which is no variable"},
		{"advertise address", "node.yaml", "$(POD_NAME).baton-node:6379", "$(POD_NAME):6379", `--advertise-addr "$(POD_NAME):6379" is "baton-node-0:6379"`},
		{"peer id", "coordinator.yaml", "baton-coordinator-2=", "c2=", "--peers ids [baton-coordinator-0 baton-coordinator-1 c2]"},
		{"peer host", "coordinator.yaml", "baton-coordinator-1.baton-coordinator:7000/", "baton-coordinator-1:7000/", "--peers: baton-coordinator-1=baton-coordinator-1:7000/"},
		{"coordinator id", "coordinator.yaml", "--id=$(POD_NAME)", "--id=c1", `--id "c1" is "c1" in pod baton-coordinator-0`},
		{"raft address", "coordinator.yaml", "--raft-addr=$(POD_IP):7000", "--raft-addr=0.0.0.0:7000", `--raft-addr "0.0.0.0:7000" is "0.0.0.0"`},
		{"coordinators list", "proxy.yaml", "baton-coordinator-2.baton-coordinator:7379", "baton-coordinator-3.baton-coordinator:7379", `--coordinators "baton-coordinator-0`},
		{"no cluster secret", "proxy.yaml", "name: BATON_CLUSTER_SECRET", "name: CLUSTER_SECRET", "no --cluster-secret"},
		{"metrics on loopback", "proxy.yaml", "value: 0.0.0.0:9100", "value: 127.0.0.1:9100", `--http-addr "127.0.0.1:9100"`},
		{"scrape annotation", "node.yaml", `prometheus.io/port: "9100"`, `prometheus.io/port: "9101"`, "annotation prometheus.io/port 9101"},
		{"no readiness probe", "proxy.yaml", "readinessProbe:", "readinesProbe:", "has no readinessProbe"},
		{"probe command", "node.yaml", `command: ["/baton", "healthcheck", "--quiet"]`, `command: ["/bin/sh", "-c", "true"]`, `startupProbe command ["/bin/sh" "-c" "true"]`},
		{"probe flag", "proxy.yaml", `"healthcheck", "--quiet"]`, `"healthcheck", "--quite"]`, "--quite is no flag of baton healthcheck"},
		{"probe target", "proxy.yaml", `"healthcheck", "--quiet"]`, `"healthcheck", "--url=http://127.0.0.1:9200/healthz"]`, `checks "http://127.0.0.1:9200/healthz"`},
		{"secret key", "node.yaml", "key: cluster-secret", "key: secret", `reads key "secret" of secret "baton-cluster-secret"`},
		{"data not on a claim", "node.yaml", "- --dir=/data", "- --dir=/var/data", `--dir "/var/data" is not the mount path`},
	}
	files := readK8sFiles(t)
	flags := k8sFlags(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			broken := maps.Clone(files)
			if !strings.Contains(broken[tc.file], tc.old) {
				t.Fatalf("%s does not contain %q: update this case", tc.file, tc.old)
			}
			broken[tc.file] = strings.Replace(broken[tc.file], tc.old, tc.new, 1)
			problems := checkK8s(loadK8sDocs(t, broken), flags)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("no problem mentions %q; got %q", tc.want, problems)
			}
		})
	}
}

// flagNames returns the flags of a baton subcommand ("node", "ctl status")
// as its own --help lists them, obtained through the binary's dispatch
// (run), so manifests and compose files are checked against the real flag
// sets, not a copy of them.
func flagNames(t testing.TB, sub string) map[string]bool {
	t.Helper()
	var stdout, stderr bytes.Buffer
	run(append(strings.Fields(sub), "--help"), &stdout, &stderr)
	names := map[string]bool{}
	for _, m := range helpFlagRE.FindAllStringSubmatch(stderr.String(), -1) {
		if envName(m[1]) != m[2] {
			t.Fatalf("baton %s --help: flag --%s names env %s, want %s", sub, m[1], m[2], envName(m[1]))
		}
		names[m[1]] = true
	}
	if len(names) == 0 {
		t.Fatalf("baton %s --help listed no flags:\n%s%s", sub, stdout.String(), stderr.String())
	}
	return names
}

// helpFlagRE matches one flag line of newFlagSet's usage output.
var helpFlagRE = regexp.MustCompile(`(?m)^  --([a-z0-9-]+) \(env (BATON_[A-Z0-9_]+),`)

// k8sFlags returns flagNames as a memoized lookup for checkK8s.
func k8sFlags(t testing.TB) func(sub string) map[string]bool {
	cache := map[string]map[string]bool{}
	return func(sub string) map[string]bool {
		if cache[sub] == nil {
			cache[sub] = flagNames(t, sub)
		}
		return cache[sub]
	}
}

// envFlag is the flag an environment variable supplies (BATON_SYNC_REPLICAS
// → sync-replicas), the inverse of envName; ok is false for other names.
func envFlag(name string) (flag string, ok bool) {
	rest, ok := strings.CutPrefix(name, "BATON_")
	if !ok || rest == "" {
		return "", false
	}
	return strings.ToLower(strings.ReplaceAll(rest, "_", "-")), true
}

// parseFlagArgs reads a subcommand's arguments the way package flag does:
// -name=value, --name=value, or --name value when the next argument is not
// a flag (a flag alone is a boolean "true"). Package flag stops at the first
// argument that is not a flag, silently ignoring the rest: that is an error
// here, and so is a flag given twice.
func parseFlagArgs(args []string) (map[string]string, error) {
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			return out, fmt.Errorf("positional argument %q: flag parsing stops there, the flags after it are ignored", a)
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasValue {
			value = "true"
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				value, i = args[i+1], i+1
			}
		}
		if _, dup := out[name]; dup {
			return out, fmt.Errorf("flag --%s given twice", name)
		}
		out[name] = value
	}
	return out, nil
}

// readK8sFiles reads every deploy/k8s/*.yaml, keyed by base name.
func readK8sFiles(t testing.TB) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests in %s (err %v)", k8sDir, err)
	}
	files := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("read manifest: %v", err)
		}
		files[filepath.Base(p)] = string(b)
	}
	return files
}

// k8sDoc is one YAML document of a manifest, decoded into generic maps.
type k8sDoc struct {
	file string
	obj  map[string]any
}

func (d k8sDoc) kind() string { return yStr(d.obj, "kind") }
func (d k8sDoc) name() string { return yStr(d.obj, "metadata", "name") }
func (d k8sDoc) key() string  { return d.kind() + "/" + d.name() }

// loadK8sDocs decodes every document of every file (sorted by name).
func loadK8sDocs(t testing.TB, files map[string]string) []k8sDoc {
	t.Helper()
	var docs []k8sDoc
	for _, name := range slices.Sorted(maps.Keys(files)) {
		d, err := parseK8sDocs(name, []byte(files[name]))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d...)
	}
	return docs
}

// parseK8sDocs decodes the documents of one multi-document YAML stream,
// skipping empty ones.
func parseK8sDocs(file string, data []byte) ([]k8sDoc, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []k8sDoc
	for i := 1; ; i++ {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, i, err)
		}
		if obj != nil {
			docs = append(docs, k8sDoc{file: file, obj: obj})
		}
	}
}

// yAt walks v through nested maps along path (nil when a step is missing).
func yAt(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// yStr, yList, yInt and yMap are yAt's value as that type (zero if not).
func yStr(v any, path ...string) string { s, _ := yAt(v, path...).(string); return s }
func yList(v any, path ...string) []any { l, _ := yAt(v, path...).([]any); return l }
func yInt(v any, path ...string) int    { n, _ := yAt(v, path...).(int); return n }

func yMap(v any, path ...string) map[string]any {
	m, _ := yAt(v, path...).(map[string]any)
	return m
}

// yStrings is a list of scalars, each formatted as a string.
func yStrings(v any, path ...string) []string {
	var out []string
	for _, e := range yList(v, path...) {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// k8sChecker collects what is wrong with a set of manifests.
type k8sChecker struct {
	flags    func(sub string) map[string]bool
	docs     []k8sDoc
	byKey    map[string]k8sDoc
	problems []string
}

// checkK8s returns every problem found in docs, checking flags and
// environment variables against flags(subcommand); nil means none.
func checkK8s(docs []k8sDoc, flags func(sub string) map[string]bool) []string {
	c := &k8sChecker{flags: flags, docs: docs, byKey: map[string]k8sDoc{}}
	c.checkDocs()
	c.checkWanted()
	coords := c.coordinatorAddrs()
	for _, d := range docs {
		switch d.kind() {
		case "StatefulSet", "Deployment":
			c.checkWorkload(d, coords)
		case "Service":
			c.checkService(d)
		case "PodDisruptionBudget":
			c.matchWorkload(d, yMap(d.obj, "spec", "selector", "matchLabels"))
		}
	}
	return c.problems
}

func (c *k8sChecker) errorf(d k8sDoc, format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf("%s: %s: %s", d.file, d.key(), fmt.Sprintf(format, args...)))
}

// checkDocs: every document is a namespace-agnostic, uniquely named object.
func (c *k8sChecker) checkDocs() {
	for _, d := range c.docs {
		if yStr(d.obj, "apiVersion") == "" || d.kind() == "" || d.name() == "" {
			c.errorf(d, "apiVersion, kind and metadata.name are required")
		}
		if ns := yStr(d.obj, "metadata", "namespace"); ns != "" {
			c.errorf(d, "hard-coded namespace %q: the manifests go to any namespace", ns)
		}
		if _, dup := c.byKey[d.key()]; dup {
			c.errorf(d, "defined twice")
		}
		c.byKey[d.key()] = d
	}
}

// checkWanted: the expected objects exist, workloads with their replicas.
func (c *k8sChecker) checkWanted() {
	for _, w := range k8sWant {
		d, ok := c.byKey[w.kind+"/"+w.name]
		if !ok {
			c.problems = append(c.problems, fmt.Sprintf("missing %s/%s", w.kind, w.name))
			continue
		}
		if n := yInt(d.obj, "spec", "replicas"); w.replicas != 0 && n != w.replicas {
			c.errorf(d, "replicas %d, want %d", n, w.replicas)
		}
	}
}

// workloads are the StatefulSets and Deployments.
func (c *k8sChecker) workloads() []k8sDoc {
	return slices.DeleteFunc(slices.Clone(c.docs), func(d k8sDoc) bool {
		return d.kind() != "StatefulSet" && d.kind() != "Deployment"
	})
}

// matchWorkload reports unless selector selects exactly one workload's pods.
func (c *k8sChecker) matchWorkload(d k8sDoc, selector map[string]any) (k8sDoc, bool) {
	var found []k8sDoc
	for _, w := range c.workloads() {
		if len(selector) > 0 && k8sSubset(selector, yMap(w.obj, "spec", "template", "metadata", "labels")) {
			found = append(found, w)
		}
	}
	if len(found) != 1 {
		c.errorf(d, "selector %v selects the pods of %d workloads, want 1", selector, len(found))
		return k8sDoc{}, false
	}
	return found[0], true
}

// k8sSubset reports whether every label of sel is in labels.
func k8sSubset(sel, labels map[string]any) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkService: the selector picks one workload, whose containers declare
// every target port.
func (c *k8sChecker) checkService(d k8sDoc) {
	w, ok := c.matchWorkload(d, yMap(d.obj, "spec", "selector"))
	if !ok {
		return
	}
	for _, p := range yList(d.obj, "spec", "ports") {
		target := yAt(p, "targetPort")
		if target == nil {
			target = yAt(p, "port")
		}
		if !slices.ContainsFunc(c.containers(w), func(ct k8sContainer) bool { return ct.hasPort(target) }) {
			c.errorf(d, "targetPort %v is no container port of %s", target, w.key())
		}
	}
}

// k8sContainer is one container of a workload's pod template.
type k8sContainer struct {
	raw   map[string]any
	sub   string            // the baton subcommand (first argument)
	args  map[string]string // flags given as arguments
	env   []k8sEnv
	ports map[string]int // containerPort by name
}

// k8sEnv is one environment variable: a literal value, a pod field or a
// Secret key.
type k8sEnv struct{ name, value, field, secret, secretKey string }

// containers decodes a workload's containers.
func (c *k8sChecker) containers(w k8sDoc) []k8sContainer {
	var out []k8sContainer
	for _, raw := range yList(w.obj, "spec", "template", "spec", "containers") {
		ct := k8sContainer{raw: yMap(raw), ports: map[string]int{}}
		if args := yStrings(raw, "args"); len(args) > 0 {
			ct.sub = args[0]
			ct.args, _ = parseFlagArgs(args[1:])
		}
		for _, e := range yList(raw, "env") {
			ct.env = append(ct.env, k8sEnv{
				name: yStr(e, "name"), value: yStr(e, "value"),
				field:  yStr(e, "valueFrom", "fieldRef", "fieldPath"),
				secret: yStr(e, "valueFrom", "secretKeyRef", "name"), secretKey: yStr(e, "valueFrom", "secretKeyRef", "key"),
			})
		}
		for _, p := range yList(raw, "ports") {
			ct.ports[yStr(p, "name")] = yInt(p, "containerPort")
		}
		out = append(out, ct)
	}
	return out
}

// hasPort reports whether the container declares port (a name or number).
func (ct k8sContainer) hasPort(port any) bool {
	if name, ok := port.(string); ok {
		_, found := ct.ports[name]
		return found && name != ""
	}
	n, ok := port.(int)
	return ok && slices.Contains(slices.Collect(maps.Values(ct.ports)), n)
}

// settings are the container's effective flags: BATON_* variables, then
// the arguments (which win), values unexpanded; a pod field reads as
// $(VAR) (expand resolves it), a Secret key as "<secret>".
func (ct k8sContainer) settings() map[string]string {
	out := map[string]string{}
	for _, e := range ct.env {
		f, ok := envFlag(e.name)
		switch {
		case !ok:
		case e.field != "":
			out[f] = "$(" + e.name + ")"
		case e.secret != "":
			out[f] = "<secret>"
		default:
			out[f] = e.value
		}
	}
	maps.Copy(out, ct.args)
	return out
}

// expand replaces $(VAR) in s as Kubernetes would in pod: pod fields and
// literal variables of the container.
func (ct k8sContainer) expand(s, pod string) string {
	return k8sVarRE.ReplaceAllStringFunc(s, func(ref string) string {
		name := k8sVarRE.FindStringSubmatch(ref)[1]
		for _, e := range ct.env {
			switch {
			case e.name != name:
			case e.field == "metadata.name":
				return pod
			case e.field == "status.podIP":
				return k8sPodIP
			case e.field == "" && e.secret == "":
				return e.value
			}
		}
		return ref
	})
}

// k8sVarRE matches a Kubernetes $(VAR) reference.
var k8sVarRE = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// podNames are a StatefulSet's pod names (<name>-0..n-1); nil for others.
func podNames(w k8sDoc) []string {
	if w.kind() != "StatefulSet" {
		return nil
	}
	var out []string
	for i := range yInt(w.obj, "spec", "replicas") {
		out = append(out, fmt.Sprintf("%s-%d", w.name(), i))
	}
	return out
}

// hostPort splits addr, returning "" parts when it is not host:port.
func hostPort(addr string) (host, port string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", ""
	}
	return host, port
}

// coordinatorAddrs are the coordinators' API addresses as nodes and
// proxies must name them: <pod>.<service>:<port of --addr>.
func (c *k8sChecker) coordinatorAddrs() []string {
	for _, w := range c.workloads() {
		for _, ct := range c.containers(w) {
			if ct.sub != "coordinator" {
				continue
			}
			_, port := hostPort(ct.settings()["addr"])
			var out []string
			for _, pod := range podNames(w) {
				out = append(out, podAddr(pod, yStr(w.obj, "spec", "serviceName"), port))
			}
			return out
		}
	}
	return nil
}

// checkWorkload checks a StatefulSet or Deployment and its containers.
func (c *k8sChecker) checkWorkload(w k8sDoc, coords []string) {
	sel := yMap(w.obj, "spec", "selector", "matchLabels")
	if len(sel) == 0 || !k8sSubset(sel, yMap(w.obj, "spec", "template", "metadata", "labels")) {
		c.errorf(w, "selector %v does not select the pod template's labels", sel)
	}
	if w.kind() == "StatefulSet" {
		c.checkGoverningService(w)
	}
	cts := c.containers(w)
	if len(cts) == 0 {
		c.errorf(w, "no containers")
	}
	for _, ct := range cts {
		if c.checkContainer(w, ct) {
			c.checkRole(w, ct, coords)
		}
	}
}

// checkGoverningService: a StatefulSet's serviceName names a headless
// Service that publishes pods before they are ready (peers must resolve
// each other to become ready).
func (c *k8sChecker) checkGoverningService(w k8sDoc) {
	name := yStr(w.obj, "spec", "serviceName")
	svc, ok := c.byKey["Service/"+name]
	switch {
	case !ok:
		c.errorf(w, "serviceName %q names no Service", name)
	case yStr(svc.obj, "spec", "clusterIP") != "None":
		c.errorf(w, "serviceName %q is not a headless Service (clusterIP: None)", name)
	case yAt(svc.obj, "spec", "publishNotReadyAddresses") != true:
		c.errorf(w, "Service %q must set publishNotReadyAddresses: true", name)
	}
}

// checkContainer checks what every Baton container needs; false when its
// subcommand is unknown (nothing more can be checked).
func (c *k8sChecker) checkContainer(w k8sDoc, ct k8sContainer) bool {
	name := yStr(ct.raw, "name")
	if img := yStr(ct.raw, "image"); img != k8sImage || yStr(ct.raw, "imagePullPolicy") != "IfNotPresent" {
		c.errorf(w, "container %s: image %q (pull policy %q), want %s (IfNotPresent)", name, img, yStr(ct.raw, "imagePullPolicy"), k8sImage)
	}
	if cmd := yStrings(ct.raw, "command"); cmd != nil && !slices.Equal(cmd, []string{"/baton"}) {
		c.errorf(w, "container %s: command %q: the image's entrypoint is /baton", name, cmd)
	}
	if !slices.Contains(k8sSubcommands, ct.sub) {
		c.errorf(w, "container %s: first argument %q is no subcommand of %v", name, ct.sub, k8sSubcommands)
		return false
	}
	c.checkFlags(w, ct)
	c.checkVars(w, ct)
	c.checkSecrets(w, ct)
	c.checkMetrics(w, ct)
	c.checkProbes(w, ct)
	if w.kind() == "StatefulSet" {
		c.checkDataDir(w, ct)
	}
	if ct.settings()["cluster-secret"] == "" {
		c.errorf(w, "container %s: no --cluster-secret (BATON_CLUSTER_SECRET): the coordinators require it", name)
	}
	return true
}

// checkFlags: every --flag argument and BATON_* variable is a real flag of
// the subcommand.
func (c *k8sChecker) checkFlags(w k8sDoc, ct k8sContainer) {
	known := c.flags(ct.sub)
	if _, err := parseFlagArgs(yStrings(ct.raw, "args")[1:]); err != nil {
		c.errorf(w, "baton %s arguments: %v", ct.sub, err)
	}
	for f := range ct.args {
		if !known[f] {
			c.errorf(w, "--%s is no flag of baton %s", f, ct.sub)
		}
	}
	for _, e := range ct.env {
		if f, ok := envFlag(e.name); ok && !known[f] {
			c.errorf(w, "env %s: --%s is no flag of baton %s", e.name, f, ct.sub)
		}
	}
}

// checkVars: every $(VAR) in the arguments is a variable of the container,
// and one in a variable's value is defined before it (else Kubernetes
// leaves the reference as it is).
func (c *k8sChecker) checkVars(w k8sDoc, ct k8sContainer) {
	defined := map[string]bool{}
	for _, e := range ct.env {
		for _, m := range k8sVarRE.FindAllStringSubmatch(e.value, -1) {
			if !defined[m[1]] {
				c.errorf(w, "env %s uses %s before it is defined", e.name, m[0])
			}
		}
		defined[e.name] = true
	}
	for _, a := range yStrings(ct.raw, "args") {
		for _, m := range k8sVarRE.FindAllStringSubmatch(a, -1) {
			if !defined[m[1]] {
				c.errorf(w, "argument %q uses %s, which is no variable of the container", a, m[0])
			}
		}
	}
}

// checkSecrets: every Secret key a variable reads is defined here.
func (c *k8sChecker) checkSecrets(w k8sDoc, ct k8sContainer) {
	for _, e := range ct.env {
		if e.secret == "" {
			continue
		}
		s, ok := c.byKey["Secret/"+e.secret]
		if !ok || (yAt(s.obj, "stringData", e.secretKey) == nil && yAt(s.obj, "data", e.secretKey) == nil) {
			c.errorf(w, "env %s reads key %q of secret %q, which the manifests do not define", e.name, e.secretKey, e.secret)
		}
	}
}

// checkMetrics: /metrics is served on all interfaces (Prometheus scrapes
// the pod IP) at the port named metrics, which the scrape annotation names.
func (c *k8sChecker) checkMetrics(w k8sDoc, ct k8sContainer) {
	port, ok := ct.ports["metrics"]
	if !ok {
		c.errorf(w, "container %s has no port named metrics", yStr(ct.raw, "name"))
		return
	}
	addr := ct.settings()["http-addr"]
	if host, p := hostPort(addr); p != strconv.Itoa(port) || !(host == "" || net.ParseIP(host).IsUnspecified()) {
		c.errorf(w, "--http-addr %q: want 0.0.0.0:%d (the metrics port, on every interface)", addr, port)
	}
	ann := yMap(w.obj, "spec", "template", "metadata", "annotations")
	if p, ok := ann["prometheus.io/port"]; ok && p != strconv.Itoa(port) {
		c.errorf(w, "annotation prometheus.io/port %v, want %d", p, port)
	}
}

// checkProbes: readiness and liveness probes exist, and every probe runs
// `/baton healthcheck` with real flags against the container's metrics port.
func (c *k8sChecker) checkProbes(w k8sDoc, ct k8sContainer) {
	for _, kind := range []string{"readinessProbe", "livenessProbe"} {
		if yMap(ct.raw, kind) == nil {
			c.errorf(w, "container %s has no %s", yStr(ct.raw, "name"), kind)
		}
	}
	want := fmt.Sprintf("http://127.0.0.1:%d/healthz", ct.ports["metrics"])
	for _, kind := range []string{"startupProbe", "readinessProbe", "livenessProbe"} {
		if yMap(ct.raw, kind) == nil {
			continue
		}
		cmd := yStrings(ct.raw, kind, "exec", "command")
		if len(cmd) < 2 || cmd[0] != "/baton" || cmd[1] != "healthcheck" {
			c.errorf(w, "%s command %q: want [/baton healthcheck ...]", kind, cmd)
			continue
		}
		if got := c.healthTarget(w, ct, cmd[2:]); got != want {
			c.errorf(w, "%s: `baton healthcheck` checks %q, want %q", kind, got, want)
		}
	}
}

// healthTarget is the URL `baton healthcheck args` checks in the
// container's environment (healthcheck.go: --url, else --http-addr with an
// unspecified host meaning 127.0.0.1).
func (c *k8sChecker) healthTarget(w k8sDoc, ct k8sContainer, args []string) string {
	known := c.flags("healthcheck")
	set := map[string]string{}
	for _, e := range ct.env {
		if f, ok := envFlag(e.name); ok && known[f] {
			set[f] = e.value
		}
	}
	given, err := parseFlagArgs(args)
	if err != nil {
		c.errorf(w, "baton healthcheck arguments: %v", err)
	}
	for f, v := range given {
		if !known[f] {
			c.errorf(w, "probe: --%s is no flag of baton healthcheck", f)
		}
		set[f] = v
	}
	switch {
	case set["url"] != "":
		return set["url"]
	case set["http-addr"] != "":
		return "http://" + localAddr(set["http-addr"]) + "/healthz"
	}
	return ""
}

// checkDataDir: a StatefulSet keeps --dir on a volume claim template.
func (c *k8sChecker) checkDataDir(w k8sDoc, ct k8sContainer) {
	dir := ct.settings()["dir"]
	var claims []string
	for _, t := range yList(w.obj, "spec", "volumeClaimTemplates") {
		claims = append(claims, yStr(t, "metadata", "name"))
	}
	for _, m := range yList(ct.raw, "volumeMounts") {
		if dir != "" && yStr(m, "mountPath") == dir && slices.Contains(claims, yStr(m, "name")) {
			return
		}
	}
	c.errorf(w, "--dir %q is not the mount path of a volume claim template (%v)", dir, claims)
}

// checkRole checks what ties a container to the others: ids, addresses,
// the coordinators' API addresses (coords).
func (c *k8sChecker) checkRole(w k8sDoc, ct k8sContainer, coords []string) {
	set := ct.settings()
	if _, port := hostPort(set["addr"]); !ct.hasPort(atoi(port)) {
		c.errorf(w, "--addr %q: its port is no container port", set["addr"])
	}
	pods := podNames(w)
	if ct.sub != "proxy" && pods == nil {
		c.errorf(w, "baton %s needs a StatefulSet (stable names and storage)", ct.sub)
		return
	}
	switch ct.sub {
	case "coordinator":
		c.checkCoordinator(w, ct, pods, set)
	case "node":
		c.checkNode(w, ct, pods, set)
	}
	if ct.sub != "coordinator" && !slices.Equal(splitList(set["coordinators"]), coords) {
		c.errorf(w, "--coordinators %q, want %q", set["coordinators"], strings.Join(coords, ","))
	}
}

// atoi is strconv.Atoi without the error (0).
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// checkCoordinator: ids are the pod names; --raft-addr is bindable and
// advertisable in every pod; --peers lists exactly the pods, at their
// names in the governing Service.
func (c *k8sChecker) checkCoordinator(w k8sDoc, ct k8sContainer, pods []string, set map[string]string) {
	if p := yStr(w.obj, "spec", "podManagementPolicy"); p != "Parallel" {
		c.errorf(w, "podManagementPolicy %q: want Parallel (a member is ready only once a quorum elected a leader)", p)
	}
	svc := yStr(w.obj, "spec", "serviceName")
	_, apiPort := hostPort(set["addr"])
	_, raftPort := hostPort(set["raft-addr"])
	for _, pod := range pods {
		if id := ct.expand(set["id"], pod); id != pod {
			c.errorf(w, "--id %q is %q in pod %s: ids must be the pod names", set["id"], id, pod)
		}
		host, _ := hostPort(ct.expand(set["raft-addr"], pod))
		if host != k8sPodIP && host != pod+"."+svc {
			c.errorf(w, "--raft-addr %q is %q in pod %s: Raft binds and advertises it exactly, so it must be the pod's IP or name", set["raft-addr"], host, pod)
		}
	}
	peers, err := parsePeers(set["peers"])
	if err != nil {
		c.errorf(w, "--peers: %v", err)
	}
	var ids []string
	for _, p := range peers {
		ids = append(ids, p.ID)
		want := podAddr(p.ID, svc, raftPort) + "/" + podAddr(p.ID, svc, apiPort)
		if got := p.RaftAddr + "/" + p.APIAddr; got != want {
			c.errorf(w, "--peers: %s=%s, want %s (its name in Service %s)", p.ID, got, want, svc)
		}
	}
	if !slices.Equal(ids, pods) {
		c.errorf(w, "--peers ids %v, want the pod names %v", ids, pods)
	}
}

// podAddr is a StatefulSet pod's stable address: <pod>.<service>:port.
func podAddr(pod, svc, port string) string { return net.JoinHostPort(pod+"."+svc, port) }

// checkNode: ids are the pod names, advertised at their names in the
// governing Service, with synchronous replicas the others can provide.
func (c *k8sChecker) checkNode(w k8sDoc, ct k8sContainer, pods []string, set map[string]string) {
	svc := yStr(w.obj, "spec", "serviceName")
	_, port := hostPort(set["addr"])
	for _, pod := range pods {
		if id := ct.expand(set["node-id"], pod); id != pod {
			c.errorf(w, "--node-id %q is %q in pod %s: ids must be the pod names", set["node-id"], id, pod)
		}
		if adv, want := ct.expand(set["advertise-addr"], pod), podAddr(pod, svc, port); adv != want {
			c.errorf(w, "--advertise-addr %q is %q in pod %s, want %q", set["advertise-addr"], adv, pod, want)
		}
	}
	if n, err := strconv.Atoi(set["sync-replicas"]); err != nil || n < 1 || n >= len(pods) {
		c.errorf(w, "--sync-replicas %q: want 1..%d (acknowledged writes survive a failover)", set["sync-replicas"], len(pods)-1)
	}
}
