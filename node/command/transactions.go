package command

// init registers MULTI/EXEC and WATCH.
func init() {
	register(
		// multi, exec and discard are also the journal's transaction
		// markers (txnreplay.go): replaying them alone does nothing.
		&Command{Name: "multi", Arity: 1, Flags: FlagNoMulti | FlagFast | FlagConnState},
		&Command{Name: "exec", Arity: 1, Flags: FlagNoMulti | FlagConnState},
		&Command{Name: "discard", Arity: 1, Flags: FlagNoMulti | FlagFast | FlagConnState},
		&Command{Name: "watch", Arity: -2, Flags: FlagNoMulti | FlagFast | FlagConnState, FirstKey: 1, LastKey: -1, Step: 1},
		&Command{Name: "unwatch", Arity: 1, Flags: FlagFast | FlagConnState},
	)
}
