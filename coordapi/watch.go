package coordapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/batonkv/baton/internal/resp"
)

// WatchIdle is a sensible silence bound for Watch: a coordinator repeats the
// current record on an idle stream every second, so a stream silent this
// long is dead even if TCP has not noticed (a black-holed link).
const WatchIdle = 3 * time.Second

// errUnexpectedPush is a stream value that is not a ["topology", json] push.
var errUnexpectedPush = errors.New(CmdWatch + ": unexpected push")

// Watch opens a BATON.WATCH stream to the coordinator at addr (any member
// serves it) and calls fn with every record pushed, in order, until the
// stream fails, stays silent for idle, or ctx ends; it always returns an
// error saying why it ended. dialTimeout bounds connecting, AUTH and
// sending the command. An error reply (-NOAUTH, a coordinator without
// BATON.WATCH) ends it with an error wrapping the *resp.Error.
func Watch(ctx context.Context, addr, secret string, dialTimeout, idle time.Duration,
	fn func(Topology)) error {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	c, err := resp.Dial(dctx, addr, secret)
	if err != nil {
		return fmt.Errorf("%s: %w", CmdWatch, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	c.NetConn().SetWriteDeadline(time.Now().Add(dialTimeout))
	if err := c.Send(CmdWatch); err != nil {
		return fmt.Errorf("%s: %w", CmdWatch, err)
	}
	for {
		c.NetConn().SetReadDeadline(time.Now().Add(idle))
		v, err := c.ReadValue()
		if err != nil {
			return fmt.Errorf("%s: %w", CmdWatch, err)
		}
		t, err := decodePush(v)
		if err != nil {
			return err
		}
		fn(t)
	}
}

// decodePush decodes one push ["topology", json].
func decodePush(v resp.Value) (Topology, error) {
	if err := v.Err(); err != nil {
		return Topology{}, fmt.Errorf("%s refused: %w", CmdWatch, err)
	}
	if v.Kind != resp.Array || len(v.Elems) != 2 || v.Elems[0].Str != PushTopology ||
		v.Elems[1].Kind != resp.BulkString {
		return Topology{}, fmt.Errorf("%w %q", errUnexpectedPush, resp.Sanitize(v.String(), 128))
	}
	t, err := Decode(v.Elems[1].Str)
	if err != nil {
		return Topology{}, fmt.Errorf("%s: %w", CmdWatch, err)
	}
	return t, nil
}
