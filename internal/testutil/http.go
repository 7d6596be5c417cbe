package testutil

import (
	"io"
	"net/http"
	"testing"
)

// HTTPGet GETs url, expects status want and returns the body (the tests of
// /metrics and /healthz in every package use it).
func HTTPGet(t testing.TB, url string, want int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != want {
		t.Fatalf("GET %s: %s (want %d), %v; body %s", url, resp.Status, want, err, b)
	}
	return string(b)
}
