package command

// init registers the set commands.
func init() {
	register(
		keyed("sadd", -3, FlagWrite|FlagFast),
		keyed("srem", -3, FlagWrite|FlagFast),
		keyed("smembers", 2, FlagReadonly),
		keyed("sismember", 3, FlagReadonly|FlagFast),
		keyed("smismember", -3, FlagReadonly|FlagFast),
		keyed("scard", 2, FlagReadonly|FlagFast),
		keyed("spop", -2, FlagWrite|FlagFast),
		keyed("srandmember", -2, FlagReadonly),
		keyedAll("sinter", -2, FlagReadonly),
		keyedAll("sunion", -2, FlagReadonly),
		keyedAll("sdiff", -2, FlagReadonly),
		keyedAll("sinterstore", -3, FlagWrite),
		keyedAll("sunionstore", -3, FlagWrite),
		keyedAll("sdiffstore", -3, FlagWrite),
		&Command{Name: "smove", Arity: 4, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 2, Step: 1},
		keyed("sscan", -3, FlagReadonly),
	)
}
