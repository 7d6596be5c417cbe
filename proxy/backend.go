package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/redcon"
)

// Errors of the backend side.
var (
	// errBackendLost means a backend connection broke (or was closed)
	// before every reply it owed had arrived.
	errBackendLost = errors.New("proxy: backend connection lost")
	// errBadReply means a backend sent bytes that are not RESP.
	errBadReply = errors.New("proxy: invalid RESP from backend")
)

// maxReplyBytes bounds one backend reply held in memory (Redis' default
// proto-max-bulk-len plus framing).
const maxReplyBytes = 512<<20 + 1024

// dialTimeout bounds connecting (and authenticating) to a node or a
// coordinator.
const dialTimeout = time.Second

// respReader reads whole RESP values off a stream with redcon.ReadNextRESP.
// ReadNextRESP answers n == 0 both for "incomplete" and "invalid"; an
// invalid leading type byte is detected here so a bad stream fails instead
// of waiting forever.
type respReader struct {
	r   io.Reader
	buf []byte
	// buf[start:end] holds bytes read but not yet returned.
	start, end int
}

// newRespReader returns a reader over r.
func newRespReader(r io.Reader) *respReader {
	return &respReader{r: r, buf: make([]byte, 16<<10)}
}

// next returns the raw bytes of the next RESP value; the slice is a copy the
// caller owns.
func (rr *respReader) next() ([]byte, error) {
	v, err := rr.nextView()
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), v...), nil
}

// nextView is next without the copy: the slice is valid until the next call.
func (rr *respReader) nextView() ([]byte, error) {
	for {
		if rr.end > rr.start {
			switch rr.buf[rr.start] {
			case '+', '-', ':', '$', '*':
			default:
				return nil, fmt.Errorf("%w: leading byte %q", errBadReply, rr.buf[rr.start])
			}
			if n, _ := redcon.ReadNextRESP(rr.buf[rr.start:rr.end]); n > 0 {
				out := rr.buf[rr.start : rr.start+n]
				rr.start += n
				return out, nil
			}
		}
		if rr.start > 0 {
			rr.end = copy(rr.buf, rr.buf[rr.start:rr.end])
			rr.start = 0
		}
		if rr.end == len(rr.buf) {
			if len(rr.buf) >= maxReplyBytes {
				return nil, fmt.Errorf("%w: reply larger than %d bytes", errBadReply, maxReplyBytes)
			}
			rr.buf = append(rr.buf, make([]byte, len(rr.buf))...)
		}
		n, err := rr.r.Read(rr.buf[rr.end:])
		rr.end += n
		if err != nil && n == 0 {
			return nil, err
		}
	}
}

// encodeCommand appends args as a RESP array of bulk strings.
func encodeCommand(b []byte, args [][]byte) []byte {
	b = redcon.AppendArray(b, len(args))
	for _, a := range args {
		b = redcon.AppendBulk(b, a)
	}
	return b
}

// encodeStrings is encodeCommand for string arguments.
func encodeStrings(args ...string) []byte {
	b := redcon.AppendArray(nil, len(args))
	for _, a := range args {
		b = redcon.AppendBulkString(b, a)
	}
	return b
}

// dialRESP connects to addr and, with a password, sends AUTH and checks the
// reply. It returns the connection and a reader positioned after the AUTH
// reply.
func dialRESP(ctx context.Context, addr, password string) (net.Conn, *respReader, error) {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	rr := newRespReader(nc)
	if password == "" {
		return nc, rr, nil
	}
	dl, _ := ctx.Deadline()
	nc.SetDeadline(dl)
	reply, err := roundTrip(nc, rr, encodeStrings("AUTH", password))
	nc.SetDeadline(time.Time{})
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("auth with %s: %w", addr, err)
	}
	if reply[0] == '-' {
		nc.Close()
		return nil, nil, fmt.Errorf("auth with %s: %s", addr, strings.TrimSpace(string(reply[1:])))
	}
	return nc, rr, nil
}

// roundTrip writes one encoded command and reads its reply.
func roundTrip(nc net.Conn, rr *respReader, cmd []byte) ([]byte, error) {
	if _, err := nc.Write(cmd); err != nil {
		return nil, err
	}
	return rr.next()
}

// pool is a fixed number of shared connections to one node address, dialed
// lazily and replaced when they break. Many clients' batches are
// multiplexed onto them round-robin.
type pool struct {
	addr     string
	password string
	wg       *sync.WaitGroup

	mu     sync.Mutex
	conns  []*backendConn
	next   int
	closed bool
}

// get returns a healthy connection, dialing one if the chosen slot is empty
// or broken.
func (pl *pool) get(ctx context.Context) (*backendConn, error) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.closed {
		return nil, fmt.Errorf("%w: proxy closed", errBackendLost)
	}
	// A connection with a write about to start takes the batch along:
	// one write then carries more clients' batches.
	for _, bc := range pl.conns {
		if bc != nil && bc.flushing.Load() && !bc.isBroken() {
			return bc, nil
		}
	}
	i := pl.next % len(pl.conns)
	pl.next++
	if bc := pl.conns[i]; bc != nil && !bc.isBroken() {
		return bc, nil
	}
	// Dialing under the lock serializes dials to this node, which is what
	// we want while it is down: one attempt at a time, not one per client.
	nc, rr, err := dialRESP(ctx, pl.addr, pl.password)
	if err != nil {
		return nil, err
	}
	bc := newBackendConn(nc, rr)
	pl.conns[i] = bc
	pl.wg.Add(2)
	go func() {
		defer pl.wg.Done()
		bc.readLoop()
	}()
	go func() {
		defer pl.wg.Done()
		bc.flushLoop()
	}()
	return bc, nil
}

// breakConns fails every connection (and the batches waiting on them);
// the next get dials afresh.
func (pl *pool) breakConns() {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	for _, bc := range pl.conns {
		if bc != nil {
			bc.close()
		}
	}
}

// close closes every connection; get fails afterwards.
func (pl *pool) close() {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.closed = true
	for _, bc := range pl.conns {
		if bc != nil {
			bc.close()
		}
	}
}
