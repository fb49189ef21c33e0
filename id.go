package verigate

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// NewID returns a new UUID (version 7: time-ordered, 74 random bits), the
// form of every string id Verigate mints.
func NewID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	rand.Read(b[6:])
	return FormatUUIDv7(b)
}

// FormatUUIDv7 sets b's version (7) and variant bits and writes it in the
// canonical 8-4-4-4-12 form.
func FormatUUIDv7(b [16]byte) string {
	b[6] = 0x70 | b[6]&0x0f
	b[8] = 0x80 | b[8]&0x3f
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// NewSecret returns prefix followed by 256 random bits, base64url: the
// secret of every bearer credential and link Verigate issues.
func NewSecret(prefix string) string {
	b := make([]byte, 32)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret is how every secret is stored: SHA-256. Secrets are 256-bit
// random, so a fast hash is enough (no offline guessing).
func HashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
