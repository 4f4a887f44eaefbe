package model

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/caaprobe/caaprobe/"

// imports reads the module's package graph from the source (non-test
// files only): package path relative to the module → its module imports.
func imports(t *testing.T) map[string][]string { t.Helper(); return importGraph(t, false) }

// importGraph is imports, with the test files' imports too when tests.
func importGraph(t *testing.T, tests bool) map[string][]string {
	t.Helper()
	root := filepath.Join("..", "..")
	graph := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || (!tests && strings.HasSuffix(path, "_test.go")) {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		if _, ok := graph[pkg]; !ok {
			graph[pkg] = nil
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if dep, ok := strings.CutPrefix(p, module); ok && !slices.Contains(graph[pkg], dep) {
				graph[pkg] = append(graph[pkg], dep)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(graph) < 20 {
		t.Fatalf("only %d packages found: the walk misses the module", len(graph))
	}
	return graph
}

// reach is every package pkg depends on, directly or not.
func reach(graph map[string][]string, pkg string) map[string]bool {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		for _, d := range graph[p] {
			if !seen[d] {
				seen[d] = true
				walk(d)
			}
		}
	}
	walk(pkg)
	return seen
}

// TestModelIsALeaf: the model imports no package of the project, so every
// stage can use it without depending on another stage.
func TestModelIsALeaf(t *testing.T) {
	g := imports(t)
	if deps := g["probes/model"]; len(deps) > 0 {
		t.Errorf("probes/model imports %v; it must import no caaprobe package", deps)
	}
}

// TestEngineLinksNoRenderer: the data flows one way (bytes → discover →
// probe and judge → predict → report), so nothing before the report stage
// reaches a renderer, even through another package.
func TestEngineLinksNoRenderer(t *testing.T) {
	g := imports(t)
	engine := []string{"probes/catalog", "probes/wire", "probes/judge", "probes/model", "probes/transport", "probes/discovery", "probes/check",
		"probes/predict", "probes/resolver", "probes/dnssec", "probes/internal/caa", "probes/input", "probes/lru"}
	renderers := []string{"probes/report", "probes/evidence", "probes/runs", "probes/internal/summary", "probes/render"}
	for _, e := range engine {
		if _, ok := g[e]; !ok {
			t.Errorf("engine package %s not found", e)
			continue
		}
		for dep := range reach(g, e) {
			for _, r := range renderers {
				if dep == r || strings.HasPrefix(dep, r+"/") {
					t.Errorf("%s reaches the renderer %s", e, dep)
				}
			}
		}
	}
}

// TestReachControl: reach follows indirect imports, so the test above can
// fail on an engine package that reaches a renderer through another one.
func TestReachControl(t *testing.T) {
	g := map[string][]string{"probes/check": {"probes/predict"}, "probes/predict": {"probes/report"}}
	if !reach(g, "probes/check")["probes/report"] {
		t.Error("an indirect import is not seen")
	}
}

// TestInternalHoldsWhatNoOneOutsideNeeds: a package under probes/ that
// nothing outside probes/ imports (the command, the lab, their tests)
// is an implementation detail and lives under an internal/ folder, so it
// is not API. The resolver models are the exception: probes/predict's
// folders are where a model is added (docs/architecture.md).
func TestInternalHoldsWhatNoOneOutsideNeeds(t *testing.T) {
	g := importGraph(t, true)
	used := map[string]bool{}
	for pkg, deps := range g {
		if !strings.HasPrefix(pkg, "probes") {
			for _, d := range deps {
				used[d] = true
			}
		}
	}
	internal := 0
	for pkg := range g {
		switch {
		case strings.Contains("/"+pkg+"/", "/internal/"):
			internal++
		case strings.HasPrefix(pkg, "probes/") && !used[pkg] && pkg != "probes/predict" && !strings.HasPrefix(pkg, "probes/predict/"):
			t.Errorf("%s: nothing outside probes/ imports it; move it under an internal/ folder", pkg)
		}
	}
	if internal == 0 {
		t.Error("no internal package found: the walk misses them")
	}
}
