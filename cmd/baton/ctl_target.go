package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// defaultUpDir is the directory `make run` gives `baton up`: `baton ctl`
// run from the checkout finds that appliance without flags.
const defaultUpDir = ".data/appliance"

// ctlTarget are the flags that say which appliance `baton ctl` talks to.
type ctlTarget struct {
	coords, secret, dir *string
}

// addCtlTarget defines --coordinators, --cluster-secret and --dir on fs.
func addCtlTarget(fs *flag.FlagSet) ctlTarget {
	return ctlTarget{
		coords: fs.String("coordinators", "", "comma-separated coordinator API addresses (default: those of the `baton up` appliance in --dir)"),
		secret: fs.String("cluster-secret", "", "secret to AUTH with on the coordinators (default: the `baton up` appliance's, in --dir)"),
		dir:    fs.String("dir", defaultUpDir, "a `baton up` directory to take the coordinators and the secret from when not given"),
	}
}

// conn resolves the flags into a connection: given values win; missing
// ones come from the `baton up` directory (addresses.json, cluster-secret).
func (t ctlTarget) conn() (*ctlConn, error) {
	c := &ctlConn{addrs: splitList(*t.coords), secret: *t.secret}
	if len(c.addrs) > 0 && c.secret != "" {
		return c, nil
	}
	if len(c.addrs) == 0 {
		b, err := os.ReadFile(filepath.Join(*t.dir, addrsFile))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no --coordinators, and no `baton up` appliance in %s (give --coordinators, or --dir of the appliance)", *t.dir)
		}
		if err != nil {
			return nil, err
		}
		var a upAddrs
		if err := json.Unmarshal(b, &a); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(*t.dir, addrsFile), err)
		}
		c.addrs = a.API
	}
	if c.secret == "" {
		b, err := os.ReadFile(filepath.Join(*t.dir, clusterSecretFile))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		c.secret = strings.TrimSpace(string(b))
	}
	return c, nil
}
