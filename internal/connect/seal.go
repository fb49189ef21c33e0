package connect

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"

	"golang.org/x/crypto/hkdf"
)

// Sealer encrypts connector credentials and one-time codes at rest with
// AES-256-GCM under a key derived (HKDF-SHA256) from the server's secret
// key. The connection id is the additional data, so a sealed value cannot
// be moved to another connection.
type Sealer struct{ aead cipher.AEAD }

// NewSealer derives the key from secret.
func NewSealer(secret string) *Sealer {
	key := make([]byte, 32)
	io.ReadFull(hkdf.New(sha256.New, []byte(secret), nil, []byte("verigate connector credentials v1")), key)
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
		return nil, errors.New("connect: sealed value too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], []byte(id))
}
