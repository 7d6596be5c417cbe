package node

import (
	"sort"
	"strings"
)


// cmdPublish: PUBLISH channel message delivers message to the channel's
// and matching patterns' subscribers and replies how many received it.
func cmdPublish(c *Ctx) {
	if c.replay {
		return
	}
	c.w.WriteInt(c.s.publish(c.args[1], c.args[2]))
}

// subReply writes one (un)subscribe confirmation: kind, name, count.
func subReply(c *Ctx, kind string, name *string, count int) {
	c.w.WriteArray(3)
	c.w.WriteBulkString(kind)
	if name == nil {
		c.w.WriteNull()
	} else {
		c.w.WriteBulkString(*name)
	}
	c.w.WriteInt(count)
}

// cmdSubscribe: SUBSCRIBE channel [channel ...] subscribes the connection,
// replying a confirmation with the running count per channel.
func cmdSubscribe(c *Ctx) { subscribe(c, false) }

// cmdPsubscribe: PSUBSCRIBE pattern [pattern ...] subscribes the
// connection to glob patterns.
func cmdPsubscribe(c *Ctx) { subscribe(c, true) }

// subscribe implements SUBSCRIBE and PSUBSCRIBE.
func subscribe(c *Ctx, pattern bool) {
	if c.replay {
		return
	}
	sb := c.s.subscriberOf(c.cl)
	ps := c.s.pubsub()
	mine, reg, kind := sb.channels, ps.channels, "subscribe"
	if pattern {
		mine, reg, kind = sb.patterns, ps.patterns, "psubscribe"
	}
	for i := 1; i < len(c.args); i++ {
		name := c.arg(i)
		if _, ok := mine[name]; !ok {
			mine[name] = struct{}{}
			ps.mu.Lock()
			addSub(reg, name, c.cl)
			ps.mu.Unlock()
		}
		subReply(c, kind, &name, sb.count())
	}
}

// cmdUnsubscribe: UNSUBSCRIBE [channel ...] unsubscribes from the given
// channels, or from all of them, replying a confirmation per channel.
func cmdUnsubscribe(c *Ctx) { unsubscribe(c, false) }

// cmdPunsubscribe: PUNSUBSCRIBE [pattern ...] unsubscribes from the given
// patterns, or from all of them.
func cmdPunsubscribe(c *Ctx) { unsubscribe(c, true) }

// unsubscribe implements UNSUBSCRIBE and PUNSUBSCRIBE.
func unsubscribe(c *Ctx, pattern bool) {
	if c.replay {
		return
	}
	kind := "unsubscribe"
	if pattern {
		kind = "punsubscribe"
	}
	sb := c.cl.sub
	if sb == nil {
		// Never subscribed: answer without creating pub/sub state, so the
		// connection stays an ordinary one.
		if len(c.args) == 1 {
			subReply(c, kind, nil, 0)
			return
		}
		for i := 1; i < len(c.args); i++ {
			name := c.arg(i)
			subReply(c, kind, &name, 0)
		}
		return
	}
	ps := c.s.pubsub()
	mine, reg := sb.channels, ps.channels
	if pattern {
		mine, reg = sb.patterns, ps.patterns
	}
	var names []string
	if len(c.args) == 1 {
		if len(mine) == 0 {
			subReply(c, kind, nil, sb.count())
			return
		}
		names = sortedKeys(mine)
	} else {
		names = make([]string, 0, len(c.args)-1)
		for i := 1; i < len(c.args); i++ {
			names = append(names, c.arg(i))
		}
	}
	for _, name := range names {
		if _, ok := mine[name]; ok {
			delete(mine, name)
			ps.mu.Lock()
			removeSub(reg, name, c.cl)
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
func cmdPubsub(c *Ctx) {
	sub := strings.ToLower(c.arg(1))
	arity, ok := pubsubSubArity[sub]
	if !ok {
		c.unknownSub("PUBSUB")
		return
	}
	if (arity > 0 && len(c.args) != arity) || (arity < 0 && len(c.args) < -arity) {
		c.subArity("pubsub|" + sub)
		return
	}
	if (sub == "channels" || sub == "shardchannels") && len(c.args) > 3 {
		c.err("ERR unknown subcommand or wrong number of arguments for '" + sanitize(c.arg(1), 128) + "'. Try PUBSUB HELP.")
		return
	}
	ps := c.s.pubsub()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	switch sub {
	case "channels":
		var names []string
		for ch := range ps.channels {
			if len(c.args) == 2 || globMatch(c.args[2], []byte(ch)) {
				names = append(names, ch)
			}
		}
		sort.Strings(names)
		c.w.WriteArray(len(names))
		for _, ch := range names {
			c.w.WriteBulkString(ch)
		}
	case "numsub":
		c.w.WriteArray(2 * (len(c.args) - 2))
		for i := 2; i < len(c.args); i++ {
			c.w.WriteBulk(c.args[i])
			c.w.WriteInt(len(ps.channels[c.arg(i)]))
		}
	case "numpat":
		c.w.WriteInt(len(ps.patterns))
	case "shardchannels":
		c.w.WriteArray(0)
	case "shardnumsub":
		c.w.WriteArray(2 * (len(c.args) - 2))
		for i := 2; i < len(c.args); i++ {
			c.w.WriteBulk(c.args[i])
			c.w.WriteInt(0)
		}
	case "help":
		c.w.WriteArray(len(pubsubHelp))
		for _, l := range pubsubHelp {
			c.w.WriteString(l)
		}
	}
}
