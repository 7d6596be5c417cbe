package proxy

import "github.com/batonkv/baton/internal/resplimit"

// clientLimits are the input limits the proxy enforces on every client
// connection (Serve wraps the listener in resplimit): the node's defaults,
// which are Redis'. They are checked on the raw byte stream before redcon
// buffers it, so a client announcing a huge bulk string or sending garbage
// without end gets "-ERR Protocol error: …" and is closed, instead of
// making the proxy allocate for it; other clients are not affected.
func clientLimits() resplimit.Limits {
	return resplimit.Defaults()
}
