package resp

import (
	"bufio"
	"io"
	"strconv"
)

// Writer buffers RESP2 values, commands first of all (arrays of bulk
// strings), until Flush. It is not safe for concurrent use.
type Writer struct {
	bw *bufio.Writer
	// scratch is reused to encode commands.
	scratch []byte
}

// NewWriter returns a Writer over w with a buffer of DefaultBufferSize
// bytes.
func NewWriter(w io.Writer) *Writer { return NewWriterSize(w, DefaultBufferSize) }

// NewWriterSize returns a Writer over w with a buffer of size bytes (at
// least DefaultBufferSize): a stream of large values, such as
// replication's, is written in fewer system calls with a larger one.
func NewWriterSize(w io.Writer, size int) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, max(size, DefaultBufferSize))}
}

// WriteArray buffers an array header of n elements.
func (w *Writer) WriteArray(n int) { w.header('*', int64(n)) }

// WriteBulk buffers a bulk string.
func (w *Writer) WriteBulk(b []byte) {
	w.header('$', int64(len(b)))
	w.bw.Write(b)
	w.bw.WriteString("\r\n")
}

// WriteBulkString buffers a bulk string given as a string (a frame's
// name, without a conversion's copy).
func (w *Writer) WriteBulkString(s string) {
	w.header('$', int64(len(s)))
	w.bw.WriteString(s)
	w.bw.WriteString("\r\n")
}

// WriteInt buffers an integer.
func (w *Writer) WriteInt(n int64) { w.header(':', n) }

// WriteUint buffers an unsigned integer (LSNs, epochs, checksums: RESP
// integers are decimal text, so the whole uint64 range fits).
func (w *Writer) WriteUint(n uint64) {
	var b [24]byte
	out := strconv.AppendUint(append(b[:0], ':'), n, 10)
	w.bw.Write(append(out, '\r', '\n'))
}

// WriteRaw buffers bytes that are already RESP, such as replies a server
// built before it handed its connection over to a stream.
func (w *Writer) WriteRaw(b []byte) { w.bw.Write(b) }

// WriteCommand buffers a command: an array of bulk strings.
func (w *Writer) WriteCommand(args ...string) {
	w.scratch = AppendCommand(w.scratch[:0], args...)
	w.bw.Write(w.scratch)
}

// Flush writes the buffered values to the stream.
func (w *Writer) Flush() error { return w.bw.Flush() }

// header buffers a type byte, a number and CRLF.
func (w *Writer) header(kind byte, n int64) {
	var b [24]byte
	out := append(b[:0], kind)
	out = strconv.AppendInt(out, n, 10)
	w.bw.Write(append(out, '\r', '\n'))
}

// AppendCommand appends args encoded as a command to dst, for callers that
// assemble their own buffers.
func AppendCommand(dst []byte, args ...string) []byte {
	dst = strconv.AppendInt(append(dst, '*'), int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = strconv.AppendInt(append(dst, '$'), int64(len(a)), 10)
		dst = append(append(append(dst, '\r', '\n'), a...), '\r', '\n')
	}
	return dst
}
