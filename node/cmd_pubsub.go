package node

import (
	"sort"
	"strings"

	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/node/keyspace"
)

// cmdPublish: PUBLISH channel message delivers message to the channel's
// and matching patterns' subscribers and replies how many received it.
func (s *Server) cmdPublish(c *keyspace.Ctx) {
	if c.Replay {
		return
	}
	c.W.WriteInt(s.publish(c.Args[1], c.Args[2]))
}

// subReply writes one (un)subscribe confirmation: kind, name, count.
func subReply(c *keyspace.Ctx, kind string, name *string, count int) {
	c.W.WriteArray(3)
	c.W.WriteBulkString(kind)
	if name == nil {
		c.W.WriteNull()
	} else {
		c.W.WriteBulkString(*name)
	}
	c.W.WriteInt(count)
}

// cmdSubscribe: SUBSCRIBE channel [channel ...] subscribes the connection,
// replying a confirmation with the running count per channel.
func (s *Server) cmdSubscribe(c *keyspace.Ctx) { s.subscribe(c, false) }

// cmdPsubscribe: PSUBSCRIBE pattern [pattern ...] subscribes the
// connection to glob patterns.
func (s *Server) cmdPsubscribe(c *keyspace.Ctx) { s.subscribe(c, true) }

// subscribe implements SUBSCRIBE and PSUBSCRIBE.
func (s *Server) subscribe(c *keyspace.Ctx, pattern bool) {
	cl := clientOf(c)
	if c.Replay {
		return
	}
	sb := s.subscriberOf(cl)
	ps := s.pubsub()
	mine, reg, kind := sb.channels, ps.channels, "subscribe"
	if pattern {
		mine, reg, kind = sb.patterns, ps.patterns, "psubscribe"
	}
	for i := 1; i < len(c.Args); i++ {
		name := c.Arg(i)
		if _, ok := mine[name]; !ok {
			mine[name] = struct{}{}
			ps.mu.Lock()
			addSub(reg, name, cl)
			ps.mu.Unlock()
		}
		subReply(c, kind, &name, sb.count())
	}
}

// cmdUnsubscribe: UNSUBSCRIBE [channel ...] unsubscribes from the given
// channels, or from all of them, replying a confirmation per channel.
func (s *Server) cmdUnsubscribe(c *keyspace.Ctx) { s.unsubscribe(c, false) }

// cmdPunsubscribe: PUNSUBSCRIBE [pattern ...] unsubscribes from the given
// patterns, or from all of them.
func (s *Server) cmdPunsubscribe(c *keyspace.Ctx) { s.unsubscribe(c, true) }

// unsubscribe implements UNSUBSCRIBE and PUNSUBSCRIBE.
func (s *Server) unsubscribe(c *keyspace.Ctx, pattern bool) {
	cl := clientOf(c)
	if c.Replay {
		return
	}
	kind := "unsubscribe"
	if pattern {
		kind = "punsubscribe"
	}
	sb := cl.sub
	if sb == nil {
		// Never subscribed: answer without creating pub/sub state, so the
		// connection stays an ordinary one.
		if len(c.Args) == 1 {
			subReply(c, kind, nil, 0)
			return
		}
		for i := 1; i < len(c.Args); i++ {
			name := c.Arg(i)
			subReply(c, kind, &name, 0)
		}
		return
	}
	ps := s.pubsub()
	mine, reg := sb.channels, ps.channels
	if pattern {
		mine, reg = sb.patterns, ps.patterns
	}
	var names []string
	if len(c.Args) == 1 {
		if len(mine) == 0 {
			subReply(c, kind, nil, sb.count())
			return
		}
		names = sortedKeys(mine)
	} else {
		names = make([]string, 0, len(c.Args)-1)
		for i := 1; i < len(c.Args); i++ {
			names = append(names, c.Arg(i))
		}
	}
	for _, name := range names {
		if _, ok := mine[name]; ok {
			delete(mine, name)
			ps.mu.Lock()
			removeSub(reg, name, cl)
			ps.mu.Unlock()
		}
		subReply(c, kind, &name, sb.count())
	}
}

// pubsubHelp is PUBSUB HELP's text, as Redis 7.0 sends it.
var pubsubHelp = []string{
	"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CHANNELS [<pattern>]",
	"    Return the currently active channels matching a <pattern> (default: '*').",
	"NUMPAT",
	"    Return number of subscriptions to patterns.",
	"NUMSUB [<channel> ...]",
	"    Return the number of subscribers for the specified channels, excluding",
	"    pattern subscriptions(default: no channels).",
	"SHARDCHANNELS [<pattern>]",
	"    Return the currently active shard level channels matching a <pattern> (default: '*').",
	"SHARDNUMSUB [<shardchannel> ...]",
	"    Return the number of subscribers for the specified shard level channel(s)",
	"HELP",
	"    Prints this help.",
}

// pubsubSubArity is the Redis 7 arity of each PUBSUB subcommand.
var pubsubSubArity = map[string]int{
	"channels": -2, "numsub": -2, "numpat": 2, "shardchannels": -2, "shardnumsub": -2, "help": 2,
}

// cmdPubsub: PUBSUB CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT |
// SHARDCHANNELS [pattern] | SHARDNUMSUB [channel ...] | HELP introspects
// the pub/sub registry.
func (s *Server) cmdPubsub(c *keyspace.Ctx) {
	sub := strings.ToLower(c.Arg(1))
	arity, ok := pubsubSubArity[sub]
	if !ok {
		unknownSub(c, "PUBSUB")
		return
	}
	if (arity > 0 && len(c.Args) != arity) || (arity < 0 && len(c.Args) < -arity) {
		subArity(c, "pubsub|"+sub)
		return
	}
	if (sub == "channels" || sub == "shardchannels") && len(c.Args) > 3 {
		c.Err("ERR unknown subcommand or wrong number of arguments for '" + resp.Sanitize(c.Arg(1), 128) + "'. Try PUBSUB HELP.")
		return
	}
	ps := s.pubsub()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	switch sub {
	case "channels":
		var names []string
		for ch := range ps.channels {
			if len(c.Args) == 2 || keyspace.GlobMatch(c.Args[2], []byte(ch)) {
				names = append(names, ch)
			}
		}
		sort.Strings(names)
		c.W.WriteArray(len(names))
		for _, ch := range names {
			c.W.WriteBulkString(ch)
		}
	case "numsub":
		c.W.WriteArray(2 * (len(c.Args) - 2))
		for i := 2; i < len(c.Args); i++ {
			c.W.WriteBulk(c.Args[i])
			c.W.WriteInt(len(ps.channels[c.Arg(i)]))
		}
	case "numpat":
		c.W.WriteInt(len(ps.patterns))
	case "shardchannels":
		c.W.WriteArray(0)
	case "shardnumsub":
		c.W.WriteArray(2 * (len(c.Args) - 2))
		for i := 2; i < len(c.Args); i++ {
			c.W.WriteBulk(c.Args[i])
			c.W.WriteInt(0)
		}
	case "help":
		c.W.WriteArray(len(pubsubHelp))
		for _, l := range pubsubHelp {
			c.W.WriteString(l)
		}
	}
}
