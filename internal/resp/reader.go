package resp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ErrProtocol wraps every malformed-stream error of a Reader: a bad type
// byte, a bad or out-of-bounds length, a line without CRLF.
var ErrProtocol = errors.New("resp: protocol error")

// Default bounds of a Reader; see Reader's fields.
const (
	DefaultMaxBulk  = 512 << 20
	DefaultMaxArray = 1 << 20
	DefaultMaxDepth = 16
	// DefaultBufferSize is the buffer of a Reader or Writer made by
	// NewReader or NewWriter.
	DefaultBufferSize = 64 << 10
	// maxLine bounds a header, simple string or error line.
	maxLine = DefaultBufferSize
	// bulkChunk: a declared bulk length above it is read chunk by chunk,
	// so a peer that announces a huge bulk and sends less costs only the
	// bytes it sent.
	bulkChunk = 64 << 10
)

// Reader reads RESP2 values from a stream. It is not safe for concurrent
// use.
type Reader struct {
	br *bufio.Reader
	// MaxBulk bounds a bulk string's declared length, MaxArray an array's
	// element count, MaxDepth the nesting of arrays; a value beyond them
	// is an ErrProtocol.
	MaxBulk, MaxArray, MaxDepth int
	// MaxRaw, when positive, bounds the total bytes of one value read by
	// ReadRaw (a forwarding proxy bounds what one reply may hold in
	// memory); beyond it is an ErrProtocol.
	MaxRaw int
}

// NewReader returns a Reader over r with the default bounds and a buffer
// of DefaultBufferSize bytes.
func NewReader(r io.Reader) *Reader { return NewReaderSize(r, DefaultBufferSize) }

// NewReaderSize returns a Reader over r with the default bounds and a
// buffer of size bytes (at least DefaultBufferSize): a stream of large
// values, such as replication's, is read in fewer system calls with a
// larger one. Lines are bounded to DefaultBufferSize bytes whatever size.
func NewReaderSize(r io.Reader, size int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, max(size, DefaultBufferSize)),
		MaxBulk: DefaultMaxBulk, MaxArray: DefaultMaxArray, MaxDepth: DefaultMaxDepth}
}

// Buffered is the number of bytes read from the stream but not yet
// decoded.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// ReadValue reads and decodes the next value. An error reply is a Value of
// Kind ErrorReply, not an error; the error is for I/O and ErrProtocol.
func (r *Reader) ReadValue() (Value, error) {
	return r.read(0)
}

// read decodes one value at nesting depth.
func (r *Reader) read(depth int) (Value, error) {
	line, err := r.readLine()
	if err != nil {
		return Value{}, err
	}
	v := Value{Kind: Kind(line[0])}
	switch v.Kind {
	case SimpleString, ErrorReply:
		v.Str = string(line[1:])
		return v, nil
	case Integer:
		v.Int, err = strconv.ParseInt(string(line[1:]), 10, 64)
		if err != nil {
			return Value{}, fmt.Errorf("%w: bad integer %q", ErrProtocol, line)
		}
		return v, nil
	case BulkString:
		return r.readBulk(line)
	case Array:
		return r.readArray(line, depth)
	}
	return Value{}, fmt.Errorf("%w: unexpected type byte %q", ErrProtocol, line[0])
}

// readLine reads one CRLF-terminated, non-empty line without its CRLF; the
// slice is valid until the next read.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%w: line longer than %d bytes", ErrProtocol, maxLine)
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(line) > maxLine {
		return nil, fmt.Errorf("%w: line longer than %d bytes", ErrProtocol, maxLine)
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("%w: bad line %q", ErrProtocol, Sanitize(string(line), 64))
	}
	return line[:len(line)-2], nil
}

// length parses the count of a bulk or array header: -1 (null) up to max.
func length(line []byte, max int) (int, error) {
	n, err := strconv.Atoi(string(line[1:]))
	if err != nil || n < -1 || n > max {
		return 0, fmt.Errorf("%w: bad length %q (at most %d)", ErrProtocol, line, max)
	}
	return n, nil
}

// readBulk reads a bulk string's body after its header line.
func (r *Reader) readBulk(line []byte) (Value, error) {
	n, err := length(line, r.MaxBulk)
	if err != nil {
		return Value{}, err
	}
	if n < 0 {
		return Value{Kind: BulkString, Null: true}, nil
	}
	body, err := r.appendBulk(nil, n)
	if err != nil {
		return Value{}, err
	}
	return Value{Kind: BulkString, Str: string(body)}, nil
}

// readArray reads an array's elements after its header line.
func (r *Reader) readArray(line []byte, depth int) (Value, error) {
	n, err := length(line, r.MaxArray)
	if err != nil {
		return Value{}, err
	}
	if n < 0 {
		return Value{Kind: Array, Null: true}, nil
	}
	if depth >= r.MaxDepth {
		return Value{}, fmt.Errorf("%w: arrays nested deeper than %d", ErrProtocol, r.MaxDepth)
	}
	v := Value{Kind: Array, Elems: make([]Value, 0, min(n, 1024))}
	for range n {
		e, err := r.read(depth + 1)
		if err != nil {
			return Value{}, unexpectedEOF(err)
		}
		v.Elems = append(v.Elems, e)
	}
	return v, nil
}

// unexpectedEOF turns an EOF inside a value into io.ErrUnexpectedEOF: the
// stream ended in the middle of a frame.
func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
