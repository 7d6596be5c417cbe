package proxy

import (
	"time"

	"github.com/batonkv/baton/coordapi"
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

// watchCoordinator keeps a BATON.WATCH stream open to one coordinator until
// the proxy closes, reopening it when it ends. While a stream delivers,
// link.watching is set; when it ends the poller is kicked, so a lost stream
// costs no more than one poll round trip.
func (p *Proxy) watchCoordinator(l *coordLink) {
	backoff := watchRetryMin
	for {
		delivered, err := p.watchOnce(l)
		if l.watching.Swap(false) {
			l.poke()
			if p.ctx().Err() == nil {
				p.log.Info("coordinator watch lost; polling until it is back", "addr", l.addr, "err", err)
			}
		} else if p.ctx().Err() == nil {
			p.log.Debug("coordinator watch", "addr", l.addr, "err", err)
		}
		if delivered {
			backoff = watchRetryMin
		} else {
			backoff = min(2*backoff, watchRetryMax)
		}
		t := time.NewTimer(backoff)
		select {
		case <-p.ctx().Done():
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
	err = coordapi.Watch(p.ctx(), l.addr, p.cfg.ClusterSecret, dialTimeout, watchSilence, func(t coordapi.Topology) {
		p.observe(t)
		if !delivered {
			delivered = true
			l.watching.Store(true)
			p.log.Debug("coordinator watch open", "addr", l.addr, "epoch", t.Epoch)
		}
	})
	return delivered, err
}
