package consensus

import (
	"strings"
	"testing"
	"time"
)

// Test_Config_DefaultsAndValidate: zero fields take DefaultConfig's values,
// and Validate refuses what cannot work.
func Test_Config_DefaultsAndValidate(t *testing.T) {
	c := Config{ID: "c1", RaftAddr: "127.0.0.1:1", Dir: t.TempDir()}.withDefaults()
	d := DefaultConfig()
	if c.Lease != d.Lease || c.DownAfter != d.DownAfter || c.ProbeInterval != d.ProbeInterval || c.TakeoverGrace != d.TakeoverGrace {
		t.Fatalf("defaults not applied: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	for name, bad := range map[string]Config{
		"no id":          {RaftAddr: "127.0.0.1:1", Dir: "d"},
		"no raft addr":   {ID: "c1", Dir: "d"},
		"no dir":         {ID: "c1", RaftAddr: "127.0.0.1:1"},
		"negative lease": {ID: "c1", RaftAddr: "127.0.0.1:1", Dir: "d", Lease: -time.Second},
	} {
		if err := bad.withDefaults().Validate(); err == nil || !strings.HasPrefix(err.Error(), "coordinator: ") {
			t.Errorf("%s: Validate = %v, want a coordinator error", name, err)
		}
	}
}
