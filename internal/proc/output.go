package proc

import (
	"bytes"
	"io"
	"os"
	"strings"
	"sync"
)

// tailBytes bounds the output a Process keeps for error messages.
const tailBytes = 4096

// sink receives a child's output: it appends it to the log file, copies
// it to the caller's writer and keeps the last tailBytes for error
// messages. A write never fails, so a slow or closed log never blocks the
// child. Without a caller's writer the child writes its stderr straight
// to the log file (see Start), and the tail is read back from there.
type sink struct {
	mu      sync.Mutex
	file    *os.File  // the log file, nil once closed
	logPath string    // the log file's path, "" without one
	out     io.Writer // the caller's writer, may be nil
	tail    []byte
}

// direct reports whether the child writes to the log file itself: it
// then keeps its own descriptor and its shutdown logs even if this
// process died.
func (s *sink) direct() bool { return s.out == nil && s.file != nil }

// Write implements io.Writer.
func (s *sink) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file != nil {
		s.file.Write(b)
	}
	if s.out != nil {
		s.out.Write(b)
	}
	s.tail = append(s.tail, b...)
	if len(s.tail) > tailBytes {
		s.tail = append([]byte(nil), s.tail[len(s.tail)-tailBytes:]...)
	}
	return len(b), nil
}

// closeFile closes the log file once the child's output is drained.
func (s *sink) closeFile() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file != nil {
		s.file.Close()
		s.file = nil
	}
}

// lastLines returns the last n lines of the kept output joined by " | ",
// one line for an error message.
func (s *sink) lastLines(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tail := s.tail
	if s.out == nil && s.logPath != "" {
		tail = readTail(s.logPath)
	}
	text := strings.TrimRight(string(tail), "\n")
	if text == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// readTail returns the last tailBytes of the file at path (nil if it
// cannot be read: the tail only decorates an error message).
func readTail(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > tailBytes {
		f.Seek(st.Size()-tailBytes, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return b
}

// maxLine bounds the first line: a child printing more without a newline
// has not printed an address line.
const maxLine = 4096

// firstLine passes stdout on to next and sends its first line (without
// the newline) on found. Only os/exec's stdout copier writes to it.
type firstLine struct {
	next  io.Writer
	found chan<- string // buffered, receives one line
	buf   []byte
	sent  bool
}

// Write implements io.Writer.
func (w *firstLine) Write(b []byte) (int, error) {
	if !w.sent {
		w.buf = append(w.buf, b...)
		if i := bytes.IndexByte(w.buf, '\n'); i >= 0 || len(w.buf) > maxLine {
			if i < 0 {
				i = len(w.buf)
			}
			w.found <- strings.TrimRight(string(w.buf[:i]), "\r")
			w.sent, w.buf = true, nil
		}
	}
	return w.next.Write(b)
}
