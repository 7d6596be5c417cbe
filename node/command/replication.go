package command

// init registers the replication, failover and takeover commands.
func init() {
	register(
		&Command{Name: "replicaof", Arity: 3, Flags: FlagAdmin | FlagInternal},
		&Command{Name: "slaveof", Arity: 3, Flags: FlagAdmin | FlagInternal},
		&Command{Name: "wait", Arity: 3, Flags: FlagBlocking},
		&Command{Name: "replconf", Arity: -1, Flags: FlagAdmin | FlagInternal},
		&Command{Name: "baton.epoch", Arity: -1, Flags: FlagAdmin | FlagInternal | FlagFast},
		&Command{Name: "baton.handshake", Arity: 4, Flags: FlagAdmin | FlagInternal},
		&Command{Name: "baton.psync", Arity: -3, Flags: FlagAdmin | FlagInternal | FlagNoMulti},
	)
	register(&Command{Name: "failover", Arity: -1, Flags: FlagAdmin | FlagInternal | FlagNoMulti})
	register(
		&Command{Name: "baton.freeze", Arity: 4, Flags: FlagAdmin | FlagInternal | FlagNoMulti},
		&Command{Name: "baton.unfreeze", Arity: 2, Flags: FlagAdmin | FlagInternal | FlagNoMulti | FlagFast},
	)
}
