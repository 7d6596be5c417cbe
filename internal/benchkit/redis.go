package benchkit

import (
	"fmt"
	"os"
	"path/filepath"
)

// StartRedisGroup starts one redis-server per port on 127.0.0.1, named r1,
// r2…, with data in dir/rN and logs in dir/rN.log: r1 a primary, the
// others its replicas. Persistence matches a baton node's default (--fsync
// everysec): appendonly, fsync every second. Only the first start carries
// --replicaof: a restarted server comes back as a primary, as it would in
// production, and whatever manages the group demotes it.
func StartRedisGroup(dir string, ports []int) ([]*Proc, error) {
	var out []*Proc
	for i, port := range ports {
		name := fmt.Sprintf("r%d", i+1)
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return out, fmt.Errorf("redis dir: %w", err)
		}
		p := &Proc{Name: name, Addr: fmt.Sprintf("127.0.0.1:%d", port), Bin: "redis-server",
			Log: filepath.Join(dir, name+".log"), Args: []string{
				"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
				"--appendfsync", "everysec", "--dir", d, "--daemonize", "no",
			}}
		args := p.Args
		if i > 0 {
			args = append(append([]string{}, p.Args...), "--replicaof", "127.0.0.1", fmt.Sprint(ports[0]))
		}
		if err := p.StartWith(args); err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}
