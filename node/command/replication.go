package command

// init registers the replication, failover and takeover commands.
func init() {
	register(
		&Command{Name: "replicaof", Arity: 3, Flags: FlagAdmin},
		&Command{Name: "slaveof", Arity: 3, Flags: FlagAdmin},
		&Command{Name: "wait", Arity: 3, Flags: FlagBlocking},
		&Command{Name: "replconf", Arity: -1, Flags: FlagAdmin},
		&Command{Name: "baton.epoch", Arity: -1, Flags: FlagAdmin | FlagFast},
		&Command{Name: "baton.handshake", Arity: 4, Flags: FlagAdmin},
		&Command{Name: "baton.psync", Arity: -3, Flags: FlagAdmin | FlagNoMulti},
	)
	register(&Command{Name: "failover", Arity: -1, Flags: FlagAdmin | FlagNoMulti})
	register(
		&Command{Name: "baton.freeze", Arity: 4, Flags: FlagAdmin | FlagNoMulti},
		&Command{Name: "baton.unfreeze", Arity: 2, Flags: FlagAdmin | FlagNoMulti | FlagFast},
	)
}
