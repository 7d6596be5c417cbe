package command

// init registers the server commands (INFO, CONFIG, COMMAND, DIGEST, SAVE...).
func init() {
	register(
		&Command{Name: "role", Arity: 1, Flags: FlagFast | FlagAdmin},
		&Command{Name: "time", Arity: 1, Flags: FlagFast},
		&Command{Name: "config", Arity: -2, Flags: FlagAdmin, internalSubs: []subcommand{{"set", -4}, {"resetstat", 2}, {"rewrite", 2}}},
		&Command{Name: "shutdown", Arity: -1, Flags: FlagAdmin | FlagInternal},
	)
	register(&Command{Name: "command", Arity: -1, Flags: 0})
	register(&Command{Name: "info", Arity: -1})
	register(&Command{Name: "digest", Arity: 1, Flags: FlagReadonly | FlagAdmin})
	register(
		&Command{Name: "save", Arity: 1, Flags: FlagAdmin},
		&Command{Name: "bgsave", Arity: -1, Flags: FlagAdmin},
		&Command{Name: "lastsave", Arity: 1, Flags: FlagAdmin | FlagFast},
	)
}
