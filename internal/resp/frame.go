package resp

import (
	"fmt"
	"io"
	"slices"
)

// Frame is one command-shaped array read by Reader.ReadFrame: its elements
// are bulk strings and integers (an integer as its decimal text). Args
// alias a buffer the next ReadFrame into the same Frame reuses, so a
// stream of frames — a replication stream, a command pipeline — costs no
// allocation once the buffer has grown to the largest frame.
type Frame struct {
	// Args are the frame's elements, valid until the next ReadFrame.
	Args [][]byte
	buf  []byte
	ends []int
}

// ReadFrame reads the next value into f: an array of 1 to r.MaxArray bulk
// strings and integers. Any other value is an ErrProtocol, and so is a
// bulk longer than r.MaxBulk; a bulk is buffered as its bytes arrive, so a
// peer that declares a huge one and sends less costs only what it sent.
func (r *Reader) ReadFrame(f *Frame) error {
	line, err := r.readLine()
	if err != nil {
		return err
	}
	if line[0] != byte(Array) {
		return fmt.Errorf("%w: frame is not an array: %q", ErrProtocol, Sanitize(string(line), 64))
	}
	n, err := length(line, r.MaxArray)
	if err != nil {
		return err
	}
	if n < 1 {
		return fmt.Errorf("%w: empty frame %q", ErrProtocol, line)
	}
	f.buf, f.ends = f.buf[:0], f.ends[:0]
	for range n {
		if f.buf, err = r.appendElem(f.buf); err != nil {
			return unexpectedEOF(err)
		}
		f.ends = append(f.ends, len(f.buf))
	}
	f.Args = f.Args[:0]
	start := 0
	for _, end := range f.ends {
		f.Args = append(f.Args, f.buf[start:end:end])
		start = end
	}
	return nil
}

// appendElem appends a frame element's bytes to dst.
func (r *Reader) appendElem(dst []byte) ([]byte, error) {
	line, err := r.readLine()
	if err != nil {
		return dst, err
	}
	switch Kind(line[0]) {
	case Integer:
		return append(dst, line[1:]...), nil
	case BulkString:
		n, err := length(line, r.MaxBulk)
		if err != nil {
			return dst, err
		}
		if n < 0 {
			return dst, fmt.Errorf("%w: null bulk in a frame", ErrProtocol)
		}
		return r.appendBulk(dst, n)
	}
	return dst, fmt.Errorf("%w: bad frame element %q", ErrProtocol, Sanitize(string(line), 64))
}

// appendBulk reads a bulk body of n bytes and its CRLF, and appends the
// body to dst. dst grows at most a chunk ahead of the bytes received: the
// declared length was bounded by the caller, but only the peer's bytes
// are paid for in memory.
func (r *Reader) appendBulk(dst []byte, n int) ([]byte, error) {
	end := len(dst) + n + 2
	for len(dst) < end {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, min(end-len(dst), bulkChunk))
		}
		k := min(end, cap(dst))
		if _, err := io.ReadFull(r.br, dst[len(dst):k]); err != nil {
			return dst, unexpectedEOF(err)
		}
		dst = dst[:k]
	}
	if dst[end-2] != '\r' || dst[end-1] != '\n' {
		return dst, fmt.Errorf("%w: bulk of %d bytes not followed by CRLF", ErrProtocol, n)
	}
	return dst[:end-2], nil
}
