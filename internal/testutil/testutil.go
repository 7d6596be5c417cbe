// Package testutil holds test helpers that more than one of Baton's
// packages use (data-directory copies, fuzz seed corpora, loggers to t.Log,
// free loopback addresses, servers on loopback). It is imported
// by tests only.
package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// CopyDir copies the regular files of src (a stopped node's data
// directory, say) into a new temp dir of t and returns its path.
func CopyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range ents {
		if !de.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, de.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// WriteFuzzSeeds writes seeds (name → input) as the `go test` fuzz corpus
// of fuzzName under testdata/fuzz in the current package.
func WriteFuzzSeeds(t testing.TB, fuzzName string, seeds map[string][]byte) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", fuzzName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seeds {
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
