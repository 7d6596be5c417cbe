package repl

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/batonkv/baton/internal/resp"
)

// stream applies frames until the connection fails or ctx ends, and acks
// the applied LSN every ackInterval, after a LOG frame that asks for it
// and on GETACK.
func (l *Link) stream(ctx context.Context, rc *resp.Conn) error {
	st := l.h.Status()
	ackDone := make(chan struct{})
	ackNow := make(chan struct{}, 1)
	var wmu sync.Mutex
	sendAck := func() error {
		wmu.Lock()
		defer wmu.Unlock()
		return rc.Send("REPLCONF", "ACK", strconv.FormatUint(st.Applied.Load(), 10))
	}
	sctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		<-ackDone
	}()
	go func() {
		defer close(ackDone)
		t := time.NewTicker(ackInterval)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
			case <-ackNow:
			}
			if sendAck() != nil {
				rc.Close()
				return
			}
		}
	}()
	timeout := l.h.LinkTimeout()
	var tx Txn
	var f resp.Frame
	for {
		rc.NetConn().SetReadDeadline(time.Now().Add(timeout))
		if err := rc.ReadFrame(&f); err != nil {
			return err
		}
		st.heard()
		ack, err := l.frame(&tx, f.Args)
		if err != nil {
			return err
		}
		if ack {
			select {
			case ackNow <- struct{}{}:
			default:
			}
		}
	}
}

// frame handles one frame of the stream and reports whether the primary
// asked for an ack at once.
func (l *Link) frame(tx *Txn, frame [][]byte) (ack bool, err error) {
	switch string(frame[0]) {
	case FrameLog:
		if len(frame) != 4 {
			return false, fmt.Errorf("%w: LOG frame of %d elements", ErrProtocol, len(frame))
		}
		if err := l.frameEpoch(frame[1]); err != nil {
			return false, err
		}
		if err := l.h.ApplyRecords(tx, frame[3]); err != nil {
			return false, err
		}
		return string(frame[2]) == "1", nil
	case FramePing:
		if len(frame) != 3 {
			return false, fmt.Errorf("%w: PING frame of %d elements", ErrProtocol, len(frame))
		}
		return false, l.frameEpoch(frame[1])
	case FrameGetAck:
		return true, nil
	}
	return false, fmt.Errorf("%w: unexpected frame %q", ErrProtocol, frame[0])
}
