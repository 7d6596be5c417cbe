package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// archMarker precedes the package picture in docs/ARCHITECTURE.md.
const archMarker = "<!-- package picture: checked by integration/arch_test.go -->"

// Test_Architecture_PictureMatchesGoList: the package picture that opens
// docs/ARCHITECTURE.md names every package of the module once, each with
// exactly its imports within the module, so the picture's closure is what
// `go list -deps` reports. On failure it prints the picture as it should be.
func Test_Architecture_PictureMatchesGoList(t *testing.T) {
	root := moduleRoot(t)
	mod, imports := modulePackages(t, root)
	picture, err := readPicture(filepath.Join(root, "docs", "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := renderPicture(imports)
	if got := renderPicture(picture); got != want {
		t.Fatalf("docs/ARCHITECTURE.md's package picture differs from the code; it should read:\n%s", want)
	}
	for pkg := range imports {
		if got, want := closure(picture, pkg), depsOf(t, root, mod, pkg); !slices.Equal(got, want) {
			t.Errorf("%s: picture closure %v, go list -deps %v", pkg, got, want)
		}
	}
}

// moduleRoot is the folder holding go.mod.
func moduleRoot(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// modulePackages maps every package of the module (path relative to the
// module) to its non-test imports within the module.
func modulePackages(t *testing.T, root string) (string, map[string][]string) {
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var mod string
	pkgs := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
			Module     struct{ Path string }
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		mod = p.Module.Path
		var deps []string
		for _, imp := range p.Imports {
			if rel, ok := strings.CutPrefix(imp, mod+"/"); ok {
				deps = append(deps, rel)
			}
		}
		pkgs[strings.TrimPrefix(p.ImportPath, mod+"/")] = deps
	}
	return mod, pkgs
}

// depsOf is `go list -deps` of pkg, within the module, pkg excluded.
func depsOf(t *testing.T, root, mod, pkg string) []string {
	cmd := exec.Command("go", "list", "-deps", "./"+pkg)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	var deps []string
	for _, line := range strings.Fields(string(out)) {
		if rel, ok := strings.CutPrefix(line, mod+"/"); ok && rel != pkg {
			deps = append(deps, rel)
		}
	}
	slices.Sort(deps)
	return deps
}

// closure is every package reachable from pkg in g, pkg excluded, sorted.
func closure(g map[string][]string, pkg string) []string {
	seen := map[string]bool{}
	var visit func(p string)
	visit = func(p string) {
		for _, d := range g[p] {
			if !seen[d] {
				seen[d] = true
				visit(d)
			}
		}
	}
	visit(pkg)
	var out []string
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// readPicture parses the fenced block after archMarker: one line a package,
// "pkg → dep, dep" (or "pkg" alone when it imports nothing of ours).
func readPicture(path string) (map[string][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	g := map[string][]string{}
	state := 0 // 0 before the marker, 1 before the fence, 2 inside
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case state == 0 && line == archMarker:
			state = 1
		case state == 1 && strings.HasPrefix(line, "```"):
			state = 2
		case state == 2 && strings.HasPrefix(line, "```"):
			return g, nil
		case state == 2 && line != "":
			name, deps, _ := strings.Cut(line, "→")
			name = strings.TrimSpace(name)
			if _, dup := g[name]; dup {
				return nil, fmt.Errorf("%s: package %s listed twice", path, name)
			}
			g[name] = nil
			for _, d := range strings.Split(deps, ",") {
				if d = strings.TrimSpace(d); d != "" {
					g[name] = append(g[name], d)
				}
			}
		}
	}
	return nil, fmt.Errorf("%s: no package picture after %q", path, archMarker)
}

// renderPicture prints g as the picture's lines: packages that others
// build on last, each line "pkg → deps" with deps sorted.
func renderPicture(g map[string][]string) string {
	depth := map[string]int{}
	var height func(p string) int
	height = func(p string) int {
		if h, ok := depth[p]; ok {
			return h
		}
		depth[p] = 0
		h := 0
		for _, d := range g[p] {
			h = max(h, height(d)+1)
		}
		depth[p] = h
		return h
	}
	var names []string
	width := 0
	for p := range g {
		names = append(names, p)
		height(p)
		width = max(width, len(p))
	}
	slices.SortFunc(names, func(a, b string) int {
		if depth[a] != depth[b] {
			return depth[b] - depth[a]
		}
		return strings.Compare(a, b)
	})
	var b strings.Builder
	for _, p := range names {
		deps := slices.Clone(g[p])
		slices.Sort(deps)
		if len(deps) == 0 {
			fmt.Fprintf(&b, "%s\n", p)
			continue
		}
		fmt.Fprintf(&b, "%-*s → %s\n", width, p, strings.Join(deps, ", "))
	}
	return b.String()
}

// Test_Architecture_ProxyUsesOnlyTheCommandTable: the proxy depends on the
// datastore's command table and on nothing else of node/.
func Test_Architecture_ProxyUsesOnlyTheCommandTable(t *testing.T) {
	root := moduleRoot(t)
	mod, _ := modulePackages(t, root)
	for _, dep := range depsOf(t, root, mod, "proxy") {
		if (dep == "node" || strings.HasPrefix(dep, "node/")) && dep != "node/command" {
			t.Errorf("proxy depends on %s; it may use node/command only", dep)
		}
	}
}

// Test_Architecture_NoPackageHoldsAThird: no package holds more than a
// third of the module's non-test Go lines, so no package becomes the place
// everything lands in again.
func Test_Architecture_NoPackageHoldsAThird(t *testing.T) {
	root := moduleRoot(t)
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}} {{.Dir}} {{join .GoFiles \",\"}}", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := map[string]int{}
	total := 0
	for _, row := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(row)
		if len(f) < 3 {
			continue
		}
		for _, name := range strings.Split(f[2], ",") {
			b, err := os.ReadFile(filepath.Join(f[1], name))
			if err != nil {
				t.Fatal(err)
			}
			n := strings.Count(string(b), "\n")
			lines[f[0]] += n
			total += n
		}
	}
	for pkg, n := range lines {
		t.Logf("%6d %s", n, pkg)
		if 3*n > total {
			t.Errorf("%s holds %d of %d non-test lines, more than a third", pkg, n, total)
		}
	}
}
