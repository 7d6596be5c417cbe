package tlsfiles

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Files of a directory made by EnsureLocal.
const (
	CAFile   = "ca.crt"
	CertFile = "server.crt"
	KeyFile  = "server.key"
	caKey    = "ca.key"
)

// validity of the certificates EnsureLocal makes.
const validity = 825 * 24 * time.Hour

// EnsureLocal makes dir hold a private CA (ca.crt, ca.key) and a server
// certificate it signed (server.crt, server.key) for the loopback names
// (localhost, 127.0.0.1, ::1), unless they exist already (a restart keeps
// them, so clients keep trusting the same CA). Keys are 0600, dir 0700.
func EnsureLocal(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, CertFile)); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("tls dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("tls dir: %w", err)
	}
	caKeyPair, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "baton local CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validity),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKeyPair.PublicKey, caKeyPair)
	if err != nil {
		return fmt.Errorf("tls: CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "baton"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validity),
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKeyPair)
	if err != nil {
		return fmt.Errorf("tls: server certificate: %w", err)
	}
	for _, f := range []struct {
		name, typ string
		der       []byte
		mode      os.FileMode
	}{
		{caKey, "EC PRIVATE KEY", mustMarshal(caKeyPair), 0o600},
		{CAFile, "CERTIFICATE", caDER, 0o644},
		{KeyFile, "EC PRIVATE KEY", mustMarshal(key), 0o600},
		{CertFile, "CERTIFICATE", der, 0o644}, // last: its presence means the set is complete
	} {
		data := pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der})
		if err := os.WriteFile(filepath.Join(dir, f.name), data, f.mode); err != nil {
			return fmt.Errorf("tls: write %s: %w", f.name, err)
		}
	}
	return nil
}

// serial is a random 128-bit certificate serial number.
func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	return n
}

// mustMarshal encodes an ECDSA key (it cannot fail for a P-256 key).
func mustMarshal(k *ecdsa.PrivateKey) []byte {
	b, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic(err)
	}
	return b
}
