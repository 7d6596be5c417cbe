package command

// init registers the connection commands (PING, AUTH, HELLO, CLIENT...).
func init() {
	register(
		&Command{Name: "ping", Arity: -1, Flags: FlagFast | FlagSubscribed},
		&Command{Name: "echo", Arity: 2, Flags: FlagFast},
		&Command{Name: "quit", Arity: -1, Flags: FlagNoAuth | FlagFast | FlagSubscribed | FlagNoMulti},
		&Command{Name: "auth", Arity: -2, Flags: FlagNoAuth | FlagFast | FlagConnState},
		&Command{Name: "hello", Arity: -1, Flags: FlagNoAuth | FlagFast | FlagConnState},
		&Command{Name: "select", Arity: 2, Flags: FlagFast | FlagConnState},
		&Command{Name: "reset", Arity: 1, Flags: FlagNoAuth | FlagFast | FlagSubscribed | FlagNoMulti | FlagConnState},
	)
	register(&Command{Name: "client", Arity: -2, Flags: FlagConnState, internalSubs: []subcommand{{"kill", -3}, {"pause", -3}, {"unpause", 2}}})
}
