package proc

import (
	"strings"
	"sync"
)

// Buffer keeps a child's whole output in memory for a Config.Output (a
// test quoting a process's log in its failure message). It is safe for
// the child's two output streams and a concurrent reader.
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns the output so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
