package node

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"
)

// Test_Persistence_DataIsPrivate: everything a node writes under its data
// directory — journal segments, snapshots, the lease log — is readable by
// its owner only (files 0600, directories 0700): the data is the users'.
func Test_Persistence_DataIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	n := mustNewNode(t, Config{DataDir: dir, Fsync: FsyncAlways})
	c := mustClient(t, n)
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		if err := c.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Do(ctx, "save").Err(); err != nil {
		t.Fatal(err)
	}
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			files++
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s has mode %v; want %v", path, info.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 2 {
		t.Fatalf("only %d files under %s: no journal and snapshot to check", files, dir)
	}
}
