package node

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
)

// The replication link speaks RESP both ways. The replica opens it as a
// client (AUTH, BATON.HANDSHAKE, BATON.PSYNC); once the primary answered
// +CONTINUE or +FULL, the primary sends frames, each a RESP array:
//
//	SNAP <bytes>                    a chunk of a full sync's snapshot body
//	SNAPEND <crc32c>                end of the snapshot (checksum of the body)
//	LOG <epoch> <ack> <records>     journal records, raw (node/journal format)
//	PING <epoch> <lsn>              heartbeat while idle
//	GETACK                          ack now (WAIT)
//
// and the replica answers with REPLCONF ACK <lsn> every 100 ms, after a
// LOG frame whose ack flag is 1, and on GETACK. Every frame carries the
// primary's epoch (or follows a handshake that did): a replica applies
// nothing from a primary whose epoch is older than the newest it has seen.
const (
	frameSnap    = "SNAP"
	frameSnapEnd = "SNAPEND"
	frameLog     = "LOG"
	framePing    = "PING"
	frameGetAck  = "GETACK"
)

// errProtocol wraps malformed replication frames.
var errProtocol = errors.New("replication protocol error")

// maxFrameBulk bounds one bulk string of a frame read from a primary.
const maxFrameBulk = 512 << 20

// replConn is one end of a replication link: a buffered RESP reader and
// writer over a TCP connection.
type replConn struct {
	nc net.Conn
	br *bufio.Reader
	bw *bufio.Writer
	// args is reused frame to frame; its elements alias buf.
	args [][]byte
	buf  []byte
}

// newReplConn wraps nc.
func newReplConn(nc net.Conn) *replConn {
	return &replConn{nc: nc, br: bufio.NewReaderSize(nc, 1<<20), bw: bufio.NewWriterSize(nc, 1<<20)}
}

// writeCommand buffers a RESP array of bulk strings.
func (rc *replConn) writeCommand(args ...[]byte) {
	rc.bw.WriteString("*")
	rc.bw.WriteString(strconv.Itoa(len(args)))
	rc.bw.WriteString("\r\n")
	for _, a := range args {
		rc.bw.WriteString("$")
		rc.bw.WriteString(strconv.Itoa(len(a)))
		rc.bw.WriteString("\r\n")
		rc.bw.Write(a)
		rc.bw.WriteString("\r\n")
	}
}

// command writes one command, flushes, and reads its reply.
func (rc *replConn) command(args ...string) (reply, error) {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	rc.writeCommand(b...)
	if err := rc.bw.Flush(); err != nil {
		return reply{}, err
	}
	return rc.readReply()
}

// reply is a decoded RESP reply: a status, error, integer, bulk (str) or an
// array of bulks (elems).
type reply struct {
	kind  byte // '+', '-', ':', '$', '*'
	str   string
	elems []string
}

// readLine reads one CRLF-terminated line without the CRLF.
func (rc *replConn) readLine() (string, error) {
	line, err := rc.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", fmt.Errorf("%w: line too long", errProtocol)
		}
		return "", err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return "", fmt.Errorf("%w: bad line %q", errProtocol, line)
	}
	return string(line[:len(line)-2]), nil
}

// readReply reads a reply to a handshake command (bulk elements of arrays
// are read as strings; nested arrays are not used by the handshake).
func (rc *replConn) readReply() (reply, error) {
	line, err := rc.readLine()
	if err != nil {
		return reply{}, err
	}
	r := reply{kind: line[0], str: line[1:]}
	switch r.kind {
	case '+', '-', ':':
		return r, nil
	case '$':
		b, err := rc.readBulk(line)
		r.str = string(b)
		return r, err
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 || n > 64 {
			return r, fmt.Errorf("%w: bad array header %q", errProtocol, line)
		}
		for i := 0; i < n; i++ {
			e, err := rc.readReply()
			if err != nil {
				return r, err
			}
			r.elems = append(r.elems, e.str)
		}
		return r, nil
	}
	return r, fmt.Errorf("%w: unexpected reply %q", errProtocol, line)
}

