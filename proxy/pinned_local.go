package proxy

import "github.com/tidwall/redcon"

// replyRecorder is the client's connection with its writes captured in a
// buffer, so Proxy.local can answer a pinned client's AUTH, HELLO, QUIT or
// CLIENT SETINFO as it answers any client, while the pinned session puts
// the reply in its place among the backend's replies.
type replyRecorder struct {
	redcon.Conn
	w *redcon.Writer
}

// WriteError records an error reply.
func (r replyRecorder) WriteError(msg string) { r.w.WriteError(msg) }

// WriteString records a simple string reply.
func (r replyRecorder) WriteString(str string) { r.w.WriteString(str) }

// WriteBulk records a bulk string reply.
func (r replyRecorder) WriteBulk(bulk []byte) { r.w.WriteBulk(bulk) }

// WriteBulkString records a bulk string reply.
func (r replyRecorder) WriteBulkString(bulk string) { r.w.WriteBulkString(bulk) }

// WriteInt records an integer reply.
func (r replyRecorder) WriteInt(num int) { r.w.WriteInt(num) }

// WriteInt64 records an integer reply.
func (r replyRecorder) WriteInt64(num int64) { r.w.WriteInt64(num) }

// WriteUint64 records an integer reply.
func (r replyRecorder) WriteUint64(num uint64) { r.w.WriteUint64(num) }

// WriteArray records an array header.
func (r replyRecorder) WriteArray(count int) { r.w.WriteArray(count) }

// WriteNull records a null reply.
func (r replyRecorder) WriteNull() { r.w.WriteNull() }

// WriteRaw records raw RESP.
func (r replyRecorder) WriteRaw(data []byte) { r.w.WriteRaw(data) }

// WriteAny records any value.
func (r replyRecorder) WriteAny(v any) { r.w.WriteAny(v) }

// localReply answers a command the proxy serves itself (isLocal) and
// reports whether the client asked to close.
func (s *pinnedSession) localReply(name string, args [][]byte) (reply []byte, quit bool) {
	rec := replyRecorder{Conn: s.dc, w: redcon.NewWriter(nil)}
	_, quit = s.p.local(rec, s.c, name, args)
	return rec.w.Buffer(), quit
}
