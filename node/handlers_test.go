package node

import (
	"errors"
	"maps"
	"testing"

	"github.com/batonkv/baton/node/command"
	"github.com/batonkv/baton/node/keyspace"
)

// Test_Handlers_OnePerCommand checks that every command in the table has
// exactly one handler and every handler a command, and that bindHandlers
// refuses a missing, a doubly bound and an unknown handler.
func Test_Handlers_OnePerCommand(t *testing.T) {
	s := &Server{}
	ks, srv := keyspace.Handlers(), s.serverHandlers()
	table, err := bindHandlers(ks, srv)
	if err != nil {
		t.Fatalf("bind handlers: %v", err)
	}
	if len(table) != len(command.List()) || len(ks)+len(srv) != len(command.List()) {
		t.Fatalf("%d+%d handlers for %d commands", len(ks), len(srv), len(command.List()))
	}
	for _, cmd := range command.List() {
		_, inKs := ks[cmd.Name]
		_, inSrv := srv[cmd.Name]
		if inKs == inSrv {
			t.Errorf("command %q: keyspace handler %v, server handler %v; want exactly one", cmd.Name, inKs, inSrv)
		}
	}
	missing := maps.Clone(ks)
	delete(missing, "get")
	if _, err := bindHandlers(missing, srv); !errors.Is(err, errHandlerTable) {
		t.Errorf("a command without handler: %v, want %v", err, errHandlerTable)
	}
	if _, err := bindHandlers(ks, srv, map[string]keyspace.Handler{"get": ks["get"]}); !errors.Is(err, errHandlerTable) {
		t.Errorf("a command bound twice: %v, want %v", err, errHandlerTable)
	}
	if _, err := bindHandlers(ks, srv, map[string]keyspace.Handler{"nosuchcommand": ks["get"]}); !errors.Is(err, errHandlerTable) {
		t.Errorf("a handler without command: %v, want %v", err, errHandlerTable)
	}
}