// readBulk reads the body of a bulk whose header line is given, into a
// fresh slice.
func (rc *replConn) readBulk(header string) ([]byte, error) {
	n, err := strconv.Atoi(header[1:])
	if err != nil || n < -1 || n > maxFrameBulk {
		return nil, fmt.Errorf("%w: bad bulk header %q", errProtocol, header)
	}
	if n < 0 {
		return nil, nil
	}
	b := make([]byte, n+2)
	if _, err := io.ReadFull(rc.br, b); err != nil {
		return nil, err
	}
	return b[:n], nil
}

// readFrame reads one frame: an array of bulk strings and integers (an
// integer element is returned as its decimal text). The returned slices
// alias an internal buffer valid until the next readFrame.
func (rc *replConn) readFrame() ([][]byte, error) {
	line, err := rc.readLine()
	if err != nil {
		return nil, err
	}
	if line[0] != '*' {
		return nil, fmt.Errorf("%w: frame is not an array: %q", errProtocol, line)
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 1 || n > 8 {
		return nil, fmt.Errorf("%w: bad frame header %q", errProtocol, line)
	}
	rc.buf = rc.buf[:0]
	var offs [9]int
	for i := 0; i < n; i++ {
		h, err := rc.readLine()
		if err != nil {
			return nil, err
		}
		switch h[0] {
		case ':':
			rc.buf = append(rc.buf, h[1:]...)
		case '$':
			size, err := strconv.Atoi(h[1:])
			if err != nil || size < 0 || size > maxFrameBulk {
				return nil, fmt.Errorf("%w: bad bulk header %q", errProtocol, h)
			}
			start := len(rc.buf)
			rc.buf = slices.Grow(rc.buf, size+2)[:start+size+2]
			if _, err := io.ReadFull(rc.br, rc.buf[start:]); err != nil {
				return nil, err
			}
			rc.buf = rc.buf[:start+size]
		default:
			return nil, fmt.Errorf("%w: bad frame element %q", errProtocol, h)
		}
		offs[i+1] = len(rc.buf)
	}
	rc.args = rc.args[:0]
	for i := 0; i < n; i++ {
		rc.args = append(rc.args, rc.buf[offs[i]:offs[i+1]])
	}
	return rc.args, nil
}

// frameUint parses a frame's integer element.
func frameUint(b []byte) (uint64, error) {
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: bad integer %q", errProtocol, b)
	}
	return n, nil
}

// writeLogFrame buffers a LOG frame: the primary's epoch, whether the
// replica must ack at once, and raw journal records.
func (rc *replConn) writeLogFrame(epoch uint64, ack bool, records []byte) {
	rc.bw.WriteString("*4\r\n$3\r\nLOG\r\n:")
	rc.bw.WriteString(strconv.FormatUint(epoch, 10))
	if ack {
		rc.bw.WriteString("\r\n:1\r\n$")
	} else {
		rc.bw.WriteString("\r\n:0\r\n$")
	}
	rc.bw.WriteString(strconv.Itoa(len(records)))
	rc.bw.WriteString("\r\n")
	rc.bw.Write(records)
	rc.bw.WriteString("\r\n")
}

// writeSnapFrame buffers a SNAP frame.
func (rc *replConn) writeSnapFrame(chunk []byte) {
	rc.bw.WriteString("*2\r\n$4\r\nSNAP\r\n$")
	rc.bw.WriteString(strconv.Itoa(len(chunk)))
	rc.bw.WriteString("\r\n")
	rc.bw.Write(chunk)
	rc.bw.WriteString("\r\n")
}

// writeIntFrame buffers a frame of a name and integers.
func (rc *replConn) writeIntFrame(name string, nums ...uint64) {
	rc.bw.WriteString("*")
	rc.bw.WriteString(strconv.Itoa(1 + len(nums)))
	rc.bw.WriteString("\r\n$")
	rc.bw.WriteString(strconv.Itoa(len(name)))
	rc.bw.WriteString("\r\n")
	rc.bw.WriteString(name)
	rc.bw.WriteString("\r\n")
	for _, n := range nums {
		rc.bw.WriteString(":")
		rc.bw.WriteString(strconv.FormatUint(n, 10))
		rc.bw.WriteString("\r\n")
	}
}
