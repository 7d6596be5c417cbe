package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// clusterSecretFile is where `baton up` keeps its appliance's cluster
// secret, inside --dir (mode 0600): every start on that directory uses it.
const clusterSecretFile = "cluster-secret"

// loadOrCreateSecret returns the secret stored in path, or generates one
// (128 random bits, hex) and stores it there first. The secret authenticates
// the appliance's processes to one another (the coordinator API, the
// nodes' control commands), so it must be nobody's guess: never a fixed
// default.
func loadOrCreateSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			return s, nil
		}
		return "", fmt.Errorf("%s is empty: remove it to generate a new secret", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read cluster secret: %w", err)
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate cluster secret: %w", err)
	}
	secret := hex.EncodeToString(raw[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("cluster secret directory: %w", err)
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("store cluster secret: %w", err)
	}
	return secret, nil
}
