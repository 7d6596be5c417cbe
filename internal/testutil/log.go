package testutil

import (
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// Logger returns an Info-level logger whose lines go to t.Log (see
// LogWriter).
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(LogWriter(t), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// LogWriter returns a writer that sends each write to t.Log until the
// cleanups registered after this call run: a component's stray goroutine
// (Raft's) that logs after its Close returned is dropped instead of
// panicking the testing package.
func LogWriter(t testing.TB) io.Writer {
	w := &logWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return w
}

// logWriter is LogWriter's writer.
type logWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

// Write implements io.Writer.
func (w *logWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}
