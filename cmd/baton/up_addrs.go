package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/batonkv/baton/internal/proc"
)

// addrsFile is where `baton up` keeps the addresses of its coordinators and
// nodes, inside --dir: the coordinators' Raft configuration on disk names
// them, so a second start on the same directory must use them again (new
// ones would leave the Raft group unable to elect, and the data out of
// reach).
const addrsFile = "addresses.json"

// upAddrs are an appliance's fixed addresses.
type upAddrs struct {
	Raft  []string `json:"raft"`  // coordinators' Raft addresses, c1..c3
	API   []string `json:"api"`   // coordinators' API addresses
	Nodes []string `json:"nodes"` // nodes' client addresses, n1..n3
}

// loadOrPickAddrs returns the addresses stored in dir, or picks free
// loopback ports and stores them first. fresh reports a new appliance.
func loadOrPickAddrs(dir string) (a upAddrs, fresh bool, err error) {
	path := filepath.Join(dir, addrsFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &a); err != nil {
			return upAddrs{}, false, fmt.Errorf("%s: %w", path, err)
		}
		if len(a.Raft) != 3 || len(a.API) != 3 || len(a.Nodes) != 3 {
			return upAddrs{}, false, fmt.Errorf("%s: want 3 Raft, 3 API and 3 node addresses", path)
		}
		return a, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return upAddrs{}, false, fmt.Errorf("read %s: %w", path, err)
	}
	ports, err := proc.FreeAddrs(9)
	if err != nil {
		return upAddrs{}, false, err
	}
	a = upAddrs{Raft: ports[:3], API: ports[3:6], Nodes: ports[6:]}
	b, err = json.MarshalIndent(a, "", "  ")
	if err != nil {
		return upAddrs{}, false, err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return upAddrs{}, false, fmt.Errorf("store %s: %w", path, err)
	}
	return a, true, nil
}
