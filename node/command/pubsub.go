package command

// init registers the publish/subscribe commands.
func init() {
	const sub = FlagPubSub | FlagSubscribed | FlagConnState
	register(
		&Command{Name: "publish", Arity: 3, Flags: FlagPubSub | FlagFast},
		&Command{Name: "subscribe", Arity: -2, Flags: sub},
		&Command{Name: "unsubscribe", Arity: -1, Flags: sub},
		&Command{Name: "psubscribe", Arity: -2, Flags: sub},
		&Command{Name: "punsubscribe", Arity: -1, Flags: sub},
		&Command{Name: "pubsub", Arity: -2, Flags: FlagPubSub},
	)
}
