// Package seal encrypts values at rest with AES-256-GCM under keys derived
// (HKDF-SHA256) from the server's secret key, one key per purpose.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"

	"golang.org/x/crypto/hkdf"
)

// Sealer seals values for one purpose. Each value is bound to an id (the
// additional data), so a sealed value cannot be moved to another object.
type Sealer struct{ aead cipher.AEAD }

// New derives the purpose's key from secret.
func New(secret, purpose string) *Sealer {
	key := make([]byte, 32)
	io.ReadFull(hkdf.New(sha256.New, []byte(secret), nil, []byte(purpose)), key)
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	return &Sealer{aead: aead}
}

// Seal encrypts plain for the connection id.
func (s *Sealer) Seal(id string, plain []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, []byte(id))
}

// Open decrypts what Seal made for the same id.
func (s *Sealer) Open(id string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("seal: sealed value too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], []byte(id))
}
