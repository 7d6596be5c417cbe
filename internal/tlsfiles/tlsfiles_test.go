package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// dialCert completes a handshake with a server using cfg, trusting the CA
// in caFile, and returns the serial number of the certificate it showed.
func dialCert(t *testing.T, cfg *tls.Config, caFile string) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(caFile)
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("CA %s: %v", caFile, err)
	}
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatalf("handshake trusting %s: %v", caFile, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// Test_EnsureLocal_ServesAndReloads: EnsureLocal makes a CA and a loopback
// certificate (keys 0600) that a client trusting the CA accepts, keeps them
// on a second call, and a server config picks up replaced files on a later
// handshake without a restart.
func Test_EnsureLocal_ServesAndReloads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	if err := EnsureLocal(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{caKey, KeyFile} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v; want mode 0600", f, st.Mode().Perm(), err)
		}
	}
	before, _ := os.ReadFile(filepath.Join(dir, CertFile))
	if err := EnsureLocal(dir); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, CertFile)); string(again) != string(before) {
		t.Fatal("a second EnsureLocal replaced the certificate")
	}
	cfg, err := ServerConfig(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	first := dialCert(t, cfg, filepath.Join(dir, CAFile))

	// A renewal: another CA's pair replaces the files in place.
	other := filepath.Join(t.TempDir(), "tls")
	if err := EnsureLocal(other); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{CertFile, KeyFile} {
		b, _ := os.ReadFile(filepath.Join(other, f))
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(2 * time.Second) // mtimes differ however coarse the clock
		os.Chtimes(filepath.Join(dir, f), later, later)
	}
	time.Sleep(checkEvery + 100*time.Millisecond)
	if second := dialCert(t, cfg, filepath.Join(other, CAFile)); second == first {
		t.Fatalf("the server still shows the old certificate %s", first)
	}
}
