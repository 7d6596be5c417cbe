package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// checkEvery bounds how often the files' modification times are looked at:
// at most one stat pair per interval, however many handshakes.
const checkEvery = time.Second

// ErrIncomplete: a certificate without its key or a key without its
// certificate.
var ErrIncomplete = errors.New("tls: both a certificate file and a key file are needed")

// Reloader holds a certificate loaded from a pair of PEM files and loads
// it again when either file changes. A pair that fails to load (a renewal
// caught half-written) leaves the previous certificate in use.
type Reloader struct {
	certFile, keyFile string

	mu        sync.Mutex
	cert      *tls.Certificate
	certMod   time.Time
	keyMod    time.Time
	checkedAt time.Time
}

// NewReloader loads the pair once; an error here is the caller's to report.
func NewReloader(certFile, keyFile string) (*Reloader, error) {
	if certFile == "" || keyFile == "" {
		return nil, ErrIncomplete
	}
	r := &Reloader{certFile: certFile, keyFile: keyFile}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

// load reads the pair and records the files' modification times.
func (r *Reloader) load() error {
	cm, km, err := r.modTimes()
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls: load %s and %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert, r.certMod, r.keyMod = &cert, cm, km
	return nil
}

// modTimes stats both files.
func (r *Reloader) modTimes() (cert, key time.Time, err error) {
	ci, err := os.Stat(r.certFile)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("tls: %w", err)
	}
	ki, err := os.Stat(r.keyFile)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("tls: %w", err)
	}
	return ci.ModTime(), ki.ModTime(), nil
}

// GetCertificate is tls.Config.GetCertificate: the current certificate,
// reloaded first if a file changed since the last look.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checkedAt) >= checkEvery {
		r.checkedAt = now
		if cm, km, err := r.modTimes(); err == nil && (!cm.Equal(r.certMod) || !km.Equal(r.keyMod)) {
			_ = r.load() // a failed reload keeps the previous pair
		}
	}
	return r.cert, nil
}

// ServerConfig is a server-side TLS configuration (TLS 1.2 or newer)
// serving the pair in certFile and keyFile, reloaded when they change.
func ServerConfig(certFile, keyFile string) (*tls.Config, error) {
	r, err := NewReloader(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate}, nil
}

// ClientConfig is a client-side TLS configuration trusting only the CA
// certificates in caFile.
func ClientConfig(caFile string) (*tls.Config, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls: no certificate in %s", caFile)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}, nil
}
