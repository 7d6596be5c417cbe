package resp

import (
	"bufio"
	"io"
	"strconv"
)

// Writer buffers RESP2 values, commands first of all (arrays of bulk
// strings), until Flush. It is not safe for concurrent use.
type Writer struct {
	w io.Writer
	// bw is allocated at the first write: a Conn whose owner writes its
	// own buffers (the proxy's backends) never pays for it.
	bw *bufio.Writer
	// size is bw's size.
	size int
	// scratch is reused to encode commands.
	scratch []byte
}

// NewWriter returns a Writer over w with a buffer of DefaultBufferSize
// bytes, allocated at the first write.
func NewWriter(w io.Writer) *Writer { return NewWriterSize(w, DefaultBufferSize) }

// NewWriterSize returns a Writer over w with a buffer of size bytes (at
// least DefaultBufferSize), allocated at the first write: a stream of large
// values, such as replication's, is written in fewer system calls with a
// larger one.
func NewWriterSize(w io.Writer, size int) *Writer {
	return &Writer{w: w, size: max(size, DefaultBufferSize)}
}

// buf returns the write buffer, allocating it on first use.
func (w *Writer) buf() *bufio.Writer {
	if w.bw == nil {
		w.bw = bufio.NewWriterSize(w.w, w.size)
	}
	return w.bw
}

// WriteArray buffers an array header of n elements.
func (w *Writer) WriteArray(n int) { w.header('*', int64(n)) }

// WriteBulk buffers a bulk string.
func (w *Writer) WriteBulk(b []byte) {
	w.header('$', int64(len(b)))
	bw := w.buf()
	bw.Write(b)
	bw.WriteString("\r\n")
}

// WriteBulkString buffers a bulk string given as a string (a frame's
// name, without a conversion's copy).
func (w *Writer) WriteBulkString(s string) {
	w.header('$', int64(len(s)))
	w.buf().WriteString(s)
	w.buf().WriteString("\r\n")
}

// WriteInt buffers an integer.
func (w *Writer) WriteInt(n int64) { w.header(':', n) }

// WriteUint buffers an unsigned integer (LSNs, epochs, checksums: RESP
// integers are decimal text, so the whole uint64 range fits).
func (w *Writer) WriteUint(n uint64) {
	var b [24]byte
	out := strconv.AppendUint(append(b[:0], ':'), n, 10)
	w.buf().Write(append(out, '\r', '\n'))
}

// WriteRaw buffers bytes that are already RESP, such as replies a server
// built before it handed its connection over to a stream.
func (w *Writer) WriteRaw(b []byte) { w.buf().Write(b) }

// WriteCommand buffers a command: an array of bulk strings.
func (w *Writer) WriteCommand(args ...string) {
	w.scratch = AppendCommand(w.scratch[:0], args...)
	w.buf().Write(w.scratch)
}

// Flush writes the buffered values to the stream.
func (w *Writer) Flush() error {
	if w.bw == nil {
		return nil
	}
	return w.bw.Flush()
}

// header buffers a type byte, a number and CRLF.
func (w *Writer) header(kind byte, n int64) {
	var b [24]byte
	out := append(b[:0], kind)
	out = strconv.AppendInt(out, n, 10)
	w.buf().Write(append(out, '\r', '\n'))
}

// AppendCommand appends args encoded as a command to dst, for callers that
// assemble their own buffers (AppendCommandBytes for byte arguments).
func AppendCommand(dst []byte, args ...string) []byte { return appendCommand(dst, args) }

// AppendCommandBytes is AppendCommand for byte-slice arguments (a command
// as a RESP server parsed it).
func AppendCommandBytes(dst []byte, args ...[]byte) []byte { return appendCommand(dst, args) }

// appendCommand encodes args as an array of bulk strings, growing dst at
// most once.
func appendCommand[T string | []byte](dst []byte, args []T) []byte {
	// A header is at most 1+20+2 bytes.
	need := 23 + 25*len(args)
	for _, a := range args {
		need += len(a)
	}
	dst = grow(dst, need)
	dst = strconv.AppendInt(append(dst, '*'), int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = strconv.AppendInt(append(dst, '$'), int64(len(a)), 10)
		dst = append(append(append(dst, '\r', '\n'), a...), '\r', '\n')
	}
	return dst
}

// grow makes room for n more bytes in dst with one allocation at most (so
// also under the race detector, unlike slices.Grow), at least doubling its
// capacity so repeated appends stay linear.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	nb := make([]byte, len(dst), max(len(dst)+n, 2*cap(dst)))
	copy(nb, dst)
	return nb
}
