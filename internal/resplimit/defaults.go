package resplimit

// Defaults are Redis' default input limits (proto-max-bulk-len 512 MB,
// 1M arguments, client-query-buffer-limit 1 GB, 64 KB inline requests),
// the node's defaults and the proxy's limits.
func Defaults() Limits {
	return Limits{
		MaxBulk:      512 << 20,
		MaxMultibulk: 1024 * 1024,
		MaxQuery:     1 << 30,
		MaxInline:    64 << 10,
	}
}
