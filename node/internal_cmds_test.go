package node

import (
	"context"
	"strings"
	"testing"

	"github.com/batonkv/baton/coordapi"
	"github.com/redis/go-redis/v9"
)

// Test_Server_InternalCommandsNeedTheInternalIdentity: on a node with a
// cluster secret, an application client (with or without the application
// password) gets NOPERM for every control command an attacker would use to
// fence, freeze, repoint, stop or reconfigure it, also inside MULTI; the
// appliance's internal identity (AUTH baton-internal <secret>) runs them,
// a wrong secret is refused, and RESET drops the identity.
func Test_Server_InternalCommandsNeedTheInternalIdentity(t *testing.T) {
	cfg := coordConfig("n1")
	cfg.ClusterSecret, cfg.RequirePass = "cs", "app"
	n := mustNewNode(t, cfg)
	ctx := context.Background()
	app := redis.NewClient(&redis.Options{Addr: n.addr, Password: "app", MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { app.Close() })
	epochBefore := infoValue(t, app, "replication", "baton_epoch")
	for _, tc := range []struct {
		args []any
		name string
	}{
		{[]any{"baton.epoch", "1000000"}, "baton.epoch"},
		{[]any{"baton.freeze", "18446744073709551615", "1", "0"}, "baton.freeze"},
		{[]any{"baton.unfreeze", "1"}, "baton.unfreeze"},
		{[]any{"replicaof", "127.0.0.1", "1"}, "replicaof"},
		{[]any{"slaveof", "no", "one"}, "slaveof"},
		{[]any{"failover"}, "failover"},
		{[]any{"shutdown", "nosave"}, "shutdown"},
		{[]any{"config", "set", "maxclients", "1"}, "config|set"},
		{[]any{"CONFIG", "RESETSTAT"}, "config|resetstat"},
		{[]any{"client", "kill", "id", "1"}, "client|kill"},
		{[]any{"client", "pause", "100000"}, "client|pause"},
	} {
		err := app.Do(ctx, tc.args...).Err()
		want := "NOPERM this user has no permissions to run the '" + tc.name + "' command"
		if err == nil || err.Error() != want {
			t.Errorf("%v from an application client: %v; want %q", tc.args, err, want)
		}
	}
	// Inside MULTI the refusal aborts the transaction, as Redis' ACL does.
	pipe := app.TxPipeline()
	pipe.Do(ctx, "baton.epoch", "1000000")
	pipe.Set(ctx, "tx", "v", 0)
	if _, err := pipe.Exec(ctx); err == nil || !strings.Contains(err.Error(), "EXECABORT") {
		t.Errorf("MULTI with BATON.EPOCH: %v; want EXECABORT", err)
	}
	// Ordinary admin reads still work; nothing changed.
	if v, err := app.ConfigGet(ctx, "maxclients").Result(); err != nil || v["maxclients"] == "1" {
		t.Errorf("CONFIG GET maxclients = %v, %v", v, err)
	}
	if got := infoValue(t, app, "replication", "baton_epoch"); got != epochBefore {
		t.Errorf("epoch moved from %s to %s", epochBefore, got)
	}

	wrong := redis.NewClient(&redis.Options{Addr: n.addr, Username: coordapi.InternalUser, Password: "nope", MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { wrong.Close() })
	if err := wrong.Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
		t.Errorf("internal user with a wrong secret: %v; want WRONGPASS", err)
	}
	in := redis.NewClient(&redis.Options{Addr: n.addr, Username: coordapi.InternalUser, Password: "cs", MaxRetries: -1, Protocol: 2, DisableIdentity: true, PoolSize: 1})
	t.Cleanup(func() { in.Close() })
	if err := in.Do(ctx, "baton.epoch", "5").Err(); err != nil {
		t.Fatalf("BATON.EPOCH as the internal identity: %v", err)
	}
	if err := in.Do(ctx, "config", "set", "maxclients", "500").Err(); err != nil {
		t.Fatalf("CONFIG SET as the internal identity: %v", err)
	}
	conn := in.Conn()
	defer conn.Close()
	if err := conn.Do(ctx, "reset").Err(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Do(ctx, "auth", "app").Err(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Do(ctx, "baton.epoch", "6").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Errorf("BATON.EPOCH after RESET: %v; want NOPERM", err)
	}
}
