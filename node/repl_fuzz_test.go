package node

import (
	"bytes"
	"testing"

	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/node/journal"
	"github.com/batonkv/baton/node/repl"
)

// FuzzReplStream feeds arbitrary bytes to a replica as its primary's
// stream: frames are parsed and LOG records applied as the link does. A
// malformed stream must end in an error, never a panic, and never leave the
// replica's journal out of step with its keyspace.
func FuzzReplStream(f *testing.F) {
	j, _ := journal.Open(journal.Options{})
	for _, args := range [][]string{
		{"set", "a", "1"}, {"multi"}, {"rpush", "l", "x", "y"}, {"incr", "n"}, {"exec"},
		{"del", "a"}, {"multi"}, {"sadd", "s", "m"},
	} {
		b := make([][]byte, len(args))
		for k, a := range args {
			b[k] = []byte(a)
		}
		j.Append(b)
	}
	c, _ := j.NewCursor(0)
	recs, _, _ := c.Read(nil, 1<<20)
	var seed bytes.Buffer
	w := resp.NewWriter(&seed)
	repl.WriteLogFrame(w, 3, true, recs[:len(recs)/2])
	repl.WriteIntFrame(w, repl.FramePing, 3, 4)
	repl.WriteLogFrame(w, 3, false, recs)
	repl.WriteIntFrame(w, repl.FrameGetAck)
	w.Flush()
	f.Add(seed.Bytes())
	f.Add([]byte("*4\r\n$3\r\nLOG\r\n:1\r\n:0\r\n$5\r\nabcde\r\n"))
	f.Add([]byte("*2\r\n$4\r\nSNAP\r\n$99999999999\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := New(Config{Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		rc := resp.NewReader(bytes.NewReader(data))
		repl.BoundFrames(rc)
		var tx repl.Txn
		var f resp.Frame
		for n := 0; n < 100; n++ {
			if err := rc.ReadFrame(&f); err != nil {
				break
			}
			frame := f.Args
			if string(frame[0]) != repl.FrameLog || len(frame) != 4 {
				continue
			}
			if err := s.applyRecords(&tx, frame[3]); err != nil {
				break
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if got := s.jr.LSN(); got != s.lastLSN {
			t.Fatalf("journal at %d, node at %d", got, s.lastLSN)
		}
	})
}
