package dockerapi

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// engine serves h on a unix socket in a temp dir, as the Docker Engine
// does, and returns a client of it.
func engine(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Second}
	go srv.Serve(ln)
	c := New(sock)
	t.Cleanup(func() { c.Close(); srv.Close() })
	return c
}

// frame is one multiplexed log frame of stream s.
func frame(s byte, payload string) []byte {
	b := []byte{s, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[4:], uint32(len(payload)))
	return append(b, payload...)
}

func Test_Docker_ProjectServicesSkipsOneOffs(t *testing.T) {
	var query string
	c := engine(t, func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.Query().Get("filters")
		w.Write([]byte(`[{"Id":"aaa","Labels":{"com.docker.compose.service":"n1","com.docker.compose.oneoff":"False"}},
			{"Id":"bbb","Labels":{"com.docker.compose.service":"chaos","com.docker.compose.oneoff":"True"}},
			{"Id":"ccc","Labels":{"com.docker.compose.service":"c1"}}]`))
	})
	got, err := c.ProjectServices(context.Background(), "p1")
	if err != nil || len(got) != 2 || got["n1"] != "aaa" || got["c1"] != "ccc" {
		t.Fatalf("services %v, %v; want n1 and c1 without the one-off chaos container", got, err)
	}
	if !strings.Contains(query, LabelProject+"=p1") {
		t.Errorf("filters %q do not select the project", query)
	}
}

func Test_Docker_StatusCodes(t *testing.T) {
	var paths []string
	c := engine(t, func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		switch {
		case strings.HasSuffix(r.URL.Path, "/start"):
			w.WriteHeader(http.StatusNotModified) // already running
		case strings.Contains(r.URL.Path, "/gone/"):
			http.Error(w, `{"message":"No such container: gone"}`, http.StatusNotFound)
		case strings.HasSuffix(r.URL.Path, "/pause"):
			http.Error(w, `{"message":"container is not running"}`, http.StatusConflict)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	ctx := context.Background()
	if err := c.Start(ctx, "x"); err != nil {
		t.Errorf("start of a running container: %v, want nil", err)
	}
	if _, err := c.Inspect(ctx, "gone"); !errors.Is(err, ErrNotFound) {
		t.Errorf("inspect of a missing container: %v, want ErrNotFound", err)
	}
	if err := c.Pause(ctx, "x"); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("pause refused: %v, want the engine's message", err)
	}
	if err := c.Kill(ctx, "x", "KILL"); err != nil {
		t.Errorf("kill: %v", err)
	}
	if want := "POST /containers/x/kill?signal=KILL"; paths[len(paths)-1] != want {
		t.Errorf("last request %q, want %q", paths[len(paths)-1], want)
	}
}

func Test_Docker_LogsDemultiplexed(t *testing.T) {
	c := engine(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(append(append(frame(1, "listening\n"), frame(2, "warn: x\n")...), frame(1, "")...))
	})
	var out bytes.Buffer
	if err := c.Logs(context.Background(), "x", time.Now(), &out); err != nil || out.String() != "listening\nwarn: x\n" {
		t.Fatalf("logs %q, %v", out.String(), err)
	}
	if err := demux(bytes.NewReader(frame(1, "cut short")[:12]), &out); err == nil {
		t.Error("a truncated frame was accepted")
	}
}
