package access

import (
	"crypto/rand"
	"encoding/hex"
	"hash/crc32"
	"strings"
)

// API keys look like vgk_<id>_<secret><checksum>: id is 8 hex digits
// (finds the row), secret 32 base62 characters (190 bits), checksum the
// CRC-32 of everything before it in 6 base62 characters, so a mistyped key
// is refused without a database lookup.
const (
	apiKeyPrefix    = "vgk_"
	apiKeyIDLen     = 8
	apiKeySecretLen = 32
	apiKeyCheckLen  = 6
	apiKeyLen       = len(apiKeyPrefix) + apiKeyIDLen + 1 + apiKeySecretLen + apiKeyCheckLen
	base62          = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

func newAPIKeyID() string {
	b := make([]byte, apiKeyIDLen/2)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func randomBase62(n int) string {
	out := make([]byte, n)
	buf := make([]byte, 1)
	for i := 0; i < n; {
		rand.Read(buf)
		if buf[0] < 248 { // 248 = 4*62: reject to keep the draw uniform
			out[i] = base62[buf[0]%62]
			i++
		}
	}
	return string(out)
}

func checksum62(s string) string {
	c := crc32.ChecksumIEEE([]byte(s))
	out := make([]byte, apiKeyCheckLen)
	for i := apiKeyCheckLen - 1; i >= 0; i-- {
		out[i] = base62[c%62]
		c /= 62
	}
	return string(out)
}

// formatAPIKey returns a new key for id.
func formatAPIKey(id string) string {
	body := apiKeyPrefix + id + "_" + randomBase62(apiKeySecretLen)
	return body + checksum62(body)
}

// ParseAPIKey checks a key's shape and checksum and returns its id. It
// touches no database.
func ParseAPIKey(key string) (id string, ok bool) {
	if len(key) != apiKeyLen || !strings.HasPrefix(key, apiKeyPrefix) || key[len(apiKeyPrefix)+apiKeyIDLen] != '_' {
		return "", false
	}
	id = key[len(apiKeyPrefix) : len(apiKeyPrefix)+apiKeyIDLen]
	for _, c := range id {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return "", false
		}
	}
	body, check := key[:len(key)-apiKeyCheckLen], key[len(key)-apiKeyCheckLen:]
	if checksum62(body) != check {
		return "", false
	}
	return id, true
}

// APIKeyPrefix is the part of a key that identifies it and may be shown
// (Reconbanker's prefix): "vgk_" and its id.
func APIKeyPrefix(id string) string { return apiKeyPrefix + id }
