package command

// init registers the hash commands.
func init() {
	register(
		keyed("hset", -4, FlagWrite|FlagFast),
		keyed("hmset", -4, FlagWrite|FlagFast),
		keyed("hsetnx", 4, FlagWrite|FlagFast),
		keyed("hget", 3, FlagReadonly|FlagFast),
		keyed("hmget", -3, FlagReadonly|FlagFast),
		keyed("hdel", -3, FlagWrite|FlagFast),
		keyed("hgetall", 2, FlagReadonly),
		keyed("hkeys", 2, FlagReadonly),
		keyed("hvals", 2, FlagReadonly),
		keyed("hlen", 2, FlagReadonly|FlagFast),
		keyed("hstrlen", 3, FlagReadonly|FlagFast),
		keyed("hexists", 3, FlagReadonly|FlagFast),
		keyed("hincrby", 4, FlagWrite|FlagFast),
		keyed("hincrbyfloat", 4, FlagWrite|FlagFast),
		keyed("hscan", -3, FlagReadonly),
	)
}
