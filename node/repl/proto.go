package repl

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/batonkv/baton/internal/resp"
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
	FrameSnap    = "SNAP"
	FrameSnapEnd = "SNAPEND"
	FrameLog     = "LOG"
	FramePing    = "PING"
	FrameGetAck  = "GETACK"
)

// ErrProtocol wraps malformed replication frames and replies.
var ErrProtocol = errors.New("replication protocol error")

// Bounds of what a replication link reads: a frame has at most
// MaxFrameElems elements (the handshake's reply, 5, too), one bulk at most
// MaxFrameBulk bytes.
const (
	MaxFrameElems = 8
	MaxFrameBulk  = 512 << 20
)

// BoundFrames limits r to replication's frames.
func BoundFrames(r *resp.Reader) {
	r.MaxArray, r.MaxBulk = MaxFrameElems, MaxFrameBulk
}

// FrameUint parses a frame's integer element.
func FrameUint(b []byte) (uint64, error) {
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: bad integer %q", ErrProtocol, b)
	}
	return n, nil
}

// WriteLogFrame buffers a LOG frame: the primary's epoch, whether the
// replica must ack at once, and raw journal records.
func WriteLogFrame(w *resp.Writer, epoch uint64, ack bool, records []byte) {
	w.WriteArray(4)
	w.WriteBulkString(FrameLog)
	w.WriteUint(epoch)
	if ack {
		w.WriteUint(1)
	} else {
		w.WriteUint(0)
	}
	w.WriteBulk(records)
}

// WriteSnapFrame buffers a SNAP frame.
func WriteSnapFrame(w *resp.Writer, chunk []byte) {
	w.WriteArray(2)
	w.WriteBulkString(FrameSnap)
	w.WriteBulk(chunk)
}

// WriteIntFrame buffers a frame of a name and integers.
func WriteIntFrame(w *resp.Writer, name string, nums ...uint64) {
	w.WriteArray(1 + len(nums))
	w.WriteBulkString(name)
	for _, n := range nums {
		w.WriteUint(n)
	}
}
