package consensus

import (
	"bufio"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/resp"
	"github.com/tidwall/redcon"
)

// watchPing is how often an idle watch stream repeats the current topology,
// so a subscriber can tell a quiet stream from a dead one.
const watchPing = time.Second

// startWatch turns the connection into a push stream (BATON.WATCH): the
// member's applied topology at once, then after every change. Any member
// serves it; one member's epochs never go back.
func (c *Service) startWatch(conn redcon.Conn, ac *apiConn) {
	var pending []byte
	if bw := redcon.BaseWriter(conn); bw != nil {
		pending = append(pending, bw.Buffer()...)
		bw.SetBuffer(nil)
	}
	dc := conn.Detach()
	ac.watch = true
	if !c.life.Own() {
		dc.Close()
		c.forget(ac)
		return
	}
	go func() {
		defer c.life.Done()
		defer c.forget(ac)
		defer dc.Close()
		gone := make(chan struct{})
		go func() {
			// The subscriber sends nothing; a read returns when it goes.
			defer close(gone)
			for {
				if _, err := dc.ReadCommand(); err != nil {
					return
				}
			}
		}()
		w := bufio.NewWriter(dc.NetConn())
		w.Write(pending)
		last := ""
		tick := time.NewTicker(watchPing)
		defer tick.Stop()
		for {
			changed := c.raft.Changed()
			js := c.raft.Local().JSON()
			if js != last {
				last = js
				writePush(w, js)
			}
			dc.NetConn().SetWriteDeadline(time.Now().Add(5 * time.Second))
			if w.Flush() != nil {
				return
			}
			select {
			case <-changed:
			case <-tick.C:
				writePush(w, last)
			case <-gone:
				return
			case <-c.life.Context().Done():
				return
			}
		}
	}()
}

// writePush writes one push: ["topology", json].
func writePush(w *bufio.Writer, js string) {
	w.Write(resp.AppendCommand(nil, coordapi.PushTopology, js))
}
