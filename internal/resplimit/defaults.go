package resplimit

// Redis' bounds on a client that must still authenticate (CVE-2021-32675):
// a request of at most 10 arguments, bulks of at most 16 KB.
const (
	PreAuthMultibulk = 10
	PreAuthBulk      = 16384
)

// Defaults are Redis' default input limits (proto-max-bulk-len 512 MB,
// 1M arguments, client-query-buffer-limit 1 GB, 64 KB inline requests, and the pre-authentication bounds),
// the node's defaults and the proxy's limits.
func Defaults() Limits {
	return Limits{
		MaxBulk:      512 << 20,
		MaxMultibulk: 1024 * 1024,
		MaxQuery:     1 << 30,
		MaxInline:    64 << 10,

		PreAuthMultibulk: PreAuthMultibulk,
		PreAuthBulk:      PreAuthBulk,
	}
}
