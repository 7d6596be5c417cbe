package repl

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/batonkv/baton/internal/resp"
)

// Timeouts and buffers of the replica side of a link.
const (
	// handshakeTimeout bounds connect + AUTH + BATON.HANDSHAKE.
	handshakeTimeout = 5 * time.Second
	// ackInterval is how often a replica acknowledges its applied LSN.
	ackInterval = 100 * time.Millisecond
	// maxBackoff caps the delay between reconnection attempts.
	maxBackoff = 2 * time.Second
	// streamBuffer is the read and write buffer of a link: a stream of
	// LOG frames of up to 256 KB and snapshot chunks moves in fewer
	// system calls than with resp's default.
	streamBuffer = 1 << 20
)

// Handshake is an authenticated connection to a primary that accepted
// BATON.HANDSHAKE, and what the primary said of itself.
type Handshake struct {
	rc     *resp.Conn
	runID  string
	replid string
	lsn    uint64
	epoch  uint64
}

// Close closes the handshake's connection (a switch that did not happen).
func (hs *Handshake) Close() { hs.rc.Close() }

// Dial connects to target, authenticates and handshakes, changing nothing
// in the node: REPLICAOF (v2) does this before it commits to a switch, so
// a primary that cannot be reached, refuses us, is ourselves or is at an
// older epoch leaves the node as it was.
func Dial(ctx context.Context, h Host, target string) (*Handshake, error) {
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	local := h.Local()
	rc, err := resp.DialAs(ctx, target, local.User, local.Auth)
	if err != nil {
		return nil, err
	}
	BoundFrames(rc.Reader)
	if err := rc.Resize(streamBuffer); err != nil {
		rc.Close()
		return nil, fmt.Errorf("handshake: %w", err)
	}
	hs, err := handshakeOn(ctx, h, local, rc)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return hs, nil
}

// handshakeOn runs BATON.HANDSHAKE on a fresh, authenticated connection.
func handshakeOn(ctx context.Context, h Host, local Local, rc *resp.Conn) (*Handshake, error) {
	r, err := rc.Do(ctx, "BATON.HANDSHAKE", local.RunID, strconv.Itoa(local.Port), strconv.FormatUint(h.Epoch(), 10))
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	if r.Kind == resp.ErrorReply {
		return nil, fmt.Errorf("handshake refused (not a compatible Baton node?): %s", r.Str)
	}
	if r.Kind != resp.Array || len(r.Elems) != 5 {
		return nil, fmt.Errorf("handshake: %w: unexpected reply %s", ErrProtocol, resp.Sanitize(r.String(), 128))
	}
	hs := &Handshake{rc: rc, runID: r.Elems[0].Str, replid: r.Elems[1].Str}
	hs.lsn, err = strconv.ParseUint(r.Elems[2].Str, 10, 64)
	if err == nil {
		hs.epoch, err = strconv.ParseUint(r.Elems[3].Str, 10, 64)
	}
	if err != nil {
		return nil, fmt.Errorf("handshake: %w: %v", ErrProtocol, err)
	}
	if hs.runID == local.RunID {
		return nil, ErrSelf
	}
	// Epochs ride the stream: a replica refuses a primary (here, before
	// anything changed; then in every frame) whose epoch is lower than
	// the newest it has seen.
	if ours := h.Epoch(); hs.epoch < ours {
		h.RefuseEpoch(rc.NetConn().RemoteAddr().String(), hs.epoch)
		return nil, fmt.Errorf("%w: the primary is at epoch %d, this node has seen %d", ErrStaleEpoch, hs.epoch, ours)
	}
	return hs, nil
}
