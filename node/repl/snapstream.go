package repl

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/batonkv/baton/internal/resp"
)

// snapStream reads a full sync's snapshot out of SNAP frames: the body,
// then SNAPEND's checksum as the trailer, then EOF.
type snapStream struct {
	rc      *resp.Conn
	st      *Status
	timeout time.Duration
	f       resp.Frame
	cur     []byte
	done    bool
	n       int64
}

// Read implements io.Reader.
func (ss *snapStream) Read(p []byte) (int, error) {
	for len(ss.cur) == 0 {
		if ss.done {
			return 0, io.EOF
		}
		if err := ss.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, ss.cur)
	ss.cur = ss.cur[n:]
	return n, nil
}

// next reads the next frame of the snapshot.
func (ss *snapStream) next() error {
	ss.rc.NetConn().SetReadDeadline(time.Now().Add(ss.timeout))
	if err := ss.rc.ReadFrame(&ss.f); err != nil {
		return err
	}
	frame := ss.f.Args
	ss.st.heard()
	switch string(frame[0]) {
	case FrameSnap:
		if len(frame) != 2 {
			return fmt.Errorf("%w: SNAP frame of %d elements", ErrProtocol, len(frame))
		}
		ss.cur = frame[1]
	case FrameSnapEnd:
		if len(frame) != 2 {
			return fmt.Errorf("%w: SNAPEND frame of %d elements", ErrProtocol, len(frame))
		}
		crc, err := FrameUint(frame[1])
		if err != nil || crc > 1<<32-1 {
			return fmt.Errorf("%w: bad snapshot checksum %q", ErrProtocol, frame[1])
		}
		ss.cur = binary.LittleEndian.AppendUint32(nil, uint32(crc))
		ss.done = true
	case FramePing, FrameGetAck:
		return nil
	default:
		return fmt.Errorf("%w: unexpected frame %q during a full sync", ErrProtocol, frame[0])
	}
	ss.n += int64(len(ss.cur))
	return nil
}
