package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Watch stream timing. A coordinator repeats the current topology on an
// idle stream every second (consensus/watch.go), so a stream silent for
// watchSilence is dead even if TCP has not noticed.
const (
	watchSilence = 3 * time.Second
	// watchRetryMin is the pause before reopening a stream that delivered
	// (a cut link, a restarted coordinator); failed attempts double it up
	// to watchRetryMax (a coordinator that is down or refuses the watch).
	watchRetryMin = 50 * time.Millisecond
	watchRetryMax = 2 * time.Second
)

// watchPushPrefix starts every push of a BATON.WATCH stream: the array
// ["topology", json].
var watchPushPrefix = []byte("*2\r\n$8\r\ntopology\r\n")

// watchCoordinator keeps a BATON.WATCH stream open to one coordinator until
// the proxy closes, reopening it when it ends. While a stream delivers,
// link.watching is set; when it ends the poller is kicked, so a lost stream
// costs no more than one poll round trip.
func (p *Proxy) watchCoordinator(l *coordLink) {
	defer p.wg.Done()
	backoff := watchRetryMin
	for {
		delivered, err := p.watchOnce(l)
		if l.watching.Swap(false) {
			l.poke()
			if p.ctx.Err() == nil {
				p.log.Info("coordinator watch lost; polling until it is back", "addr", l.addr, "err", err)
			}
		} else if p.ctx.Err() == nil {
			p.log.Debug("coordinator watch", "addr", l.addr, "err", err)
		}
		if delivered {
			backoff = watchRetryMin
		} else {
			backoff = min(2*backoff, watchRetryMax)
		}
		t := time.NewTimer(backoff)
		select {
		case <-p.done:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// watchOnce opens one stream and feeds its pushes to observe until it
// fails, goes silent for watchSilence, or the proxy closes. delivered
// reports whether any push arrived.
func (p *Proxy) watchOnce(l *coordLink) (delivered bool, err error) {
	c, err := p.dialCoord(l.addr)
	if err != nil {
		return false, err
	}
	defer c.nc.Close()
	stop := context.AfterFunc(p.ctx, func() { c.nc.Close() })
	defer stop()
	c.nc.SetWriteDeadline(time.Now().Add(dialTimeout))
	if _, err := c.nc.Write(encodeStrings("BATON.WATCH")); err != nil {
		return false, fmt.Errorf("BATON.WATCH: %w", err)
	}
	for {
		c.nc.SetReadDeadline(time.Now().Add(watchSilence))
		raw, err := c.rr.next()
		if err != nil {
			return delivered, fmt.Errorf("BATON.WATCH: %w", err)
		}
		t, err := decodePush(raw)
		if err != nil {
			return delivered, err
		}
		p.observe(t)
		if !delivered {
			delivered = true
			l.watching.Store(true)
			p.log.Debug("coordinator watch open", "addr", l.addr, "epoch", t.Epoch)
		}
	}
}

// decodePush decodes one raw push ["topology", json]; an error reply (a
// coordinator without BATON.WATCH) or any other value is an error.
func decodePush(raw []byte) (topology, error) {
	var t topology
	if len(raw) > 0 && raw[0] == '-' {
		return t, errors.New("BATON.WATCH refused: " + string(bytes.TrimSpace(raw[1:])))
	}
	body, ok := bulkBody(bytes.TrimPrefix(raw, watchPushPrefix))
	if !ok || !bytes.HasPrefix(raw, watchPushPrefix) {
		return t, fmt.Errorf("BATON.WATCH: unexpected push %q", raw)
	}
	if err := json.Unmarshal(body, &t); err != nil {
		return t, fmt.Errorf("BATON.WATCH: decode: %w", err)
	}
	return t, nil
}
