package resp

import (
	"fmt"
	"io"
	"strconv"
)

// ReadRaw appends the next value's raw bytes, exactly as received, to dst
// (a forwarding proxy passes replies through without re-encoding them). It
// checks the value as ReadValue does but decodes nothing: the bytes go
// from the read buffer straight to dst, so reading into a reused dst
// allocates nothing.
func (r *Reader) ReadRaw(dst []byte) ([]byte, error) {
	return r.raw(dst, len(dst), 0)
}

// raw appends one value at nesting depth to dst; start is where the
// outermost value began in dst (for MaxRaw).
func (r *Reader) raw(dst []byte, start, depth int) ([]byte, error) {
	line, err := r.readLine()
	if err != nil {
		return dst, err
	}
	if Kind(line[0]) == BulkString {
		return r.rawBulk(dst, line, start)
	}
	dst = append(append(dst, line...), '\r', '\n')
	switch Kind(line[0]) {
	case SimpleString, ErrorReply:
	case Integer:
		if _, err := strconv.ParseInt(string(line[1:]), 10, 64); err != nil {
			return dst, fmt.Errorf("%w: bad integer %q", ErrProtocol, line)
		}
	case Array:
		return r.rawArray(dst, line, start, depth)
	default:
		return dst, fmt.Errorf("%w: unexpected type byte %q", ErrProtocol, line[0])
	}
	return dst, r.checkRaw(dst, start)
}

// checkRaw enforces MaxRaw on the value begun at dst[start].
func (r *Reader) checkRaw(dst []byte, start int) error {
	if r.MaxRaw > 0 && len(dst)-start > r.MaxRaw {
		return fmt.Errorf("%w: value larger than %d bytes", ErrProtocol, r.MaxRaw)
	}
	return nil
}

// rawBulk appends a bulk string, its header line and its body, growing dst
// once for a small bulk and chunk by chunk for a large one, as its bytes
// arrive.
func (r *Reader) rawBulk(dst, line []byte, start int) ([]byte, error) {
	n, err := length(line, r.MaxBulk)
	if err != nil {
		return dst, err
	}
	if n < 0 {
		return append(append(dst, line...), '\r', '\n'), r.checkRaw(dst, start)
	}
	if r.MaxRaw > 0 && len(dst)-start+len(line)+2+n+2 > r.MaxRaw {
		return dst, fmt.Errorf("%w: value larger than %d bytes", ErrProtocol, r.MaxRaw)
	}
	dst = grow(dst, len(line)+2+min(n+2, bulkChunk))
	dst = append(append(dst, line...), '\r', '\n')
	for left := n + 2; left > 0; {
		chunk := min(left, bulkChunk)
		at := len(dst)
		dst = grow(dst, chunk)[:at+chunk]
		if _, err := io.ReadFull(r.br, dst[at:]); err != nil {
			return dst[:at], unexpectedEOF(err)
		}
		left -= chunk
	}
	if dst[len(dst)-2] != '\r' || dst[len(dst)-1] != '\n' {
		return dst, fmt.Errorf("%w: bulk of %d bytes not followed by CRLF", ErrProtocol, n)
	}
	return dst, nil
}

// rawArray appends an array's elements after its header line.
func (r *Reader) rawArray(dst, line []byte, start, depth int) ([]byte, error) {
	n, err := length(line, r.MaxArray)
	if err != nil || n < 0 {
		return dst, err
	}
	if depth >= r.MaxDepth {
		return dst, fmt.Errorf("%w: arrays nested deeper than %d", ErrProtocol, r.MaxDepth)
	}
	for range n {
		if dst, err = r.raw(dst, start, depth+1); err != nil {
			return dst, unexpectedEOF(err)
		}
	}
	return dst, nil
}
