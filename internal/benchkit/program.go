package benchkit

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Main runs a benchmark program's body with go-redis' log silenced and a
// context that SIGINT or SIGTERM ends (the program then kills its servers
// on its way out). An error is printed as "name: error" and exits 1.
func Main(name string, run func(ctx context.Context) error) {
	SilenceRedisLog()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
